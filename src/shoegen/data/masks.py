"""The product mask: which pixels of a product photo are the product, found by separating it from the plain
studio background that touches every edge of the frame.

A pixel is product when it differs clearly from the background's colour (the median of the image border), after
specks smaller than a small share of the frame are dropped (noise in a generated background). Inside the convex
hull of what was found, a weaker difference suffices: a white shoe's upper on a white background is found
through its outline, sole and shading, and its own near-white pixels then join it, while a sandal's gaps (plain
background) stay open. The soft contact shadow under a shoe is partly taken in where it is dark: product photos
carry one, and a mask that cut it off exactly would need a model. The tests measure the mask's overlap with the
sample-data renderer's own silhouette.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.morphology import convex_hull_image

# Largest per-channel difference (0-255) from the border's colour that still counts as background...
BACKGROUND_DISTANCE = 30
# ...and inside the hull of the product found with it.
WEAK_DISTANCE = 8
# Connected specks below this share of the frame are background noise, not product.
_SPECK_SHARE = 0.0015
_BORDER = 2


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


def product_mask(image: Image.Image) -> np.ndarray:
    """A height x width bool array, True on the product."""
    distance = _background_distance(image)
    clear = _without_specks(distance > BACKGROUND_DISTANCE)
    if not clear.any():
        return clear
    return clear | (convex_hull_image(clear) & (distance > WEAK_DISTANCE))
