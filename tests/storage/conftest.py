"""Galleries in temporary folders with a controllable clock, and small images and parameters to store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from shoegen.config.generation import AppliedLora, ImageParams
from shoegen.storage import Gallery

BASE_PARAMS = ImageParams(
    prompt="A professional product photo of black casual shoes, centered on white background",
    negative_prompt="blurry, lowres",
    model_name="run/checkpoint-500",
    loras=[AppliedLora(name="shoes-v1", weight=0.8)],
    seed=123,
    num_inference_steps=30,
    guidance_scale=7.5,
    sampler="DPM++ 2M Karras",
    width=512,
    height=512,
)


class SteppingClock:
    """Each call returns the current time and then moves it on by `step`, so images never tie."""

    def __init__(self, start: datetime, step: timedelta = timedelta(seconds=1)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC))


@pytest.fixture
def gallery(tmp_path: Path, clock: SteppingClock) -> Iterator[Gallery]:
    with Gallery.for_data_dir(tmp_path / "data", clock=clock) as opened:
        yield opened


def _params(**changes: Any) -> ImageParams:
    return ImageParams.model_validate({**BASE_PARAMS.model_dump(), **changes})


@pytest.fixture
def make_params() -> Callable[..., ImageParams]:
    """BASE_PARAMS with some fields changed."""
    return _params


@pytest.fixture
def small_image() -> Image.Image:
    return Image.new("RGB", (8, 8), (200, 40, 40))
