"""The run folder's layout, its checkpoints and validation steps, and its resolved config read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoegen.config.train import TrainConfig
from shoegen.errors import ShoegenError
from shoegen.training.run_folder import CHECKPOINT_STATE_FILE, RunFolder, checkpoint_step


def test_the_layout(tmp_path):
    run = RunFolder(tmp_path)
    assert run.config_file == tmp_path / "run.yaml"
    assert run.checkpoint(500) == tmp_path / "checkpoints" / "checkpoint-500"
    assert run.final_adapter == tmp_path / "lora_weights" / "pytorch_lora_weights.safetensors"
    assert run.validation_sheet(300) == tmp_path / "validation" / "step-000300.png"
    assert run.validation_images_dir(300) == tmp_path / "validation" / "step-000300"
    assert run.loss_curve == tmp_path / "logs" / "loss_curve.png"
    assert run.train_log == tmp_path / "logs" / "train_log.jsonl"
    assert run.latent_cache("abc") == tmp_path / "cache" / "latents-abc.safetensors"
    assert [checkpoint_step(name) for name in ("checkpoint-12", "checkpoint-x", ".staging-checkpoint-3")] == [
        12, None, None]


def test_only_complete_checkpoints_count_oldest_first(tmp_path):
    run = RunFolder(tmp_path)
    assert run.checkpoints() == []
    for step in (20, 3, 100):
        run.checkpoint(step).mkdir(parents=True)
        (run.checkpoint(step) / CHECKPOINT_STATE_FILE).write_text("{}")
    run.checkpoint(7).mkdir()  # its state file was never written: interrupted
    (run.checkpoints_dir / ".staging-checkpoint-8-123").mkdir()
    assert [(c.step, c.path) for c in run.checkpoints()] == [(step, run.checkpoint(step)) for step in (3, 20, 100)]


def test_validation_steps_are_the_contact_sheets(tmp_path):
    run = RunFolder(tmp_path)
    assert run.validation_steps() == []
    for step in (600, 300):
        run.validation_images_dir(step).mkdir(parents=True)
        run.validation_sheet(step).write_bytes(b"png")
    (run.validation_dir / "notes.png").write_bytes(b"png")
    assert run.validation_steps() == [300, 600]


def test_the_resolved_config_reads_back(tmp_path):
    run = RunFolder(tmp_path / "run")
    config = TrainConfig(pretrained_model_name_or_path="tiny", dataset_path=tmp_path / "data", output_dir=run.path,
                         max_train_steps=7, lora_target_modules=["to_q"])
    run.write_config(config)
    assert run.read_config() == config
    assert run.read_config_values()["max_train_steps"] == 7


@pytest.mark.parametrize("text", ["max_train_steps: [unclosed", "- a list\n- not a mapping\n", "\xff"])
def test_a_broken_config_file_reads_as_nothing_or_a_named_error(tmp_path, text):
    run = RunFolder(tmp_path)
    assert run.read_config_values() == {}  # no run.yaml at all
    run.config_file.write_bytes(text.encode("latin-1"))
    assert run.read_config_values() == {}
    with pytest.raises(ShoegenError, match="run.yaml"):
        run.read_config()


def test_removing_a_runs_outputs_keeps_its_cache_and_config(tmp_path):
    run = RunFolder(tmp_path)
    for folder in (run.checkpoint(3), run.final_weights_dir, run.validation_dir, run.logs_dir):
        folder.mkdir(parents=True)
    run.latent_cache("k").parent.mkdir()
    run.latent_cache("k").write_bytes(b"latents")
    run.config_file.write_text("seed: 1\n")
    run.remove_training_outputs()
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["cache", "run.yaml"]
