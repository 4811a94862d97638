"""The engine under test: one warm `Engine` on the tiny base with two trained adapters."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def engine(models_dir):
    from shoegen.engine.engine import Engine

    return Engine("tiny", models_dir, device="cpu")
