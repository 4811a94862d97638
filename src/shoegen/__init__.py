"""Shoes AI Generator: LoRA fine-tuning and generation for Stable Diffusion 1.x product photos."""

__version__ = "0.1.0"
