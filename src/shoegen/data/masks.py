"""The product mask: which pixels of a product photo are the product, found by separating it from the plain
studio background that touches every edge of the frame.

A pixel is product when it differs clearly from the background's colour (the median of the image border), after
specks smaller than a small share of the frame are dropped (noise in a generated background). Inside the convex
hull of what was found, a weaker difference suffices: a white shoe's upper on a white background is found
through its outline, sole and shading, and its own near-white pixels then join it, while a sandal's gaps (plain
background) stay open.

The soft contact shadow under a shoe stays background: its pixels are the background darkened without a hue of
their own and change smoothly, and they spread outside the product's hull (below the sole), which a white sole
inside the hull does not. A closing then joins what a faint outline left apart, holes that are not plain
background are filled (a white upper inside its outline; a sandal's strap loop stays open), and the anti-aliased
rim is cut where it is more background than product, as the renderer's own silhouette is (alpha >= 0.5).
Images under `SHADOW_MIN_SIDE` px keep the first two stages only (there the shadow's edge is as sharp as the
shoe's).

`method="rembg"` asks the optional `rembg` package instead, only when its model file is already on disk. The
tests measure the mask's overlap with the sample-data renderer's own silhouette (tests/data/test_masks.py).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.morphology import convex_hull_image

from shoegen.errors import ShoegenError

MaskMethod = Literal["builtin", "rembg"]
MASK_METHODS: tuple[str, ...] = ("builtin", "rembg")

# Largest per-channel difference (0-255) from the border's colour that still counts as background...
BACKGROUND_DISTANCE = 30
# ...and inside the hull of the product found with it.
WEAK_DISTANCE = 8
# Connected specks below this share of the frame are background noise, not product.
_SPECK_SHARE = 0.0015
_BORDER = 2
# A cast shadow: hue within this of the background's (0-255 per channel), at least this share of its brightness,
# and smooth (a 3x3 window's brightness range below _SHADOW_SMOOTH); an outline or a texture is not smooth.
_SHADOW_HUE = 3.0
_SHADOW_DEPTH = 0.7
_SHADOW_SMOOTH = 12.0
# Erosion (pixels) that breaks a shadow's thin links to a white sole before they are told apart.
_SHADOW_LINK = 3
# A hole with more than this share of pixels within 2 of the background's colour is background (a strap loop).
_PLAIN_HOLE_SHARE = 0.9
# A rim pixel is kept when its difference from the background is at least this share of its neighbours' largest.
_RIM_SHARE = 0.5

# Below this side (pixels) a contact shadow's edge is as sharp as the product's (measured: the shadow rule lowers
# the IoU's minimum at 64 and 128 px), and the simpler rule of `_small_mask` is used.
SHADOW_MIN_SIDE = 200

# rembg's default model and where rembg keeps it (U2NET_HOME, else ~/.u2net).
REMBG_MODEL = "u2net"


def border_colour(pixels: np.ndarray) -> np.ndarray:
    """The median RGB (float, 0-255) of the outer `_BORDER` pixels: the background's colour."""
    border = np.concatenate([pixels[:_BORDER].reshape(-1, 3), pixels[-_BORDER:].reshape(-1, 3),
                             pixels[:, :_BORDER].reshape(-1, 3), pixels[:, -_BORDER:].reshape(-1, 3)])
    return np.median(border, axis=0)


def _without_specks(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return (sizes >= max(1.0, _SPECK_SHARE * mask.size))[labels]


def _background_distance(image: Image.Image) -> np.ndarray:
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    return np.abs(pixels - border_colour(pixels)).max(axis=2)


def clear_product_pixels(image: Image.Image) -> np.ndarray:
    """The first stage alone (a bool mask): pixels that differ clearly from the background, specks included. The
    pixel statistics of `shoegen.data.image_stats` were calibrated on it."""
    return _background_distance(image) > BACKGROUND_DISTANCE


def _shadow_like(pixels: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Pixels that could be the background in shadow: its hue, somewhat darker (not lighter), smooth."""
    brightness = pixels.mean(axis=2)
    hue = (pixels - brightness[..., None]) - (background - background.mean())
    smooth = ndimage.maximum_filter(brightness, size=3) - ndimage.minimum_filter(brightness, size=3) < _SHADOW_SMOOTH
    level = background.mean()
    return (smooth & (np.abs(hue).max(axis=2) <= _SHADOW_HUE)
            & (brightness >= _SHADOW_DEPTH * level) & (brightness <= level + 2))


def _cast_shadow(candidates: np.ndarray, hull: np.ndarray) -> np.ndarray:
    """The shadow-like regions that reach outside the product's hull: a cast shadow spreads below the product,
    a white sole stays inside it. Eroded first, so that a faint sole tip does not link the two."""
    cores = ndimage.binary_erosion(candidates, iterations=_SHADOW_LINK)
    labels, count = ndimage.label(cores)
    reaches_out = np.zeros(count + 1, dtype=bool)
    reaches_out[np.unique(labels[cores & ~hull])] = True
    reaches_out[0] = False
    return ndimage.binary_dilation(reaches_out[labels], iterations=_SHADOW_LINK) & candidates


def _filled(mask: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Closed once (a faint outline's gaps), then every hole filled unless it is plain background."""
    closed = ndimage.binary_closing(mask)
    holes = ndimage.binary_fill_holes(closed) & ~closed
    labels, count = ndimage.label(holes)
    if count == 0:
        return closed
    index = np.arange(1, count + 1)
    plain_share = np.asarray(ndimage.mean(distance <= 2, labels, index))
    small = np.bincount(labels.ravel())[1:] < _SPECK_SHARE * mask.size
    return closed | np.concatenate([[False], (plain_share <= _PLAIN_HOLE_SHARE) | small])[labels]


def _rim_at_half(mask: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Drops rim pixels that are more background than product (anti-aliased edges blend the two)."""
    reference = ndimage.maximum_filter(np.where(mask, distance, 0.0), size=5)
    rim = mask & ~ndimage.binary_erosion(mask)
    return mask & ~(rim & (distance < _RIM_SHARE * reference))


def _builtin_mask(image: Image.Image, with_shadow: bool) -> np.ndarray:
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    background = border_colour(pixels)
    distance = np.abs(pixels - background).max(axis=2)
    if with_shadow or min(image.size) < SHADOW_MIN_SIDE:
        return _shadow_included_mask(distance)
    shadow = _shadow_like(pixels, background)
    clear = _without_specks((distance > BACKGROUND_DISTANCE) & ~shadow)
    if not clear.any():
        return clear
    hull, faint = convex_hull_image(clear), distance > WEAK_DISTANCE
    mask = clear | (hull & faint & ~_cast_shadow(shadow & faint, hull))
    return _without_specks(_rim_at_half(_filled(mask, distance), distance))


def _shadow_included_mask(distance: np.ndarray) -> np.ndarray:
    """The first two stages alone: clear pixels, specks dropped, weak ones inside the hull; the darker part of
    the contact shadow is taken in. The catalogue scores were calibrated on it (a shadow is neither product nor
    a background that is not white there), and small images get it: their shadow's edge is as sharp as the
    shoe's, so it cannot be told by its smoothness."""
    clear = _without_specks(distance > BACKGROUND_DISTANCE)
    if not clear.any():
        return clear
    return clear | (convex_hull_image(clear) & (distance > WEAK_DISTANCE))


def rembg_model_path(model: str = REMBG_MODEL) -> Path:
    """Where rembg looks for `model`'s weights: U2NET_HOME, else ~/.u2net (rembg's own rule)."""
    home = Path(os.environ.get("U2NET_HOME") or Path.home() / ".u2net").expanduser()
    return home / f"{model}.onnx"


def _rembg_mask(image: Image.Image) -> np.ndarray:
    """rembg's mask, only when the package and its model file are both here: rembg would download the model
    otherwise, and nothing is downloaded behind the user's back."""
    if importlib.util.find_spec("rembg") is None:
        raise ShoegenError("mask method 'rembg' needs the rembg package, which is not installed: "
                           "pip install 'rembg[cpu]' (and its model file, see below), or use method 'builtin'")
    model_path = rembg_model_path()
    if not model_path.is_file():
        raise ShoegenError(f"mask method 'rembg' needs its model file {model_path}, which is not there; rembg is "
                           f"not allowed to download it here: put {REMBG_MODEL}.onnx in that folder (or point "
                           "U2NET_HOME at the folder holding it), or use method 'builtin'")
    from rembg import new_session, remove  # imported here: optional, and slow to import

    cutout = remove(image.convert("RGB"), session=new_session(REMBG_MODEL), only_mask=True)
    return np.asarray(cutout.convert("L")) >= 128


def product_mask(image: Image.Image, method: MaskMethod = "builtin", *, with_shadow: bool = False) -> np.ndarray:
    """A height x width bool array, True on the product. `builtin` needs no weights; `rembg` needs the rembg
    package and its model file on disk, and says which is missing otherwise. `with_shadow` (builtin only) takes
    the darker part of the contact shadow in, as the catalogue scores want it."""
    if method == "builtin":
        return _builtin_mask(image, with_shadow)
    if method == "rembg":
        return _rembg_mask(image)
    raise ShoegenError(f"unknown mask method {method!r}; choose one of {', '.join(MASK_METHODS)}")


def mask_image(mask: np.ndarray) -> Image.Image:
    """The mask as an 8-bit grey image: white (255) on the product, black elsewhere."""
    return Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), "L")


def mask_overlay(image: Image.Image, mask: np.ndarray, tint: tuple[int, int, int] = (255, 0, 160),
                 opacity: float = 0.45) -> Image.Image:
    """The photo with the product tinted: a quick look at what the mask took in."""
    photo = image.convert("RGB")
    tinted = Image.blend(photo, Image.new("RGB", photo.size, tint), opacity)
    return Image.composite(tinted, photo, mask_image(mask))
