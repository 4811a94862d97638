"""Opening product photos as they come from catalogues: any common format, color mode, bit depth
and EXIF orientation in; a plain 8-bit RGB image, upright, on white out. Every way a file can be
broken becomes one `ImageError` naming the file, so callers have a single thing to catch."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps

from shoegen.errors import ShoegenError

DEFAULT_MAX_PIXELS = 64_000_000
WHITE = (255, 255, 255)
# EXIF orientations 5 to 8 are rotations by a quarter turn: width and height trade places.
_QUARTER_TURN_ORIENTATIONS = frozenset({5, 6, 7, 8})
_HIGH_BIT_DEPTH_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_MODES_WITH_ALPHA = frozenset({"RGBA", "LA", "PA"})


class ImageError(ShoegenError):
    """An image file that cannot be used; `reason` is the short cause, the message adds the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}. Re-export the file or remove it from the dataset.")
        self.path = path
        self.reason = reason


class ImageTooLarge(ImageError):
    """An image over the pixel limit, said by its header before anything is decoded (or a decompression bomb)."""


@dataclass(frozen=True)
class ImageInfo:
    """What the file header says, with width and height as the photo is displayed (after EXIF rotation)."""

    width: int
    height: int
    mode: str
    """Pillow's color mode of the stored pixels: RGB, RGBA, L, P, CMYK, I;16, ..."""
    format: str
    exif_orientation: int
    """1 when upright; 2 to 8 when the viewer must flip or rotate the stored pixels."""


def image_info(path: Path) -> ImageInfo:
    """Reads only the header of `path` (no pixel decoding), raising ImageError when it is not an image."""
    with _reading(path) as image:
        # PNG's getexif() decodes every pixel to look for EXIF stored after them; a header read
        # takes only EXIF stored before the pixels, which is where writers put it.
        header_only_png = image.format == "PNG" and "exif" not in image.info
        orientation = 1 if header_only_png else _exif_orientation(image)
        width, height = image.size
        if orientation in _QUARTER_TURN_ORIENTATIONS:
            width, height = height, width
        return ImageInfo(width, height, image.mode, image.format or "unknown", orientation)


def open_rgb(path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decodes all of `path` into an upright 8-bit RGB image; transparent areas become white.

    Raises ImageError when the file is unreadable, corrupt or truncated, has no pixels, or has more
    than `max_pixels` pixels (checked from the header, before anything is decoded)."""
    return _to_rgb(_open_upright(path, max_pixels), path)


def open_mask(path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decodes the mask at `path` (white: repaint) as `as_mask` reads it; ImageError as `open_rgb`."""
    return as_mask(_open_upright(path, max_pixels), path)


def decode_rgb(data: bytes, source: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """An image file's bytes (an upload, named `source` in errors) decoded as `open_rgb` decodes a file."""
    return _to_rgb(_open_upright(source, max_pixels, data), source)


def decode_mask(data: bytes, source: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """A mask file's bytes decoded as `open_mask` decodes a file."""
    return as_mask(_open_upright(source, max_pixels, data), source)


def as_mask(image: Image.Image, source: Path) -> Image.Image:
    """A mask (mode L, white: repaint), upright: one with transparency is its alpha channel, the painted part
    being what is opaque (a mask drawn on a transparent layer, as AUTOMATIC1111 reads one); any other, its
    brightness."""
    image = _upright(image)
    if image.mode in _MODES_WITH_ALPHA or "transparency" in image.info:
        alpha = image.convert("RGBA").getchannel("A")
        if alpha.getextrema() != (255, 255):
            return alpha
    return _to_rgb(image, source).convert("L")


def _upright(image: Image.Image) -> Image.Image:
    # Only when needed: for upright photos exif_transpose would copy every pixel once more.
    return ImageOps.exif_transpose(image) if _exif_orientation(image) != 1 else image


def _open_upright(path: Path, max_pixels: int, data: bytes | None = None) -> Image.Image:
    """All of `path` (or `data`, the bytes of a file named `path`) decoded and turned upright, in its own mode."""
    with _reading(path, data) as image:
        width, height = image.size
        if width == 0 or height == 0:
            raise ImageError(path, f"the image is empty ({width}x{height} pixels)")
        if width * height > max_pixels:
            raise ImageTooLarge(
                path,
                f"{width}x{height} is {width * height:,} pixels, over the pixel limit of {max_pixels:,}; downscale it",
            )
        # Decoding everything now is what exposes truncation; lazy loading would fail mid-training.
        image.load()
        return _upright(image)


@contextmanager
def _reading(path: Path, data: bytes | None = None) -> Iterator[Image.Image]:
    """Opens `path` (or `data`, its bytes) with Pillow and turns every failure while it is open into ImageError.

    The file, not the image, is closed afterwards: a loaded image keeps its pixels, where closing
    it would discard them and force a copy."""
    try:
        with (path.open("rb") if data is None else io.BytesIO(data)) as file, warnings.catch_warnings():
            # Pillow only warns between its limit and twice its limit; a warning would print and
            # then decode a possibly hostile file, so it is treated like the error above that range.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield Image.open(file)
    except ImageError:
        raise
    except FileNotFoundError as error:
        raise ImageError(path, "file not found") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge(path, f"too many pixels to open safely ({error})") from error
    except Image.UnidentifiedImageError as error:
        raise ImageError(path, "not an image, or in a format Pillow cannot read") from error
    except Exception as error:
        # Pillow's decoders report broken files with a zoo of exception types (OSError for
        # truncation, SyntaxError for bad PNG chunks, ValueError, struct.error, ...). Training must
        # never stop on one bad file, so they all become "this file is broken".
        raise ImageError(path, f"corrupt or truncated image ({type(error).__name__}: {error})") from error


def _exif_orientation(image: Image.Image) -> int:
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    return orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


def _to_rgb(image: Image.Image, path: Path) -> Image.Image:
    if image.mode == "RGB" and "transparency" not in image.info:
        return image
    if image.mode in _HIGH_BIT_DEPTH_MODES:
        image = _to_8_bit_gray(image)
    try:
        if image.mode in _MODES_WITH_ALPHA or "transparency" in image.info:
            return _flatten_on_white(image)
        return image.convert("RGB")
    except ValueError as error:
        raise ImageError(path, f"unsupported color mode {image.mode} ({error})") from error


def _to_8_bit_gray(image: Image.Image) -> Image.Image:
    """Scales 16-bit (or 32-bit) gray to 0..255; Pillow's own convert clips it, turning photos white."""
    pixels = np.asarray(image, dtype=np.float64)
    peak = float(pixels.max(initial=0.0))
    if image.mode.startswith("I;16"):
        full_scale = 65535.0
    elif image.mode == "F" and peak <= 1.0:
        full_scale = 1.0
    elif peak > 255:
        # Mode "I" carries no bit depth; files that use values above 255 are 16-bit in practice.
        full_scale = 65535.0
    else:
        full_scale = 255.0
    eight_bit = np.clip(np.rint(pixels * (255.0 / full_scale)), 0, 255).astype(np.uint8)
    return Image.fromarray(eight_bit)


def _flatten_on_white(image: Image.Image) -> Image.Image:
    """Product photos with a transparent background are meant to be shown on white."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*WHITE, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")
