"""Fixtures for the scores: tiny random CLIP and DINOv2 scorers saved as local folders."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_scorer_folders(tmp_path_factory) -> dict[str, Path]:
    """{"clip": folder, "dino": folder}: tiny random CLIPModel + CLIPProcessor and Dinov2Model + image processor,
    written by save_pretrained as a user's local copies would be."""
    from shoegen.models.tiny_scorers import write_tiny_clip, write_tiny_dino

    root = tmp_path_factory.mktemp("scorers")
    write_tiny_clip(root / "clip")
    write_tiny_dino(root / "dino")
    return {"clip": root / "clip", "dino": root / "dino"}


@pytest.fixture(scope="session")
def tiny_scorer(tiny_scorer_folders):
    """An EmbeddingScorer on the tiny folders, loaded once for the session."""
    from shoegen.evaluation.embeddings import EmbeddingScorer

    return EmbeddingScorer(str(tiny_scorer_folders["clip"]), str(tiny_scorer_folders["dino"]), batch_size=16)
