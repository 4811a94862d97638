"""What can be generated with: the base model and every LoRA adapter under MODELS_DIR, by name.

Names are what users type (`<run>/checkpoint-500`, `<run>`, a loose file's stem). A name is only ever
looked up in this listing, never joined onto a path, so `..`, absolute paths and symlinks that point
outside MODELS_DIR cannot reach a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shoegen.errors import ShoegenError
from shoegen.training.lora import LORA_WEIGHTS_NAME as ADAPTER_FILE
CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    type: str  # "base" | "checkpoint" | "final" | "lora"
    step: int | None = None


class UnknownModelError(ShoegenError):
    """A model name that is not in the listing."""


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError):
        return False


def discover_adapters(models_dir: Path | None) -> list[ModelEntry]:
    """Run folders (`<run>/lora_weights`, `<run>/checkpoints/checkpoint-N`) and loose `.safetensors` LoRA
    files, sorted by name; anything resolving outside `models_dir` is ignored."""
    if models_dir is None or not models_dir.is_dir():
        return []
    root = models_dir.resolve()
    entries: list[ModelEntry] = []
    for child in sorted(models_dir.iterdir()):
        if child.name.startswith(".") or not _inside(child, root):
            continue
        if child.is_file() and child.suffix == ".safetensors":
            entries.append(ModelEntry(child.stem, child.resolve(), "lora"))
            continue
        if not child.is_dir():
            continue
        final = child / "lora_weights" / ADAPTER_FILE
        if final.is_file() and _inside(final, root):
            entries.append(ModelEntry(child.name, final.resolve(), "final"))
        checkpoints = child / "checkpoints"
        if checkpoints.is_dir():
            for checkpoint in checkpoints.iterdir():
                match = CHECKPOINT_DIR.match(checkpoint.name)
                weights = checkpoint / ADAPTER_FILE
                if match and weights.is_file() and _inside(weights, root):
                    entries.append(ModelEntry(f"{child.name}/{checkpoint.name}", weights.resolve(), "checkpoint",
                                              int(match.group(1))))
    return sorted(entries, key=lambda e: (e.name.split("/")[0], e.step or 0, e.name))


def find_adapter(models_dir: Path | None, name: str) -> ModelEntry:
    for entry in discover_adapters(models_dir):
        if entry.name == name:
            return entry
    raise UnknownModelError(f"unknown model {name!r}; list the available ones with GET /api/models "
                            "or `shoegen models --models-dir DIR`")


@dataclass(frozen=True)
class RunInfo:
    """A training run folder as the models page shows it."""

    name: str
    path: Path
    checkpoints: list[ModelEntry]
    has_final: bool
    validation_steps: list[int]
    has_loss_curve: bool


VALIDATION_SHEET = re.compile(r"^step-(\d+)\.png$")


def list_runs(models_dir: Path | None) -> list[RunInfo]:
    """Run folders (those with checkpoints or final weights) under `models_dir`, by name."""
    adapters = discover_adapters(models_dir)
    runs = []
    for name in sorted({e.name.split("/")[0] for e in adapters if e.type in ("final", "checkpoint")}):
        folder = (models_dir / name).resolve()
        validation = folder / "validation"
        steps = sorted(int(m.group(1)) for p in validation.glob("step-*.png")
                       if (m := VALIDATION_SHEET.match(p.name))) if validation.is_dir() else []
        runs.append(RunInfo(
            name=name, path=folder,
            checkpoints=[e for e in adapters if e.type == "checkpoint" and e.name.startswith(name + "/")],
            has_final=any(e.type == "final" and e.name == name for e in adapters),
            validation_steps=steps, has_loss_curve=(folder / "logs" / "loss_curve.png").is_file(),
        ))
    return runs


def find_run(models_dir: Path | None, name: str) -> RunInfo:
    for run in list_runs(models_dir):
        if run.name == name:
            return run
    raise UnknownModelError(f"unknown run {name!r}; list the runs with GET /api/runs")


def training_captions(run: RunInfo, limit: int = 50) -> list[str]:
    """Distinct captions of the run's training data (from its run.yaml), for prompt suggestions."""
    import yaml

    from shoegen.data.formats import read_dataset

    try:
        dataset = yaml.safe_load((run.path / "run.yaml").read_text()).get("dataset_path")
        listing = read_dataset(Path(dataset))
    except (OSError, ShoegenError, AttributeError, TypeError, yaml.YAMLError):
        return []
    captions = dict.fromkeys(e.caption for e in listing.entries if e.caption)
    return list(captions)[:limit]
