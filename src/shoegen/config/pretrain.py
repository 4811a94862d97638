"""Typed, validated pretraining settings: the recipe of a base trained from scratch (`shoegen base pretrain`,
and with the defaults the built-in `demo` base). Each docstring is the flag's --help."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shoegen.config.validation import build_settings

HELD_OUT_PATTERN = "watermelon"
class PretrainRecipe(BaseModel):
    """Everything that decides a pretrained base; the photos, initial weights and batches all come from `seed`."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    images: int = Field(2000, ge=1)
    """rendered training photos; the UNet and text encoder get all but those of the held-out pattern"""
    resolution: int = Field(64, ge=32, multiple_of=8)
    """photo size in pixels (a multiple of 8); the VAE turns it into resolution/8 latents"""
    seed: int = 0
    """seed of the photos, the initial weights and the batches"""
    vae_steps: int = Field(1000, ge=1)
    """autoencoder training steps"""
    vae_batch_size: int = Field(8, ge=1)
    """autoencoder batch size"""
    vae_learning_rate: float = Field(1.5e-3, gt=0, le=1)
    """autoencoder peak learning rate (cosine decay)"""
    unet_steps: int = Field(600, ge=1)
    """UNet + text encoder training steps"""
    unet_batch_size: int = Field(64, ge=1)
    """UNet + text encoder batch size"""
    unet_learning_rate: float = Field(1e-3, gt=0, le=1)
    """UNet + text encoder peak learning rate (cosine decay)"""
    caption_dropout: float = Field(0.1, ge=0, lt=1)
    """share of captions replaced by the empty prompt (for classifier-free guidance)"""
    held_out_pattern: str | None = HELD_OUT_PATTERN
    """pattern the UNet and text encoder never see, left for a LoRA to teach ('none' to show every pattern)"""

    @field_validator("held_out_pattern", mode="before")
    @classmethod
    def _none_shows_every_pattern(cls, value):
        # A command line cannot pass None; the flag takes the word instead.
        return None if isinstance(value, str) and value.lower() == "none" else value


def flag_name(field: str) -> str:
    """The `shoegen base pretrain` flag of a recipe field: `vae_steps` is `--vae-steps`."""
    return "--" + field.replace("_", "-")


def build_recipe(values: dict) -> PretrainRecipe:
    """A validated recipe from flag values; a bad value is a ShoegenError naming its flag."""
    return build_settings(PretrainRecipe, values, what=None, option=flag_name, sentences=True,
                          help_command="shoegen base pretrain --help")
