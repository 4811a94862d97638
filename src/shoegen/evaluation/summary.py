"""One set of generated images (rows of seeds, one row per prompt) summarised as a checkpoint's metrics: the means
that `shoegen evaluate` writes per checkpoint and that training logs at each validation step."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from shoegen.config.scores import PRESETS, CatalogueScores, preset_metric
from shoegen.evaluation.catalogue import MemorisationIndex, ReferencePhotos, score_image, seed_diversity
from shoegen.evaluation.embeddings import EmbeddingScorer, ModelScores


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


def summarise(rows: Sequence[Sequence[Image.Image]], prompts: Sequence[str], *, catalogue: bool = True,
              reference: ReferencePhotos | None = None, memory: MemorisationIndex | None = None,
              scorer: EmbeddingScorer | None = None,
              reference_images: Sequence[Image.Image] | None = None) -> dict[str, float | None]:
    """rows[p] holds prompt p's images (one per seed). Catalogue metrics when `catalogue`, model-based ones when a
    `scorer` is given (those whose model cannot load come back None)."""
    metrics: dict[str, float | None] = {}
    if catalogue:
        scores = [score_image(image, prompt, reference) for row, prompt in zip(rows, prompts) for image in row]
        memorised = [memory.nearest(image).memorised if memory else False for row in rows for image in row]
        diversity = [value for row in rows if (value := seed_diversity(row)) is not None]
        metrics |= catalogue_metrics(scores, memorised, diversity)
    if scorer is not None:
        images = [image for row in rows for image in row]
        image_prompts = [prompt for row, prompt in zip(rows, prompts) for _ in row]
        metrics |= model_metrics(scorer.score(images, image_prompts, reference_images or None))
    return metrics
