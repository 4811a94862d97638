"""Run logs: a JSONL line per optimizer step (step, loss, lr, seconds, and validation loss when measured),
TensorBoard scalars and images, and a loss-curve PNG redrawn at every validation."""

from __future__ import annotations

import json
from pathlib import Path

from shoegen.training.run_folder import RunFolder


class RunLog:
    def __init__(self, run: RunFolder, resume_step: int | None):
        run.logs_dir.mkdir(parents=True, exist_ok=True)
        self.jsonl_path = run.train_log
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

    def log(self, step: int, **values: float) -> None:
        with self.jsonl_path.open("a") as handle:
            handle.write(json.dumps({"step": step, **values}) + "\n")
        for name, value in values.items():
            self.tensorboard.add_scalar(f"train/{name}", value, step)

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
    try:
        text = run.train_log.read_text(encoding="utf-8")
    except OSError:
        return []
    by_step: dict[int, dict] = {}
    for line in text.split("\n")[:-1]:  # the last piece has no newline yet (or is empty)
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            by_step.setdefault(record["step"], {}).update(record)
    return [by_step[step] for step in sorted(by_step)]


def steps_per_second(records: list[dict], window: int = 20) -> float | None:
    """Training speed over the last `window` steps (their own seconds: validation and checkpoints left out)."""
    seconds = [r["seconds"] for r in records[-window:] if isinstance(r.get("seconds"), int | float)]
    return len(seconds) / sum(seconds) if seconds and sum(seconds) > 0 else None


def draw_loss_curve(records: list[dict], path: Path) -> Path:
    """Training loss (raw and smoothed), the regularisation images' loss and validation loss against the
    optimizer step; with --validation_metrics, the validation images' catalogue (and CLIP) score on a second axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records if "loss" in r]
    losses = [r["loss"] for r in records if "loss" in r]
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
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
    figure.savefig(path)
    plt.close(figure)
    return path
