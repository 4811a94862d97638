"""Builders for tiny image files and dataset folders in tmp_path, one per layout."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image


def _distinct_color(path: Path) -> tuple[int, int, int]:
    """A color that differs between file names, so that test images are not accidental duplicates."""
    digest = zlib.crc32(path.name.encode())
    return (digest & 0xFF, (digest >> 8) & 0xFF, (digest >> 16) & 0xFF)


@pytest.fixture
def write_image() -> Callable[..., Path]:
    """Writes a solid image of `mode` and `size` to `path`; save options (format=, exif=) go to Pillow."""

    def write(
        path: Path, size: tuple[int, int] = (64, 64), *, mode: str = "RGB", color: Any = None, **save_options: Any
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        fill = _distinct_color(path) if color is None and mode == "RGB" else color
        Image.new(mode, size, fill if fill is not None else 0).save(path, **save_options)
        return path

    return write


@pytest.fixture
def make_dataset(write_image: Callable[..., Path]) -> Callable[..., Path]:
    """Writes a clean dataset of `count` distinct images with captions in the given layout."""

    def make(root: Path, layout: str = "captions.json", *, count: int = 3, size: tuple[int, int] = (64, 64)) -> Path:
        captions = {f"{index}.png": f"A professional product photo of shoes number {index}" for index in range(count)}
        if layout == "captions.json":
            for name in captions:
                write_image(root / "images" / name, size)
            records = [
                {"image_id": index, "image_file": f"images/{name}", "caption": caption, "metadata": {"color": "black"}}
                for index, (name, caption) in enumerate(captions.items())
            ]
            (root / "captions.json").write_text(json.dumps(records))
        elif layout == "imagefolder":
            for name in captions:
                write_image(root / name, size)
            lines = [json.dumps({"file_name": name, "text": caption}) for name, caption in captions.items()]
            (root / "metadata.jsonl").write_text("\n".join(lines) + "\n")
        elif layout == "kohya":
            for name, caption in captions.items():
                image_path = write_image(root / "10_shoes" / name, size)
                image_path.with_suffix(".txt").write_text(caption)
        else:
            raise ValueError(f"unknown layout {layout}")
        return root

    return make
