"""Request and response shapes: the OpenAPI contract the web UI's client is generated from.
`XCreate` are request bodies, `XPublic` responses; the original system's fields keep their names."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shoegen.engine.samplers import DEFAULT_SAMPLER, SAMPLERS

SAMPLER_NAMES = tuple(s.name for s in SAMPLERS)
MAX_SEED = 2**32 - 1


class LoraCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300, description="adapter name as listed by GET /api/models")
    weight: float = Field(1.0, ge=-4.0, le=4.0)


class GenerateCreate(BaseModel):
    """The original system's generate body, plus optional fields."""

    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=4000)
    model_name: str | None = Field(None, max_length=300,
                                   description="base model or adapter (e.g. `run/checkpoint-500`); default: base")
    num_images: int = Field(1, ge=1, le=10)
    num_inference_steps: int = Field(30, ge=1, le=150)
    guidance_scale: float = Field(7.5, ge=0.0, le=30.0)
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="first image's seed; image i gets seed+i")
    negative_prompt: str = Field("", max_length=4000)
    sampler: str = Field(DEFAULT_SAMPLER, description=f"one of: {', '.join(SAMPLER_NAMES)}")
    width: int = Field(512, ge=64, le=2048, multiple_of=8)
    height: int = Field(512, ge=64, le=2048, multiple_of=8)
    loras: list[LoraCreate] = Field(default_factory=list, max_length=8)
    init_image: str | None = Field(None, description="base64 PNG/JPEG for img2img")
    strength: float = Field(0.75, gt=0.0, le=1.0, description="img2img: how much of the init image to repaint")

    @field_validator("sampler")
    @classmethod
    def _known_sampler(cls, value: str) -> str:
        from shoegen.engine.samplers import find_sampler
        from shoegen.errors import ShoegenError

        try:
            return find_sampler(value).name
        except ShoegenError as error:
            raise ValueError(str(error)) from None


class ImagePublic(BaseModel):
    id: str = Field(description="gallery id")
    image: str = Field(description="base64 PNG with embedded parameters")
    seed: int
    metadata: dict


class GeneratePublic(BaseModel):
    success: bool
    images: list[ImagePublic]
    generation_time: float


class ModelPublic(BaseModel):
    name: str
    path: str
    type: str = Field(description="base | final | checkpoint | lora")
    step: int | None = None


class ModelsPublic(BaseModel):
    models: list[ModelPublic]


class JobPublic(BaseModel):
    id: str
    status: str = Field(description="queued | running | done | error | cancelled")
    step: int
    total_steps: int
    created_at: datetime
    image_ids: list[str]
    error: str | None = None
    generation_time: float | None = None


class GalleryImagePublic(BaseModel):
    id: str
    created_at: datetime
    prompt: str
    negative_prompt: str
    model: str
    loras: list[dict]
    seed: int
    steps: int
    guidance_scale: float
    sampler: str
    width: int
    height: int
    strength: float | None = None
    job_id: str | None = None
    image_url: str
    params: dict


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
