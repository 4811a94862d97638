"""Shared fixtures: an isolated model cache, the offline hub, the tiny base, a small sample dataset and a throwaway
PostgreSQL cluster."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest


def pytest_configure(config):
    # Set before anything imports huggingface_hub, and inherited by the CLI subprocesses tests start.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    cache = Path(config.rootpath) / ".pytest_cache" / "shoegen-models"
    os.environ.setdefault("SHOEGEN_CACHE_DIR", str(cache))
    # The compiled engine's kernels (tests/engine/test_compiled.py) beside the models: the first run compiles for
    # a minute or two, later runs load them in seconds.
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache.parent / "torchinductor"))


@pytest.fixture(scope="session")
def tiny_base() -> Path:
    from shoegen.models.resolve import builtin_base_path

    return builtin_base_path("tiny")


@pytest.fixture
def configs_only():
    """A base's configuration files alone (no weights) copied to a folder, the UNet's changed by `unet_changes`:
    a base whose facts can be read, never loaded."""
    def copy(base: Path, folder: Path, unet_changes: dict | None = None) -> Path:
        for part in ("unet", "vae", "text_encoder"):
            (folder / part).mkdir(parents=True)
            shutil.copy(base / part / "config.json", folder / part / "config.json")
        unet = json.loads((folder / "unet" / "config.json").read_text())
        (folder / "unet" / "config.json").write_text(json.dumps({**unet, **(unet_changes or {})}))
        (folder / "model_index.json").write_text("{}")
        return folder
    return copy


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


def _postgres_cluster_module():
    """tests/postgres_cluster.py, loaded by path like trained_models.py."""
    spec = importlib.util.spec_from_file_location("shoegen_tests_postgres_cluster",
                                                  Path(__file__).parent / "postgres_cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster for the whole session (see tests/postgres_cluster.py); the tests using it
    skip, saying why, where PostgreSQL cannot be started."""
    cluster_module = _postgres_cluster_module()
    try:
        cluster = cluster_module.start_cluster()
    except cluster_module.PostgresUnavailable as reason:
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres) -> str:
    """The SQLAlchemy URL of a new, empty database in the session's cluster."""
    return postgres.create_database()
