"""A MODELS_DIR with two small, distinct LoRA runs, trained once per test session.

Used by the engine, CLI and service tests. Two runs ("shoesA", "shoesB") with different seeds and a
high learning rate, so their pixels differ clearly from each other and from the base; each has
checkpoint-4, checkpoint-8 and final weights. shoesB also adapts the text encoder. The folder also
holds the ways out that must stay invisible: a symlinked run, a symlinked loose file and a symlinked
checkpoint, all pointing at an adapter outside the folder.

Loaded by file path (`load_helper()` in each conftest) because the test folders are not packages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

RUNS = {"shoesA": 11, "shoesB": 22}  # name → seed
ADAPTER_FILE = "pytorch_lora_weights.safetensors"
# Names that point outside the models folder; none may be listed or usable.
ESCAPE_NAMES = ("escape", "escape/checkpoint-4", "escaped-file", "shoesB/checkpoint-99")
_COMPLETE = ".complete"  # dot-names are ignored by the model listing


def trained_models_dir(base: Path, dataset: Path) -> Path:
    """`base/trained-models`, training it unless an earlier fixture of this session already did."""
    from shoegen.config.train import TrainConfig
    from shoegen.training.loop import train

    models = base / "trained-models"
    if (models / _COMPLETE).is_file():
        return models
    shutil.rmtree(models, ignore_errors=True)
    for name, seed in RUNS.items():
        train(TrainConfig(
            pretrained_model_name_or_path="tiny", dataset_path=dataset, output_dir=models / name, resolution=64,
            train_batch_size=2, gradient_accumulation_steps=1, learning_rate=5e-3, lr_scheduler="constant",
            lr_warmup_steps=0, max_train_steps=8, checkpointing_steps=4, validation_steps=1000,
            num_validation_images=0, seed=seed, train_text_encoder=name == "shoesB",
        ), show_progress=False)

    outside = base / "outside-models" / "escape"
    shutil.copytree(models / "shoesA", outside)
    (models / "escape").symlink_to(outside, target_is_directory=True)
    (models / "escaped-file.safetensors").symlink_to(outside / "lora_weights" / ADAPTER_FILE)
    (models / "shoesB" / "checkpoints" / "checkpoint-99").symlink_to(
        outside / "checkpoints" / "checkpoint-4", target_is_directory=True)
    (models / _COMPLETE).write_text("trained\n")
    return models
