"""From a request body to a finished job, for every route that generates (/api/generate, /api/jobs, /sdapi):
names checked against what exists, the start image decoded, the job queued, and its end turned into HTTP."""

from __future__ import annotations

from fastapi import HTTPException, status

from shoegen.config.generation import ControlNetUnit
from shoegen.engine.engine import GenerationRequest
from shoegen.engine.prompts import extract_lora_tags
from shoegen.errors import ShoegenError
from shoegen.service.deps import Services
from shoegen.service.images import decode_image
from shoegen.service.jobs import Job, QueueFullError
from shoegen.service.schemas import GenerateCreate
from shoegen.training.runs import find_adapter

SYNC_TIMEOUT_SECONDS = 600
MODELS_HINT = "; the available ones are listed at GET /api/models"


def to_generation_request(body: GenerateCreate, services: Services) -> GenerationRequest:
    """The engine's request for `body`: every adapter it names exists (404 otherwise), the image is decoded."""
    try:
        tagged = [ref.name for ref in extract_lora_tags(body.prompt)[1]]
    except ShoegenError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from None
    for name in [body.model_name, *(lora.name for lora in body.loras), *tagged]:
        if name and name != services.engine.base_model:
            try:
                find_adapter(services.settings.models_dir, name)
            except ShoegenError as error:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"{error}{MODELS_HINT}") from None
    limit = services.settings.max_image_pixels
    init = decode_image(body.init_image, limit) if body.init_image else None
    mask = decode_image(body.mask_image, limit, field="mask_image", mask=True) if body.mask_image else None
    controls = tuple(decode_image(unit.image, limit, field=f"controlnets[{index}].image") if unit.image else None
                     for index, unit in enumerate(body.controlnets))
    units = tuple(ControlNetUnit(**unit.model_dump(exclude={"image"})) for unit in body.controlnets)
    return GenerationRequest(**{**dict(body), "init_image": init, "mask_image": mask, "controlnets": units,
                                "control_images": controls})


def submit(services: Services, request: GenerationRequest) -> Job:
    try:
        return services.jobs.submit(request)
    except QueueFullError as error:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "the generation queue is full; retry later",
                            headers={"Retry-After": str(error.retry_after)}) from None
    except ShoegenError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from None


async def wait_for(services: Services, job: Job) -> Job:
    """Wait for a job without blocking the event loop; its failure becomes an HTTP error."""
    from anyio import to_thread

    job = await to_thread.run_sync(services.jobs.wait, job, SYNC_TIMEOUT_SECONDS)
    if job.status == "error":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, job.error or "generation failed")
    if job.status == "cancelled":
        raise HTTPException(status.HTTP_409_CONFLICT, "the generation was cancelled")
    if job.status != "done":
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, "generation did not finish in time")
    return job
