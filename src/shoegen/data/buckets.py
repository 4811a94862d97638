"""Aspect-ratio bucketing: training on 3:4 catalogue photos at a 3:4 size instead of squashing or
cropping them to squares. Each image goes to the bucket nearest its shape, so fitting it loses at
most a thin margin; every bucket has about the pixel count of a square at the training resolution."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageOps

# Stable Diffusion 1.x has a VAE that downsamples by 8 and a UNet that halves the latent three
# more times: sides that are multiples of 64 pass through without rounding.
FULL_SIZE_STEP = 64
SMALL_STEP = 16


def bucket_step_for(resolution: int) -> int:
    """The side granularity for `resolution`: 64 from 256 px up (SD's UNet halves 8x latents three
    times); 16 below, so a 64 px tiny model (one halving) still gets a few shapes (48x80, 64x64, 80x48)."""
    if resolution >= 256:
        return FULL_SIZE_STEP
    return SMALL_STEP


def make_buckets(resolution: int, step: int, max_aspect: float = 2.0) -> list[tuple[int, int]]:
    """All (width, height) pairs of multiples of `step` with at most resolution**2 pixels and a
    long/short side ratio of at most `max_aspect`, keeping for each width only the largest height;
    (resolution, resolution) is always one of them. Sorted by width."""
    if step <= 0 or resolution < step:
        raise ValueError(f"bucket step must be between 1 and the resolution {resolution}, got {step}")
    if max_aspect < 1.0:
        raise ValueError(f"max_aspect is a long/short side ratio, so at least 1, got {max_aspect}")
    max_pixels = resolution * resolution
    buckets = {(resolution, resolution)}
    for width in range(step, max_pixels // step + 1, step):
        height = max_pixels // width // step * step
        if height >= step and max(width, height) / min(width, height) <= max_aspect:
            buckets.add((width, height))
    return sorted(buckets)


def nearest_bucket(width: int, height: int, buckets: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The bucket closest to the image's shape, comparing log aspect ratios (so 1:2 and 2:1 are
    equally far from square); among equally close buckets the larger wins."""
    if not buckets:
        raise ValueError("no buckets to choose from")
    log_ratio = math.log(width / height)
    return min(
        buckets,
        key=lambda bucket: (abs(math.log(bucket[0] / bucket[1]) - log_ratio), -bucket[0] * bucket[1]),
    )


def fit_to_bucket(
    image: Image.Image, bucket: tuple[int, int], *, pad_color: tuple[int, int, int] | None = None
) -> Image.Image:
    """`image` resized to exactly `bucket`, keeping its proportions.

    By default it is scaled to cover the bucket and the excess is cropped evenly from both sides.
    With `pad_color` it is scaled to fit inside and the margins are filled with that color instead,
    as the original dataset was prepared (white padding, nothing cropped)."""
    if pad_color is None:
        return ImageOps.fit(image, bucket, method=Image.Resampling.LANCZOS)
    return ImageOps.pad(image, bucket, method=Image.Resampling.LANCZOS, color=pad_color)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """An RGB image as a float32 CHW tensor in [-1, 1], the range Stable Diffusion's VAE expects."""
    if image.mode != "RGB":
        raise ValueError(f"expected an RGB image (see open_rgb), got mode {image.mode}")
    pixels = torch.from_numpy(np.array(image, dtype=np.float32))
    return (pixels.permute(2, 0, 1) / 127.5 - 1.0).contiguous()
