"""Where a ControlNet comes from: a diffusers SD1.x ControlNet by hub id (`lllyasviel/control_v11p_sd15_canny`),
a folder of `MODELS_DIR/controlnets/`, or the built-in `tiny` one (random weights, built offline from the tiny
base's UNet, to try the code path); `available_controlnets` lists those usable offline. Names are looked up, never
joined onto paths by a caller: a request cannot point the server at any folder. A ControlNet that cannot be loaded
is one readable line."""

from __future__ import annotations

import re
from pathlib import Path

from shoegen.errors import ShoegenError
from shoegen.models.resolve import build_cached, builtin_base_path, cache_dir, looks_offline

TINY_CONTROLNET = "tiny"
TINY_CONTROLNET_FORMAT_VERSION = "1"
CONTROLNETS_FOLDER = "controlnets"
"""ControlNet folders live in MODELS_DIR/controlnets/<name>/ (config.json + weights, as diffusers saves them)."""
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class ControlNetUnavailable(ShoegenError):
    """A ControlNet that cannot be loaded here."""


def write_tiny_controlnet(folder: Path, seed: int = 0) -> None:
    """A ControlNet made from the tiny base's UNet, its zero convolutions randomised (zeros would make it a no-op:
    its effect is what the tests look at), saved into `folder`."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(builtin_base_path("tiny") / "unet")
    torch.manual_seed(seed)
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 16, 16, 32))
    with torch.no_grad():
        for block in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block,
                      controlnet.controlnet_cond_embedding.conv_out]:
            torch.nn.init.normal_(block.weight, std=0.5)
    controlnet.save_pretrained(folder)


def controlnet_names(models_dir: Path | None) -> list[str]:
    """The ControlNets of MODELS_DIR/controlnets/ by name, and the built-in `tiny`."""
    folder = None if models_dir is None else models_dir / CONTROLNETS_FOLDER
    local = sorted(child.name for child in folder.iterdir()
                   if child.is_dir() and (child / "config.json").is_file()) if folder and folder.is_dir() else []
    return [*local, TINY_CONTROLNET]


def cached_hub_controlnets() -> list[str]:
    """Hub ids of the SD ControlNets in the local Hugging Face cache (a model whose config names ControlNetModel),
    usable offline."""
    import json

    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound, CorruptedCacheException

    try:
        repos = scan_cache_dir().repos
    except (CacheNotFound, CorruptedCacheException, OSError):
        return []
    found = set()
    for repo in repos:
        if repo.repo_type != "model" or not _HUB_ID.match(repo.repo_id):
            continue
        for revision in repo.revisions:
            config = next((file.file_path for file in revision.files if file.file_name == "config.json"
                           and file.file_path.parent == revision.snapshot_path), None)
            try:
                is_controlnet = config is not None and \
                    json.loads(config.read_text()).get("_class_name") == "ControlNetModel"
            except (OSError, ValueError, AttributeError):
                is_controlnet = False
            if is_controlnet:
                found.add(repo.repo_id)
    return sorted(found)


def available_controlnets(models_dir: Path | None) -> list[tuple[str, str]]:
    """Every ControlNet usable without the hub, as (name, where): folders of MODELS_DIR/controlnets/, hub ids in
    the local cache, and the built-in `tiny`."""
    local = [(name, "folder") for name in controlnet_names(models_dir) if name != TINY_CONTROLNET]
    return [*local, *((name, "hub cache") for name in cached_hub_controlnets()), (TINY_CONTROLNET, "built-in")]


def locate(name: str, models_dir: Path | None) -> str:
    """What `from_pretrained` loads for `name`: a local folder (by its name) or a hub id."""
    if name in controlnet_names(models_dir) and name != TINY_CONTROLNET:
        return str(models_dir / CONTROLNETS_FOLDER / name)
    if name == TINY_CONTROLNET:
        return str(build_cached(cache_dir() / "models" / "tiny-controlnet", write_tiny_controlnet,
                                f"tiny-controlnet {TINY_CONTROLNET_FORMAT_VERSION}"))
    if not _HUB_ID.match(name):
        known = ", ".join(controlnet_names(models_dir))
        raise ControlNetUnavailable(f"ControlNet {name!r}: neither a folder of MODELS_DIR/{CONTROLNETS_FOLDER}/ "
                                    f"(known: {known}) nor a hub id of the form owner/name")
    return name


def load_controlnet(name: str, models_dir: Path | None, dtype=None):
    """The ControlNetModel called `name` (see `locate`)."""
    from diffusers import ControlNetModel

    location = locate(name, models_dir)
    try:
        return ControlNetModel.from_pretrained(location, torch_dtype=dtype)
    except (OSError, ValueError) as error:
        # A hub id that is not in the local cache reads as "no file named config.json" when the hub is not asked.
        if looks_offline(error) or (location == name and isinstance(error, OSError)):
            raise ControlNetUnavailable(
                f"ControlNet {name}: not in the local Hugging Face cache, and the hub is not reachable from this "
                f"machine; download it where the hub is reachable (`hf download {name}`) or copy its folder into "
                f"MODELS_DIR/{CONTROLNETS_FOLDER}/ and use the folder's name") from None
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ControlNetUnavailable(f"ControlNet {name}: could not be loaded ({first})") from None
