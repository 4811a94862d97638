"""The listing of what training left under MODELS_DIR: adapters and runs by name, nothing outside it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shoegen.training.run_folder import CHECKPOINT_STATE_FILE, RunFolder
from shoegen.training.runs import (UnknownModelError, discover_adapters, find_adapter, find_run, list_runs,
                                   training_captions)


def fake_run(folder: Path, steps=(4, 8), final: bool = True) -> RunFolder:
    """A run folder as training leaves it, with placeholder weight files (the listing never opens them)."""
    run = RunFolder(folder)
    for step in steps:
        run.checkpoint(step).mkdir(parents=True)
        (run.checkpoint(step) / CHECKPOINT_STATE_FILE).write_text("{}")
        (run.checkpoint(step) / run.final_adapter.name).write_bytes(b"weights")
    if final:
        run.final_weights_dir.mkdir(parents=True)
        run.final_adapter.write_bytes(b"weights")
    return run


@pytest.fixture
def models_dir(tmp_path) -> Path:
    """Two runs and a loose file, plus ways out through symlinks that must stay invisible."""
    models = tmp_path / "models"
    fake_run(models / "shoesA")
    fake_run(models / "shoesB", steps=(10,), final=False)
    (models / "loose.safetensors").write_bytes(b"weights")
    fake_run(models / ".hidden")
    outside = fake_run(tmp_path / "outside" / "escape")
    (models / "escape").symlink_to(outside.path, target_is_directory=True)
    (models / "escaped-file.safetensors").symlink_to(outside.final_adapter)
    (models / "shoesA" / "checkpoints" / "checkpoint-99").symlink_to(outside.checkpoint(4), target_is_directory=True)
    return models


def test_adapters_are_runs_checkpoints_and_loose_files_inside_the_folder(models_dir):
    entries = {e.name: (e.type, e.step) for e in discover_adapters(models_dir)}
    assert entries == {
        "loose": ("lora", None),
        "shoesA": ("final", None), "shoesA/checkpoint-4": ("checkpoint", 4), "shoesA/checkpoint-8": ("checkpoint", 8),
        "shoesB/checkpoint-10": ("checkpoint", 10),
    }
    assert find_adapter(models_dir, "shoesA/checkpoint-8").path == RunFolder(
        models_dir / "shoesA").checkpoint(8).resolve() / "pytorch_lora_weights.safetensors"
    assert discover_adapters(None) == [] and discover_adapters(models_dir / "missing") == []


def test_a_lookup_finds_what_the_listing_lists_reading_only_where_the_name_can_be(models_dir, monkeypatch):
    from shoegen.config.scores import BestCheckpoint
    from shoegen.training import runs

    RunFolder(models_dir / "shoesA").write_scores([], BestCheckpoint(model="shoesA/checkpoint-4", step=4,
                                                                     metric="catalogue_score", value=0.9, rule="r"))
    fake_run(models_dir / "loose", steps=(2,))  # a run called like the loose file: the listing's first one wins
    listed = discover_adapters(models_dir)
    assert "shoesA/best" in {entry.name for entry in listed}
    first_by_name = {}
    for entry in listed:
        first_by_name.setdefault(entry.name, entry)

    def no_walk(models):
        raise AssertionError("a known name was looked up by listing the whole models folder")

    monkeypatch.setattr(runs, "discover_adapters", no_walk)
    for name, entry in first_by_name.items():
        assert find_adapter(models_dir, name) == entry


@pytest.mark.parametrize("name", ["escape", "escape/checkpoint-4", "escaped-file", "shoesA/checkpoint-99",
                                  "y" * 250, ".hidden", "../outside/escape", "shoesA/../shoesB", "/etc/passwd", "shoesA/"])
def test_names_are_only_looked_up_never_joined_onto_a_path(models_dir, name):
    with pytest.raises(UnknownModelError) as raised:
        find_adapter(models_dir, name)
    message = str(raised.value)
    assert message.startswith(f"unknown model {name!r}")
    # It names what is known, and says nothing about how it was called (no HTTP route, no CLI flag).
    assert "known models: loose, shoesA, shoesA/checkpoint-4" in message
    assert "GET " not in message and "--" not in message


def test_an_empty_folder_says_no_model_is_known(tmp_path):
    with pytest.raises(UnknownModelError, match="unknown model 'x'; no models are known yet"):
        find_adapter(tmp_path, "x")


def test_runs_list_their_checkpoints_validation_and_loss_curve(models_dir):
    run = RunFolder(models_dir / "shoesA")
    run.validation_images_dir(4).mkdir(parents=True)
    run.validation_sheet(4).write_bytes(b"png")
    run.loss_curve.parent.mkdir()
    run.loss_curve.write_bytes(b"png")
    runs = {info.name: info for info in list_runs(models_dir)}
    assert sorted(runs) == ["shoesA", "shoesB"]
    shoes_a, shoes_b = runs["shoesA"], runs["shoesB"]
    assert shoes_a.folder == RunFolder(run.path.resolve())
    assert [c.name for c in shoes_a.checkpoints] == ["shoesA/checkpoint-4", "shoesA/checkpoint-8"]
    assert (shoes_a.has_final, shoes_a.validation_steps, shoes_a.has_loss_curve) == (True, [4], True)
    assert (shoes_b.has_final, shoes_b.validation_steps, shoes_b.has_loss_curve) == (False, [], False)
    assert find_run(models_dir, "shoesB") == shoes_b
    with pytest.raises(UnknownModelError, match=r"unknown run 'escape'; known runs: shoesA, shoesB$"):
        find_run(models_dir, "escape")
    unpictured = RunFolder(models_dir / "shoesB")  # a log and no picture yet: the picture is drawn when asked for
    unpictured.logs_dir.mkdir()
    unpictured.train_log.write_bytes(b"")
    assert not find_run(models_dir, "shoesB").has_loss_curve  # nothing logged: nothing to draw
    unpictured.train_log.write_text('{"step": 1, "loss": 0.5}\n')
    assert find_run(models_dir, "shoesB").has_loss_curve


def test_training_captions_come_from_the_dataset_in_run_yaml(models_dir, tmp_path):
    dataset = tmp_path / "data"
    dataset.mkdir()
    for name, caption in (("a", "red boots"), ("b", "blue sneakers"), ("c", "red boots")):
        (dataset / f"{name}.png").write_bytes(b"png")
        (dataset / f"{name}.txt").write_text(caption)
    run = RunFolder(models_dir / "shoesA")
    run.config_file.write_text(yaml.safe_dump({"dataset_path": str(dataset)}))
    assert training_captions(find_run(models_dir, "shoesA")) == ["red boots", "blue sneakers"]


@pytest.mark.parametrize("text", [None, "dataset_path: [unclosed", "just text", "dataset_path: 12",
                                  "dataset_path: /no/such/folder"])
def test_training_captions_of_a_run_without_a_readable_dataset_are_none(models_dir, text):
    if text is not None:
        RunFolder(models_dir / "shoesA").config_file.write_text(text)
    assert training_captions(find_run(models_dir, "shoesA")) == []


def test_the_listing_imports_no_torch():
    # The service lists models and runs in processes that must not pay for torch to do so.
    code = "import sys, shoegen.training.runs; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
