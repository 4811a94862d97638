"""Request and response shapes of /api/datasets (the studio's datasets), kept beside the other schemas' module
because the report alone is two dozen fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shoegen.data.library import NAME_PATTERN

DatasetName = Annotated[str, Field(min_length=1, max_length=64, pattern=f"^{NAME_PATTERN.pattern}$",
                                   description="1-64 letters, digits, '.', '_' or '-', not starting with '.'")]


class RejectedFilePublic(BaseModel):
    file: str
    reason: str


class DatasetPublic(BaseModel):
    name: str
    path: str = Field(description="the folder, relative to the datasets root")
    layout: Literal["captions.json", "imagefolder", "kohya"] | None = Field(
        description="the caption layout; null when none can be read")
    images: int = Field(description="image files in the folder")
    bytes: int = Field(description="size of the folder's files")
    source: Literal["upload", "registered", "folder"] = Field(
        description="upload: sent through the API (DELETE removes its files); registered: a server folder listed by "
        "name (DELETE forgets the name, the files stay); folder: placed in the datasets root on the server (DELETE "
        "is refused: remove it there)")
    status: Literal["ready", "unusable", "unreadable"] = Field(
        description="ready: training can use some images; unusable: none; unreadable: no caption layout")
    usable: int = Field(description="images a training run would use")
    skipped: int = Field(description="files training would skip (see the report for each, with why)")
    created_at: datetime


class DatasetsPublic(BaseModel):
    datasets: list[DatasetPublic]


class DatasetUploadPublic(DatasetPublic):
    rejected: list[RejectedFilePublic] = Field(
        description="uploaded images that did not decode and were not stored")


class SpreadPublic(BaseModel):
    min: float
    median: float
    max: float


class DatasetReportPublic(BaseModel):
    """`shoegen dataset check`'s report: what training will use, and every file it will skip, by reason."""

    root: str
    layout: str
    min_side: int
    images: int
    captions: int
    ready_to_train: int
    problems: dict[str, int]
    verdict: str
    unreadable: list[RejectedFilePublic]
    too_small: list[RejectedFilePublic]
    images_without_captions: list[str]
    empty_captions: list[str]
    captions_without_images: list[str]
    caption_problems: list[str]
    width: SpreadPublic | None
    height: SpreadPublic | None
    aspect_ratios: dict[str, int]
    color_modes: dict[str, int]
    file_formats: dict[str, int]
    exif_rotated: list[str]
    duplicates: list[list[str]]
    caption_words: SpreadPublic | None
    common_words: dict[str, int]


class DatasetDetailPublic(DatasetUploadPublic):
    report: DatasetReportPublic | None = Field(description="null when the dataset is unreadable")


class DatasetRegister(BaseModel):
    name: DatasetName
    path: str = Field(min_length=1, max_length=4096,
                      description="a folder inside the datasets root: relative to it, or absolute")


class DatasetItemPublic(BaseModel):
    file: str = Field(description="the image, relative to the dataset folder")
    caption: str | None
    image_url: str


class DatasetItemsPublic(BaseModel):
    items: list[DatasetItemPublic]
    total: int


class DatasetCaptionUpdate(BaseModel):
    file: str = Field(min_length=1, max_length=4096)
    caption: str = Field(min_length=1, max_length=4000)


class CaptionTemplateCreate(BaseModel):
    template: str = Field(min_length=1, max_length=4000, description=(
        "the new caption of every image; [color] [season] [gender] [brand] [usage] [year] come from each image's "
        "metadata, [caption] is its current caption"))


class CaptionTemplateAppliedPublic(BaseModel):
    updated: int


class CaptionTemplatePublic(BaseModel):
    name: str
    template: str
