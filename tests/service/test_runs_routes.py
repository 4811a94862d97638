"""GET /api/runs carries each run's evaluation: the scores per step, the best checkpoint and the plot; it answers
from each run's status.json and run.yaml, without reading its log. The loss curve is drawn from the log when asked."""

from __future__ import annotations

import json
import shutil

from fastapi.testclient import TestClient

from shoegen.config.scores import BestCheckpoint, CheckpointScores
from shoegen.config.service import ServiceSettings
from shoegen.evaluate import plot_scores
from shoegen.service.app import create_app
from shoegen.training import logs
from shoegen.training.logs import LogSummary
from shoegen.training.run_folder import RunFolder


def test_runs_carry_their_scores_the_best_checkpoint_and_the_plot(models_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(models_dir / "shoesA", models / "shoesA")
    shutil.copytree(models_dir / "shoesB", models / "shoesB")
    folder = RunFolder(models / "shoesA")
    scores = [CheckpointScores(model=name, step=step, images=4, metrics={"catalogue_score": value, "kid": None})
              for name, step, value in (("tiny", 0, 0.2), ("shoesA/checkpoint-4", 4, 0.7),
                                        ("shoesA/checkpoint-8", 8, 0.5))]
    best = BestCheckpoint(model="shoesA/checkpoint-4", step=4, metric="catalogue_score", value=0.7, rule="highest")
    folder.write_scores(scores, best)
    plot_scores(scores, best, folder.scores_plot)
    settings = ServiceSettings(base_model="tiny", data_dir=tmp_path / "data", models_dir=models, warm_up=False)
    with TestClient(create_app(settings)) as client:
        runs = {run["name"]: run for run in client.get("/api/runs").json()["runs"]}
        evaluated, fresh = runs["shoesA"], runs["shoesB"]
        assert [(line["step"], line["metrics"]["catalogue_score"]) for line in evaluated["scores"]] == [
            (0, 0.2), (4, 0.7), (8, 0.5)]
        assert evaluated["best"]["model"] == "shoesA/checkpoint-4"
        plot = client.get(evaluated["scores_plot_url"])
        assert plot.status_code == 200 and plot.content[:4] == b"\x89PNG"
        assert fresh["scores"] == [] and fresh["best"] is None and fresh["scores_plot_url"] is None
        missing = client.get("/api/runs/shoesB/scores-plot")
        assert missing.status_code == 404 and "shoegen evaluate shoesB" in missing.json()["detail"]
        models_listed = {entry["name"]: entry for entry in client.get("/api/models").json()["models"]}
        assert models_listed["shoesA/best"]["type"] == "best"


def test_the_runs_list_reads_status_json_not_the_log_and_run_yaml_once(models_dir, tmp_path, monkeypatch):
    models = tmp_path / "models"
    for name in ("kept", "old", "queued"):
        shutil.copytree(models_dir / "shoesA", models / name)
    kept, old, queued = (RunFolder(models / name) for name in ("kept", "old", "queued"))
    summary = LogSummary.from_status(kept.read_status())
    assert summary.step == 8 and summary.loss is not None
    shutil.rmtree(kept.logs_dir)
    kept.logs_dir.mkdir()
    kept.train_log.mkdir()  # a log that cannot be read: the list must not need it
    # A run written before status.json kept the log's summary: listed from its log.
    status = old.read_status()
    del status["log"]
    old.status_file.write_text(json.dumps(status))
    expected = LogSummary.of(logs.read_log(old))
    queued.status_file.unlink()
    shutil.rmtree(queued.logs_dir)

    log_reads, config_reads = [], []
    read_log, read_config = logs.read_log, RunFolder.read_config_values
    monkeypatch.setattr(logs, "read_log", lambda folder: log_reads.append(folder.path.name) or read_log(folder))
    monkeypatch.setattr(RunFolder, "read_config_values",
                        lambda folder: config_reads.append(folder.path.name) or read_config(folder))
    settings = ServiceSettings(base_model="tiny", data_dir=tmp_path / "data", models_dir=models, warm_up=False,
                               role="api")
    with TestClient(create_app(settings)) as client:
        runs = {run["name"]: run for run in client.get("/api/runs").json()["runs"]}
    assert (runs["kept"]["step"], runs["kept"]["loss"], runs["kept"]["lr"]) == (8, summary.loss, summary.lr)
    assert (runs["old"]["step"], runs["old"]["loss"], runs["old"]["lr"]) == (8, expected.loss, expected.lr)
    assert runs["kept"]["status"] == runs["old"]["status"] == "done" and runs["kept"]["max_steps"] == 8
    assert (runs["queued"]["step"], runs["queued"]["loss"], runs["queued"]["max_steps"]) == (0, None, 8)
    assert runs["kept"]["base_model"] == "tiny" and runs["kept"]["dataset"]
    assert log_reads == ["old"]  # the old run's log, once; the others' not at all
    assert sorted(config_reads) == ["kept", "old", "queued"]  # run.yaml once per run


def test_the_loss_curve_is_drawn_from_the_log_when_it_is_asked_for(models_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(models_dir / "shoesA", models / "shoesA")
    folder = RunFolder(models / "shoesA")
    folder.loss_curve.unlink()  # as while a run trains: the trainer draws it only at the end
    settings = ServiceSettings(base_model="tiny", data_dir=tmp_path / "data", models_dir=models, warm_up=False)
    with TestClient(create_app(settings)) as client:
        url = client.get("/api/runs").json()["runs"][0]["loss_curve_url"]
        picture = client.get(url)
        assert picture.status_code == 200 and picture.content[:4] == b"\x89PNG"
        assert folder.loss_curve.read_bytes() == picture.content
        shutil.rmtree(folder.logs_dir)
        assert client.get("/api/runs").json()["runs"][0]["loss_curve_url"] is None
        missing = client.get(url)
        assert missing.status_code == 404 and missing.json()["detail"] == "run 'shoesA' has no loss curve yet"


def test_a_loss_curve_that_cannot_be_drawn_again_is_served_as_last_drawn(models_dir, tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(models_dir / "shoesA", models / "shoesA")
    folder = RunFolder(models / "shoesA")
    folder.loss_curve.write_bytes(b"\x89PNG drawn before")  # stale: it names no log

    def full_disk(records, path, **options):
        raise OSError("No space left on device")

    monkeypatch.setattr(logs, "draw_loss_curve", full_disk)
    settings = ServiceSettings(base_model="tiny", data_dir=tmp_path / "data", models_dir=models, warm_up=False)
    with TestClient(create_app(settings)) as client:
        served = client.get("/api/runs/shoesA/loss-curve")
        assert served.status_code == 200 and served.content == b"\x89PNG drawn before"
        folder.loss_curve.unlink()
        failed = client.get("/api/runs/shoesA/loss-curve")
        assert failed.status_code == 500
        assert failed.json()["detail"] == "could not draw the loss curve of run 'shoesA': No space left on device"


def test_a_hand_edited_run_yaml_of_the_wrong_types_is_listed_not_a_500(models_dir, tmp_path):
    """run.yaml is the user's to edit: values of the wrong type read as missing, for that run only."""
    models = tmp_path / "models"
    shutil.copytree(models_dir / "shoesA", models / "shoesA")
    handmade = models / "handmade"
    handmade.mkdir()
    (handmade / "run.yaml").write_text("pretrained_model_name_or_path: [tiny]\nmax_train_steps: 3k\n"
                                       "dataset_path: 7\nvalidation_prompts: red boots\n")
    (handmade / "status.json").write_text(json.dumps({"state": "stopped", "step": "ten", "max_steps": None}))
    settings = ServiceSettings(base_model="tiny", data_dir=tmp_path / "data", models_dir=models, warm_up=False,
                               role="api")
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/runs")
        assert response.status_code == 200, response.text
        runs = {run["name"]: run for run in response.json()["runs"]}
        assert (runs["handmade"]["step"], runs["handmade"]["max_steps"]) == (0, 0)
        assert runs["handmade"]["base_model"] is None and runs["handmade"]["dataset"] is None
        assert runs["handmade"]["validation_prompts"] is None
        assert runs["shoesA"]["max_steps"] == 8
        assert client.get("/api/runs/handmade").status_code == 200
