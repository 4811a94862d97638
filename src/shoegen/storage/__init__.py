"""The persistent gallery: generated images as PNG files with embedded parameters plus database rows; and the durable
job queue in the same database (`JobStore`).

Imports only SQLAlchemy, Alembic (when a gallery opens) and Pillow (never torch, diffusers or FastAPI): the
engine-free service layer and the CLI load it and must start fast.
"""

from shoegen.storage.export import write_zip
from shoegen.storage.gallery import (
    MAX_PAGE_SIZE,
    Gallery,
    ImageFilter,
    Page,
    ReconcileReport,
    SortOrder,
)
from shoegen.storage.jobs import JobEvent, JobState, JobStore, QueueFull
from shoegen.storage.options import OptionStore
from shoegen.storage.png import format_a1111_parameters, read_png_parameters, save_png_with_parameters
from shoegen.storage.stored import StoredImage

__all__ = [
    "MAX_PAGE_SIZE",
    "Gallery",
    "ImageFilter",
    "JobEvent",
    "JobState",
    "JobStore",
    "OptionStore",
    "Page",
    "QueueFull",
    "ReconcileReport",
    "SortOrder",
    "StoredImage",
    "format_a1111_parameters",
    "read_png_parameters",
    "save_png_with_parameters",
    "write_zip",
]
