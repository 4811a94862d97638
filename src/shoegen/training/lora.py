"""LoRA layers on the UNet (and optionally the text encoder), and their files.

Two files per save: `pytorch_lora_weights.safetensors` in diffusers' format with the adapter metadata
(rank, alpha, targets) embedded, so `pipe.load_lora_weights(folder)` restores the exact strength; and,
inside checkpoints, the raw peft state used for exact resume.
"""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

from shoegen.errors import ShoegenError

if TYPE_CHECKING:
    import torch
    from peft import LoraConfig

    from shoegen.config.train import TrainConfig

LORA_WEIGHTS_NAME = "pytorch_lora_weights.safetensors"
TEXT_ENCODER_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
RESUME_STATE_NAME = "lora_state.safetensors"


def lora_config(config: TrainConfig, target_modules: list[str]) -> LoraConfig:
    from peft import LoraConfig

    return LoraConfig(r=config.rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      init_lora_weights="gaussian", target_modules=list(target_modules))


def add_lora_layers(unet, text_encoder, config: TrainConfig) -> list[torch.nn.Parameter]:
    """Freeze the base weights, add LoRA layers, and return the parameters to train (kept in fp32)."""
    unet.requires_grad_(False)
    text_encoder.requires_grad_(False)
    try:
        unet.add_adapter(lora_config(config, config.lora_target_modules))
    except ValueError as error:  # peft: none of the target modules exist in this UNet
        raise ShoegenError(f"--lora_target_modules {config.lora_target_modules}: {error}") from None
    modules = [unet]
    if config.train_text_encoder:
        text_encoder.add_adapter(lora_config(config, TEXT_ENCODER_TARGETS))
        modules.append(text_encoder)
    trainable = [p for module in modules for p in module.parameters() if p.requires_grad]
    for parameter in trainable:
        parameter.data = parameter.data.float()
    return trainable


def _adapter_metadata(module) -> dict:
    return module.peft_config["default"].to_dict()


def save_lora_weights(folder: Path, unet, text_encoder, train_text_encoder: bool) -> Path:
    """Write the diffusers-format adapter file (loadable with `pipe.load_lora_weights(folder)`)."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    folder.mkdir(parents=True, exist_ok=True)
    kwargs = {
        "unet_lora_layers": convert_state_dict_to_diffusers(get_peft_model_state_dict(unet)),
        "unet_lora_adapter_metadata": _adapter_metadata(unet),
    }
    if train_text_encoder:
        kwargs["text_encoder_lora_layers"] = convert_state_dict_to_diffusers(get_peft_model_state_dict(text_encoder))
        kwargs["text_encoder_lora_adapter_metadata"] = _adapter_metadata(text_encoder)
    StableDiffusionPipeline.save_lora_weights(folder, safe_serialization=True, weight_name=LORA_WEIGHTS_NAME, **kwargs)
    return folder / LORA_WEIGHTS_NAME


def save_resume_state(folder: Path, unet, text_encoder, train_text_encoder: bool) -> None:
    """The LoRA tensors exactly as peft holds them, prefixed by module, for bit-exact resume."""
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    state = {f"unet.{k}": v.contiguous() for k, v in get_peft_model_state_dict(unet).items()}
    if train_text_encoder:
        state |= {f"text_encoder.{k}": v.contiguous() for k, v in get_peft_model_state_dict(text_encoder).items()}
    save_file(state, folder / RESUME_STATE_NAME)


def load_resume_state(folder: Path, unet, text_encoder, train_text_encoder: bool) -> None:
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = load_file(folder / RESUME_STATE_NAME)
    for prefix, module in (("unet.", unet), ("text_encoder.", text_encoder)):
        part = {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
        if prefix == "text_encoder." and not train_text_encoder:
            continue
        result = set_peft_model_state_dict(module, part)
        if getattr(result, "unexpected_keys", None):
            raise ValueError(f"checkpoint {folder} does not match this run's LoRA layout")


# ---------------------------------------------------------------------------------------- the step's form

def mergeable_layers(*modules) -> list:
    """The LoRA layers whose update can be folded into their base weight for the forward pass: peft's plain
    LoRA on a torch Linear (no DoRA or other variant, no LoRA bias, no fan_in_fan_out), of the same dtype as the
    base weight. Only these change form in `use_merged_forward`."""
    import torch
    from peft.tuners.lora.layer import Linear as LoraLinear

    found = []
    for module in modules:
        for layer in module.modules():
            if not (isinstance(layer, LoraLinear) and isinstance(layer.base_layer, torch.nn.Linear)):
                continue
            if "default" not in layer.lora_A or layer.lora_variant or layer.fan_in_fan_out:
                continue
            lora_a, lora_b = layer.lora_A["default"], layer.lora_B["default"]
            if lora_b.bias is not None or not isinstance(layer.lora_dropout["default"], torch.nn.Identity):
                continue
            if lora_a.weight.dtype != layer.base_layer.weight.dtype:
                continue
            found.append(layer)
    return found


def use_merged_forward(layers: list, merged: bool) -> None:
    """Switch how `layers` (from `mergeable_layers`) compute their output: `merged` folds the update into the
    weight, `linear(x, W + scaling·B·A)`, one matrix product instead of three and a sum; otherwise peft's own
    `W·x + scaling·B·(A·x)`. The same function of the same parameters, so the same gradients up to rounding;
    which one is faster depends on the sizes (merging pays where a layer's inputs are few next to its width:
    small models and short text contexts), so the training run times both (step_tuning.py)."""
    for layer in layers:
        if merged:
            layer.forward = _merged_forward(layer)
        else:
            layer.__dict__.pop("forward", None)


def _merged_forward(layer):
    import torch
    import torch.nn.functional as F

    peft_forward = type(layer).forward.__get__(layer)
    base, lora_a, lora_b = layer.base_layer, layer.lora_A["default"], layer.lora_B["default"]

    def forward(x, *args, **kwargs):
        # Anything but the one active adapter, unmerged and enabled, takes peft's own path.
        if args or kwargs or layer.disable_adapters or layer.merged or layer.active_adapters != ["default"]:
            return peft_forward(x, *args, **kwargs)
        weight = torch.addmm(base.weight, lora_b.weight, lora_a.weight, alpha=layer.scaling["default"])
        return F.linear(x, weight, base.bias)

    return forward
