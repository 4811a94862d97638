"""`shoegen --help`, every subcommand's --help, and `shoegen doctor`."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from shoegen import __version__
from shoegen.cli.main import build_parser, main

COMMANDS = ("train", "sample-data", "dataset", "base", "lora", "doctor")


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    # argparse wraps help at the terminal width; a wide one keeps phrases on one line for the assertions.
    monkeypatch.setenv("COLUMNS", "250")


def help_of(capsys, *command: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_through_the_installed_module():
    result = subprocess.run([sys.executable, "-m", "shoegen.cli.main", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: shoegen")
    listed = re.findall(r"^    ([a-z-]+)", result.stdout, flags=re.MULTILINE)
    assert set(COMMANDS) <= set(listed)
    assert set(listed) == {path[0] for path in command_paths()}


def command_paths(parser: argparse.ArgumentParser | None = None, prefix: tuple[str, ...] = ()) -> list[tuple]:
    """Every command and nested subcommand the parser registers, e.g. ("lora", "export")."""
    parser = parser or build_parser()
    paths = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                paths.append((*prefix, name))
                paths += command_paths(child, (*prefix, name))
    return paths


@pytest.mark.parametrize("command", command_paths(), ids=" ".join)
def test_every_command_has_help(capsys, command):
    text = help_of(capsys, *command)
    assert text.startswith(f"usage: shoegen {' '.join(command)}")
    assert "-h, --help" in text


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.strip() == f"shoegen {__version__}"


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2 and "required: COMMAND" in capsys.readouterr().err


@pytest.mark.parametrize(("command", "expected"), [
    (["train"], ["--config", "--pretrained_model_name_or_path", "--dataset_path", "--output_dir", "--resolution",
                 "--learning_rate", "--max_train_steps", "--resume_from_checkpoint", "--random_flip | --no-random_flip",
                 "--train_text_encoder", "--lora_target_modules VALUE [VALUE ...]", "--checkpointing_steps",
                 "--mixed_precision", "Command-line flags override the --config file",
                 "(default: 0.0001)", "(default: constant_with_warmup)"]),
    (["sample-data"], ["--count N", "--seed S", "--size PX", "--exclude-pattern NAME", "--only-pattern NAME",
                       "watermelon"]),
    (["dataset"], ["check"]),
    (["dataset", "check"], ["--min-side PX", "--json", "DIR", "Exit status: 0 when training can start"]),
    (["base"], ["path", "pretrain"]),
    (["base", "path"], ["{tiny,demo}", "SHOEGEN_CACHE_DIR"]),
    (["base", "pretrain"], ["--vae-steps", "--held-out-pattern", "--pretrained_model_name_or_path"]),
    (["lora"], ["export"]),
    (["lora", "export"], ["--format {kohya,diffusers}", "--output OUTPUT", "source", "AUTOMATIC1111", "ComfyUI"]),
    (["doctor"], ["--base-model", "stable-diffusion-v1-5/stable-diffusion-v1-5"]),
], ids=lambda value: " ".join(value) if isinstance(value, list) and len(value) <= 2 else None)
def test_subcommand_help(capsys, command, expected):
    text = help_of(capsys, *command)
    assert text.startswith(f"usage: shoegen {' '.join(command)}")
    for phrase in expected:
        assert phrase in text, phrase


def test_every_train_setting_has_a_documented_flag(capsys):
    from shoegen.config.train import TrainConfig

    text = help_of(capsys, "train")
    for name, info in TrainConfig.model_fields.items():
        assert f"--{name}" in text, name
        assert info.description and info.description.split("(")[0].strip()[:40] in text, name


def test_doctor_reports_versions_devices_and_the_offline_hub(capsys):
    import torch

    assert main(["doctor"]) == 1  # offline, the default SD1.5 base is not cached here: nothing could load it
    report = capsys.readouterr().out
    assert f"torch           {torch.__version__}" in report
    devices = report.split("devices:")[1].split("\n\n")[0]
    assert "cuda" in devices and "cpu " in devices and "cores" in devices
    base = report.split("base model:")[1]
    assert "stable-diffusion-v1-5/stable-diffusion-v1-5" in base
    assert "not reachable" in base.lower() or "offline" in base.lower()
    assert "CLIP vocabulary for built-in bases: found" in report
    assert report.rstrip().endswith("problems: the base model stable-diffusion-v1-5/stable-diffusion-v1-5 cannot be "
                                    "loaded here")


def test_doctor_on_local_bases(capsys, tiny_base, tmp_path):
    assert main(["doctor", "--base-model", "tiny"]) == 0
    report = capsys.readouterr().out
    assert f"tiny: built in, cached at {tiny_base}" in report and report.rstrip().endswith("no problem found")
    assert main(["doctor", "--base-model", str(tmp_path)]) == 1
    assert "not a diffusers model folder" in capsys.readouterr().out


def actions_of(*command: str) -> dict[str, argparse.Action]:
    """The options of `shoegen COMMAND` by their destination."""
    parser = build_parser()
    for name in command:
        parser = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
                      ).choices[name]
    return {action.dest: action for action in parser._actions}


def test_train_help_shows_each_settings_real_default(capsys):
    from shoegen.cli.flags import shown_default
    from shoegen.config.train import TrainConfig

    actions, defaults = actions_of("train"), TrainConfig()
    for name in TrainConfig.model_fields:
        value = getattr(defaults, name)
        shown = re.findall(r"\(default: ([^)]*)\)$", actions[name].help)
        assert shown == ([] if value in (None, "", []) else [shown_default(value)]), name
    assert actions["lora_target_modules"].help.endswith("(default: to_q to_k to_v to_out.0)")
    assert "PydanticUndefined" not in help_of(capsys, "train")


@pytest.mark.parametrize("command", ["generate", "batch", "grid"])
def test_generation_help_shows_the_parameters_real_defaults(command):
    from shoegen.cli.flags import shown_default
    from shoegen.cli.generate import FLAGS
    from shoegen.config.generation import GenerationParams

    actions, defaults = actions_of(command), GenerationParams(prompt="x")
    for name in FLAGS:
        if name not in actions or name == "loras":
            continue
        value = 42 if name == "seed" and command != "generate" else getattr(defaults, name)
        shown = re.findall(r"\(default: ([^)]*)\)$", actions[name].help)
        assert shown == ([] if value in (None, "", []) else [shown_default(value)]), name


@pytest.mark.parametrize("command", command_paths(), ids=" ".join)
def test_no_help_shows_an_undefined_default(capsys, command):
    assert "PydanticUndefined" not in help_of(capsys, *command)
