"""The studio's datasets: folders under one allowed root, uploaded through the API or registered by name.

Several API processes may share the root on one filesystem, so everything that changes which names exist
(publishing an upload, registering, deleting) and every caption write happens under one lock file, and
each change is a single rename: another process sees a dataset whole or not at all.

Layout of the root:
    <name>/                   a dataset (uploaded ones carry .shoegen-dataset.json: source, date, rejected files)
    .registry.json            registered folders: name -> path relative to the root
    .reports/<key>.json       each dataset's check report, keyed by a fingerprint of its files
    .staging-<uuid>/          an upload in progress (removed when it fails)
    .lock                     the lock file
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from shoegen.data.check import CAPTION_PROBLEM, REPORT_FORMAT, check_dataset
from shoegen.data.formats import IMAGE_EXTENSIONS, DatasetError, DatasetListing, read_dataset, write_captions
from shoegen.data.uploads import Rejected, Staging, UploadLimits
from shoegen.files import write_text_atomically

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
ORIGINAL_CAPTION_TEMPLATE = (
    "A professional product photo of [color] casual shoes, [season] collection, [gender], [brand] brand, "
    "centered on white background, high quality, product photography"
)
CAPTION_TEMPLATES = {
    "original": ORIGINAL_CAPTION_TEMPLATE,
    "colour first": "[color] shoes, [caption]",
}
TEMPLATE_FIELDS = ("color", "season", "gender", "brand", "usage", "year", "caption")
_PLACEHOLDER = re.compile(r"\[([^\[\]]*)\]")
_MARKER = ".shoegen-dataset.json"
_REGISTRY = ".registry.json"
_REPORTS = ".reports"
_LOCK = ".lock"
_STAGING_PREFIX = ".staging-"
_DELETING_PREFIX = ".deleting-"
# An upload takes minutes at most; a staging folder this old was left by a process that died mid-upload.
_STALE_STAGING_SECONDS = 24 * 3600
_SHOWN = 10

Source = Literal["upload", "registered", "folder"]
"""upload: sent through the API (deleting it removes its files); registered: a folder listed by name (deleting it
forgets the name, the files stay); folder: placed in the datasets root on the server (the studio cannot delete it)."""
Status = Literal["ready", "unusable", "unreadable"]


class LibraryError(DatasetError):
    """A request about the library that cannot be done; the message names the dataset, file or field."""


class DatasetNotFound(LibraryError, LookupError):
    pass


class FileNotInDataset(LibraryError, LookupError):
    pass


class DatasetNameTaken(LibraryError):
    pass


class InvalidName(LibraryError):
    pass


class OutsideRoot(LibraryError):
    """A registered path that resolves (links followed) outside the allowed root."""


class NotDeletable(LibraryError):
    pass


class TemplateError(LibraryError):
    """An unknown placeholder, or images whose metadata lacks a field the template uses."""


class InvalidCaption(LibraryError):
    pass


class UnreadableDataset(LibraryError):
    """A dataset whose captions are in no layout `read_dataset` accepts (any more)."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    path: str
    """Relative to the root."""
    layout: str | None
    images: int
    bytes: int
    source: Source
    status: Status
    usable: int
    """Images a training run would use."""
    skipped: int
    created_at: datetime
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetItem:
    file: str
    """Relative to the dataset folder."""
    caption: str | None


@dataclass(frozen=True)
class _Known:
    folder: Path
    source: Source
    created_at: datetime


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name or ""):
        raise InvalidName(f"name {name!r}: use 1-64 letters, digits, '.', '_' or '-', not starting with '.'")
    return name


class DatasetLibrary:
    """The datasets under `root`; cheap to build (one per request is fine)."""

    def __init__(self, root: Path, limits: UploadLimits | None = None):
        self.root = Path(root)
        self.limits = limits or UploadLimits()

    # Reading

    def list(self) -> list[DatasetInfo]:
        return [self._info(name, known) for name, known in sorted(self._known().items())]

    def info(self, name: str) -> DatasetInfo:
        return self._info(name, self._lookup(name))

    def folder(self, name: str) -> Path:
        """The folder training reads; DatasetNotFound naming the known datasets."""
        return self._lookup(name).folder

    def report(self, name: str) -> dict[str, Any] | None:
        """`check_dataset(...).to_dict()`, cached until a file changes; None when no layout can be read."""
        known = self._lookup(name)
        return self._cached_report(known.folder)[0]

    def items(self, name: str, offset: int = 0, limit: int = 100) -> tuple[list[DatasetItem], int]:
        listing = self._listing(name)
        items = sorted(_items(listing), key=lambda item: item.file)
        return items[offset:offset + limit], len(items)

    def image_file(self, name: str, file: str) -> Path:
        """The image `file` names, looked up in the listing (never joined onto the folder)."""
        listing = self._listing(name)
        return self._listed_image(listing, name, file)

    # Writing

    def set_caption(self, name: str, file: str, caption: str) -> DatasetItem:
        caption = caption.strip()
        if not caption:
            raise InvalidCaption(f"caption of {file}: empty")
        with self._locked():
            listing = self._listing(name)
            image_path = self._listed_image(listing, name, file)
            write_captions(listing, {image_path: caption})
        return DatasetItem(file, caption)

    def apply_template(self, name: str, template: str) -> int:
        """Rewrites every image's caption from `template`; TemplateError naming the images that lack a field."""
        fields = list(dict.fromkeys(placeholder.lower() for placeholder in _PLACEHOLDER.findall(template)))
        unknown = [placeholder for placeholder in fields if placeholder not in TEMPLATE_FIELDS]
        if unknown:
            raise TemplateError(f"template: unknown placeholder {', '.join(f'[{p}]' for p in unknown)}; "
                                f"known: {', '.join(f'[{p}]' for p in TEMPLATE_FIELDS)}")
        with self._locked():
            listing = self._listing(name)
            captions, lacking = {}, []
            for entry_path, caption, metadata in _entries(listing):
                values = {key.lower(): str(value).strip() for key, value in metadata.items()
                          if value is not None and not isinstance(value, (dict, list))}
                values["caption"] = (caption or "").strip()
                missing = [placeholder for placeholder in fields if not values.get(placeholder)]
                if missing:
                    lacking.append(f"{entry_path.relative_to(listing.root).as_posix()} ({', '.join(missing)})")
                    continue
                captions[entry_path] = _PLACEHOLDER.sub(lambda match: values[match.group(1).lower()], template)
            if lacking:
                more = f" and {len(lacking) - _SHOWN} more" if len(lacking) > _SHOWN else ""
                raise TemplateError(f"template: {len(lacking)} images lack a field: "
                                    f"{', '.join(lacking[:_SHOWN])}{more}; no caption was changed")
            write_captions(listing, captions)
        return len(captions)

    def register(self, name: str, path: str) -> DatasetInfo:
        """Lists the folder `path` (relative to the root, or absolute inside it) as the dataset `name`."""
        check_name(name)
        root = self.root.resolve()
        candidate = Path(path) if Path(path).is_absolute() else root / path
        # Links are followed before the check; whether a path outside exists is not said.
        folder = candidate.resolve()
        relative = folder.relative_to(root) if folder.is_relative_to(root) else None
        if relative is None or relative == Path(".") or any(part.startswith(".") for part in relative.parts):
            raise OutsideRoot(f"path {path}: not a folder inside the datasets root")
        if not folder.is_dir():
            raise DatasetNotFound(f"path {path}: no such folder")
        with self._locked():
            known = self._known()
            if name in known:
                raise DatasetNameTaken(f"name {name}: a dataset of that name exists")
            same = next((other for other, item in known.items() if item.folder == folder), None)
            if same is not None:
                raise DatasetNameTaken(f"path {path}: already listed as {same}")
            registry = self._registry()
            registry[name] = {"path": relative.as_posix(), "created_at": _now().isoformat()}
            self._write_json(self.root / _REGISTRY, registry)
        # The report is made now, while the person registering waits, not on the first listing.
        return self.info(name)

    def removes_files(self, name: str) -> bool:
        """Whether deleting `name` removes its files (an upload's) or only forgets the name (a registered folder)."""
        return self._lookup(name).source == "upload"

    def delete(self, name: str) -> None:
        """Removes an uploaded dataset's folder, or unregisters a registered one; a folder copied into the root
        by hand stays, and so does an upload that holds a registered dataset (NotDeletable)."""
        with self._locked():
            everything = self._known()
            known = self._lookup(name, everything)
            registry = self._registry()
            if known.source == "folder":
                raise NotDeletable(f"dataset {name}: a folder placed in the datasets root on the server; remove it "
                                   "there")
            if known.source == "registered":  # the name only (a folder in the root would shadow the entry)
                del registry[name]
                self._write_json(self.root / _REGISTRY, registry)
                return
            home = known.folder.resolve()
            inside = sorted(other for other, item in everything.items()
                            if other != name and item.folder.resolve().is_relative_to(home))
            if inside:
                raise NotDeletable(f"dataset {name}: the registered dataset{'s' if len(inside) > 1 else ''} "
                                   f"{', '.join(inside)} {'are' if len(inside) > 1 else 'is'} a folder inside it; "
                                   "delete (unregister) those first")
            if registry.pop(name, None) is not None:  # an entry the upload shadowed, for a folder gone since
                self._write_json(self.root / _REGISTRY, registry)
            # One rename takes it out of every listing; the slow removal happens after.
            doomed = known.folder.rename(self.root / f"{_DELETING_PREFIX}{uuid.uuid4().hex}")
        shutil.rmtree(doomed, ignore_errors=True)

    @contextmanager
    def upload(self) -> Iterator[Staging]:
        """A staging folder for one upload, removed on any failure and when `publish` did not take it."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_stale_staging()
        staging = Staging(self.root / f"{_STAGING_PREFIX}{uuid.uuid4().hex}", self.limits)
        staging.folder.mkdir()
        try:
            yield staging
        finally:
            staging.discard()

    def publish(self, staging: Staging, name: str) -> DatasetInfo:
        """Checks the staged upload (`Staging.finish`) and renames it into place as `name`."""
        check_name(name)
        if name in self._known():
            raise DatasetNameTaken(f"name {name}: a dataset of that name exists")
        staging.finish()
        marker = {"source": "upload", "created_at": _now().isoformat(),
                  "rejected": [asdict(item) for item in staging.rejected]}
        self._write_json(staging.folder / _MARKER, marker)
        # Renaming keeps every file's name, size and time, so the report made here is the published folder's.
        self._cached_report(staging.folder, published_as=self.root / name)
        with self._locked():
            if name in self._known():
                raise DatasetNameTaken(f"name {name}: a dataset of that name exists")
            target = self.root / name
            # rename() onto an existing empty folder would replace it; the check above holds the lock.
            staging.folder.rename(target)
        return self.info(name)

    # Internals

    def _known(self) -> dict[str, _Known]:
        root = self.root.resolve() if self.root.exists() else self.root
        known: dict[str, _Known] = {}
        if not self.root.is_dir():
            return known
        for child in self.root.iterdir():
            if child.name.startswith(".") or not NAME_PATTERN.fullmatch(child.name) or not child.is_dir():
                continue
            folder = child.resolve()
            if not folder.is_relative_to(root):
                continue  # a link placed in the root that leads elsewhere is not the root's to serve
            marker = _read_json(child / _MARKER)
            created = _parse_time(marker.get("created_at")) or _mtime(child)
            known[child.name] = _Known(child, "upload" if marker.get("source") == "upload" else "folder", created)
        for name, entry in self._registry().items():
            folder = (self.root / str(entry.get("path", ""))).resolve()
            # Checked again on every read: a link inside the root may have been changed since registration.
            if name not in known and folder.is_relative_to(root) and folder != root and folder.is_dir():
                known[name] = _Known(folder, "registered", _parse_time(entry.get("created_at")) or _mtime(folder))
        return known

    def _lookup(self, name: str, known: dict[str, _Known] | None = None) -> _Known:
        """`name`'s dataset in `known` (the root's listing, read now when not given)."""
        known = self._known() if known is None else known
        if name not in known:
            names = ", ".join(sorted(known)) or "none yet"
            raise DatasetNotFound(f"dataset {name}: not found (known: {names})")
        return known[name]

    def _listing(self, name: str) -> DatasetListing:
        folder = self.folder(name)
        try:
            return read_dataset(folder)
        except DatasetError as error:
            raise UnreadableDataset(f"dataset {name}: {_relative_message(error, folder)}") from error

    def _listed_image(self, listing: DatasetListing, name: str, file: str) -> Path:
        images = {path.relative_to(listing.root).as_posix(): path for path, _, _ in _entries(listing)}
        if file not in images:
            raise FileNotInDataset(f"file {file}: not an image of dataset {name}")
        return images[file]

    def _info(self, name: str, known: _Known) -> DatasetInfo:
        report, (images, size) = self._cached_report(known.folder)
        marker = _read_json(known.folder / _MARKER) if known.source == "upload" else {}
        rejected = [Rejected(str(item.get("file")), str(item.get("reason"))) for item in marker.get("rejected", [])
                    if isinstance(item, dict)]
        if report is None:
            layout, status, usable, skipped = None, "unreadable", 0, 0
        else:
            layout, usable = report["layout"], report["ready_to_train"]
            skipped = sum(report["problems"].values()) - report["problems"].get(CAPTION_PROBLEM, 0)
            status = "ready" if usable else "unusable"
        relative = known.folder.resolve().relative_to(self.root.resolve()).as_posix()
        return DatasetInfo(name=name, path=relative, layout=layout, images=images, bytes=size, source=known.source,
                           status=status, usable=usable, skipped=skipped, created_at=known.created_at,
                           rejected=rejected)

    def _cached_report(self, folder: Path, published_as: Path | None = None
                       ) -> tuple[dict[str, Any] | None, tuple[int, int]]:
        """The report for the files as they are now, computed once per change (it decodes every image)."""
        fingerprint, images, size = _fingerprint(folder)
        home = (published_as or folder).resolve()
        key = hashlib.sha256(str(home).encode()).hexdigest()[:32]
        cache = self.root / _REPORTS / f"{key}.json"
        cached = _read_json(cache)
        if cached.get("fingerprint") == fingerprint and cached.get("format") == REPORT_FORMAT:
            return cached.get("report"), (images, size)
        try:
            report: dict[str, Any] | None = check_dataset(folder).to_dict()
        except DatasetError:
            report = None
        else:
            # The server's own paths are nobody's business: the dataset is named relative to the root, its files
            # relative to the dataset (some messages name a file by its whole path).
            report = _without_prefixes(report, [f"{folder.resolve()}/", f"{folder}/"])
            report["root"] = home.relative_to(self.root.resolve()).as_posix()
        cache.parent.mkdir(parents=True, exist_ok=True)
        self._write_json(cache, {"fingerprint": fingerprint, "format": REPORT_FORMAT, "report": report})
        return report, (images, size)

    def _registry(self) -> dict[str, dict[str, Any]]:
        registry = _read_json(self.root / _REGISTRY)
        return {name: entry for name, entry in registry.items() if isinstance(entry, dict)}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across every process sharing the root (flock: released if a process dies)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / _LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write_json(self, path: Path, value: Any) -> None:
        write_text_atomically(path, json.dumps(value, indent=2, default=str))

    def _remove_stale_staging(self) -> None:
        cutoff = time.time() - _STALE_STAGING_SECONDS
        for child in self.root.iterdir():
            if child.name.startswith((_STAGING_PREFIX, _DELETING_PREFIX)) and child.stat().st_mtime < cutoff:
                shutil.rmtree(child, ignore_errors=True)


def _entries(listing: DatasetListing) -> Iterator[tuple[Path, str | None, dict[str, Any]]]:
    """Every image of the listing, captioned or not, with its caption and metadata."""
    for entry in listing.entries:
        yield entry.image_path, entry.caption, entry.metadata
    for path in listing.images_without_captions:
        yield path, None, {}


def _items(listing: DatasetListing) -> list[DatasetItem]:
    return [DatasetItem(path.relative_to(listing.root).as_posix(), caption) for path, caption, _ in _entries(listing)]


def _fingerprint(folder: Path) -> tuple[str, int, int]:
    """A digest of every visible file's name, size and modification time; the image count; the bytes in all."""
    digest, images, size = hashlib.sha256(), 0, 0
    for directory, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(directory, name)
            info = path.stat()
            digest.update(f"{path.relative_to(folder).as_posix()}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
            images += path.suffix.lower() in IMAGE_EXTENSIONS
            size += info.st_size
    return digest.hexdigest(), images, size


def _without_prefixes(report: dict[str, Any], prefixes: list[str]) -> dict[str, Any]:
    text = json.dumps(report)
    for prefix in prefixes:
        text = text.replace(json.dumps(prefix)[1:-1], "")
    return json.loads(text)


def _relative_message(error: Exception, folder: Path) -> str:
    return str(error).replace(f"{folder}/", "").replace(str(folder), "the dataset folder")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _parse_time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)


def _now() -> datetime:
    return datetime.now(timezone.utc)
