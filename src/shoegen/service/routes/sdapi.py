"""A subset of AUTOMATIC1111's web API (`/sdapi/v1/...`), so existing Stable Diffusion WebUI clients work.
Models are this service's base model and adapters; `sd_model_checkpoint` picks the default one."""

from __future__ import annotations

import json
import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from shoegen.config.generation import (MAX_IMAGES, MAX_REQUEST_SEED, MAX_SIDE, ClipSkip, GenerationParams,
                                       Guidance, ImageCount, PromptText, Side, Steps, Strength, scaled_size)
from shoegen.config.samplers import A1111_SCHEDULES, SAMPLERS, a1111_sampler
from shoegen.errors import ShoegenError
from shoegen.service.deps import SDAPI_CHECKPOINT, Services, ServicesDep, require_api_key
from shoegen.service.generation import submit, to_generation_request, wait_for
from shoegen.service.images import png_base64
from shoegen.service.schemas import GenerateCreate, SamplerPublic
from shoegen.storage import OptionStore
from shoegen.storage.png import format_a1111_parameters
from shoegen.training.runs import find_adapter

LIMITS = GenerationParams.model_fields
SDAPI_CLIP_SKIP = "CLIP_stop_at_last_layers"
"""A1111's Clip skip option, kept like `sd_model_checkpoint` in the options every replica shares."""

log = logging.getLogger("shoegen.service")

router = APIRouter(prefix="/sdapi/v1", tags=["AUTOMATIC1111 compatible"], dependencies=[Depends(require_api_key)])


UNSUPPORTED_A1111_FIELDS: dict[str, tuple[tuple, str]] = {
    "hr_prompt": (("", None), "the hires fix repaints with prompt here; leave it empty"),
    "hr_negative_prompt": (("", None), "the hires fix repaints with negative_prompt here; leave it empty"),
    "hr_sampler_name": (("", None, "Use same sampler"), "the hires fix repaints with sampler_name here; send "
                        "'Use same sampler'"),
    "hr_scheduler": (("", None, "Use same scheduler"), "the hires fix repaints with scheduler here; send "
                     "'Use same scheduler'"),
    "hr_checkpoint_name": (("", None, "Use same checkpoint"), "the hires fix repaints with the same model here"),
    "subseed_strength": ((0, None), "variation seeds are not available here; send 0"),
    "seed_resize_from_h": ((None,), "resizing the seed's noise is not available here; send -1"),
    "seed_resize_from_w": ((None,), "resizing the seed's noise is not available here; send -1"),
    "tiling": ((False, None), "tileable images are not available here"),
    "restore_faces": ((False, None), "face restoration is not available here"),
    "styles": (([], None), "prompt styles are not kept here; put their text in prompt"),
    "refiner_checkpoint": (("", None, "None"), "a refiner (SDXL) is not available here"),
    "script_name": (("", None, "None"), "scripts are not available here (ControlNet goes in alwayson_scripts)"),
    "resize_mode": ((0, None), "img2img resizes the start image to width x height here (resize_mode 0, 'Just "
                    "resize'); crop or pad it to that shape first"),
}
"""A1111 request fields with no feature here: the values that change nothing, and why any other is refused."""


def _shown(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class Txt2ImgCreate(BaseModel):
    """AUTOMATIC1111's StableDiffusionProcessingTxt2Img fields that apply here; others are accepted and ignored, those
    of UNSUPPORTED_A1111_FIELDS only at a value that changes nothing."""

    model_config = ConfigDict(extra="allow")
    prompt: PromptText = ""
    negative_prompt: PromptText = ""
    seed: int = Field(-1, ge=-1, le=MAX_REQUEST_SEED, description="-1 for random")
    sampler_name: str | None = Field(None, max_length=100)
    sampler_index: str | None = Field(None, max_length=100)
    scheduler: str | None = Field(None, max_length=100, description="A1111 1.9+'s schedule type, a name of GET "
                                  "/sdapi/v1/schedulers (Automatic: the sampler's own, Karras for DPM++ 2M); a "
                                  "schedule in sampler_name wins")
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
    hr_resize_x: int = Field(0, ge=0, le=MAX_SIDE, description="the hires fix's result width instead of hr_scale "
                             "(0: hr_scale); with hr_resize_y, both sides scaled alike")
    hr_resize_y: int = Field(0, ge=0, le=MAX_SIDE, description="the hires fix's result height instead of hr_scale")
    hr_upscaler: str | None = Field(None, max_length=100, description="a name of GET /sdapi/v1/upscalers; Latent, "
                                    "None and Lanczos (and A1111's other built-in names) are the Lanczos resize")
    denoising_strength: Strength = Field(0.7, description="txt2img: the hires fix's strength; img2img: how much "
                                         "of the start image is repainted")
    alwayson_scripts: dict | None = Field(None, description="`controlnet: {args: [{model, module (canny | none), "
                                          "weight, guidance_start, guidance_end, image}]}` as the ControlNet "
                                          "extension's clients send it (its control_mode and Canny thresholds "
                                          "only at values that change nothing here; resize_mode 0 or 1, the "
                                          "image resized to the output's size); other scripts are ignored")

    @model_validator(mode="after")
    def _within_image_limit(self) -> Txt2ImgCreate:
        if self.batch_size * self.n_iter > MAX_IMAGES:
            raise ValueError(f"batch_size x n_iter = {self.batch_size} x {self.n_iter} = "
                             f"{self.batch_size * self.n_iter} images, over this server's limit of {MAX_IMAGES} a "
                             "request")
        return self

    @model_validator(mode="after")
    def _nothing_that_would_change_the_image_is_ignored(self) -> Txt2ImgCreate:
        """A1111 fields this server has no feature for are ignored only at values that change nothing (A1111's
        defaults, which many clients send every time); any other value is refused by name, never dropped."""
        sent = self.model_extra or {}
        same = {"hr_prompt": self.prompt, "hr_negative_prompt": self.negative_prompt,
                "hr_sampler_name": self.sampler_name, "hr_scheduler": self.scheduler}
        problems = []
        for field, (unchanged, why) in UNSUPPORTED_A1111_FIELDS.items():
            if field not in sent or (field.startswith("hr_") and not self.enable_hr):
                continue
            value = sent[field]
            if value in unchanged or (field in same and value == same[field]) or \
                    (field.startswith("seed_resize") and isinstance(value, int | float) and value <= 0):
                continue
            problems.append(f"{field} {_shown(value)}: {why}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


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

    @model_validator(mode="after")
    def _no_hires_fix(self) -> Img2ImgCreate:
        if self.enable_hr:
            raise ValueError("enable_hr true: the hires fix is txt2img's (AUTOMATIC1111's img2img has none); ask for "
                             "the final width and height")
        return self


class GenerationResponse(BaseModel):
    images: list[str]
    parameters: dict
    info: str = Field(description="JSON text, as AUTOMATIC1111's: seed, all_seeds, infotexts, ...; and here "
                      "gallery_ids and warnings (what the engine changed, e.g. a start image stretched to width x "
                      "height)")


class OptionsCreate(BaseModel):
    """The options that mean something here; A1111's others are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    sd_model_checkpoint: str | None = Field(None, max_length=300)
    CLIP_stop_at_last_layers: Annotated[ClipSkip, Strict()] | None = Field(
        None, description="Clip skip for /sdapi requests that do not set it in override_settings")


def _current_checkpoint(services: Services) -> str:
    """The model `sd_model_checkpoint` names; the base when it names none, or one no longer there (a run deleted
    since): A1111 too falls back to a model it has, and its option then names that one."""
    name, base = services.sdapi_checkpoint, services.engine.base_model
    if name is None:
        return base
    try:
        find_adapter(services.settings.models_dir, name)
    except ShoegenError:
        if OptionStore(services.gallery).clear_if(SDAPI_CHECKPOINT, name):
            log.warning("sd_model_checkpoint %r is no longer there (deleted?): /sdapi generates with the base model "
                        "%r instead; set another with POST /sdapi/v1/options", name, base)
        return base
    return name


def _checkpoint(services: Services, body: Txt2ImgCreate) -> tuple[str, str]:
    """The model to generate with, and the field that named it."""
    override = (body.override_settings or {}).get("sd_model_checkpoint")
    if override is not None and not isinstance(override, str):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "override_settings.sd_model_checkpoint: a name")
    if override:
        return override, "override_settings.sd_model_checkpoint"
    return _current_checkpoint(services), SDAPI_CHECKPOINT


def _current_clip_skip(services: Services) -> int:
    return OptionStore(services.gallery).get(SDAPI_CLIP_SKIP) or LIMITS["clip_skip"].default


def _clip_skip(services: Services, body: Txt2ImgCreate) -> tuple[int, str]:
    """Clip skip from override_settings, else from the options, and the field that set it."""
    overrides = body.override_settings or {}
    if SDAPI_CLIP_SKIP not in overrides:
        return _current_clip_skip(services), SDAPI_CLIP_SKIP
    value = overrides[SDAPI_CLIP_SKIP]
    if isinstance(value, bool) or not isinstance(value, int):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"override_settings.{SDAPI_CLIP_SKIP}: a whole number (Clip skip)")
    return value, f"override_settings.{SDAPI_CLIP_SKIP}"


CONTROLNET_MODULES = {"canny": "canny", "none": "none", None: "none"}
CONTROLNET_UNIT_FIELDS: dict[str, tuple[tuple, str]] = {
    "control_mode": ((None, 0, "Balanced", "ControlMode.BALANCED"), "each ControlNet is balanced with the prompt "
                     "here ('My prompt is more important' and 'ControlNet is more important' are not available); "
                     "send 0 (Balanced)"),
    "resize_mode": ((None, 0, 1, "Just Resize", "Crop and Resize", "ResizeMode.RESIZE", "ResizeMode.INNER_FIT"),
                    "the control image is resized to the output's size here (a warning says when that changes its "
                    "shape); send 0 (Just Resize) or 1 (Crop and Resize)"),
    "threshold_a": ((None, -1, 64, 100), "Canny's thresholds follow each image's gradients here (scikit-image): "
                    "leave threshold_a out"),
    "threshold_b": ((None, -1, 64, 200), "Canny's thresholds follow each image's gradients here (scikit-image): "
                    "leave threshold_b out"),
}
"""The ControlNet extension's unit fields with no feature here: the values accepted, and why any other is refused
(processor_res and pixel_perfect change nothing: the edges are found at the output's size). resize_mode 1, the
extension's default, is accepted: a control image of the output's shape is the same cropped or resized, one of
another shape is resized (not cropped) and the response's warnings say so."""


def _unit_problems(unit: dict, module: str | None) -> list[str]:
    problems = []
    for field, (unchanged, why) in CONTROLNET_UNIT_FIELDS.items():
        if field.startswith("threshold") and module != "canny":
            continue  # the extension too ignores a preprocessor's thresholds where it has none
        if field in unit and unit[field] not in unchanged:
            problems.append(f"{field} {_shown(unit[field])}: {why}")
    image = unit.get("image")
    if isinstance(image, dict) and image.get("mask"):
        problems.append("image.mask: a ControlNet's own mask is not available here; send the image alone")
    return problems


def _controlnets(body: Txt2ImgCreate) -> tuple[list[dict], list[int]]:
    """The ControlNet extension's units (`alwayson_scripts.controlnet.args`) as this API's `controlnets`, and the
    index in `args` of each (disabled units are left out)."""
    script = (body.alwayson_scripts or {}).get("controlnet") or {}
    units = script.get("args", []) if isinstance(script, dict) else []
    if not isinstance(units, list) or not all(isinstance(unit, dict) for unit in units):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "alwayson_scripts.controlnet.args: a list of units")
    found, indices = [], []
    for index, unit in enumerate(units):
        if not unit.get("enabled", True):
            continue
        where = f"alwayson_scripts.controlnet.args[{index}]"
        module = unit.get("module")
        if module not in CONTROLNET_MODULES:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                f"{where}.module: {module!r}; here: canny or none")
        if problems := _unit_problems(unit, module):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                "; ".join(f"{where}.{problem}" for problem in problems))
        model = str(unit.get("model") or "").split(" [")[0]  # A1111 lists "name [hash]"
        image = unit.get("image") or unit.get("input_image")
        if isinstance(image, dict):  # the extension's {"image": ..., "mask": ...} form
            image = image.get("image")
        found.append({"model": model, "preprocessor": CONTROLNET_MODULES[module], "scale": unit.get("weight", 1.0),
                      "start": unit.get("guidance_start", 0.0), "end": unit.get("guidance_end", 1.0),
                      "image": image if isinstance(image, str) else None})
        indices.append(index)
    return found, indices


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


CLIENT_NAMES = {
    "num_inference_steps": "steps", "guidance_scale": "cfg_scale", "num_images": "batch_size x n_iter",
    "strength": "denoising_strength", "hires_scale": "hr_scale", "hires_strength": "denoising_strength",
    "hires_steps": "hr_second_pass_steps", "hires_upscaler": "hr_upscaler", "init_image": "init_images[0]",
    "mask_image": "mask", "masked_content": "inpainting_fill", "mask_invert": "inpainting_mask_invert",
}
"""This API's field names, as the A1111 fields they are sent in (those that depend on the request aside)."""
CONTROLNET_NAMES = {"scale": "weight", "start": "guidance_start", "end": "guidance_end", "preprocessor": "module"}
"""A ControlNet unit's fields, as the ControlNet extension's."""


class ClientTerms:
    """Errors in the terms of the A1111 request that caused them: this API's field names, in a location or in a
    message (the engine's, or a validator's), become those the client sent."""

    def __init__(self, body: Txt2ImgCreate, model_field: str, clip_skip_field: str, unit_indices: list[int]):
        self.names = {**CLIENT_NAMES, "model_name": model_field, "clip_skip": clip_skip_field}
        self.sampler_field = "sampler_index" if body.sampler_index and not body.sampler_name else "sampler_name"
        self.unit_indices = unit_indices

    def _unit(self, index: int) -> str:
        sent = self.unit_indices[index] if index < len(self.unit_indices) else index
        return f"alwayson_scripts.controlnet.args[{sent}]"

    def text(self, message: str, unit_fields: bool = False) -> str:
        names = {**self.names, **(CONTROLNET_NAMES if unit_fields else {})}
        message = re.sub(r"(?<![\w.])controlnets\[(\d+)\]", lambda match: self._unit(int(match.group(1))), message)
        pattern = r"(?<![\w.\[])(" + "|".join(sorted(names, key=len, reverse=True)) + r")(?!\w)"
        return re.sub(pattern, lambda match: names[match.group(1)], message)

    def _where(self, loc: tuple) -> str:
        if loc == ("sampler",):
            return self.sampler_field
        if loc[0] == "controlnets" and len(loc) > 1:
            return ".".join([self._unit(loc[1]), *(CONTROLNET_NAMES.get(str(part), str(part)) for part in loc[2:])])
        return ".".join(self.names.get(str(part), str(part)) for part in loc)

    def problem(self, problem: dict) -> str:
        message = problem["msg"].removeprefix("Value error, ")
        if not problem["loc"]:  # a rule across several fields: its message names them
            return self.text(message)
        return f"{self._where(problem['loc'])}: {self.text(message, unit_fields=problem['loc'][0] == 'controlnets')}"

    def error(self, error: HTTPException) -> HTTPException:
        detail = self.text(error.detail) if isinstance(error.detail, str) else error.detail
        return HTTPException(error.status_code, detail, headers=error.headers)


async def _generate(services: Services, body: Txt2ImgCreate, **mode):
    model_name, model_field = _checkpoint(services, body)
    clip_skip, clip_skip_field = _clip_skip(services, body)
    controlnets, unit_indices = _controlnets(body)
    terms = ClientTerms(body, model_field, clip_skip_field, unit_indices)
    try:
        sampler = a1111_sampler(body.sampler_name or body.sampler_index or "Euler a", body.scheduler)
    except ShoegenError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"scheduler: {error}") from None
    try:
        request_body = GenerateCreate(
            prompt=body.prompt or " ", negative_prompt=body.negative_prompt, model_name=model_name,
            num_images=body.batch_size * body.n_iter, num_inference_steps=body.steps,
            guidance_scale=body.cfg_scale, seed=None if body.seed == -1 else body.seed,
            sampler=sampler, width=body.width, height=body.height,
            clip_skip=clip_skip, controlnets=controlnets, **mode,
        )
    except ValidationError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            "; ".join(terms.problem(problem) for problem in error.errors())) from None
    try:
        job = await wait_for(services, submit(services, to_generation_request(request_body, services)))
    except HTTPException as error:
        raise terms.error(error) from None
    infotexts = [format_a1111_parameters(image.params) for image in job.images]
    seeds = [image.params.seed for image in job.images]
    params = job.images[0].params
    width, height = params.first_pass_size  # A1111's: the first pass's with the hires fix
    info = {"prompt": body.prompt, "negative_prompt": body.negative_prompt, "seed": seeds[0], "all_seeds": seeds,
            "steps": body.steps, "cfg_scale": body.cfg_scale, "width": width, "height": height,
            "clip_skip": params.clip_skip, "sampler_name": params.sampler, "sd_model_name": request_body.model_name,
            "infotexts": infotexts, "gallery_ids": [image.id for image in job.images],
            "warnings": job.warnings}
    return GenerationResponse(images=[png_base64(image.path) for image in job.images],
                              parameters=body.model_dump(exclude={"init_images", "mask", "alwayson_scripts"}),
                              info=json.dumps(info))


@router.post("/txt2img", response_model=GenerationResponse, summary="AUTOMATIC1111 txt2img (with the hires fix)")
async def txt2img(body: Txt2ImgCreate, services: ServicesDep) -> GenerationResponse:
    hires = dict(hires_scale=_hires_scale(services, body), hires_strength=body.denoising_strength,
                 hires_steps=body.hr_second_pass_steps or None,
                 hires_upscaler=_upscaler(services, body.hr_upscaler)) if body.enable_hr else {}
    return await _generate(services, body, **hires)


def _hires_scale(services: Services, body: Txt2ImgCreate) -> float:
    """hr_scale, or the scale that makes hr_resize_x x hr_resize_y (A1111's "resize to") from the first pass's size:
    one factor for both sides, as the hires fix here scales."""
    x, y = body.hr_resize_x, body.hr_resize_y
    if not (x or y):
        return body.hr_scale
    width, height = body.width, body.height
    if width is None or height is None:
        try:
            native = services.engine.native_size()
        except ShoegenError as error:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"the base model is not available: {error}") \
                from None
        width, height = width or native[0], height or native[1]
    scale = x / width if x else y / height
    wanted = f"hr_resize_x x hr_resize_y {x}x{y}" if x and y else (f"hr_resize_x {x}" if x else f"hr_resize_y {y}")
    if not 1 <= scale <= 4:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{wanted}: the hires fix scales {width}x{height} "
                            f"by 1 to 4 (this would be {scale:.2f})")
    result = scaled_size((width, height), scale)
    if (x and result[0] != x) or (y and result[1] != y):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{wanted}: the hires fix scales both sides of "
                            f"{width}x{height} alike, in multiples of 8, which makes {result[0]}x{result[1]}: send one "
                            "of them, or hr_scale")
    return scale


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


@router.get("/schedulers", response_model=list[dict], summary="Schedule types (A1111 1.9+), in AUTOMATIC1111's shape")
def schedulers() -> list[dict]:
    return [{"name": name, "label": label, "aliases": None, "default_rho": 7.0 if name == "karras" else -1,
             "need_inner_model": False} for name, label in A1111_SCHEDULES.items()]


@router.get("/progress", response_model=dict, summary="Progress of the running job, in AUTOMATIC1111's shape")
def progress(services: ServicesDep) -> dict:
    job = services.jobs.running()
    fraction = job.step / job.total_steps if job and job.total_steps else 0.0
    return {"progress": fraction, "eta_relative": 0.0,
            "state": {"job_count": services.jobs.depth() + (1 if job else 0), "sampling_step": job.step if job else 0,
                      "sampling_steps": job.total_steps if job else 0, "job": job.id if job else "",
                      "interrupted": False, "skipped": False},
            "current_image": None, "textinfo": None}


@router.get("/options", response_model=dict, summary="Options; only sd_model_checkpoint and "
            "CLIP_stop_at_last_layers mean something here")
def get_options(services: ServicesDep) -> dict:
    return {SDAPI_CHECKPOINT: _current_checkpoint(services), SDAPI_CLIP_SKIP: _current_clip_skip(services)}


@router.post("/options", response_model=dict, summary="Set sd_model_checkpoint (the default model for /sdapi) and "
             "CLIP_stop_at_last_layers (the default Clip skip); A1111's other options are ignored")
def set_options(body: OptionsCreate, services: ServicesDep) -> dict:
    name, clip_skip = body.sd_model_checkpoint, body.CLIP_stop_at_last_layers
    # Both checked before either is stored: a refused request changes nothing.
    if name is not None and name != services.engine.base_model and \
            name not in {m.name for m in services.engine.list_models()}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown model {name!r}; see GET /sdapi/v1/sd-models")
    if clip_skip is not None:
        try:
            services.engine.check_clip_skip(clip_skip, SDAPI_CLIP_SKIP)
        except ShoegenError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from None
    if name is not None:
        services.sdapi_checkpoint = None if name == services.engine.base_model else name
    if clip_skip is not None:
        OptionStore(services.gallery).set(SDAPI_CLIP_SKIP, None if clip_skip == LIMITS["clip_skip"].default
                                          else clip_skip)
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
