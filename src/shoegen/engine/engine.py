"""The generation engine: one warm pipeline per base model and device, LoRA adapters loaded once and
folded into the weights per request, progress and cancellation between denoising steps, and, opted in, the
pipeline compiled (`compiled.py`). Knows nothing of HTTP."""

from __future__ import annotations

import hashlib
import logging
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
from pydantic import ConfigDict, Field

from shoegen.config.engine import EngineSettings
from shoegen.config.generation import (MASK_MODES, MAX_REQUEST_SEED, GenerationParams, GenerationSettings,
                                       ImageParams, LoraWeight, check_size)
from shoegen.config.samplers import find_sampler
from shoegen.engine.compiled import CompiledPipeline, CompileReport, is_compile_error
from shoegen.engine import modes
from shoegen.engine.fusion import FoldedAdapters, can_fold, lora_layers
from shoegen.engine.prompts import extract_lora_tags, token_report
from shoegen.engine.samplers import make_scheduler
from shoegen.errors import ShoegenError
from shoegen.models.resolve import BaseFacts, base_facts_of, read_base_facts, same_lora_layout
from shoegen.models.upscalers import LANCZOS, Upscaler, load_upscaler, upscaler_names
from shoegen.training.runs import ModelEntry, discover_adapters, find_adapter, trained_on

MAX_WARNED = 1000
"""Distinct warnings the engine remembers having logged (each is logged once while remembered)."""
log = logging.getLogger("shoegen.engine")
# SD1.x latent channels → RGB, a cheap linear preview without the VAE (the community's "approx cheap" factors).
LATENT_RGB_FACTORS = torch.tensor([[0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350],
                                   [-0.2829, 0.1762, 0.2721], [-0.2120, -0.2616, -0.7177]])
# A side under half or over twice the base's native size draws noise, stretched or repeated products.
FAR_FROM_NATIVE = 2.0


class GenerationCancelled(Exception):
    """The request was cancelled between two denoising steps."""


class GenerationRequest(GenerationParams):
    """The parameters, plus img2img's start image (which the parameters' other forms carry as a file or base64)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    init_image: Image.Image | None = Field(None, exclude=True)
    """img2img: start from this image instead of noise; inpaint, background, outpaint: the photo."""
    mask_image: Image.Image | None = Field(None, exclude=True)
    """inpaint: white where the photo is repainted; background: white on the product (found when absent)."""
    control_images: tuple[Image.Image | None, ...] = Field((), exclude=True)
    """One per ControlNet (None, or missing: the photo)."""

    @property
    def resolved_mode(self) -> str:
        return self.mode or ("img2img" if self.init_image is not None else "txt2img")


@dataclass
class GeneratedImage:
    image: Image.Image
    params: ImageParams

    @property
    def seed(self) -> int:
        return self.params.seed


@dataclass
class GenerationResult:
    images: list[GeneratedImage]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    """Things the caller should tell the user, e.g. a size far from the base's native size."""
    compile_seconds: float = 0.0
    """Of `seconds`, the time torch spent compiling (with `compile`: the first generation of a new shape)."""


ProgressCallback = Callable[[int, int, Image.Image | None], None]


class Engine:
    """Thread-safe (one generation at a time); `generate` is the one entry point."""

    def __init__(self, base_model: str, models_dir: Path | None = None, device: str | None = None,
                 max_adapters: int = 8, preview_every: int = 0, settings: EngineSettings | None = None):
        self.base_model = base_model
        self.models_dir = models_dir
        self.device = torch.device(device or _default_device())
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.max_adapters = max_adapters
        self.preview_every = preview_every
        # Not EngineSettings(): the engine reads no environment; the CLI and the service pass what they read.
        self.settings = settings or EngineSettings.model_construct()
        self._compiled: CompiledPipeline | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._pipeline = None
        self._configured: BaseFacts | bool | None = None  # the base's configuration files' facts; False: none
        self._img2img = None
        self._inpaint = None
        self._controlnets: dict[str, object] = {}  # ControlNets by name, loaded on first use
        self._upscalers: dict[str, Upscaler] = {}  # the hires fix's upscaler models by name, loaded on first use
        self._base_scheduler_config = None
        self._adapters: OrderedDict[str, str] = OrderedDict()  # model name → peft adapter name, LRU order
        self._folded = FoldedAdapters()
        self._branches_on = False  # peft's LoRA branches run (only for adapters that cannot be folded)
        self._warned: set[str] = set()  # the warnings logged once (a batch of a thousand images warns once)
        self._notes: list[str] = []  # what the last call should tell its caller (e.g. a resized mask)

    # ------------------------------------------------------------------ models
    def list_models(self) -> list[ModelEntry]:
        base = ModelEntry(self.base_model, Path(self.base_model), "base")
        return [base, *discover_adapters(self.models_dir)]

    def loaded_adapters(self) -> list[str]:
        return list(self._adapters)

    @property
    def is_loaded(self) -> bool:
        return self._pipeline is not None

    def base_facts(self, load: bool = True) -> BaseFacts | None:
        """The base's native size, text encoder depth and UNet inputs: the loaded pipeline's; before it is loaded,
        its configuration files' (no weights read: an API-only replica never loads the base); where only loading
        tells (a single-file checkpoint), the base is loaded when `load`, else None."""
        pipeline = self._pipeline
        if pipeline is not None:
            return base_facts_of(pipeline.unet.config, pipeline.vae.config, pipeline.text_encoder.config.to_dict())
        if self._configured is None:
            self._configured = read_base_facts(self.base_model) or False
        if self._configured:
            return self._configured
        if not load:
            return None
        self.load()
        return self.base_facts()

    def check_clip_skip(self, clip_skip: int, name: str = "clip_skip") -> None:
        """Refuse a Clip skip deeper than the base's text encoder (`name`: how the caller's field is called). Where
        only loading the base tells its depth, nothing is refused before it is loaded (a request is checked again
        once it is)."""
        facts = self.base_facts(load=False)
        layers = None if facts is None else facts.text_encoder_layers
        if layers is not None and clip_skip > layers:
            raise ShoegenError(f"{name} {clip_skip}: this base's text encoder has {layers} layers, so {name} can be at "
                               f"most {layers}")

    def native_size(self) -> tuple[int, int]:
        """(width, height) the base was trained at, the default size of every request (from its configuration, or
        loading it where only that tells)."""
        side = self.base_facts().native_side
        return side, side

    def memory(self) -> dict[str, float]:
        """This process's resident memory and, on CUDA, the device memory in use and its peak, in MiB."""
        import psutil

        report = {"rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1)}
        if self.device.type == "cuda":
            report["cuda_allocated_mb"] = round(torch.cuda.memory_allocated(self.device) / 2**20, 1)
            report["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1)
        return report

    def load(self):
        """Load the base pipeline once (first request, or at service start to warm up)."""
        with self._load_lock:  # a listing asking for the native size may race the first request
            return self._pipeline if self._pipeline is not None else self._load()

    def _load(self):
        from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline

        from shoegen.models.resolve import load_pipeline

        pipeline = load_pipeline(self.base_model)
        pipeline.to(self.device)
        if self.dtype != torch.float32:
            pipeline.to(dtype=self.dtype)
        pipeline.set_progress_bar_config(disable=True)
        self._base_scheduler_config = pipeline.scheduler.config
        self._img2img = StableDiffusionImg2ImgPipeline(**pipeline.components, requires_safety_checker=False)
        self._img2img.set_progress_bar_config(disable=True)
        self._inpaint = StableDiffusionInpaintPipeline(**pipeline.components, requires_safety_checker=False)
        self._inpaint.set_progress_bar_config(disable=True)
        if self.settings.compile:
            self._compiled = CompiledPipeline(pipeline, self.settings.compile_mode)
        self._pipeline = pipeline
        return pipeline

    def compile_report(self) -> CompileReport | None:
        """What `compile` did: fused projections, the mode, the warm-up so far, a fallback's reason (None when
        the engine runs plain)."""
        return self._compiled.report() if self._compiled is not None else None

    def warm_up(self) -> float:
        """Compile for the most common request now (one image at the native size, guidance on), instead of in the
        first user's request: the service calls this at start. Returns the seconds spent compiling (0 when the
        engine runs plain: then it generates nothing)."""
        width, height = self.native_size()
        if self._compiled is None or not self._compiled.active:
            return 0.0
        result = self.generate(GenerationRequest(prompt="a product photo", num_inference_steps=2, seed=0,
                                                 width=width, height=height))
        return result.compile_seconds

    # --------------------------------------------------------------- adapters
    def _activate(self, refs: list[LoraWeight]) -> None:
        self._activate_adapters(refs)
        if self._compiled is not None:
            self._compiled.sync(self._folded.version, self._branches_on)

    def _activate_adapters(self, refs: list[LoraWeight]) -> None:
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
            try:
                self._load_adapter(pipeline, ref.name, entry.path, adapter_name)
            except ShoegenError:
                base = trained_on(self.models_dir, entry)
                if base is None or same_lora_layout(base, self.base_model) is not False:
                    raise
                raise ShoegenError(
                    f"could not load the LoRA adapter {ref.name!r}: it was trained on the base {base!r} (its "
                    f"run.yaml), whose layers differ from those of {self.base_model!r}, the base this generates "
                    f"with; generate it with the base {base!r} (--base-model {base}, or a server started with "
                    "it)") from None
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

    @staticmethod
    def _load_adapter(pipeline, name: str, path: Path, adapter_name: str) -> None:
        """Load the adapter file `path` as `adapter_name`; a file that is no loadable LoRA (truncated, garbage, other
        keys or shapes) is a ShoegenError naming it, and leaves no half-loaded adapter behind."""
        try:
            with warnings.catch_warnings():
                # peft notes that the UNet already holds adapters: holding several is the point here.
                warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                pipeline.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=adapter_name)
        except (ShoegenError, torch.OutOfMemoryError):
            raise
        except Exception as error:
            # safetensors, diffusers and peft each fail in their own way (OSError, ValueError, IndexError, ...).
            if any(adapter_name in names for names in pipeline.get_list_adapters().values()):
                pipeline.delete_adapters(adapter_name)
            raise ShoegenError(
                f"could not load the LoRA adapter {name!r} from {path}: the file is damaged or is not an SD1.x LoRA "
                f"adapter ({_root_cause(error)}). Train or export it again, or remove it from the models folder."
            ) from None

    def _requested_adapters(self, request: GenerationRequest) -> tuple[str, list[LoraWeight]]:
        prompt, tagged = extract_lora_tags(request.prompt)
        refs: list[LoraWeight] = []
        if request.model_name and request.model_name != self.base_model:
            refs.append(LoraWeight(name=request.model_name))
        for ref in [*request.loras, *tagged]:
            refs = [r for r in refs if r.name != ref.name] + [ref]  # the last mention of a name wins
        return prompt, refs

    # --------------------------------------------------------------- generate
    def batch_key(self, request: GenerationRequest) -> tuple | None:
        """Requests with equal keys can share one pipeline call (prompts and seeds may differ); None for
        requests that run alone (img2img)."""
        if request.resolved_mode != "txt2img" or request.controlnets:
            return None
        _, refs = self._requested_adapters(request)
        return (tuple(refs), request.sampler, request.num_inference_steps, request.guidance_scale,
                request.clip_skip, request.width, request.height, request.hires_scale, request.hires_strength,
                request.hires_steps, request.hires_upscaler)

    def generate(self, request: GenerationRequest, on_progress: ProgressCallback | None = None,
                 should_cancel: Callable[[], bool] | None = None) -> GenerationResult:
        return self.generate_many([request], on_progress, should_cancel)[0]

    def generate_many(self, requests: list[GenerationRequest], on_progress: ProgressCallback | None = None,
                      should_cancel: Callable[[], bool] | None = None) -> list[GenerationResult]:
        """Several compatible requests (equal `batch_key`) in one pipeline call: one result per request.
        Image i of a request depends only on its seed; batched with others, its pixels can differ from a
        lone run by float rounding."""
        if len(requests) > 1 and (None in (keys := {self.batch_key(r) for r in requests}) or len(keys) > 1):
            raise ValueError("generate_many needs requests with one batch_key")
        with self._lock:
            started = time.perf_counter()
            pipeline = self.load()
            compiling_before = self._compiled.clock() if self._compiled is not None else 0.0
            native = self.native_size()
            for request in requests:
                self.check(request)
            size = self._size(requests[0], native)
            prepared = []
            for request in requests:
                prompt, refs = self._requested_adapters(request)
                first_seed = request.seed if request.seed is not None else \
                    random.randint(0, MAX_REQUEST_SEED + 1 - request.num_images)
                seeds = [first_seed + i for i in range(request.num_images)]
                prepared.append((request, prompt, refs, seeds))
            self._activate(prepared[0][2])
            prompts = [prompt for _, prompt, _, seeds in prepared for _ in seeds]
            negatives = [request.negative_prompt for request, _, _, seeds in prepared for _ in seeds]
            all_seeds = [seed for *_, seeds in prepared for seed in seeds]
            images = iter(self._run(pipeline, requests[0], size, prompts, negatives, all_seeds, on_progress,
                                    should_cancel))
            seconds = time.perf_counter() - started
            compile_seconds = self._compiled.clock() - compiling_before if self._compiled is not None else 0.0
            if compile_seconds:
                log.info("compiled for %dx%d, %d image(s) per call: %.1f s of warm-up (once per shape)", *size,
                         len(all_seeds), compile_seconds)
            notes = list(dict.fromkeys(note for note in [size_warning(size, native), *self._notes] if note))
            for note in notes:
                if note not in self._warned:
                    if len(self._warned) >= MAX_WARNED:  # a server's lifetime of distinct sizes: forget the old
                        self._warned.clear()
                    self._warned.add(note)
                    log.warning(note)
            results = []
            for request, prompt, refs, seeds in prepared:
                generated = []
                for seed in seeds:
                    image = next(images)
                    generated.append(GeneratedImage(image, self._image_params(request, prompt, refs, seed,
                                                                              image.size, size)))
                results.append(GenerationResult(generated, seconds, notes, compile_seconds))
            return results

    def _size(self, request: GenerationRequest, native: tuple[int, int], name: Callable[[str], str] = str
              ) -> tuple[int, int]:
        """The size the pipeline runs at: the request's; for a photo's mask mode without one, the photo's shape at
        about the native size (img2img keeps its square native default)."""
        if request.resolved_mode == "outpaint" and request.aspect_ratio and not (request.width and request.height):
            return modes.format_size(request.init_image, native, request.aspect_ratio, name("aspect_ratio"))
        if request.resolved_mode in MASK_MODES and not (request.width and request.height):
            width, height = modes.working_size(request.init_image, native)
            return request.width or width, request.height or height
        return request.width or native[0], request.height or native[1]

    def check(self, request: GenerationRequest, name: Callable[[str], str] = str) -> None:
        """Refuse what the parameters' own bounds cannot know: what each mode needs, img2img's effective steps and,
        from the base's configuration (or, where only that tells, once it is loaded), the size at its native
        default, an inpainting UNet's modes and the depth of its text encoder. Cheap, no weights loaded: callers
        that queue requests check them first. `name` is how the caller calls a request's field (the CLI: its
        flag)."""
        mode = request.resolved_mode
        the_mode = f"{name('mode')} {mode}"
        if mode != "txt2img" and request.init_image is None:
            raise ShoegenError(f"{the_mode} needs a photo to start from ({name('init_image')})")
        if mode == "txt2img" and request.init_image is not None:
            raise ShoegenError(f"{the_mode} takes no {name('init_image')}; use img2img, inpaint, background or "
                               "outpaint")
        if mode == "inpaint" and request.mask_image is None:
            raise ShoegenError(f"{the_mode} needs a mask ({name('mask_image')}): white where the photo is repainted")
        if mode == "outpaint" and not (request.width and request.height) and not request.aspect_ratio:
            raise ShoegenError(f"{the_mode} needs the new format: {name('aspect_ratio')} (e.g. 4:5), or "
                               f"{name('width')} and {name('height')}")
        if request.aspect_ratio and mode != "outpaint":
            raise ShoegenError(f"{name('aspect_ratio')} is the outpaint format; {the_mode} takes {name('width')} and "
                               f"{name('height')}")
        if request.mask_image is not None and mode not in ("inpaint", "background"):
            raise ShoegenError(f"{the_mode} takes no {name('mask_image')} (inpaint and background do)")
        if mode == "outpaint" and request.aspect_ratio and (request.width or request.height):
            raise ShoegenError(f"{name('aspect_ratio')} makes the canvas from the photo's shape, and {name('width')} "
                               f"/ {name('height')} would set it too: give {name('aspect_ratio')}, or "
                               f"{name('width')} and {name('height')}")
        if mode == "background" and request.mask_invert and request.mask_image is None:
            raise ShoegenError(f"{name('mask_invert')} inverts a given mask ({name('mask_image')}); without one, "
                               f"{the_mode} finds the product itself: give the mask, or drop {name('mask_invert')}")
        if mode == "outpaint" and request.outpaint_fill == "white" and request.controlnets:
            raise ShoegenError(f"a white outpaint generates nothing for a ControlNet to guide: drop "
                               f"{name('controlnets')}, or outpaint with another fill")
        if request.hires_scale is not None and mode == "outpaint" and request.outpaint_fill == "white":
            raise ShoegenError(f"a white outpaint generates nothing for the hires fix to refine: ask for the final "
                               f"{name('width')} and {name('height')} (or {name('aspect_ratio')}) without "
                               f"{name('hires_scale')}")
        if int(request.num_inference_steps * (_repaint_strength(request) or 1.0)) < 1:
            raise ShoegenError(f"{mode} runs steps x strength denoising steps: {request.num_inference_steps} x "
                               f"{request.strength} is less than one; raise {name('num_inference_steps')} or "
                               f"{name('strength')}")
        if len(request.control_images) > len(request.controlnets):
            raise ShoegenError(f"{len(request.control_images)} control images for {len(request.controlnets)} "
                               "ControlNets")
        for index, unit in enumerate(request.controlnets):
            given = request.control_images[index] if index < len(request.control_images) else None
            if given is None and request.init_image is None:
                raise ShoegenError(f"{name('controlnets')}[{index}] ({unit.model}) needs a control image, or a photo "
                                   f"({name('init_image')}) to take it from")
        upscaler = f"{name('hires_upscaler')} {request.hires_upscaler!r}"
        if request.hires_upscaler != LANCZOS:
            if request.hires_scale is None:
                raise ShoegenError(f"{upscaler} is the hires fix's upscaler: give {name('hires_scale')} too")
            if request.hires_upscaler not in upscaler_names(self.models_dir):
                raise ShoegenError(f"{upscaler}: not a file of MODELS_DIR/upscalers/ "
                                   f"(known: {', '.join(upscaler_names(self.models_dir))})")
        if request.hires_scale is not None and \
                int((request.hires_steps or request.num_inference_steps) * request.hires_strength) < 1:
            raise ShoegenError(f"the hires fix runs {name('hires_steps')} x {name('hires_strength')} denoising steps, "
                               "less than one here; raise them")
        facts = self.base_facts(load=False)
        if facts is None:
            return
        check_size(self._size(request, (facts.native_side,) * 2, name), request.hires_scale,
                   what=f"{name('width')} x {name('height')}", scale=name("hires_scale"))
        if facts.unet_in_channels == 9 and mode not in MASK_MODES:
            raise ShoegenError(f"{self.base_model} is an inpainting checkpoint (its UNet takes the mask): it does "
                               f"inpaint, background and outpaint, not {mode}; use an ordinary SD1.x base for that")
        self.check_clip_skip(request.clip_skip, name("clip_skip"))

    def _run(self, pipeline, request, size, prompts, negatives, seeds, on_progress, should_cancel) -> list[Image.Image]:
        """The images; with `compile`, a failure to compile switches to the plain modules and runs again (the UNet
        compiles in the first denoising step, the VAE decoder after the last: a rerun reports progress anew)."""
        args = (pipeline, request, size, prompts, negatives, seeds, on_progress, should_cancel)
        if self._compiled is None or not self._compiled.active:
            return self._denoise(*args)
        try:
            return self._denoise(*args)
        except Exception as error:
            if not is_compile_error(error):
                raise
            self._compiled.fall_back(error)
        return self._denoise(*args)

    def _denoise(self, pipeline, request, size, prompts, negatives, seeds, on_progress, should_cancel
                 ) -> list[Image.Image]:
        """The mode's pipeline call (for the mask modes, composed with the kept photo), then the hires fix's."""
        mode = request.resolved_mode
        self._notes = []
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

        def call(target, steps: int, **inputs) -> list[Image.Image]:
            target.scheduler = make_scheduler(find_sampler(request.sampler), self._base_scheduler_config)
            # One CPU generator per image: image i depends only on its own seed, on any device, in any batch.
            generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
            common = dict(num_inference_steps=steps, guidance_scale=request.guidance_scale, generator=generators,
                          callback_on_step_end=step_end)
            if request.clip_skip == 1:
                common |= dict(prompt=prompts, negative_prompt=negatives if any(negatives) else None)
            else:
                common |= dict(prompt_embeds=skipped_clip_embeddings(pipeline, prompts, request.clip_skip),
                               negative_prompt_embeds=skipped_clip_embeddings(pipeline, negatives, request.clip_skip))
            images = target(**common, **inputs).images
            if cancelled:
                raise GenerationCancelled()
            return images

        steps, count = request.num_inference_steps, len(seeds)
        with torch.inference_mode():
            if mode in MASK_MODES:
                planned = modes.plan(mode, request, request.init_image, request.mask_image, size)
                self._notes = list(planned.notes)
                if planned.repaint is None:  # a white outpaint: nothing to generate
                    return [planned.image.copy() for _ in seeds]
                target, control = self._with_controlnets("inpaint", request, size, planned.photo)
                generated = call(target, steps, image=[planned.image] * count, mask_image=[_mask(planned)] * count,
                                 strength=planned.strength, width=size[0], height=size[1], **control)
                images = [modes.compose(image, planned, request.mask_blur) for image in generated]
                if request.hires_scale is None:
                    return images
                # The second pass repaints what the first one did, at the new size, and keeps what it kept.
                refined = modes.refine(mode, request, planned, [self._upscale(image, request) for image in images],
                                       request.init_image, request.mask_image)
                width, height = refined[0].image.size
                generated = call(self._inpaint, request.hires_steps or steps, image=[plan.image for plan in refined],
                                 mask_image=[_mask(refined[0])] * count, strength=request.hires_strength,
                                 width=width, height=height)
                blur = round(request.mask_blur * width / size[0])
                return [modes.compose(image, plan, blur) for image, plan in zip(generated, refined)]
            if mode == "txt2img":
                target, control = self._with_controlnets(mode, request, size, None)
                images = call(target, steps, width=size[0], height=size[1], **control)
            else:
                init = request.init_image.convert("RGB").resize(size)
                self._notes = [note for note in [modes.reshape_note(request.init_image.size, size)] if note]
                target, control = self._with_controlnets(mode, request, size, init)
                images = call(target, steps, image=[init] * count, strength=request.strength, **control)
            if request.hires_scale is not None:
                images = call(self._img2img, request.hires_steps or steps, strength=request.hires_strength,
                              image=[self._upscale(image, request) for image in images])
        return images

    def _with_controlnets(self, kind: str, request: GenerationRequest, size: tuple[int, int],
                          photo: Image.Image | None) -> tuple[object, dict]:
        """The pipeline for `kind` (txt2img, img2img, inpaint) and its ControlNet arguments: the plain pipeline and
        none without ControlNets; else a ControlNet pipeline over the same components (built per call: it holds
        no weights of its own) with each unit's control image, scale, start and end."""
        plain = {"txt2img": self._pipeline, "img2img": self._img2img, "inpaint": self._inpaint}[kind]
        if not request.controlnets:
            return plain, {}
        from diffusers import (StableDiffusionControlNetImg2ImgPipeline, StableDiffusionControlNetInpaintPipeline,
                               StableDiffusionControlNetPipeline)
        from diffusers.models.controlnets import MultiControlNetModel

        units = request.controlnets
        models = [self._controlnet(unit.model) for unit in units]
        images = []
        for index, unit in enumerate(units):
            given = request.control_images[index] if index < len(request.control_images) else None
            if given is not None and (note := modes.reshape_note(given.size, size, f"ControlNet {unit.model}'s "
                                                                                   "control image")):
                self._notes.append(note)
            source = (given or photo or request.init_image).convert("RGB").resize(size, Image.Resampling.LANCZOS)
            images.append(modes.canny_edges(source) if unit.preprocessor == "canny" else source)  # one per batch
        single = len(units) == 1
        pipeline_class = {"txt2img": StableDiffusionControlNetPipeline,
                          "img2img": StableDiffusionControlNetImg2ImgPipeline,
                          "inpaint": StableDiffusionControlNetInpaintPipeline}[kind]
        target = pipeline_class(**self._pipeline.components, controlnet=models[0] if single else
                                MultiControlNetModel(models), requires_safety_checker=False)
        target.set_progress_bar_config(disable=True)
        arguments = {"controlnet_conditioning_scale": [unit.scale for unit in units],
                     "control_guidance_start": [unit.start for unit in units],
                     "control_guidance_end": [unit.end for unit in units]}
        if single:
            arguments = {key: value[0] for key, value in arguments.items()}
        arguments["image" if kind == "txt2img" else "control_image"] = images[0] if single else images
        return target, arguments

    def _upscale(self, image: Image.Image, request: GenerationRequest) -> Image.Image:
        """The hires fix's upscale of a first-pass image: by the request's upscaler model (loaded once, on the
        engine's device), then resized to `hires_scale` times the size; or by Lanczos alone."""
        model = None
        if request.hires_upscaler != LANCZOS:
            if request.hires_upscaler not in self._upscalers:
                self._upscalers[request.hires_upscaler] = load_upscaler(request.hires_upscaler, self.models_dir).to(
                    self.device, self.dtype)
            model = self._upscalers[request.hires_upscaler]
        return modes.upscale(image, request.hires_scale, model)

    def _controlnet(self, name: str):
        """A ControlNet by name, loaded once (on the engine's device and dtype)."""
        from shoegen.models.controlnets import load_controlnet

        if name not in self._controlnets:
            self._controlnets[name] = load_controlnet(name, self.models_dir, self.dtype).to(self.device)
        return self._controlnets[name]

    def _image_params(self, request: GenerationRequest, prompt: str, refs: list[LoraWeight], seed: int,
                      size: tuple[int, int], first_pass: tuple[int, int]) -> ImageParams:
        extra: dict = {"base_model": self.base_model, "device": str(self.device)}
        for key, text in (("prompt", prompt), ("negative_prompt", request.negative_prompt)):
            report = token_report(self._pipeline.tokenizer, text)
            if report.truncated:
                extra[f"{key}_truncated"] = {"tokens": report.tokens, "limit": report.limit,
                                             "dropped_text": report.dropped_text}
        mode = request.resolved_mode
        extra |= mode_record(request)
        if request.hires_scale is not None:  # the size the first pass ran at, which AUTOMATIC1111 writes as Size
            extra["mode_settings"]["first_pass_size"] = list(first_pass)
        settings = request.model_dump(include=set(GenerationSettings.model_fields))
        return ImageParams(**{**settings, "prompt": prompt, "loras": [ref.model_dump() for ref in refs]},
                           model_name=request.model_name or self.base_model, seed=seed, width=size[0], height=size[1],
                           strength=_repaint_strength(request), mode=mode,
                           extra=extra)


def _repaint_strength(request: GenerationRequest) -> float | None:
    """How much of the start image is repainted, where a mode takes a strength: img2img's and inpaint's, but 1.0
    for an inpaint from latent noise (the area starts from noise); None elsewhere (nothing is kept to repaint)."""
    mode = request.resolved_mode
    if mode == "inpaint" and request.masked_content == "latent_noise":
        return 1.0
    return request.strength if mode in ("img2img", "inpaint") else None


def _root_cause(error: BaseException) -> str:
    """The first line of the innermost error that `error` was raised from: diffusers' "Unable to load weights" hides
    safetensors' reason ("incomplete metadata, file not fully covered")."""
    seen = set()
    while (error.__cause__ or error.__context__) is not None and id(error) not in seen:
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _mask(planned: modes.Plan) -> Image.Image:
    """The inpainting pipeline's mask: white where the plan repaints."""
    return Image.fromarray((planned.repaint * 255).astype("uint8"))


def mode_record(request: GenerationRequest) -> dict:
    """What an image record keeps of its mode: the mode's settings and which photo and mask (their SHA-256)."""
    mode = request.resolved_mode
    fields = {"inpaint": ("mask_blur", "masked_content", "mask_invert"), "background": ("mask_blur", "mask_invert"),
              "outpaint": ("mask_blur", "outpaint_fill", "placement", "aspect_ratio")}.get(mode, ())
    if request.hires_scale is not None:
        fields += ("hires_scale", "hires_strength", "hires_steps", "hires_upscaler")
    record: dict = {name: getattr(request, name) for name in fields}
    if request.controlnets:
        record["controlnets"] = [unit.model_dump() for unit in request.controlnets]
        record["control_image_sha256"] = [None if image is None else _image_hash(image)
                                          for image in request.control_images]
    for key, image in (("init_image_sha256", request.init_image), ("mask_sha256", request.mask_image)):
        if image is not None:
            record[key] = _image_hash(image)
    if mode == "background" and request.mask_image is None:
        record["mask"] = "found automatically (data.masks.product_mask)"
    return {"mode_settings": record} if record else {}


def _image_hash(image: Image.Image) -> str:
    return hashlib.sha256(image.tobytes() + repr((image.mode, image.size)).encode()).hexdigest()


def skipped_clip_embeddings(pipeline, texts: list[str], clip_skip: int) -> torch.Tensor:
    """Prompt embeddings from the text encoder's layer `clip_skip` from the end (AUTOMATIC1111's Clip skip: 1 is
    the last), through the final layer norm as A1111 does. Computed here because diffusers' own `clip_skip`
    reaches for `text_encoder.text_model`, which transformers 5 no longer has."""
    tokenizer, encoder = pipeline.tokenizer, pipeline.text_encoder
    tokens = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                       return_tensors="pt").input_ids.to(encoder.device)
    hidden = encoder(tokens, output_hidden_states=True).hidden_states[-clip_skip]
    final_norm = getattr(encoder, "text_model", encoder).final_layer_norm
    return final_norm(hidden).to(pipeline.unet.dtype)


def size_warning(size: tuple[int, int], native: tuple[int, int]) -> str | None:
    """A sentence for a size far from the base's native one, or None."""
    width, height = size
    if max(width / native[0], height / native[1]) <= FAR_FROM_NATIVE and \
            min(width / native[0], height / native[1]) >= 1 / FAR_FROM_NATIVE:
        return None
    return (f"{width}x{height} is far from this base's native {native[0]}x{native[1]}: expect noise or repeated, "
            f"stretched products; generate at about {native[0]}x{native[1]} and upscale instead")


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
