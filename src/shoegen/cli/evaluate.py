"""`shoegen evaluate RUN`: score every checkpoint of a run and pick the best one by a number."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shoegen.cli.flags import add_base_model_flags, model_settings
from shoegen.config.scores import (BEST_METRICS, DEFAULT_BEST_METRIC, EVALUATION_MAX_SEEDS, EVALUATION_SEED,
                                   EVALUATION_SEEDS, METRIC_GROUPS, metric_group)
from shoegen.errors import ShoegenError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="score every checkpoint of a run and pick the best one",
        description="Generate the same prompts and seeds with every checkpoint of RUN (and the base without "
        "adapter, as step 0), score each image (catalogue scores: white background, framing, colour true to the "
        "prompt, sharpness, seed diversity, memorisation of training photos; CLIP and DINOv2 scores where their "
        "weights load), and pick the best checkpoint: by default the highest catalogue_score, the mean composite "
        "catalogue score times the share of images that are not near copies of a training photo. Writes "
        "eval/scores.jsonl, eval/scores.png (score versus step) and eval/best.json into the run folder; "
        "afterwards RUN/best is a model name for generate, batch, grid, the API and the studio.",
        epilog="example: shoegen evaluate shoes --seeds 4   (or a run folder: shoegen evaluate runs/shoes)",
    )
    parser.add_argument("run", help="run name under the models folder, or a run folder's path")
    parser.add_argument("--prompts", type=Path, help="prompts file, one per line (default: the run's validation "
                        "prompts, else 4 captions drawn from its validation folder or training data)")
    parser.add_argument("--seeds", type=int, default=EVALUATION_SEEDS, help=f"images per prompt, seeds --seed, +1, "
                        f"... (default {EVALUATION_SEEDS}, at most {EVALUATION_MAX_SEEDS}; diversity needs at least 2)")
    parser.add_argument("--seed", type=int, default=EVALUATION_SEED, help=f"first seed (default {EVALUATION_SEED})")
    parser.add_argument("--steps", type=int, help="denoising steps per image (default: the generation default)")
    parser.add_argument("--metrics", default=",".join(METRIC_GROUPS),
                        help=f"comma-separated groups out of {', '.join(METRIC_GROUPS)} (default: all; a model "
                        "whose weights are not at hand is skipped with a one-line notice; only the groups named "
                        "load their models). It must hold the --best-metric's group")
    parser.add_argument("--best-metric", default=DEFAULT_BEST_METRIC, metavar="METRIC",
                        help=f"the metric the best checkpoint is picked by (default {DEFAULT_BEST_METRIC}); one of "
                        f"{_by_group(BEST_METRICS)}. FID is measured only with more images a set than an "
                        "evaluation draws, so it is not offered: kid is the distance for small sets")
    add_base_model_flags(parser)
    parser.set_defaults(handler=run_evaluate)


def _by_group(metrics: tuple[str, ...]) -> str:
    groups: dict[str, list[str]] = {}
    for metric in metrics:
        groups.setdefault(metric_group(metric), []).append(metric)
    return "; ".join(f"{group}: {', '.join(names)}" for group, names in groups.items())


def _run_and_models_dir(args: argparse.Namespace) -> tuple[str, Path | None]:
    """A path to a run folder names the run and its models folder; a bare name is looked up in --models-dir."""
    given = Path(args.run)
    # A bare name with --models-dir is a name there, even where the working folder holds a run of that name.
    named = args.models_dir is not None and "/" not in args.run and os.sep not in args.run
    if named or not (given / "run.yaml").is_file():
        return args.run, None
    folder = given.resolve()
    if args.models_dir is not None and Path(args.models_dir).resolve() != folder.parent:
        raise ShoegenError(f"{args.run} is a run folder in {folder.parent}, and --models-dir says {args.models_dir}: "
                           "give the run's name with --models-dir, or its folder alone")
    return folder.name, folder.parent


def run_evaluate(args: argparse.Namespace) -> int:
    from shoegen.engine.engine import Engine
    from shoegen.evaluate import evaluate_run, format_table
    from shoegen.outputs import read_prompts
    from shoegen.training.runs import find_run

    if not 1 <= args.seeds <= EVALUATION_MAX_SEEDS:
        raise ShoegenError(f"--seeds must be 1 to {EVALUATION_MAX_SEEDS}, got {args.seeds}")
    name, models_dir = _run_and_models_dir(args)
    settings = model_settings(args)
    models_dir = models_dir or settings.models_dir
    run = find_run(models_dir, name)
    # The run's own base unless one is named: a LoRA is only meaningful on the base it was trained on.
    base = args.base_model or run.folder.read_config_values().get("pretrained_model_name_or_path") \
        or settings.base_model
    prompts = read_prompts(args.prompts) if args.prompts else None
    metrics = [group.strip() for group in args.metrics.split(",") if group.strip()]
    evaluation = evaluate_run(Engine(base, models_dir), run, prompts=prompts, seeds=args.seeds, seed=args.seed,
                              steps=args.steps, metrics=metrics, best_metric=args.best_metric)
    by_reason: dict[str, list[str]] = {}
    for metric, reason in evaluation.skipped.items():
        by_reason.setdefault(reason, []).append(metric)
    for reason, skipped in by_reason.items():
        print(f"notice: {', '.join(skipped)} skipped: {reason}", file=sys.stderr)
    print(format_table(evaluation))
    if evaluation.best:
        print(f"best: {evaluation.best.model} (step {evaluation.best.step}, {evaluation.best.metric} "
              f"{evaluation.best.value:.3f}) -> use it as {run.name}/best")
    else:
        earlier = run.folder.read_best()
        print(f"no best checkpoint: no checkpoint has a value for {args.best_metric}" +
              (f"; {run.name}/best is still {earlier.model}, the earlier pick by {earlier.metric}" if earlier else ""))
    print(f"scores: {run.folder.scores_file}\nplot:   {run.folder.scores_plot}")
    return 0
