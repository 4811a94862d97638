"""Request and response shapes: the OpenAPI contract the web UI's client is generated from.
`XCreate` are request bodies, `XPublic` responses; the original system's fields keep their names."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shoegen.config.generation import MAX_CONTROLNETS, ControlNetUnit, GenerationParams, ImageParams
from shoegen.config.scores import PRESETS, CatalogueScores


class ControlNetCreate(ControlNetUnit):
    image: str | None = Field(None, description="the control image, base64 PNG/JPEG (or a data URL); none: the "
                              "photo (init_image)")


class GenerateCreate(GenerationParams):
    """The original system's generate body (`prompt`, `model_name`, `num_images`, `num_inference_steps`,
    `guidance_scale`, `seed`), plus the other generation parameters and img2img's start image."""

    init_image: str | None = Field(None, description="img2img: the start image; inpaint, background, outpaint: the "
                                   "photo; base64 PNG/JPEG (or a data URL)")
    mask_image: str | None = Field(None, description="inpaint: white where the photo is repainted; background: "
                                   "white on the product (found automatically when absent); base64 PNG (or a data "
                                   "URL), the photo's size (another size is resized, with a warning)")
    controlnets: tuple[ControlNetCreate, ...] = Field((), max_length=MAX_CONTROLNETS, description=(
        "ControlNets conditioning the generation, each with its control image (several at once: their effects add "
        "up), in every mode but the hires fix's second pass"))


class ImagePublic(BaseModel):
    id: str = Field(description="gallery id")
    image: str = Field(description="base64 PNG with embedded parameters")
    seed: int
    metadata: ImageParams = Field(description="the parameters the image was generated with")


class GeneratePublic(BaseModel):
    success: bool
    images: list[ImagePublic]
    generation_time: float
    warnings: list[str] = Field(default_factory=list, description="e.g. a size far from the base's native size")


class ModelPublic(BaseModel):
    name: str
    path: str
    type: str = Field(description="base | final | checkpoint | best (RUN/best, the evaluation's pick) | lora")
    step: int | None = None


class ModelsPublic(BaseModel):
    models: list[ModelPublic]
    native_width: int = Field(description="the base model's native width: the default of every request")
    native_height: int = Field(description="the base model's native height: the default of every request")
    far_from_native: float = Field(description="a side over this many times the native one, or under its inverse, "
                                               "is generated but warned about (noise, repeated products)")


class JobPublic(BaseModel):
    id: str
    kind: str = Field("generation", description="generation | training (a training run: see /api/runs)")
    status: str = Field(description="queued | running | done | error | cancelled; training: also stopped | "
                        "interrupted")
    step: int
    total_steps: int
    created_at: datetime
    image_ids: list[str]
    error: str | None = None
    generation_time: float | None = None
    warnings: list[str] = Field(default_factory=list, description="e.g. a size far from the base's native size")


JobStatus = Literal["queued", "running", "done", "error", "cancelled", "stopped", "interrupted"]
"""stopped and interrupted: training jobs only (on request after a checkpoint; their worker died)."""


class JobsPublic(BaseModel):
    items: list[JobPublic] = Field(description="the newest first, submitted to any replica sharing the database")
    limit: int


class QueuedEvent(BaseModel):
    event: Literal["queued"] = "queued"
    position: int = Field(description="place in the queue, 1 for the next job to run")


class StartedEvent(BaseModel):
    event: Literal["started"] = "started"
    batch_size: int = Field(description="jobs running together in one pipeline call")


class ProgressEvent(BaseModel):
    event: Literal["progress"] = "progress"
    step: int
    total: int = Field(description="denoising iterations this job runs")
    preview: str | None = Field(None, description="base64 PNG preview of the image so far (SHOEGEN_PREVIEW_EVERY)")


class DoneEvent(BaseModel):
    event: Literal["done"] = "done"
    image_ids: list[str]
    warnings: list[str] | None = None


class ErrorEvent(BaseModel):
    event: Literal["error"] = "error"
    error: str


class CancelledEvent(BaseModel):
    event: Literal["cancelled"] = "cancelled"


class StoppedEvent(BaseModel):
    """A training job stopped on request, after writing a checkpoint."""

    event: Literal["stopped"] = "stopped"


class InterruptedEvent(BaseModel):
    """A training job whose worker stopped (restart, crash): resumable from its last checkpoint."""

    event: Literal["interrupted"] = "interrupted"
    error: str


JobEventPublic = Annotated[QueuedEvent | StartedEvent | ProgressEvent | DoneEvent | ErrorEvent | CancelledEvent
                           | StoppedEvent | InterruptedEvent, Field(discriminator="event")]
"""One event of GET /api/jobs/{id}/events: the SSE `event:` line is `event`, the `data:` line the other fields."""


class HelperModelPublic(BaseModel):
    """A ControlNet or an upscaler a request can name."""

    name: str = Field(description="what `controlnets[].model` or `hires_upscaler` takes")
    source: Literal["built-in", "folder", "hub cache", "file"] = Field(
        description="built-in (no weights to fetch), folder (MODELS_DIR/controlnets/), hub cache (a hub id found in "
                    "the local Hugging Face cache), file (MODELS_DIR/upscalers/)")


class SamplerPublic(BaseModel):
    """A sampler in AUTOMATIC1111's shape (GET /sdapi/v1/samplers)."""

    name: str
    aliases: list[str]
    options: dict[str, str] = Field(default_factory=dict)


class GalleryImagePublic(ImageParams):
    """A gallery image: its parameters, its catalogue scores, and where it is."""

    id: str
    created_at: datetime
    job_id: str | None = None
    image_url: str
    scores: CatalogueScores | None = Field(None, description="its catalogue scores; null for images stored before "
                                                             "scoring existed (`shoegen gallery rescore` adds them)")


PresetName = Literal[tuple(PRESETS)]  # type: ignore[valid-type]
"""A marketplace preset's name (GET /api/presets describes them): an enum in the OpenAPI schema."""


class GalleryImagesPublic(BaseModel):
    items: list[GalleryImagePublic]
    total: int
    offset: int
    limit: int


class GalleryExportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] | None = Field(None, max_length=10000, description="these images; or omit to use the filter")
    model: str | None = None
    q: str | None = Field(None, max_length=500)
    created_after: datetime | None = None
    created_before: datetime | None = None


class HealthPublic(BaseModel):
    status: str
    device: str | None = None
    base_model: str | None = None
    base_model_loaded: bool | None = None
    loaded_models: list[str] | None = None
    memory: dict | None = None
    queue: dict | None = None
    versions: dict | None = None
