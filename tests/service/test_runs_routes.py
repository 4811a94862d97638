"""GET /api/runs carries each run's evaluation: the scores per step, the best checkpoint and the plot."""

from __future__ import annotations

import shutil

from fastapi.testclient import TestClient

from shoegen.config.scores import BestCheckpoint, CheckpointScores
from shoegen.config.service import ServiceSettings
from shoegen.evaluate import plot_scores
from shoegen.service.app import create_app
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
