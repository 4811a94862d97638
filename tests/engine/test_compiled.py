"""The opt-in compiled engine (`EngineSettings.compile`): the same pictures as the plain engine, adapters that keep
working and switch without recompiling, and a fallback to the plain pipeline, with the reason, when compiling fails.

Pixels are compared to the plain engine's with a tolerance of 2 levels (of 255) per channel: compiled kernels,
fused projections and channels_last reorder float sums, nothing more (measured: at most 1 level).

Inductor's C++ kernels take minutes to compile on a cold cache on 2 cores (seconds once cached), so the default
run compiles through dynamo with the `aot_eager` backend: the same graph capture, guards and recompiles, no C++.
The test marked `inductor` compiles for real (`make test-compile`)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from shoegen.config.engine import EngineSettings
from shoegen.engine.engine import Engine, GenerationRequest

TOLERANCE = 2  # levels of 255, per pixel and channel
REQUEST = dict(prompt="A professional product photo of black casual shoes", num_inference_steps=2, width=64,
               height=64, seed=7)


def pixels(engine: Engine, **changes) -> np.ndarray:
    return np.asarray(engine.generate(GenerationRequest(**{**REQUEST, **changes})).images[0].image).astype(int)


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and int(np.abs(a - b).max()) <= TOLERANCE


def compiled_engine(models_dir) -> Engine:
    return Engine("tiny", models_dir, device="cpu", settings=EngineSettings(compile=True))


@pytest.fixture
def uncompilable(monkeypatch):
    """torch.compile refuses at once, as on a platform it does not support."""
    def refuse(*args, **kwargs):
        raise RuntimeError("torch.compile is not supported on this platform")

    monkeypatch.setattr(torch, "compile", refuse)


@pytest.fixture
def dynamo_compile(monkeypatch):
    """torch.compile through dynamo and AOTAutograd, without inductor's code generation and C++ compiler."""
    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda function, **options: real(function, backend="aot_eager",
                                                                           dynamic=options.get("dynamic")))


@pytest.fixture
def eager_compile(monkeypatch):
    """torch.compile hands the function back unchanged: the compiled engine's fused projections and channels_last,
    run eagerly, in milliseconds instead of a compile's minute."""
    monkeypatch.setattr(torch, "compile", lambda function, **options: function)


def test_compiled_generation_matches_the_plain_one_and_adapter_switches_do_not_recompile(engine, models_dir,
                                                                                         dynamo_compile):
    check_compiled_engine(engine, compiled_engine(models_dir))


@pytest.mark.slow
@pytest.mark.inductor
def test_the_inductor_compiled_engine_matches_the_plain_one(engine, models_dir):
    check_compiled_engine(engine, compiled_engine(models_dir))


def check_compiled_engine(engine: Engine, compiled: Engine) -> None:
    plain_base, compiled_base = pixels(engine), pixels(compiled)
    assert close(plain_base, compiled_base)
    report = compiled.compile_report()
    assert report.compiled and report.fused_projections and report.fallback_reason is None
    assert report.compile_seconds > 0 and report.compilations >= 2  # the UNet and the VAE decoder

    assert close(pixels(engine, model_name="shoesA"), pixels(compiled, model_name="shoesA"))
    after_first_adapter = compiled.compile_report().compilations
    for model in ("shoesB", "shoesA", None, "shoesB/checkpoint-4"):
        assert close(pixels(engine, model_name=model), pixels(compiled, model_name=model)), model
    assert compiled.compile_report().compilations == after_first_adapter  # switching changes weights, not graphs
    assert not close(pixels(compiled, model_name="shoesA"), compiled_base)  # the adapter really applies


def test_a_failing_torch_compile_falls_back_to_the_plain_pipeline_naming_the_reason(engine, models_dir,
                                                                                    uncompilable, caplog):
    with caplog.at_level(logging.WARNING, logger="shoegen.engine"):
        fallback = compiled_engine(models_dir)
        image = pixels(fallback)
    assert np.array_equal(image, pixels(engine))  # the plain pipeline: unfused, default layout, the same pixels
    assert np.array_equal(pixels(fallback, model_name="shoesA"), pixels(engine, model_name="shoesA"))
    report = fallback.compile_report()
    assert not report.compiled and not report.fused_projections
    assert report.fallback_reason == "RuntimeError: torch.compile is not supported on this platform"
    warned = [record.getMessage() for record in caplog.records
              if record.name == "shoegen.engine" and record.levelno == logging.WARNING]
    assert warned == ["--compile: torch.compile failed (RuntimeError: torch.compile is not supported on this "
                      "platform); generating with the plain pipeline"]


def test_a_compile_error_at_the_first_generation_falls_back_and_the_generation_still_answers(engine, models_dir,
                                                                                            monkeypatch):
    """Inductor fails at the first call, not when torch.compile wraps the function: the generation reruns plain."""
    from torch._inductor.exc import InductorError, InvalidCxxCompiler

    def compile_without_a_compiler(function, **options):
        def compiled(*args, **kwargs):
            raise InductorError(InvalidCxxCompiler("no-such-c-compiler"), None)
        return compiled

    monkeypatch.setattr(torch, "compile", compile_without_a_compiler)
    fallback = compiled_engine(models_dir)
    steps = []
    result = fallback.generate(GenerationRequest(**REQUEST),
                               on_progress=lambda step, total, preview: steps.append(step))
    assert np.array_equal(np.asarray(result.images[0].image).astype(int), pixels(engine))
    assert steps == [1, 2]  # the failure came before the first step ended: progress runs once
    reason = fallback.compile_report().fallback_reason
    assert reason == "InductorError: InvalidCxxCompiler: Compiler: no-such-c-compiler is not found."


def test_fused_projections_carry_the_folded_adapters(engine, models_dir, eager_compile):
    """Every adapter's pixels are the plain engine's: the folded weights reach the fused q/k/v layers after every
    switch (diffusers' fused layers are copies made when fusing)."""
    fused = compiled_engine(models_dir)
    fused.load()
    assert fused.compile_report().fused_projections
    for model in ("shoesA", "shoesB", "shoesA", None):
        assert close(pixels(engine, model_name=model), pixels(fused, model_name=model)), model


def test_adapters_that_cannot_be_folded_run_with_the_projections_unfused(engine, models_dir, eager_compile,
                                                                        monkeypatch):
    """DoRA adapters run as peft branches, which the fused projections would skip: the UNet runs unfused while they
    are active, fused again after."""
    fused = compiled_engine(models_dir)
    base = pixels(fused)
    with monkeypatch.context() as patched:
        patched.setattr("shoegen.engine.engine.can_fold", lambda layers, adapters: False)
        branched = pixels(fused, model_name="shoesA")
    assert close(branched, pixels(engine, model_name="shoesA"))
    assert not close(branched, base)
    assert close(pixels(fused), base)
    assert close(pixels(fused, model_name="shoesA"), branched)
