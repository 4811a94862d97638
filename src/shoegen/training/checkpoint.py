"""Resumable checkpoints, written atomically.

A checkpoint is assembled in a hidden staging folder and becomes `checkpoint-N` by one rename, after its
files are flushed to disk: a process killed at any moment leaves either the complete new checkpoint or
none, and every earlier checkpoint untouched. Staging leftovers are ignored and swept on the next save.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from shoegen.errors import ShoegenError

STATE_FILE = "training_state.json"
CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
STAGING_PREFIX = ".staging-"

@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int

def list_checkpoints(checkpoints_dir: Path) -> list[Checkpoint]:
    """Complete checkpoints, oldest first (a folder without its state file is not a checkpoint)."""
    if not checkpoints_dir.is_dir():
        return []
    found = []
    for child in checkpoints_dir.iterdir():
        match = CHECKPOINT_PATTERN.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append(Checkpoint(child, int(match.group(1))))
    return sorted(found, key=lambda checkpoint: checkpoint.step)

def find_resume_checkpoint(checkpoints_dir: Path, request: str) -> Checkpoint:
    """The checkpoint `--resume_from_checkpoint` names; never silently nothing."""
    available = list_checkpoints(checkpoints_dir)
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
    match = CHECKPOINT_PATTERN.match(candidate.name)
    if match is None or not (candidate / STATE_FILE).is_file():
        names = ", ".join(c.path.name for c in available) or "none"
        raise ShoegenError(
            f"--resume_from_checkpoint {request}: not a complete checkpoint folder. Checkpoints in "
            f"{checkpoints_dir}: {names}. Use `latest` or one of these names."
        )
    return Checkpoint(candidate, int(match.group(1)))

def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())

def save_checkpoint(checkpoints_dir: Path, step: int, write_payload, state: dict) -> Path:
    """Create `checkpoint-<step>` atomically. `write_payload(folder)` writes the weights and optimizer files;
    `state` (JSON) is written last and marks the checkpoint complete."""
    checkpoints_dir.mkdir(parents=True, exist_ok=True)
    for leftover in checkpoints_dir.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    final = checkpoints_dir / f"checkpoint-{step}"
    staging = checkpoints_dir / f"{STAGING_PREFIX}{final.name}-{os.getpid()}"
    staging.mkdir()
    write_payload(staging)
    (staging / STATE_FILE).write_text(json.dumps(state, indent=2))
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
    return json.loads((checkpoint.path / STATE_FILE).read_text())

def prune_checkpoints(checkpoints_dir: Path, keep: int | None) -> list[Path]:
    """Delete all but the newest `keep` checkpoints; returns what was removed."""
    if keep is None:
        return []
    removed = [c.path for c in list_checkpoints(checkpoints_dir)[:-keep]]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed

def load_torch_state(path: Path) -> dict:
    # Weights-only: a checkpoint folder from elsewhere must not be able to run code when resumed.
    return torch.load(path, map_location="cpu", weights_only=True)
