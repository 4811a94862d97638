"""Adapter export. `kohya` is the single-file LoRA layout AUTOMATIC1111, ComfyUI and kohya sd-scripts load:
`lora_unet_<module>.lora_down.weight` / `.lora_up.weight` / `.alpha` (and `lora_te_text_model_...` for
the text encoder), with the alpha that diffusers keeps in the file's adapter metadata written per module."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typing import TYPE_CHECKING

from shoegen.errors import ShoegenError
from shoegen.training.lora import LORA_WEIGHTS_NAME
from shoegen.training.run_folder import RunFolder

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
    """The diffusers adapter file in a run folder, a checkpoint or final-weights folder, or the file itself."""
    candidates = [source, source / LORA_WEIGHTS_NAME, RunFolder(source).final_adapter]
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix == ".safetensors":
            return candidate
    raise ShoegenError(
        f"No LoRA adapter found at {source}: expected a run folder (with lora_weights/), a checkpoint folder, "
        f"or a {LORA_WEIGHTS_NAME} file."
    )


def _read_adapter(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        metadata = handle.metadata() or {}
    adapter = json.loads(metadata.get("lora_adapter_metadata", "{}"))
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


def export_adapter(source: Path, destination: Path, export_format: str = "kohya") -> Path:
    if export_format not in EXPORT_FORMATS:
        raise ShoegenError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {export_format!r}")
    adapter_file = find_adapter_file(source)
    if destination.suffix != ".safetensors":
        raise ShoegenError(f"--output must be a .safetensors file path, not {destination}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    if export_format == "diffusers":
        shutil.copyfile(adapter_file, destination)
        return destination
    from safetensors.torch import save_file

    tensors, metadata = to_kohya(adapter_file)
    save_file(tensors, destination, metadata=metadata)
    return destination
