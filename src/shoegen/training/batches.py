"""Training batches: examples bucketed by aspect ratio, an exactly reproducible batch order, and the
latent / text-embedding caches that let a step run only the UNet when the VAE and text encoder are frozen.

The batch order is a pure function of (seed, epoch), so a resumed run picks up at the very batch it
stopped at without saving any sampler state.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from shoegen.data.buckets import bucket_step_for, fit_to_bucket, make_buckets, nearest_bucket, to_tensor
from shoegen.data.images import open_rgb

ENCODE_BATCH = 8
"""Images per VAE pass when the latent cache is built on an accelerator. On a CPU one image at a time is as fast
and its memory does not grow with the batch (SD's VAE at 512 px: 7.1 s per image at batch 1, 7.3 at 2, 7.6 at 4;
peak RSS 1.6, 2.2 and 3.5 GiB): see encode_batch."""


def encode_batch(device: torch.device) -> int:
    return 1 if device.type == "cpu" else ENCODE_BATCH


@dataclass(frozen=True)
class BucketedExample:
    image_path: Path
    caption: str
    bucket: tuple[int, int]  # (width, height)


def assign_buckets(examples, resolution: int, enable_bucket: bool) -> list[BucketedExample]:
    buckets = make_buckets(resolution, bucket_step_for(resolution)) if enable_bucket else [(resolution, resolution)]
    return [
        BucketedExample(e.image_path, e.caption, nearest_bucket(e.width, e.height, buckets) if enable_bucket
                        else (resolution, resolution))
        for e in examples
    ]


@dataclass(frozen=True)
class MicroBatch:
    indices: tuple[int, ...]
    flips: tuple[bool, ...]


def epoch_plan(examples: list[BucketedExample], batch_size: int, seed: int, epoch: int,
               random_flip: bool) -> list[MicroBatch]:
    """All micro-batches of one epoch: shuffled within each bucket, then the batches shuffled, so a batch
    always holds one image shape."""
    rng = random.Random(f"{seed}:{epoch}")
    by_bucket: dict[tuple[int, int], list[int]] = {}
    for index, example in enumerate(examples):
        by_bucket.setdefault(example.bucket, []).append(index)
    batches = []
    for bucket in sorted(by_bucket):
        indices = by_bucket[bucket]
        rng.shuffle(indices)
        batches += [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]
    rng.shuffle(batches)
    return [MicroBatch(tuple(b), tuple(random_flip and rng.random() < 0.5 for _ in b)) for b in batches]


class BatchStream:
    """Micro-batch number k of the whole run (all processes together), epoch after epoch."""

    def __init__(self, examples, batch_size: int, seed: int, random_flip: bool):
        self.examples, self.batch_size, self.seed, self.random_flip = examples, batch_size, seed, random_flip
        self.batches_per_epoch = len(epoch_plan(examples, batch_size, seed, 0, random_flip))
        self._cached_epoch: tuple[int, list[MicroBatch]] | None = None

    def __getitem__(self, k: int) -> MicroBatch:
        epoch, position = divmod(k, self.batches_per_epoch)
        if self._cached_epoch is None or self._cached_epoch[0] != epoch:
            self._cached_epoch = (epoch, epoch_plan(self.examples, self.batch_size, self.seed, epoch,
                                                    self.random_flip))
        return self._cached_epoch[1][position]


def load_pixels(example: BucketedExample, flip: bool) -> torch.Tensor:
    image = fit_to_bucket(open_rgb(example.image_path), example.bucket)
    if flip:
        image = image.transpose(0)  # PIL.Image.Transpose.FLIP_LEFT_RIGHT
    return to_tensor(image)


@torch.no_grad()
def encode_pixels(vae, pixels: torch.Tensor) -> torch.Tensor:
    """Scaled latents. The distribution mean, not a sample: cached and uncached runs then see the same
    latents, and resume stays exact."""
    pixels = pixels.to(vae.device, dtype=vae.dtype)
    return vae.encode(pixels).latent_dist.mean * vae.config.scaling_factor


def tokenize(tokenizer, captions: list[str]) -> torch.Tensor:
    return tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                     return_tensors="pt").input_ids


@torch.no_grad()
def encode_text(tokenizer, text_encoder, captions: list[str]) -> torch.Tensor:
    return text_encoder(tokenize(tokenizer, captions).to(text_encoder.device))[0]


def latent_cache_key(examples: list[BucketedExample], base_model: str, random_flip: bool) -> str:
    digest = hashlib.sha256(f"{base_model}|{random_flip}".encode())
    for example in examples:
        stat = example.image_path.stat()
        digest.update(f"{example.image_path}|{stat.st_size}|{stat.st_mtime_ns}|{example.bucket}".encode())
    return digest.hexdigest()[:16]


def build_latent_cache(examples: list[BucketedExample], vae, random_flip: bool, cache_file: Path | None,
                       show_progress: bool) -> dict[tuple[int, bool], torch.Tensor]:
    """Latents of every (example, flip) the run can ask for, on the CPU in fp32."""
    if cache_file is not None and cache_file.is_file():
        stored = load_file(cache_file)
        return {(int(k.split(":")[0]), k.endswith(":1")): v for k, v in stored.items()}
    wanted = [(i, flip) for i in range(len(examples)) for flip in ((False, True) if random_flip else (False,))]
    wanted.sort(key=lambda item: examples[item[0]].bucket)  # one image shape per encoder batch
    cache: dict[tuple[int, bool], torch.Tensor] = {}
    bar = tqdm(total=len(wanted), desc="Caching latents", unit="img", disable=not show_progress)
    start, size = 0, encode_batch(vae.device)
    while start < len(wanted):
        bucket = examples[wanted[start][0]].bucket
        chunk = [w for w in wanted[start : start + size] if examples[w[0]].bucket == bucket]
        pixels = torch.stack([load_pixels(examples[i], flip) for i, flip in chunk])
        for key, latent in zip(chunk, encode_pixels(vae, pixels).float().cpu()):
            cache[key] = latent.clone(memory_format=torch.contiguous_format)
        start += len(chunk)
        bar.update(len(chunk))
    bar.close()
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        save_file({f"{i}:{int(flip)}": v for (i, flip), v in cache.items()}, cache_file)
    return cache


def build_text_cache(captions: list[str], tokenizer, text_encoder, show_progress: bool) -> dict[str, torch.Tensor]:
    unique = sorted(set(captions))
    cache = {}
    for start in tqdm(range(0, len(unique), ENCODE_BATCH * 4), desc="Caching text embeddings",
                      disable=not show_progress):
        chunk = unique[start : start + ENCODE_BATCH * 4]
        for caption, embedding in zip(chunk, encode_text(tokenizer, text_encoder, chunk).float().cpu()):
            cache[caption] = embedding.clone()
    return cache
