"""`shoegen train`'s command line up to the settings it would train with (nothing is trained here)."""

from __future__ import annotations

import pytest

from shoegen.cli.main import build_parser
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
