"""One set of generated images (rows of seeds, one row per prompt) summarised as a checkpoint's metrics: the means
that `shoegen evaluate` writes per checkpoint and that training logs at each validation step."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from shoegen.config.scores import PRESETS, CatalogueScores, preset_metric
from shoegen.evaluation.catalogue import MemorisationIndex, ReferencePhotos, score_image, seed_diversity
from shoegen.evaluation.embeddings import METRICS, SCORER_KINDS, EmbeddingScorer, ModelScores


def _mean(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return float(np.mean(present)) if present else None


def catalogue_metrics(catalogue: list[CatalogueScores], memorised: list[bool],
                      diversity: list[float]) -> dict[str, float | None]:
    """The means of the images' catalogue scores; `catalogue_score` is their composite times the share of images
    that are not near copies of a training photo (`config.scores.DEFAULT_BEST_METRIC`)."""
    metrics = {name: _mean([getattr(scores, name) for scores in catalogue])
               for name in ("score", "background", "fill", "offset", "colour_distance", "sharpness_ratio")}
    metrics["cut_off"] = _mean([float(scores.cut_off) for scores in catalogue])
    for preset in PRESETS:
        metrics[preset_metric(preset)] = _mean([float(scores.passes(preset)) for scores in catalogue])
    metrics["memorised"] = _mean([float(flag) for flag in memorised])
    metrics["diversity"] = _mean(diversity)
    score, memorised_share = metrics["score"], metrics["memorised"] or 0.0
    metrics["catalogue_score"] = None if score is None else score * (1.0 - memorised_share)
    return metrics


def model_metrics(result: ModelScores) -> dict[str, float | None]:
    distance = result.distance
    return {"clip_score": _mean(result.clip_scores or []), "clip_image_similarity": result.clip_image_similarity,
            "dino_similarity": result.dino_similarity, "kid": distance.kid_mean if distance else None,
            "fid": distance.fid if distance else None}


@dataclass(frozen=True)
class Summary:
    metrics: dict[str, float | None]
    skipped: dict[str, str]
    """Each model-based metric of the groups asked for that could not be measured, with its one-line reason."""


def summarise(rows: Sequence[Sequence[Image.Image]], prompts: Sequence[str], *, groups: Collection[str],
              reference: ReferencePhotos | None = None, memory: MemorisationIndex | None = None,
              scorer: EmbeddingScorer | None = None,
              reference_images: Sequence[Image.Image] | None = None) -> Summary:
    """rows[p] holds prompt p's images (one per seed), measured by the `groups` of `METRIC_GROUPS`: the
    catalogue metrics, and those of the model-based groups (only their models load) when a `scorer` is given."""
    metrics: dict[str, float | None] = {}
    skipped: dict[str, str] = {}
    if "catalogue" in groups:
        scores = [score_image(image, prompt, reference) for row, prompt in zip(rows, prompts) for image in row]
        memorised = [memory.nearest(image).memorised if memory else False for row in rows for image in row]
        diversity = [value for row in rows if (value := seed_diversity(row)) is not None]
        metrics |= catalogue_metrics(scores, memorised, diversity)
    kinds = [kind for kind in SCORER_KINDS if kind in groups]
    if scorer is not None and kinds:
        images = [image for row in rows for image in row]
        image_prompts = [prompt for row, prompt in zip(rows, prompts) for _ in row]
        result = scorer.score(images, image_prompts, reference_images or None, kinds=kinds)
        metrics |= {metric: value for metric, value in model_metrics(result).items()
                    if any(metric in METRICS[kind] for kind in kinds)}
        skipped = result.skipped
    return Summary(metrics, skipped)
