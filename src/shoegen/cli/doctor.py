"""`shoegen doctor`: versions, devices, memory, disk and base-model availability."""

from __future__ import annotations

import argparse
from pathlib import Path

from shoegen.cli.flags import add_base_model_flags, model_settings
from shoegen.doctor import doctor_report


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check this machine: versions, GPU/MPS/CPU, memory, disk, base model",
        description="Report package versions, available devices (CUDA, Apple MPS, CPU) with memory, free disk, "
        "and whether the base model is cached locally or the hub is reachable. Exits 1 when something found stops "
        "generation or training here (the base model cannot be loaded, the CLIP vocabulary is missing).",
    )
    add_base_model_flags(parser, models_dir=False)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    report, problems = doctor_report(model_settings(args).base_model, Path.cwd())
    print(report)
    return 1 if problems else 0
