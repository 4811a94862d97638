"""ZIP exports of gallery images: the PNGs under readable names plus a metadata.json describing them."""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any

from shoegen.storage.stored import StoredImage

logger = logging.getLogger(__name__)

METADATA_NAME = "metadata.json"


def archive_name(image: StoredImage, taken: set[str]) -> str:
    """`<created>_<seed>_<id8>.png`, sortable by time; the full id only if the short name is already taken."""
    stem = f"{image.created_at:%Y%m%d-%H%M%S}_{image.params.seed}"
    name = f"{stem}_{image.id[:8]}.png"
    if name in taken:
        name = f"{stem}_{image.id}.png"
    taken.add(name)
    return name


def write_zip(target: IO[bytes] | Path, images: Iterable[StoredImage]) -> int:
    """Write the images' PNGs and a metadata.json to `target`; returns how many images went in.

    PNG bytes are copied file by file, so memory holds only the metadata, never the images; `target`
    may be a non-seekable stream. Images whose file has gone missing are left out of both the PNGs
    and the metadata, so the archive always describes exactly what it contains.
    """
    entries: list[dict[str, Any]] = []
    taken: set[str] = set()
    opened = open(target, "wb") if isinstance(target, Path) else nullcontext(target)
    with opened as stream, zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for image in images:
            if image.path is None:
                logger.warning("Export skips image %s: its file name points outside the image folder.", image.id)
                continue
            name = archive_name(image, taken)
            try:
                # PNG data is deflate-compressed already: storing it costs no size and saves the CPU.
                # ZipFile.write opens the source before writing a header, so a missing file adds nothing.
                archive.write(image.path, name, compress_type=zipfile.ZIP_STORED)
            except FileNotFoundError:
                logger.warning("Export skips image %s: %s is missing.", image.id, image.path)
                taken.discard(name)
                continue
            entries.append({**image.to_dict(), "archive_name": name})
        archive.writestr(METADATA_NAME, json.dumps(entries, indent=2, ensure_ascii=False))
    return len(entries)
