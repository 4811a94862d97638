"""Evaluating a run from the studio: POST /api/runs/{name}/evaluate queues `shoegen evaluate`, the training worker
runs it (one heavy job per device), the run's card follows its images and then shows its scores and best checkpoint;
what cannot be evaluated is refused by name, and an evaluation is cancelled like any job."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from live_server import wait_for_run

from shoegen.cli.main import main as shoegen
from shoegen.config.service import ServiceSettings
from shoegen.service.app import create_app

FAST = {"seeds": 1, "steps": 2, "metrics": ["catalogue"]}


@pytest.fixture
def models(models_dir, tmp_path):
    """A models folder holding a copy of the trained run `shoesA` (an evaluation writes into its run)."""
    folder = tmp_path / "models"
    shutil.copytree(models_dir / "shoesA", folder / "shoesA")
    return folder


def server(models, tmp_path, **changes) -> TestClient:
    return TestClient(create_app(ServiceSettings(**{"base_model": "tiny", "models_dir": models,
                                                    "data_dir": tmp_path / "data", "warm_up": False, **changes})))


def test_an_evaluation_from_the_studio_scores_every_checkpoint_and_picks_the_best(models, tmp_path):
    with server(models, tmp_path) as client:
        assert client.get("/api/runs/shoesA").json()["evaluation"] is None
        queued = client.post("/api/runs/shoesA/evaluate", json=FAST)
        assert queued.status_code == 202, queued.text
        assert queued.json()["evaluation"]["status"] in ("queued", "running")
        assert queued.json()["evaluation"]["settings"] == {**FAST, "seed": 1234, "best_metric": "catalogue_score"}
        run = wait_for_run(client, "shoesA", lambda run: run["evaluation"]["status"] not in ("queued", "running"))
    evaluation = run["evaluation"]
    assert evaluation["status"] == "done", evaluation
    # The base (step 0), each checkpoint (and the final weights, at a step of their own), the same images each.
    scored = [line["model"] for line in run["scores"]]
    assert scored[0] == "tiny" and {checkpoint["name"] for checkpoint in run["checkpoints"]} <= set(scored[1:])
    assert evaluation["images_total"] == evaluation["images_done"] > 0
    assert evaluation["images_total"] == len(scored) * run["scores"][0]["images"]
    assert run["best"] is not None and run["best"]["model"] in scored[1:]
    assert run["scores_plot_url"] == "/api/runs/shoesA/scores-plot"
    assert evaluation["notices"] == []  # the catalogue scores need no model


def test_what_an_evaluation_skipped_is_said(models, tmp_path, monkeypatch):
    """Asked for CLIP too, with no CLIP model at hand: the catalogue scores are measured, and the evaluation says
    what it skipped and why."""
    missing = tmp_path / "no-clip-here"
    monkeypatch.setenv("SHOEGEN_CLIP_MODEL", str(missing))  # the evaluation process's environment too
    with server(models, tmp_path) as client:
        client.post("/api/runs/shoesA/evaluate", json={**FAST, "metrics": ["catalogue", "clip"]})
        run = wait_for_run(client, "shoesA", lambda run: run["evaluation"]["status"] not in ("queued", "running"))
    assert run["evaluation"]["status"] == "done", run["evaluation"]
    [notice] = run["evaluation"]["notices"]
    assert notice.startswith(f"clip_score, clip_image_similarity skipped: CLIP model {missing}"), notice


def test_what_cannot_be_evaluated_is_refused_by_name_and_a_queued_evaluation_is_cancelled(models, tmp_path, capsys):
    with server(models, tmp_path, role="api") as client:  # no worker here: what is queued stays queued
        def refused(body, run: str = "shoesA") -> tuple[int, str]:
            answer = client.post(f"/api/runs/{run}/evaluate", json=body)
            return answer.status_code, str(answer.json()["detail"])

        assert refused({}, "nosuch")[0] == 404
        assert refused({"metrics": ["catalogue", "vibes"]}) == (
            422, "metrics: unknown groups vibes; choose from catalogue, clip, dino")
        assert refused({"best_metric": "fill"})[1].startswith("best_metric fill: fill is good inside")
        assert refused({"metrics": ["clip"]})[1].startswith("best_metric catalogue_score is measured by the "
                                                            "catalogue group, which metrics clip leaves out")
        assert refused({"seeds": 0})[0] == 422 and refused({"sedes": 2})[0] == 422
        empty = models / "empty"
        empty.mkdir()
        shutil.copy(models / "shoesA" / "run.yaml", empty / "run.yaml")
        assert refused({}, "empty") == (422, "run 'empty' has no checkpoints and no final weights yet: there is "
                                             "nothing to score against the base. Train it first (or wait for its "
                                             "first checkpoint).")

        queued = client.post("/api/runs/shoesA/evaluate", json=FAST).json()["evaluation"]
        assert queued["status"] == "queued"
        assert queued["waiting_reason"].startswith("no training worker is running: start `shoegen serve`")
        capsys.readouterr()
        cli = ["--models-dir", str(models), "--data-dir", str(tmp_path / "data")]
        assert shoegen(["runs", "show", "shoesA", *cli]) == 0
        assert json.loads(capsys.readouterr().out)["evaluation"] == {
            "job_id": queued["job_id"], "status": "queued", "images_done": 0, "images_total": 0,
            "waiting_reason": queued["waiting_reason"], "error": None}
        again = refused(FAST)
        assert again[0] == 409 and again[1].startswith(f"run 'shoesA' is being evaluated (job {queued['job_id']}, "
                                                       "queued): evaluate it again once that ends")
        # Its dataset is still read (reference photos, memorisation): it is kept from being deleted.
        dataset = yaml.safe_load((models / "shoesA" / "run.yaml").read_text())["dataset_path"]
        assert client.app.state.services.training.using_dataset(Path(dataset)) == {"shoesA": "being evaluated"}
        deleting = client.delete("/api/runs/shoesA")
        assert deleting.status_code == 409 and deleting.json()["detail"].endswith(
            f"delete it once that ends, or cancel it (Cancel on its card on the Models page, or DELETE /api/jobs/"
            f"{queued['job_id']})")
        assert client.delete(f"/api/jobs/{queued['job_id']}").json()["status"] == "cancelled"
        assert client.get("/api/runs/shoesA").json()["evaluation"]["status"] == "cancelled"
        assert client.delete("/api/runs/shoesA").status_code == 204


def test_a_training_run_is_not_evaluated_until_it_stops(models, tmp_path, sample_dataset):
    data = tmp_path / "data"
    shutil.copytree(sample_dataset, data / "datasets" / "shoes")
    with server(models, tmp_path, role="api") as client:
        created = client.post("/api/runs", json={"name": "fresh", "dataset": "shoes", "recipe": "quick-test"})
        assert created.status_code == 202, created.text
        answer = client.post("/api/runs/fresh/evaluate", json=FAST)
        assert answer.status_code == 409
        assert answer.json()["detail"].startswith("run 'fresh' is queued: evaluate it once it has stopped or finished")


def test_a_running_evaluation_cancelled_leaves_the_earlier_scores(models, tmp_path):
    with server(models, tmp_path) as client:
        client.post("/api/runs/shoesA/evaluate", json=FAST)
        first = wait_for_run(client, "shoesA", lambda run: run["evaluation"]["status"] == "done")
        long = client.post("/api/runs/shoesA/evaluate", json={**FAST, "seeds": 64, "steps": 20}).json()
        job_id = long["evaluation"]["job_id"]
        wait_for_run(client, "shoesA", lambda run: run["evaluation"]["images_done"] >= 1)
        assert client.delete(f"/api/jobs/{job_id}").status_code == 200
        cancelled = wait_for_run(client, "shoesA", lambda run: run["evaluation"]["status"] not in ("queued", "running"))
    assert cancelled["evaluation"]["status"] == "cancelled"
    assert cancelled["evaluation"]["images_done"] < cancelled["evaluation"]["images_total"]
    assert cancelled["scores"] == first["scores"] and cancelled["best"] == first["best"]


def test_an_evaluation_whose_run_trains_again_by_its_turn_does_not_start(models, tmp_path):
    """Queued while the run was stopped, then the run was resumed in a terminal: the worker refuses it at its
    turn, rather than score checkpoints that change under it."""
    from shoegen.service.trainer import EVALUATION_KIND
    from shoegen.training.run_folder import RunFolder

    with server(models, tmp_path, role="api") as client:
        queued = client.post("/api/runs/shoesA/evaluate", json=FAST).json()["evaluation"]
        RunFolder(models / "shoesA").write_status("running", 5, 10)  # this process: alive, fresh
        runs = client.app.state.services.training
        [job] = runs.store.claim(runs.worker_id, lease_seconds=30, kind=EVALUATION_KIND)
        assert job.id == queued["job_id"]
        runs._evaluate(job)
        evaluation = client.get("/api/runs/shoesA").json()["evaluation"]
    assert evaluation["status"] == "error"
    assert evaluation["error"] == ("the evaluation did not start: run 'shoesA' is running; evaluate it once it has "
                                   "stopped or finished")
