"""How the generation engine runs its warm pipeline: plain (the default) or compiled.

Read from the environment (SHOEGEN_COMPILE, SHOEGEN_COMPILE_MODE) when built, never at import; the commands'
`--compile` and `--compile-mode` flags are passed in as values and win. The service's settings include these."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from shoegen.config.models import ENV_PREFIX

CompileMode = Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"]


class EngineSettings(BaseSettings):
    """The engine's opt-in speed-ups; the defaults run diffusers' pipeline as it is."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, use_attribute_docstrings=True, extra="ignore",
                                      populate_by_name=True)

    compile: bool = False
    """Opt-in compiled engine (also SHOEGEN_COMPILE=1): torch.compile of the UNet and the VAE decoder,
    channels_last memory layout and fused attention projections (one q/k/v matmul). LoRA adapters keep working and
    switch without recompiling: the engine folds them into the weights and copies those into the fused
    projections (adapters that cannot be folded, DoRA, run with the projections unfused). Compiling happens at the
    first generation of each size and batch and costs warm-up time, reported when it happens (about a minute per
    shape on a small CPU from a cold cache, seconds once inductor's on-disk cache holds it); it pays off on a GPU
    over many images, hardly on a CPU. If compiling fails (no C compiler, an inductor error), generation falls
    back to the plain pipeline with a one-line warning naming the reason."""
    compile_mode: CompileMode = "default"
    """torch.compile's mode with --compile (also SHOEGEN_COMPILE_MODE): `default` (inductor's fused kernels, the
    shortest warm-up), `reduce-overhead` (adds CUDA graphs: faster at small batches on a GPU, more memory per
    shape), `max-autotune` (also benchmarks kernel choices: the longest warm-up), `max-autotune-no-cudagraphs`."""
