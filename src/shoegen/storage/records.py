"""The gallery's database tables, and the job queue's. Only `Gallery` and `JobStore` touch these ORM objects; callers
get `StoredImage`s and `JobState`s.

Alembic revisions in `migrations/versions/` create and change the tables; a change here needs its revision
(tests/storage/test_migrations.py compares the migrated database with these models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from shoegen.config.generation import MAX_MODEL_NAME_LENGTH, MAX_SAMPLER_LENGTH

MAX_JOB_ID_LENGTH = 64
MAX_PRESET_NAME_LENGTH = 64


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC and hands back aware UTC datetimes, the same on SQLite (which has no time zones)
    and PostgreSQL; naive datetimes passed in (e.g. as filters) are taken to be UTC already."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class GalleryBase(DeclarativeBase):
    """Metadata of the gallery's tables, kept apart from any other schema sharing the database."""


class ImageRecord(GalleryBase):
    """One generated image: `params` holds its `ImageParams`, which is what is read back. The other columns
    are copies written from it in one place (`Gallery.add`): prompt, model and the dates are what listings
    filter and sort on; the rest stay filled because databases created by earlier versions require them
    (until a revision drops them)."""

    __tablename__ = "images"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """uuid4 hex; also the PNG's file stem."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    model: Mapped[str] = mapped_column(String(MAX_MODEL_NAME_LENGTH), index=True)
    loras: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    seed: Mapped[int] = mapped_column(BigInteger)
    steps: Mapped[int] = mapped_column(Integer)
    guidance_scale: Mapped[float] = mapped_column(Float)
    sampler: Mapped[str] = mapped_column(String(MAX_SAMPLER_LENGTH))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    strength: Mapped[float | None] = mapped_column(Float, nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(MAX_JOB_ID_LENGTH), nullable=True, index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    """POSIX path of the PNG relative to the gallery's image folder, e.g. "2026/11/25/<id>.png"."""
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    """`ImageParams.to_dict()`: the image's parameters, read back by `Gallery`."""


class ImageScoreRecord(GalleryBase):
    """An image's catalogue scores (`CatalogueScores`), in a table of its own: it came in a release without
    migrations, whose `create_all` could add new tables but never new columns, so the scores live beside
    `images`, one row per scored image. `scores` is what is read back; the other
    columns are copies for filtering and sorting. Deleting an image deletes its row (ON DELETE CASCADE)."""

    __tablename__ = "image_scores"

    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[float] = mapped_column(Float, index=True)
    """The composite, 0 to 1: what "best score" sorts by."""
    background: Mapped[float] = mapped_column(Float)
    fill: Mapped[float] = mapped_column(Float)
    offset: Mapped[float] = mapped_column(Float)
    cut_off: Mapped[bool] = mapped_column(Boolean)
    colour_distance: Mapped[float | None] = mapped_column(Float, nullable=True)
    sharpness: Mapped[float] = mapped_column(Float)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    """`CatalogueScores.model_dump()`, with each preset's failed rules."""


class ImagePresetRecord(GalleryBase):
    """Whether a scored image passes one marketplace preset. A row per (image, preset) rather than a column per
    preset: a preset added later then needs no new column (nor revision);
    images scored before a preset existed simply have no row for it, and count as not passing."""

    __tablename__ = "image_presets"

    image_id: Mapped[str] = mapped_column(ForeignKey("image_scores.image_id", ondelete="CASCADE"), primary_key=True)
    preset: Mapped[str] = mapped_column(String(MAX_PRESET_NAME_LENGTH), primary_key=True)
    passes: Mapped[bool] = mapped_column(Boolean)


MAX_WORKER_ID_LENGTH = 128
MAX_EVENT_TYPE_LENGTH = 16


class JobRecord(GalleryBase):
    """A job of the durable queue (`storage.jobs.JobStore` is its one writer): what was asked (`params`), where it
    stands, what it made, and which worker holds it until when. Replicas sharing the database share the queue:
    a worker claims a queued job (or one whose lease ran out: its worker died) and renews the lease while it
    runs; every change that publishes an event bumps `events`, the number of the job's last event."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """uuid4 hex."""
    kind: Mapped[str] = mapped_column(String(32))
    """generation (training jobs later)."""
    status: Mapped[str] = mapped_column(String(16))
    """queued | running | done | error | cancelled."""
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The request as JSON; img2img's start image as base64 PNG under "init_image"."""
    batch_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Queued jobs with the same key can run in one pipeline call; None: the job runs alone."""
    step: Mapped[int] = mapped_column(Integer)
    total_steps: Mapped[int] = mapped_column(Integer)
    image_ids: Mapped[list[str]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    warnings: Mapped[list[str]] = mapped_column(JSON)
    generation_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    """Set by a cancel from any replica; the worker running the job sees it at its next denoising step."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(MAX_WORKER_ID_LENGTH), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer)
    """How many times a worker claimed the job (more than one: taken over after a worker died)."""
    events: Mapped[int] = mapped_column(Integer)
    """Number of the job's last event (0: none yet)."""


class JobEventRecord(GalleryBase):
    """One event of a job (queued, started, progress, done, error, cancelled), numbered from 1 per job: the
    number is its SSE id, so a client resuming with Last-Event-ID on any replica gets what follows."""

    __tablename__ = "job_events"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(MAX_EVENT_TYPE_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServiceOptionRecord(GalleryBase):
    """A setting the service changes at run time (AUTOMATIC1111's `sd_model_checkpoint`), kept in the database so
    that every replica uses the value set through any of them."""

    __tablename__ = "service_options"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
