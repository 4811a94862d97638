"""Tiny CLIP and DINOv2 scorers with random weights, built offline: what the tests, the benchmark and the demo
score with when the real weights (`openai/clip-vit-large-patch14`, `facebook/dinov2-small`) are not at hand.

Same model classes and processors as the real ones (CLIP with SD1.5's real vocabulary), at 32 px and 32 wide,
so every code path runs in milliseconds. Their numbers follow the code's arithmetic (an image against itself
is 1.0, a set against itself has a KID near 0), not visual judgement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from shoegen.models.clip_vocab import CLIP_VOCAB_SIZE, MODEL_MAX_LENGTH, write_tokenizer_files
from shoegen.models.resolve import build_cached, cache_dir

ScorerKind = Literal["clip", "dino"]
TINY_SCORER_NAME = "tiny"
TINY_SCORER_SIZE = 32
# Written into the cached folders; a change to the builders below must bump it so caches are rebuilt.
TINY_SCORERS_FORMAT_VERSION = "1"
_IMAGENET_MEAN = [0.485, 0.456, 0.406]
_IMAGENET_STD = [0.229, 0.224, 0.225]
_TINY_WIDTHS = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}


def write_tiny_clip(folder: Path, seed: int = 0) -> None:
    """A CLIPModel (text and vision towers, projection 32) with its CLIPProcessor, saved into `folder`."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    write_tokenizer_files(folder)
    text = {**_TINY_WIDTHS, "vocab_size": CLIP_VOCAB_SIZE, "max_position_embeddings": MODEL_MAX_LENGTH,
            "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 49407}
    vision = {**_TINY_WIDTHS, "image_size": TINY_SCORER_SIZE, "patch_size": 8}
    torch.manual_seed(seed)
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=32)).save_pretrained(folder)
    side = {"shortest_edge": TINY_SCORER_SIZE}
    crop = {"height": TINY_SCORER_SIZE, "width": TINY_SCORER_SIZE}
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(size=side, crop_size=crop),
                              tokenizer=CLIPTokenizer.from_pretrained(folder))
    processor.save_pretrained(folder)


def write_tiny_dino(folder: Path, seed: int = 0) -> None:
    """A Dinov2Model with DINOv2's image processor (ImageNet normalisation), saved into `folder`."""
    import torch
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    torch.manual_seed(seed)
    Dinov2Model(Dinov2Config(**_TINY_WIDTHS, image_size=TINY_SCORER_SIZE, patch_size=8)).save_pretrained(folder)
    BitImageProcessor(size={"shortest_edge": TINY_SCORER_SIZE},
                      crop_size={"height": TINY_SCORER_SIZE, "width": TINY_SCORER_SIZE},
                      image_mean=_IMAGENET_MEAN, image_std=_IMAGENET_STD).save_pretrained(folder)


_BUILDERS = {"clip": write_tiny_clip, "dino": write_tiny_dino}


def tiny_scorer_path(kind: ScorerKind) -> Path:
    """The cached folder of the tiny `kind` scorer, built first (about a second) when missing or outdated."""
    folder = cache_dir() / "models" / f"tiny-{kind}"
    return build_cached(folder, _BUILDERS[kind], f"tiny-{kind} {TINY_SCORERS_FORMAT_VERSION}")
