"""Generation jobs: a durable, bounded queue in the gallery's database, drained by one worker thread per engine.

Every request, synchronous or not, is a job: a row in the database (`storage.jobs.JobStore`), so that any replica
sharing the database answers for it, follows it and cancels it, and a restart or a killed worker loses none. A
worker claims the oldest queued job and the queued jobs that differ from it only in prompt and seed (up to
`max_batch`, run together in one pipeline call: under load, throughput rises without changing any single
request's result), holds them under a lease that a heartbeat renews, writes their progress as events, and stores
their images in the transaction that marks them done. A job whose worker died is taken over when its lease runs
out. Events (queued, started, progress, done, error, cancelled) are rows too; clients follow them by polling
(`POLL_SECONDS`): see `routes/jobs.py` for why polling rather than PostgreSQL's LISTEN/NOTIFY.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PIL import Image
from pydantic import TypeAdapter

from shoegen.engine.engine import Engine, GenerationCancelled, GenerationRequest
from shoegen.errors import ShoegenError
from shoegen.service.images import image_base64
from shoegen.service.scoring import catalogue_scores
from shoegen.service.schemas import JobEventPublic, ProgressEvent
from shoegen.storage import Gallery, JobState, JobStore, QueueFull, StoredImage
from shoegen.storage.jobs import FINISHED

log = logging.getLogger("shoegen.service")
POLL_SECONDS = 0.1
"""How often a waiting request or an event stream looks at the database for news of a job run elsewhere."""
WORKER_POLL_SECONDS = 0.5
"""How often an idle worker looks for jobs submitted to other replicas or left by dead workers (a job
submitted to its own replica wakes it at once)."""
HOUSEKEEPING_SECONDS = 3600.0
"""How often a worker deletes the jobs finished longer ago than the retention (and once when it starts)."""
EVENT = TypeAdapter(JobEventPublic)


class QueueFullError(Exception):
    def __init__(self, retry_after: int):
        super().__init__("the generation queue is full")
        self.retry_after = retry_after


@dataclass
class Job:
    """A job as the database said when it was read."""

    id: str
    status: str  # queued | running | done | error | cancelled; training jobs also stopped | interrupted
    step: int
    total_steps: int
    created_at: datetime
    image_ids: list[str]
    error: str | None = None
    generation_time: float | None = None
    warnings: list[str] = field(default_factory=list)
    events: int = 0
    """Number of the job's last event."""
    images: list[StoredImage] = field(default_factory=list)
    """Filled by `JobQueue.wait` once the job is done."""
    kind: str = "generation"


def _job(state: JobState) -> Job:
    return Job(id=state.id, status=state.status, step=state.step, total_steps=state.total_steps,
               created_at=state.created_at, image_ids=state.image_ids, error=state.error,
               generation_time=state.generation_time, warnings=state.warnings, events=state.events, kind=state.kind)


def request_params(request: GenerationRequest) -> dict[str, Any]:
    """The request as the job row keeps it: its parameters as JSON, the start image as base64 PNG."""
    params = request.model_dump(mode="json")
    for name in IMAGE_PARAMS:
        if getattr(request, name) is not None:
            params[name] = image_base64(getattr(request, name))
    if request.control_images:
        params["control_images"] = [None if image is None else image_base64(image) for image in request.control_images]
    return params


IMAGE_PARAMS = ("init_image", "mask_image")
"""The request's pictures, kept in the job row as base64 PNG."""


def request_from_params(params: dict[str, Any]) -> GenerationRequest:
    params = dict(params)
    images = {name: _decoded(params.pop(name, None)) for name in IMAGE_PARAMS}
    controls = tuple(_decoded(encoded) for encoded in params.pop("control_images", None) or ())
    return GenerationRequest(**params, **images, control_images=controls)


def _decoded(encoded: str | None) -> Image.Image | None:
    return None if encoded is None else Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")


def batch_key_text(key: tuple | None) -> str | None:
    """The engine's batch key as a column value: equal keys, equal texts (on every replica of one release)."""
    return None if key is None else hashlib.sha256(repr(key).encode()).hexdigest()


class JobQueue:
    def __init__(self, engine: Engine, gallery: Gallery, max_queued: int, max_batch: int = 4, *,
                 lease_seconds: float = 30.0, retention: timedelta = timedelta(days=7)):
        self.engine, self.gallery, self.store = engine, gallery, JobStore(gallery)
        self.max_queued, self.max_batch, self.lease_seconds = max_queued, max_batch, lease_seconds
        self.retention = retention
        self.worker_id = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()  # a job was submitted here: the worker looks at once
        self._finished = threading.Condition()  # the worker here ended a job: waiters here look at once
        self._stopping = threading.Event()
        self._held: list[str] = []  # the jobs this worker runs now
        self._stop_ids: set[str] = set()  # of those, the ones cancelled or taken over: stop running them
        self._threads: list[threading.Thread] = []
        self._seconds_per_job = 5.0  # running estimate for Retry-After

    # ----------------------------------------------------------------- client side (any replica)
    def submit(self, request: GenerationRequest) -> Job:
        self.engine.check(request)  # a request bound to fail is refused now, not after waiting in the queue
        try:
            state = self.store.submit(request_params(request), total_steps=request.num_inference_steps,
                                      batch_key=batch_key_text(self.engine.batch_key(request)),
                                      max_queued=self.max_queued)
        except QueueFull as full:
            raise QueueFullError(self.retry_after(full.queued)) from None
        self._wake.set()
        return _job(state)

    def retry_after(self, depth: int | None = None) -> int:
        depth = self.depth() if depth is None else depth
        return max(1, round(self._seconds_per_job * max(1, depth) / self.max_batch))

    def get(self, job_id: str) -> Job | None:
        state = self.store.get(job_id)
        return None if state is None else _job(state)

    def events(self, job_id: str, after: int = 0) -> list[tuple[int, JobEventPublic]]:
        """The job's events numbered above `after`, with their numbers."""
        return [(event.number, EVENT.validate_python({"event": event.type, **event.payload}))
                for event in self.store.events(job_id, after)]

    def list(self, status: str | None = None, limit: int = 50) -> list[Job]:
        """The newest jobs first, submitted to any replica."""
        return [_job(state) for state in self.store.list(status, limit)]

    def depth(self) -> int:
        return self.store.depth()

    def running(self) -> Job | None:
        state = self.store.running()
        return None if state is None else _job(state)

    def cancel(self, job_id: str) -> Job | None:
        state = self.store.cancel(job_id)
        if state is not None and state.status == "running" and job_id in self._held:
            self._stop_ids.add(job_id)  # running here: stop at the next step without waiting for the database
        return None if state is None else _job(state)

    def wait(self, job: Job, timeout: float | None = None) -> Job:
        """The job once it has finished (with its images when done), or as it stands after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.get(job.id) or job
            if current.status in FINISHED:
                if current.status == "done":
                    current.images = [image for image in map(self.gallery.get, current.image_ids) if image]
                return current
            remaining = POLL_SECONDS if deadline is None else min(POLL_SECONDS, deadline - time.monotonic())
            if remaining <= 0:
                return current
            with self._finished:
                self._finished.wait(remaining)

    # ----------------------------------------------------------------- worker side
    def start(self) -> None:
        for target, name in ((self._work, "shoegen-worker"), (self._heartbeat, "shoegen-heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the worker: a running batch is interrupted between two denoising steps and put back in the queue,
        where queued jobs stay: another replica, or this one restarted, runs them."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                batch = self.store.claim(self.worker_id, lease_seconds=self.lease_seconds, max_batch=self.max_batch)
            except Exception:  # the database is away: try again, as a fresh replica would
                log.exception("claiming a job failed")
                batch = []
            if not batch:
                self._wake.wait(WORKER_POLL_SECONDS)
                continue
            self._held, self._stop_ids = [state.id for state in batch], set()
            try:
                self._run(batch)
            except Exception:  # the lease runs out and another worker (or this one) takes the jobs over
                log.exception("jobs %s: the database failed while they ran", self._held)
            finally:
                self._held = []
                with self._finished:
                    self._finished.notify_all()

    def _heartbeat(self) -> None:
        next_housekeeping = time.monotonic()
        while not self._stopping.wait(self.lease_seconds / 3):
            if time.monotonic() >= next_housekeeping:
                next_housekeeping = time.monotonic() + HOUSEKEEPING_SECONDS
                self.housekeeping()
            held = list(self._held)
            try:
                lost = set(held) - self.store.heartbeat(self.worker_id, held, lease_seconds=self.lease_seconds)
            except Exception:
                log.exception("renewing the leases of jobs %s failed", held)
                continue
            if lost and held == self._held:
                log.warning("jobs %s were taken over or ended elsewhere; stopping them here", sorted(lost))
                self._stop_ids |= lost

    def housekeeping(self) -> int:
        """Delete the jobs finished longer ago than the retention, with their events; returns how many."""
        purged = 0
        try:
            while removed := self.store.purge(self.retention):  # in chunks: no long write lock
                purged += removed
        except Exception:  # the database is away: the next round does it
            log.exception("deleting old jobs failed")
        if purged:
            log.info("deleted %d jobs finished more than %s ago", purged, self.retention)
        return purged

    def _should_stop(self, ids: list[str]) -> bool:
        return self._stopping.is_set() or all(job_id in self._stop_ids for job_id in ids)

    def _run(self, batch: list[JobState]) -> None:
        ids = [state.id for state in batch]
        try:
            requests = [request_from_params(state.params) for state in batch]
            results = self.engine.generate_many(requests, on_progress=self._progress_reporter(ids),
                                                should_cancel=lambda: self._should_stop(ids))
        except GenerationCancelled:
            cancelled = [job_id for job_id in ids if job_id in self._stop_ids]
            self.store.finish(self.worker_id, cancelled, "cancelled")
            if self._stopping.is_set():
                self.store.release(self.worker_id, [job_id for job_id in ids if job_id not in cancelled])
            return
        except Exception as error:  # the worker must survive anything one request does
            message = str(error) if isinstance(error, ShoegenError) else f"generation failed: {type(error).__name__}"
            if not isinstance(error, ShoegenError):
                log.exception("jobs %s failed", ids)
            self.store.finish(self.worker_id, ids, "error", error=message)
            return
        self._seconds_per_job = 0.8 * self._seconds_per_job + 0.2 * results[0].seconds / len(batch)
        for job_id, result in zip(ids, results):
            stored = None
            if job_id not in self._stop_ids:
                images = [(image.image, image.params, catalogue_scores(image.image, image.params.prompt))
                          for image in result.images]
                try:
                    stored = self.store.complete(self.worker_id, job_id, images, generation_time=result.seconds,
                                                 warnings=result.warnings)
                except OSError as error:  # a full or read-only image folder: no retry on another worker helps
                    log.error("job %s: its images could not be written: %s", job_id, error)
                    self.store.finish(self.worker_id, [job_id], "error",
                                      error=f"the images could not be stored: {error.strerror or error}")
                    continue
            if stored is None:  # cancelled while batched with others that went on (or taken over: then a no-op)
                self.store.finish(self.worker_id, [job_id], "cancelled")

    def _progress_reporter(self, ids: list[str]) -> Callable:
        def report(step: int, total: int, preview) -> None:
            # Encoded once here, not once per client following the job.
            event = ProgressEvent(step=step, total=total, preview=None if preview is None else image_base64(preview))
            try:
                held, cancelled = self.store.progress(
                    self.worker_id, ids, step=step, total=total, lease_seconds=self.lease_seconds,
                    payload=event.model_dump(mode="json", exclude={"event"}, exclude_none=True))
            except Exception:  # a lost progress event is no reason to lose the images
                log.exception("recording the progress of jobs %s failed", ids)
                return
            self._stop_ids |= (set(ids) - held) | cancelled

        return report
