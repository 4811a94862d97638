"""What training left under MODELS_DIR, by name: every LoRA adapter (a run's final weights, its checkpoints,
loose `.safetensors` files) and every run folder.

Names are what users type (`<run>/checkpoint-500`, `<run>`, a loose file's stem). A name is only ever
looked up in this listing, never joined onto a path, so `..`, absolute paths and symlinks that point
outside MODELS_DIR cannot reach a file. Imports no torch: the service lists models with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shoegen.config.scores import BestCheckpoint, CheckpointScores
from shoegen.data.formats import Entry, read_dataset
from shoegen.errors import ShoegenError
from shoegen.training.lora import LORA_WEIGHTS_NAME
from shoegen.training.run_folder import RunFolder, checkpoint_step

# How many known names an unknown-name error lists before it just counts the rest.
NAMES_SHOWN = 20


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    type: str  # "base" | "checkpoint" | "final" | "best" | "lora"
    step: int | None = None


class UnknownModelError(ShoegenError):
    """A model name that is not in the listing."""


def trained_on(models_dir: Path | None, entry: ModelEntry) -> str | None:
    """The base a run's adapter (a checkpoint, the final weights, RUN/best) was trained on, from its run.yaml;
    None for a loose LoRA file or when run.yaml does not say."""
    if models_dir is None or entry.type not in ("checkpoint", "final", "best"):
        return None
    base = RunFolder(models_dir / entry.name.split("/")[0]).read_config_values().get("pretrained_model_name_or_path")
    return base if isinstance(base, str) else None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError):
        return False


def discover_adapters(models_dir: Path | None) -> list[ModelEntry]:
    """Run folders (their final weights and checkpoints) and loose `.safetensors` LoRA files, sorted by name;
    anything resolving outside `models_dir` is ignored."""
    if models_dir is None or not models_dir.is_dir():
        return []
    root = models_dir.resolve()
    entries = [entry for child in sorted(models_dir.iterdir()) for entry in _entries_of(child, root)]
    return sorted(entries, key=lambda e: (e.name.split("/")[0], e.step or 0, e.name))


def _entries_of(child: Path, root: Path) -> list[ModelEntry]:
    """The adapters one entry of the models folder holds: a loose LoRA file, or a run folder's final weights,
    checkpoints and `RUN/best`."""
    if child.name.startswith(".") or not _inside(child, root):
        return []
    if child.is_file() and child.suffix == ".safetensors":
        return [ModelEntry(child.stem, child.resolve(), "lora")]
    if not child.is_dir():
        return []
    run = RunFolder(child)
    entries = []
    if run.final_adapter.is_file() and _inside(run.final_adapter, root):
        entries.append(ModelEntry(child.name, run.final_adapter.resolve(), "final"))
    run_entries = []
    if run.checkpoints_dir.is_dir():
        for checkpoint in run.checkpoints_dir.iterdir():
            step = checkpoint_step(checkpoint.name)
            weights = checkpoint / LORA_WEIGHTS_NAME
            if step is not None and weights.is_file() and _inside(weights, root):
                run_entries.append(ModelEntry(f"{child.name}/{checkpoint.name}", weights.resolve(), "checkpoint",
                                              step))
    return entries + run_entries + _best_entry(run, child.name, entries + run_entries)


def _best_entry(run: RunFolder, run_name: str, candidates: list[ModelEntry]) -> list[ModelEntry]:
    """`RUN/best`: the adapter `shoegen evaluate` picked, while it is still there."""
    best = run.read_best()
    if best is None:
        return []
    chosen = [entry for entry in candidates if entry.name == best.model and entry.name.split("/")[0] == run_name]
    return [ModelEntry(f"{run_name}/best", chosen[0].path, "best", best.step)] if chosen else []


def find_adapter(models_dir: Path | None, name: str) -> ModelEntry:
    """The adapter called `name`, looked for only where that name can be (its run folder, or its loose file), so a
    lookup costs the same with 5 runs or 500; an unknown name's error lists the known ones."""
    if models_dir is not None and models_dir.is_dir() and name and not name.startswith("."):
        head = name.split("/")[0]
        root = models_dir.resolve()
        for candidate in (models_dir / head, models_dir / f"{head}.safetensors"):
            try:
                entries = _entries_of(candidate, root) if head not in ("", "..") else []
            except OSError:  # a name no file can have (too long): unknown, like any other
                entries = []
            for entry in entries:
                if entry.name == name:
                    return entry
    try:
        return _by_name(discover_adapters(models_dir), name, "model")
    except UnknownModelError:
        run_name, _, tail = name.rpartition("/")
        best = next((run.best for run in list_runs(models_dir) if run.name == run_name), None) \
            if tail == "best" else None
        if best is None:
            raise
        raise UnknownModelError(
            f"{name!r} was {best.model} (step {best.step}), which is no longer there: a later run or "
            f"--checkpoints_total_limit deleted it. Run `shoegen evaluate {run_name}` again to pick the best of the "
            "checkpoints it has now.") from None


@dataclass(frozen=True)
class RunInfo:
    """A training run folder as the models page shows it."""

    name: str
    folder: RunFolder
    checkpoints: list[ModelEntry]
    has_final: bool
    validation_steps: list[int]
    has_loss_curve: bool
    scores: list[CheckpointScores]
    """The last `shoegen evaluate`'s scores by step (step 0: the base); [] before the run is evaluated."""
    best: BestCheckpoint | None


def list_runs(models_dir: Path | None) -> list[RunInfo]:
    """Run folders under `models_dir` (those with settings, checkpoints or final weights: a run the studio queued
    has only its run.yaml), by name."""
    adapters = discover_adapters(models_dir)
    names = {e.name.split("/")[0] for e in adapters if e.type in ("final", "checkpoint")}
    if models_dir is not None and models_dir.is_dir():
        root = models_dir.resolve()
        names |= {child.name for child in models_dir.iterdir() if not child.name.startswith(".")
                  and RunFolder(child).config_file.is_file() and _inside(child, root)}
    runs = []
    for name in sorted(names):
        folder = RunFolder((models_dir / name).resolve())
        runs.append(RunInfo(
            name=name, folder=folder,
            checkpoints=[e for e in adapters if e.type == "checkpoint" and e.name.startswith(name + "/")],
            has_final=any(e.type == "final" and e.name == name for e in adapters),
            validation_steps=folder.validation_steps(),
            has_loss_curve=folder.loss_curve.is_file() or folder.has_log(),  # drawn from the log when asked for
            scores=folder.read_scores(), best=folder.read_best(),
        ))
    return runs


def find_run(models_dir: Path | None, name: str) -> RunInfo:
    return _by_name(list_runs(models_dir), name, "run")


def _by_name(items: list, name: str, what: str):
    """The item called `name`, or an error that names the known ones (the first NAMES_SHOWN)."""
    for item in items:
        if item.name == name:
            return item
    names = [item.name for item in items]
    if not names:
        raise UnknownModelError(f"unknown {what} {name!r}; no {what}s are known yet")
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    raise UnknownModelError(f"unknown {what} {name!r}; known {what}s: {', '.join(names[:NAMES_SHOWN])}{more}")


def run_dataset(run: RunInfo, key: str = "dataset_path") -> list[Entry]:
    """The entries of the dataset folder the run's run.yaml names under `key` (`dataset_path` or
    `validation_path`); none when run.yaml, the key or the folder cannot be read."""
    folder = run.folder.read_config_values().get(key)
    if not isinstance(folder, str):
        return []
    try:
        return read_dataset(Path(folder)).entries
    except (OSError, ShoegenError):
        return []


def training_captions(run: RunInfo, limit: int = 50) -> list[str]:
    """Distinct captions of the run's training data (from its run.yaml), for prompt suggestions; none when
    run.yaml or the dataset it names cannot be read."""
    captions = dict.fromkeys(e.caption for e in run_dataset(run) if e.caption)
    return list(captions)[:limit]
