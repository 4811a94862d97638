"""Schema migrations (Alembic) when a gallery opens, on SQLite and PostgreSQL: a fresh database gets exactly the
schema `create_all` made before; databases made by earlier releases (no version table) upgrade in place with
their rows; several processes opening a fresh database at once all succeed, one migrating while the others wait."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from PIL import Image
from sqlalchemy import inspect

from shoegen.config.generation import ImageParams
from shoegen.config.scores import CatalogueScores
from shoegen.errors import ShoegenError
from shoegen.storage import Gallery, ImageFilter
from shoegen.storage import gallery as gallery_module
from shoegen.storage.database import create_gallery_engine
from shoegen.storage.records import GalleryBase, ImageRecord
from shoegen.storage.schema import VERSION_TABLE, current_revision, head_revision


ParamsFactory = Callable[..., ImageParams]
RunSql = Callable[..., list]

RELEASE_TABLES = ["images", "image_scores", "image_presets"]
"""What the last release before migrations made."""
GALLERY_TABLES = {*RELEASE_TABLES, "jobs", "job_events", "service_options"}


def scores(score: float, *, main_image: bool = False) -> CatalogueScores:
    """Scores with a given composite, passing the catalogue preset and (if asked) the main-image one."""
    return CatalogueScores(
        width=512, height=512, product_found=True, background=0.98, offset=0.02, fill=0.8, cut_off=False,
        colour="red", colour_distance=12.5, sharpness=40.0, score=score,
        rule_failures={"main-image": [] if main_image else ["longest side is 512 px, needs at least 1000 px"],
                       "catalogue": []})


def _revision(url: str) -> str | None:
    engine = create_gallery_engine(url)
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()


def _schema(url: str) -> dict[str, Any]:
    """Everything about the tables that a migration could get wrong, as the database itself reports it."""
    engine = create_gallery_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            schema: dict[str, Any] = {}
            for table in set(inspector.get_table_names()) - {VERSION_TABLE}:
                primary_key = inspector.get_pk_constraint(table)
                schema[table] = {
                    "columns": [(column["name"], str(column["type"]), column["nullable"], column.get("default"))
                                for column in inspector.get_columns(table)],
                    "primary_key": (primary_key["name"], primary_key["constrained_columns"]),
                    "foreign_keys": sorted((key["name"], key["constrained_columns"], key["referred_table"],
                                            key["referred_columns"], key["options"]) for key in
                                           inspector.get_foreign_keys(table)),
                    "indexes": sorted((index["name"], index["column_names"], index["unique"])
                                      for index in inspector.get_indexes(table)),
                }
            if connection.dialect.name == "sqlite":
                # SQLite keeps each table's and index's CREATE statement: those must be the very same.
                schema["sqlite_master"] = dict(connection.exec_driver_sql(
                    f"SELECT name, sql FROM sqlite_master WHERE name != '{VERSION_TABLE}' "
                    "AND name NOT LIKE 'sqlite_%'").all())
            return schema
    finally:
        engine.dispose()


@contextmanager
def _release_gallery(monkeypatch: pytest.MonkeyPatch, url: str, image_dir: Path,
                     tables: list[str] | None = None) -> Iterator[Gallery]:
    """A gallery as the releases before migrations opened it: `create_all` (of `tables`, default all), no
    version table."""
    def create_all(database_url: Any) -> None:
        engine = create_gallery_engine(database_url)
        chosen = None if tables is None else [GalleryBase.metadata.tables[name] for name in tables]
        GalleryBase.metadata.create_all(engine, tables=chosen)
        engine.dispose()

    with monkeypatch.context() as patched:
        patched.setattr(gallery_module, "upgrade_database", create_all)
        with Gallery(url, image_dir) as gallery:
            yield gallery


def test_fresh_database_is_at_head_and_matches_the_models(gallery: Gallery, database_url: str) -> None:
    assert _revision(database_url) == head_revision() == "0004_options"
    engine = create_gallery_engine(database_url)
    with engine.connect() as connection:
        # What autogenerate would write: nothing, or a model changed without its revision.
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}), GalleryBase.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert tables == GALLERY_TABLES | {VERSION_TABLE}


def test_migrations_make_exactly_what_create_all_made(
    gallery: Gallery, database_url: str, new_database_url: Callable[[], str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    release_url = new_database_url()
    with _release_gallery(monkeypatch, release_url, tmp_path / "release-images"):
        pass
    migrated, made_by_create_all = _schema(database_url), _schema(release_url)
    assert set(migrated) >= GALLERY_TABLES
    assert migrated == made_by_create_all


def test_database_of_the_current_release_upgrades_in_place_and_keeps_its_rows(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_image: Image.Image,
    make_params: ParamsFactory
) -> None:
    image_dir = tmp_path / "data" / "images"
    with _release_gallery(monkeypatch, database_url, image_dir, tables=RELEASE_TABLES) as release:
        scored = release.add(small_image, make_params(), job_id="job-1", scores=scores(0.9, main_image=True))
        plain = release.add(small_image, make_params(seed=7))
        before = release.export_metadata()
    assert _revision(database_url) is None

    with Gallery(database_url, image_dir) as upgraded:
        assert _revision(database_url) == head_revision()
        assert upgraded.export_metadata() == before
        assert upgraded.get(scored.id) == scored and upgraded.get(plain.id) == plain
        assert [image.id for image in upgraded.list(ImageFilter(passes="main-image")).items] == [scored.id]
        added = upgraded.add(small_image, make_params(seed=8), scores=scores(0.5))
        assert [image.id for image in upgraded.list(sort="score").items] == [scored.id, added.id, plain.id]
    with Gallery(database_url, image_dir) as reopened:
        assert reopened.list().total == 3


def test_database_from_before_scores_gains_the_scores_tables(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_image: Image.Image,
    make_params: ParamsFactory
) -> None:
    image_dir = tmp_path / "data" / "images"
    with _release_gallery(monkeypatch, database_url, image_dir, tables=[ImageRecord.__tablename__]) as release:
        old = release.add(small_image, make_params())
    assert set(_schema(database_url)) - {"sqlite_master"} == {"images"}

    with Gallery(database_url, image_dir) as gallery:
        assert set(_schema(database_url)) - {"sqlite_master"} == GALLERY_TABLES
        assert _revision(database_url) == head_revision()
        assert gallery.get(old.id) == old and old.scores is None
        assert gallery.list(ImageFilter(passes="catalogue")).total == 0
        assert gallery.set_scores(old.id, scores(0.6))
        new = gallery.add(small_image, make_params(), scores=scores(0.9))
        assert [image.id for image in gallery.list(ImageFilter(passes="catalogue"), sort="score").items] == \
            [new.id, old.id]


def test_database_of_a_newer_release_is_refused_with_a_clear_message(
    gallery: Gallery, open_gallery: Callable[[], Gallery], sql: RunSql
) -> None:
    sql(f"UPDATE {VERSION_TABLE} SET version_num = '0099_from_the_future'")
    with pytest.raises(ShoegenError, match="'0099_from_the_future', which this version of shoegen does not know"):
        open_gallery()


# Each process opens the gallery when told to, and holds the migration lock half a second longer than it needs:
# without the lock the processes would all find an empty database and create the same tables at once.
OPEN_TOGETHER = """
import sys, time
from pathlib import Path
from alembic import command

upgrade = command.upgrade
def slow_upgrade(*args, **kwargs):
    entered = time.time()
    time.sleep(0.5)
    upgrade(*args, **kwargs)
    print("upgrade", entered, time.time(), flush=True)
command.upgrade = slow_upgrade

from shoegen.storage import Gallery
print("ready", flush=True)
sys.stdin.readline()
Gallery(sys.argv[1], Path(sys.argv[2])).close()
"""


def test_processes_opening_a_fresh_database_at_once_all_succeed_one_migrating_at_a_time(
    database_url: str, tmp_path: Path, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [subprocess.Popen([sys.executable, "-c", OPEN_TOGETHER, database_url, str(tmp_path / "images")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=environment) for _ in range(3)]
    try:
        for process in processes:
            assert process.stdout.readline() == "ready\n", process.communicate(timeout=60)
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [process.returncode for process in processes] == [0, 0, 0], outcomes

    held = sorted(tuple(map(float, out.split()[1:])) for out, _ in outcomes)
    assert all(earlier[1] <= later[0] for earlier, later in zip(held, held[1:])), f"lock held together: {held}"
    assert _revision(database_url) == head_revision()
    assert set(_schema(database_url)) - {"sqlite_master"} == GALLERY_TABLES
    with Gallery(database_url, tmp_path / "images") as gallery:
        gallery.add(small_image, make_params(), scores=scores(0.5))
        assert gallery.list().total == 1


def test_postgresql_url_without_a_driver_uses_psycopg(postgres, tmp_path: Path) -> None:
    url = postgres.create_database().replace("postgresql+psycopg://", "postgresql://")
    with Gallery(url, tmp_path / "images") as gallery:
        assert "postgresql+psycopg://" in repr(gallery)
        assert gallery.list().total == 0
