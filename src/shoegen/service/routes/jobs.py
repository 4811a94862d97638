"""Asynchronous generation: submit a job, follow it with Server-Sent Events, cancel it; from any replica.

The event stream polls the job's events in the database every `POLL_SECONDS` (0.1 s) rather than waiting on
PostgreSQL's LISTEN/NOTIFY: it works the same on SQLite, it needs no connection held per stream (LISTEN ties one
up), a notification lost while a replica reconnects cannot stall a stream, and one indexed query per stream every
0.1 s costs the database little next to the denoising steps it reports (a tiny-model step takes tens of ms, a
real one more)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from shoegen.service.deps import Services, ServicesDep, require_api_key
from shoegen.service.generation import submit, to_generation_request
from shoegen.service.jobs import FINISHED, POLL_SECONDS, Job
from shoegen.service.schemas import GenerateCreate, JobEventPublic, JobPublic, JobsPublic, JobStatus

router = APIRouter(prefix="/api/jobs", dependencies=[Depends(require_api_key)])
KEEPALIVE_SECONDS = 15.0


def job_public(job: Job) -> JobPublic:
    return JobPublic(id=job.id, kind=job.kind, status=job.status, step=job.step, total_steps=job.total_steps,
                     created_at=job.created_at, image_ids=job.image_ids, error=job.error,
                     generation_time=job.generation_time, warnings=job.warnings)


def find_job(services: Services, job_id: str) -> Job:
    job = services.jobs.get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id!r}")
    return job


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic,
             summary="Queue a generation; follow it at /api/jobs/{id}/events")
def create_job(body: GenerateCreate, services: ServicesDep) -> JobPublic:
    return job_public(submit(services, to_generation_request(body, services)))


@router.get("", response_model=JobsPublic, summary="The newest jobs, submitted to any replica")
def list_jobs(services: ServicesDep,
              only: JobStatus | None = Query(None, alias="status", description="only jobs in this state"),
              limit: int = Query(50, ge=1, le=500)) -> JobsPublic:
    return JobsPublic(items=[job_public(job) for job in services.jobs.list(only, limit)], limit=limit)


@router.get("/{job_id}", response_model=JobPublic, summary="A job's state")
def get_job(job_id: str, services: ServicesDep) -> JobPublic:
    return job_public(find_job(services, job_id))


@router.delete("/{job_id}", response_model=JobPublic, summary="Cancel a queued or running job")
def cancel_job(job_id: str, services: ServicesDep) -> JobPublic:
    return job_public(services.jobs.cancel(job_id) or find_job(services, job_id))


def sse_message(number: int, event: JobEventPublic) -> str:
    """Event `number` (1 for a job's first) as a text/event-stream message; the number is its SSE id."""
    data = event.model_dump_json(exclude={"event"}, exclude_none=True)
    return f"id: {number}\nevent: {event.event}\ndata: {data}\n\n"


def events_already_seen(last_event_id: str | None, sent: int) -> int:
    """How many of a job's events a client has, from its Last-Event-ID header (absent: none)."""
    if not last_event_id:
        return 0
    if not (last_event_id.isascii() and last_event_id.isdigit()) or int(last_event_id) > sent:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"Last-Event-ID: expected the id of an event this job's stream has sent (1-{sent}), "
                            f"got {last_event_id!r}")
    return int(last_event_id)


@router.get("/{job_id}/events", summary="Server-Sent Events: queued, started, progress, done | error | cancelled",
            response_class=StreamingResponse,
            description="Each event's SSE id is its number in the job's history (1, 2, ...). A client that "
                        "reconnects with the Last-Event-ID header (as EventSource does) gets the events after that "
                        "one; without it, the whole history. A finished job's progress events are dropped when "
                        "it ends: its replay is queued, started and its final event. The stream ends after the "
                        "job's last event; a training job resumed after it ended goes on with the next attempt's "
                        "events.",
            responses={200: {"model": JobEventPublic, "content": {"text/event-stream": {}},
                             "description": "the event stream: each event's `event:` line is its `event` field, its "
                                            "`data:` line the other fields as JSON"}})
async def job_events(job_id: str, services: ServicesDep,
                     last_event_id: Annotated[str | None, Header(description="the id of the last event received")
                                              ] = None) -> StreamingResponse:
    job = find_job(services, job_id)
    first = events_already_seen(last_event_id, job.events)

    async def stream():
        seen, idle = first, 0.0
        if job.status in FINISHED and seen >= job.events:
            return  # a finished job gets no more events
        while True:
            events = await to_thread.run_sync(services.jobs.events, job_id, seen)
            for number, event in events:
                yield sse_message(number, event)
            if events and events[-1][1].event in FINISHED:
                # The end, unless the job was queued again since (a training run resumed): an earlier attempt's
                # end is followed by the next attempt's events.
                now = await to_thread.run_sync(services.jobs.get, job_id)
                if now is None or (now.status in FINISHED and now.events <= events[-1][0]):
                    return
            if events:
                seen, idle = events[-1][0], 0.0
            elif idle >= KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                idle = 0.0
            await asyncio.sleep(POLL_SECONDS)
            idle += POLL_SECONDS

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
