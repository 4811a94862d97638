"""The one `shoegen` entry point. Each subcommand lives in its own module with a `register(subparsers)`
function that adds its parser and sets `handler`, a function taking the parsed namespace and returning
an exit code. Handlers turn flags into typed arguments and call a library function; nothing below the
CLI ever sees the namespace."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Before transformers is first imported: it warns that torchvision is absent, which shoegen never needs.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# Progress bars written to a file or a pipe (a log, CI) redraw every 5 s instead of every step; tqdm reads
# its defaults from TQDM_* variables. (Threads: torch's defaults, see config/threads.py.)
if not sys.stderr.isatty():
    os.environ.setdefault("TQDM_MININTERVAL", "5")
# diffusers notes on every text-encoder-less LoRA that it has no text-encoder keys; expected here.
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

from shoegen import __version__  # noqa: E402
from shoegen.errors import ShoegenError  # noqa: E402

SUBCOMMAND_MODULES = (
    "shoegen.cli.train",
    "shoegen.cli.sample_data",
    "shoegen.cli.dataset",
    "shoegen.cli.base",
    "shoegen.cli.lora",
    "shoegen.cli.doctor",
    "shoegen.cli.serve",
    "shoegen.cli.generate",
    "shoegen.cli.gallery",
    "shoegen.cli.jobs",
    "shoegen.cli.runs",
    "shoegen.cli.evaluate",
    "shoegen.cli.mask",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shoegen",
        description=(
            "Fine-tune Stable Diffusion 1.x with LoRA on product photos and generate new ones. "
            "Run `shoegen COMMAND --help` for the options of each command."
        ),
    )
    parser.add_argument("--version", action="version", version=f"shoegen {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ShoegenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
