"""Galleries in temporary folders with a controllable clock, over SQLite and over PostgreSQL (every test that uses
`gallery`, `database_url` or `new_database_url` runs once per database), and small images and parameters to store."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

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


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database the test runs on; PostgreSQL is the session's throwaway cluster (the `postgres` fixture)."""
    return request.param


@pytest.fixture
def new_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], str]:
    """Each call: the URL of another new, empty database on the test's backend. On SQLite the first is
    tmp_path/data/gallery.db, where `Gallery.for_data_dir(tmp_path / "data")` keeps it."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres").create_database
    folders = itertools.chain(["data"], (f"data-{number}" for number in itertools.count(2)))

    def sqlite_url() -> str:
        return URL.create("sqlite", database=str(tmp_path / next(folders) / "gallery.db")).render_as_string()

    return sqlite_url


@pytest.fixture
def database_url(new_database_url: Callable[[], str]) -> str:
    """The test's gallery database (empty until a gallery opens it)."""
    return new_database_url()


@pytest.fixture
def open_gallery(database_url: str, tmp_path: Path, clock: SteppingClock) -> Callable[[], Gallery]:
    """Opens (again) the test's gallery: its database, images in tmp_path/data/images."""
    return lambda: Gallery(database_url, tmp_path / "data" / "images", clock=clock)


@pytest.fixture
def gallery(open_gallery: Callable[[], Gallery]) -> Iterator[Gallery]:
    with open_gallery() as opened:
        yield opened


@pytest.fixture
def sql(database_url: str) -> Iterator[Callable[..., list[Any]]]:
    """Runs one SQL statement (named parameters as keywords) on the test's database behind Gallery's back, in its
    own committed transaction; returns the rows, if any."""
    engine = create_engine(database_url, poolclass=NullPool)

    def run(statement: str, **parameters: Any) -> list[Any]:
        with engine.begin() as connection:
            result = connection.execute(text(statement), parameters)
            return list(result) if result.returns_rows else []

    yield run
    engine.dispose()


def _params(**changes: Any) -> ImageParams:
    return ImageParams.model_validate({**BASE_PARAMS.model_dump(), **changes})


@pytest.fixture
def make_params() -> Callable[..., ImageParams]:
    """BASE_PARAMS with some fields changed."""
    return _params


@pytest.fixture
def small_image() -> Image.Image:
    return Image.new("RGB", (8, 8), (200, 40, 40))
