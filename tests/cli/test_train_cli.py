"""`shoegen train`'s command line: the settings it would train with, what it refuses before touching OUTPUT_DIR, and
what it says when it ends (a few tiny 2-step runs)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import torch

from shoegen.cli.main import build_parser, main
from shoegen.cli.train import config_from_args


def settings_of(*argv: str):
    return config_from_args(build_parser().parse_args(["train", *argv]))


@pytest.mark.parametrize("flag", ["--base-model", "--pretrained_model_name_or_path"])
def test_both_spellings_of_the_base_model_are_the_same_setting(flag):
    assert settings_of(flag, "tiny").pretrained_model_name_or_path == "tiny"


def test_the_base_model_flag_overrides_the_config_file(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("pretrained_model_name_or_path: demo\nmax_train_steps: 5\n")
    assert settings_of("--config", str(recipe)).pretrained_model_name_or_path == "demo"
    config = settings_of("--config", str(recipe), "--base-model", "tiny")
    assert (config.pretrained_model_name_or_path, config.max_train_steps) == ("tiny", 5)


def test_help_gives_base_model_first_and_keeps_the_long_name(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = capsys.readouterr().out
    assert "--base-model PATH, --pretrained_model_name_or_path PATH" in text
    assert "[--base-model PATH]" in text


# --- what `shoegen train` checks before it touches OUTPUT_DIR, and what it says when it ends -----------------------


def tiny_run_flags(dataset: Path, output: Path, steps: int = 2) -> list[str]:
    return ["--base-model", "tiny", "--dataset_path", str(dataset), "--output_dir", str(output), "--resolution", "64",
            "--train_batch_size", "2", "--gradient_accumulation_steps", "1", "--lr_warmup_steps", "0",
            "--max_train_steps", str(steps), "--checkpointing_steps", "1", "--num_validation_images", "0", "--quiet"]


@pytest.fixture(scope="module")
def finished_run(sample_dataset, tiny_base, tmp_path_factory) -> Path:
    """A run folder holding a finished 2-step run (checkpoints, final adapter, log, status.json)."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    assert main(["train", *tiny_run_flags(sample_dataset, folder)]) == 0
    return folder


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under `folder`: its content hash and modification time."""
    return {str(path.relative_to(folder)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize(("flags", "expected"), [
    ([], "already holds a training run"),
    (["--overwrite_output_dir", "--dataset_path", "no-such-folder"], "no-such-folder does not exist"),
    (["--overwrite_output_dir", "--dataset_path", "{empty}"], "--dataset_path:"),
    (["--overwrite_output_dir", "--base-model", "missing.safetensors"], "missing.safetensors does not exist"),
    (["--overwrite_output_dir", "--validation_path", "no-such-folder"], "--validation_path: dataset folder"),
    (["--resume_from_checkpoint", "latest"], "nothing to train"),
    (["--resume_from_checkpoint", "checkpoint-7", "--max_train_steps", "9"], "--resume_from_checkpoint checkpoint-7"),
    (["--resume_from_checkpoint", "latest", "--max_train_steps", "4", "--rank", "4"], "--rank (was 8, now 4)"),
    (["--overwrite_output_dir", "--learning_rate", "-1"], "--learning_rate"),
], ids=["no-overwrite", "overwrite-missing-dataset", "overwrite-empty-dataset", "overwrite-missing-base",
        "overwrite-missing-validation", "resume-nothing-left", "resume-unknown-checkpoint", "resume-other-settings",
        "bad-value"])
def test_a_refused_run_leaves_the_run_in_its_folder_untouched(finished_run, sample_dataset, tmp_path, capsys,
                                                               monkeypatch, flags, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    folder = tmp_path / "run"
    shutil.copytree(finished_run, folder)
    before = snapshot(folder)
    argv = tiny_run_flags(sample_dataset, folder) + [flag.format(empty=tmp_path / "empty") for flag in flags]
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and "Traceback" not in err
    assert snapshot(folder) == before  # status.json still says "done"; checkpoints, adapter and log all there


@pytest.mark.skipif(torch.cuda.is_available() or torch.backends.mps.is_available(), reason="fp16 runs on a GPU")
def test_fp16_without_a_gpu_is_refused_at_once_naming_what_to_use(finished_run, sample_dataset, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(finished_run, folder)
    before = snapshot(folder)
    argv = tiny_run_flags(sample_dataset, folder) + ["--overwrite_output_dir", "--mixed_precision", "fp16"]
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --mixed_precision fp16 needs a GPU") and "bf16" in err and "auto" in err
    assert snapshot(folder) == before
    assert main(["train", *tiny_run_flags(sample_dataset, tmp_path / "new"), "--mixed_precision", "fp16"]) == 2
    assert not (tmp_path / "new").exists()


def test_a_resumed_run_reports_the_steps_it_trained_itself(finished_run, sample_dataset, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(finished_run, folder)
    argv = tiny_run_flags(sample_dataset, folder, steps=3) + ["--resume_from_checkpoint", "latest"]
    assert main(["train", *argv]) == 0
    out = capsys.readouterr().out
    assert "trained 1 steps in " in out and "resumed from checkpoint-2 (steps 1-2 were trained before)" in out
    assert "trained 3 steps" not in out


def test_a_warmup_as_long_as_the_run_is_warned_about(sample_dataset, tmp_path, capsys, monkeypatch):
    from shoegen.training import loop
    from shoegen.training.loop import TrainResult

    monkeypatch.setattr(loop, "train", lambda config, show_progress=True: TrainResult(
        config.output_dir, config.max_train_steps, config.output_dir / "lora_weights", []))
    flags = tiny_run_flags(sample_dataset, tmp_path / "run", steps=50)
    assert main(["train", *flags, "--lr_warmup_steps", "100"]) == 0
    err = capsys.readouterr().err
    assert "warning: --lr_warmup_steps 100 is not below --max_train_steps 50" in err
    assert "never reaches --learning_rate" in err
    assert main(["train", *flags, "--lr_warmup_steps", "10"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["train", *flags, "--lr_warmup_steps", "100", "--lr_scheduler", "constant"]) == 0
    assert "warning" not in capsys.readouterr().err  # the constant schedule has no warmup
