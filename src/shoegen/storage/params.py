"""The generation parameters of one image: what the gallery stores, the PNG embeds and exports list."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Seeds live in a signed 64-bit column (PostgreSQL has no unsigned BIGINT).
MAX_SEED = 2**63 - 1
# Column widths of the gallery table; checked here because SQLite would accept longer values and
# PostgreSQL reject them, and the behaviour should not depend on the database.
MAX_MODEL_LENGTH = 255
MAX_SAMPLER_LENGTH = 64


@dataclass(frozen=True)
class LoraWeight:
    """One LoRA adapter applied to the generation, and the strength it was applied with."""

    name: str
    """Adapter name as the engine knows it, e.g. "shoes-v1" or "run/checkpoint-500"."""
    weight: float
    """Adapter scale; 1.0 is the strength it was trained at."""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weight": self.weight}


@dataclass(frozen=True)
class ImageParams:
    """Everything needed to reproduce (and to search for) one generated image."""

    prompt: str
    negative_prompt: str
    model: str
    """The base model or adapter that generated the image, e.g. "run/checkpoint-500"."""
    loras: Sequence[LoraWeight]
    """Adapters applied on top of `model`; stored as a tuple whatever sequence is passed."""
    seed: int
    steps: int
    guidance_scale: float
    sampler: str
    """Sampler label in AUTOMATIC1111's spelling where one exists, e.g. "DPM++ 2M Karras"."""
    width: int
    height: int
    strength: float | None = None
    """img2img denoising strength; None for text-to-image."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Anything else worth keeping (base model, truncated prompt info, generation time); must be JSON-ready."""

    def __post_init__(self) -> None:
        # Checked here so a bad value fails before a PNG is written rather than at the database insert.
        object.__setattr__(self, "loras", tuple(self.loras))
        object.__setattr__(self, "extra", dict(self.extra))
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be between 0 and {MAX_SEED}, got {self.seed}")
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"width and height must be positive, got {self.width}x{self.height}")
        if len(self.model) > MAX_MODEL_LENGTH or len(self.sampler) > MAX_SAMPLER_LENGTH:
            raise ValueError(
                f"model and sampler names are limited to {MAX_MODEL_LENGTH} and {MAX_SAMPLER_LENGTH} characters"
            )
        if not math.isfinite(self.guidance_scale):
            raise ValueError(f"guidance_scale must be finite, got {self.guidance_scale}")
        if self.strength is not None and not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be between 0 and 1, got {self.strength}")
        try:
            json.dumps(self.extra, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"extra must be JSON-serializable: {error}") from error

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; `from_dict` reads it back."""
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "model": self.model,
            "loras": [lora.to_dict() for lora in self.loras],
            "seed": self.seed,
            "steps": self.steps,
            "guidance_scale": self.guidance_scale,
            "sampler": self.sampler,
            "width": self.width,
            "height": self.height,
            "strength": self.strength,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageParams:
        """Inverse of `to_dict`; unknown keys are ignored so older readers accept newer files."""
        strength = data.get("strength")
        return cls(
            prompt=str(data["prompt"]),
            negative_prompt=str(data.get("negative_prompt") or ""),
            model=str(data["model"]),
            loras=[LoraWeight(str(lora["name"]), float(lora["weight"])) for lora in data.get("loras") or []],
            seed=int(data["seed"]),
            steps=int(data["steps"]),
            guidance_scale=float(data["guidance_scale"]),
            sampler=str(data["sampler"]),
            width=int(data["width"]),
            height=int(data["height"]),
            strength=None if strength is None else float(strength),
            extra=dict(data.get("extra") or {}),
        )
