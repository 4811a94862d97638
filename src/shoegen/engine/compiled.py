"""The opt-in compiled engine (`--compile`, `EngineSettings.compile`): what it changes in a warm pipeline, and why.

- channels_last on the UNet and the VAE: convolutions in NHWC, the layout inductor's and cuDNN's fast kernels want.
- Fused attention projections (diffusers' `pipeline.fuse_qkv_projections()`): one matmul for q, k and v in
  self-attention, one for k and v in cross-attention. diffusers copies the weights into new `to_qkv` / `to_kv`
  layers when fusing, and its fused processor calls only those, so whatever later changes `to_q`/`to_k`/`to_v`
  is silently ignored: peft's LoRA branches on them, and adapters folded into their weights. The engine folds
  adapters into the weights (`fusion.py`), so after every fold or restore `sync` copies the folded weights into
  the fused layers again: the fused model runs exactly the adapters asked for. Adapters that cannot be folded
  (DoRA) run as peft branches, which need the unfused processors: while one is active the UNet runs unfused.
- torch.compile of the UNet's and the VAE decoder's `forward` (the text encoder runs once per request and the VAE
  encoder only for img2img: they stay eager). Compiling happens at the first call of each shape; `dynamic=None`
  is torch's automatic dynamic shapes: the first shape compiles static, a second one of the same module
  recompiles with symbolic sizes that later shapes reuse. Switching adapters recompiles nothing: folding changes
  weight values in place, and the compiled graphs read the weights as inputs (measured with `CompileClock`:
  benchmarks/generation_speed.py and tests/engine/test_compiled.py). Loading a new adapter wraps layers in peft's
  LoRA layers, which dynamo traces anew (their branches disabled: the same kernels, so inductor's cache answers).
- Any failure to compile (no C compiler, an inductor or dynamo error, torch.compile refusing the platform) undoes
  all three for good and reruns the generation on the plain pipeline, with one warning naming the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import torch

log = logging.getLogger("shoegen.engine")
# torch recompiles a function at most 8 times by default, then runs it eagerly with a warning; a server seeing
# many sizes, batches and samplers' timestep dtypes may need more.
RECOMPILE_LIMIT = 64


class CompileClock:
    """Seconds torch has spent compiling in this process (dynamo tracing, inductor, CUDA graph recording) and how
    many compilations, from dynamo's compile callbacks. One per process: `compile_clock()`."""

    def __init__(self):
        from torch._dynamo.callback import callback_handler

        self.seconds = 0.0
        self.compilations = 0
        self._started: float | None = None
        self._lock = threading.Lock()
        callback_handler.register_start_callback(self._start)
        callback_handler.register_end_callback(self._end)

    def _start(self, _args) -> None:
        with self._lock:
            self._started = time.perf_counter()

    def _end(self, _args) -> None:
        with self._lock:
            if self._started is not None:
                self.seconds += time.perf_counter() - self._started
                self.compilations += 1
                self._started = None


_clock: CompileClock | None = None
_clock_lock = threading.Lock()


def compile_clock() -> CompileClock:
    global _clock
    with _clock_lock:
        if _clock is None:
            _clock = CompileClock()
        return _clock


@dataclass
class CompileReport:
    """What `--compile` did in this engine, for logs, `shoegen generate`'s output and the benchmarks."""

    mode: str
    """torch.compile's mode."""
    fused_projections: bool
    """The UNet's attention projections are fused (False when the base's attention cannot be fused)."""
    compiled: bool
    """torch.compile is in use; False after a fallback."""
    fallback_reason: str | None
    """Why generation runs without torch.compile, one line; None while it compiles."""
    compile_seconds: float
    """Seconds spent compiling so far (the warm-up: the first generation of each shape)."""
    compilations: int
    """Graphs compiled so far (recompiles included)."""


def is_compile_error(error: BaseException) -> bool:
    """Errors torch.compile raises while compiling (dynamo, inductor, a missing C compiler), as opposed to the
    model's own errors."""
    from torch._dynamo.exc import TorchDynamoException

    return isinstance(error, TorchDynamoException)


def one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= 240 else text[:237] + "..."


class CompiledPipeline:
    """Applies channels_last, fused projections and torch.compile to a loaded pipeline (its UNet and VAE are shared
    with the engine's img2img pipeline, so both run compiled)."""

    def __init__(self, pipeline, mode: str):
        self.mode = mode
        self.pipeline = pipeline
        self.unet = pipeline.unet
        self.fallback_reason: str | None = None
        self._clock = compile_clock()
        self._seconds_at_start, self._compilations_at_start = self._clock.seconds, self._clock.compilations
        self._compiled_modules = [pipeline.unet, pipeline.vae.decoder]
        # Generation never trains: frozen now, as peft freezes the base when it loads the first adapter. Dynamo
        # guards on requires_grad, so without this that first adapter would recompile everything.
        pipeline.unet.requires_grad_(False)
        pipeline.vae.requires_grad_(False)
        pipeline.unet.to(memory_format=torch.channels_last)
        pipeline.vae.to(memory_format=torch.channels_last)
        self.fused = self._fuse(pipeline)
        self._unfused_for_branches = False
        self._synced_version = -1
        self._compile()

    # ---------------------------------------------------------------- set-up
    @staticmethod
    def _fuse(pipeline) -> bool:
        try:
            pipeline.fuse_qkv_projections(unet=True, vae=True)
        except (ValueError, AttributeError, NotImplementedError) as error:  # e.g. attention with added KV
            log.warning("--compile: attention projections stay unfused (%s)", one_line(error))
        return bool(getattr(pipeline, "fusing_unet", False))

    def _compile(self) -> None:
        import torch._dynamo

        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, RECOMPILE_LIMIT)
        try:
            for module in self._compiled_modules:
                # The bound forward, not the module: peft and diffusers keep seeing the plain module type (LoRA
                # loading looks for it), the img2img pipeline sharing the module runs compiled too, and
                # `fall_back` undoes it by deleting the attribute.
                module.forward = torch.compile(module.forward, mode=self.mode, dynamic=None)
        except Exception as error:  # torch.compile itself refused (an unsupported Python or platform)
            self.fall_back(error)

    @property
    def active(self) -> bool:
        return self.fallback_reason is None

    def fall_back(self, error: BaseException) -> None:
        """Run the plain pipeline from now on: uncompiled, unfused, in the default layout; warn once, naming the
        reason."""
        for module in self._compiled_modules:
            module.__dict__.pop("forward", None)
        if self.fused:
            self.pipeline.unfuse_qkv_projections(unet=True, vae=bool(getattr(self.pipeline, "fusing_vae", False)))
            self.fused = False
        self.pipeline.unet.to(memory_format=torch.contiguous_format)
        self.pipeline.vae.to(memory_format=torch.contiguous_format)
        self.fallback_reason = one_line(error)
        log.warning("--compile: torch.compile failed (%s); generating with the plain pipeline",
                    self.fallback_reason)

    # -------------------------------------------------------------- adapters
    @torch.no_grad()
    def sync(self, weights_version: int, branches_on: bool) -> None:
        """After the engine changed adapters: the fused layers get the (folded) weights of q, k and v, and the
        UNet runs unfused while peft branches are on (their to_q/to_k/to_v branches would be skipped)."""
        if not self.fused:
            return
        from diffusers.models.attention_processor import FusedAttnProcessor2_0

        if branches_on and not self._unfused_for_branches:
            self.unet.unfuse_qkv_projections()  # back to the processors that call to_q, to_k and to_v
            self._unfused_for_branches = True
        elif not branches_on and self._unfused_for_branches:
            self.unet.set_attn_processor(FusedAttnProcessor2_0())
            self._unfused_for_branches = False
            self._synced_version = -1
        if branches_on or weights_version == self._synced_version:
            return
        refresh_fused_projections(self.unet)
        self._synced_version = weights_version

    # --------------------------------------------------------------- reports
    def clock(self) -> float:
        return self._clock.seconds

    def report(self) -> CompileReport:
        return CompileReport(mode=self.mode, fused_projections=self.fused, compiled=self.active,
                             fallback_reason=self.fallback_reason,
                             compile_seconds=round(self._clock.seconds - self._seconds_at_start, 3),
                             compilations=self._clock.compilations - self._compilations_at_start)


def refresh_fused_projections(model: torch.nn.Module) -> None:
    """Copy each fused attention's q/k/v weights (through peft's wrappers: their base weights, adapters folded in)
    into its `to_qkv` / `to_kv` layer, in place, so compiled graphs see the new values without recompiling."""
    from diffusers.models.attention_processor import Attention

    for module in model.modules():
        if not (isinstance(module, Attention) and getattr(module, "fused_projections", False)):
            continue
        parts = [module.to_k, module.to_v] if module.is_cross_attention else [module.to_q, module.to_k, module.to_v]
        fused = module.to_kv if module.is_cross_attention else module.to_qkv
        fused.weight.copy_(torch.cat([part.weight for part in parts]))
        if fused.bias is not None:
            fused.bias.copy_(torch.cat([part.bias for part in parts]))
