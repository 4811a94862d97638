"""Shared fixtures: an isolated model cache, the offline hub, the tiny base and a small sample dataset."""

from __future__ import annotations

import importlib.util
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


def _trained_models_module():
    """tests/engine/trained_models.py, loaded by path: the test folders are not packages."""
    spec = importlib.util.spec_from_file_location("shoegen_tests_trained_models",
                                                  Path(__file__).parent / "engine" / "trained_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def trained_models():
    return _trained_models_module()


@pytest.fixture(scope="session")
def models_dir(trained_models, tmp_path_factory, sample_dataset, tiny_base) -> Path:
    """A models folder with two trained runs (`shoesA`, `shoesB`), built once per session."""
    return trained_models.trained_models_dir(tmp_path_factory.getbasetemp(), sample_dataset)


@pytest.fixture(scope="session")
def escape_names(trained_models) -> tuple[str, ...]:
    """Adapter names that resolve outside the models folder (through symlinks inside it)."""
    return trained_models.ESCAPE_NAMES
