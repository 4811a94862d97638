"""Adapter export. `kohya` is the single-file LoRA layout AUTOMATIC1111, ComfyUI and kohya sd-scripts load:
`lora_unet_<module>.lora_down.weight` / `.lora_up.weight` / `.alpha` (and `lora_te_text_model_...` for
the text encoder), with the alpha that diffusers keeps in the file's adapter metadata written per module."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typing import TYPE_CHECKING

from shoegen.errors import ShoegenError
from shoegen.files import replaced_atomically
from shoegen.training.lora import LORA_WEIGHTS_NAME
from shoegen.training.run_folder import RunFolder, checkpoint_step

if TYPE_CHECKING:
    import torch

# Suffixes of diffusers' and peft's LoRA key styles → kohya's.
DOWN_UP_SUFFIXES = {
    ".lora.down.weight": "lora_down", ".lora.up.weight": "lora_up",
    ".lora_linear_layer.down.weight": "lora_down", ".lora_linear_layer.up.weight": "lora_up",
    ".lora_A.weight": "lora_down", ".lora_B.weight": "lora_up",
}
EXPORT_FORMATS = ("kohya", "diffusers")


def find_adapter_file(source: Path) -> Path:
    """The diffusers adapter file in a run folder, a checkpoint or final-weights folder, or the file itself; a
    checkpoint may also be named as models are, RUN/checkpoint-N. A ShoegenError saying what is there instead."""
    run = RunFolder(source.parent)
    if not source.exists() and checkpoint_step(source.name) is not None and run.checkpoints_dir.is_dir():
        source = run.checkpoints_dir / source.name  # RUN/checkpoint-N, the name `shoegen models` lists
    candidates = [source, source / LORA_WEIGHTS_NAME, RunFolder(source).final_adapter]
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix == ".safetensors":
            return candidate
    if not source.exists():
        if checkpoint_step(source.name) is not None and source.parent.is_dir():
            run = RunFolder(source.parent.parent if source.parent.name == "checkpoints" else source.parent)
            names = ", ".join(c.path.name for c in run.checkpoints()) or "none"
            raise ShoegenError(f"Checkpoint {source} does not exist (checkpoints of {run.path}: {names}).")
        raise ShoegenError(f"{source} does not exist: give a run folder, a checkpoint folder, or a {LORA_WEIGHTS_NAME} "
                           "file (`shoegen models` lists what is there).")
    checkpoints = RunFolder(source).checkpoints()
    if checkpoints:
        raise ShoegenError(
            f"No final adapter in {source} yet ({source / 'lora_weights'} is written when a run ends; it was stopped "
            f"or is still training). Export a checkpoint instead, e.g. {checkpoints[-1].path}."
        )
    raise ShoegenError(
        f"No LoRA adapter found at {source}: expected a run folder (with lora_weights/), a checkpoint folder, "
        f"or a {LORA_WEIGHTS_NAME} file."
    )


def _read_adapter(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
            metadata = handle.metadata() or {}
        adapter = json.loads(metadata.get("lora_adapter_metadata", "{}"))
    except Exception as error:  # safetensors' own error type, OSError, a broken JSON header entry
        raise ShoegenError(f"{path} cannot be read as a LoRA adapter: {type(error).__name__}: {error}. Is the file "
                           "complete? Export it again from its run.") from None
    return tensors, adapter


def _kohya_module_name(component: str, module: str) -> str:
    if component == "unet":
        return "lora_unet_" + module.replace(".", "_")
    return "lora_te_text_model_" + module.removeprefix("text_model.").replace(".", "_")


def to_kohya(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Kohya-layout tensors and sd-scripts style metadata from a diffusers adapter file."""
    import torch

    tensors, adapter = _read_adapter(path)
    converted: dict[str, torch.Tensor] = {}
    ranks, alphas = set(), set()
    for key, tensor in tensors.items():
        component, _, rest = key.partition(".")
        suffix = next((s for s in DOWN_UP_SUFFIXES if rest.endswith(s)), None)
        if component not in ("unet", "text_encoder") or suffix is None:
            raise ShoegenError(f"{path}: unexpected tensor {key!r}; is this a diffusers LoRA file?")
        module = rest[: -len(suffix)]
        name = _kohya_module_name(component, module)
        converted[f"{name}.{DOWN_UP_SUFFIXES[suffix]}.weight"] = tensor.contiguous()
        if DOWN_UP_SUFFIXES[suffix] == "lora_down":
            rank = tensor.shape[0]
            # Without stored metadata diffusers applies no scaling, i.e. alpha == rank.
            alpha = float(adapter.get(f"{component}.lora_alpha", rank))
            converted[f"{name}.alpha"] = torch.tensor(alpha)
            ranks.add(rank)
            alphas.add(alpha)
    metadata = {
        "ss_network_module": "networks.lora",
        "ss_network_dim": str(max(ranks)) if ranks else "0",
        "ss_network_alpha": str(max(alphas)) if alphas else "0",
        "ss_base_model_version": "sd_v1",
        "ss_v2": "False",
    }
    return converted, metadata


def export_adapter(source: Path, destination: Path, export_format: str = "kohya", overwrite: bool = False) -> Path:
    """Write the adapter `source` names to `destination` (a .safetensors file) in `export_format`; an existing file
    is replaced only with `overwrite`, and never half: the file is written beside it, then renamed over it."""
    if export_format not in EXPORT_FORMATS:
        raise ShoegenError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {export_format!r}")
    if destination.suffix != ".safetensors":
        raise ShoegenError(f"--output must be a .safetensors file path, not {destination}")
    if destination.is_dir():
        raise ShoegenError(f"--output {destination} is a folder: give the file to write, e.g. "
                           f"{destination / 'adapter.safetensors'}")
    adapter_file = find_adapter_file(source)
    if destination.exists() and destination.resolve() == adapter_file.resolve():
        raise ShoegenError(f"--output {destination} is the adapter being exported: pick another file name.")
    if destination.exists() and not overwrite:
        raise ShoegenError(f"{destination} already exists: pass --overwrite to replace it, or pick another --output.")
    # Read (and converted) first: a damaged adapter is refused before anything is written.
    tensors, metadata = to_kohya(adapter_file) if export_format == "kohya" else (None, _read_adapter(adapter_file))
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ShoegenError(f"--output {destination}: its folder cannot be made ({error.strerror or error}).") from None
    try:
        with replaced_atomically(destination) as temporary:
            if tensors is None:
                shutil.copyfile(adapter_file, temporary)
            else:
                from safetensors.torch import save_file

                save_file(tensors, temporary, metadata=metadata)
    except OSError as error:
        raise ShoegenError(f"could not write {destination}: {error.strerror or error}") from None
    except Exception as error:  # safetensors' own SafetensorError wraps the OSError of its writer
        if type(error).__name__ != "SafetensorError":
            raise
        raise ShoegenError(f"could not write {destination}: {error}") from None
    return destination
