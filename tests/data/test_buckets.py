"""Aspect-ratio buckets and fitting images into them."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from shoegen.data.buckets import bucket_step_for, fit_to_bucket, make_buckets, nearest_bucket, to_tensor


def test_buckets_at_512_are_the_familiar_sd_shapes() -> None:
    assert make_buckets(512, 64) == [(384, 640), (448, 576), (512, 512), (576, 448), (640, 384)]


@pytest.mark.parametrize(("resolution", "max_aspect"), [(512, 2.0), (768, 3.0), (64, 2.0), (100, 1.5)])
def test_buckets_respect_pixel_budget_step_and_aspect(resolution: int, max_aspect: float) -> None:
    step = bucket_step_for(resolution)
    buckets = make_buckets(resolution, step, max_aspect)
    assert (resolution, resolution) in buckets
    for width, height in buckets:
        assert width * height <= resolution**2
        assert max(width, height) / min(width, height) <= max_aspect
        if (width, height) != (resolution, resolution):
            assert width % step == 0 and height % step == 0
            # The largest height for this width: one more step would exceed the pixel budget.
            assert width * (height + step) > resolution**2
    assert len({width for width, _ in buckets}) == len(buckets)


def test_bucket_step_scales_down_for_tiny_models() -> None:
    assert [bucket_step_for(side) for side in (1024, 512, 256, 200, 128, 64, 32)] == [64, 64, 64, 16, 16, 16, 16]
    assert (48, 80) in make_buckets(64, bucket_step_for(64))


def test_nearest_bucket_follows_the_aspect_ratio() -> None:
    buckets = make_buckets(512, 64)
    assert nearest_bucket(225, 300, buckets) == (448, 576)
    assert nearest_bucket(1800, 2400, buckets) == (448, 576)
    assert nearest_bucket(300, 225, buckets) == (576, 448)
    assert nearest_bucket(800, 800, buckets) == (512, 512)
    assert nearest_bucket(100, 1000, buckets) == (384, 640)


def test_portrait_photo_fills_its_bucket_exactly_with_a_small_crop() -> None:
    # A 3:4 product photo: red with a 10 px blue band at the top and bottom edges.
    photo = Image.new("RGB", (225, 300), (220, 0, 0))
    photo.paste((0, 0, 220), (0, 0, 225, 10))
    photo.paste((0, 0, 220), (0, 290, 225, 300))
    bucket = nearest_bucket(*photo.size, make_buckets(512, 64))

    fitted = fit_to_bucket(photo, bucket)

    assert fitted.size == bucket == (448, 576)
    # 448x576 is a little wider than 3:4: scaled to 448 wide the photo is 597 high, and about 10 px
    # are trimmed from the top and the bottom, leaving half of each 20 px band.
    assert fitted.getpixel((224, 4))[2] > 200
    assert fitted.getpixel((224, 14))[0] > 200
    assert fitted.getpixel((224, 571))[2] > 200
    assert fitted.getpixel((224, 561))[0] > 200


def test_fit_with_pad_color_keeps_the_whole_image_on_white() -> None:
    wide = Image.new("RGB", (200, 100), (0, 0, 0))
    fitted = fit_to_bucket(wide, (64, 64), pad_color=(255, 255, 255))
    assert fitted.size == (64, 64)
    assert fitted.getpixel((32, 2)) == (255, 255, 255)
    assert fitted.getpixel((32, 32)) == (0, 0, 0)


def test_to_tensor_is_chw_in_minus_one_to_one() -> None:
    image = Image.new("RGB", (5, 3), (255, 255, 255))
    image.putpixel((0, 0), (0, 0, 0))
    tensor = to_tensor(image)
    assert tensor.shape == (3, 3, 5) and tensor.dtype == torch.float32
    assert tensor[:, 0, 0].tolist() == [-1.0, -1.0, -1.0]
    assert tensor[:, 2, 4].tolist() == [1.0, 1.0, 1.0]


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="step"):
        make_buckets(64, 128)
    with pytest.raises(ValueError, match="RGB"):
        to_tensor(Image.new("L", (2, 2)))
