"""Model-based scores on tiny random CLIP and DINOv2 models: the numbers follow the protocol (an image against
itself is 1.0, a set against itself has a KID near 0, noise is farther from shoes than other shoes are), and a
model that cannot load is a one-line skip, not a traceback."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from shoegen.data.sample import draw_shoe_spec, render_shoe
from shoegen.errors import ShoegenError
from shoegen.evaluation.embeddings import METRICS, EmbeddingScorer, ImageEmbeddings
from shoegen.models.scorers import ScorerUnavailable, load_scorer

NOT_CACHED = "shoegen-tests/not-a-cached-model"


def shoes(seed: int, count: int, size: int = 64) -> list[Image.Image]:
    return [render_shoe(draw_shoe_spec(seed, index), size) for index in range(count)]


def noise(count: int, size: int = 64) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(count)]


def test_local_folders_load_by_path(tiny_scorer, tiny_scorer_folders):
    assert tiny_scorer.unavailable() == {}
    assert tiny_scorer.model_names == {kind: str(folder) for kind, folder in tiny_scorer_folders.items()}


def test_identical_images_have_similarity_one(tiny_scorer):
    shoe = shoes(1, 1)[0]
    assert tiny_scorer.clip_image_similarity([shoe] * 3, [shoe] * 2) == pytest.approx(1.0, abs=1e-5)
    assert tiny_scorer.dino_similarity([shoe] * 3, [shoe.copy()]) == pytest.approx(1.0, abs=1e-5)
    # Distinct images lower the mean over pairs, even of a set against itself.
    others = shoes(2, 4)
    assert tiny_scorer.dino_similarity(others, others) < 1.0 - 1e-4


def test_kid_and_fid_rank_noise_farthest(tiny_scorer):
    photos, other_photos, random_images = shoes(1, 40), shoes(2, 40), noise(40)
    itself = tiny_scorer.distribution_distance(photos, photos)
    other = tiny_scorer.distribution_distance(photos, other_photos)
    far = tiny_scorer.distribution_distance(photos, random_images)
    assert far.kid_mean > 10 * max(other.kid_mean, 1e-6)
    assert abs(itself.kid_mean) < 0.01 * far.kid_mean
    assert itself.kid_subset_size == 40
    # 40 images per set, more than the tiny DINOv2's 32 feature dimensions: FID is given too.
    assert itself.fid == pytest.approx(0.0, abs=1e-3)
    assert far.fid > 10 * other.fid
    # Seeded subsets: the same sets give the same figures.
    assert tiny_scorer.distribution_distance(photos, random_images) == far


def test_small_sets_give_kid_without_fid(tiny_scorer):
    distance = tiny_scorer.distribution_distance(shoes(1, 2), shoes(2, 3))
    assert distance.kid_subset_size == 2 and distance.fid is None
    assert np.isfinite(distance.kid_mean)
    with pytest.raises(ShoegenError, match="at least 2 images in each set"):
        tiny_scorer.distribution_distance(shoes(1, 1), shoes(2, 3))


def test_clip_score_is_100_times_clamped_cosine(tiny_scorer):
    images, prompts = shoes(3, 3), ["red leather sneakers", "blue suede boots", "a " * 100]  # the last: > 77 tokens
    scores = tiny_scorer.clip_score(images, prompts)
    model, processor = tiny_scorer._scorer("clip")
    with torch.inference_mode():
        pixels = processor(images=images, text=prompts, padding=True, truncation=True, return_tensors="pt")
        cosines = torch.cosine_similarity(model(**pixels).image_embeds, model(**pixels).text_embeds)
    assert scores == pytest.approx((100 * cosines.clamp(min=0)).tolist(), abs=1e-3)
    assert all(0.0 <= score <= 100.0 for score in scores)
    with pytest.raises(ShoegenError, match="one prompt per image"):
        tiny_scorer.clip_score(images, prompts[:2])


def test_score_reuses_reference_embeddings(tiny_scorer):
    generated, references = shoes(4, 5), shoes(5, 6)
    embedded = tiny_scorer.embed(references)
    assert isinstance(embedded, ImageEmbeddings) and embedded.count == 6
    from_images = tiny_scorer.score(generated, ["shoes"] * 5, references)
    assert tiny_scorer.score(generated, ["shoes"] * 5, embedded) == from_images
    assert from_images.dino_similarity is not None and from_images.distance is not None
    assert set(from_images.skipped) == {"fid"}  # 5 and 6 images: KID only, and the reason says so
    assert "KID is given instead" in from_images.skipped["fid"]


def test_offline_hub_id_is_a_one_line_skip(tiny_scorer_folders, caplog):
    scorer = EmbeddingScorer(NOT_CACHED, str(tiny_scorer_folders["dino"]))
    with caplog.at_level(logging.WARNING, logger="shoegen.evaluation"):
        skipped = scorer.unavailable()
        scorer.unavailable()  # warned once, not per call
    assert set(skipped) == set(METRICS["clip"])
    reason = skipped["clip_score"]
    assert "\n" not in reason and "Traceback" not in reason
    assert NOT_CACHED in reason and "SHOEGEN_CLIP_MODEL" in reason and "clip_model=" in reason
    assert [record.getMessage() for record in caplog.records] == [
        f"Skipped clip_score, clip_image_similarity: {reason}"]
    # The DINOv2 scores still run.
    scores = scorer.score(shoes(1, 3), ["red sneakers"] * 3, shoes(2, 3))
    assert scores.clip_scores is None and scores.clip_image_similarity is None
    assert scores.dino_similarity is not None and scores.distance is not None
    assert scores.skipped["clip_score"] == reason
    with pytest.raises(ScorerUnavailable, match="SHOEGEN_CLIP_MODEL"):
        scorer.clip_score(shoes(1, 1), ["red sneakers"])


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_bad_local_folder_is_a_one_line_skip(tmp_path, make):
    target = tmp_path / "dinov2"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("not a model")
    with pytest.raises(ScorerUnavailable) as raised:
        load_scorer("dino", str(target))
    expected = {"missing": "no such folder", "empty": "no config.json", "file": "not a folder"}[make]
    reason = str(raised.value)
    assert expected in reason and "SHOEGEN_DINO_MODEL" in reason and "\n" not in reason


def test_environment_chooses_the_models_and_parameters_win(monkeypatch, tiny_scorer_folders):
    monkeypatch.setenv("SHOEGEN_CLIP_MODEL", str(tiny_scorer_folders["clip"]))
    monkeypatch.setenv("SHOEGEN_DINO_MODEL", "tiny")
    assert EmbeddingScorer().model_names == {"clip": str(tiny_scorer_folders["clip"]), "dino": "tiny"}
    assert EmbeddingScorer(dino_model="facebook/dinov2-base").model_names["dino"] == "facebook/dinov2-base"
    monkeypatch.delenv("SHOEGEN_CLIP_MODEL")
    monkeypatch.delenv("SHOEGEN_DINO_MODEL")
    assert EmbeddingScorer().model_names == {"clip": "openai/clip-vit-large-patch14", "dino": "facebook/dinov2-small"}


def test_builtin_tiny_scorers_are_cached():
    from shoegen.models.tiny_scorers import tiny_scorer_path

    assert EmbeddingScorer("tiny", "tiny").unavailable() == {}
    folder = tiny_scorer_path("clip")
    stamp = (folder / "SHOEGEN_BUILTIN_VERSION").stat().st_mtime_ns
    assert tiny_scorer_path("clip") == folder and (folder / "SHOEGEN_BUILTIN_VERSION").stat().st_mtime_ns == stamp


def test_hub_id_loads_from_the_local_cache_offline(tiny_scorer_folders, tmp_path):
    """The default path, a hub id: offline, a model in the Hugging Face cache loads (a fresh process, since
    huggingface_hub reads HF_HUB_CACHE at import)."""
    revision = "0" * 40
    repo = tmp_path / "hub" / "models--shoegen-tests--tiny-dino"
    shutil.copytree(tiny_scorer_folders["dino"], repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    script = ("from shoegen.evaluation.embeddings import EmbeddingScorer\n"
              f"print(sorted(EmbeddingScorer({NOT_CACHED!r}, 'shoegen-tests/tiny-dino').unavailable()))")
    environment = os.environ | {"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == str(sorted(METRICS["clip"]))
