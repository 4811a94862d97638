"""Gallery.reconcile: the start-up cleanup after a crash."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from shoegen.config.generation import ImageParams
from shoegen.storage import Gallery, ReconcileReport

ParamsFactory = Callable[..., ImageParams]


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_reconcile_removes_rows_without_files_orphan_pngs_and_partial_writes(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    kept = gallery.add(small_image, make_params())
    lost = gallery.add(small_image, make_params())
    assert lost.path is not None and kept.path is not None
    lost.path.unlink()

    folder = kept.path.parent
    orphan = folder / f"{uuid.uuid4().hex}.png"
    orphan.write_bytes(kept.path.read_bytes())
    partial = folder / f".{uuid.uuid4().hex}.png.{uuid.uuid4().hex}.partial"
    partial.write_bytes(b"\x89PNG half")
    fresh_orphan = folder / f"{uuid.uuid4().hex}.png"  # maybe another replica's add in progress
    fresh_orphan.write_bytes(b"")
    not_ours = gallery.image_dir / "README.txt"
    not_ours.write_text("a user's note")
    user_png = gallery.image_dir / "cover.png"
    user_png.write_bytes(b"")
    for path in (orphan, partial, not_ours, user_png):
        _age(path, 3600)

    assert gallery.reconcile() == ReconcileReport(removed_rows=1, removed_files=2)
    assert gallery.get(lost.id) is None
    assert gallery.image_path(kept.id) == kept.path
    assert not orphan.exists() and not partial.exists()
    assert fresh_orphan.exists() and not_ours.exists() and user_png.exists()

    assert gallery.reconcile(grace_seconds=0) == ReconcileReport(removed_rows=0, removed_files=1)
    assert not fresh_orphan.exists()
    assert gallery.reconcile() == ReconcileReport(removed_rows=0, removed_files=0)


def test_reconcile_on_restart_after_a_crash_between_file_and_row(
    open_gallery: Callable[[], Gallery], small_image: Image.Image, make_params: ParamsFactory
) -> None:
    with open_gallery() as gallery:
        stored = gallery.add(small_image, make_params())
    assert stored.path is not None
    crashed_add = stored.path.with_name(f"{uuid.uuid4().hex}.png")  # written, row never committed
    crashed_add.write_bytes(stored.path.read_bytes())
    _age(crashed_add, 3600)

    with open_gallery() as restarted:
        assert restarted.reconcile() == ReconcileReport(removed_rows=0, removed_files=1)
        assert restarted.list().total == 1
        assert restarted.image_path(stored.id) == stored.path


def test_a_folder_and_a_database_that_do_not_belong_together_lose_nothing(
    gallery: Gallery, database_url: str, new_database_url: Callable[[], str], tmp_path: Path,
    small_image: Image.Image, make_params: ParamsFactory
) -> None:
    stored = [gallery.add(small_image, make_params()) for _ in range(3)]
    for image in stored:
        _age(image.path, 3600)
    # A replica whose shared image folder is not mounted: the database's rows have no file in its folder.
    with Gallery(database_url, tmp_path / "not-mounted") as replica:
        report = replica.reconcile()
    assert (report.removed_rows, report.removed_files) == (0, 0)
    assert report.kept == (f"3 of the gallery's 3 images have no file in {tmp_path / 'not-mounted'}: is it the "
                           "gallery's image folder (a share not mounted?)",)
    # A replica pointed at another, empty database: the folder's images are in no row of it.
    with Gallery(new_database_url(), gallery.image_dir) as replica:
        report = replica.reconcile()
    assert (report.removed_rows, report.removed_files) == (0, 0) and len(report.kept) == 1
    assert "3 of the 3 images in" in report.kept[0] and "not in the gallery's database" in report.kept[0]
    # Nothing was lost: the gallery is whole, and its own cleanup still removes what a crash left.
    assert gallery.list().total == 3 and all(image.path.is_file() for image in stored)
    stored[0].path.unlink()
    assert gallery.reconcile() == ReconcileReport(removed_rows=1, removed_files=0)
