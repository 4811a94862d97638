"""Catalogue scores for the gallery: each generated image is scored as it is stored, and images stored before
scoring existed can be scored afterwards (`shoegen gallery rescore`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PIL import Image

from shoegen.config.scores import CatalogueScores
from shoegen.evaluation.catalogue import score_image
from shoegen.storage import Gallery, ImageFilter

log = logging.getLogger("shoegen.service")


def catalogue_scores(image: Image.Image, prompt: str) -> CatalogueScores | None:
    """The image's scores, or None (logged) if scoring fails: an image is never lost for want of its scores."""
    try:
        return score_image(image, prompt)
    except Exception:
        log.exception("catalogue scoring failed; the image is stored without scores")
        return None


def rescore_gallery(gallery: Gallery, *, every: bool = False,
                    on_image: Callable[[int, int], None] | None = None) -> int:
    """Score the gallery's images that have no scores yet (all of them with `every`); returns how many were scored.

    Images whose PNG is missing or unreadable are skipped. `on_image(done, total)` reports progress.
    """
    todo = [(image.id, image.path, image.params.prompt)
            for image in gallery.iter_images(None if every else ImageFilter(scored=False))]
    scored = 0
    for done, (image_id, path, prompt) in enumerate(todo, start=1):
        scores = None
        try:
            if path is not None:
                with Image.open(path) as image:
                    scores = catalogue_scores(image, prompt)
        except (OSError, ValueError):
            pass
        if scores is None:
            log.warning("image %s: its PNG is missing or unreadable, left unscored", image_id)
        if scores is not None and gallery.set_scores(image_id, scores):
            scored += 1
        if on_image is not None:
            on_image(done, len(todo))
    return scored
