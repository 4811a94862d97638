"""Simple pixel statistics of a product photo: what colour is the shoe, is it watermelon-patterned.

Used to measure, not to guess: the tests check that the `demo` base draws the colour a prompt names
and that a LoRA teaches it the held-out watermelon pattern (`make test-demo`).
Both statistics are checked against rendered photos of known colour and pattern (tests/data).

The shoe is told from the background by its clear difference from the border's colour
(`shoegen.data.masks.clear_product_pixels`); generated images are blurrier and less saturated than
the renders, so colours are judged by hue family and brightness rather than by exact palette values.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from shoegen.data.masks import clear_product_pixels

HUE_FAMILIES = ("red", "orange", "yellow", "green", "blue", "purple")
# Upper bounds in degrees of each hue family above (red also takes 330-360: pinks and crimsons).
_HUE_BOUNDS = (20, 45, 75, 185, 260, 330)
_DARK_VALUE = 0.45
_CHROMATIC_SATURATION = 0.3
_PATTERN_SATURATION = 0.2
_RIND_HUES = (60, 185)


def shoe_pixels(image: Image.Image) -> np.ndarray:
    """The RGB values (N x 3, 0-255) of the pixels that differ clearly from the background."""
    return np.asarray(image.convert("RGB"), dtype=np.float64)[clear_product_pixels(image)]


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rgb = rgb / 255.0
    high, low = rgb.max(axis=1), rgb.min(axis=1)
    spread = high - low + 1e-9
    red, green, blue = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    hue = np.where(high == red, ((green - blue) / spread) % 6,
                   np.where(high == green, (blue - red) / spread + 2, (red - green) / spread + 4)) * 60
    saturation = np.where(high > 0, (high - low) / (high + 1e-9), 0.0)
    return hue, saturation, high


def hue_family(hue: np.ndarray) -> np.ndarray:
    index = np.searchsorted(np.array(_HUE_BOUNDS), hue, side="right")
    return np.array(HUE_FAMILIES + ("red",))[index]


def dominant_color(image: Image.Image, min_shoe_share: float = 0.03) -> str:
    """"black", "white", a hue family ("red", "orange", "yellow", "green", "blue", "purple"), or
    "none" when less than `min_shoe_share` of the image is shoe.

    Black: at least 40% of the shoe's pixels are dark. Otherwise the most common hue family among the
    saturated pixels, if those are at least 45% of the shoe. Otherwise the shoe is light and
    unsaturated: white (its sole and shading are what stands out from the background).
    """
    shoe = shoe_pixels(image)
    if len(shoe) < min_shoe_share * image.width * image.height:
        return "none"
    hue, saturation, value = _hsv(shoe)
    if (value < _DARK_VALUE).mean() >= 0.4:
        return "black"
    chromatic = (saturation > _CHROMATIC_SATURATION) & (value >= _DARK_VALUE)
    if chromatic.mean() >= 0.45:
        families, counts = np.unique(hue_family(hue[chromatic]), return_counts=True)
        return str(families[counts.argmax()])
    return "white"


def watermelon_score(image: Image.Image) -> float:
    """How watermelon-like the shoe is: the smaller of its flesh share and (x3) its rind share among the
    shoe's coloured pixels. Flesh is red-pink, rind green to yellow-green (hue 60-185 degrees). A
    watermelon shoe has both; a plain shoe of any colour has at most one, so its score stays near 0.
    Coloured here means saturation above 0.2, lower than `dominant_color`'s 0.3: generated flesh comes
    out paler than the rendered one and its rind often yellow-green, while the eye still reads both."""
    shoe = shoe_pixels(image)
    if len(shoe) == 0:
        return 0.0
    hue, saturation, value = _hsv(shoe)
    hue = hue[(saturation > _PATTERN_SATURATION) & (value >= _DARK_VALUE)]
    if len(hue) == 0:
        return 0.0
    flesh = (hue_family(hue) == "red").mean()
    rind = ((hue >= _RIND_HUES[0]) & (hue < _RIND_HUES[1])).mean()
    return float(min(flesh, 3 * rind))
