"""`--compile` on generate, batch, grid and serve: the flag, its environment variable, its --help, and the fallback
a user sees when torch.compile cannot work (no C compiler)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoegen.cli.flags import engine_settings
from shoegen.cli.main import build_parser, main
from shoegen.errors import ShoegenError

COMMANDS = {"generate": ["a red boot"], "batch": ["prompts.txt"],
            "grid": ["--prompts", "a red boot", "--models", "tiny"], "serve": []}


def parse(command: str, *flags: str):
    return build_parser().parse_args([command, *COMMANDS[command], *flags])


@pytest.mark.parametrize("command", COMMANDS)
def test_compile_is_off_unless_the_flag_or_the_environment_turns_it_on(command, monkeypatch):
    monkeypatch.delenv("SHOEGEN_COMPILE", raising=False)
    assert engine_settings(parse(command)).compile is False
    assert engine_settings(parse(command, "--compile")).compile is True
    monkeypatch.setenv("SHOEGEN_COMPILE", "1")
    assert engine_settings(parse(command)).compile is True
    assert engine_settings(parse(command, "--no-compile")).compile is False  # the flag wins


def test_the_service_settings_read_shoegen_compile(monkeypatch):
    from shoegen.config.service import ServiceSettings

    monkeypatch.setenv("SHOEGEN_COMPILE", "true")
    monkeypatch.setenv("SHOEGEN_COMPILE_MODE", "reduce-overhead")
    settings = ServiceSettings()
    assert settings.compile is True and settings.compile_mode == "reduce-overhead"


def test_a_bad_compile_mode_is_one_line_naming_the_flag():
    with pytest.raises(ShoegenError) as raised:
        engine_settings(parse("generate", "--compile", "--compile-mode", "fastest"))
    assert str(raised.value).startswith("--compile-mode must be 'default', 'reduce-overhead'")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_says_what_compile_does_and_what_it_costs(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("--compile, --no-compile", "Opt-in compiled engine", "torch.compile of the UNet and the VAE decoder",
                   "channels_last", "fused attention projections", "LoRA adapters keep working", "warm-up time",
                   "pays off on a GPU", "falls back to the plain pipeline", "--compile-mode MODE"):
        assert phrase in text, phrase


def test_without_a_c_compiler_generate_compile_warns_once_and_writes_the_images(models_dir, tmp_path, monkeypatch,
                                                                              capsys):
    """What inductor raises at the first call when no C++ compiler works (compiling for real takes minutes here)."""
    import torch
    from torch._inductor.exc import InductorError, InvalidCxxCompiler

    def compile_without_a_compiler(function, **options):
        def compiled(*args, **kwargs):
            raise InductorError(InvalidCxxCompiler("no-such-c-compiler"), None)
        return compiled

    monkeypatch.setattr(torch, "compile", compile_without_a_compiler)
    code = main(["generate", "red suede boots", "--compile", "--base-model", "tiny", "--models-dir", str(models_dir),
                 "--steps", "2", "--seed", "1", "-n", "2", "--output", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert len([line for line in captured.out.split() if Path(line).is_file()]) == 2
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning: --compile")]
    assert warnings == ["warning: --compile: torch.compile failed (InductorError: InvalidCxxCompiler: Compiler: "
                        "no-such-c-compiler is not found.); generating with the plain pipeline"], captured.err
