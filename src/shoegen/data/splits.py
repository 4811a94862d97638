"""Turning a dataset folder into the examples a training run uses, before the run starts.

Every image is decoded once here, so that a broken file is skipped with a warning up front
instead of stopping a run hours in; `shoegen dataset check` reports through the same screening,
so its "ready to train" count is the trainer's."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from shoegen.data.formats import DatasetError, DatasetListing, Entry, read_dataset
from shoegen.data.images import DEFAULT_MAX_PIXELS, ImageError, open_rgb

logger = logging.getLogger("shoegen.data")

# How many skipped files a warning or error names before it just counts the rest.
NAMED_IN_WARNINGS = 10


class SkipKind(StrEnum):
    NO_CAPTION = "no caption"
    EMPTY_CAPTION = "empty caption"
    MISSING_IMAGE = "missing image"
    UNREADABLE = "unreadable"
    TOO_SMALL = "too small"


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str
    """The whole explanation for a person, e.g. "too small: 120x90 px, shorter side under 256"."""
    kind: SkipKind

    @classmethod
    def unreadable(cls, error: ImageError) -> Skipped:
        return cls(error.path, f"unreadable: {error.reason}", SkipKind.UNREADABLE)


@dataclass(frozen=True)
class Example:
    """An image known to decode, with its caption; width and height as displayed (after EXIF rotation)."""

    image_path: Path
    caption: str
    metadata: dict[str, Any]
    width: int
    height: int


@dataclass
class TrainingSet:
    train: list[Example]
    validation: list[Example]
    skipped: list[Skipped] = field(default_factory=list)
    """Files left out of train and validation, with why."""


def load_training_examples(
    root: Path, *, min_side: int, validation: Path | float | None, seed: int
) -> TrainingSet:
    """The usable examples under `root`, and a validation set read from its own folder (a Path), split
    off `root` at random (a fraction in (0, 1), the same split for the same seed), or none (None).

    Unusable files are skipped with one logged warning; DatasetError when nothing usable remains."""
    train, skipped = _usable_examples(root, min_side=min_side)
    if validation is None:
        return TrainingSet(train=train, validation=[], skipped=skipped)
    if isinstance(validation, (str, Path)):
        validation_examples, validation_skipped = _usable_examples(Path(validation), min_side=min_side)
        return TrainingSet(train=train, validation=validation_examples, skipped=skipped + validation_skipped)
    train, validation_examples = _split_off_validation(train, fraction=validation, seed=seed, root=root)
    return TrainingSet(train=train, validation=validation_examples, skipped=skipped)


def screen_listing(
    listing: DatasetListing, *, min_side: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[list[Example], list[Skipped]]:
    """Splits what `listing` found into usable examples and skipped files, decoding every captioned image."""
    examples: list[Example] = []
    skipped = [Skipped(path, "no caption", SkipKind.NO_CAPTION) for path in listing.images_without_captions]
    skipped += [
        Skipped(listing.root / reference, "captioned, but the image file does not exist", SkipKind.MISSING_IMAGE)
        for reference in listing.captions_without_images
    ]
    for entry in listing.entries:
        outcome = _screen_entry(entry, min_side=min_side, max_pixels=max_pixels)
        if isinstance(outcome, Example):
            examples.append(outcome)
        else:
            skipped.append(outcome)
    return examples, skipped


def _screen_entry(entry: Entry, *, min_side: int, max_pixels: int) -> Example | Skipped:
    if entry.caption is None:
        return Skipped(entry.image_path, "empty caption", SkipKind.EMPTY_CAPTION)
    try:
        width, height = open_rgb(entry.image_path, max_pixels=max_pixels).size
    except ImageError as error:
        return Skipped.unreadable(error)
    if min(width, height) < min_side:
        return Skipped(
            entry.image_path,
            f"too small: {width}x{height} px, shorter side under {min_side}",
            SkipKind.TOO_SMALL,
        )
    return Example(entry.image_path, entry.caption, entry.metadata, width, height)


def _usable_examples(root: Path, *, min_side: int) -> tuple[list[Example], list[Skipped]]:
    listing = read_dataset(root)
    examples, skipped = screen_listing(listing, min_side=min_side)
    if listing.problems:
        logger.warning(
            "%d problems in the captions of %s: %s",
            len(listing.problems),
            root,
            _named_and_counted(listing.problems),
        )
    if skipped:
        logger.warning(
            "skipping %d of %d images in %s: %s. Run `shoegen dataset check %s` for a full report.",
            len(skipped),
            len(skipped) + len(examples),
            root,
            _named_and_counted([f"{_shown(item.path, root)} ({item.reason})" for item in skipped]),
            root,
        )
    if not examples:
        if not skipped:
            raise DatasetError(f"{root} lists no images ({listing.layout} layout); there is nothing to train on")
        first_reasons = "; ".join(f"{_shown(item.path, root)}: {item.reason}" for item in skipped[:5])
        raise DatasetError(
            f"no usable example in {root}: all {len(skipped)} images were skipped ({first_reasons}). "
            f"Run `shoegen dataset check {root}` for a full report."
        )
    return examples, skipped


def _split_off_validation(
    examples: Sequence[Example], *, fraction: float, seed: int, root: Path
) -> tuple[list[Example], list[Example]]:
    if isinstance(fraction, bool) or not 0.0 < fraction < 1.0:
        raise DatasetError(
            f"the validation fraction must be between 0 and 1 (e.g. 0.1), got {fraction!r}; "
            "give a folder or no validation to use none"
        )
    # At least one validation example, so a small dataset still gets validated.
    validation_count = max(1, round(len(examples) * fraction))
    if validation_count >= len(examples):
        raise DatasetError(
            f"a validation fraction of {fraction} of the {len(examples)} usable examples in {root} "
            "leaves none to train on; lower it or give a separate validation folder"
        )
    # Shuffling indices ordered by path makes the split depend only on which files exist and the
    # seed, not on the order captions.json happens to list them in.
    order = sorted(range(len(examples)), key=lambda index: examples[index].image_path)
    random.Random(seed).shuffle(order)
    validation_indices = set(order[:validation_count])
    train = [example for index, example in enumerate(examples) if index not in validation_indices]
    validation = [example for index, example in enumerate(examples) if index in validation_indices]
    return train, validation


def _named_and_counted(items: Sequence[str]) -> str:
    named = "; ".join(items[:NAMED_IN_WARNINGS])
    rest = len(items) - NAMED_IN_WARNINGS
    return f"{named}; and {rest} more" if rest > 0 else named


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
