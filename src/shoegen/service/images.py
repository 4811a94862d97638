"""Images crossing the HTTP boundary: base64 or raw bytes in (decoded under a pixel limit), base64 PNG out."""

from __future__ import annotations

import base64
import binascii
import io
import warnings

from pathlib import Path

from fastapi import HTTPException, status
from PIL import Image

from shoegen.data.images import ImageError, as_mask, upright_rgb


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
    """An image file's bytes (an upload), refused before decoding when its header says it is too big; decoded as
    the command line decodes a file: upright by its EXIF orientation, RGB with transparent areas white, or (a
    `mask`) as `data.images.as_mask` reads one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            width, height = image.size
            if width * height > max_pixels:
                raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                                    f"{field}: {width}x{height} is over the {max_pixels} pixel limit")
            image.load()
    except HTTPException:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                            f"{field}: over the {max_pixels} pixel limit (decompression bomb guard)") from None
    except (OSError, SyntaxError, ValueError):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{field}: not a readable image") from None
    try:
        return as_mask(image, Path(field)) if mask else upright_rgb(image, Path(field))
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
