"""Shared fixtures: an isolated model cache, the offline hub, the tiny base and a small sample dataset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_configure(config):
    # Set before anything imports huggingface_hub, and inherited by the CLI subprocesses tests start.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    cache = Path(config.rootpath) / ".pytest_cache" / "shoegen-models"
    os.environ.setdefault("SHOEGEN_CACHE_DIR", str(cache))


@pytest.fixture(scope="session")
def tiny_base() -> Path:
    from shoegen.models.resolve import builtin_base_path

    return builtin_base_path("tiny")


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory) -> Path:
    """16 rendered 64 px shoe photos in the original captions.json layout."""
    from shoegen.data.sample import render_sample_dataset

    folder = tmp_path_factory.mktemp("sample") / "shoes"
    render_sample_dataset(folder, 16, seed=1, size=64)
    return folder
