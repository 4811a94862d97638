"""`shoegen train`: flags generated from TrainConfig, so the YAML keys, the flags and their help are one list."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from shoegen.cli.flags import BASE_MODEL_FLAGS, add_field_flag
from shoegen.config.train import TrainConfig, build_config
from shoegen.processes import follow_parent_if_asked
from shoegen.training.run_folder import RunFolder

EXAMPLE = """\
examples:
  shoegen train --base-model tiny --dataset_path data/shoes --output_dir runs/try \\
      --resolution 64 --max_train_steps 200
  shoegen train --config configs/shoes-sd15.yaml --learning_rate 5e-5
  shoegen train --config configs/shoes-sd15.yaml --resume_from_checkpoint latest
  accelerate launch --num_processes 2 -m shoegen.cli.main train --config configs/shoes-sd15.yaml

Command-line flags override the --config file; the resolved settings are written to OUTPUT_DIR/run.yaml.
--base-model is also spelled --pretrained_model_name_or_path, as in the diffusers training scripts.
On a CPU, a run of 100 steps or more times its first ~40 steps to pick the fastest thread count, convolutions
and LoRA form, logs the choice and keeps it in OUTPUT_DIR/logs/step_tuning.json (OMP_NUM_THREADS fixes the count).
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="fine-tune a LoRA adapter on a folder of captioned product photos",
        description="Train LoRA adapters on a Stable Diffusion 1.x base. Writes checkpoints, validation "
        "images, logs (JSONL, TensorBoard, loss curve) and the final adapter to --output_dir.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="YAML file of training settings (keys as the flags below)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    for name in TrainConfig.model_fields:
        add_field_flag(parser, TrainConfig, name, BASE_MODEL_FLAGS if name == "pretrained_model_name_or_path" else None)
    parser.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The settings to train with: the --config file, with the flags that were typed over it."""
    overrides = {name: value for name, value in vars(args).items() if name in TrainConfig.model_fields}
    return build_config(args.config, overrides)


def run(args: argparse.Namespace) -> int:
    follow_parent_if_asked()  # a studio worker's run: it ends with the worker, whatever launched it between
    from shoegen.training.loop import train

    config = config_from_args(args)
    main_process = os.environ.get("RANK", "0") == "0"  # `accelerate launch` starts one process per device
    for warning in config.warnings() if main_process else []:
        print(f"warning: {warning}", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = train(config, show_progress=not args.quiet)
    if not result.is_main_process:
        return 0
    # A resumed run trained only the steps after its checkpoint in this process: say so, not the total.
    start = result.resumed_from or 0
    resumed = f", resumed from checkpoint-{start} (steps 1-{start} were trained before)" if start else ""
    if result.stopped:
        print(f"stopped on request at step {result.final_step} of {config.max_train_steps} after "
              f"{result.final_step - start} steps in {result.seconds:.1f} s{resumed}; continue with "
              "--resume_from_checkpoint latest (or `shoegen runs resume`)")
    else:
        print(f"trained {result.final_step - start} steps in {result.seconds:.1f} s{resumed}")
        print(f"final adapter: {result.lora_weights}")
    print(f"checkpoints:   {', '.join(p.name for p in result.checkpoints) or 'none'}")
    loss_curve = RunFolder(result.output_dir).loss_curve
    if loss_curve.is_file():  # not drawn: the run logged a warning saying why
        print(f"loss curve:    {loss_curve}")
    return 0
