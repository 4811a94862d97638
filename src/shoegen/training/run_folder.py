"""The run folder, the one place that knows its layout: training writes through `RunFolder`, and the
adapter listing, export, the engine, the service and the CLI read through it.

    run.yaml                              the resolved settings, written when training starts
    checkpoints/checkpoint-N/             resumable checkpoints; complete once training_state.json is in
    lora_weights/                         the final adapter (pytorch_lora_weights.safetensors)
    validation/step-NNNNNN.png            validation contact sheets; their images in validation/step-NNNNNN/
    logs/                                 train_log.jsonl, tensorboard/, loss_curve.png
    cache/                                the latent cache of --cache_latents_to_disk

Imports no torch: the service lists runs through it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from shoegen.config.train import TrainConfig, build_config
from shoegen.training.lora import LORA_WEIGHTS_NAME

CHECKPOINT_STATE_FILE = "training_state.json"
_CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
_VALIDATION_SHEET_NAME = re.compile(r"^step-(\d+)\.png$")


def checkpoint_step(name: str) -> int | None:
    """The step of a `checkpoint-N` folder name; None for any other name."""
    match = _CHECKPOINT_NAME.match(name)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int


@dataclass(frozen=True)
class RunFolder:
    """Where everything of the training run in `path` is."""

    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / "run.yaml"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints_dir / f"checkpoint-{step}"

    @property
    def final_weights_dir(self) -> Path:
        return self.path / "lora_weights"

    @property
    def final_adapter(self) -> Path:
        return self.final_weights_dir / LORA_WEIGHTS_NAME

    @property
    def validation_dir(self) -> Path:
        return self.path / "validation"

    def validation_sheet(self, step: int) -> Path:
        return self.validation_dir / f"step-{step:06d}.png"

    def validation_images_dir(self, step: int) -> Path:
        return self.validation_dir / f"step-{step:06d}"

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def train_log(self) -> Path:
        return self.logs_dir / "train_log.jsonl"

    @property
    def tensorboard_dir(self) -> Path:
        return self.logs_dir / "tensorboard"

    @property
    def loss_curve(self) -> Path:
        return self.logs_dir / "loss_curve.png"

    def latent_cache(self, key: str) -> Path:
        return self.path / "cache" / f"latents-{key}.safetensors"

    def checkpoints(self) -> list[Checkpoint]:
        """Complete checkpoints, oldest first (a folder without its state file is not a checkpoint)."""
        if not self.checkpoints_dir.is_dir():
            return []
        found = []
        for child in self.checkpoints_dir.iterdir():
            step = checkpoint_step(child.name)
            if step is not None and (child / CHECKPOINT_STATE_FILE).is_file():
                found.append(Checkpoint(child, step))
        return sorted(found, key=lambda checkpoint: checkpoint.step)

    def validation_steps(self) -> list[int]:
        """Steps with a validation contact sheet, in order."""
        if not self.validation_dir.is_dir():
            return []
        return sorted(int(match.group(1)) for sheet in self.validation_dir.glob("step-*.png")
                      if (match := _VALIDATION_SHEET_NAME.match(sheet.name)))

    def remove_training_outputs(self) -> None:
        """Delete what an earlier run wrote here (checkpoints, validation, logs, final weights); the latent
        cache stays, and run.yaml is rewritten by the next run."""
        for folder in (self.checkpoints_dir, self.validation_dir, self.logs_dir, self.final_weights_dir):
            shutil.rmtree(folder, ignore_errors=True)

    def write_config(self, config: TrainConfig) -> None:
        config.save(self.config_file)

    def read_config(self) -> TrainConfig:
        """The run's settings as a TrainConfig; a ShoegenError naming the file when it is missing or invalid."""
        return build_config(self.config_file)

    def read_config_values(self) -> dict:
        """The run's settings as written, without validation; {} when run.yaml is missing or unreadable."""
        try:
            values = yaml.safe_load(self.config_file.read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return {}
        return values if isinstance(values, dict) else {}
