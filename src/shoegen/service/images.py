"""Images crossing the HTTP boundary: base64 or raw bytes in (decoded under a pixel limit), base64 PNG out."""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path

from fastapi import HTTPException, status
from PIL import Image

from shoegen.data.images import ImageError, ImageTooLarge, decode_mask, decode_rgb


def decode_image(data: str, max_pixels: int, field: str = "init_image", *, mask: bool = False) -> Image.Image:
    """A base64 (optionally data-URL) image, refused before decoding when its header says it is too big; decoded
    as `decode_image_bytes` does."""
    if data.startswith("data:"):
        data = data.partition(",")[2]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{field}: not valid base64") from None
    return decode_image_bytes(raw, max_pixels, field, mask=mask)


def decode_image_bytes(raw: bytes, max_pixels: int, field: str = "image", *, mask: bool = False) -> Image.Image:
    """An image file's bytes (an upload), refused before decoding when its header says it is too big (413); decoded
    as the command line decodes a file (`data.images.decode_rgb`, or `decode_mask` for a `mask`)."""
    try:
        return (decode_mask if mask else decode_rgb)(raw, Path(field), max_pixels=max_pixels)
    except ImageTooLarge as error:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"{field}: {error.reason}") from None
    except ImageError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{field}: {error.reason}") from None


def image_base64(image: Image.Image) -> str:
    """An image as base64 PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def png_base64(path) -> str:
    """A PNG file's bytes as base64 (its embedded parameters kept)."""
    with open(path, "rb") as handle:
        return base64.b64encode(handle.read()).decode()
