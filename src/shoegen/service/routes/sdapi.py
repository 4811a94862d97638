"""A subset of AUTOMATIC1111's web API (`/sdapi/v1/...`), so existing Stable Diffusion WebUI clients work.
Models are this service's base model and adapters; `sd_model_checkpoint` picks the default one."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shoegen.config.generation import (MAX_IMAGES, MAX_REQUEST_SEED, GenerationParams, Guidance, ImageCount,
                                       PromptText, Side, Steps, Strength)
from shoegen.config.samplers import SAMPLERS
from shoegen.service.deps import Services, ServicesDep, require_api_key
from shoegen.service.generation import submit, to_generation_request, wait_for
from shoegen.service.images import png_base64
from shoegen.service.schemas import GenerateCreate, SamplerPublic
from shoegen.storage.png import format_a1111_parameters

LIMITS = GenerationParams.model_fields

router = APIRouter(prefix="/sdapi/v1", tags=["AUTOMATIC1111 compatible"], dependencies=[Depends(require_api_key)])


class Txt2ImgCreate(BaseModel):
    """AUTOMATIC1111's StableDiffusionProcessingTxt2Img fields that apply here; others are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    prompt: PromptText = ""
    negative_prompt: PromptText = ""
    seed: int = Field(-1, ge=-1, le=MAX_REQUEST_SEED, description="-1 for random")
    sampler_name: str | None = Field(None, max_length=100)
    sampler_index: str | None = Field(None, max_length=100)
    batch_size: ImageCount = 1
    n_iter: ImageCount = 1
    steps: Steps = 20
    cfg_scale: Guidance = 7.0
    width: Side | None = Field(None, description="default: the base model's native size")
    height: Side | None = Field(None, description="default: the base model's native size")
    override_settings: dict | None = Field(None, description="`sd_model_checkpoint` picks the model, "
                                           "`CLIP_stop_at_last_layers` is Clip skip; other settings are ignored")
    enable_hr: bool = Field(False, description="txt2img: the hires fix (generate, upscale by hr_scale, repaint at "
                            "denoising_strength)")
    hr_scale: float = Field(2.0, ge=1.0, le=4.0, allow_inf_nan=False)
    hr_second_pass_steps: int = Field(0, ge=0, le=150, description="0: the same steps as the first pass")
    hr_upscaler: str | None = Field(None, max_length=100, description="a name of GET /sdapi/v1/upscalers; Latent, "
                                    "None and Lanczos (and A1111's other built-in names) are the Lanczos resize")
    denoising_strength: Strength = Field(0.7, description="txt2img: the hires fix's strength; img2img: how much "
                                         "of the start image is repainted")
    alwayson_scripts: dict | None = Field(None, description="`controlnet: {args: [{model, module (canny | none), "
                                          "weight, guidance_start, guidance_end, image}]}` as the ControlNet "
                                          "extension's clients send it; other scripts are ignored")


MASKED_CONTENT = ("fill", "original", "latent_noise", "latent_nothing")
"""AUTOMATIC1111's `inpainting_fill` numbers, in order."""


class Img2ImgCreate(Txt2ImgCreate):
    init_images: list[str] = Field(min_length=1, max_length=1)
    denoising_strength: Strength = 0.75
    mask: str | None = Field(None, description="inpaint: base64 mask, white where the image is repainted")
    mask_blur: int = Field(4, ge=0, le=64)
    inpainting_fill: int = Field(1, ge=0, le=3, description="masked content: 0 fill, 1 original, 2 latent noise, "
                                 "3 latent nothing")
    inpainting_mask_invert: int = Field(0, ge=0, le=1, description="1: repaint outside the mask")
    inpaint_full_res: bool = Field(False, description="accepted; the whole image is always repainted at its size "
                                   "(the area outside the mask is returned unchanged either way)")


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


def _clip_skip(body: Txt2ImgCreate) -> int:
    value = (body.override_settings or {}).get("CLIP_stop_at_last_layers", LIMITS["clip_skip"].default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            "override_settings.CLIP_stop_at_last_layers: a whole number (Clip skip)")
    return value


CONTROLNET_MODULES = {"canny": "canny", "none": "none", None: "none"}


def _controlnets(body: Txt2ImgCreate) -> list[dict]:
    """The ControlNet extension's units (`alwayson_scripts.controlnet.args`) as this API's `controlnets`."""
    script = (body.alwayson_scripts or {}).get("controlnet") or {}
    units = script.get("args", []) if isinstance(script, dict) else []
    if not isinstance(units, list) or not all(isinstance(unit, dict) for unit in units):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "alwayson_scripts.controlnet.args: a list of units")
    found = []
    for index, unit in enumerate(units):
        if not unit.get("enabled", True):
            continue
        module = unit.get("module")
        if module not in CONTROLNET_MODULES:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                f"alwayson_scripts.controlnet.args[{index}].module: {module!r}; here: canny or none")
        model = str(unit.get("model") or "").split(" [")[0]  # A1111 lists "name [hash]"
        image = unit.get("image") or unit.get("input_image")
        found.append({"model": model, "preprocessor": CONTROLNET_MODULES[module], "scale": unit.get("weight", 1.0),
                      "start": unit.get("guidance_start", 0.0), "end": unit.get("guidance_end", 1.0),
                      "image": image if isinstance(image, str) else None})
    return found


A1111_RESIZES = ("none", "lanczos", "nearest", "latent")
"""AUTOMATIC1111's built-in upscaler names (their first word, lower case: "Latent (bicubic antialiased)" too):
the Lanczos resize here."""


def _upscaler(services: Services, name: str | None) -> str:
    from shoegen.models.upscalers import LANCZOS, upscaler_names

    if name is None or name in upscaler_names(services.settings.models_dir):
        return name or LANCZOS
    if name.split(" ")[0].lower() in A1111_RESIZES:
        return LANCZOS
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"hr_upscaler {name!r}: not an upscaler here; see "
                        "GET /sdapi/v1/upscalers")


async def _generate(services: Services, body: Txt2ImgCreate, **mode):
    try:
        request_body = GenerateCreate(
            prompt=body.prompt or " ", negative_prompt=body.negative_prompt, model_name=_checkpoint(services, body),
            num_images=min(MAX_IMAGES, body.batch_size * body.n_iter), num_inference_steps=body.steps,
            guidance_scale=body.cfg_scale, seed=None if body.seed == -1 else body.seed,
            sampler=body.sampler_name or body.sampler_index or "Euler a", width=body.width, height=body.height,
            clip_skip=_clip_skip(body), controlnets=_controlnets(body), **mode,
        )
    except ValidationError as error:
        problem = error.errors()[0]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None
    job = await wait_for(services, submit(services, to_generation_request(request_body, services)))
    infotexts = [format_a1111_parameters(image.params) for image in job.images]
    seeds = [image.params.seed for image in job.images]
    info = {"prompt": body.prompt, "negative_prompt": body.negative_prompt, "seed": seeds[0], "all_seeds": seeds,
            "steps": body.steps, "cfg_scale": body.cfg_scale, "width": job.images[0].params.width,
            "height": job.images[0].params.height, "clip_skip": job.images[0].params.clip_skip,
            "sampler_name": job.images[0].params.sampler, "sd_model_name": request_body.model_name,
            "infotexts": infotexts, "gallery_ids": [image.id for image in job.images]}
    return GenerationResponse(images=[png_base64(image.path) for image in job.images],
                              parameters=body.model_dump(exclude={"init_images", "mask", "alwayson_scripts"}),
                              info=json.dumps(info))


@router.post("/txt2img", response_model=GenerationResponse, summary="AUTOMATIC1111 txt2img (with the hires fix)")
async def txt2img(body: Txt2ImgCreate, services: ServicesDep) -> GenerationResponse:
    hires = dict(hires_scale=body.hr_scale, hires_strength=body.denoising_strength,
                 hires_steps=body.hr_second_pass_steps or None,
                 hires_upscaler=_upscaler(services, body.hr_upscaler)) if body.enable_hr else {}
    return await _generate(services, body, **hires)


@router.post("/img2img", response_model=GenerationResponse, summary="AUTOMATIC1111 img2img (and inpainting with a "
             "mask)")
async def img2img(body: Img2ImgCreate, services: ServicesDep) -> GenerationResponse:
    mode = dict(init_image=body.init_images[0], strength=body.denoising_strength)
    if body.mask is not None:
        mode |= dict(mode="inpaint", mask_image=body.mask, mask_blur=body.mask_blur,
                     masked_content=MASKED_CONTENT[body.inpainting_fill],
                     mask_invert=bool(body.inpainting_mask_invert))
    return await _generate(services, body, **mode)


@router.get("/sd-models", response_model=list[dict], summary="Models, in AUTOMATIC1111's shape")
def sd_models(services: ServicesDep) -> list[dict]:
    return [{"title": m.name, "model_name": m.name, "hash": None, "sha256": None, "filename": m.name,
             "config": None} for m in services.engine.list_models()]


@router.get("/loras", response_model=list[dict], summary="LoRA adapters, in AUTOMATIC1111's shape")
def loras(services: ServicesDep) -> list[dict]:
    return [{"name": m.name, "alias": m.name, "path": m.name, "metadata": {"type": m.type, "step": m.step}}
            for m in services.engine.list_models() if m.type != "base"]


@router.get("/upscalers", response_model=list[dict], summary="Upscalers, in AUTOMATIC1111's shape")
def list_upscalers(services: ServicesDep) -> list[dict]:
    from shoegen.models.upscalers import LANCZOS, upscaler_files

    files = upscaler_files(services.settings.models_dir)
    return [{"name": name, "model_name": None if name == LANCZOS else name,
             "model_path": files[name].name if name in files else None, "model_url": None, "scale": None}
            for name in ("Lanczos", *files)]


@router.get("/samplers", response_model=list[SamplerPublic], summary="Samplers, in AUTOMATIC1111's shape")
def samplers() -> list[SamplerPublic]:
    return [SamplerPublic(name=s.name, aliases=list(s.aliases)) for s in SAMPLERS]


@router.get("/progress", response_model=dict, summary="Progress of the running job, in AUTOMATIC1111's shape")
def progress(services: ServicesDep) -> dict:
    job = services.jobs.running()
    fraction = job.step / job.total_steps if job and job.total_steps else 0.0
    return {"progress": fraction, "eta_relative": 0.0,
            "state": {"job_count": services.jobs.depth() + (1 if job else 0), "sampling_step": job.step if job else 0,
                      "sampling_steps": job.total_steps if job else 0, "job": job.id if job else "",
                      "interrupted": False, "skipped": False},
            "current_image": None, "textinfo": None}


@router.get("/options", response_model=dict, summary="Options; only sd_model_checkpoint means something here")
def get_options(services: ServicesDep) -> dict:
    return {"sd_model_checkpoint": services.sdapi_checkpoint or services.engine.base_model}


@router.post("/options", response_model=dict, summary="Set sd_model_checkpoint (the default model for /sdapi)")
def set_options(body: OptionsCreate, services: ServicesDep) -> dict:
    name = body.sd_model_checkpoint
    if name is not None:
        if name != services.engine.base_model and name not in {m.name for m in services.engine.list_models()}:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown model {name!r}; see GET /sdapi/v1/sd-models")
        services.sdapi_checkpoint = None if name == services.engine.base_model else name
    return get_options(services)


controlnet_router = APIRouter(prefix="/controlnet", tags=["AUTOMATIC1111 compatible"],
                              dependencies=[Depends(require_api_key)])


@controlnet_router.get("/model_list", response_model=dict, summary="ControlNets, as the ControlNet extension lists "
                       "them")
def controlnet_models(services: ServicesDep) -> dict:
    from shoegen.models.controlnets import available_controlnets

    return {"model_list": [name for name, _ in available_controlnets(services.settings.models_dir)]}


@controlnet_router.get("/module_list", response_model=dict, summary="ControlNet preprocessors, as the ControlNet "
                       "extension lists them")
def controlnet_modules() -> dict:
    return {"module_list": sorted(name for name in CONTROLNET_MODULES if name)}
