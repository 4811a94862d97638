"""The best checkpoint is picked by a number that means something: on a short LoRA run on the `demo` base (which
draws shoes on white), a deliberately damaged checkpoint ranks last and is never picked. Marked `demo_base`: it
needs the trained demo base (`make test-demo`); on the `tiny` base every model draws noise and no ranking means
anything (tests/cli/test_evaluate_cli.py covers the command there)."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from shoegen.config.train import TrainConfig
from shoegen.data.sample import render_sample_dataset
from shoegen.engine.engine import Engine
from shoegen.evaluate import evaluate_run
from shoegen.models.resolve import builtin_base_path
from shoegen.training.lora import LORA_WEIGHTS_NAME
from shoegen.training.loop import train
from shoegen.training.runs import find_adapter, find_run


@pytest.mark.demo_base
def test_a_damaged_checkpoint_ranks_last_and_the_best_is_a_sound_one(tmp_path):
    builtin_base_path("demo")
    render_sample_dataset(tmp_path / "data", count=32, seed=3, size=64, exclude_patterns=("watermelon",))
    models = tmp_path / "runs"
    train(TrainConfig(pretrained_model_name_or_path="demo", dataset_path=tmp_path / "data",
                      output_dir=models / "shoes", resolution=64, train_batch_size=4, learning_rate=1e-4,
                      max_train_steps=40, checkpointing_steps=20, validation_steps=1000, num_validation_images=0,
                      seed=5), show_progress=False)
    # A third checkpoint, step 30, whose adapter is the step-20 one with its weights drowned in noise.
    damaged = models / "shoes" / "checkpoints" / "checkpoint-30"
    shutil.copytree(models / "shoes" / "checkpoints" / "checkpoint-20", damaged)
    generator = torch.Generator().manual_seed(0)
    with safe_open(damaged / LORA_WEIGHTS_NAME, "pt") as opened:
        metadata = opened.metadata()  # the adapter's rank and alpha stay as they were
    weights = load_file(damaged / LORA_WEIGHTS_NAME)
    save_file({key: value + 0.5 * torch.randn(value.shape, generator=generator) for key, value in weights.items()},
              damaged / LORA_WEIGHTS_NAME, metadata=metadata)

    evaluation = evaluate_run(Engine("demo", models), find_run(models, "shoes"), seeds=2, steps=20,
                              metrics=["catalogue"], show_progress=False)

    ranked = sorted(evaluation.scores, key=lambda line: line.metrics["catalogue_score"])
    assert [line.step for line in evaluation.scores] == [0, 20, 30, 40]
    assert ranked[0].model == "shoes/checkpoint-30", [(line.model, line.metrics["catalogue_score"]) for line in ranked]
    assert ranked[0].metrics["catalogue_score"] < 0.8 * ranked[1].metrics["catalogue_score"]
    assert evaluation.best is not None and evaluation.best.model in ("shoes/checkpoint-20", "shoes/checkpoint-40")
    assert find_adapter(models, "shoes/best").step == evaluation.best.step
