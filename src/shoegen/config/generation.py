"""A generation's parameters, one typed shape with its bounds, defaults and help.

`GenerationParams` is what a caller asks for; the API's request body, the engine's request and the
`shoegen generate` flags are built from its fields. `ImageParams` is what one generated image was made
with (seed, size and adapters resolved); the gallery stores it, PNGs embed it, exports list it. Both
share `GenerationSettings`, so a parameter added there reaches every one of them. The field names are
the original API's wire names (`model_name`, `num_images`, `num_inference_steps`, `guidance_scale`, `seed`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from shoegen.config.samplers import DEFAULT_SAMPLER, SAMPLER_NAMES, find_sampler
from shoegen.errors import ShoegenError

MAX_REQUEST_SEED = 2**32 - 1
"""Seeds a caller may ask for (what AUTOMATIC1111 and CPU generators accept)."""
MAX_STORED_SEED = 2**63 - 1
"""Seeds an image record may hold: a signed 64-bit column (PostgreSQL has no unsigned BIGINT)."""
MAX_PROMPT_LENGTH = 4000
MAX_MODEL_NAME_LENGTH = 255
"""Also the gallery column's width: checked here because SQLite would accept longer values and PostgreSQL
reject them, and the behaviour should not depend on the database."""
MAX_SAMPLER_LENGTH = 64
MAX_SIDE = 2048
"""The longest side of an image, at every stage: the first pass, the hires fix's result and an outpaint's canvas
(a 2048 x 2048 image is 64 SD1.5 latent tiles a step; larger ones hold the one worker for many minutes)."""
MAX_LORAS = 8
MAX_IMAGES = 10
# The bounds of each kind of value, shared by every shape that carries one (the AUTOMATIC1111-compatible
# routes spell the fields their own way, with their own defaults, under the same bounds).


def _not_true_or_false(value: Any) -> Any:
    # Pydantic reads JSON's true as 1 where a number is expected: `"width": true` is a mistake, not width 1.
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


NOT_TRUE_OR_FALSE = BeforeValidator(_not_true_or_false)
PromptText = Annotated[str, Field(max_length=MAX_PROMPT_LENGTH)]
Steps = Annotated[int, Field(ge=1, le=150), NOT_TRUE_OR_FALSE]
Guidance = Annotated[float, Field(ge=0.0, le=30.0, allow_inf_nan=False), NOT_TRUE_OR_FALSE]
Side = Annotated[int, Field(ge=64, le=MAX_SIDE, multiple_of=8), NOT_TRUE_OR_FALSE]
ImageCount = Annotated[int, Field(ge=1, le=MAX_IMAGES), NOT_TRUE_OR_FALSE]
Strength = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False), NOT_TRUE_OR_FALSE]
ClipSkip = Annotated[int, Field(ge=1, le=12), NOT_TRUE_OR_FALSE]
RequestSeed = Annotated[int, Field(ge=0, le=MAX_REQUEST_SEED), NOT_TRUE_OR_FALSE]
UpscalerName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._+()-]*$")]
Mode = Literal["txt2img", "img2img", "inpaint", "background", "outpaint"]
MODES = get_args(Mode)
MASK_MODES = ("inpaint", "background", "outpaint")
"""Modes that repaint part of a photo and return the rest of it exactly."""
MaskedContent = Literal["original", "fill", "latent_noise", "latent_nothing"]
LEGACY_NAMES = {"model": "model_name", "steps": "num_inference_steps"}
"""Keys of image records written before the wire names were used everywhere."""


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """`size` times `scale` in multiples of 8 (at least 64 a side): the hires fix's second-pass size."""
    return tuple(max(64, round(side * scale / 8) * 8) for side in size)


def check_size(size: tuple[int, int], hires_scale: float | None = None, what: str = "width x height",
               scale: str = "hires_scale") -> None:
    """Refuse an image (or, with `hires_scale`, the hires fix's result) with a side over MAX_SIDE (`what` and `scale`
    name the size and the scale as the caller does)."""
    final = scaled_size(size, hires_scale) if hires_scale is not None else size
    if max(final) <= MAX_SIDE:
        return
    if hires_scale is None:
        raise ShoegenError(f"{what} {size[0]}x{size[1]} is over the {MAX_SIDE} px limit a side")
    largest = MAX_SIDE / max(size)
    advice = (f"use a {scale} of at most {largest:.2f}" if largest > 1 else
              f"ask for a smaller {what}")
    raise ShoegenError(f"the hires fix would make {size[0]}x{size[1]} x {hires_scale:g} = {final[0]}x{final[1]}, "
                       f"over the {MAX_SIDE} px limit a side: {advice}")


class LoraWeight(BaseModel):
    """One LoRA adapter applied to the generation, and the strength it is applied with."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str = Field(min_length=1, max_length=MAX_MODEL_NAME_LENGTH)
    """Adapter name as `shoegen models` and GET /api/models list it, e.g. "shoes-v1" or "run/checkpoint-500"."""
    weight: float = Field(1.0, ge=-4.0, le=4.0, allow_inf_nan=False)
    """Adapter scale; 1.0 is the strength it was trained at."""


class AppliedLora(BaseModel):
    """An adapter as an image records it: what was applied, whatever the request limits of the version that made
    it (older ones let `<lora:...>` tags set any weight and any number of adapters)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str = Field(min_length=1)
    weight: float = Field(allow_inf_nan=False)


class ControlNetUnit(BaseModel):
    """One ControlNet conditioning the generation."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    model: str = Field(min_length=1, max_length=MAX_MODEL_NAME_LENGTH)
    """A diffusers SD1.x ControlNet: a hub id (e.g. lllyasviel/control_v11p_sd15_canny), a folder name of
    MODELS_DIR/controlnets/, or `tiny` (random weights, to try the code path)."""
    preprocessor: Literal["canny", "none"] = "canny"
    """canny: the edges of the control image (scikit-image's Canny), or of the photo when none is given; none: the
    control image as given (a ready edge, depth or pose map)."""
    scale: float = Field(1.0, ge=0.0, le=2.0, allow_inf_nan=False)
    """Conditioning scale: 0 turns it off, 1 is the strength it was trained at."""
    start: float = Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False)
    """Fraction of the denoising steps at which it starts acting."""
    end: float = Field(1.0, ge=0.0, le=1.0, allow_inf_nan=False)
    """Fraction of the denoising steps at which it stops acting."""

    @model_validator(mode="after")
    def _ordered(self) -> ControlNetUnit:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


MAX_CONTROLNETS = 3


class GenerationSettings(BaseModel):
    """The parameters a request and the images it produces have in common."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    prompt: Annotated[PromptText, Field(min_length=1)]
    """What to draw; `<lora:name:weight>` tags apply adapters."""
    negative_prompt: PromptText = ""
    """What to avoid."""
    num_inference_steps: Steps = 30
    """Denoising steps."""
    guidance_scale: Guidance = 7.5
    """Classifier-free guidance scale: how strongly the image follows the prompt."""
    sampler: str = Field(DEFAULT_SAMPLER, max_length=MAX_SAMPLER_LENGTH,
                         description=f"Sampler, in AUTOMATIC1111's spelling: one of {', '.join(SAMPLER_NAMES)}.")
    clip_skip: ClipSkip = 1
    """AUTOMATIC1111's "Clip skip": 1 uses the text encoder's last layer, 2 the one before it (what many SD1.5
    LoRAs were trained with), and so on."""

    @field_validator("sampler")
    @classmethod
    def _known_sampler(cls, value: str) -> str:
        try:
            return find_sampler(value).name
        except ShoegenError as error:
            raise ValueError(str(error)) from None


class GenerationParams(GenerationSettings):
    """What a caller asks for."""

    loras: tuple[LoraWeight, ...] = Field((), max_length=MAX_LORAS)
    """Adapters to apply on top of `model_name`, each with its weight."""
    model_name: str | None = Field(None, max_length=MAX_MODEL_NAME_LENGTH)
    """Base model or adapter (e.g. `run/checkpoint-500`) to generate with; none: the base model alone."""
    num_images: ImageCount = 1
    """Images to generate; image i gets seed + i."""
    seed: RequestSeed | None = None
    """The first image's seed; none: a random one, recorded with the image."""
    width: Side | None = None
    """Pixels; none: the base model's native size (512 for SD1.5, 64 for the demo base)."""
    height: Side | None = None
    """Pixels; none: the base model's native size."""
    strength: Strength = 0.75
    """img2img and inpaint: how much of the start image is repainted (1 repaints everything)."""
    mode: Mode | None = None
    """txt2img; img2img (repaint a start image); inpaint (repaint inside a mask, the rest returned exactly);
    background (keep the product of a photo, its pixels exact, and generate the scene around it from the prompt;
    the product is found automatically unless a mask is given); outpaint (extend a photo to width x height, the
    original region returned exactly). None: img2img with a start image, else txt2img."""
    mask_blur: Annotated[int, NOT_TRUE_OR_FALSE] = Field(4, ge=0, le=64)
    """inpaint, background, outpaint: pixels over which the repainted area fades into the kept one."""
    masked_content: MaskedContent = "original"
    """inpaint: what the masked area starts from (AUTOMATIC1111's "masked content"): original (the photo, repainted
    by `strength`), fill (the colours around it), latent_noise (pure noise, strength 1), latent_nothing (grey)."""
    mask_invert: bool = False
    """inpaint: repaint outside the mask instead of inside; background: the given mask marks the background."""
    outpaint_fill: Literal["scene", "white"] = "scene"
    """outpaint: the new area is generated from the prompt (scene) or filled with the photo's own background colour
    (white: a catalogue format, no generation)."""
    aspect_ratio: str | None = Field(None, pattern=r"^[1-9][0-9]?:[1-9][0-9]?$", examples=["1:1", "4:5", "16:9"])
    """outpaint: the new format as width:height (1:1, 4:5, 3:4, 16:9, ...), the photo's longer side kept at about
    the base's native size; or give width and height."""
    placement: Literal["keep", "center"] = "keep"
    """outpaint: the photo stays as it is, in the middle of the new format (keep), or is moved so that its product
    is in the middle (center)."""
    hires_scale: Annotated[float, Field(ge=1.0, le=4.0, allow_inf_nan=False), NOT_TRUE_OR_FALSE] | None = None
    """The "hires fix": generate at the size asked for, upscale by this factor, then repaint at `hires_strength`
    (e.g. 2: 1024 px from SD1.5). In inpaint, background and outpaint the second pass repaints only what the first
    one did: the kept photo comes back exactly, resized from the photo itself. None: off."""
    hires_strength: Strength = 0.5
    """The hires fix's denoising strength (low keeps the first pass's composition, high adds detail and drift)."""
    hires_steps: Steps | None = None
    """The hires fix's denoising steps (None: `num_inference_steps`)."""
    hires_upscaler: UpscalerName = "lanczos"
    """The hires fix's upscaler: lanczos (built in), or the name of an ESRGAN-family model file in
    MODELS_DIR/upscalers/ (e.g. 4x-UltraSharp, RealESRGAN_x4plus); its output is resized to `hires_scale`."""
    controlnets: tuple[ControlNetUnit, ...] = Field((), max_length=MAX_CONTROLNETS)
    """ControlNets conditioning the generation (several at once: their effects add up), in every mode but the
    hires fix's second pass."""

    @model_validator(mode="after")
    def _seeds_within_range(self) -> GenerationParams:
        # Image i gets seed + i, and every image's seed can be asked for again to redo it.
        if self.seed is not None and self.seed + self.num_images - 1 > MAX_REQUEST_SEED:
            raise ValueError(f"`seed` {self.seed} with {self.num_images} images (`num_images`) gives the last one "
                             f"seed {self.seed + self.num_images - 1}, over the largest seed {MAX_REQUEST_SEED}: use "
                             f"a `seed` of at most {MAX_REQUEST_SEED + 1 - self.num_images}")
        return self

    @model_validator(mode="after")
    def _within_size_limit(self) -> GenerationParams:
        # Sizes left to the base's native one are checked by the engine, which knows it.
        if self.width is not None and self.height is not None and self.hires_scale is not None:
            try:
                check_size((self.width, self.height), self.hires_scale, what="`width` x `height`",
                           scale="`hires_scale`")  # each caller names them its way: see describe_problems
            except ShoegenError as error:
                raise ValueError(str(error)) from None
        return self


class ImageParams(GenerationSettings):
    """Everything needed to reproduce (and to search for) one generated image."""

    model_name: str = Field(max_length=MAX_MODEL_NAME_LENGTH)
    """The base model or adapter that generated the image, e.g. "run/checkpoint-500"."""
    prompt: PromptText
    """The prompt as the text encoder read it (without `<lora:...>` tags, which are in `loras`)."""
    loras: tuple[AppliedLora, ...] = ()
    """Every adapter applied, with its weight: `model_name`'s, the request's and the prompt's tags."""
    seed: int = Field(ge=0, le=MAX_STORED_SEED)
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    strength: float | None = Field(None, ge=0.0, le=1.0)
    """img2img denoising strength; None for text-to-image."""
    mode: Mode = "txt2img"
    """How the image was made (images stored before modes existed were txt2img or img2img)."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Anything else worth keeping (base model, device, truncated prompt info); JSON-ready."""

    @model_validator(mode="after")
    def _extra_is_json(self) -> ImageParams:
        try:
            json.dumps(self.extra, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"extra must be JSON-serializable: {error}") from None
        return self

    @property
    def first_pass_size(self) -> tuple[int, int]:
        """The size the first pass ran at, AUTOMATIC1111's Size: with the hires fix, the result's size over its
        scale (the record's `mode_settings.first_pass_size`); else the image's size."""
        size = (self.extra.get("mode_settings") or {}).get("first_pass_size")
        return (size[0], size[1]) if size else (self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; `from_dict` reads it back."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageParams:
        """Inverse of `to_dict`. Unknown keys are ignored so older readers accept newer files, and files written
        before the wire names were used everywhere (`model`, `steps`) are read too."""
        renamed = {LEGACY_NAMES.get(key, key): value for key, value in data.items()}
        if "mode" not in renamed and renamed.get("strength") is not None:
            renamed["mode"] = "img2img"  # written before modes existed: only img2img had a strength
        return cls.model_validate({k: v for k, v in renamed.items() if k in cls.model_fields})
