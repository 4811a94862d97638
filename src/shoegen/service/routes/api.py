"""The original system's routes: generate, models, health."""

from __future__ import annotations

import importlib.metadata
import os

from fastapi import APIRouter, Depends, HTTPException, Request, status

from shoegen.engine.engine import GenerationRequest
from shoegen.engine.models import find_adapter
from shoegen.engine.prompts import LoraRef, extract_lora_tags
from shoegen.errors import ShoegenError
from shoegen.service.deps import (Services, api_key_header, bearer, get_services, presented_key_is_valid,
                                  require_api_key)
from shoegen.service.images import decode_image, png_base64
from shoegen.service.jobs import Job, QueueFullError
from shoegen.service.schemas import (GenerateCreate, GeneratePublic, HealthPublic, ImagePublic, ModelPublic,
                                     ModelsPublic)

router = APIRouter(prefix="/api")
SYNC_TIMEOUT_SECONDS = 600


def to_generation_request(body: GenerateCreate, services: Services) -> GenerationRequest:
    """Validate names against what exists, decode the init image, and build the engine's request."""
    tagged = [ref.name for ref in extract_lora_tags(body.prompt)[1]]
    for name in [body.model_name, *(lora.name for lora in body.loras), *tagged]:
        if name and name != services.engine.base_model:
            try:
                find_adapter(services.settings.models_dir, name)
            except ShoegenError as error:
                raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    init = decode_image(body.init_image, services.settings.max_image_pixels) if body.init_image else None
    return GenerationRequest(
        prompt=body.prompt, negative_prompt=body.negative_prompt, model=body.model_name,
        loras=[LoraRef(lora.name, lora.weight) for lora in body.loras], sampler=body.sampler,
        steps=body.num_inference_steps, guidance_scale=body.guidance_scale, width=body.width, height=body.height,
        num_images=body.num_images, seed=body.seed, init_image=init, strength=body.strength,
    )


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

    await to_thread.run_sync(services.jobs.wait, job, SYNC_TIMEOUT_SECONDS)
    if job.status == "error":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, job.error or "generation failed")
    if job.status == "cancelled":
        raise HTTPException(status.HTTP_409_CONFLICT, "the generation was cancelled")
    if job.status != "done":
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, "generation did not finish in time")
    return job


@router.post("/generate", response_model=GeneratePublic, dependencies=[Depends(require_api_key)],
             summary="Generate images and wait for them (goes through the job queue)")
async def generate(body: GenerateCreate, services: Services = Depends(get_services)) -> GeneratePublic:
    job = await wait_for(services, submit(services, to_generation_request(body, services)))
    images = [ImagePublic(id=image.id, image=png_base64(image.path), seed=image.params.seed,
                          metadata=image.params.to_dict()) for image in job.images]
    return GeneratePublic(success=True, images=images, generation_time=job.generation_time or 0.0)


@router.get("/models", response_model=ModelsPublic, dependencies=[Depends(require_api_key)],
            summary="The base model and every run's checkpoints and final weights under MODELS_DIR")
def list_models(services: Services = Depends(get_services)) -> ModelsPublic:
    root = services.settings.models_dir.resolve()
    models = []
    for entry in services.engine.list_models():
        path = entry.name if entry.type == "base" else str(entry.path.relative_to(root))
        models.append(ModelPublic(name=entry.name, path=path, type=entry.type, step=entry.step))
    return ModelsPublic(models=models)


@router.get("/health", response_model=HealthPublic, response_model_exclude_none=True,
            summary="Service status; details only with the API key when one is set")
def health(request: Request, services: Services = Depends(get_services),
           bearer_credentials=Depends(bearer), header_key: str | None = Depends(api_key_header)) -> HealthPublic:
    if not presented_key_is_valid(services, bearer_credentials, header_key):
        return HealthPublic(status="ok")
    import psutil

    engine = services.engine
    memory = {"rss_mb": round(psutil.Process(os.getpid()).memory_info().rss / 2**20, 1)}
    if engine.device.type == "cuda":
        import torch

        memory["cuda_allocated_mb"] = round(torch.cuda.memory_allocated() / 2**20, 1)
        memory["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    running = services.jobs.running()
    versions = {name: importlib.metadata.version(name) for name in ("shoegen", "torch", "diffusers", "peft")}
    return HealthPublic(
        status="ok", device=str(engine.device), base_model=engine.base_model, base_model_loaded=engine.is_loaded,
        loaded_models=engine.loaded_adapters(), memory=memory,
        queue={"depth": services.jobs.depth(), "running": running.id if running else None}, versions=versions,
    )
