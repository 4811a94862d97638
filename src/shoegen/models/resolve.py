"""Where a base model comes from: `tiny` (built in), a local diffusers folder, a single-file
`.safetensors`/`.ckpt` checkpoint, or a Hugging Face hub id. Every failure is one readable paragraph."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import filelock

from shoegen.errors import ShoegenError

BUILTIN_BASES = ("tiny", "demo")
BUILTIN_MARKER_FILE = "SHOEGEN_BUILTIN_VERSION"
SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")


def cache_dir() -> Path:
    """Where built-in bases are cached: $SHOEGEN_CACHE_DIR, else ~/.cache/shoegen."""
    configured = os.environ.get("SHOEGEN_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "shoegen"


@dataclass(frozen=True)
class BaseModelSource:
    """What `--pretrained_model_name_or_path` named, classified."""

    name: str
    kind: str  # "builtin" | "folder" | "single_file" | "hub"
    location: str  # folder or file path, or hub id


def classify(name_or_path: str) -> BaseModelSource:
    if name_or_path in BUILTIN_BASES:
        return BaseModelSource(name_or_path, "builtin", str(builtin_base_path(name_or_path, build=False)))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ShoegenError(
                f"{path} is a folder but not a diffusers model folder (it has no model_index.json). "
                "Point at a folder written by `save_pretrained`, a single .safetensors/.ckpt file, a hub id, "
                "or a built-in base (`demo`, `tiny`)."
            )
        return BaseModelSource(name_or_path, "folder", str(path.resolve()))
    if path.suffix.lower() in SINGLE_FILE_SUFFIXES:
        if not path.is_file():
            raise ShoegenError(f"Base model file {path} does not exist.")
        return BaseModelSource(name_or_path, "single_file", str(path.resolve()))
    if name_or_path.count("/") != 1 or name_or_path.startswith(("/", ".", "~")):
        raise ShoegenError(
            f"Base model {name_or_path!r} is neither a built-in base ({', '.join(BUILTIN_BASES)}), an existing "
            "diffusers folder, a .safetensors/.ckpt file, nor a hub id of the form owner/name."
        )
    return BaseModelSource(name_or_path, "hub", name_or_path)


def builtin_base_path(name: str, build: bool = True) -> Path:
    """The local diffusers folder of a built-in base, built first when `build` and not cached yet
    (`tiny` in about a second; `demo` is trained, minutes on a CPU, with progress bars)."""
    if name not in BUILTIN_BASES:
        raise ShoegenError(f"Unknown built-in base {name!r}; built-in bases: {', '.join(BUILTIN_BASES)}.")
    folder = cache_dir() / "models" / name
    builder, version = _builder(name)
    return build_cached(folder, builder, f"{name} {version}") if build else folder


def build_cached(folder: Path, build: Callable[[Path], None], stamp: str) -> Path:
    """`folder`, written by `build` first unless it already holds the build marked `stamp` (a name and format
    version: a change to a builder must change it, so caches are rebuilt)."""
    if not _is_current(folder, stamp):
        folder.parent.mkdir(parents=True, exist_ok=True)
        # Parallel processes (tests, `accelerate launch`) wait for one builder instead of racing.
        with filelock.FileLock(str(folder) + ".lock"):
            if not _is_current(folder, stamp):
                write_atomically(folder, build, stamp)
    return folder


def _builder(name: str) -> tuple[Callable[[Path], None], str]:
    """The function that writes a built-in base's folder, and its format version (a change to a builder must
    bump it). Imported only when a base is looked up: both import torch, which `shoegen --help`, `dataset
    check` or `models` should not pay for (1.4 s)."""
    if name == "tiny":
        from shoegen.models.tiny import TINY_FORMAT_VERSION, write_tiny_base

        return write_tiny_base, TINY_FORMAT_VERSION
    # The one import from models/ into training/: the demo base is built by training it.
    from shoegen.training.pretrain import DEMO_FORMAT_VERSION, write_demo_base

    return write_demo_base, DEMO_FORMAT_VERSION


def write_atomically(folder: Path, build: Callable[[Path], None], stamp: str | None = None) -> Path:
    """Run `build` on a staging folder beside `folder` and rename it into place only once complete, so
    an interrupted build never leaves a folder that looks usable. `stamp` marks a built-in's version."""
    staging = folder.with_name(folder.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        build(staging)
        if stamp is not None:
            (staging / BUILTIN_MARKER_FILE).write_text(stamp)
    except BaseException:  # Ctrl+C too: a half-built folder is never left behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def _is_current(folder: Path, stamp: str) -> bool:
    marker = folder / BUILTIN_MARKER_FILE
    return marker.is_file() and marker.read_text() == stamp


@dataclass(frozen=True)
class BaseFacts:
    """What a request is checked against, as the base's configuration files say it."""

    native_side: int
    """Pixels a side the base was trained at: the UNet's latent size times the VAE's scale."""
    text_encoder_layers: int
    unet_in_channels: int
    """4; 9 for an inpainting checkpoint (its UNet also takes the mask and the masked photo)."""
    lora_layout: tuple
    """What a LoRA adapter's layers must match: the UNet's block widths, layers a block and cross-attention
    width, and the text encoder's width (every SD1.x base has SD1.5's)."""


def read_base_facts(name_or_path: str) -> BaseFacts | None:
    """The base's facts from its configuration files alone: a process that never generates (an API-only replica)
    checks requests and answers the native size without loading gigabytes of weights. None where only loading
    tells: a single-file checkpoint, a hub id not in the local cache (never fetched here), a built-in not built
    yet. A ShoegenError for a name that is no base at all."""
    source = classify(name_or_path)
    if source.kind == "single_file":
        return None
    if source.kind == "hub":
        from huggingface_hub import try_to_load_from_cache

        def config(part: str) -> Path | None:
            found = try_to_load_from_cache(source.location, f"{part}/config.json")
            return Path(found) if isinstance(found, str) else None
    else:
        def config(part: str) -> Path | None:
            path = Path(source.location) / part / "config.json"
            return path if path.is_file() else None
    paths = {part: config(part) for part in ("unet", "vae", "text_encoder")}
    if None in paths.values():
        return None
    try:
        return base_facts_of(*(json.loads(path.read_text(encoding="utf-8")) for path in paths.values()))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a configuration this cannot read: loading the base says what is wrong with it


def base_facts_of(unet: Mapping, vae: Mapping, text_encoder: Mapping) -> BaseFacts:
    """The facts of a base from its parts' configurations (as files hold them, or a loaded pipeline's)."""
    return BaseFacts(native_side=int(unet["sample_size"]) * 2 ** (len(vae["block_out_channels"]) - 1),
                     text_encoder_layers=int(text_encoder["num_hidden_layers"]),
                     unet_in_channels=int(unet.get("in_channels", 4)),
                     lora_layout=(tuple(unet["block_out_channels"]), unet.get("layers_per_block", 2),
                                  unet.get("cross_attention_dim", 1280), text_encoder["hidden_size"]))


def same_lora_layout(first: str, second: str) -> bool | None:
    """Whether a LoRA trained on one base loads on the other (an SD1.5 adapter on any SD1.x base): from their
    configuration files; None when one of them cannot tell without loading (a single file, a hub id not in the
    local cache), except that a built-in base (its own small architecture) is known to differ from any other."""
    if first == second:
        return True
    try:
        facts = read_base_facts(first), read_base_facts(second)
    except ShoegenError:
        return None  # a name that is no base: its own refusal says so where it is used
    if facts[0] is not None and facts[1] is not None:
        return facts[0].lora_layout == facts[1].lora_layout
    return False if first in BUILTIN_BASES or second in BUILTIN_BASES else None


def load_pipeline(name_or_path: str, *, single_file_config: str | None = None):
    """A StableDiffusionPipeline (fp32, CPU) from any supported source."""
    from diffusers import StableDiffusionPipeline

    source = classify(name_or_path)
    common = {"safety_checker": None, "requires_safety_checker": False}
    if source.kind == "builtin":
        return StableDiffusionPipeline.from_pretrained(builtin_base_path(source.name), **common)
    if source.kind == "folder":
        return StableDiffusionPipeline.from_pretrained(source.location, **common)
    if source.kind == "single_file":
        return _load_single_file(source.location, single_file_config, common)
    return _load_from_hub(source.location, common)


def _load_single_file(path: str, config: str | None, common: dict):
    from diffusers import StableDiffusionPipeline

    if path.lower().endswith(".safetensors"):
        _refuse_adapter_file(path)
    try:
        # diffusers reads .ckpt pickles with torch's weights-only loader; one that needs code is refused.
        return StableDiffusionPipeline.from_single_file(path, config=config, **common)
    except (OSError, ValueError, pickle.UnpicklingError) as error:
        refusal = _unpickling_refusal(error)
        if refusal is not None:
            raise ShoegenError(
                f"Refused to load {path}: this .ckpt pickle contains code or objects beyond plain tensors, and "
                "loading it would run that code. Convert it to .safetensors with a trusted tool, or use a "
                f"safetensors checkpoint. ({str(refusal).splitlines()[0]})"
            ) from None
        if looks_offline(error):
            raise _offline_error(
                f"single-file checkpoint {path}",
                "A single-file checkpoint needs its model configuration; diffusers fetches it from the hub "
                "unless you pass a local diffusers folder of the same architecture as --single_file_config.",
            ) from None
        raise ShoegenError(f"Could not load the single-file checkpoint {path}: {error}") from None


def _refuse_adapter_file(path: str) -> None:
    """A LoRA adapter given as the base is the common mix-up (both are .safetensors files): say which is which.
    Reads the file's header only."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="pt") as weights:
            keys = list(weights.keys())
    except (SafetensorError, OSError) as error:
        raise ShoegenError(f"Could not load the single-file checkpoint {path}: not a readable safetensors file "
                           f"({error}).") from None
    if any("lora_" in key or ".lora." in key for key in keys):
        raise ShoegenError(
            f"{path} is a LoRA adapter, not a base model: it holds only the changes a training run made. Pass it "
            "as the model to apply (--model or --lora in the CLI, or put it in the models folder) and keep a "
            "Stable Diffusion 1.x base as the base model."
        )


def _unpickling_refusal(error: BaseException) -> pickle.UnpicklingError | None:
    """torch's weights-only refusal, which diffusers re-raises wrapped in an OSError."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, pickle.UnpicklingError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _load_from_hub(repo_id: str, common: dict):
    from diffusers import StableDiffusionPipeline

    try:
        return StableDiffusionPipeline.from_pretrained(repo_id, **common)
    except (OSError, ValueError) as error:
        if looks_offline(error):
            raise _offline_error(f"hub model {repo_id}", "It is not in the local Hugging Face cache.") from None
        raise ShoegenError(f"Could not load hub model {repo_id}: {error}") from None


def looks_offline(error: Exception) -> bool:
    """Whether a loading error means "not cached here and the hub is unreachable" (for any model type)."""
    # Judge the error, not the environment: with HF_HUB_OFFLINE=1 a corrupt local file is still a corrupt file.
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    if isinstance(error, (LocalEntryNotFoundError, OfflineModeIsEnabled)):
        return True
    text = f"{type(error).__name__} {error}".lower()
    hints = ("connect", "offline", "resolve", "network", "cannot find the requested files", "local_files_only")
    return any(hint in text for hint in hints)


def _offline_error(what: str, detail: str) -> ShoegenError:
    return ShoegenError(
        f"Could not load the {what}: the Hugging Face hub is not reachable from this machine (offline) "
        f"and the files are not cached here. {detail} Either download the model on a connected machine "
        "(`huggingface-cli download stable-diffusion-v1-5/stable-diffusion-v1-5`) and point "
        "--pretrained_model_name_or_path at the local folder, or use a built-in base (`demo`, or `tiny`) to try "
        "things out."
    )
