"""Model-based scores: prompt adherence (CLIP score), fidelity to reference photos (CLIP-I and DINO similarity,
the DreamBooth paper's protocol) and the distribution distance (KID, FID) between generated images and
reference photos on DINOv2 features.

The models load lazily, once per `EmbeddingScorer`, by hub id, local folder or `tiny` (defaults and environment
variables in `shoegen.config.scorer_models`). A model that cannot load here (offline, not cached) makes its
metrics skipped with a one-line reason, logged once as a warning; the other metrics still run.

Conventions:
- CLIP score: 100 * max(cos(image, prompt), 0) per image, torchmetrics' CLIPScore convention (0 to 100).
- CLIP-I and DINO similarity: the mean cosine similarity over every (generated, reference) pair, in [-1, 1];
  an image set against itself is 1.0 only when its images are identical (distinct images lower the mean).
  DINO uses DINOv2's CLS token (`pooler_output`), CLIP the projected image embedding.
- KID and FID: torchmetrics' `KernelInceptionDistance` and `FrechetInceptionDistance` over DINOv2 CLS features,
  which the scorer computes once (batched) and hands to torchmetrics through a pass-through feature module.
  KID needs at least `MIN_KID_IMAGES` images per set and draws subsets of min(1000, both set sizes) images
  (100 subsets, seeded, so the figure is reproducible); FID is given only when both sets have more images
  than the features have dimensions (385 for dinov2-small), below which its covariances are singular.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from shoegen.config.scorer_models import ScorerModelSettings
from shoegen.config.scores import METRICS_BY_GROUP
from shoegen.errors import ShoegenError
from shoegen.models.scorers import ScorerUnavailable, load_scorer
from shoegen.models.tiny_scorers import ScorerKind

log = logging.getLogger("shoegen.evaluation")

SCORER_KINDS: tuple[ScorerKind, ...] = ("clip", "dino")
METRICS: dict[ScorerKind, tuple[str, ...]] = {kind: METRICS_BY_GROUP[kind] for kind in SCORER_KINDS}
"""Every model-based metric, by the model it needs."""
MIN_KID_IMAGES = 2
KID_SUBSET_SIZE = 1000
KID_SUBSETS = 100
_KID_SEED = 0


@dataclass(frozen=True)
class ImageEmbeddings:
    """A set of images as the scorers see them, computed once: reference photos embedded this way are reused
    for every checkpoint. A model that is unavailable leaves its field None."""

    count: int
    clip: torch.Tensor | None
    """(count, d) projected CLIP image embeddings."""
    dino: torch.Tensor | None
    """(count, d) DINOv2 CLS features."""


ImageSet = Sequence[Image.Image] | ImageEmbeddings


@dataclass(frozen=True)
class DistributionDistance:
    """KID (mean and standard deviation over subsets) and FID between two image sets on DINOv2 features."""

    kid_mean: float
    kid_std: float
    kid_subset_size: int
    fid: float | None
    """None when a set has no more images than the features have dimensions."""


@dataclass(frozen=True)
class ModelScores:
    """What `EmbeddingScorer.score` could measure; `skipped` gives each metric left out its one-line reason."""

    clip_scores: list[float] | None = None
    clip_image_similarity: float | None = None
    dino_similarity: float | None = None
    distance: DistributionDistance | None = None
    skipped: dict[str, str] = field(default_factory=dict)


class EmbeddingScorer:
    """Loads CLIP and DINOv2 once, on first use, and scores image sets with them in batches (inference mode).
    `clip_model` / `dino_model` default to SHOEGEN_CLIP_MODEL / SHOEGEN_DINO_MODEL, else the documented hub
    ids. The scoring methods raise `ScorerUnavailable` (one line) when their model cannot load; `unavailable()`
    says which metrics would, and `score()` skips them."""

    def __init__(self, clip_model: str | None = None, dino_model: str | None = None, *,
                 device: str | torch.device = "cpu", batch_size: int = 32) -> None:
        given = {"clip_model": clip_model, "dino_model": dino_model}
        settings = ScorerModelSettings(**{name: value for name, value in given.items() if value is not None})
        self.model_names: dict[ScorerKind, str] = {"clip": settings.clip_model, "dino": settings.dino_model}
        self.device = torch.device(device)
        self.batch_size = batch_size
        self._loaded: dict[ScorerKind, tuple[Any, Any]] = {}
        self._failures: dict[ScorerKind, str] = {}

    def unavailable(self, kinds: Collection[ScorerKind] = SCORER_KINDS) -> dict[str, str]:
        """Each metric of the `kinds` models that cannot run here, with its one-line reason (loads those models
        once)."""
        reasons: dict[str, str] = {}
        for kind in kinds:
            metrics = METRICS[kind]
            try:
                self._scorer(kind)
            except ScorerUnavailable as error:
                reasons.update(dict.fromkeys(metrics, str(error)))
        return reasons

    def embed(self, images: Sequence[Image.Image], kinds: Collection[ScorerKind] = SCORER_KINDS) -> ImageEmbeddings:
        """The CLIP and DINOv2 embeddings of `images` (of the `kinds` models), each None when its model is
        unavailable or not asked for."""
        unavailable = self.unavailable(kinds)
        clip = self._embed_images("clip", images) if "clip" in kinds and "clip_score" not in unavailable else None
        dino = self._embed_images("dino", images) \
            if "dino" in kinds and "dino_similarity" not in unavailable else None
        return ImageEmbeddings(len(images), clip, dino)

    def clip_score(self, images: ImageSet, prompts: Sequence[str]) -> list[float]:
        """Per image, 100 * max(cosine(image, its prompt), 0)."""
        embeddings = self._embeddings("clip", images)
        if len(prompts) != len(embeddings):
            raise ShoegenError(f"clip_score needs one prompt per image, got {len(prompts)} prompts for "
                               f"{len(embeddings)} images")
        cosines = (_unit(embeddings) * _unit(self._embed_texts(prompts))).sum(dim=1)
        return (100 * cosines.clamp(min=0)).tolist()

    def clip_image_similarity(self, generated: ImageSet, references: ImageSet) -> float:
        """CLIP-I: mean cosine similarity of every (generated, reference) pair of CLIP image embeddings."""
        return _mean_pairwise_cosine(self._embeddings("clip", generated), self._embeddings("clip", references))

    def dino_similarity(self, generated: ImageSet, references: ImageSet) -> float:
        """DINO: mean cosine similarity of every (generated, reference) pair of DINOv2 CLS features."""
        return _mean_pairwise_cosine(self._embeddings("dino", generated), self._embeddings("dino", references))

    def distribution_distance(self, generated: ImageSet, references: ImageSet) -> DistributionDistance:
        """KID (and FID with enough images) between the two sets' DINOv2 features; at least `MIN_KID_IMAGES`
        images in each."""
        return distribution_distance(self._embeddings("dino", generated), self._embeddings("dino", references))

    def score(self, generated: Sequence[Image.Image], prompts: Sequence[str] | None = None,
              references: ImageSet | None = None, kinds: Collection[ScorerKind] = SCORER_KINDS) -> ModelScores:
        """Every metric of the `kinds` models that can run (only those models load): the CLIP score when
        `prompts` are given (one per image), the similarities and the distribution distance when `references`
        are; the rest of theirs in `skipped`."""
        skipped = self.unavailable(kinds)
        ours = self.embed(generated, kinds)
        theirs = None if references is None else (
            references if isinstance(references, ImageEmbeddings) else self.embed(references, kinds))
        clip_scores = self.clip_score(ours, prompts) if prompts is not None and ours.clip is not None else None
        clip_i = dino = distance = None
        if theirs is not None and ours.clip is not None and theirs.clip is not None:
            clip_i = _mean_pairwise_cosine(ours.clip, theirs.clip)
        if theirs is not None and ours.dino is not None and theirs.dino is not None:
            dino = _mean_pairwise_cosine(ours.dino, theirs.dino)
            if min(ours.count, theirs.count) >= MIN_KID_IMAGES:
                distance = distribution_distance(ours.dino, theirs.dino)
                if distance.fid is None:
                    skipped["fid"] = _fid_shortfall(ours.dino, theirs.dino)
            else:
                skipped["kid"] = skipped["fid"] = _kid_shortfall(ours.count, theirs.count)
        if prompts is None:
            skipped.setdefault("clip_score", "no prompts given")
        if theirs is None:
            for metric in ("clip_image_similarity", "dino_similarity", "kid", "fid"):
                skipped.setdefault(metric, "no reference photos given")
        asked = {metric for kind in kinds for metric in METRICS[kind]}
        return ModelScores(clip_scores, clip_i, dino, distance,
                           {metric: why for metric, why in skipped.items() if metric in asked})

    def _scorer(self, kind: ScorerKind) -> tuple[Any, Any]:
        if kind in self._failures:
            raise ScorerUnavailable(self._failures[kind])
        if kind not in self._loaded:
            try:
                self._loaded[kind] = load_scorer(kind, self.model_names[kind], self.device)
            except ScorerUnavailable as error:
                self._failures[kind] = str(error)
                log.warning("Skipped %s: %s", ", ".join(METRICS[kind]), error)
                raise
        return self._loaded[kind]

    def _embeddings(self, kind: ScorerKind, images: ImageSet) -> torch.Tensor:
        if not isinstance(images, ImageEmbeddings):
            return self._embed_images(kind, images)
        embeddings = images.clip if kind == "clip" else images.dino
        if embeddings is None:
            self._scorer(kind)  # raises the reason it was not computed
            raise ShoegenError(f"these ImageEmbeddings were computed without the {kind} model; embed them again")
        return embeddings

    def _embed_images(self, kind: ScorerKind, images: Sequence[Image.Image]) -> torch.Tensor:
        model, processor = self._scorer(kind)
        image_processor = processor.image_processor if kind == "clip" else processor
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                batch = [image.convert("RGB") for image in images[start:start + self.batch_size]]
                pixels = image_processor(images=batch, return_tensors="pt").pixel_values.to(self.device)
                output = model.get_image_features(pixel_values=pixels) if kind == "clip" else model(pixel_values=pixels)
                chunks.append(_pooled(output).float().cpu())
        if not chunks:
            raise ShoegenError("no images to score")
        return torch.cat(chunks)

    def _embed_texts(self, prompts: Sequence[str]) -> torch.Tensor:
        model, processor = self._scorer("clip")
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(prompts), self.batch_size):
                # Truncated to CLIP's 77 tokens, as the generator's text encoder reads them.
                tokens = processor.tokenizer(list(prompts[start:start + self.batch_size]), padding=True,
                                             truncation=True, return_tensors="pt").to(self.device)
                output = model.get_text_features(input_ids=tokens.input_ids, attention_mask=tokens.attention_mask)
                chunks.append(_pooled(output).float().cpu())
        return torch.cat(chunks)


def distribution_distance(generated: torch.Tensor, references: torch.Tensor) -> DistributionDistance:
    """KID (and FID when both sets have more rows than columns) between two (n, d) feature sets, torchmetrics'
    estimators; the KID subsets are drawn from a fixed seed."""
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    if min(len(generated), len(references)) < MIN_KID_IMAGES:
        raise ShoegenError(_kid_shortfall(len(generated), len(references)))
    features = _GivenFeatures(generated.shape[1])
    subset_size = min(KID_SUBSET_SIZE, len(generated), len(references))
    with warnings.catch_warnings():  # "will save all extracted features in buffer": they are already in memory
        warnings.simplefilter("ignore", UserWarning)
        kid = KernelInceptionDistance(feature=features, subsets=KID_SUBSETS, subset_size=subset_size)
    kid.update(references, real=True)
    kid.update(generated, real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_KID_SEED)
        kid_mean, kid_std = kid.compute()
    fid = None
    if min(len(generated), len(references)) > generated.shape[1]:
        frechet = FrechetInceptionDistance(feature=features)
        frechet.update(references, real=True)
        frechet.update(generated, real=False)
        fid = float(frechet.compute())
    return DistributionDistance(float(kid_mean), float(kid_std), subset_size, fid)


class _GivenFeatures(torch.nn.Module):
    """torchmetrics' feature network for features the scorer has already computed: passes them through."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def _pooled(output: Any) -> torch.Tensor:
    # transformers 5 returns a model output whose pooler_output is the embedding; 4.x returned the tensor.
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def _unit(embeddings: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(embeddings, dim=-1)


def _mean_pairwise_cosine(first: torch.Tensor, second: torch.Tensor) -> float:
    return float((_unit(first) @ _unit(second).T).mean())


def _kid_shortfall(generated: int, references: int) -> str:
    return (f"KID needs at least {MIN_KID_IMAGES} images in each set, got {generated} generated and {references} "
            "reference images")


def _fid_shortfall(generated: torch.Tensor, references: torch.Tensor) -> str:
    return (f"FID needs more images in each set than the DINOv2 features have dimensions ({generated.shape[1]}), "
            f"got {len(generated)} generated and {len(references)} reference images; KID is given instead")
