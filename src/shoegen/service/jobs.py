"""Generation jobs: a bounded queue drained by one worker thread per engine (one device).

Every request, synchronous or not, is a job: the worker runs it on the engine, stores its images in the
gallery and publishes events (queued, started, progress, done, error, cancelled) that SSE clients follow.
Queued jobs that differ only in prompt and seed are run together in one pipeline call (up to
`max_batch` jobs): under load, throughput rises without changing any single request's result.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from shoegen.engine.engine import Engine, GenerationCancelled, GenerationRequest
from shoegen.errors import ShoegenError
from shoegen.service.images import image_base64
from shoegen.service.scoring import catalogue_scores
from shoegen.service.schemas import (CancelledEvent, DoneEvent, ErrorEvent, JobEventPublic, ProgressEvent,
                                     QueuedEvent, StartedEvent)
from shoegen.storage import Gallery, StoredImage

log = logging.getLogger("shoegen.service")
FINISHED = ("done", "error", "cancelled")
KEEP_FINISHED_JOBS = 1000


class QueueFullError(Exception):
    def __init__(self, retry_after: int):
        super().__init__("the generation queue is full")
        self.retry_after = retry_after


@dataclass
class Job:
    id: str
    request: GenerationRequest
    status: str = "queued"  # queued | running | done | error | cancelled
    step: int = 0
    total_steps: int = 0
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    images: list[StoredImage] = field(default_factory=list)
    error: str | None = None
    generation_time: float | None = None
    warnings: list[str] = field(default_factory=list)
    events: list[JobEventPublic] = field(default_factory=list)
    cancel_requested: bool = False


class JobQueue:
    def __init__(self, engine: Engine, gallery: Gallery, max_queued: int, max_batch: int = 4):
        self.engine, self.gallery = engine, gallery
        self.max_queued, self.max_batch = max_queued, max_batch
        self._pending: deque[Job] = deque()
        self._jobs: dict[str, Job] = {}
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._seconds_per_job = 5.0  # running estimate for Retry-After

    # ----------------------------------------------------------------- client side
    def submit(self, request: GenerationRequest) -> Job:
        self.engine.check(request)  # a request bound to fail is refused now, not after waiting in the queue
        job = Job(uuid.uuid4().hex, request, total_steps=request.num_inference_steps)
        with self._changed:
            if len(self._pending) >= self.max_queued:
                raise QueueFullError(self.retry_after())
            self._jobs[job.id] = job
            self._pending.append(job)
            self._publish(job, QueuedEvent(position=len(self._pending)))
        return job

    def retry_after(self) -> int:
        return max(1, round(self._seconds_per_job * max(1, len(self._pending)) / self.max_batch))

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def depth(self) -> int:
        return len(self._pending)

    def running(self) -> Job | None:
        return next((j for j in list(self._jobs.values()) if j.status == "running"), None)

    def cancel(self, job_id: str) -> Job | None:
        with self._changed:
            job = self._jobs.get(job_id)
            if job is None or job.status in FINISHED:
                return job
            job.cancel_requested = True
            if job.status == "queued":
                self._pending.remove(job)
                self._finish(job, "cancelled")
        return job

    def wait(self, job: Job, timeout: float | None = None) -> Job:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while job.status not in FINISHED:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._changed.wait(remaining)
        return job

    # ----------------------------------------------------------------- worker side
    def start(self) -> None:
        self._worker = threading.Thread(target=self._work, name="shoegen-worker", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Cancel what is queued or running (between two denoising steps) and let the worker exit."""
        with self._changed:
            self._stopping = True
            for job in list(self._pending):
                self._pending.remove(job)
                self._finish(job, "cancelled")
            for job in self._jobs.values():
                job.cancel_requested = True
            self._changed.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=60)

    def _next_batch(self) -> list[Job] | None:
        """The oldest queued job and the queued jobs that can share its pipeline call; None when stopping."""
        with self._changed:
            while not self._pending and not self._stopping:
                self._changed.wait()
            if self._stopping:
                return None
            first = self._pending.popleft()
            batch = [first]
            key = self.engine.batch_key(first.request)
            if key is not None:
                for job in list(self._pending):
                    if len(batch) >= self.max_batch:
                        break
                    if self.engine.batch_key(job.request) == key:
                        self._pending.remove(job)
                        batch.append(job)
            for job in batch:
                job.status, job.started_at = "running", time.time()
                self._publish(job, StartedEvent(batch_size=len(batch)))
            return batch

    def _work(self) -> None:
        while (batch := self._next_batch()) is not None:
            self._run(batch)

    def _run(self, batch: list[Job]) -> None:
        try:
            results = self.engine.generate_many(
                [job.request for job in batch], on_progress=self._progress_reporter(batch),
                should_cancel=lambda: all(job.cancel_requested for job in batch))
        except GenerationCancelled:
            with self._changed:
                for job in batch:
                    self._finish(job, "cancelled")
            return
        except Exception as error:  # the worker must survive anything one request does
            message = str(error) if isinstance(error, ShoegenError) else f"generation failed: {type(error).__name__}"
            if not isinstance(error, ShoegenError):
                log.exception("jobs %s failed", [job.id for job in batch])
            with self._changed:
                for job in batch:
                    job.error = message
                    self._finish(job, "error")
            return
        self._seconds_per_job = 0.8 * self._seconds_per_job + 0.2 * results[0].seconds / len(batch)
        for job, result in zip(batch, results):
            if job.cancel_requested:  # cancelled while batched with others that went on
                with self._changed:
                    self._finish(job, "cancelled")
                continue
            stored = [self.gallery.add(image.image, image.params, job_id=job.id,
                                       scores=catalogue_scores(image.image, image.params.prompt))
                      for image in result.images]
            with self._changed:
                job.images, job.generation_time, job.warnings = stored, result.seconds, result.warnings
                self._finish(job, "done")

    def _progress_reporter(self, batch: list[Job]) -> Callable:
        def report(step: int, total: int, preview) -> None:
            # Encoded once here, not once per client following the job.
            event = ProgressEvent(step=step, total=total, preview=None if preview is None else image_base64(preview))
            with self._changed:
                for job in batch:
                    job.step, job.total_steps = step, total
                    self._publish(job, event)

        return report

    def _finish(self, job: Job, status: str) -> None:
        job.status, job.finished_at = status, time.time()
        if status == "done":
            event = DoneEvent(image_ids=[image.id for image in job.images], warnings=job.warnings or None)
        elif status == "error":
            event = ErrorEvent(error=job.error or "generation failed")
        else:
            event = CancelledEvent()
        self._publish(job, event)
        finished = [j for j in self._jobs.values() if j.status in FINISHED]
        for old in finished[:-KEEP_FINISHED_JOBS]:
            del self._jobs[old.id]

    def _publish(self, job: Job, event: JobEventPublic) -> None:
        job.events.append(event)
        self._changed.notify_all()
