"""Gallery: add/get/list/delete, filters and pagination, persistence across restarts, failure and
concurrency behaviour, and path safety against tampered rows."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

import pytest
from PIL import Image

from shoegen.config.generation import ImageParams
from shoegen.errors import ShoegenError
from shoegen.storage import Gallery, ImageFilter, read_png_parameters

ParamsFactory = Callable[..., ImageParams]


class SettableClock(Protocol):
    """The `clock` fixture from conftest.py: set `now` to date the next image."""

    now: datetime


RunSql = Callable[..., list]

# A trigger that makes every insert into images fail, in each database's dialect.
REJECT_INSERTS = {
    "sqlite": ["CREATE TRIGGER reject BEFORE INSERT ON images BEGIN SELECT RAISE(ABORT, 'rejected'); END"],
    "postgresql": ["CREATE FUNCTION reject() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'rejected'; "
                   "END $$",
                   "CREATE TRIGGER reject BEFORE INSERT ON images FOR EACH ROW EXECUTE FUNCTION reject()"],
}
ALLOW_INSERTS = {"sqlite": ["DROP TRIGGER reject"], "postgresql": ["DROP TRIGGER reject ON images"]}


def test_add_writes_png_in_date_folder_and_get_returns_it(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    params = make_params(extra={"base_model": "tiny", "generation_seconds": 0.25})
    stored = gallery.add(small_image, params, job_id="job-1")

    assert len(stored.id) == 32
    assert stored.created_at == datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
    assert stored.file_name == f"2026/11/25/{stored.id}.png"
    assert stored.path == gallery.image_dir / stored.file_name
    assert gallery.image_path(stored.id) == stored.path
    assert gallery.get(stored.id) == stored
    assert gallery.get("0" * 32) is None and gallery.image_path("0" * 32) is None

    a1111, embedded = read_png_parameters(stored.path)
    assert a1111 is not None and a1111.startswith(params.prompt + "\nNegative prompt: blurry, lowres\nSteps: 30")
    assert embedded == params.to_dict()


def test_list_is_newest_first_with_pagination_and_total(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    added = [gallery.add(small_image, make_params(seed=seed)) for seed in range(7)]
    newest_first = [image.id for image in reversed(added)]

    first = gallery.list(limit=3)
    assert (first.total, first.offset, first.limit) == (7, 0, 3)
    assert [image.id for image in first.items] == newest_first[:3]
    last = gallery.list(offset=6, limit=3)
    assert [image.id for image in last.items] == newest_first[6:]
    assert gallery.list(offset=10).items == [] and gallery.list(offset=10).total == 7
    assert gallery.list(limit=10_000).limit == 200
    with pytest.raises(ValueError):
        gallery.list(limit=0)
    with pytest.raises(ValueError):
        gallery.list(offset=-1)


def test_search_ignores_the_case_of_every_letter_not_only_a_to_z(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    french = gallery.add(small_image, make_params(prompt="Escarpins ÉLÉGANTS en cuir, fond blanc"))
    gallery.add(small_image, make_params(prompt="Elegant shoes"))
    for word in ("élégants", "ÉLÉGANTS", "Élégants"):
        assert [image.id for image in gallery.list(ImageFilter(search=word)).items] == [french.id]


def test_filters_by_model_search_dates_job_and_ids(
    gallery: Gallery, clock: SettableClock, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    clock.now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    black = gallery.add(small_image, make_params(prompt="Black LEATHER casual shoes"), job_id="job-a")
    clock.now = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
    brown = gallery.add(small_image, make_params(prompt="brown suede shoes, 100% cotton_laces", model_name="base"))
    clock.now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    white = gallery.add(small_image, make_params(prompt="white leather sneakers"), job_id="job-a")

    def ids(where: ImageFilter) -> list[str]:
        page = gallery.list(where)
        assert page.total == len(page.items)
        return [image.id for image in page.items]

    assert ids(ImageFilter(model="base")) == [brown.id]
    assert ids(ImageFilter(model="run/checkpoint-500")) == [white.id, black.id]
    assert ids(ImageFilter(search="LEATHER")) == [white.id, black.id]
    assert ids(ImageFilter(search="  leather   black ")) == [black.id]  # every word must match
    assert ids(ImageFilter(search="leather brown")) == []
    assert ids(ImageFilter(search="100%")) == [brown.id]  # LIKE wildcards are literal
    assert ids(ImageFilter(search="e_s")) == []  # would match "sneakers" if "_" were a wildcard
    assert ids(ImageFilter(search="n_l")) == [brown.id]
    assert ids(ImageFilter(created_after=datetime(2026, 2, 10, 12, 0, tzinfo=UTC))) == [white.id, brown.id]
    assert ids(ImageFilter(created_before=datetime(2026, 2, 10, 12, 0, tzinfo=UTC))) == [black.id]
    # Aware datetimes in other zones and naive ones (taken as UTC) select the same instants.
    plus_two = timezone(timedelta(hours=2))
    assert ids(ImageFilter(created_after=datetime(2026, 2, 1, 2, 0, tzinfo=plus_two),
                           created_before=datetime(2026, 3, 1))) == [brown.id]
    assert ids(ImageFilter(job_id="job-a")) == [white.id, black.id]
    assert ids(ImageFilter(job_id="job-a", search="white")) == [white.id]
    assert ids(ImageFilter(ids=[black.id, brown.id, "missing"])) == [brown.id, black.id]
    assert ids(ImageFilter(ids=[])) == []
    assert gallery.models() == ["base", "run/checkpoint-500"]


def test_delete_removes_rows_and_files(gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory) -> None:
    keep, drop, gone = (gallery.add(small_image, make_params(seed=seed)) for seed in (1, 2, 3))
    assert gone.path is not None
    gone.path.unlink()  # a file already missing is fine

    assert gallery.delete([drop.id, gone.id, drop.id, "not-an-id"]) == 2
    assert drop.path is not None and not drop.path.exists()
    assert gallery.get(drop.id) is None and gallery.get(gone.id) is None
    assert [image.id for image in gallery.list().items] == [keep.id]
    assert gallery.delete([]) == 0


def test_gallery_survives_restart(
    open_gallery: Callable[[], Gallery], small_image: Image.Image, make_params: ParamsFactory
) -> None:
    with open_gallery() as first:
        stored = first.add(small_image, make_params(), job_id="job-9")
    with open_gallery() as second:
        assert second.get(stored.id) == stored
        assert second.list().total == 1
        assert second.image_path(stored.id) == stored.path


def test_data_dir_gallery_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    with Gallery.for_data_dir(tmp_path / "data"):
        pass
    with sqlite3.connect(tmp_path / "data" / "gallery.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_failed_insert_leaves_no_file(
    gallery: Gallery, backend: str, sql: RunSql, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    for statement in REJECT_INSERTS[backend]:
        sql(statement)
    with pytest.raises(Exception, match="rejected"):
        gallery.add(small_image, make_params())
    assert [path for path in gallery.image_dir.rglob("*") if path.is_file()] == []
    assert gallery.list().total == 0

    for statement in ALLOW_INSERTS[backend]:
        sql(statement)
    stored = gallery.add(small_image, make_params())
    assert gallery.image_path(stored.id) is not None


def test_concurrent_adds_from_eight_threads_all_land(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    per_thread = 6
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def add_images(thread: int) -> None:
        try:
            start.wait()
            for index in range(per_thread):
                gallery.add(small_image.copy(), make_params(seed=thread * 100 + index), job_id=f"job-{thread}")
        except BaseException as error:  # collected so the test fails with the real error
            errors.append(error)

    threads = [threading.Thread(target=add_images, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    page = gallery.list(limit=200)
    assert page.total == 8 * per_thread
    assert len({image.id for image in page.items}) == 8 * per_thread
    assert all(gallery.list(ImageFilter(job_id=f"job-{n}")).total == per_thread for n in range(8))
    assert all(image.path is not None and image.path.is_file() for image in page.items)


@pytest.mark.parametrize(
    "tampered", ["../../etc/passwd", "/etc/passwd", "../outside.png", "2026/../../outside.png", "."]
)
def test_tampered_file_name_is_never_served_or_deleted(
    gallery: Gallery, sql: RunSql, tmp_path: Path, small_image: Image.Image, make_params: ParamsFactory, tampered: str
) -> None:
    outside = tmp_path / "data" / "outside.png"
    outside.write_bytes(b"not the gallery's")
    stored = gallery.add(small_image, make_params())
    sql("UPDATE images SET file_name = :name WHERE id = :id", name=tampered, id=stored.id)

    assert gallery.image_path(stored.id) is None
    reread = gallery.get(stored.id)
    assert reread is not None and reread.path is None
    assert gallery.delete([stored.id]) == 1
    assert outside.read_bytes() == b"not the gallery's"


def test_symlink_out_of_the_image_folder_is_not_served(
    gallery: Gallery, tmp_path: Path, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    stored = gallery.add(small_image, make_params())
    assert stored.path is not None
    stored.path.unlink()
    stored.path.symlink_to(secret)
    assert gallery.image_path(stored.id) is None


def test_in_memory_sqlite_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ShoegenError, match="SQLite file"):
        Gallery("sqlite://", tmp_path / "images")


@pytest.mark.parametrize(("url", "says"), [
    ("bogus://x", "names a database or driver (bogus)"),
    ("postgresql+nodriver://user:hunter2@host/db", "'postgresql+nodriver://user:***@host/db'"),
    ("::::", "is not a URL SQLAlchemy can read"),
])
def test_a_database_url_that_cannot_work_is_an_error_naming_it(tmp_path: Path, url: str, says: str) -> None:
    with pytest.raises(ShoegenError, match="sqlite:///path/gallery.db or postgresql://") as caught:
        Gallery(url, tmp_path / "images")
    assert says in str(caught.value) and "hunter2" not in str(caught.value)


def test_rows_of_earlier_versions_outside_todays_request_limits_still_list(gallery, small_image, make_params):
    """Earlier versions let `<lora:...>` tags apply any number of adapters at any weight; such rows must read."""
    nine = [{"name": f"a{i}", "weight": 9.0} for i in range(9)]
    stored = gallery.add(small_image, make_params(loras=nine))
    assert [lora.weight for lora in gallery.get(stored.id).params.loras] == [9.0] * 9
    assert gallery.list().total == 1
