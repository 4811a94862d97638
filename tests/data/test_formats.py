"""Reading the three dataset layouts (read_dataset) and turning them into training examples
(load_training_examples)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from shoegen.data.formats import DatasetError, Entry, Layout, read_dataset
from shoegen.data.splits import SkipKind, load_training_examples
from shoegen.errors import ShoegenError

Builder = Callable[..., Path]  # the file builders from conftest.py


def _entries_by_name(entries: list[Entry]) -> dict[str, Entry]:
    return {entry.image_path.name: entry for entry in entries}


# --- captions.json ---------------------------------------------------------------------------


def test_original_layout_keeps_extra_keys_and_resolves_bare_names(tmp_path: Path, write_image: Builder) -> None:
    write_image(tmp_path / "images" / "1.png")
    write_image(tmp_path / "images" / "2.png")
    records = [
        {
            "image_id": 1,
            "image_file": "images/1.png",
            "caption": "  A photo of black casual shoes  ",
            "metadata": {"color": "black", "year": 2012},
            "brand": "Red Tape",
        },
        {"image_file": "2.png", "caption": "A photo of brown shoes", "split": "train"},
    ]
    (tmp_path / "captions.json").write_text(json.dumps(records))

    listing = read_dataset(tmp_path)

    assert listing.layout == Layout.ORIGINAL
    entries = _entries_by_name(listing.entries)
    assert entries["1.png"].image_path == tmp_path / "images" / "1.png"
    assert entries["1.png"].caption == "A photo of black casual shoes"
    assert entries["1.png"].metadata == {"image_id": 1, "color": "black", "year": 2012, "brand": "Red Tape"}
    assert entries["2.png"].image_path == tmp_path / "images" / "2.png"
    assert entries["2.png"].metadata == {"split": "train"}
    assert listing.problems == [] and listing.images_without_captions == [] and listing.captions_without_images == []


def test_original_layout_reports_what_does_not_pair_up(tmp_path: Path, write_image: Builder) -> None:
    write_image(tmp_path / "images" / "1.png")
    write_image(tmp_path / "images" / "uncaptioned.jpg")
    write_image(tmp_path / "images" / "blank.png")
    write_image(tmp_path / "images" / ".hidden.png")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    records = [
        {"image_file": "images/1.png", "caption": "shoes"},
        {"image_file": "images/1.png", "caption": "the same image again"},
        {"image_file": "images/gone.png", "caption": "shoes"},
        {"image_file": "images/blank.png", "caption": "   "},
        {"image_file": "../outside.png", "caption": "shoes"},
        {"image_file": "/etc/hostname", "caption": "shoes"},
        {"caption": "no image named"},
        "not an object",
    ]
    (tmp_path / "captions.json").write_text(json.dumps(records))

    listing = read_dataset(tmp_path)

    entries = _entries_by_name(listing.entries)
    assert set(entries) == {"1.png", "blank.png"}
    assert entries["1.png"].caption == "shoes"
    assert entries["blank.png"].caption is None
    assert listing.images_without_captions == [tmp_path / "images" / "uncaptioned.jpg"]
    assert listing.captions_without_images == ["images/gone.png"]
    problems = "\n".join(listing.problems)
    assert len(listing.problems) == 5
    assert "item 1" in problems and "already captioned" in problems
    assert "../outside.png" in problems and "/etc/hostname" in problems and "outside the dataset folder" in problems
    assert "item 6" in problems and "image_file" in problems
    assert "item 7" in problems and "expected a JSON object" in problems


def test_invalid_captions_json_names_the_file_and_position(tmp_path: Path) -> None:
    (tmp_path / "captions.json").write_text('[\n  {"image_file": "a.png", "caption": "x"},\n  oops\n]')
    with pytest.raises(DatasetError) as raised:
        read_dataset(tmp_path)
    message = str(raised.value)
    assert str(tmp_path / "captions.json") in message
    assert "line 3, column 3" in message
    assert isinstance(raised.value, ShoegenError)


def test_captions_json_that_is_not_a_list_is_refused(tmp_path: Path) -> None:
    (tmp_path / "captions.json").write_text('{"image_file": "a.png"}')
    with pytest.raises(DatasetError, match="must be a list"):
        read_dataset(tmp_path)


def test_captions_json_with_byte_order_mark_is_read(tmp_path: Path, write_image: Builder) -> None:
    write_image(tmp_path / "images" / "1.png")
    (tmp_path / "captions.json").write_text(
        json.dumps([{"image_file": "images/1.png", "caption": "shoes"}]), encoding="utf-8-sig"
    )
    assert [entry.caption for entry in read_dataset(tmp_path).entries] == ["shoes"]


# --- Hugging Face imagefolder ----------------------------------------------------------------


def test_imagefolder_layout_accepts_text_or_caption_and_reports_bad_lines(
    tmp_path: Path, write_image: Builder
) -> None:
    write_image(tmp_path / "a.png")
    write_image(tmp_path / "train" / "b.JPG", format="JPEG")
    write_image(tmp_path / "c.png")
    lines = [
        json.dumps({"file_name": "a.png", "text": "white sneakers", "color": "white"}),
        "",
        json.dumps({"file_name": "train/b.JPG", "caption": "black boots"}),
        '{"file_name": "c.png", "text": ',
        json.dumps({"text": "no file"}),
    ]
    (tmp_path / "metadata.jsonl").write_text("\n".join(lines) + "\n")

    listing = read_dataset(tmp_path)

    assert listing.layout == Layout.IMAGEFOLDER
    entries = _entries_by_name(listing.entries)
    assert entries["a.png"].caption == "white sneakers"
    assert entries["a.png"].metadata == {"color": "white"}
    assert entries["b.JPG"].caption == "black boots"
    assert listing.images_without_captions == [tmp_path / "c.png"]
    assert len(listing.problems) == 2
    assert "metadata.jsonl line 4: not valid JSON" in listing.problems[0]
    assert "metadata.jsonl line 5" in listing.problems[1] and "file_name" in listing.problems[1]


# --- kohya -----------------------------------------------------------------------------------


def test_kohya_layout_pairs_same_stem_caption_files_in_subfolders(tmp_path: Path, write_image: Builder) -> None:
    folder = tmp_path / "10_shoes"
    write_image(folder / "a.png")
    (folder / "a.txt").write_text("red sneakers\n")
    write_image(folder / "b.webp")
    (folder / "b.caption").write_text("blue loafers")
    write_image(folder / "c.jpeg", format="JPEG")
    write_image(folder / "d.png")
    (folder / "d.txt").write_text("  ")
    (folder / "orphan.txt").write_text("caption for nothing")

    listing = read_dataset(tmp_path)

    assert listing.layout == Layout.KOHYA
    entries = _entries_by_name(listing.entries)
    assert entries["a.png"].caption == "red sneakers"
    assert entries["b.webp"].caption == "blue loafers"
    assert entries["d.png"].caption is None
    assert listing.images_without_captions == [folder / "c.jpeg"]
    assert listing.captions_without_images == ["10_shoes/orphan.txt"]


def test_kohya_prefers_txt_over_caption(tmp_path: Path, write_image: Builder) -> None:
    write_image(tmp_path / "a.png")
    (tmp_path / "a.txt").write_text("from txt")
    (tmp_path / "a.caption").write_text("from caption")
    listing = read_dataset(tmp_path)
    assert [entry.caption for entry in listing.entries] == ["from txt"]
    assert listing.captions_without_images == []


# --- folders that are not datasets -----------------------------------------------------------


def test_missing_folder_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        read_dataset(tmp_path / "nope")


def test_folder_without_captions_lists_the_accepted_layouts(tmp_path: Path, write_image: Builder) -> None:
    write_image(tmp_path / "a.png")
    with pytest.raises(DatasetError) as raised:
        read_dataset(tmp_path)
    message = str(raised.value)
    assert "found 1 image files but no captions" in message
    assert "captions.json" in message and "metadata.jsonl" in message and "kohya" in message


def test_split_root_points_at_its_split_folders(tmp_path: Path, make_dataset: Builder) -> None:
    make_dataset(tmp_path / "train")
    make_dataset(tmp_path / "val")
    with pytest.raises(DatasetError, match="subfolders train, val look like datasets"):
        read_dataset(tmp_path)


# --- load_training_examples ------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["captions.json", "imagefolder", "kohya"])
def test_every_layout_gives_training_examples(
    tmp_path: Path, make_dataset: Builder, layout: str
) -> None:
    root = make_dataset(tmp_path, layout, count=3, size=(48, 64))
    training_set = load_training_examples(root, min_side=32, validation=None, seed=0)
    assert len(training_set.train) == 3
    assert training_set.validation == [] and training_set.skipped == []
    example = training_set.train[0]
    assert (example.width, example.height) == (48, 64)
    assert example.caption.startswith("A professional product photo")


def test_unusable_files_are_skipped_with_one_counted_warning(
    tmp_path: Path, make_dataset: Builder, write_image: Builder, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_dataset(tmp_path, count=2, size=(64, 64))
    write_image(root / "images" / "tiny.png", (16, 40))
    (root / "images" / "broken.png").write_bytes(b"\x89PNG definitely not a png")
    write_image(root / "images" / "uncaptioned.png")
    records = json.loads((root / "captions.json").read_text())
    records += [
        {"image_file": "images/tiny.png", "caption": "small"},
        {"image_file": "images/broken.png", "caption": "broken"},
        {"image_file": "images/missing.png", "caption": "missing"},
    ]
    (root / "captions.json").write_text(json.dumps(records))

    with caplog.at_level(logging.WARNING, logger="shoegen.data"):
        training_set = load_training_examples(root, min_side=32, validation=None, seed=0)

    assert len(training_set.train) == 2
    reasons = {item.path.name: (item.kind, item.reason) for item in training_set.skipped}
    assert reasons["tiny.png"] == (SkipKind.TOO_SMALL, "too small: 16x40 px, shorter side under 32")
    assert reasons["broken.png"][0] is SkipKind.UNREADABLE
    assert reasons["uncaptioned.png"][0] is SkipKind.NO_CAPTION
    assert reasons["missing.png"][0] is SkipKind.MISSING_IMAGE
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "skipping 4 of 6 images" in warnings[0] and "images/tiny.png (too small" in warnings[0]


def test_warning_names_ten_files_and_counts_the_rest(
    tmp_path: Path, make_dataset: Builder, write_image: Builder, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_dataset(tmp_path, count=1)
    for index in range(13):
        write_image(root / "images" / f"extra{index:02d}.png")
    with caplog.at_level(logging.WARNING, logger="shoegen.data"):
        load_training_examples(root, min_side=8, validation=None, seed=0)
    message = caplog.records[0].getMessage()
    assert "extra09.png" in message and "extra10.png" not in message
    assert "and 3 more" in message


def test_nothing_usable_is_a_dataset_error_with_reasons(tmp_path: Path, make_dataset: Builder) -> None:
    root = make_dataset(tmp_path, count=2, size=(20, 20))
    with pytest.raises(DatasetError) as raised:
        load_training_examples(root, min_side=64, validation=None, seed=0)
    message = str(raised.value)
    assert "all 2 images were skipped" in message
    assert "too small: 20x20 px" in message
    assert "shoegen dataset check" in message


def test_empty_caption_list_is_a_dataset_error(tmp_path: Path) -> None:
    (tmp_path / "captions.json").write_text("[]")
    with pytest.raises(DatasetError, match="lists no images"):
        load_training_examples(tmp_path, min_side=8, validation=None, seed=0)


def test_validation_fraction_split_is_deterministic_and_disjoint(
    tmp_path: Path, make_dataset: Builder
) -> None:
    root = make_dataset(tmp_path, count=20)

    first = load_training_examples(root, min_side=8, validation=0.25, seed=42)
    again = load_training_examples(root, min_side=8, validation=0.25, seed=42)
    other_seed = load_training_examples(root, min_side=8, validation=0.25, seed=7)

    train_paths = {example.image_path for example in first.train}
    validation_paths = [example.image_path for example in first.validation]
    assert len(validation_paths) == 5 and len(train_paths) == 15
    assert train_paths.isdisjoint(validation_paths)
    assert validation_paths == [example.image_path for example in again.validation]
    assert validation_paths != [example.image_path for example in other_seed.validation]


def test_validation_fraction_that_leaves_no_training_data_is_refused(
    tmp_path: Path, make_dataset: Builder
) -> None:
    root = make_dataset(tmp_path, count=1)
    with pytest.raises(DatasetError, match="leaves none to train on"):
        load_training_examples(root, min_side=8, validation=0.5, seed=0)
    with pytest.raises(DatasetError, match="between 0 and 1"):
        load_training_examples(root, min_side=8, validation=1.5, seed=0)


def test_validation_folder_is_read_as_its_own_dataset(tmp_path: Path, make_dataset: Builder) -> None:
    train_root = make_dataset(tmp_path / "train", count=3)
    validation_root = make_dataset(tmp_path / "val", "kohya", count=2)
    training_set = load_training_examples(train_root, min_side=8, validation=validation_root, seed=0)
    assert len(training_set.train) == 3
    assert [example.image_path.parent for example in training_set.validation] == [validation_root / "10_shoes"] * 2
