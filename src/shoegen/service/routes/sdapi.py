"""A subset of AUTOMATIC1111's web API (`/sdapi/v1/...`), so existing Stable Diffusion WebUI clients work.
Models are this service's base model and adapters; `sd_model_checkpoint` picks the default one."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from shoegen.engine.samplers import SAMPLERS
from shoegen.service.deps import Services, get_services, require_api_key
from shoegen.service.images import png_base64
from shoegen.service.routes.api import submit, to_generation_request, wait_for
from shoegen.service.schemas import MAX_SEED, GenerateCreate
from shoegen.storage.png import format_a1111_parameters

router = APIRouter(prefix="/sdapi/v1", tags=["AUTOMATIC1111 compatible"], dependencies=[Depends(require_api_key)])


class Txt2ImgCreate(BaseModel):
    """AUTOMATIC1111's StableDiffusionProcessingTxt2Img fields that apply here; others are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    prompt: str = Field("", max_length=4000)
    negative_prompt: str = Field("", max_length=4000)
    seed: int = Field(-1, ge=-1, le=MAX_SEED, description="-1 for random")
    sampler_name: str | None = Field(None, max_length=100)
    sampler_index: str | None = Field(None, max_length=100)
    batch_size: int = Field(1, ge=1, le=10)
    n_iter: int = Field(1, ge=1, le=10)
    steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=0.0, le=30.0)
    width: int = Field(512, ge=64, le=2048, multiple_of=8)
    height: int = Field(512, ge=64, le=2048, multiple_of=8)
    override_settings: dict | None = None


class Img2ImgCreate(Txt2ImgCreate):
    init_images: list[str] = Field(min_length=1, max_length=1)
    denoising_strength: float = Field(0.75, gt=0.0, le=1.0)


class GenerationResponse(BaseModel):
    images: list[str]
    parameters: dict
    info: str


class OptionsCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    sd_model_checkpoint: str | None = Field(None, max_length=300)


def _checkpoint(services: Services, body: Txt2ImgCreate) -> str:
    override = (body.override_settings or {}).get("sd_model_checkpoint")
    if override is not None and not isinstance(override, str):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "override_settings.sd_model_checkpoint: a name")
    return override or services.sdapi_checkpoint or services.engine.base_model


async def _generate(services: Services, body: Txt2ImgCreate, init_image: str | None, strength: float):
    try:
        request_body = GenerateCreate(
            prompt=body.prompt or " ", negative_prompt=body.negative_prompt, model_name=_checkpoint(services, body),
            num_images=min(10, body.batch_size * body.n_iter), num_inference_steps=body.steps,
            guidance_scale=body.cfg_scale, seed=None if body.seed == -1 else body.seed,
            sampler=body.sampler_name or body.sampler_index or "Euler a", width=body.width, height=body.height,
            init_image=init_image, strength=strength,
        )
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error).splitlines()[0]) from None
    job = await wait_for(services, submit(services, to_generation_request(request_body, services)))
    infotexts = [format_a1111_parameters(image.params) for image in job.images]
    seeds = [image.params.seed for image in job.images]
    info = {"prompt": body.prompt, "negative_prompt": body.negative_prompt, "seed": seeds[0], "all_seeds": seeds,
            "steps": body.steps, "cfg_scale": body.cfg_scale, "width": body.width, "height": body.height,
            "sampler_name": job.images[0].params.sampler, "sd_model_name": request_body.model_name,
            "infotexts": infotexts, "gallery_ids": [image.id for image in job.images]}
    return GenerationResponse(images=[png_base64(image.path) for image in job.images],
                              parameters=body.model_dump(exclude={"init_images"}), info=json.dumps(info))


@router.post("/txt2img", response_model=GenerationResponse, summary="AUTOMATIC1111 txt2img")
async def txt2img(body: Txt2ImgCreate, services: Services = Depends(get_services)) -> GenerationResponse:
    return await _generate(services, body, None, 0.75)


@router.post("/img2img", response_model=GenerationResponse, summary="AUTOMATIC1111 img2img")
async def img2img(body: Img2ImgCreate, services: Services = Depends(get_services)) -> GenerationResponse:
    return await _generate(services, body, body.init_images[0], body.denoising_strength)


@router.get("/sd-models", response_model=list[dict], summary="Models, in AUTOMATIC1111's shape")
def sd_models(services: Services = Depends(get_services)) -> list[dict]:
    return [{"title": m.name, "model_name": m.name, "hash": None, "sha256": None, "filename": m.name,
             "config": None} for m in services.engine.list_models()]


@router.get("/loras", response_model=list[dict], summary="LoRA adapters, in AUTOMATIC1111's shape")
def loras(services: Services = Depends(get_services)) -> list[dict]:
    return [{"name": m.name, "alias": m.name, "path": m.name, "metadata": {"type": m.type, "step": m.step}}
            for m in services.engine.list_models() if m.type != "base"]


@router.get("/samplers", response_model=list[dict], summary="Samplers, in AUTOMATIC1111's shape")
def samplers() -> list[dict]:
    return [{"name": s.name, "aliases": list(s.aliases), "options": {}} for s in SAMPLERS]


@router.get("/progress", response_model=dict, summary="Progress of the running job, in AUTOMATIC1111's shape")
def progress(services: Services = Depends(get_services)) -> dict:
    job = services.jobs.running()
    fraction = job.step / job.total_steps if job and job.total_steps else 0.0
    return {"progress": fraction, "eta_relative": 0.0,
            "state": {"job_count": services.jobs.depth() + (1 if job else 0), "sampling_step": job.step if job else 0,
                      "sampling_steps": job.total_steps if job else 0, "job": job.id if job else "",
                      "interrupted": False, "skipped": False},
            "current_image": None, "textinfo": None}


@router.get("/options", response_model=dict, summary="Options; only sd_model_checkpoint means something here")
def get_options(services: Services = Depends(get_services)) -> dict:
    return {"sd_model_checkpoint": services.sdapi_checkpoint or services.engine.base_model}


@router.post("/options", response_model=dict, summary="Set sd_model_checkpoint (the default model for /sdapi)")
def set_options(body: OptionsCreate, services: Services = Depends(get_services)) -> dict:
    name = body.sd_model_checkpoint
    if name is not None:
        if name != services.engine.base_model and name not in {m.name for m in services.engine.list_models()}:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown model {name!r}; see GET /sdapi/v1/sd-models")
        services.sdapi_checkpoint = None if name == services.engine.base_model else name
    return get_options(services)
