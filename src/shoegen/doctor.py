"""`shoegen doctor`: what this machine can do for training and generation, in one readable report."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
from pathlib import Path

from shoegen.config.threads import describe_threads
from shoegen.errors import ShoegenError

PACKAGES = ("torch", "diffusers", "transformers", "peft", "accelerate", "safetensors", "huggingface-hub")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def device_report() -> list[str]:
    import psutil
    import torch

    lines = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            lines.append(f"cuda:{index}  {torch.cuda.get_device_name(index)}  {free / 2**30:.1f} of "
                         f"{total / 2**30:.1f} GiB free, bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'}")
    else:
        lines.append("cuda  not available (training and generation run on the CPU: fine for `tiny`, slow for SD1.5)")
    mps = getattr(torch.backends, "mps", None)
    lines.append(f"mps   {'available' if mps is not None and mps.is_available() else 'not available'}")
    memory = psutil.virtual_memory()
    lines.append(f"cpu   {os.cpu_count()} cores, {memory.available / 2**30:.1f} of {memory.total / 2**30:.1f} GiB "
                 "memory free")
    lines.append(f"      threads: {describe_threads(torch.get_num_threads())}")
    return lines


def base_model_report(name: str) -> tuple[str, bool]:
    """The base model's line, and whether it can be loaded here (a model it names, local, cached or reachable)."""
    from shoegen.models.resolve import classify

    try:
        source = classify(name)
    except ShoegenError as error:
        return f"{name}: {error}", False
    if source.kind == "builtin":
        built = (Path(source.location) / "model_index.json").is_file()
        return f"{name}: built in, {'cached at ' + source.location if built else 'built on first use'}", True
    if source.kind in ("folder", "single_file"):
        return f"{name}: local {source.kind.replace('_', ' ')} at {source.location}", True
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name, "model_index.json")
    if isinstance(cached, str):
        return f"{name}: in the Hugging Face cache ({Path(cached).parent})", True
    reachable = _hub_reachable()
    return f"{name}: not cached; {'hub reachable' if reachable else 'hub NOT reachable (offline)'}", reachable


def _hub_reachable() -> bool:
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
        return True
    except OSError:
        return False


def doctor_report(base_model: str, data_dir: Path) -> tuple[str, list[str]]:
    """The report, and what in it stops generation or training here (none: all is well)."""
    from shoegen import __version__
    from shoegen.models.clip_vocab import find_bpe_table
    from shoegen.models.resolve import cache_dir

    lines = [f"shoegen {__version__} on Python {platform.python_version()} ({platform.platform()})", "", "packages:"]
    lines += [f"  {package:<16}{_version(package)}" for package in PACKAGES]
    lines += ["", "devices:"] + [f"  {line}" for line in device_report()]
    lines += ["", "disk:"]
    for label, path in (("working folder", data_dir), ("model cache", cache_dir())):
        existing = next(p for p in (path, *path.parents) if p.exists())
        free = shutil.disk_usage(existing).free
        lines.append(f"  {label:<16}{path}  {free / 2**30:.1f} GiB free")
    problems = []
    try:
        vocabulary = f"found ({find_bpe_table()})"
    except ShoegenError as error:
        vocabulary = f"MISSING: {error}"
        problems.append("the CLIP vocabulary for the built-in bases is missing")
    base_line, base_usable = base_model_report(base_model)
    if not base_usable:
        problems.append(f"the base model {base_model} cannot be loaded here")
    lines += ["", f"CLIP vocabulary for built-in bases: {vocabulary}", "", "base model:", f"  {base_line}"]
    lines += ["", "problems: " + "; ".join(problems) if problems else "no problem found"]
    return "\n".join(lines), problems
