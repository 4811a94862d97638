"""Resumable checkpoints, written atomically.

A checkpoint is assembled in a hidden staging folder and becomes `checkpoint-N` by one rename, after its
files are flushed to disk: a process killed at any moment leaves either the complete new checkpoint or
none, and every earlier checkpoint untouched. Staging leftovers are ignored and swept on the next save.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from shoegen.errors import ShoegenError
from shoegen.training.run_folder import CHECKPOINT_STATE_FILE, Checkpoint, RunFolder, checkpoint_step

STAGING_PREFIX = ".staging-"

def find_resume_checkpoint(run: RunFolder, request: str) -> Checkpoint:
    """The checkpoint `--resume_from_checkpoint` names; never silently nothing."""
    checkpoints_dir = run.checkpoints_dir
    available = run.checkpoints()
    if request == "latest":
        if not available:
            raise ShoegenError(
                f"--resume_from_checkpoint latest: no checkpoint found in {checkpoints_dir}. Nothing was trained. "
                "Check --output_dir, or drop --resume_from_checkpoint to start a new run."
            )
        return available[-1]
    candidate = Path(request)
    if not candidate.is_absolute() and not candidate.exists():
        candidate = checkpoints_dir / request
    step = checkpoint_step(candidate.name)
    if step is None or not (candidate / CHECKPOINT_STATE_FILE).is_file():
        names = ", ".join(c.path.name for c in available) or "none"
        raise ShoegenError(
            f"--resume_from_checkpoint {request}: not a complete checkpoint folder. Checkpoints in "
            f"{checkpoints_dir}: {names}. Use `latest` or one of these names."
        )
    return Checkpoint(candidate, step)

def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())

def save_checkpoint(run: RunFolder, step: int, write_payload, state: dict) -> Path:
    """Create the run's checkpoint of `step` atomically. `write_payload(folder)` writes the weights and
    optimizer files; `state` (JSON) is written last and marks the checkpoint complete."""
    checkpoints_dir = run.checkpoints_dir
    checkpoints_dir.mkdir(parents=True, exist_ok=True)
    for leftover in checkpoints_dir.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    final = run.checkpoint(step)
    staging = checkpoints_dir / f"{STAGING_PREFIX}{final.name}-{os.getpid()}"
    staging.mkdir()
    write_payload(staging)
    (staging / CHECKPOINT_STATE_FILE).write_text(json.dumps(state, indent=2))
    _fsync_tree(staging)
    if final.exists():
        # Re-saving the same step (a resumed run reaching it again): move the old one aside first.
        retired = checkpoints_dir / f"{STAGING_PREFIX}retired-{final.name}-{os.getpid()}"
        final.rename(retired)
        staging.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(final)
    return final

def read_state(checkpoint: Checkpoint) -> dict:
    return json.loads((checkpoint.path / CHECKPOINT_STATE_FILE).read_text())

def prune_checkpoints(run: RunFolder, keep: int | None) -> list[Path]:
    """Delete all but the newest `keep` checkpoints; returns what was removed."""
    if keep is None:
        return []
    removed = [c.path for c in run.checkpoints()[:-keep]]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed

def load_torch_state(path: Path) -> dict:
    # Weights-only: a checkpoint folder from elsewhere must not be able to run code when resumed.
    return torch.load(path, map_location="cpu", weights_only=True)
