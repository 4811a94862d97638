"""Run logs: a JSONL line per optimizer step (step, loss, lr, seconds, and validation loss when measured),
TensorBoard scalars and images, and a loss-curve PNG drawn from the log: by the trainer once it has let go of its
models (matplotlib is not in the training process's peak memory), and again for a reader whenever the log has
changed since (`current_loss_curve`).

Listing runs reads no log: the loop keeps its `LogSummary` (last step, loss, lr, speed) in status.json. A process
that follows a run as it trains reads only what was appended (`LogTail`)."""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from shoegen.files import replaced_atomically
from shoegen.training.run_folder import RunFolder

SPEED_WINDOW = 20
"""Training speed is measured over this many of the last steps."""


@dataclass(frozen=True)
class LogSummary:
    """What a run's listing shows of its train log, kept in status.json by the training loop (`RunLog.summary`)."""

    step: int = 0
    """The last step with a training loss; 0 before the first."""
    loss: float | None = None
    """Training loss at `step`."""
    lr: float | None = None
    steps_per_second: float | None = None
    """Over the last SPEED_WINDOW steps, their own seconds (validation and checkpoints left out)."""

    @classmethod
    def of(cls, records: list[dict]) -> LogSummary:
        """The summary of a whole log (`read_log`'s records)."""
        last = next((r for r in reversed(records) if "loss" in r), {})
        return cls(step=int(last.get("step") or 0), loss=last.get("loss"), lr=last.get("lr"),
                   steps_per_second=steps_per_second(records))

    def to_status(self) -> dict:
        return asdict(self)

    @classmethod
    def from_status(cls, status: dict) -> LogSummary | None:
        """status.json's summary; None when it has none (written before status.json carried one)."""
        kept = status.get("log")
        if not isinstance(kept, dict):
            return None
        step = kept.get("step")
        return cls(step=step if isinstance(step, int) else 0,
                   **{name: value if isinstance(value := kept.get(name), int | float) else None
                      for name in ("loss", "lr", "steps_per_second")})


def log_summary(run: RunFolder, status: dict | None) -> LogSummary:
    """The run's summary from its status.json (`read_status`); for a run whose status.json has none, from its
    log, read again only when the log changed."""
    kept = LogSummary.from_status(status or {})
    if kept is not None:
        return kept
    try:
        stat = run.train_log.stat()
    except OSError:
        return LogSummary()
    return _summary_of_log(run, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1024)
def _summary_of_log(run: RunFolder, mtime_ns: int, size: int) -> LogSummary:
    """Keyed by the log's modification time and size too, so that listing old runs reads each log once."""
    return LogSummary.of(read_log(run))


class RunLog:
    def __init__(self, run: RunFolder, resume_step: int | None):
        run.logs_dir.mkdir(parents=True, exist_ok=True)
        self.jsonl_path = run.train_log
        self._last: dict = {}
        self._seconds: deque[float] = deque(maxlen=SPEED_WINDOW)
        if resume_step is None:
            self.jsonl_path.unlink(missing_ok=True)
        else:
            self._truncate_after(resume_step)
        from torch.utils.tensorboard import SummaryWriter

        self.tensorboard = SummaryWriter(str(run.tensorboard_dir), purge_step=resume_step)

    def _truncate_after(self, step: int) -> None:
        """A resumed run rewrites the steps after its checkpoint, so the log never shows them twice."""
        if not self.jsonl_path.is_file():
            return
        kept = [line for line in self.jsonl_path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        self.jsonl_path.write_text("".join(line + "\n" for line in kept))
        for line in kept:
            record = json.loads(line)
            self._remember(record["step"], record)

    def _remember(self, step: int, values: dict) -> None:
        """Keep what `summary` needs: the last training loss and lr, the recent steps' seconds."""
        if "loss" in values:
            self._last = {"step": step, "loss": values["loss"], "lr": values.get("lr")}
        if isinstance(values.get("seconds"), int | float):
            self._seconds.append(values["seconds"])

    def log(self, step: int, **values: float) -> None:
        with self.jsonl_path.open("a") as handle:
            handle.write(json.dumps({"step": step, **values}) + "\n")
        self._remember(step, values)
        for name, value in values.items():
            self.tensorboard.add_scalar(f"train/{name}", value, step)

    def summary(self) -> LogSummary:
        """The log so far, summarised without reading it (what `LogSummary.of` would find in it)."""
        total = sum(self._seconds)
        return LogSummary(step=self._last.get("step", 0), loss=self._last.get("loss"), lr=self._last.get("lr"),
                          steps_per_second=len(self._seconds) / total if total > 0 else None)

    def log_images(self, step: int, tag: str, images) -> None:
        import numpy as np

        for index, image in enumerate(images):
            self.tensorboard.add_image(f"{tag}/{index}", np.asarray(image), step, dataformats="HWC")

    def flush(self) -> None:
        """Called at each validation rather than every step: a flush per step costs more than the step on tiny models."""
        self.tensorboard.flush()

    def records(self) -> list[dict]:
        if not self.jsonl_path.is_file():
            return []
        return [json.loads(line) for line in self.jsonl_path.read_text().splitlines() if line]

    def close(self) -> None:
        self.tensorboard.close()


def read_log(run: RunFolder) -> list[dict]:
    """The run's train log with each step's lines merged into one record (a step's loss and, when measured, its
    validation loss and scores), by step; [] before the first step. Reads a log another process is writing: a
    half-written last line is left for the next read."""
    return merge_by_step(LogTail(run.train_log).read())


def merge_by_step(records: list[dict]) -> list[dict]:
    by_step: dict[int, dict] = {}
    for record in records:
        by_step.setdefault(record["step"], {}).update(record)
    return [by_step[step] for step in sorted(by_step)]


class LogTail:
    """Follows a train log that another process appends to: each `read` parses only the lines appended since the
    last one. A line without its newline yet is kept for the next read; a log rewritten shorter (a resumed run
    drops the steps after its checkpoint) is read again from its start."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        """Bytes of the file read so far (the kept partial line included)."""
        self.partial = b""
        self.last_step = 0
        """The step of the last complete line read; 0 before the first."""

    @classmethod
    def from_end(cls, path: Path, step: int) -> LogTail:
        """A tail that skips what the log holds now and starts at `step`: a resumed run's process drops the steps
        after its checkpoint (`step`) when it starts, so the log's lines past it are not the run's progress."""
        tail = cls(path)
        try:
            tail.offset = path.stat().st_size
        except OSError:
            tail.offset = 0
        tail.last_step = step
        return tail

    def read(self) -> list[dict]:
        """The records of the complete lines appended since the last read (in file order, not merged)."""
        try:
            with self.path.open("rb") as handle:
                if os.fstat(handle.fileno()).st_size < self.offset:
                    self.offset, self.partial, self.last_step = 0, b"", 0
                handle.seek(self.offset)
                appended = handle.read()
        except OSError:
            return []
        self.offset += len(appended)
        *lines, self.partial = (self.partial + appended).split(b"\n")
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:  # a line that is not JSON (or not UTF-8): skipped, as it always will be
                continue
            if isinstance(record, dict) and isinstance(record.get("step"), int):
                records.append(record)
        if records:
            self.last_step = records[-1]["step"]
        return records


def steps_per_second(records: list[dict], window: int = SPEED_WINDOW) -> float | None:
    """Training speed over the last `window` steps (their own seconds: validation and checkpoints left out)."""
    seconds = [r["seconds"] for r in records if isinstance(r.get("seconds"), int | float)][-window:]
    return len(seconds) / sum(seconds) if seconds and sum(seconds) > 0 else None


LOG_STAMP_KEY = "shoegen:train_log"
"""The PNG text entry naming the log a loss curve was drawn from (its size and modification time)."""
_drawing_locks: dict[Path, threading.Lock] = {}
_drawing_locks_guard = threading.Lock()


def current_loss_curve(run: RunFolder) -> Path | None:
    """The run's loss-curve PNG, drawn again from its log when the log has changed since it was drawn; None before
    the log has a step. The picture names the log it shows (size and time, kept in the PNG), so a line appended
    while it was drawn makes it stale. One thread of a process draws a run at a time (the others then find it
    drawn), and the new picture replaces the old in one rename, so a reader never gets half a file."""
    png = run.loss_curve
    with _drawing_lock(png):
        stamp = _log_stamp(run)
        if stamp is None:
            return png if png.is_file() else None
        if _drawn_from(png) == stamp:
            return png
        records = read_log(run)
        if not records:
            return None
        with replaced_atomically(png) as partial:
            draw_loss_curve(records, partial, metadata={LOG_STAMP_KEY: stamp})
    return png


def _drawing_lock(png: Path) -> threading.Lock:
    with _drawing_locks_guard:
        return _drawing_locks.setdefault(png, threading.Lock())


def _log_stamp(run: RunFolder) -> str | None:
    found = run.train_log_stat()
    return None if found is None else f"{found.st_size} bytes, modified {found.st_mtime_ns} ns"


def _drawn_from(png: Path) -> str | None:
    """The log stamp a loss-curve PNG carries (its text chunks come before the pixels: nothing is decoded)."""
    from PIL import Image

    try:
        with Image.open(png) as image:
            return image.info.get(LOG_STAMP_KEY)
    except (OSError, SyntaxError, ValueError):  # missing, or not a whole PNG: drawn again
        return None


def draw_loss_curve(records: list[dict], path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Training loss (raw and smoothed), the regularisation images' loss and validation loss against the
    optimizer step; with --validation_metrics, the validation images' catalogue (and CLIP) score on a second axis."""
    from matplotlib.figure import Figure  # not pyplot: no global figure state, so server threads may draw at once

    steps = [r["step"] for r in records if "loss" in r]
    losses = [r["loss"] for r in records if "loss" in r]
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.subplots()
    if steps:
        axes.plot(steps, losses, color="#9ab", linewidth=0.8, label="training loss")
        window = max(1, len(losses) // 20)
        smoothed = [sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
                    for i in range(len(losses))]
        axes.plot(steps, smoothed, color="#1f5f9f", linewidth=1.8, label=f"training loss (mean of {window})")
    prior = [(r["step"], r["prior_loss"]) for r in records if "prior_loss" in r]
    if prior:
        axes.plot(*zip(*prior), color="#5c940d", linewidth=0.8, alpha=0.8, label="regularisation images' loss")
    validation = [(r["step"], r["val_loss"]) for r in records if "val_loss" in r]
    if validation:
        axes.plot(*zip(*validation), "o-", color="#d9480f", label="validation loss")
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("loss (MSE)")
    axes.grid(alpha=0.3)
    handles, labels = axes.get_legend_handles_labels()
    scored = [(r["step"], r["score_catalogue_score"]) for r in records if "score_catalogue_score" in r]
    clip = [(r["step"], r["score_clip_score"] / 100) for r in records if "score_clip_score" in r]
    if scored or clip:  # --validation_metrics: the validation images' scores, 0-1, on their own axis
        scores_axes = axes.twinx()
        if scored:
            scores_axes.plot(*zip(*scored), "s--", color="#2b8a3e", label="validation catalogue score")
        if clip:
            scores_axes.plot(*zip(*clip), "^--", color="#862e9c", label="validation CLIP score / 100")
        scores_axes.set_ylim(0, 1.05)
        scores_axes.set_ylabel("score (higher is better)")
        more_handles, more_labels = scores_axes.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    axes.legend(handles, labels, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, format="png", metadata=metadata)
    return path
