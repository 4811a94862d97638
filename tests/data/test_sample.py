"""The synthetic shoe dataset: layout, determinism, colours that match captions, pattern control."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from shoegen.cli.sample_data import register
from shoegen.data.formats import Layout, read_dataset
from shoegen.data.sample import COLORS, PATTERNS, STYLES, draw_shoe_spec, render_sample_dataset
from shoegen.errors import ShoegenError

SIZE = 64
PALETTE_NAMES = list(COLORS)
PALETTE = np.array([COLORS[name] for name in PALETTE_NAMES], dtype=np.float64)
METADATA_KEYS = {"color", "style", "material", "pattern", "gender", "season", "usage", "year"}


def captions(out_dir: Path) -> list[dict[str, Any]]:
    return json.loads((out_dir / "captions.json").read_text(encoding="utf-8"))


def pixels(out_dir: Path, record: dict[str, Any]) -> np.ndarray:
    with Image.open(out_dir / record["image_file"]) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float64)


def shoe_pixels(image: np.ndarray) -> np.ndarray:
    """Pixels clearly darker than the white background: the shoe, without its soft shadow."""
    flat = image.reshape(-1, 3)
    return flat[(255 - flat).max(axis=1) > 60]


def pinkish_red_and_green_shares(image: np.ndarray) -> tuple[float, float]:
    red, green, blue = shoe_pixels(image).T
    pinkish_red = (red > 170) & (green < 130) & (red - green > 80)
    greenish = (green > red + 40) & (green > blue + 20)
    return float(pinkish_red.mean()), float(greenish.mean())


@pytest.fixture(scope="module")
def mixed_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("sample") / "mixed"
    render_sample_dataset(out_dir, count=40, seed=3, size=SIZE)
    return out_dir


def test_writes_the_original_layout(mixed_dataset: Path) -> None:
    records = captions(mixed_dataset)
    assert len(records) == 40
    assert len(list((mixed_dataset / "images").glob("*.png"))) == 40
    assert len({record["image_id"] for record in records}) == 40
    for record in records:
        assert record["image_file"] == f"images/{record['image_id']}.png"
        assert record["caption"].startswith("A professional product photo of ")
        assert record["caption"].endswith("centered on white background, high quality, product photography")
        assert set(record["metadata"]) == METADATA_KEYS
        assert record["metadata"]["usage"] == "casual"
        assert record["metadata"]["gender"] in {"men", "women", "unisex"}
        assert 2012 <= record["metadata"]["year"] <= 2020
        with Image.open(mixed_dataset / record["image_file"]) as image:
            assert (image.format, image.mode, image.size) == ("PNG", "RGB", (SIZE, SIZE))


def test_dataset_reader_accepts_it(mixed_dataset: Path) -> None:
    listing = read_dataset(mixed_dataset)
    assert listing.layout is Layout.ORIGINAL
    assert len(listing.entries) == 40
    assert not listing.problems and not listing.images_without_captions and not listing.captions_without_images


def test_summary_counts_what_was_written(tmp_path: Path) -> None:
    summary = render_sample_dataset(tmp_path / "out", count=12, seed=5, size=SIZE)
    records = captions(tmp_path / "out")
    assert summary.count == 12 and summary.out_dir == tmp_path / "out"
    assert summary.captions_file == tmp_path / "out" / "captions.json"
    assert list(summary.style_counts) == list(STYLES)
    assert summary.style_counts == {style: sum(r["metadata"]["style"] == style for r in records) for style in STYLES}
    assert sum(summary.color_counts.values()) == sum(summary.pattern_counts.values()) == 12
    assert summary.seconds > 0


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        render_sample_dataset(tmp_path / name, count=6, seed=seed, size=SIZE)
    files = sorted(path.name for path in (tmp_path / "a" / "images").iterdir())
    assert (tmp_path / "a" / "captions.json").read_bytes() == (tmp_path / "b" / "captions.json").read_bytes()
    for name in files:
        assert (tmp_path / "a" / "images" / name).read_bytes() == (tmp_path / "b" / "images" / name).read_bytes()
    differing = [
        name
        for name in files
        if (tmp_path / "a" / "images" / name).read_bytes() != (tmp_path / "c" / "images" / name).read_bytes()
    ]
    assert len(differing) == len(files)


def test_image_does_not_depend_on_count(tmp_path: Path) -> None:
    render_sample_dataset(tmp_path / "short", count=3, seed=2, size=SIZE)
    render_sample_dataset(tmp_path / "long", count=7, seed=2, size=SIZE)
    assert captions(tmp_path / "long")[:3] == captions(tmp_path / "short")
    for record in captions(tmp_path / "short"):
        short = (tmp_path / "short" / record["image_file"]).read_bytes()
        assert (tmp_path / "long" / record["image_file"]).read_bytes() == short


def test_shoe_sits_inside_a_white_frame(mixed_dataset: Path) -> None:
    for record in captions(mixed_dataset):
        image = pixels(mixed_dataset, record)
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert (border == 255).all(), f"{record['image_file']} touches the frame"
        drawn = (image != 255).any(axis=-1).mean()
        assert drawn > 0.05, f"{record['image_file']} shows no shoe"


def test_plain_shoes_show_the_colour_their_caption_names(tmp_path: Path) -> None:
    render_sample_dataset(tmp_path / "plain", count=40, seed=8, size=SIZE, only_patterns=["plain"])
    checked = 0
    for record in captions(tmp_path / "plain"):
        color = record["metadata"]["color"]
        assert f" {color} " in record["caption"]
        if color == "white":
            continue  # a white shoe is mostly excluded by the "darker than the background" cut
        shoe = shoe_pixels(pixels(tmp_path / "plain", record))
        nearest = np.argmin(((shoe[:, None, :] - PALETTE[None]) ** 2).sum(axis=-1), axis=1)
        votes = Counter(PALETTE_NAMES[index] for index in nearest)
        share = votes[color] / len(shoe)
        top_two = [name for name, _ in votes.most_common(2)]
        # Thin sandal straps at 64 px are half edge pixels blended with the background: hence
        # "among the top two" rather than "the most common".
        assert share >= 0.2 and color in top_two, f"{record['caption']}: {votes.most_common(3)}"
        checked += 1
    assert checked >= 30


def test_exclude_and_only_patterns(tmp_path: Path) -> None:
    render_sample_dataset(tmp_path / "base", count=60, seed=1, size=SIZE, exclude_patterns=["watermelon"])
    base = captions(tmp_path / "base")
    assert all(record["metadata"]["pattern"] != "watermelon" for record in base)
    assert all("watermelon" not in record["caption"] for record in base)
    assert {record["metadata"]["pattern"] for record in base} == {"plain", "striped", "polka dot"}

    render_sample_dataset(tmp_path / "lora", count=8, seed=1, size=SIZE, only_patterns=["watermelon"])
    assert all(record["metadata"]["pattern"] == "watermelon" for record in captions(tmp_path / "lora"))
    assert all("watermelon pattern" in record["caption"] for record in captions(tmp_path / "lora"))

    summary = render_sample_dataset(tmp_path / "dots", count=4, size=SIZE, only_patterns=["polka-dot"])
    assert summary.pattern_counts == {"polka dot": 4}


def test_patterns_are_mostly_plain_and_styles_and_colours_all_appear() -> None:
    specs = [draw_shoe_spec(0, index) for index in range(600)]
    patterns = Counter(spec.pattern for spec in specs)
    assert set(patterns) == set(PATTERNS)
    assert 0.5 < patterns["plain"] / len(specs) < 0.7
    assert {spec.style for spec in specs} == set(STYLES)
    assert {spec.color for spec in specs} == set(COLORS)


def test_watermelon_is_pink_red_and_green_and_nothing_else_is(tmp_path: Path, mixed_dataset: Path) -> None:
    render_sample_dataset(tmp_path / "lora", count=12, seed=4, size=SIZE, only_patterns=["watermelon"])
    for record in captions(tmp_path / "lora"):
        pinkish_red, green = pinkish_red_and_green_shares(pixels(tmp_path / "lora", record))
        assert pinkish_red > 0.05 and green > 0.03, record["image_file"]
    for record in captions(mixed_dataset):
        if record["metadata"]["pattern"] != "watermelon":
            assert min(pinkish_red_and_green_shares(pixels(mixed_dataset, record))) < 0.01, record["caption"]


@pytest.mark.parametrize("size", [32, 100])
def test_other_sizes(tmp_path: Path, size: int) -> None:
    render_sample_dataset(tmp_path / "out", count=2, size=size)
    with Image.open(tmp_path / "out" / "images" / "000000.png") as image:
        assert image.size == (size, size)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"count": 0}, "--count must be at least 1"),
        ({"size": 31}, "--size must be at least 32"),
        ({"exclude_patterns": ["paisley"]}, "valid patterns are: plain, striped, polka dot, watermelon"),
        ({"only_patterns": ["tartan"]}, "unknown pattern 'tartan'"),
        ({"only_patterns": ["watermelon"], "exclude_patterns": ["watermelon"]}, "no pattern is left"),
    ],
)
def test_bad_arguments_are_explained(tmp_path: Path, arguments: dict[str, Any], message: str) -> None:
    call: dict[str, Any] = {"count": 2, "size": SIZE, **arguments}
    with pytest.raises(ShoegenError, match=message):
        render_sample_dataset(tmp_path / "out", **call)
    assert not (tmp_path / "out").exists()


def test_refuses_to_overwrite_a_dataset(tmp_path: Path) -> None:
    render_sample_dataset(tmp_path / "out", count=2, size=SIZE)
    before = (tmp_path / "out" / "captions.json").read_bytes()
    with pytest.raises(ShoegenError, match="already holds a dataset"):
        render_sample_dataset(tmp_path / "out", count=3, seed=9, size=SIZE)
    assert (tmp_path / "out" / "captions.json").read_bytes() == before
    assert len(list((tmp_path / "out" / "images").iterdir())) == 2


def test_an_existing_empty_folder_is_fine(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    assert render_sample_dataset(tmp_path / "out", count=1, size=SIZE).count == 1


def test_cli_writes_the_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="shoegen")
    register(parser.add_subparsers(dest="command", required=True))
    out_dir = tmp_path / "cli"
    args = parser.parse_args(
        ["sample-data", str(out_dir), "--count", "5", "--seed", "4", "--size", str(SIZE),
         "--exclude-pattern", "watermelon", "--exclude-pattern", "striped"]
    )
    assert args.handler(args) == 0
    records = captions(out_dir)
    assert len(records) == 5
    assert {record["metadata"]["pattern"] for record in records} <= {"plain", "polka dot"}
    printed = capsys.readouterr().out
    assert f"wrote 5 images and captions.json to {out_dir}" in printed
    assert "styles:" in printed
