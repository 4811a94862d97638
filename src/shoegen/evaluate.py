"""`shoegen evaluate RUN`: every checkpoint of a run (and the base as step 0) on fixed prompts and seeds, scored,
with the best checkpoint picked by a written rule instead of by eye.

Each model generates the same prompts with the same seeds at the base's native size; every image gets its
catalogue scores (against the run's training photos: their fill range, sharpness and, for memorisation, the
photos themselves), each prompt's seeds their diversity, and each model the model-based scores whose weights
load here (CLIP score, CLIP-I, DINO similarity, KID/FID to the reference photos). The means go to
`eval/scores.jsonl`, the score-versus-step plot to `eval/scores.png`, the images to `eval/step-N/`, and the pick
to `eval/best.json`, which makes `RUN/best` a model name everywhere.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from shoegen.config.scores import (BEST_METRICS, DEFAULT_BEST_METRIC, EVALUATION_SEED, EVALUATION_SEEDS,
                                   METRIC_GROUPS, NOT_BEST_METRICS, BestCheckpoint, CheckpointScores, metric_group,
                                   pick_best)
from shoegen.config.validation import build_settings
from shoegen.engine.engine import Engine, GenerationRequest
from shoegen.errors import ShoegenError
from shoegen.evaluation.catalogue import MemorisationIndex, ReferencePhotos, evenly_spread
from shoegen.evaluation.embeddings import EmbeddingScorer
from shoegen.evaluation.summary import summarise
from shoegen.training.runs import RunInfo, run_dataset

log = logging.getLogger(__name__)
DEFAULT_PROMPTS = 4
REFERENCE_PHOTOS = 64
"""Photos the catalogue references and the model-based scores compare with (evenly drawn): the validation folder's
when the run has one, else the training data's."""


@dataclass
class RunEvaluation:
    scores: list[CheckpointScores]
    best: BestCheckpoint | None
    skipped: dict[str, str]
    """Each model-based metric that could not run, with its one-line reason."""


def evaluation_prompts(run: RunInfo, count: int = DEFAULT_PROMPTS) -> list[str]:
    """The run's validation prompts (those set in the studio while it trained first, as training reads them), else
    `count` distinct captions drawn evenly from its validation folder or training data."""
    prompts = run.folder.validation_prompts()
    if prompts:
        return prompts
    captions = [entry.caption for entry in run_dataset(run, "validation_path") or run_dataset(run) if entry.caption]
    if not captions:
        raise ShoegenError(f"run {run.name!r} has no validation prompts and its dataset's captions cannot be read; "
                           "pass --prompts FILE")
    return evenly_spread(list(dict.fromkeys(captions)), count)


def _photos(run: RunInfo, key: str) -> list[Path]:
    """The image files of the run's `dataset_path` or `validation_path`; [] when it is not set or unreadable."""
    return [entry.image_path for entry in run_dataset(run, key) if entry.image_path.is_file()]


def _candidates(run: RunInfo, base_model: str) -> list[tuple[str | None, str, int]]:
    """(model_name for the request, name shown, step): the base, each checkpoint, the final weights when no
    checkpoint holds the same step."""
    models: list[tuple[str | None, str, int]] = [(None, base_model, 0)]
    models += [(entry.name, entry.name, entry.step or 0) for entry in run.checkpoints]
    if run.has_final:
        steps = {step for _, _, step in models}
        step = run.folder.final_weights_step() or max(steps) + 1
        if step not in steps:
            models.append((run.name, run.name, step))
    return models


def _flag(setting: str) -> str:
    return "--" + setting.replace("_", "-")


def check_evaluable(run: RunInfo) -> None:
    """Refuses a run with nothing to score against the base."""
    if not run.checkpoints and not run.has_final:
        raise ShoegenError(f"run {run.name!r} has no checkpoints and no final weights yet: there is nothing to score "
                           "against the base. Train it first (or wait for its first checkpoint).")


def check_metrics(metrics: Sequence[str], best_metric: str, name: Callable[[str], str] = _flag) -> None:
    """Refuses metric groups and a best metric that cannot be asked for (before anything loads); `name` gives the
    caller's name of the metrics and best_metric settings (the command line's flags by default)."""
    unknown = sorted(set(metrics) - set(METRIC_GROUPS))
    if unknown:
        raise ShoegenError(f"{name('metrics')}: unknown groups {', '.join(unknown)}; choose from "
                           f"{', '.join(METRIC_GROUPS)}")
    if not metrics:
        raise ShoegenError(f"{name('metrics')} names no group: choose one or more of {', '.join(METRIC_GROUPS)}")
    best = f"{name('best_metric')} {best_metric}"
    if best_metric in NOT_BEST_METRICS:
        raise ShoegenError(f"{best}: {NOT_BEST_METRICS[best_metric]}")
    if best_metric not in BEST_METRICS:
        raise ShoegenError(f"{best}: not a metric to pick by; choose from {', '.join(BEST_METRICS)}")
    group = metric_group(best_metric)
    if group not in metrics:
        raise ShoegenError(f"{best} is measured by the {group} group, which {name('metrics')} {','.join(metrics)} "
                           f"leaves out: add {group} to {name('metrics')}, or pick another {name('best_metric')}")


def evaluate_run(engine: Engine, run: RunInfo, *, prompts: list[str] | None = None,
                 seeds: int = EVALUATION_SEEDS, seed: int = EVALUATION_SEED, steps: int | None = None,
                 metrics: Sequence[str] = METRIC_GROUPS,
                 best_metric: str = DEFAULT_BEST_METRIC, scorer: EmbeddingScorer | None = None,
                 show_progress: bool = True) -> RunEvaluation:
    """Scores every model of `run`, writes them into the run folder and picks the best checkpoint. What cannot
    be measured is refused before anything is generated; when no checkpoint gets a value for `best_metric` all
    the same, the earlier evaluation's pick is kept."""
    check_metrics(metrics, best_metric)
    if steps is not None and steps < 1:
        raise ShoegenError(f"--steps must be at least 1, got {steps}")
    check_evaluable(run)
    models = _candidates(run, engine.base_model)
    prompts = prompts or evaluation_prompts(run)
    photos = _photos(run, "dataset_path")
    reference = ReferencePhotos.from_files(photos, REFERENCE_PHOTOS) if photos else None
    memory = MemorisationIndex.from_files(photos) if photos else None
    # Fidelity is measured against held-out photos when the run has a validation folder (DreamBooth's protocol).
    held_out = _photos(run, "validation_path")
    reference_images = ReferencePhotos.from_files(held_out, REFERENCE_PHOTOS).photos if held_out else \
        (reference.photos if reference else None)
    model_based = [group for group in metrics if group != "catalogue"]
    scorer = scorer or (EmbeddingScorer() if model_based else None)
    skipped = scorer.unavailable(model_based) if scorer else {}
    if best_metric in skipped:
        raise ShoegenError(f"--best-metric {best_metric} cannot be measured here: {skipped[best_metric]}")
    if not photos:
        skipped["reference photos"] = "the run's dataset_path cannot be read: no fill range, sharpness or memorisation"
    template = {"prompt": prompts[0], "num_images": 1} | ({"num_inference_steps": steps} if steps else {})
    results = []
    total = len(models) * len(prompts) * seeds
    bar = tqdm(total=total, desc="Evaluating", unit="img", disable=not show_progress)
    run.folder.write_evaluation_progress(0, total)
    for model_name, shown, step in models:
        folder = run.folder.eval_images_dir(step)
        shutil.rmtree(folder, ignore_errors=True)  # an earlier evaluation's images, of other prompts or seeds
        folder.mkdir(parents=True)
        rows = []
        for p, prompt in enumerate(prompts):
            row = []
            for offset in range(seeds):
                request = build_settings(GenerationRequest, template | {"prompt": prompt, "seed": seed + offset,
                                                                         "model_name": model_name}, what=None)
                image = engine.generate(request).images[0].image
                image.save(folder / f"p{p}-s{offset}.png")
                row.append(image)
                bar.update(1)
                run.folder.write_evaluation_progress(bar.n, total)
            rows.append(row)
        summary = summarise(rows, prompts, groups=metrics, reference=reference, memory=memory, scorer=scorer,
                            reference_images=reference_images)
        skipped |= summary.skipped
        results.append(CheckpointScores(model=shown, step=step, images=len(prompts) * seeds, metrics=summary.metrics))
    bar.close()
    run.folder.remove_eval_images(keep={step for _, _, step in models})  # of checkpoints deleted since
    best = pick_best([line for line in results if line.step > 0], best_metric)
    kept = best
    if best is None:
        earlier = run.folder.read_best()
        # Kept only while it is still one of the run's models (not a checkpoint deleted since).
        kept = earlier if earlier is not None and earlier.model in {shown for _, shown, _ in models[1:]} else None
        log.warning("no checkpoint has a value for %s%s; %s", best_metric,
                    f" ({skipped[best_metric]})" if best_metric in skipped else "",
                    f"the earlier pick, {kept.model}, is kept" if kept else "no best checkpoint is picked")
    run.folder.write_scores(results, kept)
    plot_scores(results, kept, run.folder.scores_plot)
    return RunEvaluation(results, best, skipped)


PLOTTED = ("catalogue_score", "background", "passes_catalogue", "diversity", "clip_score")


def plot_scores(scores: list[CheckpointScores], best: BestCheckpoint | None, path: Path) -> Path:
    """Score versus step: the composite and a few components (0-1; the CLIP score / 100), the best step marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    steps = [line.step for line in scores]
    for metric in PLOTTED:
        values = [line.metrics.get(metric) for line in scores]
        if all(value is None for value in values):
            continue
        scale = 0.01 if metric == "clip_score" else 1.0
        axes.plot(steps, [np.nan if v is None else v * scale for v in values], marker="o",
                  label=metric + (" / 100" if scale != 1.0 else ""), linewidth=2.5 if metric == DEFAULT_BEST_METRIC else 1)
    if best is not None:
        axes.axvline(best.step, color="tab:green", linestyle="--", label=f"best: {best.model}")
    axes.set_xlabel("step (0 = base without adapter)")
    axes.set_ylabel("score (higher is better)")
    axes.set_ylim(0, 1.05)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


TABLE_COLUMNS = ("catalogue_score", "background", "fill", "offset", "colour_distance", "sharpness_ratio",
                 "diversity", "memorised", "passes_catalogue", "clip_score", "dino_similarity", "kid")


def format_table(evaluation: RunEvaluation) -> str:
    """The scores as a terminal table, the best row marked with *."""
    columns = [c for c in TABLE_COLUMNS if any(line.metrics.get(c) is not None for line in evaluation.scores)]
    names = [line.model for line in evaluation.scores]
    width = max(len(name) for name in names + ["model"])
    widths = [max(len(column), 6) for column in columns]
    lines = [f"  {'model':<{width}} {'step':>6} " + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths))]
    for line in evaluation.scores:
        mark = "*" if evaluation.best and evaluation.best.model == line.model else " "
        cells = " ".join(f"{'-' if line.metrics.get(c) is None else format(line.metrics[c], '.3f'):>{w}}"
                         for c, w in zip(columns, widths))
        lines.append(f"{mark} {line.model:<{width}} {line.step:>6} {cells}")
    return "\n".join(lines)
