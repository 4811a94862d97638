"""Which base model and which adapters every command and the service work with, unless told otherwise."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BASE_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
"""SD1.5 on the Hugging Face hub; a local folder, a single file or a built-in base (`demo`, `tiny`) also work."""
ENV_PREFIX = "SHOEGEN_"


class ModelSettings(BaseSettings):
    """Read from the environment (SHOEGEN_BASE_MODEL, SHOEGEN_MODELS_DIR or MODELS_DIR) when built, never at
    import; command-line flags are passed in as values and win."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, use_attribute_docstrings=True, extra="ignore",
                                      populate_by_name=True)

    base_model: str = DEFAULT_BASE_MODEL
    """Base model: hub id, local diffusers folder, single file, or built-in `tiny` / `demo`."""
    models_dir: Path = Field(Path("runs"), validation_alias=AliasChoices("SHOEGEN_MODELS_DIR", "MODELS_DIR"))
    """Training runs and LoRA files to offer as models (MODELS_DIR is honoured too)."""
