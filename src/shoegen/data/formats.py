"""Reading a folder of product photos and their captions, in any of the three layouts users bring, and
writing captions back in the layout the folder already uses.

`read_dataset` never opens an image: it only pairs image files with captions and records what
does not pair up, so that `shoegen dataset check` and the trainer can report it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from shoegen.errors import ShoegenError
from shoegen.files import write_text_atomically

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
# kohya's scripts default to ".caption"; most people write ".txt". When both exist, ".txt" wins.
CAPTION_EXTENSIONS = (".txt", ".caption")
ORIGINAL_CAPTIONS_FILE = "captions.json"
IMAGEFOLDER_METADATA_FILE = "metadata.jsonl"

ACCEPTED_LAYOUTS = """\
  1. captions.json: a JSON list of {"image_file": "images/123.png", "caption": "..."} objects
     (optional "image_id", "metadata" and any other keys); image_file is relative to the folder,
     or a bare file name inside its images/ subfolder.
  2. Hugging Face imagefolder: metadata.jsonl with one {"file_name": "...", "text": "..."} object
     per line ("caption" is accepted instead of "text"); file_name is relative to the folder.
  3. kohya: each image with a caption file of the same name beside it (photo.png + photo.txt or
     photo.caption), in the folder or any subfolder (e.g. 10_shoes/photo.png)."""


class DatasetError(ShoegenError):
    """A dataset folder that cannot be used as it is; the message names the file and the fix."""


class SharedCaptionFile(DatasetError):
    """Two images (one name, two extensions) whose caption would be written to one caption file."""


class Layout(StrEnum):
    ORIGINAL = "captions.json"
    IMAGEFOLDER = "imagefolder"
    KOHYA = "kohya"


@dataclass(frozen=True)
class Entry:
    """One image file that exists, with its caption (None when the caption is missing or blank)."""

    image_path: Path
    caption: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class DatasetListing:
    """Everything `read_dataset` found; the lists other than `entries` are what did not pair up."""

    root: Path
    layout: Layout
    entries: list[Entry]
    captions_without_images: list[str] = field(default_factory=list)
    """Image references (as written in the caption source) whose file does not exist."""
    images_without_captions: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Malformed records, unsafe paths, duplicates: one message each, naming file and line."""


@dataclass(frozen=True)
class _CaptionRecord:
    """One row of captions.json or metadata.jsonl before its image reference is resolved."""

    where: str
    image_reference: str
    caption: str | None
    metadata: dict[str, Any]


def read_dataset(root: Path) -> DatasetListing:
    """Lists the images and captions under `root`, detecting which of the accepted layouts it uses."""
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist or is not a folder")
    original_file = root / ORIGINAL_CAPTIONS_FILE
    imagefolder_file = root / IMAGEFOLDER_METADATA_FILE
    if original_file.is_file():
        records, problems = _original_records(original_file)
        listing = _pair_records(root, Layout.ORIGINAL, records, problems)
        if imagefolder_file.is_file():
            listing.problems.append(
                f"{root} holds both {ORIGINAL_CAPTIONS_FILE} and {IMAGEFOLDER_METADATA_FILE}; "
                f"only {ORIGINAL_CAPTIONS_FILE} is used"
            )
        return listing
    if imagefolder_file.is_file():
        records, problems = _imagefolder_records(imagefolder_file)
        return _pair_records(root, Layout.IMAGEFOLDER, records, problems)
    listing = _kohya_listing(root)
    if listing is None:
        raise DatasetError(_no_layout_message(root))
    return listing


def _original_records(path: Path) -> tuple[list[_CaptionRecord], list[str]]:
    try:
        items = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}. "
            "Fix the file (it must be a list of {\"image_file\", \"caption\"} objects)."
        ) from error
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path} is not UTF-8 text ({error.reason}); save it as UTF-8") from error
    if not isinstance(items, list):
        raise DatasetError(
            f"{path} holds a JSON {type(items).__name__}, but it must be a list of "
            "{\"image_file\", \"caption\"} objects"
        )
    records: list[_CaptionRecord] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        where = f"{path.name} item {index}"
        record = _record_from_object(where, item, image_key="image_file", caption_keys=("caption",))
        if isinstance(record, str):
            problems.append(record)
        else:
            records.append(record)
    return records, problems


def _imagefolder_records(path: Path) -> tuple[list[_CaptionRecord], list[str]]:
    records: list[_CaptionRecord] = []
    problems: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path} is not UTF-8 text ({error.reason}); save it as UTF-8") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: not valid JSON ({error.msg} at column {error.colno}); skipped")
            continue
        record = _record_from_object(where, item, image_key="file_name", caption_keys=("text", "caption"))
        if isinstance(record, str):
            problems.append(record)
        else:
            records.append(record)
    return records, problems


def _record_from_object(
    where: str, item: object, *, image_key: str, caption_keys: tuple[str, ...]
) -> _CaptionRecord | str:
    """Turns one JSON object into a record, or returns the problem message when it cannot."""
    if not isinstance(item, dict):
        return f"{where}: expected a JSON object, found {type(item).__name__}; skipped"
    image_reference = item.get(image_key)
    if not isinstance(image_reference, str) or not image_reference.strip():
        return f"{where}: no \"{image_key}\" naming the image; skipped"
    caption_key = next((key for key in caption_keys if key in item), caption_keys[0])
    raw_caption = item.get(caption_key)
    if raw_caption is not None and not isinstance(raw_caption, str):
        return f"{where}: \"{caption_key}\" is a {type(raw_caption).__name__}, not text; skipped"
    extras = {key: value for key, value in item.items() if key not in (image_key, caption_key, "metadata")}
    nested = item.get("metadata")
    if isinstance(nested, dict):
        # The original dataset keeps color/gender/... under "metadata"; top-level extras such as
        # image_id join them so the trainer sees one flat dict. On a name clash the nested value wins.
        metadata = {**extras, **nested}
    else:
        metadata = extras if nested is None else {**extras, "metadata": nested}
    return _CaptionRecord(where, image_reference.strip(), _clean_caption(raw_caption), metadata)


def _clean_caption(raw: str | None) -> str | None:
    caption = (raw or "").strip()
    return caption or None


def _pair_records(
    root: Path, layout: Layout, records: list[_CaptionRecord], problems: list[str]
) -> DatasetListing:
    listing = DatasetListing(root=root, layout=layout, entries=[], problems=problems)
    seen: dict[Path, str] = {}
    for record in records:
        relative = _safe_relative_path(record.image_reference)
        if relative is None:
            listing.problems.append(
                f"{record.where}: \"{record.image_reference}\" points outside the dataset folder; skipped"
            )
            continue
        image_path = _existing_image_path(root, relative, bare_names_in_images_dir=layout is Layout.ORIGINAL)
        if image_path is None:
            listing.captions_without_images.append(record.image_reference)
            continue
        if image_path in seen:
            listing.problems.append(
                f"{record.where}: {record.image_reference} is already captioned at {seen[image_path]}; "
                "only the first caption is used"
            )
            continue
        seen[image_path] = record.where
        listing.entries.append(Entry(image_path, record.caption, record.metadata))
    listing.images_without_captions = [path for path in _image_files(root) if path not in seen]
    return listing


def _safe_relative_path(reference: str) -> PurePosixPath | None:
    """The reference as a path inside the dataset folder, or None when it could escape it.

    Checked by its text, not by resolving it, so that a folder of symlinks to photos kept
    elsewhere still works while "../other/x.png" and "/etc/x.png" are refused."""
    # Captions written on Windows use backslashes.
    relative = PurePosixPath(reference.replace("\\", "/"))
    # "C:/photos/x.png" is relative to a POSIX path parser but absolute where it was written.
    has_drive = bool(relative.parts) and ":" in relative.parts[0]
    if not relative.parts or relative.is_absolute() or ".." in relative.parts or has_drive:
        return None
    return relative


def _existing_image_path(root: Path, relative: PurePosixPath, *, bare_names_in_images_dir: bool) -> Path | None:
    candidates = [root / relative]
    if bare_names_in_images_dir and len(relative.parts) == 1:
        candidates.append(root / "images" / relative)
    return next((path for path in candidates if path.is_file()), None)


def _visible_files(root: Path) -> Iterator[Path]:
    """Files under `root` in a stable order, leaving out hidden ones (.DS_Store, ._x.png, .git/)."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield path


def _image_files(root: Path) -> list[Path]:
    return [path for path in _visible_files(root) if path.suffix.lower() in IMAGE_EXTENSIONS]


def _kohya_listing(root: Path) -> DatasetListing | None:
    """Pairs each image with a same-stem caption file; None when no image has one."""
    files = list(_visible_files(root))
    captions_by_stem: dict[Path, Path] = {}
    for extension in reversed(CAPTION_EXTENSIONS):  # the preferred extension is written last, so it wins
        for path in files:
            if path.suffix.lower() == extension:
                captions_by_stem[path.with_suffix("")] = path
    listing = DatasetListing(root=root, layout=Layout.KOHYA, entries=[])
    image_stems: set[Path] = set()
    for image_path in (path for path in files if path.suffix.lower() in IMAGE_EXTENSIONS):
        stem = image_path.with_suffix("")
        image_stems.add(stem)
        caption_file = captions_by_stem.get(stem)
        if caption_file is None:
            listing.images_without_captions.append(image_path)
            continue
        try:
            caption = _clean_caption(caption_file.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError as error:
            listing.problems.append(f"{caption_file}: not UTF-8 text ({error.reason}); caption ignored")
            caption = None
        listing.entries.append(Entry(image_path, caption, {}))
    if not listing.entries:
        return None
    for stem, images in _sharing_a_caption_file(entry.image_path for entry in listing.entries).items():
        names = ", ".join(sorted(image.relative_to(root).as_posix() for image in images))
        listing.problems.append(f"{names} share the caption file {captions_by_stem[stem].relative_to(root).as_posix()}"
                                ": each is trained with it, and a caption edit would change both; rename one")
    listing.captions_without_images = [
        path.relative_to(root).as_posix()
        for path in files
        if path.suffix.lower() in CAPTION_EXTENSIONS and path.with_suffix("") not in image_stems
    ]
    return listing


def _no_layout_message(root: Path) -> str:
    image_count = len(_image_files(root))
    found = f"found {image_count} image files but no captions" if image_count else "found no image files"
    message = f"{root} is not a dataset folder I can read ({found}). Accepted layouts:\n{ACCEPTED_LAYOUTS}"
    splits = sorted(
        child.name
        for child in root.iterdir()
        if (child / ORIGINAL_CAPTIONS_FILE).is_file() or (child / IMAGEFOLDER_METADATA_FILE).is_file()
    )
    if splits:
        # The original dataset ships as train/ val/ test/ folders, each a dataset of its own.
        message += (
            f"\nThe subfolders {', '.join(splits)} look like datasets; point at one of them, e.g. {root / splits[0]}"
        )
    return message


def write_captions(listing: DatasetListing, captions: Mapping[Path, str]) -> None:
    """Sets the caption of each image (a path from `listing`) in the folder's own layout, each file replaced
    atomically: the captions.json item, the metadata.jsonl line (other keys and lines kept as they are), or
    the caption file beside the image. An image the caption source does not name yet gets a new item or line.

    The caller reads `listing` and writes under one lock, so that two writers do not lose each other's edits."""
    if not captions:
        return
    if listing.layout is Layout.ORIGINAL:
        _write_original_captions(listing.root, captions)
    elif listing.layout is Layout.IMAGEFOLDER:
        _write_imagefolder_captions(listing.root, captions)
    else:
        _check_unshared_caption_files(listing, captions)
        for image_path, caption in captions.items():
            write_text_atomically(_kohya_caption_file(image_path), caption + "\n")


def _check_unshared_caption_files(listing: DatasetListing, captions: Mapping[Path, str]) -> None:
    """Images with one name and two extensions (shoe.jpg, shoe.PNG) share one caption file: writing one image's
    caption would change the other's, so that is refused, naming both (the same caption for both is written)."""
    sharing = _sharing_a_caption_file([*(entry.image_path for entry in listing.entries),
                                       *listing.images_without_captions])
    for image_path, caption in captions.items():
        others = [other for other in sharing.get(image_path.with_suffix(""), [])
                  if other != image_path and captions.get(other) != caption]
        if others:
            names = ", ".join(path.relative_to(listing.root).as_posix() for path in [image_path, *others])
            raise SharedCaptionFile(f"{names} share the caption file "
                                    f"{_kohya_caption_file(image_path).relative_to(listing.root).as_posix()}: a caption "
                                    "for one would be the other's too; rename one of them so each has its own")


def _referenced_image(root: Path, reference: object, layout: Layout) -> Path | None:
    """The image a caption record names, resolved exactly as `read_dataset` resolves it."""
    if not isinstance(reference, str) or not reference.strip():
        return None
    relative = _safe_relative_path(reference.strip())
    if relative is None:
        return None
    return _existing_image_path(root, relative, bare_names_in_images_dir=layout is Layout.ORIGINAL)


def _write_original_captions(root: Path, captions: Mapping[Path, str]) -> None:
    path = root / ORIGINAL_CAPTIONS_FILE
    items = json.loads(path.read_text(encoding="utf-8-sig"))
    remaining = dict(captions)
    for item in items:
        # Only the first record of an image is read, so only the first is written.
        image_path = _referenced_image(root, item.get("image_file"), Layout.ORIGINAL) if isinstance(item, dict) \
            else None
        if image_path in remaining:
            item["caption"] = remaining.pop(image_path)
    items += [{"image_file": image.relative_to(root).as_posix(), "caption": text} for image, text in remaining.items()]
    write_text_atomically(path, json.dumps(items, indent=2, ensure_ascii=False) + "\n")


def _write_imagefolder_captions(root: Path, captions: Mapping[Path, str]) -> None:
    path = root / IMAGEFOLDER_METADATA_FILE
    remaining = dict(captions)
    lines = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        try:
            item = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            item = None
        image_path = _referenced_image(root, item.get("file_name"), Layout.IMAGEFOLDER) if isinstance(item, dict) \
            else None
        if isinstance(item, dict) and image_path in remaining:
            # The key the reader took the caption from ("text" unless only "caption" is there).
            caption_key = "caption" if "caption" in item and "text" not in item else "text"
            item[caption_key] = remaining.pop(image_path)
            line = json.dumps(item, ensure_ascii=False)
        lines.append(line)
    lines += [json.dumps({"file_name": image.relative_to(root).as_posix(), "text": text}, ensure_ascii=False)
              for image, text in remaining.items()]
    write_text_atomically(path, "\n".join(lines) + "\n")


def _sharing_a_caption_file(images: Iterable[Path]) -> dict[Path, list[Path]]:
    """The images with one name and several extensions (shoe.jpg, shoe.PNG), by their common stem: a caption file
    is named after the stem, so they read (and a write would change) the same one."""
    by_stem: dict[Path, list[Path]] = {}
    for image in images:
        by_stem.setdefault(image.with_suffix(""), []).append(image)
    return {stem: group for stem, group in by_stem.items() if len(group) > 1}


def _kohya_caption_file(image_path: Path) -> Path:
    """The caption file the reader pairs with `image_path` (".txt" before ".caption"), or a new ".txt"."""
    for extension in CAPTION_EXTENSIONS:
        for candidate in (image_path.with_suffix(extension), image_path.with_suffix(extension.upper())):
            if candidate.is_file():
                return candidate
    return image_path.with_suffix(CAPTION_EXTENSIONS[0])


