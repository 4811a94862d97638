"""The engine under test: one warm `Engine` on the tiny base with two trained adapters."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def load_helper():
    name = "shoegen_tests_trained_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("trained_models.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, sample_dataset, tiny_base) -> Path:
    return load_helper().trained_models_dir(tmp_path_factory.getbasetemp(), sample_dataset)


@pytest.fixture(scope="session")
def escape_names() -> tuple[str, ...]:
    """Adapter names that resolve outside the models folder (through symlinks inside it)."""
    return load_helper().ESCAPE_NAMES


@pytest.fixture(scope="module")
def engine(models_dir):
    from shoegen.engine.engine import Engine

    return Engine("tiny", models_dir, device="cpu")
