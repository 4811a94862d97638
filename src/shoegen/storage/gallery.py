"""The gallery: every generated image as a PNG file under one folder plus a row in one database.

The file is always written before its row and removed after it, so at any moment a row implies a
file; a crash can only leave files without rows (or temporary files), which `reconcile` removes.
Several service replicas may share one database URL and one image folder.
"""

from __future__ import annotations

import builtins
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, cast

from PIL import Image
from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, delete, exists, func, select
from sqlalchemy.engine import URL, CursorResult, make_url
from sqlalchemy.orm import Session, aliased, sessionmaker

from shoegen.config.generation import ImageParams
from shoegen.config.scores import CatalogueScores
from shoegen.errors import ShoegenError
from shoegen.files import PARTIAL_SUFFIX
from shoegen.storage.database import create_gallery_engine
from shoegen.storage.export import write_zip
from shoegen.storage.png import save_png_with_parameters
from shoegen.storage.records import MAX_JOB_ID_LENGTH, ImagePresetRecord, ImageRecord, ImageScoreRecord
from shoegen.storage.schema import upgrade_database
from shoegen.storage.stored import StoredImage

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Stays under every database's limit on bound parameters in one IN (...) list.
ID_BATCH = 500
# Rows fetched per round trip when streaming an export or a reconcile pass.
STREAM_BATCH = 500
# Files newer than this are left alone by reconcile: another replica may be between writing a PNG
# and committing its row.
RECONCILE_GRACE_SECONDS = 300.0
# Only names the gallery itself creates are ever deleted, whatever else sits in the image folder.
GALLERY_PNG = re.compile(r"[0-9a-f]{32}\.png")
GALLERY_PARTIAL = re.compile(r"\.[0-9a-f]{32}\.png\.[0-9a-f]{32}" + re.escape(PARTIAL_SUFFIX))

DATABASE_FILE = "gallery.db"
"""The SQLite database's name in a data folder (the single-machine layout)."""

SortOrder = Literal["newest", "score"]
"""How a listing is ordered: newest first, or best composite score first (unscored images last, newest first)."""


@dataclass(frozen=True)
class ImageFilter:
    """Which images a listing or export covers; every field that is set must match (logical AND)."""

    ids: Sequence[str] | None = None
    """Exactly these images; an empty sequence selects nothing, None does not restrict."""
    model: str | None = None
    search: str | None = None
    """Case-insensitive; each whitespace-separated word must occur somewhere in the prompt."""
    created_after: datetime | None = None
    """Inclusive bound; a naive datetime is taken as UTC."""
    created_before: datetime | None = None
    """Exclusive bound; a naive datetime is taken as UTC."""
    job_id: str | None = None
    passes: str | None = None
    """Only images that pass this marketplace preset (a name in `shoegen.config.scores.PRESETS`); images without
    scores, or scored before the preset existed, do not."""
    min_score: float | None = None
    """Only images whose composite score is at least this; images without scores are left out."""
    scored: bool | None = None
    """True: only images with scores; False: only those without (what a backfill scores)."""


@dataclass(frozen=True)
class Page:
    """One page of a listing, in the order asked for, and how many images match in all."""

    items: list[StoredImage]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class ReconcileReport:
    """What `Gallery.reconcile` cleaned up."""

    removed_rows: int
    """Rows whose PNG was missing (or pointed outside the image folder)."""
    removed_files: int
    """PNGs without a row, and temporary files of interrupted writes."""
    kept: tuple[str, ...] = ()
    """Why rows without files or PNGs without rows were left alone: when they are most of the gallery, the image
    folder and the database do not belong together (a share not mounted, another gallery's database), and
    deleting them would empty a gallery a crash never touched."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _conditions(where: ImageFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.ids is not None:
        conditions.append(ImageRecord.id.in_(list(where.ids)))
    if where.model is not None:
        conditions.append(ImageRecord.model == where.model)
    for word in (where.search or "").split():
        # autoescape keeps a user's "%" or "_" literal instead of a LIKE wildcard.
        conditions.append(ImageRecord.prompt.icontains(word, autoescape=True))
    if where.created_after is not None:
        conditions.append(ImageRecord.created_at >= where.created_after)
    if where.created_before is not None:
        conditions.append(ImageRecord.created_at < where.created_before)
    if where.job_id is not None:
        conditions.append(ImageRecord.job_id == where.job_id)
    # Subqueries rather than a join, so counting, listing and exporting share the same conditions; an alias, as
    # a listing's own join on image_scores would otherwise swallow the subquery's table.
    scored = aliased(ImageScoreRecord)
    if where.passes is not None:
        conditions.append(exists().where(ImagePresetRecord.image_id == ImageRecord.id,
                                         ImagePresetRecord.preset == where.passes, ImagePresetRecord.passes))
    if where.min_score is not None:
        conditions.append(exists().where(scored.image_id == ImageRecord.id, scored.score >= where.min_score))
    if where.scored is not None:
        is_scored = exists().where(scored.image_id == ImageRecord.id)
        conditions.append(is_scored if where.scored else ~is_scored)
    return conditions


def _images(where: ImageFilter | None, sort: SortOrder = "newest") -> Select[tuple[ImageRecord, dict[str, Any] | None]]:
    """The matching rows with their scores JSON (None when unscored), in `sort` order."""
    # The id breaks ties between images created in the same microsecond, keeping pages stable.
    newest_first = (ImageRecord.created_at.desc(), ImageRecord.id.desc())
    order = (ImageScoreRecord.score.desc().nulls_last(), *newest_first) if sort == "score" else newest_first
    return (select(ImageRecord, ImageScoreRecord.scores)
            .outerjoin(ImageScoreRecord, ImageScoreRecord.image_id == ImageRecord.id)
            .where(*_conditions(where or ImageFilter()))
            .order_by(*order))


def _add_scores(session: Session, image_id: str, scores: CatalogueScores) -> None:
    """The score row, then (as they refer to it) a row per preset."""
    session.add(ImageScoreRecord(
        image_id=image_id, score=scores.score, background=scores.background, fill=scores.fill, offset=scores.offset,
        cut_off=scores.cut_off, colour_distance=scores.colour_distance, sharpness=scores.sharpness,
        scores=scores.model_dump(mode="json")))
    session.flush()
    session.add_all(ImagePresetRecord(image_id=image_id, preset=preset, passes=not failures)
                    for preset, failures in scores.rule_failures.items())


def _read_scores(stored: dict[str, Any] | None) -> CatalogueScores | None:
    if stored is None:
        return None
    try:
        return CatalogueScores.model_validate(stored)
    except ValidationError:
        # Scores written by a version whose shape differed: the image still lists, as unscored, until rescored.
        logger.warning("Gallery: stored scores no longer match CatalogueScores; treating the image as unscored.")
        return None


def _batches(ids: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), ID_BATCH):
        yield unique[start : start + ID_BATCH]


class Gallery:
    """Generated images and their parameters. Thread-safe: every call uses its own database session."""

    # The `list` method shadows the builtin in this class body, so annotations here say `builtins.list`.

    def __init__(
        self, database_url: str | URL, image_dir: Path, *, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        """Open the database, migrating it to the newest schema first (creating it when empty), and the image folder.

        `clock` gives each new image its creation time; tests pass a fixed one.
        """
        image_dir.mkdir(parents=True, exist_ok=True)
        self._image_dir = image_dir.resolve()
        self._clock = clock
        self._engine = create_gallery_engine(database_url)
        try:
            upgrade_database(self._engine.url)
        except BaseException:
            self._engine.dispose()
            raise
        # Results are turned into StoredImages inside the session, so nothing needs reloading after commit.
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    @staticmethod
    def sqlite_file(data_dir: Path, database_url: str | URL | None = None) -> Path | None:
        """The SQLite file `open(data_dir, database_url)` uses; None for a database server's URL."""
        if not database_url:
            return data_dir / DATABASE_FILE
        url = make_url(database_url)
        return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None

    @classmethod
    def for_data_dir(cls, data_dir: Path, *, clock: Callable[[], datetime] = _utc_now) -> Gallery:
        """The single-machine layout: `data_dir/gallery.db` (SQLite) and `data_dir/images/`."""
        if data_dir.exists() and not data_dir.is_dir():
            raise ShoegenError(f"data folder {data_dir} is a file: give the folder the gallery is (or is to be) in")
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ShoegenError(f"data folder {data_dir} cannot be made: {error.strerror or error}") from None
        url = URL.create("sqlite", database=str((data_dir / DATABASE_FILE).resolve()))
        return cls(url, data_dir / "images", clock=clock)

    @classmethod
    def open(cls, data_dir: Path, database_url: str | URL | None = None) -> Gallery:
        """The service's gallery: `database_url` with images in `data_dir/images`, or else `for_data_dir`."""
        return cls(database_url, data_dir / "images") if database_url else cls.for_data_dir(data_dir)

    @property
    def image_dir(self) -> Path:
        return self._image_dir

    def close(self) -> None:
        """Release the database connections; the gallery must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Gallery({self._engine.url.render_as_string(hide_password=True)!r}, {self._image_dir})"

    # --- paths ----------------------------------------------------------------------------------

    def _safe_path(self, file_name: str) -> Path | None:
        # A row is data, not trust: "../../etc/passwd", an absolute name or a symlink out of the folder
        # must never be served or deleted.
        candidate = (self._image_dir / file_name).resolve()
        if candidate == self._image_dir or not candidate.is_relative_to(self._image_dir):
            return None
        return candidate

    def _to_stored(self, record: ImageRecord, scores: dict[str, Any] | None) -> StoredImage:
        return StoredImage(
            id=record.id,
            created_at=record.created_at,
            params=ImageParams.from_dict(record.params),
            job_id=record.job_id,
            file_name=record.file_name,
            path=self._safe_path(record.file_name),
            scores=_read_scores(scores),
        )

    # --- writing --------------------------------------------------------------------------------

    def add(self, image: Image.Image, params: ImageParams, job_id: str | None = None,
            scores: CatalogueScores | None = None) -> StoredImage:
        """Store a generated image: the PNG (with embedded parameters) first, then its row (and its scores' rows,
        in the same transaction).

        If the row cannot be inserted the PNG is removed again and the error propagates, so the
        gallery never holds a file without a row because of a failed add.
        """
        record, stored = self._write_file(image, params, job_id, scores)
        try:
            with self._sessions.begin() as session:
                self._insert(session, record, scores)
        except BaseException:
            self._remove_files([stored])
            raise
        return stored

    def _write_file(self, image: Image.Image, params: ImageParams, job_id: str | None,
                    scores: CatalogueScores | None) -> tuple[ImageRecord, StoredImage]:
        """The PNG written, and the row to insert for it (by `add`, or by the job queue in the transaction that
        marks the job done: see `storage.jobs.JobStore.complete`)."""
        if job_id is not None and len(job_id) > MAX_JOB_ID_LENGTH:
            raise ValueError(f"job_id is limited to {MAX_JOB_ID_LENGTH} characters")
        image_id = uuid.uuid4().hex
        created_at = self._clock()
        created_at = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at.astimezone(UTC)
        # Date folders keep any one directory small enough to list and back up comfortably.
        file_name = f"{created_at:%Y/%m/%d}/{image_id}.png"
        path = save_png_with_parameters(image, params, self._image_dir / file_name)
        record = ImageRecord(
            id=image_id,
            created_at=created_at,
            prompt=params.prompt,
            negative_prompt=params.negative_prompt,
            model=params.model_name,
            loras=[lora.model_dump() for lora in params.loras],
            seed=params.seed,
            steps=params.num_inference_steps,
            guidance_scale=params.guidance_scale,
            sampler=params.sampler,
            width=params.width,
            height=params.height,
            strength=params.strength,
            job_id=job_id,
            file_name=file_name,
            params=params.to_dict(),
        )
        return record, StoredImage(image_id, created_at, params, job_id, file_name, path, scores)

    @staticmethod
    def _insert(session: Session, record: ImageRecord, scores: CatalogueScores | None) -> None:
        session.add(record)
        if scores is not None:
            session.flush()  # the image row first: the score rows refer to it
            _add_scores(session, record.id, scores)

    @staticmethod
    def _remove_files(images: Sequence[StoredImage]) -> None:
        for image in images:
            if image.path is not None:
                image.path.unlink(missing_ok=True)

    def set_scores(self, image_id: str, scores: CatalogueScores) -> bool:
        """Store (or replace) an image's scores; False when there is no such image."""
        with self._sessions.begin() as session:
            if session.get(ImageRecord, image_id) is None:
                return False
            session.execute(delete(ImagePresetRecord).where(ImagePresetRecord.image_id == image_id))
            session.execute(delete(ImageScoreRecord).where(ImageScoreRecord.image_id == image_id))
            _add_scores(session, image_id, scores)
        return True

    def delete(self, ids: Sequence[str]) -> int:
        """Remove these images (rows, then files); returns how many rows were removed. Unknown ids are ignored."""
        removed, file_names = self._delete_rows(ids)
        for file_name in file_names:
            path = self._safe_path(file_name)
            if path is not None:
                path.unlink(missing_ok=True)
        return removed

    def _delete_rows(self, ids: Sequence[str]) -> tuple[int, builtins.list[str]]:
        removed = 0
        file_names: builtins.list[str] = []
        for batch in _batches(ids):
            with self._sessions.begin() as session:
                file_names += session.scalars(select(ImageRecord.file_name).where(ImageRecord.id.in_(batch)))
                result = session.execute(
                    delete(ImageRecord).where(ImageRecord.id.in_(batch)),
                    execution_options={"synchronize_session": False},
                )
                removed += cast(CursorResult[Any], result).rowcount
        return removed, file_names

    # --- reading --------------------------------------------------------------------------------

    def get(self, image_id: str) -> StoredImage | None:
        with self._sessions() as session:
            row = session.execute(_images(ImageFilter(ids=[image_id]))).first()
            return None if row is None else self._to_stored(*row)

    def image_path(self, image_id: str) -> Path | None:
        """The PNG of an image, to serve or copy; None if there is no such image, its file is missing,
        or its stored file name points outside the image folder."""
        stored = self.get(image_id)
        if stored is None or stored.path is None or not stored.path.is_file():
            return None
        return stored.path

    def models(self) -> builtins.list[str]:
        """Every model that has images in the gallery, sorted (for filter menus)."""
        with self._sessions() as session:
            return list(session.scalars(select(ImageRecord.model).distinct().order_by(ImageRecord.model)))

    def list(self, where: ImageFilter | None = None, *, offset: int = 0, limit: int = DEFAULT_PAGE_SIZE,
             sort: SortOrder = "newest") -> Page:
        """One page of the images matching `where`, newest first or best score first; `limit` is capped at
        MAX_PAGE_SIZE."""
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        limit = min(limit, MAX_PAGE_SIZE)
        conditions = _conditions(where or ImageFilter())
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(ImageRecord).where(*conditions)) or 0
            page = _images(where, sort).offset(offset).limit(limit)
            items = [self._to_stored(*row) for row in session.execute(page)]
        return Page(items=items, total=total, offset=offset, limit=limit)

    def iter_images(self, where: ImageFilter | None = None) -> Iterator[StoredImage]:
        """Every image matching `where`, newest first, fetched in batches rather than all at once."""
        statement = _images(where).execution_options(yield_per=STREAM_BATCH)
        with self._sessions() as session:
            for row in session.execute(statement):
                yield self._to_stored(*row)

    # --- exports --------------------------------------------------------------------------------

    def export_metadata(self, where: ImageFilter | None = None) -> builtins.list[dict[str, Any]]:
        """`StoredImage.to_dict()` of every matching image, newest first: ready for `json.dumps`."""
        return [image.to_dict() for image in self.iter_images(where)]

    def export_zip(self, target: IO[bytes] | Path, where: ImageFilter | None = None) -> int:
        """Write a ZIP of the matching PNGs plus metadata.json to a file or binary stream; returns the image count.

        Images are streamed from disk into the archive one at a time, so exports of any size run in
        small memory; images whose file is missing are left out (and logged).
        """
        return write_zip(target, self.iter_images(where))

    # --- maintenance ----------------------------------------------------------------------------

    def reconcile(self, *, grace_seconds: float = RECONCILE_GRACE_SECONDS) -> ReconcileReport:
        """Repair what a crash can leave behind; run once when the service starts.

        Rows whose PNG is missing are deleted; gallery-named PNGs with no row and temporary files of
        interrupted writes are deleted once older than `grace_seconds` (younger ones may belong to an
        add still in progress on another replica). Other files in the image folder are never touched. A crash
        leaves a few of them; when they are more than half the gallery, nothing of the kind is deleted and the
        report says why (see `ReconcileReport.kept`).
        """
        missing_ids, known_paths = self._rows_without_files()
        orphans, partials = self._stray_files(known_paths, cutoff=time.time() - grace_seconds)
        kept = []
        if 2 * len(missing_ids) > len(missing_ids) + len(known_paths):
            kept.append(f"{len(missing_ids)} of the gallery's {len(missing_ids) + len(known_paths)} images have no "
                        f"file in {self._image_dir}: is it the gallery's image folder (a share not mounted?)")
            missing_ids = []
        if 2 * len(orphans) > len(orphans) + len(known_paths):
            kept.append(f"{len(orphans)} of the {len(orphans) + len(known_paths)} images in {self._image_dir} are "
                        "not in the gallery's database: is it the gallery's database?")
            orphans = []
        removed_rows, _ = self._delete_rows(missing_ids)
        removed_files = self._remove_files_found(orphans, partials)
        if removed_rows or removed_files:
            logger.info(
                "Gallery reconcile removed %d rows without files and %d stray files.", removed_rows, removed_files
            )
        for reason in kept:
            logger.warning("Gallery reconcile deleted nothing of the kind: %s", reason)
        return ReconcileReport(removed_rows=removed_rows, removed_files=removed_files, kept=tuple(kept))

    def _rows_without_files(self) -> tuple[builtins.list[str], set[Path]]:
        missing_ids: builtins.list[str] = []
        known_paths: set[Path] = set()
        statement = select(ImageRecord.id, ImageRecord.file_name).execution_options(yield_per=STREAM_BATCH)
        with self._sessions() as session:
            for image_id, file_name in session.execute(statement):
                path = self._safe_path(file_name)
                if path is not None and path.is_file():
                    known_paths.add(path)
                else:
                    missing_ids.append(image_id)
        return missing_ids, known_paths

    def _stray_files(self, known_paths: set[Path], *, cutoff: float) -> tuple[builtins.list[Path],
                                                                               builtins.list[Path]]:
        """The gallery-named PNGs with no row, and the temporary files of interrupted writes, older than
        `cutoff`."""
        orphans: builtins.list[Path] = []
        partials: builtins.list[Path] = []
        for folder, _, names in os.walk(self._image_dir):
            for name in names:
                path = Path(folder) / name
                is_partial = GALLERY_PARTIAL.fullmatch(name) is not None
                if not (is_partial or (GALLERY_PNG.fullmatch(name) is not None
                                       and path.resolve() not in known_paths)):
                    continue
                try:
                    if path.lstat().st_mtime <= cutoff:
                        (partials if is_partial else orphans).append(path)
                except FileNotFoundError:
                    continue  # removed meanwhile by another replica's reconcile
        return orphans, partials

    @staticmethod
    def _remove_files_found(orphans: builtins.list[Path], partials: builtins.list[Path]) -> int:
        removed = 0
        for path, why in [(path, "no row") for path in orphans] + [(path, "partial write") for path in partials]:
            try:
                path.unlink()
            except FileNotFoundError:
                continue  # removed meanwhile by another replica's reconcile
            logger.warning("Gallery reconcile removed %s (%s).", path, why)
            removed += 1
        return removed
