"""`shoegen doctor`: versions, devices, memory, disk and base-model availability."""

from __future__ import annotations

import argparse
from pathlib import Path

from shoegen.doctor import doctor_report
from shoegen.config.models import DEFAULT_BASE_MODEL


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check this machine: versions, GPU/MPS/CPU, memory, disk, base model",
        description="Report package versions, available devices (CUDA, Apple MPS, CPU) with memory, free disk, "
        "and whether the base model is cached locally or the hub is reachable.",
    )
    parser.add_argument("--base-model", default=DEFAULT_BASE_MODEL,
                        help=f"base model to look for (default: {DEFAULT_BASE_MODEL})")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(doctor_report(args.base_model, Path.cwd()))
    return 0
