"""Which models the model-based scores (CLIP, DINOv2) load, unless told otherwise."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shoegen.config.models import ENV_PREFIX

DEFAULT_CLIP_MODEL = "openai/clip-vit-large-patch14"
"""CLIP ViT-L/14, the text encoder family of SD1.5: prompt adherence (CLIP score) and CLIP-I similarity."""
DEFAULT_DINO_MODEL = "facebook/dinov2-small"
"""DINOv2 ViT-S/14: DINO similarity and the KID/FID features."""
CLIP_MODEL_ENV = f"{ENV_PREFIX}CLIP_MODEL"
DINO_MODEL_ENV = f"{ENV_PREFIX}DINO_MODEL"


class ScorerModelSettings(BaseSettings):
    """Read from the environment (SHOEGEN_CLIP_MODEL, SHOEGEN_DINO_MODEL) when built, never at import; values
    passed in (a command-line flag, a parameter) win."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, use_attribute_docstrings=True, extra="ignore")

    clip_model: str = DEFAULT_CLIP_MODEL
    """CLIP model for the CLIP score and CLIP-I: a hub id, a local folder (save_pretrained of CLIPModel and its
    processor), or `tiny` (random weights, for tests)."""
    dino_model: str = DEFAULT_DINO_MODEL
    """DINOv2 model for DINO similarity, KID and FID: a hub id, a local folder (save_pretrained of Dinov2Model
    and its image processor), or `tiny` (random weights, for tests)."""
