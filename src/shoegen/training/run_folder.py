"""The run folder, the one place that knows its layout: training writes through `RunFolder`, and the
adapter listing, export, the engine, the service and the CLI read through it.

    run.yaml                              the resolved settings, written when training starts
    checkpoints/checkpoint-N/             resumable checkpoints; complete once training_state.json is in
    lora_weights/                         the final adapter (pytorch_lora_weights.safetensors)
    validation/step-NNNNNN.png            validation contact sheets; their images in validation/step-NNNNNN/
    logs/                                 train_log.jsonl, tensorboard/, loss_curve.png
    eval/                                 `shoegen evaluate`: scores.jsonl (one line per model), scores.png (score
                                          versus step), best.json (the best checkpoint, `RUN/best`), step-NNNNNN/
    cache/                                the latent cache of --cache_latents_to_disk
    status.json                           where the training stands (state, step, process, last update, and the
                                          log's last loss, lr and speed), rewritten every few seconds while it
                                          trains, so any process can follow the run without reading its log
    control/{stop,save,sample}            requests to the training process (the studio, `shoegen runs`): stop
                                          after a checkpoint, save a checkpoint now, validate now; it takes each
                                          one (deletes the file) at its next step
    validation_prompts.json               prompts set while the run trains: the next validation uses them
    job.json                              the studio's job that trains the run (its id in the job queue)

Imports no torch: the service lists runs through it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from shoegen.config.scores import BestCheckpoint, CheckpointScores
from shoegen.config.train import TrainConfig, build_config
from shoegen.files import write_text_atomically
from shoegen.training.lora import LORA_WEIGHTS_NAME

CHECKPOINT_STATE_FILE = "training_state.json"
_CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
_VALIDATION_SHEET_NAME = re.compile(r"^step-(\d+)\.png$")
REQUESTS = ("stop", "save", "sample")
"""What the training process can be asked to do between two steps."""


def checkpoint_step(name: str) -> int | None:
    """The step of a `checkpoint-N` folder name; None for any other name."""
    match = _CHECKPOINT_NAME.match(name)
    return int(match.group(1)) if match else None


def step_count(value: object) -> int | None:
    """`value` when it is a positive whole number of steps, else None: a hand-edited run.yaml or status.json
    may hold anything ("3k", true)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int


@dataclass(frozen=True)
class RunFolder:
    """Where everything of the training run in `path` is."""

    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / "run.yaml"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints_dir / f"checkpoint-{step}"

    @property
    def final_weights_dir(self) -> Path:
        return self.path / "lora_weights"

    @property
    def final_adapter(self) -> Path:
        return self.final_weights_dir / LORA_WEIGHTS_NAME

    @property
    def final_step_file(self) -> Path:
        return self.final_weights_dir / "step.json"

    def write_final_weights_step(self, step: int) -> None:
        write_text_atomically(self.final_step_file, json.dumps({"step": step}) + "\n")

    def final_weights_step(self) -> int | None:
        """The step the final weights were saved at (a run resumed for more steps and stopped early keeps the
        earlier ones): their step.json; for weights saved before it was written, status.json's step when the run
        is done, else run.yaml's max_train_steps; None when none of them says."""
        try:
            step = json.loads(self.final_step_file.read_text(encoding="utf-8")).get("step")
        except (OSError, ValueError, AttributeError):
            status = self.read_status() or {}
            step = status.get("step") if status.get("state") == "done" else \
                self.read_config_values().get("max_train_steps")
        return step_count(step)

    @property
    def validation_dir(self) -> Path:
        return self.path / "validation"

    def validation_sheet(self, step: int) -> Path:
        return self.validation_dir / f"step-{step:06d}.png"

    def validation_images_dir(self, step: int) -> Path:
        return self.validation_dir / f"step-{step:06d}"

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def train_log(self) -> Path:
        return self.logs_dir / "train_log.jsonl"

    def train_log_stat(self) -> os.stat_result | None:
        """The train log's size and times (one stat, no read); None while there is no log file."""
        try:
            found = self.train_log.stat()
        except FileNotFoundError:
            return None
        return found if stat.S_ISREG(found.st_mode) else None

    def has_log(self) -> bool:
        """Whether the train log is a file with something in it."""
        found = self.train_log_stat()
        return found is not None and found.st_size > 0

    @property
    def tensorboard_dir(self) -> Path:
        return self.logs_dir / "tensorboard"

    @property
    def loss_curve(self) -> Path:
        return self.logs_dir / "loss_curve.png"

    @property
    def eval_dir(self) -> Path:
        return self.path / "eval"

    @property
    def scores_file(self) -> Path:
        return self.eval_dir / "scores.jsonl"

    @property
    def scores_plot(self) -> Path:
        return self.eval_dir / "scores.png"

    @property
    def best_file(self) -> Path:
        return self.eval_dir / "best.json"

    def eval_images_dir(self, step: int) -> Path:
        return self.eval_dir / f"step-{step:06d}"

    def remove_eval_images(self, keep: set[int]) -> None:
        """Removes the evaluation images of every step not in `keep` (checkpoints deleted since)."""
        kept = {self.eval_images_dir(step).name for step in keep}
        for folder in self.eval_dir.glob("step-*"):
            if folder.is_dir() and folder.name not in kept:
                shutil.rmtree(folder, ignore_errors=True)

    def write_scores(self, scores: list[CheckpointScores], best: BestCheckpoint | None) -> None:
        """Replaces the previous evaluation's scores and best checkpoint (each file written whole, then moved)."""
        self.eval_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.scores_file, "".join(line.model_dump_json() + "\n" for line in scores))
        if best is None:
            self.best_file.unlink(missing_ok=True)
        else:
            write_text_atomically(self.best_file, best.model_dump_json(indent=2) + "\n")

    def read_scores(self) -> list[CheckpointScores]:
        """The last evaluation's scores by step; [] when the run was not evaluated (or the file is unreadable)."""
        try:
            lines = self.scores_file.read_text(encoding="utf-8").splitlines()
            return sorted((CheckpointScores.model_validate_json(line) for line in lines if line.strip()),
                          key=lambda line: line.step)
        except (OSError, ValueError):
            return []

    def read_best(self) -> BestCheckpoint | None:
        try:
            return BestCheckpoint.model_validate_json(self.best_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def latent_cache(self, key: str) -> Path:
        return self.path / "cache" / f"latents-{key}.safetensors"

    def checkpoints(self) -> list[Checkpoint]:
        """Complete checkpoints, oldest first (a folder without its state file is not a checkpoint)."""
        if not self.checkpoints_dir.is_dir():
            return []
        found = []
        for child in self.checkpoints_dir.iterdir():
            step = checkpoint_step(child.name)
            if step is not None and (child / CHECKPOINT_STATE_FILE).is_file():
                found.append(Checkpoint(child, step))
        return sorted(found, key=lambda checkpoint: checkpoint.step)

    def validation_steps(self) -> list[int]:
        """Steps with a validation contact sheet, in order."""
        if not self.validation_dir.is_dir():
            return []
        return sorted(int(match.group(1)) for sheet in self.validation_dir.glob("step-*.png")
                      if (match := _VALIDATION_SHEET_NAME.match(sheet.name)))

    def remove_training_outputs(self) -> None:
        """Delete what an earlier run wrote here (checkpoints, validation, logs, final weights); the latent
        cache stays, and run.yaml is rewritten by the next run."""
        for folder in (self.checkpoints_dir, self.validation_dir, self.logs_dir, self.final_weights_dir, self.eval_dir):
            shutil.rmtree(folder, ignore_errors=True)

    # --- following and steering a run that trains in another process --------------------------------

    @property
    def status_file(self) -> Path:
        return self.path / "status.json"

    def write_status(self, state: str, step: int, max_steps: int, *, error: str | None = None,
                     log: dict | None = None) -> None:
        """`state`: running | stopped | done | error; `log`: the train log's summary (`training.logs.LogSummary`),
        so that listing runs reads no log. Written whole, then moved, so readers never see half."""
        self.path.mkdir(parents=True, exist_ok=True)
        status = {"state": state, "step": step, "max_steps": max_steps, "pid": os.getpid(),
                  "host": socket.gethostname(), "updated_at": datetime.now(UTC).isoformat()}
        if error is not None:
            status["error"] = error
        if log is not None:
            status["log"] = log
        write_text_atomically(self.status_file, json.dumps(status) + "\n")

    def read_status(self) -> dict | None:
        try:
            status = json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return status if isinstance(status, dict) else None

    @property
    def control_dir(self) -> Path:
        return self.path / "control"

    def request(self, what: str) -> None:
        """Ask the training process to `stop` (after a checkpoint), `save` a checkpoint or `sample` (validate)."""
        assert what in REQUESTS
        self.control_dir.mkdir(parents=True, exist_ok=True)
        (self.control_dir / what).touch()

    def requested(self) -> set[str]:
        """The requests waiting for the training process (one stat when there are none)."""
        if not self.control_dir.is_dir():
            return set()
        return {what for what in REQUESTS if (self.control_dir / what).exists()}

    def take_request(self, what: str) -> bool:
        """Consume a request; False when there was none."""
        try:
            (self.control_dir / what).unlink()
            return True
        except FileNotFoundError:
            return False

    def clear_requests(self) -> None:
        shutil.rmtree(self.control_dir, ignore_errors=True)

    @property
    def validation_prompts_file(self) -> Path:
        return self.path / "validation_prompts.json"

    def write_validation_prompts(self, prompts: list[str]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.validation_prompts_file, json.dumps(prompts) + "\n")

    def validation_prompts(self, values: dict | None = None) -> list[str] | None:
        """The prompts the run's validation uses: those set while it trains, else run.yaml's (`values`: run.yaml
        as already read); None when neither names any (a hand-edited value that is no list of prompts names
        none)."""
        written = (self.read_config_values() if values is None else values).get("validation_prompts")
        return self.read_validation_prompts() or (
            written if isinstance(written, list) and written and all(isinstance(p, str) for p in written) else None)

    def read_validation_prompts(self) -> list[str] | None:
        """Prompts set while the run trains (None: run.yaml's)."""
        try:
            prompts = json.loads(self.validation_prompts_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return prompts if isinstance(prompts, list) and all(isinstance(p, str) for p in prompts) else None

    @property
    def job_file(self) -> Path:
        return self.path / "job.json"

    @property
    def evaluation_job_file(self) -> Path:
        return self.path / "evaluation_job.json"

    def write_job(self, job_id: str, *, evaluation: bool = False) -> None:
        """Keep the id of the studio job that trains this run (or, `evaluation`, that evaluates it)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.evaluation_job_file if evaluation else self.job_file,
                              json.dumps({"job_id": job_id}) + "\n")

    def read_job(self, *, evaluation: bool = False) -> str | None:
        """The id of the studio job that trains this run (or evaluates it); None for a run started in a terminal
        (never evaluated from the studio)."""
        try:
            text = (self.evaluation_job_file if evaluation else self.job_file).read_text(encoding="utf-8")
            job_id = json.loads(text).get("job_id")
        except (OSError, ValueError, AttributeError):
            return None
        return job_id if isinstance(job_id, str) else None

    @property
    def evaluation_log(self) -> Path:
        """The evaluation process's output when a studio worker runs it."""
        return self.logs_dir / "evaluate.log"

    @property
    def evaluation_progress_file(self) -> Path:
        return self.eval_dir / "progress.json"

    def write_evaluation_progress(self, done: int, total: int) -> None:
        """How many of an evaluation's images are made, for a studio worker to follow."""
        self.eval_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.evaluation_progress_file, json.dumps({"done": done, "total": total}) + "\n")

    def read_evaluation_progress(self) -> tuple[int, int] | None:
        """(images made, images in all) of the evaluation writing them; None before its first."""
        try:
            values = json.loads(self.evaluation_progress_file.read_text(encoding="utf-8"))
            done, total = step_count(values.get("done")) or 0, step_count(values.get("total"))
        except (OSError, ValueError, AttributeError):
            return None
        return None if total is None else (done, total)

    @property
    def worker_log(self) -> Path:
        """The training process's output when a studio worker runs it."""
        return self.logs_dir / "worker.log"

    def write_config(self, config: TrainConfig) -> None:
        """run.yaml, with its folders absolute (`TrainConfig.with_absolute_folders`)."""
        config.with_absolute_folders().save(self.config_file)

    def read_config(self) -> TrainConfig:
        """The run's settings as a TrainConfig; a ShoegenError naming the file when it is missing or invalid."""
        return build_config(self.config_file)

    def read_config_values(self) -> dict:
        """The run's settings as written, without validation; {} when run.yaml is missing or unreadable."""
        try:
            values = yaml.safe_load(self.config_file.read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return {}
        return values if isinstance(values, dict) else {}
