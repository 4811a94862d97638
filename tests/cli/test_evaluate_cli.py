"""`shoegen evaluate RUN` as a user runs it: the real CLI in a subprocess, on a copy of a small tiny-base run.

What the scores mean is tested on renders of known truth (tests/evaluation); the ranking of a damaged checkpoint
needs a base that draws shoes (tests/evaluation/test_ranking.py, `make test-demo`). Here: the command's outputs,
`RUN/best` as a model name, and its errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shoegen.config.scores import CHECKPOINT_METRICS

FAST = ["--steps", "2", "--seeds", "2", "--metrics", "catalogue"]


def shoegen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shoegen.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def evaluated(models_dir, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    models = tmp_path_factory.mktemp("evaluated-models")
    shutil.copytree(models_dir / "shoesA", models / "shoesA")
    prompts = models / "prompts.txt"
    prompts.write_text("A professional product photo of red suede boots\n# a comment\nwhite canvas sneakers\n")
    result = shoegen("evaluate", str(models / "shoesA"), "--prompts", str(prompts), *FAST)
    return models, result


def test_evaluate_scores_every_checkpoint_and_the_base_and_writes_them_into_the_run(evaluated):
    models, result = evaluated
    assert result.returncode == 0, result.stderr
    eval_dir = models / "shoesA" / "eval"
    lines = [json.loads(line) for line in (eval_dir / "scores.jsonl").read_text().splitlines()]
    # The final weights are the step-8 checkpoint's, so they are not scored twice.
    assert [(line["model"], line["step"]) for line in lines] == [("tiny", 0), ("shoesA/checkpoint-4", 4),
                                                                 ("shoesA/checkpoint-8", 8)]
    for line in lines:
        assert line["images"] == 4
        assert set(line["metrics"]) <= set(CHECKPOINT_METRICS)
        assert 0.0 <= line["metrics"]["catalogue_score"] <= 1.0
    assert sorted(path.name for path in (eval_dir / "step-000004").iterdir()) == [
        "p0-s0.png", "p0-s1.png", "p1-s0.png", "p1-s1.png"]
    best = json.loads((eval_dir / "best.json").read_text())
    checkpoints = [line for line in lines if line["step"] > 0]
    top = max(line["metrics"]["catalogue_score"] for line in checkpoints)
    assert best["value"] == top and best["metric"] == "catalogue_score"
    assert best["model"] == min((line for line in checkpoints if line["metrics"]["catalogue_score"] == top),
                                key=lambda line: line["step"])["model"]
    assert (eval_dir / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"best: {best['model']}" in result.stdout and "shoesA/best" in result.stdout
    assert "catalogue_score" in result.stdout.splitlines()[0]


def test_run_best_is_a_model_name_for_generation(evaluated, tmp_path):
    models, _ = evaluated
    listing = shoegen("models", "--models-dir", str(models))
    assert "shoesA/best" in listing.stdout
    result = shoegen("generate", "red boots", "--model", "shoesA/best", "--models-dir", str(models), "--base-model",
                     "tiny", "--steps", "2", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("*.png"))) == 1


def test_evaluate_names_what_is_wrong(evaluated):
    models, _ = evaluated
    unknown_metric = shoegen("evaluate", str(models / "shoesA"), "--metrics", "catalogue,vibes")
    assert unknown_metric.returncode == 2 and "--metrics: unknown groups vibes" in unknown_metric.stderr
    unknown_best = shoegen("evaluate", str(models / "shoesA"), "--best-metric", "beauty")
    assert unknown_best.returncode == 2 and "--best-metric beauty: not a metric to pick by" in unknown_best.stderr
    both = shoegen("evaluate", str(models / "shoesA"), "--models-dir", "elsewhere", "--steps", "0")
    assert both.returncode == 2 and "is a run folder in" in both.stderr and "--models-dir says elsewhere" in both.stderr
    unknown_run = shoegen("evaluate", "nosuchrun", "--models-dir", str(models))
    assert unknown_run.returncode == 2 and "unknown run 'nosuchrun'" in unknown_run.stderr and "shoesA" in \
        unknown_run.stderr


def test_evaluate_refuses_a_run_with_nothing_to_score_and_steps_below_one(evaluated, tmp_path):
    models, _ = evaluated
    queued = models / "queued"
    queued.mkdir()
    (queued / "run.yaml").write_text("pretrained_model_name_or_path: tiny\n")
    nothing = shoegen("evaluate", "queued", "--models-dir", str(models), *FAST)
    assert nothing.returncode == 2 and "run 'queued' has no checkpoints and no final weights yet" in nothing.stderr
    assert not (queued / "eval").exists()
    no_steps = shoegen("evaluate", str(models / "shoesA"), "--steps", "0", "--seeds", "1")
    assert no_steps.returncode == 2 and "--steps must be at least 1, got 0" in no_steps.stderr
    too_many = shoegen("evaluate", str(models / "shoesA"), "--seeds", "1000")
    assert too_many.returncode == 2 and "--seeds must be 1 to 64, got 1000" in too_many.stderr


def test_run_best_whose_checkpoint_was_deleted_says_so(evaluated, tmp_path):
    models, _ = evaluated
    copy = tmp_path / "models"
    shutil.copytree(models / "shoesA", copy / "shoesA")
    best = json.loads((copy / "shoesA" / "eval" / "best.json").read_text())
    shutil.rmtree(copy / "shoesA" / "checkpoints" / best["model"].split("/")[1])
    result = shoegen("generate", "red boots", "--model", "shoesA/best", "--models-dir", str(copy), "--base-model",
                     "tiny", "--steps", "2", "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert f"'shoesA/best' was {best['model']}" in result.stderr and "shoegen evaluate shoesA" in result.stderr


@pytest.mark.parametrize("flags, expected", [
    (["--metrics", "clip"], "--best-metric catalogue_score is measured by the catalogue group, which --metrics clip "
                            "leaves out: add catalogue to --metrics"),
    (["--metrics", ","], "--metrics names no group: choose one or more of catalogue, clip, dino"),
    (["--best-metric", "fill"], "--best-metric fill: fill is good inside the training photos' range"),
    (["--best-metric", "fid"], "--best-metric fid: FID needs more images in each set"),
    (["--metrics", "catalogue,clip", "--best-metric", "clip_score"],
     "--best-metric clip_score cannot be measured here: CLIP model"),
], ids=["group-left-out", "no-group", "fill", "fid", "model-missing"])
def test_a_best_metric_that_cannot_be_measured_is_refused_before_anything_is_generated(evaluated, monkeypatch,
                                                                                      capsys, flags, expected):
    """The earlier evaluation (its scores, images and RUN/best) is left as it was: the run's best was deleted
    after every image had been generated again."""
    from shoegen.cli.main import main
    from shoegen.engine.engine import Engine

    models, _ = evaluated
    eval_dir = models / "shoesA" / "eval"
    before = {path: path.read_bytes() for path in eval_dir.rglob("*") if path.is_file()}
    monkeypatch.setenv("SHOEGEN_CLIP_MODEL", str(models / "no-clip-here"))
    monkeypatch.setattr(Engine, "generate", lambda self, request: pytest.fail("generated an image"))
    assert main(["evaluate", str(models / "shoesA"), *FAST[:4], *flags]) == 2
    assert expected in capsys.readouterr().err
    assert {path: path.read_bytes() for path in eval_dir.rglob("*") if path.is_file()} == before
