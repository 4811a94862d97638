"""Turning uploaded files (one ZIP, or many files) into a dataset folder that is safe to keep.

Nothing is trusted by its name: paths are checked as text, archive entries by their mode bits and by the bytes
actually read (not the sizes their headers declare), images by decoding them. Everything lands in a staging
folder first; `DatasetLibrary` renames it into place only once it is whole, and removes it otherwise."""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from shoegen.data.formats import (
    CAPTION_EXTENSIONS,
    IMAGE_EXTENSIONS,
    IMAGEFOLDER_METADATA_FILE,
    ORIGINAL_CAPTIONS_FILE,
    DatasetError,
    read_dataset,
)
from shoegen.data.images import DEFAULT_MAX_PIXELS, ImageError, open_rgb

# What operating systems and archivers add beside the files people meant to send; dropped without a word.
IGNORED_FILE_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
IGNORED_FOLDER_NAMES = frozenset({"__macosx"})
ARCHIVE_EXTENSIONS = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"})
CAPTION_SOURCE_NAMES = frozenset({ORIGINAL_CAPTIONS_FILE, IMAGEFOLDER_METADATA_FILE})
# Photos barely compress; a large entry that claims to shrink more than this is a decompression bomb.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_ABOVE_BYTES = 2**20
CHUNK_BYTES = 2**20
_ARCHIVE_NAME = ".upload.zip"
_SHOWN = 10


class UploadError(DatasetError):
    """An upload refused as a whole; the message names the file and the problem."""


class BadUpload(UploadError):
    """Paths leaving the folder, links, nested or unreadable archives, a ZIP mixed with other files."""


class UploadTooLarge(UploadError):
    """A file, the file count or the extracted size over its limit, or a decompression bomb."""


class UnsupportedFile(UploadError):
    """A file that is neither an image nor a caption file."""


class NothingUsable(UploadError):
    """No image decodes, or the captions are in no accepted layout."""


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int = 64 * 2**20
    max_files: int = 20_000
    max_total_bytes: int = 4 * 2**30
    """Bytes written to the staging folder in all, extracted archive included."""
    max_image_pixels: int = DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class Rejected:
    """An uploaded image that did not decode and was not stored."""

    file: str
    reason: str


def upload_path(name: str) -> PurePosixPath | None:
    """The uploaded file name as a path inside the dataset, or None for files dropped silently (hidden files,
    __MACOSX, .DS_Store); BadUpload when it is absolute or climbs out ("../x", "/etc/x", "C:/x")."""
    text = name.replace("\\", "/")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    has_drive = bool(parts) and ":" in parts[0]
    if text.startswith("/") or has_drive or ".." in parts:
        raise BadUpload(f"{name}: the path leaves the dataset folder")
    if not parts:
        raise BadUpload(f"{name!r}: not a file name")
    if any(part.startswith(".") or part.lower() in IGNORED_FOLDER_NAMES for part in parts) \
            or parts[-1].lower() in IGNORED_FILE_NAMES:
        return None
    return PurePosixPath(*parts)


def _is_archive(path: PurePosixPath) -> bool:
    return path.suffix.lower() in ARCHIVE_EXTENSIONS


def _check_kind(path: PurePosixPath) -> None:
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS or suffix in CAPTION_EXTENSIONS or path.name in CAPTION_SOURCE_NAMES:
        return
    if _is_archive(path):
        raise BadUpload(f"{path}: an archive inside the upload; send its files, or one .zip")
    raise UnsupportedFile(
        f"{path}: neither an image ({', '.join(sorted(IMAGE_EXTENSIONS))}) nor a caption file "
        f"({ORIGINAL_CAPTIONS_FILE}, {IMAGEFOLDER_METADATA_FILE}, {', '.join(CAPTION_EXTENSIONS)})"
    )


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)

    def close(self) -> None:
        pass


@dataclass
class Staging:
    """One upload in progress: `receive` each file as it streams in, then `finish` checks the whole."""

    folder: Path
    limits: UploadLimits = field(default_factory=UploadLimits)
    rejected: list[Rejected] = field(default_factory=list)
    _files: set[PurePosixPath] = field(default_factory=set)
    _bytes: int = 0
    _archive: Path | None = None
    _open: list[BinaryIO] = field(default_factory=list)

    def receive(self, name: str) -> _Sink | _Discard:
        """Where the bytes of the uploaded file `name` go; refuses the upload as soon as a limit is crossed."""
        relative = upload_path(name)
        if relative is None:
            return _Discard()
        if _is_archive(relative) and relative.suffix.lower() == ".zip":
            if self._files or self._archive is not None:
                raise BadUpload(f"{relative}: send one .zip on its own, or many files without an archive")
            self._archive = self.folder / _ARCHIVE_NAME
            # The body limit bounds the archive itself; what counts towards max_total_bytes is what it extracts to.
            return self._open_sink(self._archive, str(relative), self.limits.max_total_bytes,
                                   f"{relative}: the upload is over {self.limits.max_total_bytes} bytes", counted=False)
        if self._archive is not None:
            raise BadUpload(f"{relative}: send one .zip on its own, or many files without an archive")
        return self._new_file(relative)

    def finish(self) -> None:
        """Extracts the archive, decodes every image (the broken ones are removed and listed in `rejected`)
        and checks that the captions are in an accepted layout; NothingUsable when no image is left."""
        self.close()
        if self._archive is not None:
            self._extract(self._archive)
            self._archive.unlink()
        self._unwrap_single_folder()
        images = sorted(path for path in self.folder.rglob("*")
                        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS
                        and not any(part.startswith(".") for part in path.relative_to(self.folder).parts))
        if not images:
            raise NothingUsable("the upload holds no image files")
        for path in images:
            try:
                # Pixels are counted from the header before anything is decoded (open_rgb's bound).
                open_rgb(path, max_pixels=self.limits.max_image_pixels)
            except ImageError as error:
                path.unlink()
                self.rejected.append(Rejected(path.relative_to(self.folder).as_posix(), error.reason))
        if len(self.rejected) == len(images):
            named = ", ".join(f"{item.file} ({item.reason})" for item in self.rejected[:_SHOWN])
            more = f" and {len(self.rejected) - _SHOWN} more" if len(self.rejected) > _SHOWN else ""
            raise NothingUsable(f"no image in the upload decodes: {named}{more}")
        try:
            read_dataset(self.folder)
        except DatasetError as error:
            # The staging folder's name means nothing to the person uploading.
            message = str(error).replace(f"{self.folder}/", "").replace(str(self.folder), "the upload")
            raise NothingUsable(message) from error

    def close(self) -> None:
        for file in self._open:
            file.close()
        self._open.clear()

    def discard(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _new_file(self, relative: PurePosixPath) -> _Sink:
        _check_kind(relative)
        if relative in self._files:
            raise BadUpload(f"{relative}: sent twice")
        self._files.add(relative)
        if len(self._files) > self.limits.max_files:
            raise UploadTooLarge(f"{relative}: more than {self.limits.max_files} files in one upload")
        return self._open_sink(self.folder / relative, str(relative), self.limits.max_file_bytes,
                               f"{relative}: over the limit of {self.limits.max_file_bytes} bytes per file")

    def _open_sink(self, path: Path, name: str, max_bytes: int, too_large: str, *, counted: bool = True) -> _Sink:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file = path.open("xb")
        except (FileExistsError, NotADirectoryError) as error:
            raise BadUpload(f"{name}: clashes with another file of the upload") from error
        self._open.append(file)
        return _Sink(self, file, name, max_bytes, too_large, counted)

    def count_bytes(self, size: int, name: str) -> None:
        self._bytes += size
        if self._bytes > self.limits.max_total_bytes:
            raise UploadTooLarge(f"{name}: the upload is over {self.limits.max_total_bytes} bytes in all")

    def _extract(self, archive: Path) -> None:
        try:
            with zipfile.ZipFile(archive) as opened:
                for info, relative in self._archive_plan(opened):
                    self._extract_entry(opened, info, relative)
        except zipfile.BadZipFile as error:
            raise BadUpload(f"{archive_name(archive)}: not a readable ZIP archive ({error})") from error
        except (RuntimeError, NotImplementedError) as error:
            # zipfile's words for encrypted entries and unknown compression methods.
            raise BadUpload(f"the ZIP archive cannot be extracted: {error}") from error

    def _archive_plan(self, opened: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
        """The entries to extract, every one checked from the central directory before a byte is written."""
        plan, declared = [], 0
        for info in opened.infolist():
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise BadUpload(f"{info.filename}: a link inside the ZIP archive; links are not accepted")
            relative = upload_path(info.filename)
            if relative is None or info.is_dir():
                continue
            _check_kind(relative)
            if info.file_size > self.limits.max_file_bytes:
                raise UploadTooLarge(f"{relative}: {info.file_size} bytes, over the limit of "
                                     f"{self.limits.max_file_bytes} per file")
            if info.file_size > RATIO_CHECKED_ABOVE_BYTES \
                    and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                raise UploadTooLarge(f"{relative}: compressed more than {MAX_COMPRESSION_RATIO} to 1, "
                                     "a decompression bomb")
            declared += info.file_size
            if declared > self.limits.max_total_bytes:
                raise UploadTooLarge(f"the ZIP archive extracts to over {self.limits.max_total_bytes} bytes")
            plan.append((info, relative))
        return plan

    def _extract_entry(self, opened: zipfile.ZipFile, info: zipfile.ZipInfo, relative: PurePosixPath) -> None:
        sink = self._new_file(relative)
        # The checks above trusted the header's size; more bytes than it declares is a bomb, stopped right there
        # (zipfile itself stops at the declared size and then fails the checksum; this holds whatever reads it).
        sink.max_bytes = info.file_size
        sink.too_large = f"{relative}: extracts to more bytes than the ZIP archive declares, a decompression bomb"
        with opened.open(info) as entry:
            for chunk in iter(lambda: entry.read(CHUNK_BYTES), b""):
                sink.write(chunk)
        sink.close()

    def _unwrap_single_folder(self) -> None:
        """A ZIP of a folder (or a dragged folder) arrives as one top folder: its contents become the dataset."""
        children = [child for child in self.folder.iterdir() if not child.name.startswith(".")]
        if len(children) != 1 or not children[0].is_dir():
            return
        top = children[0]
        # A kohya folder reads the same from one level up (its subfolders are its repeats); the other two
        # layouts keep their caption file at the top.
        if not any((top / name).is_file() for name in CAPTION_SOURCE_NAMES):
            return
        moved = top.rename(self.folder / ".unwrapping")
        for child in list(moved.iterdir()):
            child.rename(self.folder / child.name)
        moved.rmdir()


def archive_name(path: Path) -> str:
    return "the ZIP archive" if path.name == _ARCHIVE_NAME else path.name


@dataclass
class _Sink:
    """One file being written; refuses it as soon as it grows past its limit."""

    staging: Staging
    file: BinaryIO
    name: str
    max_bytes: int
    too_large: str
    counted: bool = True
    written: int = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self.max_bytes:
            raise UploadTooLarge(self.too_large)
        if self.counted:
            self.staging.count_bytes(len(data), self.name)
        return self.file.write(data)

    def close(self) -> None:
        self.file.close()
