"""`shoegen train`: flags generated from TrainConfig, so the YAML keys, the flags and their help are one list."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from shoegen.cli.flags import BASE_MODEL_FLAGS, add_field_flag
from shoegen.config.train import TrainConfig, build_config
from shoegen.errors import ShoegenError
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


def check_before_training(config: TrainConfig) -> int | None:
    """Refuse, before OUTPUT_DIR is touched, what training would refuse only after writing its status there (or,
    with --overwrite_output_dir, after deleting the earlier run): a missing or empty dataset folder, a base model
    that names nothing, fp16 where there is no GPU, a resume that cannot resume, a run in the way. Reads only;
    returns the step a resume starts from (None for a new run)."""
    import torch

    from shoegen.data.formats import read_dataset
    from shoegen.models.resolve import classify
    from shoegen.training import loop

    if config.dataset_path is None:
        raise ShoegenError("--dataset_path is required: the folder of training images and captions.")
    # config/train.py's policy for `auto`: fp16 only on CUDA. On the CPU the frozen fp16 base meets fp32 inputs.
    if config.mixed_precision == "fp16" and not (torch.cuda.is_available() or torch.backends.mps.is_available()):
        raise ShoegenError("--mixed_precision fp16 needs a GPU (CUDA or MPS), and this machine has none: fp16 "
                           "training does not run on the CPU. Use --mixed_precision auto (fp32 here), no, or bf16.")
    for flag, folder in (("--dataset_path", config.dataset_path), ("--validation_path", config.validation_path),
                         ("--reg_data_dir", config.reg_data_dir)):
        if folder is None:
            continue
        try:
            listing = read_dataset(folder)  # lists and pairs the files; decoding them is the trainer's first step
        except ShoegenError as error:
            raise ShoegenError(f"{flag}: {error}") from None
        if not any(entry.caption for entry in listing.entries):
            raise ShoegenError(f"{flag}: {folder} holds no captioned image ({listing.layout} layout): nothing to "
                               f"train on. `shoegen dataset check {folder}` says what it found.")
    classify(config.pretrained_model_name_or_path)  # a path that is no model is refused here; a hub id when loaded
    if config.output_dir.exists() and not config.output_dir.is_dir():
        raise ShoegenError(f"--output_dir {config.output_dir} is a file, not a folder: pick another --output_dir.")
    folder = RunFolder(config.output_dir)
    if config.overwrite_output_dir and not config.resume_from_checkpoint and folder.checkpoints():
        return None  # the trainer deletes the earlier run itself, once these checks have passed
    # The trainer's own checks of its folder (resume: the checkpoint, its steps left, its settings; a new run: no
    # run in the way), which write nothing on this path (no --overwrite_output_dir deletion).
    found = loop._check_run_folder(config, folder, accelerator=None)
    return found.step if found is not None else None


def run(args: argparse.Namespace) -> int:
    from shoegen.training.loop import train

    config = config_from_args(args)
    resumed_from = check_before_training(config)
    main_process = os.environ.get("RANK", "0") == "0"  # `accelerate launch` starts one process per device
    for warning in config.warnings() if main_process else []:
        print(f"warning: {warning}", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = train(config, show_progress=not args.quiet)
    if not result.is_main_process:
        return 0
    # A resumed run trained only the steps after its checkpoint in this process: say so, not the total.
    start = resumed_from or 0
    resumed = f", resumed from checkpoint-{start} (steps 1-{start} were trained before)" if resumed_from else ""
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
