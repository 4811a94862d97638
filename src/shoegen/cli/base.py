"""`shoegen base path NAME`: where a built-in base model lives, built first if needed."""

from __future__ import annotations

import argparse

from shoegen.models.resolve import BUILTIN_BASES, builtin_base_path


def register(subparsers) -> None:
    parser = subparsers.add_parser("base", help="built-in base models",
                                   description="Built-in Stable Diffusion 1.x architecture base models.")
    commands = parser.add_subparsers(dest="base_command", metavar="SUBCOMMAND", required=True)
    path = commands.add_parser(
        "path",
        help="print a built-in base's diffusers folder (building it on first use)",
        description="Print the local diffusers folder of a built-in base, building and caching it first if "
        "needed (offline, deterministic). Any diffusers code can load it: "
        "StableDiffusionPipeline.from_pretrained(folder). Cache: $SHOEGEN_CACHE_DIR or ~/.cache/shoegen.",
    )
    path.add_argument("name", choices=BUILTIN_BASES, help="built-in base name")
    path.set_defaults(handler=run_path)


def run_path(args: argparse.Namespace) -> int:
    print(builtin_base_path(args.name))
    return 0
