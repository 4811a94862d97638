"""The generation engine: one warm pipeline per base model and device, LoRA adapters loaded once and
folded into the weights per request, progress and cancellation between denoising steps. Knows nothing of HTTP."""

from __future__ import annotations

import random
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from shoegen.engine.fusion import FoldedAdapters, can_fold, lora_layers
from shoegen.engine.models import ModelEntry, discover_adapters, find_adapter
from shoegen.engine.prompts import LoraRef, extract_lora_tags, token_report
from shoegen.engine.samplers import DEFAULT_SAMPLER, find_sampler, make_scheduler
from shoegen.errors import ShoegenError
from shoegen.storage.params import ImageParams, LoraWeight

MAX_SIDE = 2048
MAX_SEED = 2**32 - 1
# SD1.x latent channels → RGB, a cheap linear preview without the VAE (the community's "approx cheap" factors).
LATENT_RGB_FACTORS = torch.tensor([[0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350],
                                   [-0.2829, 0.1762, 0.2721], [-0.2120, -0.2616, -0.7177]])


class GenerationCancelled(Exception):
    """The request was cancelled between two denoising steps."""


@dataclass
class GenerationRequest:
    prompt: str
    negative_prompt: str = ""
    model: str | None = None  # an adapter name applied at weight 1, or None / the base model's name
    loras: list[LoraRef] = field(default_factory=list)
    sampler: str = DEFAULT_SAMPLER
    steps: int = 30
    guidance_scale: float = 7.5
    width: int = 512
    height: int = 512
    num_images: int = 1
    seed: int | None = None
    init_image: Image.Image | None = None
    strength: float = 0.75

    def validate(self) -> None:
        for name, side in (("width", self.width), ("height", self.height)):
            if side % 8 or not 64 <= side <= MAX_SIDE:
                raise ShoegenError(f"{name} must be a multiple of 8 between 64 and {MAX_SIDE}, not {side}")
        if not 1 <= self.steps <= 200:
            raise ShoegenError(f"steps must be between 1 and 200, not {self.steps}")
        if not 1 <= self.num_images <= 16:
            raise ShoegenError(f"num_images must be between 1 and 16, not {self.num_images}")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise ShoegenError(f"seed must be between 0 and {MAX_SEED}, not {self.seed}")
        if self.init_image is not None and not 0.0 < self.strength <= 1.0:
            raise ShoegenError(f"strength must be in (0, 1], not {self.strength}")
        if self.init_image is not None and int(self.steps * self.strength) < 1:
            raise ShoegenError(f"img2img runs steps x strength denoising steps: {self.steps} x {self.strength} "
                               "is less than one; raise steps or strength")
        find_sampler(self.sampler)


@dataclass
class GeneratedImage:
    image: Image.Image
    seed: int
    metadata: dict

    @property
    def params(self) -> ImageParams:
        """The parameters in the gallery's and the PNG's form."""
        core = ("prompt", "negative_prompt", "model", "loras", "seed", "steps", "guidance_scale", "sampler",
                "width", "height", "strength")
        m = self.metadata
        return ImageParams(
            prompt=m["prompt"], negative_prompt=m["negative_prompt"], model=m["model"],
            loras=[LoraWeight(lora["name"], lora["weight"]) for lora in m["loras"]], seed=self.seed,
            steps=m["steps"], guidance_scale=m["guidance_scale"], sampler=m["sampler"], width=m["width"],
            height=m["height"], strength=m.get("strength"), extra={k: v for k, v in m.items() if k not in core},
        )


@dataclass
class GenerationResult:
    images: list[GeneratedImage]
    seconds: float


ProgressCallback = Callable[[int, int, Image.Image | None], None]


class Engine:
    """Thread-safe (one generation at a time); `generate` is the one entry point."""

    def __init__(self, base_model: str, models_dir: Path | None = None, device: str | None = None,
                 max_adapters: int = 8, preview_every: int = 0):
        self.base_model = base_model
        self.models_dir = models_dir
        self.device = torch.device(device or _default_device())
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.max_adapters = max_adapters
        self.preview_every = preview_every
        self._lock = threading.Lock()
        self._pipeline = None
        self._img2img = None
        self._base_scheduler_config = None
        self._adapters: OrderedDict[str, str] = OrderedDict()  # model name → peft adapter name, LRU order
        self._folded = FoldedAdapters()
        self._branches_on = False  # peft's LoRA branches run (only for adapters that cannot be folded)

    # ------------------------------------------------------------------ models
    def list_models(self) -> list[ModelEntry]:
        base = ModelEntry(self.base_model, Path(self.base_model), "base")
        return [base, *discover_adapters(self.models_dir)]

    def loaded_adapters(self) -> list[str]:
        return list(self._adapters)

    @property
    def is_loaded(self) -> bool:
        return self._pipeline is not None

    def load(self):
        """Load the base pipeline once (first request, or at service start to warm up)."""
        if self._pipeline is None:
            from diffusers import StableDiffusionImg2ImgPipeline

            from shoegen.models.resolve import load_pipeline

            pipeline = load_pipeline(self.base_model)
            pipeline.to(self.device)
            if self.dtype != torch.float32:
                pipeline.to(dtype=self.dtype)
            pipeline.set_progress_bar_config(disable=True)
            self._base_scheduler_config = pipeline.scheduler.config
            self._img2img = StableDiffusionImg2ImgPipeline(**pipeline.components, requires_safety_checker=False)
            self._img2img.set_progress_bar_config(disable=True)
            self._pipeline = pipeline
        return self._pipeline

    # --------------------------------------------------------------- adapters
    def _activate(self, refs: list[LoraRef]) -> None:
        """Load what is missing (evicting the least recently used that this request does not need) and run
        exactly these adapters, folded into the weights (see `fusion`)."""
        pipeline = self._pipeline
        needed = {ref.name for ref in refs}
        loaded = False
        for ref in refs:
            if ref.name in self._adapters:
                self._adapters.move_to_end(ref.name)
                continue
            entry = find_adapter(self.models_dir, ref.name)
            adapter_name = f"a{len(self._adapters)}_{time.monotonic_ns()}"
            with warnings.catch_warnings():
                # peft notes that the UNet already holds adapters: holding several is the point here.
                warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                pipeline.load_lora_weights(str(entry.path.parent), weight_name=entry.path.name,
                                           adapter_name=adapter_name)
            self._adapters[ref.name] = adapter_name
            loaded = True
        combination = tuple((self._adapters[ref.name], ref.weight) for ref in refs)
        if combination != self._folded.current:
            self._folded.restore()  # before an adapter folded into the weights can be deleted
        evictable = [name for name in self._adapters if name not in needed]
        while len(self._adapters) > self.max_adapters and evictable:
            pipeline.delete_adapters(self._adapters.pop(evictable.pop(0)))
        if not self._adapters or (combination == self._folded.current and not loaded and not self._branches_on):
            return  # nothing loaded, or exactly these adapters are folded in already: no module walk per request
        layers = lora_layers([pipeline.unet, pipeline.text_encoder])
        if can_fold(layers, [name for name, _ in combination]):
            if loaded or self._branches_on:
                pipeline.disable_lora()  # loading switches the new adapter's branches on
                self._branches_on = False
            self._folded.fold(layers, combination)
        else:
            pipeline.enable_lora()
            pipeline.set_adapters([name for name, _ in combination], adapter_weights=[w for _, w in combination])
            self._branches_on = True

    def _requested_adapters(self, request: GenerationRequest) -> tuple[str, list[LoraRef]]:
        prompt, tagged = extract_lora_tags(request.prompt)
        refs: list[LoraRef] = []
        if request.model and request.model != self.base_model:
            refs.append(LoraRef(request.model, 1.0))
        for ref in [*request.loras, *tagged]:
            refs = [r for r in refs if r.name != ref.name] + [ref]  # the last mention of a name wins
        return prompt, refs

    # --------------------------------------------------------------- generate
    def batch_key(self, request: GenerationRequest) -> tuple | None:
        """Requests with equal keys can share one pipeline call (prompts and seeds may differ); None for
        requests that run alone (img2img)."""
        if request.init_image is not None:
            return None
        _, refs = self._requested_adapters(request)
        return (tuple(refs), find_sampler(request.sampler).name, request.steps, request.guidance_scale,
                request.width, request.height)

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback | None = None,
                 should_cancel: Callable[[], bool] | None = None) -> GenerationResult:
        return self.generate_many([request], on_progress, should_cancel)[0]

    def generate_many(self, requests: list[GenerationRequest], on_progress: ProgressCallback | None = None,
                      should_cancel: Callable[[], bool] | None = None) -> list[GenerationResult]:
        """Several compatible requests (equal `batch_key`) in one pipeline call: one result per request.
        Image i of a request depends only on its seed; batched with others, its pixels can differ from a
        lone run by float rounding."""
        for request in requests:
            request.validate()
        if len(requests) > 1 and (None in (keys := {self.batch_key(r) for r in requests}) or len(keys) > 1):
            raise ValueError("generate_many needs requests with one batch_key")
        with self._lock:
            started = time.perf_counter()
            pipeline = self.load()
            prepared = []
            for request in requests:
                prompt, refs = self._requested_adapters(request)
                first_seed = request.seed if request.seed is not None else random.randint(0, MAX_SEED)
                seeds = [(first_seed + i) % (MAX_SEED + 1) for i in range(request.num_images)]
                prepared.append((request, prompt, refs, seeds))
            self._activate(prepared[0][2])
            prompts = [prompt for _, prompt, _, seeds in prepared for _ in seeds]
            negatives = [request.negative_prompt for request, _, _, seeds in prepared for _ in seeds]
            all_seeds = [seed for *_, seeds in prepared for seed in seeds]
            images = iter(self._run(pipeline, requests[0], prompts, negatives, all_seeds, on_progress,
                                    should_cancel))
            seconds = time.perf_counter() - started
            results = []
            for request, prompt, refs, seeds in prepared:
                metadata = self._metadata(request, prompt, refs)
                generated = [GeneratedImage(next(images), seed, {**metadata, "seed": seed}) for seed in seeds]
                results.append(GenerationResult(generated, seconds))
            return results

    def _run(self, pipeline, request, prompts, negatives, seeds, on_progress, should_cancel) -> list[Image.Image]:
        target = self._img2img if request.init_image is not None else pipeline
        target.scheduler = make_scheduler(find_sampler(request.sampler), self._base_scheduler_config)
        # One CPU generator per image: image i depends only on its own seed, on any device, in any batch.
        generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
        cancelled = False

        def step_end(pipe, step, timestep, tensors):
            nonlocal cancelled
            if on_progress is not None:
                preview = None
                if self.preview_every and (step + 1) % self.preview_every == 0:
                    preview = latent_preview(tensors["latents"][0])
                # The denoising iterations actually run: img2img runs steps x strength, PNDM one extra.
                on_progress(step + 1, pipe.num_timesteps, preview)
            if should_cancel is not None and should_cancel():
                cancelled = True
                pipe._interrupt = True
            return tensors

        common = dict(prompt=prompts, negative_prompt=negatives if any(negatives) else None,
                      num_inference_steps=request.steps, guidance_scale=request.guidance_scale,
                      generator=generators, callback_on_step_end=step_end)
        with torch.inference_mode():
            if request.init_image is None:
                output = target(width=request.width, height=request.height, **common)
            else:
                init = request.init_image.convert("RGB").resize((request.width, request.height))
                output = target(image=[init] * len(seeds), strength=request.strength, **common)
        if cancelled:
            raise GenerationCancelled()
        return output.images

    def _metadata(self, request: GenerationRequest, prompt: str, refs: list[LoraRef]) -> dict:
        tokenizer = self._pipeline.tokenizer
        metadata = {
            "prompt": prompt, "negative_prompt": request.negative_prompt, "base_model": self.base_model,
            "model": request.model or self.base_model, "loras": [{"name": r.name, "weight": r.weight} for r in refs],
            "sampler": find_sampler(request.sampler).name, "steps": request.steps,
            "guidance_scale": request.guidance_scale, "width": request.width, "height": request.height,
            "device": str(self.device),
        }
        if request.init_image is not None:
            metadata["strength"] = request.strength
        for key, text in (("prompt", prompt), ("negative_prompt", request.negative_prompt)):
            report = token_report(tokenizer, text)
            if report.truncated:
                metadata[f"{key}_truncated"] = {"tokens": report.tokens, "limit": report.limit,
                                                "dropped_text": report.dropped_text}
        return metadata


def latent_preview(latents: torch.Tensor) -> Image.Image:
    """A small RGB picture of (4, h, w) latents, without running the VAE."""
    rgb = torch.einsum("chw,cr->hwr", latents.float().cpu(), LATENT_RGB_FACTORS)
    rgb = ((rgb + 1) / 2).clamp(0, 1).mul(255).byte().numpy()
    return Image.fromarray(rgb).resize((latents.shape[-1] * 4, latents.shape[-2] * 4))


def _default_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"
