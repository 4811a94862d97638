"""Typed, validated training settings. Field names keep the diffusers example scripts' flag names (the
original system's command line), so its documented commands work; each docstring is the flag's --help."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shoegen.errors import ShoegenError
from shoegen.config.models import DEFAULT_BASE_MODEL
from shoegen.config.scores import METRIC_GROUPS
from shoegen.config.validation import build_settings

LR_SCHEDULERS = ("constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts", "polynomial")
# Other names of a setting that users write in a YAML file (after `-` → `_`): the flag's own, `--base-model`.
KEY_ALIASES = {"base_model": "pretrained_model_name_or_path"}


FOLDER_SETTINGS = ("dataset_path", "validation_path", "reg_data_dir", "output_dir")
"""The settings that name folders."""


class TrainConfig(BaseModel):
    """Everything one LoRA training run depends on; written next to its checkpoints as run.yaml."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)

    # --- data and model ---
    pretrained_model_name_or_path: str = DEFAULT_BASE_MODEL
    """Base model: a hub id, a local diffusers folder, a single .safetensors/.ckpt file, or a built-in base: `tiny` (random weights) or `demo` (trained on rendered shoes)."""
    single_file_config: str | None = None
    """For a single-file base: a local diffusers folder of the same architecture to take its configuration from."""
    dataset_path: Path | None = None
    """Training data folder: captions.json + images/, metadata.jsonl (imagefolder), or images with .txt captions."""
    validation_path: Path | None = None
    """Optional separate validation folder (any accepted layout); its loss is logged beside the training loss."""
    validation_split: float = Field(0.0, ge=0.0, lt=1.0)
    """Fraction of the training data held out for validation loss when no --validation_path is given."""
    reg_data_dir: Path | None = None
    """Regularisation images (any accepted layout): what the base should keep drawing, e.g. images the base
    generated for your product class. Each step also trains on a batch of them (prior preservation), so the
    adapter learns your products without changing other prompts. Doubles the work per step."""
    prior_loss_weight: float = Field(1.0, gt=0)
    """Weight of the regularisation images' loss against the training images' loss."""
    output_dir: Path = Path("runs/lora")
    """Run folder: checkpoints/, validation/, lora_weights/, logs/, run.yaml."""
    overwrite_output_dir: bool = False
    """Allow a new run in a folder that already holds checkpoints (they are deleted); otherwise refused."""
    resolution: int = Field(512, ge=64, le=2048)
    """Training resolution in pixels (a multiple of 8); images are bucketed by aspect ratio around it."""
    enable_bucket: bool = True
    """Aspect-ratio bucketing: non-square photos train at the bucket nearest their shape instead of a square crop."""
    random_flip: bool = False
    """Randomly mirror training images horizontally."""
    min_image_side: int = Field(64, ge=1)
    """Images whose shorter side is below this many pixels are skipped (with a warning naming them)."""

    # --- optimisation ---
    train_batch_size: int = Field(2, ge=1, le=256)
    """Images per micro-batch on each process (at most 256: more than a GPU holds at 512 px; a larger effective
    batch is --gradient_accumulation_steps' work)."""
    gradient_accumulation_steps: int = Field(8, ge=1)
    """Micro-batches accumulated into one optimizer step."""
    learning_rate: float = Field(1e-4, gt=0, le=1.0)
    """Peak learning rate of the AdamW optimizer."""
    lr_scheduler: str = "constant_with_warmup"
    """Learning-rate schedule: constant, constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial."""
    lr_warmup_steps: int = Field(100, ge=0)
    """Optimizer steps of linear learning-rate warmup (ignored by the constant schedule); at or above
    --max_train_steps the learning rate never reaches its value, and training warns."""
    max_train_steps: int = Field(3000, ge=1)
    """Total optimizer steps to train."""
    adam_beta1: float = Field(0.9, ge=0, lt=1)
    """AdamW beta1."""
    adam_beta2: float = Field(0.999, ge=0, lt=1)
    """AdamW beta2."""
    adam_weight_decay: float = Field(1e-2, ge=0)
    """AdamW weight decay."""
    adam_epsilon: float = Field(1e-8, gt=0)
    """AdamW epsilon."""
    max_grad_norm: float = Field(1.0, gt=0)
    """Gradient clipping norm."""
    snr_gamma: float | None = Field(None, gt=0)
    """Min-SNR-gamma loss weighting (5.0 is the paper's value); off when unset."""
    noise_offset: float = Field(0.0, ge=0, le=1)
    """Noise offset (about 0.05 helps very dark or very bright images); 0 turns it off."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: less memory, about 20% slower."""
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = "auto"
    """auto: bf16 on CUDA cards that support it, else fp16 on CUDA, fp32 on MPS and CPU. fp16 needs a GPU (refused on
    a machine without one); bf16 also runs on the CPU."""
    seed: int = 42
    """Seed for weights, data order, noise and validation images."""

    # --- LoRA ---
    rank: int = Field(8, ge=1, le=1024)
    """LoRA rank."""
    lora_alpha: float = Field(16.0, gt=0)
    """LoRA alpha; the update is scaled by alpha / rank."""
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    """Dropout on the LoRA branch."""
    lora_target_modules: list[str] = Field(["to_q", "to_k", "to_v", "to_out.0"], min_length=1)
    """UNet modules that get LoRA layers (attention projections by default)."""
    train_text_encoder: bool = False
    """Also train LoRA layers on the text encoder (q/k/v/out projections); disables text-embedding caching."""

    # --- speed ---
    cache_latents: bool = True
    """Encode each image with the frozen VAE once instead of every step."""
    cache_latents_to_disk: bool = False
    """Keep the latent cache on disk in the run folder so resumed and repeated runs skip the encoding."""
    torch_compile: bool = False
    """Compile the UNet's training step with torch.compile. The first step compiles (about 2 minutes for SD1.5
    on a GPU), later steps are faster: 0.071 s instead of 0.153 s per step for SD1.5 at 512 px, batch 2, on an
    H100, so it pays off after about 1,600 steps. On a CPU (2 cores), compiling from nothing took 2-3 minutes
    for the built-in tiny base (10-14 s once inductor's cache holds it), and steps took 32% less time there, 8%
    less on a larger model (benchmarks/RESULTS.md). Needs Triton on CUDA, a C++ compiler on the CPU."""
    dynamo_backend: Literal["inductor", "aot_eager", "eager"] = "inductor"
    """torch.compile backend for --torch_compile: inductor generates fused kernels (the fast one); aot_eager
    and eager only trace the model, a quick check that it compiles."""
    torch_compile_cpp_wrapper: bool = False
    """With --torch_compile (inductor): the code that calls the compiled kernels is C++ instead of Python. Worth
    it only for small models on a CPU, where a step is many tiny kernels: the tiny base's step took 9% less
    time, but compiling from nothing took 5-7 minutes instead of 2-3 on 2 cores (a larger model was still
    compiling after 20 minutes). Measured on the CPU only."""

    # --- checkpoints, validation, logging ---
    checkpointing_steps: int = Field(500, ge=1)
    """Save a resumable checkpoint every N optimizer steps."""
    checkpoints_total_limit: int | None = Field(None, ge=1)
    """Keep only the newest N checkpoints."""
    resume_from_checkpoint: str | None = None
    """`latest`, `checkpoint-N` or a checkpoint folder path: continue that run exactly where it stopped."""
    validation_steps: int = Field(500, ge=1)
    """Generate validation images and compute validation loss every N optimizer steps."""
    validation_prompts: list[str] | None = None
    """Prompts for validation images; defaults to the first two training captions."""
    num_validation_images: int = Field(2, ge=0, le=16)
    """Images per validation prompt (fixed seeds: seed, seed+1, ...)."""
    validation_inference_steps: int = Field(25, ge=1, le=200)
    """Denoising steps for validation images."""
    validation_metrics: list[str] = Field(default_factory=list)
    """Score the validation images at each validation step: `catalogue` (background, framing, colour, sharpness,
    diversity; no weights), `clip`, `dino` (where their weights load: SHOEGEN_CLIP_MODEL, SHOEGEN_DINO_MODEL), e.g.
    `catalogue,clip`. The scores go into the train log (as `score_<metric>`) and onto the loss-curve picture."""

    @field_validator("validation_metrics", mode="before")
    @classmethod
    def _metric_groups(cls, value):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return value
        groups = [part.strip() for item in value for part in str(item).split(",") if part.strip()]
        unknown = [group for group in groups if group not in METRIC_GROUPS]
        if unknown:
            raise ValueError(f"unknown {', '.join(unknown)}; choose from {', '.join(METRIC_GROUPS)}")
        return list(dict.fromkeys(groups))

    @field_validator("resolution")
    @classmethod
    def _multiple_of_8(cls, value: int) -> int:
        if value % 8:
            raise ValueError("must be a multiple of 8")
        return value

    @field_validator("lr_scheduler")
    @classmethod
    def _known_scheduler(cls, value: str) -> str:
        if value not in LR_SCHEDULERS:
            raise ValueError(f"must be one of {', '.join(LR_SCHEDULERS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        # Settings in backticks: each caller names them its way (a flag, a run body's `settings.x`).
        if self.cache_latents_to_disk and not self.cache_latents:
            raise ValueError("`cache_latents_to_disk` needs `cache_latents`")
        if self.prior_loss_weight != 1.0 and self.reg_data_dir is None:
            raise ValueError("`prior_loss_weight` needs `reg_data_dir`")
        if self.dynamo_backend != "inductor" and not self.torch_compile:
            raise ValueError("`dynamo_backend` needs `torch_compile`")
        if self.torch_compile_cpp_wrapper and not (self.torch_compile and self.dynamo_backend == "inductor"):
            raise ValueError("`torch_compile_cpp_wrapper` needs `torch_compile` with the inductor backend")
        return self

    def warnings(self) -> list[str]:
        """What is allowed but most likely not meant: each a sentence naming the flags and what to change."""
        found = []
        if self.lr_scheduler != "constant" and self.lr_warmup_steps >= self.max_train_steps:
            # The schedule's factor at optimizer step k (0-based) is k / warmup while k < warmup.
            reached = (self.max_train_steps - 1) / self.lr_warmup_steps
            found.append(
                f"--lr_warmup_steps {self.lr_warmup_steps} is not below --max_train_steps {self.max_train_steps}: "
                f"the learning rate rises for the whole run and never reaches --learning_rate {self.learning_rate:g} "
                f"(its last step runs at {reached:.0%} of it). Lower --lr_warmup_steps (a few percent of the "
                "steps is usual) or use --lr_scheduler constant."
            )
        return found

    def with_absolute_folders(self) -> TrainConfig:
        """The same settings with the folders they name absolute (`FOLDER_SETTINGS`, from the working folder):
        run.yaml and the checkpoints record them so, to be read again from elsewhere (the studio's server lists
        and resumes the run and keeps the dataset it reads; `shoegen evaluate` scores it)."""
        return self.model_copy(update={name: Path(os.path.abspath(value)) for name in FOLDER_SETTINGS
                                       if (value := getattr(self, name)) is not None})

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_yaml())


def field_help(name: str) -> str:
    return TrainConfig.model_fields[name].description or ""


def build_config(file: Path | None = None, overrides: dict | None = None) -> TrainConfig:
    """A validated TrainConfig from an optional YAML file, with command-line `overrides` winning."""
    values: dict = {}
    if file is not None:
        values = read_yaml_mapping(file)
    values.update(overrides or {})
    return build_settings(TrainConfig, values, what="training configuration", key=str, source=file,
                          help_command="shoegen train --help", aliases=KEY_ALIASES)


def read_yaml_mapping(file: Path) -> dict:
    try:
        loaded = yaml.safe_load(Path(file).read_text())
    except FileNotFoundError:
        raise ShoegenError(f"Config file {file} does not exist.") from None
    except yaml.YAMLError as error:
        raise ShoegenError(f"Config file {file} is not valid YAML: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ShoegenError(f"Config file {file} could not be read as YAML text: {error}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ShoegenError(f"Config file {file} must hold a mapping of option: value, not {type(loaded).__name__}.")
    not_names = [key for key in loaded if not isinstance(key, str)]
    if not_names:
        raise ShoegenError(f"Config file {file}: option names must be text, not {not_names!r}.")
    return loaded
