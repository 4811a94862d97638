"""Catalogue scores: does a generated image pass as a catalogue photo? No model weights, so they run everywhere.

`score_image` measures one image against its prompt (background, framing, colour, sharpness, the marketplace
presets); `ReferencePhotos` holds what the training photos say a good photo looks like (their fill range and
sharpness); `seed_diversity` and `MemorisationIndex` look across a prompt's seeds and at the training set.
The colour science is scikit-image's (CIELAB, CIEDE2000), the Laplacian and SSIM too; hashes are imagehash's.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import imagehash
import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.cluster.vq import kmeans2
from skimage.color import deltaE_ciede2000, rgb2gray, rgb2lab
from skimage.filters import laplace
from skimage.metrics import structural_similarity

from shoegen.config.scores import (DEFAULT_FILL_RANGE, FULL_COLOUR_DISTANCE, FULL_OFFSET, PRESETS, WHITE_TOLERANCE,
                                   CatalogueScores)
from shoegen.data.images import ImageError, open_rgb
from shoegen.data.masks import product_mask
from shoegen.errors import ShoegenError

log = logging.getLogger(__name__)

COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 22), "white": (245, 245, 245), "off white": (240, 236, 222), "cream": (245, 238, 205),
    "grey": (128, 128, 130), "gray": (128, 128, 130), "silver": (192, 192, 196), "charcoal": (60, 64, 70),
    "red": (195, 30, 40), "maroon": (120, 20, 30), "burgundy": (128, 16, 40), "pink": (240, 150, 180),
    "magenta": (200, 40, 140), "orange": (240, 120, 30), "yellow": (240, 200, 40), "gold": (212, 175, 55),
    "beige": (220, 200, 165), "tan": (210, 180, 140), "khaki": (195, 176, 145), "brown": (115, 75, 45),
    "olive": (110, 110, 40), "green": (40, 140, 60), "teal": (0, 128, 128), "turquoise": (64, 200, 200),
    "blue": (40, 80, 200), "light blue": (150, 190, 230), "navy": (22, 32, 80), "purple": (120, 60, 150),
    "lavender": (180, 160, 220),
}
"""Colour words a prompt may use, as the sRGB of a typical product in that colour (converted to CIELAB to compare)."""
_COLOUR_LAB = {name: rgb2lab(np.array([[rgb]], dtype=np.float64) / 255.0)[0, 0] for name, rgb in COLOUR_NAMES.items()}
# Longest names first, so "light blue" wins over "blue"; a colour right before "background" describes the backdrop.
_COLOUR_WORD = re.compile(r"\b(" + "|".join(sorted(map(re.escape, COLOUR_NAMES), key=len, reverse=True))
                          + r")\b(?!\s+(?:studio\s+)?background)", re.IGNORECASE)
_WHITE_LAB = rgb2lab(np.ones((1, 1, 3)))[0, 0]
_COLOUR_SAMPLES = 4000
_COLOUR_CLUSTERS = 3
_CHROMATIC = 12.0
_CHROMATIC_SHARE = 0.6
_HASH_BITS = 64
T = TypeVar("T")
ANALYSIS_SIDE = 256
"""Longer side images are measured at: larger ones are scaled down first (a 512 px image costs a quarter of the
time, and whiteness, framing and colour do not change with the scale)."""
MEMORISED_HASH_BITS = 8
"""A generated image within this many of 64 perceptual-hash bits of a training photo is a candidate copy..."""
MEMORISED_SSIM = 0.9
"""...and a near copy when its SSIM with that photo (at the photo's size, grey) is at least this."""


def named_colour(prompt: str | None) -> str | None:
    """The first colour word of the prompt that does not describe the background; "gray" is read as "grey"."""
    match = _COLOUR_WORD.search(prompt or "")
    if match is None:
        return None
    name = match.group(1).lower()
    return "grey" if name == "gray" else name


def dominant_lab(pixels: np.ndarray) -> np.ndarray:
    """The CIELAB colour a person would name the product by, from its RGB pixels (N x 3, 0-255): of three colour
    clusters, the largest chromatic one (chroma above 12) when it is at least 0.6 times the size of the largest
    cluster, else the largest one. A purple sneaker with a white sole and laces is purple even where the white parts (and the
    contact shadow in the mask) outnumber the upper; a white shoe with a black sole is white."""
    step = max(1, len(pixels) // _COLOUR_SAMPLES)
    lab = rgb2lab(pixels[::step][None] / 255.0)[0]
    if len(lab) <= _COLOUR_CLUSTERS:
        return lab.mean(axis=0)
    centres, labels = kmeans2(lab, _COLOUR_CLUSTERS, minit="++", seed=0)
    shares = np.bincount(labels, minlength=_COLOUR_CLUSTERS) / len(labels)
    chromatic = (np.hypot(centres[:, 1], centres[:, 2]) > _CHROMATIC) & (shares >= _CHROMATIC_SHARE * shares.max())
    candidates = np.flatnonzero(chromatic) if chromatic.any() else np.arange(_COLOUR_CLUSTERS)
    return centres[candidates[shares[candidates].argmax()]]


def evenly_spread(items: Sequence[T], count: int) -> list[T]:
    """`count` of `items` spread evenly from the first to the last (all of them when there are no more)."""
    if len(items) <= count:
        return list(items)
    return [items[round(index)] for index in np.linspace(0, len(items) - 1, count)]


def _read_photo(path: Path) -> Image.Image | None:
    """The photo at `path` in RGB, or None (with a warning naming it) when it cannot be read."""
    try:
        return open_rgb(path)
    except ImageError as error:
        log.warning("Left out %s: it cannot be read (%s)", path, error.reason)
        return None


def _sharpness(grey: np.ndarray, mask: np.ndarray) -> float:
    """Variance of the Laplacian over the mask (x1000, so typical values read as whole numbers)."""
    return float(laplace(grey)[mask].var() * 1000) if mask.any() else 0.0


def _fill_component(fill: float, fill_range: tuple[float, float]) -> float:
    low, high = fill_range
    outside = max(low - fill, fill - high, 0.0)
    return max(0.0, 1.0 - outside / 0.25)


@dataclass
class ReferencePhotos:
    """What the training photos say a catalogue photo of this product looks like: the range of their fill and
    their sharpness at a given size (computed on first use per size, from the photos resized to it)."""

    photos: list[Image.Image]
    fill_range: tuple[float, float] = field(init=False)
    _sharpness_by_size: dict[tuple[int, int], float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.photos:
            raise ValueError("ReferencePhotos needs at least one photo")
        fills = [_framing(product_mask(photo, with_shadow=True))[1] for photo in self.photos]
        self.fill_range = (float(np.percentile(fills, 5)), float(np.percentile(fills, 95)))

    @classmethod
    def from_files(cls, paths: Iterable[Path], limit: int = 64) -> ReferencePhotos:
        """Up to `limit` photos, evenly spread over `paths` (sorted); one that cannot be read is left out with a
        warning naming it."""
        photos = [photo for path in evenly_spread(sorted(paths), limit) if (photo := _read_photo(path)) is not None]
        if not photos:
            raise ShoegenError("none of the reference photos could be read (each is named in a warning above)")
        return cls(photos)

    def sharpness(self, size: tuple[int, int]) -> float:
        """The photos' median sharpness when resized to `size` (an analysis size: see `analysis_size`)."""
        if size not in self._sharpness_by_size:
            values = []
            for photo in self.photos:
                resized = photo.resize(size, Image.Resampling.LANCZOS) if photo.size != size else photo
                values.append(_sharpness(rgb2gray(np.asarray(resized)), product_mask(resized, with_shadow=True)))
            self._sharpness_by_size[size] = float(np.median(values))
        return self._sharpness_by_size[size]


def _framing(mask: np.ndarray) -> tuple[float, float, bool]:
    """(offset, fill, cut off) of the mask's bounding box in its frame."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return 0.0, 0.0, False
    height, width = mask.shape
    top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    offset = max(abs((left + right) / 2 - width / 2) / width, abs((top + bottom) / 2 - height / 2) / height)
    fill = max((right - left) / width, (bottom - top) / height)
    cut_off = top == 0 or left == 0 or bottom == height or right == width
    return float(offset), float(fill), bool(cut_off)


def analysis_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size an image is measured at: its own, or scaled down to `ANALYSIS_SIDE` on its longer side."""
    scale = min(1.0, ANALYSIS_SIDE / max(size))
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def _for_analysis(image: Image.Image) -> Image.Image:
    size = analysis_size(image.size)
    rgb = image.convert("RGB")
    return rgb if rgb.size == size else rgb.resize(size, Image.Resampling.LANCZOS)


def score_image(image: Image.Image, prompt: str | None = None,
                reference: ReferencePhotos | None = None) -> CatalogueScores:
    """The catalogue scores of one image, with the marketplace presets checked (`CatalogueScores` says what each
    number means). Measured at `analysis_size` (the pixel-size rule reads the image's own size)."""
    full_size = image.size
    image = _for_analysis(image)
    rgb = np.asarray(image)
    mask = product_mask(image, with_shadow=True)
    lab = rgb2lab(rgb)
    background_pixels = lab[~mask]
    white = float((deltaE_ciede2000(background_pixels, np.broadcast_to(_WHITE_LAB, background_pixels.shape)) <= WHITE_TOLERANCE).mean()) \
        if len(background_pixels) else 0.0
    offset, fill, cut_off = _framing(mask)
    colour = named_colour(prompt)
    colour_distance = None
    if colour is not None and mask.any():
        # The rim is left out: its pixels are blends with the background, which would pull light colours in.
        inner = ndimage.binary_erosion(mask)
        pixels = rgb[inner if inner.sum() >= _COLOUR_CLUSTERS else mask].astype(np.float64)
        colour_distance = float(deltaE_ciede2000(dominant_lab(pixels), _COLOUR_LAB[colour]))
    sharpness = _sharpness(rgb2gray(rgb), mask)
    size = (image.width, image.height)
    reference_sharpness = reference.sharpness(size) if reference is not None else None
    sharpness_ratio = sharpness / reference_sharpness if reference_sharpness else None
    fill_range = reference.fill_range if reference is not None else None
    components = [white, 1.0 - min(1.0, offset / FULL_OFFSET), _fill_component(fill, fill_range or DEFAULT_FILL_RANGE),
                  0.0 if cut_off else 1.0]
    if colour_distance is not None:
        components.append(max(0.0, 1.0 - colour_distance / FULL_COLOUR_DISTANCE))
    if sharpness_ratio is not None:
        components.append(min(1.0, sharpness_ratio))
    scores = CatalogueScores(
        width=full_size[0], height=full_size[1], product_found=bool(mask.any()), background=white, offset=offset,
        fill=fill, fill_range=fill_range, cut_off=cut_off, colour=colour, colour_distance=colour_distance,
        sharpness=sharpness, sharpness_ratio=sharpness_ratio,
        score=float(np.mean(components)) if mask.any() else 0.0)
    scores.rule_failures = {name: rules.failures(scores) for name, rules in PRESETS.items()}
    return scores


def _hash_distance(first: imagehash.ImageHash, second: imagehash.ImageHash) -> float:
    return (first - second) / _HASH_BITS


def seed_diversity(images: Sequence[Image.Image]) -> float | None:
    """Mean pairwise perceptual-hash distance (0 to 1) between the images of one prompt's seeds: 0 when every seed
    gives the same picture. None for fewer than two images."""
    if len(images) < 2:
        return None
    hashes = [imagehash.phash(image) for image in images]
    return float(np.mean([_hash_distance(a, b) for a, b in itertools.combinations(hashes, 2)]))


@dataclass(frozen=True)
class NearestPhoto:
    """The training photo closest to a generated image."""

    name: str
    hash_distance: float
    """Perceptual-hash distance, 0 to 1 (share of the 64 bits that differ)."""
    ssim: float | None
    """SSIM with the photo, measured only for candidates within `MEMORISED_HASH_BITS`."""

    @property
    def memorised(self) -> bool:
        """A near copy of the training photo."""
        return self.ssim is not None and self.ssim >= MEMORISED_SSIM


class MemorisationIndex:
    """Perceptual hashes of the training photos, to find the nearest one to a generated image. Photos given as
    paths are hashed once and opened again only for the SSIM of a candidate copy, so a catalogue of thousands of
    photos costs a few kilobytes of memory."""

    def __init__(self, photos: dict[str, Image.Image | Path]):
        """A photo given as a path that cannot be read is left out, with a warning naming it."""
        if not photos:
            raise ValueError("MemorisationIndex needs at least one training photo")
        self._photos = photos
        self._hashes = {name: hashed for name, photo in photos.items() if (hashed := self._hash(photo)) is not None}
        if not self._hashes:
            raise ShoegenError("none of the training photos could be read (each is named in a warning above)")

    @staticmethod
    def _hash(photo: Image.Image | Path) -> imagehash.ImageHash | None:
        if isinstance(photo, Image.Image):
            return imagehash.phash(photo)
        opened = _read_photo(photo)
        return None if opened is None else imagehash.phash(opened)

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> MemorisationIndex:
        return cls({str(path): path for path in paths})

    def nearest(self, image: Image.Image) -> NearestPhoto:
        query = imagehash.phash(image)
        name, photo_hash = min(self._hashes.items(), key=lambda item: query - item[1])
        distance = _hash_distance(query, photo_hash)
        ssim = None
        if query - photo_hash <= MEMORISED_HASH_BITS:
            stored = self._photos[name]
            photo = stored if isinstance(stored, Image.Image) else Image.open(stored).convert("RGB")
            candidate = image.convert("RGB").resize(photo.size, Image.Resampling.LANCZOS)
            ssim = float(structural_similarity(rgb2gray(np.asarray(candidate)), rgb2gray(np.asarray(photo)),
                                               data_range=1.0))
        return NearestPhoto(name=name, hash_distance=distance, ssim=ssim)
