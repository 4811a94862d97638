"""`shoegen.evaluate` on a copy of a small tiny-base run: what an evaluation measures, reads and leaves behind.
(The command's outputs and refusals: tests/cli/test_evaluate_cli.py; what the scores mean: test_catalogue.py.)"""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
from PIL import Image

from shoegen.engine.engine import Engine
from shoegen.evaluate import evaluate_run, evaluation_prompts
from shoegen.evaluation.catalogue import MemorisationIndex, ReferencePhotos, evenly_spread
from shoegen.evaluation.embeddings import EmbeddingScorer
from shoegen.training.runs import find_run


@pytest.fixture
def run_copy(models_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(models_dir / "shoesA", models / "shoesA")
    return models


def test_only_the_groups_asked_for_are_scored_and_an_earlier_evaluations_images_go(run_copy, tiny_scorer_folders):
    """--metrics catalogue,dino loads no CLIP (here one that cannot load: it would be a skipped notice); images
    of an earlier evaluation's other seeds, and of a checkpoint deleted since, are not left beside the new ones;
    the final weights are placed at the step they were saved at, not at a max_train_steps raised since."""
    run_folder = run_copy / "shoesA"
    eval_dir = run_folder / "eval"
    (eval_dir / "step-000004").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(eval_dir / "step-000004" / "p0-s7.png")  # an earlier --seeds 8
    (eval_dir / "step-000012").mkdir()
    Image.new("RGB", (8, 8)).save(eval_dir / "step-000012" / "p0-s0.png")  # checkpoint-12, deleted since
    config = run_folder / "run.yaml"
    config.write_text(config.read_text().replace("max_train_steps: 8", "max_train_steps: 16"))
    scorer = EmbeddingScorer(clip_model=str(run_copy / "no-clip-here"), dino_model=str(tiny_scorer_folders["dino"]))

    evaluation = evaluate_run(Engine("tiny", run_copy), find_run(run_copy, "shoesA"), prompts=["red suede boots"],
                              seeds=2, steps=2, metrics=["catalogue", "dino"], scorer=scorer, show_progress=False)

    assert [line.step for line in evaluation.scores] == [0, 4, 8]  # the final weights are checkpoint-8's
    for line in evaluation.scores:
        assert line.metrics["dino_similarity"] is not None and line.metrics["kid"] is not None
        assert not {"clip_score", "clip_image_similarity"} & set(line.metrics)
    assert not {"clip_score", "clip_image_similarity"} & set(evaluation.skipped)
    assert sorted(path.name for path in eval_dir.glob("step-*")) == ["step-000000", "step-000004", "step-000008"]
    assert sorted(path.name for path in (eval_dir / "step-000004").iterdir()) == ["p0-s0.png", "p0-s1.png"]
    assert "fid" in evaluation.skipped  # FID needs more images than the features have dimensions: said why


def test_an_evaluation_that_picks_nothing_keeps_the_earlier_pick(run_copy, tiny_scorer_folders, caplog):
    """KID needs two images a set: one prompt and one seed measure none, so no checkpoint has a kid; RUN/best
    stays what the earlier evaluation picked (it was deleted)."""
    run = find_run(run_copy, "shoesA")
    first = evaluate_run(Engine("tiny", run_copy), run, prompts=["red suede boots"], seeds=1, steps=2,
                         metrics=["catalogue"], show_progress=False)
    assert first.best is not None
    scorer = EmbeddingScorer(clip_model="tiny", dino_model=str(tiny_scorer_folders["dino"]))
    with caplog.at_level(logging.WARNING, logger="shoegen"):
        second = evaluate_run(Engine("tiny", run_copy), run, prompts=["red suede boots"], seeds=1, steps=2,
                              metrics=["dino"], best_metric="kid", scorer=scorer, show_progress=False)
    assert second.best is None and "KID needs at least 2 images" in second.skipped["kid"]
    assert json.loads((run_copy / "shoesA" / "eval" / "best.json").read_text())["model"] == first.best.model
    assert f"the earlier pick, {first.best.model}, is kept" in caplog.text


def test_the_prompts_are_those_set_in_the_studio_first_else_captions_spread_over_the_data(run_copy):
    run = find_run(run_copy, "shoesA")
    captions = evaluation_prompts(run, count=3)
    assert len(captions) == 3 and len(set(captions)) == 3
    run.folder.write_validation_prompts(["white canvas sneakers, studio light"])
    assert evaluation_prompts(run) == ["white canvas sneakers, studio light"]
    assert evenly_spread(list(range(10)), 4) == [0, 3, 6, 9]
    assert evenly_spread(list(range(3)), 4) == [0, 1, 2]


def _square_photo(path, side_share: float) -> None:
    photo = np.full((64, 64, 3), 255, np.uint8)
    low, high = round(32 - 32 * side_share), round(32 + 32 * side_share)
    photo[low:high, low:high] = (40, 60, 160)
    Image.fromarray(photo).save(path)


def test_reference_photos_are_spread_over_the_whole_set_and_an_unreadable_one_is_left_out(tmp_path, caplog):
    """100 photos: the first 70 hold a small product (fill 0.3), the last 30 a large one (0.8). Drawn from the
    whole set the range reaches the large ones; the first 64 alone would say 0.3 to 0.3. A truncated photo is
    left out with a warning naming it, from the references and from the memorisation index."""
    paths = []
    for index in range(100):
        paths.append(tmp_path / f"{index:03d}.png")
        _square_photo(paths[-1], 0.3 if index < 70 else 0.8)
    broken = tmp_path / "050.png"
    broken.write_bytes(broken.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="shoegen"):
        reference = ReferencePhotos.from_files(paths, limit=64)
        index = MemorisationIndex.from_files(paths)
    low, high = reference.fill_range
    assert low == pytest.approx(0.3, abs=0.05) and high == pytest.approx(0.8, abs=0.05)
    assert caplog.text.count(str(broken)) == 2 and "cannot be read" in caplog.text
    assert index.nearest(Image.open(paths[99]).convert("RGB")).hash_distance == 0
