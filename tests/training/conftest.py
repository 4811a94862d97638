from __future__ import annotations

import pytest

from shoegen.config.train import TrainConfig


@pytest.fixture
def fast_config(sample_dataset, tiny_base, tmp_path):
    """A TrainConfig that trains the tiny base for a few seconds; keyword arguments override."""

    def make(output: str = "run", **overrides) -> TrainConfig:
        values = dict(
            pretrained_model_name_or_path="tiny",
            dataset_path=sample_dataset,
            output_dir=tmp_path / output,
            resolution=64,
            train_batch_size=4,
            gradient_accumulation_steps=2,
            learning_rate=2e-3,
            lr_scheduler="constant_with_warmup",
            lr_warmup_steps=2,
            max_train_steps=6,
            checkpointing_steps=3,
            validation_steps=6,
            num_validation_images=1,
            validation_inference_steps=2,
            random_flip=True,
            seed=7,
        )
        values.update(overrides)
        return TrainConfig(**values)

    return make

