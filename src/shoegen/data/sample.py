"""Synthetic shoe product photos: a stand-in dataset for tests, benchmarks and demos.

Real users train on their own catalogue photos. Where none are at hand (CI, a benchmark, a first
try of the CLI) `render_sample_dataset` draws side-view shoes on a white studio background and
writes them in the original dataset's layout (`images/<id>.png` + `captions.json`), so that every
later stage reads them exactly as it would read real photos.

Each picture is a pure function of (seed, index): the per-image random stream is seeded from that
pair alone, so the same seed gives byte-identical files and image i does not depend on how many
images were asked for. The "watermelon" pattern is meant to be held out of base pretraining
(`exclude_patterns`) and taught later through a LoRA (`only_patterns`), so it is drawn to be
unmistakable: pink-red upper, green rind band along the sole, black seeds.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from tqdm import tqdm

from shoegen.errors import ShoegenError
from shoegen.files import write_text_atomically

RGB = tuple[int, int, int]
Point = tuple[float, float]

STYLES = ("sneaker", "boot", "loafer", "sandal", "high heel")
STYLE_PLURALS = {
    "sneaker": "sneakers",
    "boot": "boots",
    "loafer": "loafers",
    "sandal": "sandals",
    "high heel": "high heels",
}
COLORS: dict[str, RGB] = {
    "red": (200, 30, 40),
    "blue": (40, 90, 200),
    "green": (40, 150, 70),
    "yellow": (240, 200, 40),
    "black": (30, 30, 32),
    "white": (245, 245, 242),
    "brown": (120, 75, 40),
    "grey": (130, 130, 135),
    "pink": (240, 140, 175),
    "orange": (240, 120, 30),
    "purple": (120, 60, 160),
    "navy": (25, 35, 80),
    "beige": (220, 200, 165),
}
MATERIALS = ("leather", "suede", "canvas", "mesh")
PATTERNS = ("plain", "striped", "polka dot", "watermelon")
GENDERS = ("men", "women", "unisex")
SEASONS = ("summer", "winter", "fall", "spring")
YEARS = tuple(range(2012, 2021))
USAGE = "casual"

# Plain shoes dominate real catalogues; the rest share what is left evenly.
_PLAIN_SHARE = 0.6
_WATERMELON_FLESH: RGB = (235, 70, 90)
# Stored as the metadata color of watermelon shoes: the flesh is what a colour tagger would see.
_WATERMELON_COLOR_NAME = "red"
_SOLE_COLORS: dict[str, RGB] = {"white": (242, 242, 238), "black": (38, 38, 40), "gum": (196, 146, 88)}
_SEASONS_BY_STYLE = {"sandal": ("summer", "spring"), "boot": ("winter", "fall")}
_WHITE: RGB = (255, 255, 255)
_SHADOW_GREY: RGB = (120, 120, 120)
_CAPTION_TAIL = "centered on white background, high quality, product photography"


@dataclass(frozen=True)
class ShoeSpec:
    """Everything that decides one picture; `render_shoe(spec, size)` is a pure function of it."""

    style: str
    color: str
    material: str
    pattern: str
    gender: str
    season: str
    year: int
    sole: str
    """Name in the neutral sole palette: white, black or gum."""
    facing_left: bool
    rotation_degrees: float
    scale: float
    """Shoe length as a share of the image width, before rotation."""
    offset: tuple[float, float]
    """Shift of the shoe from the image centre, as shares of the image size."""
    shape_seed: int
    """Seeds the small shape variations (toe spring, collar height) and the texture noise."""

    @property
    def metadata(self) -> dict[str, Any]:
        return {
            "color": self.color,
            "style": self.style,
            "material": self.material,
            "pattern": self.pattern,
            "gender": self.gender,
            "season": self.season,
            "usage": USAGE,
            "year": self.year,
        }


@dataclass
class SampleSummary:
    """What `render_sample_dataset` wrote; the counts list every style and colour, zeros included."""

    out_dir: Path
    count: int
    style_counts: dict[str, int]
    color_counts: dict[str, int]
    pattern_counts: dict[str, int]
    seconds: float

    @property
    def captions_file(self) -> Path:
        return self.out_dir / "captions.json"


def render_sample_dataset(
    out_dir: Path,
    count: int,
    seed: int = 0,
    size: int = 512,
    *,
    exclude_patterns: Collection[str] = (),
    only_patterns: Collection[str] | None = None,
    progress: bool = False,
) -> SampleSummary:
    """Writes `count` synthetic shoe photos to `out_dir/images/` and their captions to `out_dir/captions.json`.

    `exclude_patterns` leaves patterns out of the draw (e.g. "watermelon" for base pretraining);
    `only_patterns` restricts the draw to those (e.g. only "watermelon" for a LoRA dataset).
    """
    started = time.perf_counter()
    if count < 1:
        raise ShoegenError(f"--count must be at least 1, got {count}")
    if size < 32:
        raise ShoegenError(f"--size must be at least 32 pixels, got {size}")
    patterns = allowed_patterns(exclude_patterns, only_patterns)
    images_dir = _prepare_output_dir(out_dir)
    records: list[dict[str, Any]] = []
    specs: list[ShoeSpec] = []
    for index in tqdm(range(count), desc="rendering shoes", unit="image", disable=not progress):
        spec = draw_shoe_spec(seed, index, patterns)
        image_id = f"{index:06d}"
        image_file = f"images/{image_id}.png"
        # A fixed compression level keeps the bytes identical across runs; level 1 is several
        # times faster than the default and these files are throwaway fixtures.
        render_shoe(spec, size).save(images_dir / f"{image_id}.png", format="PNG", compress_level=1)
        records.append(
            {"image_id": image_id, "image_file": image_file, "caption": caption_for(spec), "metadata": spec.metadata}
        )
        specs.append(spec)
    # Written last and in one go, so a captions.json always describes a complete set of images.
    captions_file = out_dir / "captions.json"
    write_text_atomically(captions_file, json.dumps(records, indent=2) + "\n")
    return SampleSummary(
        out_dir=out_dir,
        count=count,
        style_counts=_ordered_counts(STYLES, (spec.style for spec in specs)),
        color_counts=_ordered_counts(tuple(COLORS), (spec.color for spec in specs)),
        pattern_counts=_ordered_counts(patterns, (spec.pattern for spec in specs)),
        seconds=time.perf_counter() - started,
    )


def allowed_patterns(
    exclude_patterns: Collection[str] = (), only_patterns: Collection[str] | None = None
) -> tuple[str, ...]:
    """The patterns left to draw from, in `PATTERNS` order; "polka-dot" and "polka_dot" mean "polka dot"."""
    excluded = {_pattern_name(name) for name in exclude_patterns}
    kept = set(PATTERNS) if only_patterns is None else {_pattern_name(name) for name in only_patterns}
    patterns = tuple(pattern for pattern in PATTERNS if pattern in kept and pattern not in excluded)
    if not patterns:
        raise ShoegenError(
            "no pattern is left to draw: --only-pattern and --exclude-pattern together rule out all of "
            f"{', '.join(PATTERNS)}"
        )
    return patterns


def draw_shoe_spec(seed: int, index: int, patterns: Sequence[str] = PATTERNS) -> ShoeSpec:
    """The attributes and pose of image `index` of the dataset with `seed`; independent of the count."""
    # A string seed is hashed with SHA-512, so the stream is the same on every run and platform.
    rng = random.Random(f"{seed}:{index}")
    style = rng.choice(STYLES)
    color = rng.choice(tuple(COLORS))
    material = rng.choice(MATERIALS)
    others = max(1, sum(pattern != "plain" for pattern in patterns))
    weights = [_PLAIN_SHARE if pattern == "plain" else (1 - _PLAIN_SHARE) / others for pattern in patterns]
    pattern = rng.choices(list(patterns), weights=weights)[0]
    if pattern == "watermelon":
        color = _WATERMELON_COLOR_NAME
    upper = _WATERMELON_FLESH if pattern == "watermelon" else COLORS[color]
    soles = [name for name, sole in _SOLE_COLORS.items() if math.dist(sole, upper) > 120]
    gender = rng.choice(GENDERS)
    return ShoeSpec(
        style=style,
        color=color,
        material=material,
        pattern=pattern,
        gender="women" if style == "high heel" else gender,
        season=rng.choice(_SEASONS_BY_STYLE.get(style, SEASONS)),
        year=rng.choice(YEARS),
        sole=rng.choice(soles),
        facing_left=rng.random() < 0.5,
        rotation_degrees=rng.uniform(-4.0, 4.0),
        scale=rng.uniform(0.55, 0.80),
        offset=(rng.uniform(-0.04, 0.04), rng.uniform(-0.04, 0.04)),
        shape_seed=rng.getrandbits(63),
    )


def caption_for(spec: ShoeSpec) -> str:
    """The caption in the original system's style; the colour word is always there except for watermelon."""
    shoes = f"{spec.material} {STYLE_PLURALS[spec.style]}"
    if spec.pattern == "watermelon":
        # The pattern replaces the colour: "red watermelon" would teach the LoRA a colour, not the pattern.
        subject = f"watermelon pattern {shoes}"
    elif spec.pattern == "plain":
        subject = f"{spec.color} {shoes}"
    else:
        subject = f"{spec.color} {shoes} with {spec.pattern} pattern"
    return f"A professional product photo of {subject}, {_CAPTION_TAIL}"


def render_shoe(spec: ShoeSpec, size: int) -> Image.Image:
    """One `size` x `size` RGB product photo of the shoe `spec` describes."""
    return render_shoe_with_mask(spec, size)[0]


def render_shoe_with_mask(spec: ShoeSpec, size: int, background: RGB = _WHITE) -> tuple[Image.Image, np.ndarray]:
    """The photo on a studio `background` (pure white in the dataset) and the shoe's own silhouette (a
    `size` x `size` bool array, the shadow left out): the truth that the catalogue scores are tested against."""
    shape_rng = random.Random(spec.shape_seed)
    outline = _SHAPE_BUILDERS[spec.style](shape_rng)
    # Drawing larger and box-filtering down is PIL's only way to anti-alias polygons; small
    # images need a larger factor for their edges to look smooth.
    supersample = 4 if size <= 128 else 3 if size <= 320 else 2
    placement = _Placement.fit(outline, spec, spec.scale * size * supersample)
    layer, texture_mask = _draw_layer(spec, outline, placement, shape_rng)
    layer, texture_mask = layer.reduce(supersample), texture_mask.reduce(supersample)
    gloss = [(x / supersample, y / supersample) for x, y in placement.to_px(outline.gloss)]
    bbox = layer.getchannel("A").getbbox() or (0, 0, *layer.size)
    layer, texture_mask = layer.crop(bbox), texture_mask.crop(bbox)
    gloss = [(x - bbox[0], y - bbox[1]) for x, y in gloss]
    # Light and texture go on at the final resolution: supersampling would average the fine
    # textures away, and the smooth lighting costs a quarter as much there.
    noise = np.random.default_rng(spec.shape_seed)
    layer = _surface(layer, texture_mask, spec.material, gloss, spec.scale * size, noise)
    return _compose(layer, size, spec, background)


def _prepare_output_dir(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise ShoegenError(f"{out_dir} exists and is not a folder; choose a folder for the sample dataset")
    if (out_dir / "captions.json").exists():
        raise ShoegenError(
            f"{out_dir} already holds a dataset (captions.json); it was left untouched. "
            "Choose an empty or new folder, or delete that one first."
        )
    images_dir = out_dir / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    return images_dir


def _pattern_name(name: str) -> str:
    normalized = " ".join(name.strip().lower().replace("-", " ").replace("_", " ").split())
    if normalized not in PATTERNS:
        raise ShoegenError(f"unknown pattern {name!r}; valid patterns are: {', '.join(PATTERNS)}")
    return normalized


def _ordered_counts(names: Sequence[str], values: Iterable[str]) -> dict[str, int]:
    counted = Counter(values)
    return {name: counted[name] for name in names}


# ---------------------------------------------------------------------------------------------
# Shapes. Coordinates are in "shoe units": x runs from the heel (0) to the toe (1), y is height
# above the ground. Each builder returns the parts in drawing order (later parts cover earlier).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    role: str
    """Decides the colour: see `_part_color`. "upper", "trim" and "heel" also take the material texture."""
    points: tuple[Point, ...]
    width: float = 0.0
    """Line width in shoe units for straps, laces and stitching; 0 fills the polygon."""


@dataclass(frozen=True)
class _Outline:
    parts: tuple[_Part, ...]
    sole_top: tuple[Point, ...]
    """The top edge of the sole from heel to toe: the watermelon rind runs along it."""
    gloss: tuple[Point, ...]
    """Where a glossy material catches the studio light."""


_TEXTURED_ROLES = frozenset({"upper", "trim", "heel"})


def _curve(points: Sequence[Point], samples: int = 10) -> list[Point]:
    """A smooth Catmull-Rom curve through `points`, so shapes can be given by a few control points."""
    control = np.asarray(points, dtype=np.float64)
    padded = np.vstack([control[0], control, control[-1]])
    t = np.linspace(0.0, 1.0, samples, endpoint=False)[:, None]
    segments = []
    for i in range(len(control) - 1):
        p0, p1, p2, p3 = padded[i : i + 4]
        segments.append(
            0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
        )
    segments.append(control[-1:])
    return [(float(x), float(y)) for x, y in np.vstack(segments)]


def _shifted(points: Sequence[Point], dy: float) -> list[Point]:
    return [(x, y + dy) for x, y in points]


def _sole_and_upper_bottom(bottom: Sequence[Point], top: Sequence[Point]) -> tuple[_Part, list[Point], list[Point]]:
    """The sole polygon, its top edge, and the upper's bottom edge tucked just under that edge."""
    bottom_line, top_line = _curve(bottom), _curve(top)
    sole = _Part("sole", tuple(bottom_line + top_line[::-1]))
    # Kept clear of the sole's ends, so no sliver of upper pokes out past the toe or heel.
    tucked = [(x, y - 0.015) for x, y in top_line[::-1] if 0.02 <= x <= 0.985]
    return sole, top_line, tucked


def _laces(start: Point, end: Point, bars: int, up: float, down: float) -> list[_Part]:
    """Lace bars across the line of eyelets from `start` to `end`, each with a dark eyelet at its foot."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    normal = (-(y1 - y0) / length, (x1 - x0) / length)
    if normal[1] < 0:
        normal = (-normal[0], -normal[1])
    parts = []
    for i in range(bars):
        t = i / (bars - 1)
        x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        foot = (x - normal[0] * down, y - normal[1] * down)
        parts.append(_Part("lace", (foot, (x + normal[0] * up, y + normal[1] * up)), width=0.014))
        parts.append(_Part("eyelet", (foot, (foot[0] + 0.001, foot[1])), width=0.012))
    return parts


def _sneaker(rng: random.Random) -> _Outline:
    sole_h, spring = rng.uniform(0.07, 0.09), rng.uniform(0.03, 0.05)
    collar, toe_h = rng.uniform(0.29, 0.33), rng.uniform(0.11, 0.13)
    sole, sole_top, upper_bottom = _sole_and_upper_bottom(
        [(0.005, 0.03), (0.04, 0.0), (0.5, 0.0), (0.8, 0.0), (0.93, 0.018), (0.995, spring)],
        [(0.0, sole_h + 0.005), (0.3, sole_h), (0.7, sole_h * 0.95), (0.88, sole_h * 0.9 + 0.01),
         (0.97, spring + sole_h * 0.6), (1.005, spring + sole_h * 0.35)],
    )
    upper = _curve([
        (0.012, sole_h), (0.004, 0.15), (0.02, collar - 0.03), (0.045, collar), (0.14, collar - 0.03),
        (0.26, collar - 0.05), (0.33, collar + 0.01), (0.37, collar + 0.02), (0.40, collar - 0.02),
        (0.52, 0.25), (0.70, 0.19), (0.85, toe_h + 0.03), (0.95, toe_h), (0.99, spring + sole_h * 0.5),
    ]) + upper_bottom
    parts = [
        _Part("upper", tuple(upper)),
        # Heel counter, side stripe, toe-cap stitching, collar lining, laces.
        _Part("trim", tuple(_curve([(0.012, sole_h), (0.004, 0.15), (0.02, collar - 0.03), (0.045, collar),
                                    (0.09, collar - 0.015), (0.11, 0.2), (0.15, sole_h)]))),
        _Part("trim", tuple(_curve([(0.16, 0.12), (0.33, 0.14), (0.47, 0.20)])), width=0.03),
        _Part("stitch", tuple(_curve([(0.80, sole_h + 0.005), (0.83, 0.13), (0.88, toe_h + 0.025), (0.93, toe_h + 0.01)])),
              width=0.006),
        _Part("lining", tuple(_curve([(0.045, collar), (0.14, collar - 0.03), (0.26, collar - 0.05), (0.32, collar)])),
              width=0.012),
        *_laces((0.385, collar - 0.045), (0.60, 0.205), bars=5, up=0.03, down=0.02),
        sole,
        _Part("sole_line", tuple(_shifted(_curve([(0.03, 0.0), (0.5, 0.0), (0.85, 0.002), (0.97, spring * 0.8)]),
                                         sole_h * 0.45)), width=0.007),
    ]
    return _Outline(tuple(parts), tuple(sole_top), gloss=((0.78, toe_h + 0.01), (0.12, collar - 0.08)))


def _boot(rng: random.Random) -> _Outline:
    sole_h, spring = rng.uniform(0.075, 0.095), rng.uniform(0.02, 0.035)
    shaft, toe_h = rng.uniform(0.62, 0.72), rng.uniform(0.15, 0.17)
    sole, sole_top, upper_bottom = _sole_and_upper_bottom(
        [(0.005, 0.01), (0.03, 0.0), (0.24, 0.0), (0.27, 0.03), (0.42, 0.03), (0.46, 0.0), (0.8, 0.0),
         (0.94, 0.012), (0.995, spring)],
        [(0.0, sole_h + 0.01), (0.4, sole_h), (0.8, sole_h * 0.95), (0.95, spring + sole_h * 0.7),
         (1.005, spring + sole_h * 0.4)],
    )
    back = _curve([(0.015, sole_h), (0.01, 0.25), (0.03, 0.45), (0.055, shaft)])
    front = _curve([(0.40, shaft + 0.005), (0.405, shaft - 0.15), (0.43, 0.38), (0.50, 0.30), (0.66, 0.24),
                    (0.84, toe_h + 0.035), (0.95, toe_h), (0.995, spring + sole_h * 0.5)])
    parts = [
        # The pull tab comes first so that the shaft hides its lower half.
        _Part("trim", ((0.07, shaft - 0.03), (0.07, shaft + 0.05), (0.13, shaft + 0.05), (0.13, shaft - 0.03))),
        _Part("upper", tuple(back + front + upper_bottom)),
        # Collar band, toe-cap and ankle stitching, laces up the shaft.
        _Part("trim", tuple(_curve([(0.045, shaft - 0.045), (0.225, shaft - 0.04), (0.403, shaft - 0.04)])
                            + [(0.40, shaft + 0.005), (0.055, shaft)])),
        _Part("stitch", tuple(_curve([(0.80, sole_h + 0.005), (0.83, 0.15), (0.88, toe_h + 0.03), (0.93, toe_h + 0.012)])),
              width=0.006),
        _Part("stitch", tuple(_curve([(0.02, 0.33), (0.2, 0.3), (0.44, 0.35)])), width=0.006),
        *_laces((0.37, shaft - 0.08), (0.47, 0.33), bars=6, up=0.035, down=0.02),
        sole,
        _Part("sole_line", tuple(_shifted(_curve([(0.46, 0.0), (0.8, 0.0), (0.94, 0.012), (0.99, spring)]), sole_h * 0.5)),
              width=0.008),
        _Part("sole_line", ((0.02, sole_h * 0.5), (0.24, sole_h * 0.5)), width=0.008),
    ]
    return _Outline(tuple(parts), tuple(sole_top), gloss=((0.78, toe_h + 0.005), (0.2, shaft * 0.6)))


def _loafer(rng: random.Random) -> _Outline:
    sole_h, spring = rng.uniform(0.045, 0.055), rng.uniform(0.015, 0.025)
    collar, vamp = rng.uniform(0.24, 0.27), rng.uniform(0.25, 0.28)
    sole, sole_top, upper_bottom = _sole_and_upper_bottom(
        [(0.005, 0.01), (0.03, 0.0), (0.2, 0.0), (0.23, 0.015), (0.40, 0.02), (0.45, 0.0), (0.85, 0.0),
         (0.95, 0.008), (0.995, spring)],
        [(0.0, sole_h + 0.008), (0.5, sole_h), (0.9, sole_h * 0.95), (1.005, spring + sole_h * 0.5)],
    )
    upper = _curve([
        (0.015, sole_h), (0.008, 0.15), (0.03, collar), (0.2, collar - 0.03), (0.36, collar - 0.045),
        (0.43, vamp - 0.01), (0.56, vamp), (0.74, 0.21), (0.87, 0.165), (0.95, 0.125), (0.99, 0.08),
        (1.0, spring + sole_h * 0.6),
    ]) + upper_bottom
    parts = [
        _Part("upper", tuple(upper)),
        # Collar lining, moccasin stitching round the toe, the penny strap and its slot.
        _Part("lining", tuple(_curve([(0.03, collar), (0.2, collar - 0.03), (0.36, collar - 0.045), (0.42, vamp - 0.015)])),
              width=0.012),
        _Part("stitch", tuple(_curve([(0.47, vamp - 0.03), (0.6, vamp - 0.025), (0.76, 0.185), (0.90, 0.135), (0.96, 0.09)])),
              width=0.006),
        _Part("trim", ((0.44, vamp - 0.012), (0.52, vamp - 0.006), (0.545, sole_h + 0.035), (0.465, sole_h + 0.035))),
        _Part("lining", tuple(_curve([(0.468, vamp - 0.055), (0.495, vamp - 0.052), (0.51, vamp - 0.07)])), width=0.014),
        sole,
        _Part("sole_line", ((0.02, sole_h * 0.55), (0.2, sole_h * 0.55)), width=0.006),
    ]
    return _Outline(tuple(parts), tuple(sole_top), gloss=((0.74, 0.19), (0.15, collar - 0.07)))


def _sandal(rng: random.Random) -> _Outline:
    sole_h, strap = rng.uniform(0.05, 0.06), rng.uniform(0.05, 0.06)
    ankle = rng.uniform(0.26, 0.30)
    sole, sole_top, _ = _sole_and_upper_bottom(
        [(0.005, 0.012), (0.03, 0.0), (0.5, 0.0), (0.9, 0.0), (0.97, 0.008), (0.998, 0.02)],
        [(0.0, sole_h + 0.012), (0.2, sole_h + 0.008), (0.6, sole_h), (0.95, sole_h * 0.9), (1.003, sole_h * 0.7)],
    )
    base = sole_h - 0.01
    # A wide band over the toes, open underneath: the footbed shows through the gap.
    vamp_outer = _curve([(0.54, base), (0.58, 0.15), (0.68, 0.19), (0.79, 0.175), (0.87, 0.13), (0.91, base)])
    vamp_inner = _curve([(0.85, base), (0.82, 0.085), (0.73, 0.105), (0.63, 0.095), (0.60, base)])
    parts = [
        # Heel strap, ankle strap, quarter strap down to the sole, then the toe band and the buckle.
        _Part("upper", ((0.04, base), (0.035, ankle)), width=strap),
        _Part("upper", tuple(_curve([(0.03, ankle), (0.18, ankle + 0.02), (0.34, ankle - 0.01)])), width=strap * 0.8),
        _Part("upper", ((0.34, ankle - 0.01), (0.39, base)), width=strap),
        _Part("upper", tuple(vamp_outer + vamp_inner)),
        _Part("metal", ((0.21, ankle - 0.015), (0.26, ankle - 0.012), (0.26, ankle + 0.035), (0.21, ankle + 0.032),
                        (0.21, ankle - 0.015)), width=0.01),
        sole,
        _Part("insole", tuple(sole_top + _shifted(sole_top[::-1], -0.018))),
        _Part("sole_line", tuple(_shifted(sole_top, -0.018)), width=0.004),
    ]
    return _Outline(tuple(parts), tuple(sole_top), gloss=((0.72, 0.16),))


def _high_heel(rng: random.Random) -> _Outline:
    heel_h = rng.uniform(0.32, 0.40)
    bottom = [(0.015, heel_h), (0.16, heel_h - 0.01), (0.33, heel_h * 0.72), (0.52, 0.10), (0.66, 0.025),
              (0.76, 0.0), (0.92, 0.0), (0.985, 0.012), (1.0, 0.03)]
    sole, sole_top, upper_bottom = _sole_and_upper_bottom(bottom, _shifted(bottom, 0.022))
    topline = _curve([(0.012, heel_h + 0.16), (0.10, heel_h + 0.13), (0.25, heel_h * 0.86 + 0.11),
                      (0.40, heel_h * 0.55 + 0.11), (0.52, 0.24), (0.62, 0.195)])
    vamp = _curve([(0.62, 0.195), (0.74, 0.16), (0.86, 0.12), (0.96, 0.075), (1.005, 0.04)])
    heel = _curve([(0.02, heel_h), (0.04, heel_h * 0.65), (0.065, heel_h * 0.2), (0.075, 0.0)]) + _curve(
        [(0.105, 0.0), (0.11, heel_h * 0.25), (0.13, heel_h * 0.6), (0.19, heel_h - 0.012)]
    )
    parts = [
        _Part("heel", tuple(heel)),
        _Part("tip", ((0.073, -0.002), (0.107, -0.002), (0.108, 0.022), (0.072, 0.022))),
        _Part("upper", tuple([(0.02, heel_h + 0.02)] + topline + vamp + upper_bottom)),
        _Part("lining", tuple(topline[:-2]), width=0.01),
        sole,
    ]
    return _Outline(tuple(parts), tuple(sole_top), gloss=((0.8, 0.11), (0.1, heel_h + 0.08)))


_SHAPE_BUILDERS: dict[str, Callable[[random.Random], _Outline]] = {
    "sneaker": _sneaker,
    "boot": _boot,
    "loafer": _loafer,
    "sandal": _sandal,
    "high heel": _high_heel,
}


# ---------------------------------------------------------------------------------------------
# Painting.
# ---------------------------------------------------------------------------------------------


def _shade(color: RGB, factor: float) -> RGB:
    """Darker (factor < 1) or lighter; near-black colours move up so the shading still shows."""
    red, green, blue = color
    if red + green + blue < 150:
        lift = 40 * (1 - factor)
        return (min(255, int(red + lift)), min(255, int(green + lift)), min(255, int(blue + lift)))
    return (min(255, int(red * factor)), min(255, int(green * factor)), min(255, int(blue * factor)))


def _luminance(color: RGB) -> float:
    return 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]


def _upper_color(spec: ShoeSpec) -> RGB:
    return _WATERMELON_FLESH if spec.pattern == "watermelon" else COLORS[spec.color]


def _part_color(role: str, spec: ShoeSpec) -> RGB:
    upper, sole = _upper_color(spec), _SOLE_COLORS[spec.sole]
    if role == "trim":
        return _shade(upper, 0.8)
    if role == "heel":
        return _shade(upper, 0.88)
    if role in ("stitch", "lining"):
        return _shade(upper, 0.55)
    if role == "lace":
        return (250, 250, 248) if _luminance(upper) < 170 else (70, 70, 75)
    if role == "sole_line":
        return _shade(sole, 0.75)
    if role == "insole":
        return (222, 196, 150)
    if role == "metal":
        return (176, 176, 182)
    # Eyelets and the heel tip are near-black whatever the shoe.
    return (40, 40, 42) if role in ("eyelet", "tip") else sole


@dataclass(frozen=True)
class _Placement:
    """Maps shoe units to layer pixels with the pose (mirror, rotation) already applied, so the
    shoe is drawn in its final pose: rotating a finished image would cost more than drawing it."""

    length_px: float
    mirrored: bool
    cos: float
    sin: float
    origin: Point
    """Posed shoe-unit point that lands on pixel (0, 0)."""
    size: tuple[int, int]

    @classmethod
    def fit(cls, outline: _Outline, spec: ShoeSpec, length_px: float) -> _Placement:
        angle = math.radians(spec.rotation_degrees)
        unplaced = cls(length_px, spec.facing_left, math.cos(angle), math.sin(angle), (0.0, 0.0), (0, 0))
        posed = [unplaced._pose(point) for part in outline.parts for point in part.points]
        margin = 0.02 + max(part.width for part in outline.parts)
        left, right = min(x for x, _ in posed) - margin, max(x for x, _ in posed) + margin
        bottom, top = min(y for _, y in posed) - margin, max(y for _, y in posed) + margin
        size = (math.ceil((right - left) * length_px), math.ceil((top - bottom) * length_px))
        return cls(length_px, spec.facing_left, unplaced.cos, unplaced.sin, (left, top), size)

    def _pose(self, point: Point) -> Point:
        x, y = point
        if self.mirrored:
            x = 1.0 - x
        # Turning about mid-length keeps the shoe where it was; +angle turns counter-clockwise.
        x -= 0.5
        return (x * self.cos - y * self.sin, x * self.sin + y * self.cos)

    def to_px(self, points: Sequence[Point]) -> list[Point]:
        posed = (self._pose(point) for point in points)
        return [((x - self.origin[0]) * self.length_px, (self.origin[1] - y) * self.length_px) for x, y in posed]


def _draw_layer(
    spec: ShoeSpec, outline: _Outline, placement: _Placement, rng: random.Random
) -> tuple[Image.Image, Image.Image]:
    """The shoe on a transparent layer at the supersampled size, plus a mask of where the
    material texture goes (the upper, not the sole, laces or stitching)."""
    size, length_px = placement.size, placement.length_px
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    texture_mask = Image.new("L", size, 0)
    draw, mask_draw = ImageDraw.Draw(layer), ImageDraw.Draw(texture_mask)
    fill = _pattern_fill(spec, size, placement.to_px(outline.sole_top), length_px, rng)
    edge = max(1, round(length_px * 0.004))
    for part in outline.parts:
        points = placement.to_px(part.points)
        width = max(1, round(part.width * length_px))
        textured = 255 if part.role in _TEXTURED_ROLES else 0
        if part.role == "upper":
            part_mask = Image.new("L", size, 0)
            part_draw = ImageDraw.Draw(part_mask)
            if part.width:
                draw.line(points, fill=_shade(_upper_color(spec), 0.6), width=width + 2 * edge, joint="curve")
                part_draw.line(points, fill=255, width=width, joint="curve")
            else:
                part_draw.polygon(points, fill=255)
            layer.paste(fill, (0, 0), part_mask)
            texture_mask.paste(255, (0, 0), part_mask)
            if not part.width:
                draw.line(points + points[:1], fill=_shade(_upper_color(spec), 0.6), width=edge, joint="curve")
        elif part.width:
            draw.line(points, fill=_part_color(part.role, spec), width=width, joint="curve")
            mask_draw.line(points, fill=textured, width=width, joint="curve")
        else:
            color = _part_color(part.role, spec)
            draw.polygon(points, fill=color, outline=_shade(color, 0.7), width=edge)
            mask_draw.polygon(points, fill=textured)
    return layer, texture_mask


def _pattern_fill(
    spec: ShoeSpec, size: tuple[int, int], sole_top: list[Point], length_px: float, rng: random.Random
) -> Image.Image:
    """The upper's surface over the whole layer; the upper's outline later cuts it to shape."""
    base = _upper_color(spec)
    fill = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(fill)
    accent: RGB = (248, 248, 245) if _luminance(base) < 150 else (30, 40, 90)
    if spec.pattern == "striped":
        period = 0.055 * length_px
        for i in range(math.ceil(size[1] / period) + 1):
            draw.rectangle((0, i * period, size[0], i * period + 0.4 * period), fill=accent)
    elif spec.pattern == "polka dot":
        spacing, radius = 0.06 * length_px, 0.016 * length_px
        for row in range(math.ceil(size[1] / spacing) + 1):
            shift = spacing / 2 if row % 2 else 0.0
            for column in range(math.ceil(size[0] / spacing) + 1):
                x, y = column * spacing + shift, row * spacing
                draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=accent)
    elif spec.pattern == "watermelon":
        _paint_watermelon(fill, sole_top, length_px, rng)
    return fill


def _paint_watermelon(fill: Image.Image, sole_top: list[Point], length_px: float, rng: random.Random) -> None:
    """Green rind with dark stripes along the sole, a pale line above it, black seeds in the flesh."""
    draw = ImageDraw.Draw(fill)
    rind, pale = 0.11 * length_px, 0.016 * length_px
    bottom_edge = [(x, y + 0.05 * length_px) for x, y in sole_top]
    draw.polygon([(x, y - rind - pale) for x, y in sole_top] + bottom_edge[::-1], fill=(205, 238, 170))
    band_mask = Image.new("L", fill.size, 0)
    ImageDraw.Draw(band_mask).polygon([(x, y - rind) for x, y in sole_top] + bottom_edge[::-1], fill=255)
    rind_fill = Image.new("RGB", fill.size, (95, 175, 60))
    rind_draw = ImageDraw.Draw(rind_fill)
    stripe, step = 0.022 * length_px, 0.055 * length_px
    for i in range(math.ceil(fill.size[0] / step) + 2):
        x = i * step + rng.uniform(-0.2, 0.2) * step
        wobble = rng.uniform(-0.5, 0.5) * stripe
        rind_draw.polygon(
            [(x, 0), (x + stripe, 0), (x + stripe + wobble, fill.size[1]), (x + wobble, fill.size[1])],
            fill=(45, 125, 50),
        )
    fill.paste(rind_fill, (0, 0), band_mask)
    xs = np.array([x for x, _ in sole_top])
    ys = np.array([y for _, y in sole_top])
    spacing = 0.07 * length_px
    seed_w, seed_h = 0.011 * length_px, 0.018 * length_px
    for row in range(math.ceil(fill.size[1] / spacing)):
        for column in range(math.ceil(fill.size[0] / spacing)):
            x = (column + 0.5 + rng.uniform(-0.3, 0.3)) * spacing
            y = (row + 0.5 + rng.uniform(-0.3, 0.3)) * spacing
            if y < float(np.interp(x, xs, ys)) - rind - pale - 2 * seed_h:
                draw.ellipse((x - seed_w, y - seed_h, x + seed_w, y + seed_h), fill=(25, 20, 20))


def _surface(
    layer: Image.Image, texture_mask: Image.Image, material: str, gloss: list[Point], length_px: float,
    rng: np.random.Generator,
) -> Image.Image:
    """Studio light and material on the upper. Light: brighter at the top, darker near the ground,
    and a highlight whose strength says how glossy the material is. Texture, pixel-scale: suede is
    fine noise, canvas a weave, mesh a grid of small holes; leather stays smooth."""
    pixels = np.asarray(layer, dtype=np.float32)
    height, width = pixels.shape[:2]
    rows = np.arange(height, dtype=np.float32)[:, None]
    columns = np.arange(width, dtype=np.float32)[None, :]
    shading = np.broadcast_to(0.08 - 0.2 * rows / height, (height, width)).copy()
    if material == "suede":
        shading += rng.normal(0.0, 0.09, (height, width)).astype(np.float32)
    elif material == "canvas":
        period = max(2, round(length_px / 120))
        shading -= 0.12 * ((rows % period == 0) + (columns % period == 0).astype(np.float32))
        shading += rng.normal(0.0, 0.03, (height, width)).astype(np.float32)
    elif material == "mesh":
        period = max(3, round(length_px / 75))
        stagger = (rows // period % 2) * (period // 2)
        dy, dx = rows % period - period / 2, (columns + stagger) % period - period / 2
        shading += np.where(dx * dx + dy * dy <= (0.3 * period) ** 2 + 0.3, -0.45, 0.03)
    # In a small picture a one-pixel weave would be far coarser than the real thing: fade it.
    texture_strength = min(1.0, length_px / 200.0)
    shading = texture_strength * shading + (1.0 - texture_strength) * (0.08 - 0.2 * rows / height)
    weight = np.asarray(texture_mask, dtype=np.float32) / 255.0
    rgb = pixels[..., :3]
    # Scaled by 0.4 * value + 40 rather than value alone, so black shoes show their light too.
    rgb += (shading * weight)[..., None] * (0.4 * rgb + 40.0)
    strength = {"leather": 0.6, "suede": 0.0, "canvas": 0.1, "mesh": 0.15}[material]
    if strength:
        highlight = np.zeros((height, width), dtype=np.float32)
        for x, y in gloss:
            highlight += np.exp(-(((columns - x) / (0.11 * length_px)) ** 2) - ((rows - y) / (0.025 * length_px)) ** 2)
        rgb += (255.0 - rgb) * (strength * np.minimum(highlight, 1.0) * weight)[..., None]
    pixels[..., :3] = np.clip(rgb, 0, 255)
    return Image.fromarray(pixels.astype(np.uint8), "RGBA")


def _compose(shoe: Image.Image, size: int, spec: ShoeSpec, background: RGB) -> tuple[Image.Image, np.ndarray]:
    """Places the shoe near the centre of a square of `background`, over a soft contact shadow; with its silhouette."""
    canvas = Image.new("RGB", (size, size), background)
    width, height = shoe.size
    shadow_h = max(2, round(0.07 * width))
    blur = max(1.0, 0.02 * width)
    # The shadow peeks out below the sole: count it in the block that gets centred.
    below = shadow_h // 2 + round(blur)
    margin = max(1, round(0.02 * size))
    left = _clamp(round((size - width) / 2 + spec.offset[0] * size), margin, size - width - margin)
    top = _clamp(round((size - height - below) / 2 + spec.offset[1] * size), margin, size - height - below - margin)
    pad = math.ceil(2 * blur)
    shadow = Image.new("L", (width + 2 * pad, shadow_h + 2 * pad), 0)
    inset = round(0.04 * width)
    ImageDraw.Draw(shadow).ellipse((pad + inset, pad, pad + width - inset, pad + shadow_h), fill=95)
    shadow = shadow.filter(ImageFilter.GaussianBlur(blur))
    shadow_top = top + height - shadow_h // 2 - pad
    canvas.paste(_SHADOW_GREY, (left - pad, shadow_top, left - pad + shadow.width, shadow_top + shadow.height), shadow)
    canvas.paste(shoe, (left, top), shoe)
    silhouette = Image.new("L", (size, size), 0)
    silhouette.paste(shoe.getchannel("A"), (left, top))
    return canvas, np.asarray(silhouette) >= 128


def _clamp(value: int, low: int, high: int) -> int:
    """`value` kept within [low, high]; when the range is empty (a shoe as wide as the frame) the midpoint."""
    if high < low:
        return (low + high) // 2
    return max(low, min(high, value))
