"""Training settings: YAML files, `shoegen train` flags over them, errors that name the flag, and run.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoegen.cli.main import main
from shoegen.config.train import TrainConfig, build_config
from shoegen.errors import ShoegenError
from shoegen.training import loop
from shoegen.training.loop import TrainResult

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture
def trained_with(monkeypatch, tmp_path):
    """Run `shoegen train ARGS` up to the point where training would start; return the config it would train."""
    received = []

    def fake_train(config, show_progress=True):
        received.append(config)
        return TrainResult(config.output_dir, 0, config.output_dir / "lora_weights", [])

    # The folders these configs name need not exist: only the settings are looked at here.
    monkeypatch.setattr(loop, "train", fake_train)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> TrainConfig:
        assert main(["train", *args]) == 0
        assert len(received) == 1
        return received.pop()

    return run


def write_yaml(folder: Path, text: str) -> Path:
    path = folder / "recipe.yaml"
    path.write_text(text)
    return path


def train_error(capsys, *args: str) -> str:
    """stderr of a `shoegen train` that must fail before training, with exit status 2."""
    assert main(["train", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


@pytest.mark.parametrize("recipe", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_recipes_are_valid(recipe):
    config = build_config(recipe)
    assert config.rank == 8 and config.lora_alpha == 16


def test_yaml_values_load_and_flags_override_them(trained_with, tmp_path):
    recipe = write_yaml(tmp_path, "pretrained_model_name_or_path: tiny\n"
                                  "dataset_path: data/shoes\n"
                                  "learning_rate: 1.0e-3\n"
                                  "resolution: 128\n"
                                  "random_flip: true\n"
                                  "lora_target_modules: [to_q, to_k]\n"
                                  "snr_gamma: 5\n")
    from_file = trained_with("--config", str(recipe))
    assert from_file.pretrained_model_name_or_path == "tiny"
    assert from_file.dataset_path == Path("data/shoes")
    assert from_file.learning_rate == 1e-3 and from_file.resolution == 128 and from_file.random_flip is True
    assert from_file.lora_target_modules == ["to_q", "to_k"] and from_file.snr_gamma == 5.0
    assert from_file.max_train_steps == TrainConfig().max_train_steps  # untouched keys keep their defaults

    overridden = trained_with("--config", str(recipe), "--learning_rate", "5e-5", "--no-random_flip",
                              "--lora_target_modules", "to_q", "to_v", "--max_train_steps", "10")
    assert overridden.learning_rate == 5e-5 and overridden.random_flip is False
    assert overridden.lora_target_modules == ["to_q", "to_v"] and overridden.max_train_steps == 10
    assert overridden.resolution == 128  # a flag not given does not reset the file's value

    assert trained_with("--random_flip").random_flip is True
    assert trained_with("--no-cache_latents").cache_latents is False


def test_a_flag_replaces_an_invalid_file_value(capsys, tmp_path):
    recipe = write_yaml(tmp_path, "resolution: 65\nlearning_rate: 1.0e-4\n")
    # The flag wins, so only the other bad value is reported: the file's resolution never reaches validation.
    err = train_error(capsys, "--config", str(recipe), "--resolution", "64", "--learning_rate", "-1")
    assert "--learning_rate" in err and "resolution" not in err
    err = train_error(capsys, "--config", str(recipe))
    assert "--resolution: must be a multiple of 8" in err and "65" in err


@pytest.mark.parametrize(("flags", "expected"), [
    (["--learning_rate", "-1"], "--learning_rate: Input should be greater than 0 (got '-1')"),
    (["--learning_rate", "fast"], "--learning_rate: Input should be a valid number"),
    (["--resolution", "65"], "--resolution: must be a multiple of 8 (got '65')"),
    (["--resolution", "32"], "--resolution: Input should be greater than or equal to 64"),
    (["--lr_scheduler", "nope"], "--lr_scheduler: must be one of constant, constant_with_warmup"),
    (["--mixed_precision", "fp8"], "--mixed_precision: Input should be 'auto', 'no', 'fp16' or 'bf16'"),
    (["--max_train_steps", "1.5"], "--max_train_steps: Input should be a valid integer"),
    (["--validation_split", "1"], "--validation_split: Input should be less than 1"),
    (["--cache_latents_to_disk", "--no-cache_latents"], "--cache_latents_to_disk needs --cache_latents"),
    (["--dynamo_backend", "aot_eager"], "--dynamo_backend needs --torch_compile"),
    (["--torch_compile", "--dynamo_backend", "aot_eager", "--torch_compile_cpp_wrapper"],
     "--torch_compile_cpp_wrapper needs --torch_compile with the inductor backend"),
    (["--prior_loss_weight", "0.5"], "--prior_loss_weight needs --reg_data_dir"),
    (["--reg_data_dir", "reg", "--prior_loss_weight", "0"], "--prior_loss_weight: Input should be greater than 0"),
    (["--torch_compile", "--dynamo_backend", "tensorrt"], "--dynamo_backend: Input should be 'inductor', 'aot_eager'"),
])
def test_invalid_flag_values_name_the_flag(capsys, flags, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = train_error(capsys, *flags)
    assert err.startswith("error: invalid training configuration:") and expected in err
    assert list(tmp_path.iterdir()) == []  # nothing was started


def test_cross_option_error_does_not_blame_config(capsys):
    err = train_error(capsys, "--cache_latents_to_disk", "--no-cache_latents")
    assert "--config" not in err


@pytest.mark.parametrize(("text", "expected"), [
    ("learning_rate: 1.0e-4\nlearning_rat: 3\n", "unknown option `learning_rat` in {file}"),
    ("- learning_rate\n- 1.0e-4\n", "Config file {file} must hold a mapping of option: value, not list"),
    ("learning_rate: [1, 2\n", "Config file {file} is not valid YAML"),
    ("learning_rate: -1\n", "--learning_rate: Input should be greater than 0 (got -1)"),
    ("train_batch_size: 1000000000\n", "--train_batch_size: Input should be less than or equal to 256 (got 1000000000)"),
])
def test_bad_config_files_are_explained(capsys, tmp_path, text, expected):
    recipe = write_yaml(tmp_path, text)
    assert expected.format(file=recipe) in train_error(capsys, "--config", str(recipe))


@pytest.mark.parametrize(("key", "meant"), [
    ("learning_rat", "`learning_rate`"),
    ("learnig_rate", "`learning_rate`"),
    ("max-train-steps", "`max_train_steps`"),
    ("--resolution", "`resolution`"),
    ("base_model", "`pretrained_model_name_or_path`"),
    ("base-model", "`pretrained_model_name_or_path`"),
    ("validation_step", "`validation_steps` or `validation_split`?"),
])
def test_an_unknown_key_suggests_the_nearest_setting(capsys, tmp_path, key, meant):
    recipe = write_yaml(tmp_path, f"learning_rate: 1.0e-4\n{key}: 3\n")
    err = train_error(capsys, "--config", str(recipe))
    assert f"unknown option `{key}` in {recipe}: did you mean {meant}" in err  # the nearest first
    assert "shoegen train --help" in err


def test_an_unknown_key_far_from_every_setting_suggests_nothing(capsys, tmp_path):
    recipe = write_yaml(tmp_path, "zebra: 3\nlearning_rate: -1\n")
    err = train_error(capsys, "--config", str(recipe))
    assert f"unknown option `zebra` in {recipe} (see `shoegen train --help`" in err and "did you mean" not in err
    assert "--learning_rate: Input should be greater than 0" in err  # the other problems are still listed


@pytest.mark.parametrize(("values", "warned"), [
    ({"lr_warmup_steps": 100, "max_train_steps": 50}, True),
    ({"lr_warmup_steps": 50, "max_train_steps": 50}, True),
    ({"lr_warmup_steps": 49, "max_train_steps": 50}, False),
    ({"lr_warmup_steps": 100, "max_train_steps": 50, "lr_scheduler": "constant"}, False),
    ({"lr_warmup_steps": 100, "max_train_steps": 50, "lr_scheduler": "cosine"}, True),
    ({}, False),
])
def test_a_warmup_that_never_ends_is_a_warning(values, warned):
    found = TrainConfig(**values).warnings()
    assert bool(found) == warned
    if warned:
        assert "never reaches --learning_rate" in found[0] and "--lr_warmup_steps" in found[0]


def test_missing_config_file_is_explained(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    assert f"Config file {missing} does not exist" in train_error(capsys, "--config", str(missing))


def test_empty_config_file_means_defaults(tmp_path):
    assert build_config(write_yaml(tmp_path, "# nothing yet\n")) == TrainConfig()


@pytest.mark.parametrize("kind", ["folder", "binary", "number keys"])
def test_unreadable_config_files_are_explained(tmp_path, kind):
    if kind == "folder":
        path = tmp_path
    else:
        path = tmp_path / "recipe.yaml"
        path.write_bytes(b"\xff\xfe\x00binary" if kind == "binary" else b"1: 2\n")
    with pytest.raises(ShoegenError, match=str(path)):
        build_config(path)


def test_train_without_dataset_is_refused_before_anything_is_written(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = train_error(capsys, "--pretrained_model_name_or_path", "tiny", "--output_dir", str(tmp_path / "run"))
    assert "--dataset_path is required" in err
    assert list(tmp_path.iterdir()) == []


def test_run_yaml_round_trips(sample_dataset, tiny_base, tmp_path, capsys):
    run_dir = tmp_path / "run"
    flags = {"--pretrained_model_name_or_path": "tiny", "--dataset_path": str(sample_dataset),
             "--output_dir": str(run_dir), "--resolution": "64", "--train_batch_size": "2",
             "--gradient_accumulation_steps": "1", "--learning_rate": "2e-3", "--lr_warmup_steps": "0",
             "--max_train_steps": "1", "--checkpointing_steps": "1", "--num_validation_images": "0",
             "--snr_gamma": "5", "--seed": "3"}
    argv = ["train", "--quiet", "--random_flip", "--lora_target_modules", "to_q", "to_v",
            "--validation_prompts", "red shoes", "blue boots"]
    argv += [item for pair in flags.items() for item in pair]
    assert main(argv) == 0
    assert "trained 1 steps" in capsys.readouterr().out

    expected = TrainConfig(pretrained_model_name_or_path="tiny", dataset_path=sample_dataset, output_dir=run_dir,
                           resolution=64, train_batch_size=2, gradient_accumulation_steps=1, learning_rate=2e-3,
                           lr_warmup_steps=0, max_train_steps=1, checkpointing_steps=1, num_validation_images=0,
                           snr_gamma=5.0, seed=3, random_flip=True, lora_target_modules=["to_q", "to_v"],
                           validation_prompts=["red shoes", "blue boots"])
    resolved = build_config(run_dir / "run.yaml")
    assert resolved == expected
    # And it is a complete recipe: training again from it alone needs no flags.
    assert build_config(run_dir / "run.yaml", {"max_train_steps": 2}).max_train_steps == 2
