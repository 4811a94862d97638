"""The `shoegen dataset check` report and its CLI."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from shoegen.cli import dataset as dataset_cli
from shoegen.config.train import TrainConfig
from shoegen.data.check import check_dataset
from shoegen.data.formats import DatasetError
from shoegen.data.splits import SkipKind

Builder = Callable[..., Path]  # the file builders from conftest.py


def _messy_dataset(root: Path, make_dataset: Builder, write_image: Builder) -> Path:
    """Three good 64x64 images plus one of each problem the report should find."""
    make_dataset(root, count=3)
    images = root / "images"
    shutil.copy(images / "0.png", images / "copy_of_0.png")
    write_image(images / "portrait.jpg", (48, 64))
    write_image(images / "cutout.png", (64, 64), mode="RGBA", color=(0, 0, 0, 0))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    write_image(images / "rotated.jpg", (80, 64), exif=exif)
    write_image(images / "tiny.png", (16, 16))
    (images / "corrupt.png").write_bytes(b"not an image at all")
    write_image(images / "blank.png")
    write_image(images / "uncaptioned.png")
    records = json.loads((root / "captions.json").read_text())
    records += [
        {"image_file": "images/copy_of_0.png", "caption": "A photo of black shoes"},
        {"image_file": "images/portrait.jpg", "caption": "A photo of brown shoes"},
        {"image_file": "images/cutout.png", "caption": "A photo of white shoes"},
        {"image_file": "images/rotated.jpg", "caption": "A photo of black boots"},
        {"image_file": "images/tiny.png", "caption": "tiny"},
        {"image_file": "images/corrupt.png", "caption": "corrupt"},
        {"image_file": "images/blank.png", "caption": ""},
        {"image_file": "images/gone.png", "caption": "gone"},
    ]
    (root / "captions.json").write_text(json.dumps(records))
    return root


def test_clean_dataset_report(tmp_path: Path, make_dataset: Builder) -> None:
    root = make_dataset(tmp_path, "kohya", count=4, size=(60, 80))

    report = check_dataset(root, min_side=32)

    assert report.layout == "kohya"
    assert (report.image_count, report.caption_count, report.ready_count) == (4, 4, 4)
    assert report.problem_counts() == {} and report.ready_to_train
    assert report.aspect_ratios == {"portrait 3:4": 4}
    assert report.color_modes == {"RGB": 4}
    assert report.duplicate_groups == []
    text = report.render()
    assert "Images:         4 files" in text
    assert "Width px:       60 / 60 / 60" in text
    assert "portrait 3:4 4" in text
    assert text.endswith("OK: 4 images ready to train")


def test_a_problem_in_the_caption_source_alone_skips_no_image(tmp_path: Path, make_dataset: Builder) -> None:
    root = make_dataset(tmp_path, count=4)
    (root / "metadata.jsonl").write_text('{"file_name": "images/0.png", "text": "ignored"}\n')

    report = check_dataset(root, min_side=32)

    assert report.ready_count == report.image_count == 4
    assert report.caption_problems == [f"{root} holds both captions.json and metadata.jsonl; only captions.json is "
                                       "used"]
    assert report.verdict() == "1 problem: 1 caption problem; all 4 images ready to train"


def test_messy_dataset_report_finds_every_problem(
    tmp_path: Path, make_dataset: Builder, write_image: Builder
) -> None:
    root = _messy_dataset(tmp_path, make_dataset, write_image)

    report = check_dataset(root, min_side=32)

    assert report.image_count == 11
    assert report.ready_count == 7
    names = {kind: [item.path.name for item in report.skipped_for(kind)] for kind in SkipKind}
    assert names[SkipKind.UNREADABLE] == ["corrupt.png"]
    assert names[SkipKind.TOO_SMALL] == ["tiny.png"]
    assert names[SkipKind.EMPTY_CAPTION] == ["blank.png"]
    assert names[SkipKind.NO_CAPTION] == ["uncaptioned.png"]
    assert names[SkipKind.MISSING_IMAGE] == ["gone.png"]
    assert report.duplicate_groups == [[root / "images" / "0.png", root / "images" / "copy_of_0.png"]]
    assert report.exif_rotated == [root / "images" / "rotated.jpg"]
    assert report.color_modes["RGBA"] == 1
    assert report.file_formats == {"PNG": 8, "JPEG": 2}
    assert report.aspect_ratios["portrait 3:4"] == 1
    assert report.aspect_ratios["portrait 4:5"] == 1  # rotated.jpg is stored 80x64, shown 64x80
    assert report.common_words[:3] == [("photo", 7), ("shoes", 6), ("professional", 3)]

    text = report.render()
    assert "images/corrupt.png: unreadable" in text
    assert "images/tiny.png: too small: 16x16 px" in text
    assert "images/0.png = images/copy_of_0.png" in text
    assert "EXIF-rotated:   1" in text
    assert text.splitlines()[-1] == (
        "5 problems: 1 unreadable, 1 too small, 1 without caption, 1 empty caption, 1 caption without image; "
        "7 images ready to train, the rest will be skipped"
    )
    as_json = json.loads(json.dumps(report.to_dict()))
    assert as_json["ready_to_train"] == 7
    assert as_json["captions_without_images"] == ["images/gone.png"]
    assert as_json["unreadable"][0]["file"] == "images/corrupt.png"


def test_unreadable_uncaptioned_file_is_reported_too(
    tmp_path: Path, make_dataset: Builder
) -> None:
    root = make_dataset(tmp_path, count=1)
    (root / "images" / "junk.png").write_bytes(b"junk")
    report = check_dataset(root, min_side=8)
    assert {item.kind for item in report.skipped if item.path.name == "junk.png"} == {
        SkipKind.NO_CAPTION,
        SkipKind.UNREADABLE,
    }


def _dataset_with_many_skipped(root: Path, write_image: Builder, too_small: int, unreadable: int) -> Path:
    """One good image, then `too_small` 16x16 ones, then `unreadable` broken files, all captioned, in that order."""
    records = [{"image_file": "images/good.png", "caption": "good shoes"}]
    write_image(root / "images" / "good.png", (300, 300))
    for index in range(too_small):
        write_image(root / "images" / f"small{index:02d}.png", (16, 16))
        records.append({"image_file": f"images/small{index:02d}.png", "caption": "small shoes"})
    for index in range(unreadable):
        (root / "images" / f"broken{index:02d}.png").write_bytes(b"not an image")
        records.append({"image_file": f"images/broken{index:02d}.png", "caption": "broken shoes"})
    (root / "captions.json").write_text(json.dumps(records))
    return root


def test_skipped_files_are_grouped_by_reason_and_every_unreadable_one_is_named(
    tmp_path: Path, write_image: Builder
) -> None:
    root = _dataset_with_many_skipped(tmp_path, write_image, too_small=12, unreadable=2)

    report = check_dataset(root)

    text = report.render()
    lines = text.splitlines()
    skipped_at = lines.index("Skipped when training (14):")
    assert lines[skipped_at + 1] == "  unreadable (2):"
    assert "images/broken00.png: unreadable" in text and "images/broken01.png: unreadable" in text
    assert "  too small (12):" in lines
    assert sum("images/small" in line for line in lines) == 10
    assert "    ... and 2 more too small" in lines
    as_json = json.loads(json.dumps(report.to_dict()))
    assert [item["file"] for item in as_json["too_small"]] == [f"images/small{i:02d}.png" for i in range(12)]
    assert [item["file"] for item in as_json["unreadable"]] == ["images/broken00.png", "images/broken01.png"]


def test_a_long_list_of_unreadable_files_is_never_shortened(tmp_path: Path, write_image: Builder) -> None:
    root = _dataset_with_many_skipped(tmp_path, write_image, too_small=0, unreadable=13)
    text = check_dataset(root).render()
    assert all(f"images/broken{i:02d}.png: unreadable" in text for i in range(13))
    assert "more unreadable" not in text


def test_the_size_threshold_is_trainings(tmp_path: Path, write_image: Builder, capsys) -> None:
    # Catalogue photos are often 224-300 px: training uses them, so the check must call them ready.
    training_default = TrainConfig.model_fields["min_image_side"].default
    write_image(tmp_path / "images" / "catalogue.jpg", (224, 300))
    write_image(tmp_path / "images" / "thumbnail.png", (training_default - 1, 300))
    (tmp_path / "captions.json").write_text(json.dumps([
        {"image_file": "images/catalogue.jpg", "caption": "A photo of black casual shoes"},
        {"image_file": "images/thumbnail.png", "caption": "A thumbnail of brown shoes"},
    ]))

    report = check_dataset(tmp_path)

    assert report.min_side == training_default
    assert report.ready_count == 1
    assert [item.path.name for item in report.skipped_for(SkipKind.TOO_SMALL)] == ["thumbnail.png"]
    assert _run_cli(["dataset", "check", str(tmp_path), "--json"]) == 0
    as_json = json.loads(capsys.readouterr().out)
    assert (as_json["min_side"], as_json["ready_to_train"]) == (training_default, 1)


def _run_cli(argv: list[str]) -> int:
    """Parses like `shoegen` does, through this module's register(), and runs the handler."""
    parser = argparse.ArgumentParser(prog="shoegen")
    dataset_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_cli_exit_code_is_zero_when_training_can_start(
    tmp_path: Path, make_dataset: Builder, write_image: Builder, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _messy_dataset(tmp_path, make_dataset, write_image)
    assert _run_cli(["dataset", "check", str(root), "--min-side", "32"]) == 0
    assert "7 images ready to train" in capsys.readouterr().out


def test_cli_exit_code_is_one_when_nothing_is_usable(
    tmp_path: Path, make_dataset: Builder, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dataset(tmp_path, count=2, size=(48, 48))
    assert _run_cli(["dataset", "check", str(root), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ready_to_train"] == 0 and report["problems"] == {"too small": 2}
    assert _run_cli(["dataset", "check", str(root), "--min-side", "48"]) == 0


def test_cli_help_explains_the_layouts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _run_cli(["dataset", "check", "--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert "captions.json" in help_text and "metadata.jsonl" in help_text and "kohya" in help_text
    assert "--min-side" in help_text and "--json" in help_text
    training_default = TrainConfig.model_fields["min_image_side"].default
    assert f"default: {training_default}, the default of `shoegen train --min_image_side`" in " ".join(help_text.split())


def test_cli_refuses_negative_min_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _run_cli(["dataset", "check", str(tmp_path), "--min-side", "-1"])
    assert "must be 0 or more" in capsys.readouterr().err


def test_cli_lets_dataset_errors_reach_the_entry_point(tmp_path: Path) -> None:
    # shoegen.cli.main prints ShoegenError messages without a traceback and exits 2.
    with pytest.raises(DatasetError, match="does not exist"):
        _run_cli(["dataset", "check", str(tmp_path / "missing")])
