"""PNG metadata: AUTOMATIC1111's infotext (format_a1111_parameters) and the JSON chunk, written by
save_png_with_parameters and read back by read_png_parameters."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from shoegen.config.generation import AppliedLora, ImageParams
from shoegen.storage import (
    format_a1111_parameters,
    read_png_parameters,
    save_png_with_parameters,
)

ParamsFactory = Callable[..., ImageParams]


def test_a1111_text_matches_automatic1111_layout(make_params: ParamsFactory) -> None:
    assert format_a1111_parameters(make_params()) == (
        "A professional product photo of black casual shoes, centered on white background\n"
        "Negative prompt: blurry, lowres\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 123, Size: 512x512, "
        'Model: run/checkpoint-500, Lora weights: "shoes-v1: 0.8"'
    )


def test_a1111_text_without_negative_prompt_or_loras_and_with_img2img_strength(make_params: ParamsFactory) -> None:
    params = make_params(
        prompt="white sneakers", negative_prompt="", loras=[], guidance_scale=7, strength=0.75, width=640, height=512
    )
    assert format_a1111_parameters(params) == (
        "white sneakers\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.0, Seed: 123, Size: 640x512, "
        "Model: run/checkpoint-500, Denoising strength: 0.75"
    )


def test_a1111_text_carries_clip_skip_above_one_as_automatic1111_writes_it(make_params: ParamsFactory) -> None:
    assert "Clip skip" not in format_a1111_parameters(make_params(clip_skip=1))
    assert format_a1111_parameters(make_params(clip_skip=2)).endswith(
        'Model: run/checkpoint-500, Clip skip: 2, Lora weights: "shoes-v1: 0.8"')


def test_records_written_before_the_wire_names_are_read_back(make_params: ParamsFactory) -> None:
    """PNGs and gallery rows written by earlier versions name two fields `model` and `steps`."""
    params = make_params()
    older = {("model" if k == "model_name" else "steps" if k == "num_inference_steps" else k): v
             for k, v in params.to_dict().items() if k != "clip_skip"}
    assert ImageParams.from_dict({**older, "added_by_a_later_version": 1}) == params


def test_a1111_quotes_values_that_would_break_its_parser(make_params: ParamsFactory) -> None:
    params = make_params(model_name="C:/models/shoes, v2",
                         loras=[AppliedLora(name="a", weight=1), AppliedLora(name="b", weight=0.5)])
    settings = format_a1111_parameters(params).splitlines()[-1]
    assert 'Model: "C:/models/shoes, v2"' in settings
    assert settings.endswith('Lora weights: "a: 1.0, b: 0.5"')


def test_png_round_trips_both_chunks_and_pixels(tmp_path: Path, make_params: ParamsFactory) -> None:
    params = make_params(prompt="chaussures en cuir marron, été — 日本", extra={"generation_seconds": 1.5})
    image = Image.new("RGB", (16, 8), (10, 20, 30))
    path = save_png_with_parameters(image, params, tmp_path / "nested" / "out.png")

    a1111, embedded = read_png_parameters(path)
    assert a1111 == format_a1111_parameters(params)
    assert embedded is not None and ImageParams.from_dict(embedded) == params
    with Image.open(path) as reread:
        assert reread.format == "PNG" and reread.size == (16, 8)
        assert reread.getpixel((3, 3)) == (10, 20, 30)
    # The atomic write leaves only the final file behind, with the permissions a plain open() would give.
    assert [p.name for p in path.parent.iterdir()] == ["out.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_save_leaves_no_file(tmp_path: Path, make_params: ParamsFactory) -> None:
    unsavable = Image.new("CMYK", (4, 4))  # PNG has no CMYK mode
    with pytest.raises(OSError):
        save_png_with_parameters(unsavable, make_params(), tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_reading_a_png_without_metadata(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(path)
    assert read_png_parameters(path) == (None, None)


@pytest.mark.parametrize(
    "changes",
    [
        {"seed": -1},
        {"seed": 2**63},
        {"num_inference_steps": 0},
        {"width": 0},
        {"strength": 1.5},
        {"extra": {"x": object()}},
        {"model_name": "m" * 256},
    ],
)
def test_invalid_params_are_rejected_before_anything_is_written(make_params: ParamsFactory, changes: dict) -> None:
    with pytest.raises(ValueError):
        make_params(**changes)
