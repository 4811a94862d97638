"""`shoegen dataset check`: everything worth knowing about a dataset folder before training on it.

The "ready to train" count comes from the same screening the trainer runs (`screen_listing`), so the
report and the training run agree on which files are used."""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoegen.config.train import TrainConfig
from shoegen.data.formats import read_dataset
from shoegen.data.images import ImageError, ImageInfo, image_info
from shoegen.data.splits import Skipped, SkipKind, screen_listing

# The trainer's threshold (--min_image_side), so the check calls too small exactly what training skips.
TRAINING_MIN_SIDE: int = TrainConfig.model_fields["min_image_side"].default
# How many files each list in the rendered report names before it just counts the rest; unreadable files
# are all named, since each one needs fixing by hand.
SHOWN_PER_LIST = 10
COMMON_WORDS_SHOWN = 10
# Function words and numbers (ids, years) top every caption and say nothing about the data.
_STOP_WORDS = frozenset({"a", "an", "the", "of", "on", "in", "and", "with", "for", "to", "at", "by", "is"})
_NAMED_ASPECT_RATIOS = {
    "square 1:1": 1.0,
    "portrait 4:5": 4 / 5,
    "portrait 3:4": 3 / 4,
    "portrait 2:3": 2 / 3,
    "portrait 9:16": 9 / 16,
    "landscape 5:4": 5 / 4,
    "landscape 4:3": 4 / 3,
    "landscape 3:2": 3 / 2,
    "landscape 16:9": 16 / 9,
}
# Within 3% of a named ratio counts as that ratio: 225x300 and 1800x2401 are both 3:4.
_ASPECT_TOLERANCE = math.log(1.03)

CAPTION_PROBLEM = "caption problem"
"""The problem count of the caption source's own problems (a malformed record, a duplicate, a second caption file):
they skip a caption, never an image."""
REPORT_FORMAT = 2
"""Raised when the report's content changes, so that reports cached by earlier versions are computed again."""

_PROBLEM_LABELS = {
    SkipKind.UNREADABLE: "unreadable",
    SkipKind.TOO_SMALL: "too small",
    SkipKind.NO_CAPTION: "without caption",
    SkipKind.EMPTY_CAPTION: "empty caption",
    SkipKind.MISSING_IMAGE: "caption without image",
}


@dataclass(frozen=True)
class Spread:
    minimum: float
    median: float
    maximum: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        return cls(min(values), statistics.median(values), max(values)) if values else None

    def __str__(self) -> str:
        return f"{self.minimum:g} / {self.median:g} / {self.maximum:g}"

    def to_dict(self) -> dict[str, float]:
        return {"min": self.minimum, "median": self.median, "max": self.maximum}


@dataclass
class DatasetReport:
    root: Path
    layout: str
    min_side: int
    image_count: int
    """Image files found, captioned or not."""
    caption_count: int
    """Non-empty captions whose image exists."""
    ready_count: int
    """Examples the trainer will use."""
    skipped: list[Skipped]
    caption_problems: list[str]
    """Malformed records in the caption source (bad JSON lines, unsafe paths, duplicates)."""
    widths: Spread | None
    heights: Spread | None
    aspect_ratios: Counter[str]
    color_modes: Counter[str]
    file_formats: Counter[str]
    exif_rotated: list[Path]
    duplicate_groups: list[list[Path]]
    """Files with byte-identical content; training on them weighs those products double."""
    caption_words: Spread | None
    common_words: list[tuple[str, int]]

    @property
    def ready_to_train(self) -> bool:
        """Whether training can start; problems short of this only make it skip files."""
        return self.ready_count > 0

    def skipped_for(self, kind: SkipKind) -> list[Skipped]:
        return [item for item in self.skipped if item.kind is kind]

    def problem_counts(self) -> dict[str, int]:
        counts = {label: len(self.skipped_for(kind)) for kind, label in _PROBLEM_LABELS.items()}
        counts[CAPTION_PROBLEM] = len(self.caption_problems)
        return {label: count for label, count in counts.items() if count}

    def verdict(self) -> str:
        counts = self.problem_counts()
        if not counts and self.ready_to_train:
            return f"OK: {self.ready_count} images ready to train"
        if not counts:
            return "0 images: the dataset lists no images, so there is nothing to train on"
        summary = ", ".join(f"{count} {label}" for label, count in counts.items())
        if not self.ready_to_train:
            outcome = "no image is ready to train"
        elif self.ready_count < self.image_count:
            outcome = f"{self.ready_count} images ready to train, the rest will be skipped"
        else:  # the problems are in the caption source only (a duplicate record, a second caption file)
            outcome = f"all {self.ready_count} images ready to train"
        total = sum(counts.values())
        return f"{total} problem{'s' if total != 1 else ''}: {summary}; {outcome}"

    def render(self) -> str:
        lines = [
            f"Dataset:        {self.root} ({self.layout} layout)",
            f"Images:         {self.image_count} files",
            f"Captions:       {self.caption_count} with an image, "
            f"{len(self.skipped_for(SkipKind.EMPTY_CAPTION))} empty, "
            f"{len(self.skipped_for(SkipKind.MISSING_IMAGE))} without an image",
        ]
        if self.widths and self.heights:
            lines.append(f"Width px:       {self.widths} (min / median / max)")
            lines.append(f"Height px:      {self.heights} (min / median / max)")
        lines += [
            f"Aspect ratios:  {_counts_line(self.aspect_ratios)}",
            f"Color modes:    {_counts_line(self.color_modes)}",
            f"File formats:   {_counts_line(self.file_formats)}",
            f"EXIF-rotated:   {len(self.exif_rotated)}",
        ]
        if self.caption_words:
            lines.append(f"Caption words:  {self.caption_words} (min / median / max)")
        if self.common_words:
            lines.append("Common words:   " + ", ".join(f"{word} {count}" for word, count in self.common_words))
        lines.append(f"Duplicate sets: {len(self.duplicate_groups)}")
        lines += _indented_list([" = ".join(self._shown(path) for path in group) for group in self.duplicate_groups])
        if self.caption_problems:
            lines.append(f"Caption problems ({len(self.caption_problems)}):")
            lines += _indented_list(self.caption_problems)
        if self.skipped:
            lines.append(f"Skipped when training ({len(self.skipped)}):")
            lines += self._skipped_by_reason()
        lines += ["", self.verdict()]
        return "\n".join(lines)

    def _skipped_by_reason(self) -> list[str]:
        lines = []
        for kind, label in _PROBLEM_LABELS.items():
            items = [f"{self._shown(item.path)}: {item.reason}" for item in self.skipped_for(kind)]
            if items:
                lines.append(f"  {label} ({len(items)}):")
                shown = None if kind is SkipKind.UNREADABLE else SHOWN_PER_LIST
                lines += _indented_list(items, indent="    ", shown=shown, what=label)
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "layout": str(self.layout),
            "min_side": self.min_side,
            "images": self.image_count,
            "captions": self.caption_count,
            "ready_to_train": self.ready_count,
            "problems": self.problem_counts(),
            "verdict": self.verdict(),
            "unreadable": self._files_with_reasons(SkipKind.UNREADABLE),
            "too_small": self._files_with_reasons(SkipKind.TOO_SMALL),
            "images_without_captions": [self._shown(item.path) for item in self.skipped_for(SkipKind.NO_CAPTION)],
            "empty_captions": [self._shown(item.path) for item in self.skipped_for(SkipKind.EMPTY_CAPTION)],
            "captions_without_images": [self._shown(item.path) for item in self.skipped_for(SkipKind.MISSING_IMAGE)],
            "caption_problems": self.caption_problems,
            "width": self.widths.to_dict() if self.widths else None,
            "height": self.heights.to_dict() if self.heights else None,
            "aspect_ratios": dict(self.aspect_ratios.most_common()),
            "color_modes": dict(self.color_modes.most_common()),
            "file_formats": dict(self.file_formats.most_common()),
            "exif_rotated": [self._shown(path) for path in self.exif_rotated],
            "duplicates": [[self._shown(path) for path in group] for group in self.duplicate_groups],
            "caption_words": self.caption_words.to_dict() if self.caption_words else None,
            "common_words": dict(self.common_words),
        }

    def _files_with_reasons(self, kind: SkipKind) -> list[dict[str, str]]:
        return [{"file": self._shown(item.path), "reason": item.reason} for item in self.skipped_for(kind)]

    def _shown(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)


def check_dataset(root: Path, *, min_side: int = TRAINING_MIN_SIDE) -> DatasetReport:
    """Reads `root` as the trainer would and gathers what to fix and what to expect; decodes every image."""
    listing = read_dataset(root)
    examples, skipped = screen_listing(listing, min_side=min_side)
    image_paths = [entry.image_path for entry in listing.entries] + listing.images_without_captions
    headers, unreadable_headers = _read_headers(image_paths)
    # Uncaptioned files are not decoded by the screening; a broken header is still worth saying.
    already_unreadable = {item.path for item in skipped if item.kind is SkipKind.UNREADABLE}
    skipped += [item for item in unreadable_headers if item.path not in already_unreadable]
    captions = [entry.caption for entry in listing.entries if entry.caption is not None]
    caption_words = [_words(caption) for caption in captions]
    word_counts = Counter(
        word for words in caption_words for word in words if word not in _STOP_WORDS and not word.isdigit()
    )
    return DatasetReport(
        root=root,
        layout=str(listing.layout),
        min_side=min_side,
        image_count=len(image_paths),
        caption_count=len(captions),
        ready_count=len(examples),
        skipped=skipped,
        caption_problems=list(listing.problems),
        widths=Spread.of([info.width for info in headers.values()]),
        heights=Spread.of([info.height for info in headers.values()]),
        aspect_ratios=Counter(_aspect_label(info.width, info.height) for info in headers.values()),
        color_modes=Counter(info.mode for info in headers.values()),
        file_formats=Counter(info.format for info in headers.values()),
        exif_rotated=[path for path, info in headers.items() if info.exif_orientation != 1],
        duplicate_groups=_duplicate_groups(image_paths),
        caption_words=Spread.of([len(words) for words in caption_words]),
        common_words=word_counts.most_common(COMMON_WORDS_SHOWN),
    )


def _read_headers(paths: Sequence[Path]) -> tuple[dict[Path, ImageInfo], list[Skipped]]:
    headers: dict[Path, ImageInfo] = {}
    unreadable: list[Skipped] = []
    for path in paths:
        try:
            headers[path] = image_info(path)
        except ImageError as error:
            unreadable.append(Skipped.unreadable(error))
    return headers, unreadable


def _duplicate_groups(paths: Sequence[Path]) -> list[list[Path]]:
    by_digest: defaultdict[str, list[Path]] = defaultdict(list)
    for path in paths:
        with path.open("rb") as file:
            by_digest[hashlib.file_digest(file, "sha256").hexdigest()].append(path)
    return sorted(sorted(group) for group in by_digest.values() if len(group) > 1)


def _aspect_label(width: int, height: int) -> str:
    if width == 0 or height == 0:
        return "empty"
    log_ratio = math.log(width / height)
    name, ratio = min(_NAMED_ASPECT_RATIOS.items(), key=lambda item: abs(log_ratio - math.log(item[1])))
    if abs(log_ratio - math.log(ratio)) <= _ASPECT_TOLERANCE:
        return name
    return "other portrait" if width < height else "other landscape"


def _words(caption: str) -> list[str]:
    return re.findall(r"[\w'-]+", caption.lower())


def _counts_line(counts: Counter[str]) -> str:
    return ", ".join(f"{label} {count}" for label, count in counts.most_common()) or "none"


def _indented_list(items: Sequence[str], *, indent: str = "  ", shown: int | None = SHOWN_PER_LIST,
                   what: str = "") -> list[str]:
    """`items`, the first `shown` of them (all when None) and a count of the rest, e.g. "... and 3 more too small"."""
    kept = items if shown is None else items[:shown]
    lines = [f"{indent}{item}" for item in kept]
    if len(items) > len(kept):
        lines.append(f"{indent}... and {len(items) - len(kept)} more {what}".rstrip())
    return lines
