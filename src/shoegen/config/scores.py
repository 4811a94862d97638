"""The catalogue scores of one image and the marketplace rule sets they are checked against: one shape that
the scorer (`shoegen.evaluation.catalogue`) fills, the gallery stores, the API publishes and `shoegen evaluate`
tabulates.

Every score is measured on the product mask (`shoegen.data.masks`): the pixels that differ clearly from the
plain background at the frame's border.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

WHITE_TOLERANCE = 3.0
"""CIEDE2000 distance from pure white (255, 255, 255) within which a background pixel counts as white: about
one just-noticeable difference, so compression noise and a generator's near-white pass, a grey studio sweep or
a cream cast does not."""
FULL_OFFSET = 0.25
"""An offset (share of the frame) at which the centring component of the composite reaches 0."""
FULL_COLOUR_DISTANCE = 50.0
"""A CIEDE2000 distance at which the colour component of the composite reaches 0 (black to mid grey is ~50)."""
DEFAULT_FILL_RANGE = (0.5, 0.95)
"""The fill range the composite uses when no training photos are at hand (the `catalogue` preset's range)."""


class CatalogueScores(BaseModel):
    """What the catalogue scores (no model weights needed) say about one generated image."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    width: int = Field(ge=1)
    height: int = Field(ge=1)
    product_found: bool
    """False when nothing in the frame stands out from the background (every other product score is then 0)."""
    background: float = Field(ge=0.0, le=1.0)
    """Share of the background's pixels within `WHITE_TOLERANCE` (CIEDE2000) of pure white; 1.0 is a pure white
    background, a grey or cream one scores near 0."""
    offset: float = Field(ge=0.0, le=1.0)
    """How far the product's box centre is from the frame's centre, as a share of the frame's side (the larger of
    the horizontal and vertical shares); 0 is centred."""
    fill: float = Field(ge=0.0, le=1.0)
    """The product's longer extent as a share of the frame's matching side (what the marketplaces' "fills 85% of the
    frame" rule measures)."""
    fill_range: tuple[float, float] | None = None
    """The training photos' fill range (5th to 95th percentile) the fill was compared with, when known."""
    cut_off: bool
    """The product touches the frame's edge: part of it is probably outside the picture."""
    colour: str | None = None
    """The colour the prompt names (the first colour word not describing the background), if any."""
    colour_distance: float | None = Field(None, ge=0.0)
    """CIEDE2000 distance between the product's dominant colour and `colour`; lower is truer. None: no colour named."""
    sharpness: float = Field(ge=0.0)
    """Variance of the Laplacian over the product region (grey levels 0-1, x1000)."""
    sharpness_ratio: float | None = Field(None, ge=0.0)
    """`sharpness` divided by the training photos' median sharpness at the same size; None without training photos."""
    score: float = Field(ge=0.0, le=1.0)
    """The composite, 0 to 1: the mean of background, centring (1 - offset / `FULL_OFFSET`), fill (1 inside the fill
    range, falling to 0 a quarter of the frame outside it), not cut off, colour (1 - distance / `FULL_COLOUR_DISTANCE`,
    when a colour is named) and sharpness (the ratio, capped at 1, when known); 0 when no product is found."""
    rule_failures: dict[str, list[str]] = Field(default_factory=dict)
    """For each marketplace preset, the rules this image breaks, one sentence each; an empty list means it passes."""

    def passes(self, preset: str) -> bool:
        return not self.rule_failures.get(preset, ["not checked"])


class MarketplaceRules(BaseModel):
    """A named rule set an image is checked against; each rule left None is not checked."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str
    description: str
    min_background: float | None = None
    """Least share of white background pixels."""
    min_fill: float | None = None
    max_fill: float | None = None
    max_offset: float | None = None
    min_longest_side: int | None = None
    """Least pixels on the image's longest side."""
    allow_cut_off: bool = False
    min_sharpness_ratio: float | None = None
    """Least sharpness against the training photos (checked only when they are known)."""

    def failures(self, scores: CatalogueScores) -> list[str]:
        """One sentence per broken rule, naming the measured value and the limit."""
        if not scores.product_found:
            return ["no product stands out from the background"]
        broken = []
        if self.min_background is not None and scores.background < self.min_background:
            broken.append(f"background is {scores.background:.0%} white, needs at least {self.min_background:.0%}")
        if self.min_fill is not None and scores.fill < self.min_fill:
            broken.append(f"product fills {scores.fill:.0%} of the frame, needs at least {self.min_fill:.0%}")
        if self.max_fill is not None and scores.fill > self.max_fill:
            broken.append(f"product fills {scores.fill:.0%} of the frame, at most {self.max_fill:.0%} leaves a margin")
        if self.max_offset is not None and scores.offset > self.max_offset:
            broken.append(f"product is {scores.offset:.0%} of the frame off centre, at most {self.max_offset:.0%}")
        longest = max(scores.width, scores.height)
        if self.min_longest_side is not None and longest < self.min_longest_side:
            broken.append(f"longest side is {longest} px, needs at least {self.min_longest_side} px")
        if not self.allow_cut_off and scores.cut_off:
            broken.append("product touches the edge of the frame (cut off)")
        if (self.min_sharpness_ratio is not None and scores.sharpness_ratio is not None
                and scores.sharpness_ratio < self.min_sharpness_ratio):
            broken.append(f"product is {scores.sharpness_ratio:.0%} as sharp as the training photos, needs at least "
                          f"{self.min_sharpness_ratio:.0%}")
        return broken


PRESETS: dict[str, MarketplaceRules] = {
    rules.name: rules for rules in (
        MarketplaceRules(
            name="main-image",
            description="the common marketplace main-image rule: pure white background, product filling at least 85% "
                        "of the frame, at least 1,000 px on the longest side, nothing cut off",
            min_background=0.97, min_fill=0.85, min_longest_side=1000),
        MarketplaceRules(
            name="catalogue",
            description="a looser rule for a catalogue page: white background, the product centred with a margin, "
                        "nothing cut off, about as sharp as the training photos; any size",
            min_background=0.9, min_fill=DEFAULT_FILL_RANGE[0], max_fill=DEFAULT_FILL_RANGE[1], max_offset=0.1,
            min_sharpness_ratio=0.5),
    )
}
"""The marketplace presets by name; `rule_failures` has one entry per preset."""


METRIC_GROUPS = ("catalogue", "clip", "dino")
"""What `shoegen evaluate --metrics` and `shoegen train --validation_metrics` accept: the catalogue scores (no weights),
CLIP (CLIP score, CLIP-I) and DINOv2 (DINO similarity, KID/FID to the reference photos)."""
LOWER_IS_BETTER = frozenset({"colour_distance", "offset", "cut_off", "memorised", "kid", "fid"})
"""Checkpoint metrics for which a smaller mean is better; every other one is better higher."""
DEFAULT_BEST_METRIC = "catalogue_score"
"""The default rule for the best checkpoint: the highest `catalogue_score`, which is the mean composite catalogue
score of its images times the share of them that are not near copies of a training photo (so a checkpoint that
memorises cannot win by copying). Ties go to the earlier step."""
EVALUATION_SEEDS = 2
"""An evaluation's images per prompt and model by default (seed diversity needs at least 2)."""
EVALUATION_MAX_SEEDS = 64
"""The most images per prompt and model: each checkpoint generates prompts x seeds of them."""
EVALUATION_SEED = 1234
"""An evaluation's first seed by default: every model generates the same seeds."""


def preset_metric(preset: str) -> str:
    """The checkpoint metric holding the share of images that pass `preset`, e.g. `passes_main_image`."""
    return f"passes_{preset.replace('-', '_')}"


CATALOGUE_METRICS = ("catalogue_score", "score", "background", "fill", "offset", "cut_off", "colour_distance",
                     "sharpness_ratio", "diversity", "memorised") + tuple(preset_metric(name) for name in PRESETS)
METRICS_BY_GROUP: dict[str, tuple[str, ...]] = {
    "catalogue": CATALOGUE_METRICS,
    "clip": ("clip_score", "clip_image_similarity"),
    "dino": ("dino_similarity", "kid", "fid"),
}
"""The metrics each group of `METRIC_GROUPS` measures (the model-based groups by the model they need)."""
MODEL_METRICS = METRICS_BY_GROUP["clip"] + METRICS_BY_GROUP["dino"]
CHECKPOINT_METRICS = CATALOGUE_METRICS + MODEL_METRICS
"""Every metric a checkpoint's scores may hold."""
NOT_BEST_METRICS = {
    "fill": "fill is good inside the training photos' range, not the higher the better (a product cut off by the "
            "frame fills it most); the composite scores it that way: pick by catalogue_score",
    "fid": "FID needs more images in each set than the DINOv2 features have dimensions (385 for dinov2-small), "
           "more than an evaluation draws: pick by kid, which is made for small sets",
}
"""Metrics a checkpoint is never picked by, each with the reason."""
BEST_METRICS = tuple(metric for metric in CHECKPOINT_METRICS if metric not in NOT_BEST_METRICS)
"""What `--best-metric` takes."""


def metric_group(metric: str) -> str:
    """The group of `METRIC_GROUPS` that measures `metric`."""
    return next(group for group, metrics in METRICS_BY_GROUP.items() if metric in metrics)


class CheckpointScores(BaseModel):
    """One model's scores on the evaluation's fixed prompts and seeds: step 0 is the base without adapter."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    model: str
    """The model name generation takes (`RUN/checkpoint-N`, `RUN`, or the base's name for step 0)."""
    step: int = Field(ge=0)
    images: int = Field(ge=0)
    metrics: dict[str, float | None]
    """Means over the images (or over the prompts, for diversity): `catalogue_score`, `score`, `background`, `fill`,
    `offset`, `cut_off`, `colour_distance`, `sharpness_ratio`, `diversity`, `memorised`, `passes_<preset>` and,
    where their models load, `clip_score`, `clip_image_similarity`, `dino_similarity`, `kid`, `fid`."""


class BestCheckpoint(BaseModel):
    """The checkpoint the evaluation picked, by a written rule; `RUN/best` names it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    model: str
    step: int = Field(ge=0)
    metric: str
    """The metric it was picked by (higher is better unless it is in `LOWER_IS_BETTER`)."""
    value: float
    rule: str
    """The rule in words, e.g. "highest catalogue_score among the checkpoints; ties go to the earlier step"."""


def pick_best(candidates: list[CheckpointScores], metric: str = DEFAULT_BEST_METRIC) -> BestCheckpoint | None:
    """The best of `candidates` by `metric` (those without a value for it are left out); None when none has one."""
    scored = [c for c in candidates if c.metrics.get(metric) is not None]
    if not scored:
        return None
    lower = metric in LOWER_IS_BETTER
    best = min(scored, key=lambda c: ((c.metrics[metric] if lower else -c.metrics[metric]), c.step))
    rule = f"{'lowest' if lower else 'highest'} {metric} among the checkpoints; ties go to the earlier step"
    return BestCheckpoint(model=best.model, step=best.step, metric=metric, value=best.metrics[metric], rule=rule)
