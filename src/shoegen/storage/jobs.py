"""The durable job queue: jobs and their events as rows in the gallery's database, shared by every replica.

A thin layer over SQLAlchemy using the database's own locking, rather than a queue library: the kept Python
queues (Celery, RQ, Dramatiq, arq, procrastinate, ...) need a broker beside the database (Redis, RabbitMQ) or
serve PostgreSQL only, and the queue must also run embedded on SQLite, with the job's images committed in the
transaction that marks it done (one database, one transaction: no image twice, none lost).

- Claiming: a worker takes the oldest queued job (or a running one whose lease ran out: its worker died) plus the
  queued jobs that can share its pipeline call, in one write transaction. PostgreSQL: `SELECT ... FOR UPDATE SKIP
  LOCKED`, so workers on several replicas never wait on, nor take, one another's rows. SQLite: the transaction
  starts with `BEGIN IMMEDIATE`, SQLite's one write lock, which serialises writers (one machine).
- Leases: a claimed job is held until `lease_expires_at`; the worker renews it (heartbeat, and with each step's
  progress). Every write a worker makes about a job is fenced on `worker_id` and status: a worker whose lease
  was taken over writes nothing more, so the job ends once, by one worker.
- Events: each change that publishes one bumps the job's `events` counter and inserts the event under that
  number, in the same transaction: numbers are gapless per job, which is what SSE's Last-Event-ID resumes from.
- The bound: `submit` counts queued jobs and inserts in one transaction under a lock (PostgreSQL: a transaction
  advisory lock; SQLite: BEGIN IMMEDIATE), so the bound holds across replicas.
- Kinds: generation, training and evaluation jobs share the table; a worker claims one kind at a time. A
  training or evaluation job whose worker died is not taken over (its process may still be writing its run's
  folder) but ended `interrupted` (by the next claim, or by any replica reading the runs): a run resumes from its
  last checkpoint, or is evaluated again, when a user asks (`requeue`), never on its own.
- Retention: a job's progress events (one per denoising step) are dropped in the transaction that ends it; its
  queued, started and final events stay, so a replay of a finished job still ends with its final event. Finished
  jobs older than the retention go with their events (`purge`, the workers' housekeeping).
Times are the replicas' clocks (UTC): keep them in sync (NTP), far within the lease.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PIL import Image
from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from shoegen.config.generation import ImageParams
from shoegen.config.scores import CatalogueScores
from shoegen.storage.records import MAX_WORKER_ID_LENGTH, JobEventRecord, JobRecord
from shoegen.storage.stored import StoredImage

if TYPE_CHECKING:
    from shoegen.storage.gallery import Gallery

FINISHED = ("done", "error", "cancelled", "stopped", "interrupted")
NOT_TAKEN_OVER = ("training", "evaluation")
"""The kinds whose job runs a process of its own on a run's folder: one whose worker died ends `interrupted`."""
"""Ended states. Training jobs also end `stopped` (on request, after a checkpoint) or `interrupted` (their worker
died: a training job is never taken over and silently restarted); `requeue` resumes them."""
RESUMABLE = ("stopped", "interrupted", "error", "cancelled")
QUEUE_LOCK_KEY = int.from_bytes(b"sgqueue", "big")
"""The PostgreSQL advisory lock key under which `submit` counts the queue and inserts."""
MAX_ATTEMPTS = 3
"""A job whose worker died this many times is failed rather than handed to yet another worker."""
JOB_ID = 32


@dataclass(frozen=True)
class JobState:
    """A job as its row says at one moment."""

    id: str
    kind: str
    status: str
    params: dict[str, Any]
    step: int
    total_steps: int
    image_ids: list[str]
    error: str | None
    warnings: list[str]
    generation_time: float | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker_id: str | None
    lease_expires_at: datetime | None
    attempts: int
    events: int
    """Number of the job's last event."""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass(frozen=True)
class JobEvent:
    number: int
    type: str
    payload: dict[str, Any]


class QueueFull(Exception):
    def __init__(self, queued: int):
        super().__init__(f"the queue holds {queued} jobs, its bound")
        self.queued = queued


def _state(record: JobRecord) -> JobState:
    return JobState(
        id=record.id, kind=record.kind, status=record.status, params=record.params, step=record.step,
        total_steps=record.total_steps, image_ids=list(record.image_ids), error=record.error,
        warnings=list(record.warnings), generation_time=record.generation_time,
        cancel_requested=record.cancel_requested, created_at=record.created_at, started_at=record.started_at,
        finished_at=record.finished_at, worker_id=record.worker_id, lease_expires_at=record.lease_expires_at,
        attempts=record.attempts, events=record.events)


def _position(session: Session, job: JobState | JobRecord) -> int:
    """A queued job's place among the queued jobs of its kind, in the order claims take them."""
    return session.scalar(select(func.count()).select_from(JobRecord).where(
        JobRecord.status == "queued", JobRecord.kind == job.kind,
        or_(JobRecord.created_at < job.created_at,
            and_(JobRecord.created_at == job.created_at, JobRecord.id <= job.id)))) or 1


def _now() -> datetime:
    return datetime.now(UTC)


def _is_job_id(job_id: str) -> bool:
    # Ids are uuid4 hex: anything else (a fuzzer's NUL bytes, a megabyte) is unknown without asking the database.
    return len(job_id) == JOB_ID and all(c in "0123456789abcdef" for c in job_id)


class JobStore:
    """The queue's rows, in the database of `gallery` (whose images a finished job adds). Thread-safe."""

    def __init__(self, gallery: Gallery) -> None:
        self._gallery = gallery
        self._sessions = gallery._sessions
        self._dialect = gallery._engine.dialect.name

    # --- transactions ----------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction: on SQLite it takes the write lock first (BEGIN IMMEDIATE), so what it reads
        stays true until it commits; on PostgreSQL row locks (FOR UPDATE) and the queue lock do that."""
        with self._sessions.begin() as session:
            if self._dialect == "sqlite":
                session.execute(text("BEGIN IMMEDIATE"))
            yield session

    def _lock_rows(self, statement):
        return statement.with_for_update(skip_locked=True) if self._dialect == "postgresql" else statement

    @staticmethod
    def _publish(session: Session, record: JobRecord, event_type: str, payload: dict[str, Any]) -> None:
        record.events += 1
        session.add(JobEventRecord(job_id=record.id, number=record.events, type=event_type, payload=payload,
                                   created_at=_now()))

    def _room_in_queue(self, session: Session, kind: str, max_queued: int) -> int:
        """How many jobs of `kind` are queued, counted under the queue's lock until the transaction ends (so two
        replicas adding at once cannot pass the bound together); QueueFull when they are `max_queued`."""
        if self._dialect == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(QUEUE_LOCK_KEY)))
        queued = self._depth(session, kind)
        if queued >= max_queued:
            raise QueueFull(queued)
        return queued

    # --- client side -----------------------------------------------------------------------------

    def submit(self, params: dict[str, Any], *, total_steps: int, batch_key: str | None, max_queued: int,
               kind: str = "generation") -> JobState:
        """Queue a job, or raise QueueFull when `max_queued` jobs already wait (on every replica together)."""
        with self._write() as session:
            queued = self._room_in_queue(session, kind, max_queued)
            record = JobRecord(
                id=uuid.uuid4().hex, kind=kind, status="queued", params=params, batch_key=batch_key, step=0,
                total_steps=total_steps, image_ids=[], error=None, warnings=[], generation_time=None,
                cancel_requested=False, created_at=_now(), worker_id=None, lease_expires_at=None, attempts=0,
                events=0)
            session.add(record)
            session.flush()  # the job's row before its events', which refer to it
            self._publish(session, record, "queued", {"position": queued + 1})
            return _state(record)

    def get(self, job_id: str) -> JobState | None:
        if not _is_job_id(job_id):
            return None
        with self._sessions() as session:
            record = session.get(JobRecord, job_id)
            return None if record is None else _state(record)

    def events(self, job_id: str, after: int = 0) -> list[JobEvent]:
        """The job's events numbered above `after`, in order."""
        with self._sessions() as session:
            rows = session.execute(select(JobEventRecord.number, JobEventRecord.type, JobEventRecord.payload)
                                   .where(JobEventRecord.job_id == job_id, JobEventRecord.number > after)
                                   .order_by(JobEventRecord.number))
            return [JobEvent(*row) for row in rows]

    def list(self, status: str | None = None, limit: int = 50, kind: str | None = None) -> list[JobState]:
        """The newest jobs first (with `status` or `kind`, only those)."""
        statement = select(JobRecord).order_by(JobRecord.created_at.desc(), JobRecord.id.desc()).limit(limit)
        if status is not None:
            statement = statement.where(JobRecord.status == status)
        if kind is not None:
            statement = statement.where(JobRecord.kind == kind)
        with self._sessions() as session:
            return [_state(record) for record in session.scalars(statement)]

    def depth(self, kind: str = "generation") -> int:
        """Queued jobs of `kind`, on every replica."""
        with self._sessions() as session:
            return self._depth(session, kind)

    @staticmethod
    def _depth(session: Session, kind: str = "generation") -> int:
        return session.scalar(select(func.count()).select_from(JobRecord)
                              .where(JobRecord.status == "queued", JobRecord.kind == kind)) or 0

    def running(self, kind: str = "generation") -> JobState | None:
        """The oldest running job of `kind`, on any replica."""
        with self._sessions() as session:
            record = session.scalars(select(JobRecord).where(JobRecord.status == "running", JobRecord.kind == kind)
                                     .order_by(JobRecord.created_at, JobRecord.id).limit(1)).first()
            return None if record is None else _state(record)

    def position(self, job: JobState) -> int:
        """A queued job's place among the queued jobs of its kind (1: the next one to run)."""
        with self._sessions() as session:
            return _position(session, job)

    def interrupt_expired(self, kind: str = "training") -> int:
        """End the running jobs of `kind` whose lease ran out (their worker died) as `interrupted`; any replica
        may call it, as often as it likes (a read, unless there is one to end). Returns how many it ended."""
        expired_now = select(JobRecord).where(JobRecord.kind == kind, JobRecord.status == "running",
                                              JobRecord.lease_expires_at < _now())
        with self._sessions() as session:
            if session.scalars(expired_now.limit(1)).first() is None:
                return 0
        with self._write() as session:
            expired = list(session.scalars(self._lock_rows(expired_now)))
            for record in expired:
                self._interrupt(session, record)
            return len(expired)

    def _interrupt(self, session: Session, record: JobRecord) -> None:
        record.error = "its worker stopped (a restart or a crash) before it finished"
        self._end(session, record, "interrupted", "interrupted", {"error": record.error})

    def requeue(self, job_id: str, max_queued: int) -> JobState | None:
        """Queue an ended training job again (stopped, interrupted, failed or cancelled): its run resumes from its
        latest checkpoint. Returns the job as it stands (unchanged when it was not resumable); None if unknown."""
        if not _is_job_id(job_id):
            return None
        with self._write() as session:
            record = session.get(JobRecord, job_id, with_for_update=self._dialect == "postgresql")
            if record is None or record.status not in RESUMABLE:
                return None if record is None else _state(record)
            queued = self._room_in_queue(session, record.kind, max_queued)
            record.status, record.cancel_requested, record.error, record.worker_id = "queued", False, None, None
            record.created_at, record.started_at, record.finished_at, record.attempts = _now(), None, None, 0
            self._publish(session, record, "queued", {"position": queued + 1})
            return _state(record)

    def cancel(self, job_id: str) -> JobState | None:
        """Cancel a job from any replica: a queued one (or one whose worker died) at once; a running one is
        flagged, and its worker stops at its next denoising step. Finished jobs stay as they are."""
        if not _is_job_id(job_id):
            return None
        with self._write() as session:
            record = session.get(JobRecord, job_id, with_for_update=self._dialect == "postgresql")
            if record is None or record.status in FINISHED:
                return None if record is None else _state(record)
            if record.status == "queued" or (record.lease_expires_at is not None
                                             and record.lease_expires_at < _now()):
                self._end(session, record, "cancelled", "cancelled", {})
            else:
                record.cancel_requested = True
            return _state(record)

    def _end(self, session: Session, record: JobRecord, status: str, event_type: str,
             payload: dict[str, Any]) -> None:
        record.status, record.finished_at, record.lease_expires_at = status, _now(), None
        self._publish(session, record, event_type, payload)
        # Nobody follows a finished job's steps: only its queued, started and final events are kept.
        session.execute(delete(JobEventRecord).where(JobEventRecord.job_id == record.id,
                                                     JobEventRecord.type == "progress"))

    def purge(self, older_than: timedelta, limit: int = 1000) -> int:
        """Delete up to `limit` jobs finished more than `older_than` ago, with their events; returns how many.
        Any replica may run it at any time (a job deleted twice is deleted once)."""
        cutoff = _now() - older_than
        with self._write() as session:
            ids = list(session.scalars(self._lock_rows(
                select(JobRecord.id).where(JobRecord.status.in_(FINISHED), JobRecord.finished_at < cutoff)
                .order_by(JobRecord.finished_at).limit(limit))))
            if ids:
                # The events first: SQLite enforces no ON DELETE CASCADE unless asked per connection.
                session.execute(delete(JobEventRecord).where(JobEventRecord.job_id.in_(ids)))
                session.execute(delete(JobRecord).where(JobRecord.id.in_(ids)))
            return len(ids)

    # --- worker side -----------------------------------------------------------------------------

    def claim(self, worker_id: str, *, lease_seconds: float, max_batch: int = 1,
              kind: str = "generation") -> list[JobState]:
        """Hold the oldest claimable job of `kind` and up to `max_batch - 1` queued ones with its batch key, for
        `lease_seconds`; [] when there is none. A generation job whose worker died is taken over (or, flagged for
        cancelling or after MAX_ATTEMPTS workers died on it, ended); a training or evaluation job whose worker died
        is ended `interrupted` (NOT_TAKEN_OVER)."""
        if len(worker_id) > MAX_WORKER_ID_LENGTH:
            raise ValueError(f"worker ids are limited to {MAX_WORKER_ID_LENGTH} characters")
        now = _now()
        claimable = or_(JobRecord.status == "queued",
                        and_(JobRecord.status == "running", JobRecord.lease_expires_at < now))
        oldest = (select(JobRecord).where(claimable, JobRecord.kind == kind)
                  .order_by(JobRecord.created_at, JobRecord.id).limit(1))
        with self._write() as session:
            first = None
            for _ in range(10):  # a few dead jobs ended per claim; the rest on the next ones
                first = session.scalars(self._lock_rows(oldest)).first()
                if first is None or first.status == "queued":
                    break
                if kind in NOT_TAKEN_OVER:
                    self._interrupt(session, first)
                elif first.cancel_requested:
                    self._end(session, first, "cancelled", "cancelled", {})
                elif first.attempts >= MAX_ATTEMPTS:
                    first.error = f"the job's worker stopped {first.attempts} times before finishing it"
                    self._end(session, first, "error", "error", {"error": first.error})
                else:
                    break
                session.flush()
                first = None
            if first is None:
                return []
            batch = [first]
            if first.batch_key is not None and max_batch > 1:
                batch += session.scalars(self._lock_rows(
                    select(JobRecord).where(JobRecord.status == "queued", JobRecord.batch_key == first.batch_key,
                                            JobRecord.id != first.id)
                    .order_by(JobRecord.created_at, JobRecord.id).limit(max_batch - 1)))
            lease = now + timedelta(seconds=lease_seconds)
            for record in batch:
                record.status, record.worker_id, record.lease_expires_at = "running", worker_id, lease
                record.started_at, record.step, record.attempts = now, 0, record.attempts + 1
                self._publish(session, record, "started", {"batch_size": len(batch)})
            return [_state(record) for record in batch]

    def _held(self, session: Session, worker_id: str, job_ids: Sequence[str]) -> list[JobRecord]:
        """The jobs among `job_ids` that this worker still holds, locked for the transaction."""
        statement = select(JobRecord).where(JobRecord.id.in_(list(job_ids)), JobRecord.worker_id == worker_id,
                                            JobRecord.status == "running").order_by(JobRecord.id)
        if self._dialect == "postgresql":
            statement = statement.with_for_update()
        return list(session.scalars(statement))

    def heartbeat(self, worker_id: str, job_ids: Sequence[str], *, lease_seconds: float) -> set[str]:
        """Renew the leases of these jobs; returns those still held (a job missing was taken over or ended)."""
        if not job_ids:
            return set()
        with self._sessions.begin() as session:
            held = session.scalars(
                update(JobRecord)
                .where(JobRecord.id.in_(list(job_ids)), JobRecord.worker_id == worker_id,
                       JobRecord.status == "running")
                .values(lease_expires_at=_now() + timedelta(seconds=lease_seconds))
                .returning(JobRecord.id))
            return set(held)

    def progress(self, worker_id: str, job_ids: Sequence[str], *, step: int, total: int,
                 payload: dict[str, Any], lease_seconds: float) -> tuple[set[str], set[str]]:
        """Record a step of the jobs running together (a progress event each, leases renewed). Returns the jobs
        still held, and those of them that a cancel flagged."""
        with self._write() as session:
            held = self._held(session, worker_id, job_ids)
            lease = _now() + timedelta(seconds=lease_seconds)
            for record in held:
                record.step, record.total_steps, record.lease_expires_at = step, total, lease
                self._publish(session, record, "progress", payload)
            return {r.id for r in held}, {r.id for r in held if r.cancel_requested}

    def finish(self, worker_id: str, job_ids: Sequence[str], status: str, *, error: str | None = None) -> set[str]:
        """End these held jobs as error, cancelled or (training) stopped or interrupted; returns those it ended."""
        assert status in ("error", "cancelled", "stopped", "interrupted")
        with self._write() as session:
            held = self._held(session, worker_id, job_ids)
            for record in held:
                record.error = error
                self._end(session, record, status, status, {"error": error} if error is not None else {})
            return {r.id for r in held}

    def complete(self, worker_id: str, job_id: str,
                 images: Sequence[tuple[Image.Image, ImageParams, CatalogueScores | None]], *,
                 generation_time: float, warnings: Sequence[str] = (),
                 despite_cancel: bool = False) -> list[StoredImage] | None:
        """Store the job's images in the gallery and mark it done, in one transaction: either the job is done
        with all its images, or (the lease was lost, a cancel came, the database failed) it is not done and
        none of them was added. None when it was not done; a cancel flag is left for `finish`, unless
        `despite_cancel` (a training run whose last step came before the cancel did is done)."""
        gallery = self._gallery
        stored: list[StoredImage] = []
        done = False
        try:
            with self._write() as session:
                held = self._held(session, worker_id, [job_id])
                if not held or (held[0].cancel_requested and not despite_cancel):
                    return None
                for image, params, scores in images:
                    record, written = gallery._write_file(image, params, job_id, scores)
                    stored.append(written)
                    gallery._insert(session, record, scores)
                job = held[0]
                job.image_ids, job.generation_time, job.warnings = [s.id for s in stored], generation_time, \
                    list(warnings)
                payload: dict[str, Any] = {"image_ids": job.image_ids}
                if warnings:
                    payload["warnings"] = list(warnings)
                self._end(session, job, "done", "done", payload)
                done = True
        finally:
            if not done:
                gallery._remove_files(stored)
        return stored

    def release(self, worker_id: str, job_ids: Sequence[str]) -> set[str]:
        """Put held jobs back in the queue (a clean stop): another worker, or this one after a restart, runs
        them from the start. A job a cancel flagged is ended cancelled instead. A stop is no failed attempt: the
        attempt its claim counted is given back."""
        with self._write() as session:
            held = self._held(session, worker_id, job_ids)
            for record in held:
                if record.cancel_requested:
                    self._end(session, record, "cancelled", "cancelled", {})
                    continue
                record.status, record.worker_id, record.lease_expires_at, record.step = "queued", None, None, 0
                record.attempts = max(record.attempts - 1, 0)
                session.flush()  # so the count includes this job
                self._publish(session, record, "queued", {"position": _position(session, record)})
            return {r.id for r in held}
