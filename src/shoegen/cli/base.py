"""`shoegen base path NAME` and `shoegen base pretrain DIR`: the built-in base models."""

from __future__ import annotations

import argparse
from pathlib import Path

from shoegen.cli.flags import add_field_flag
from shoegen.config.pretrain import PretrainRecipe, build_recipe, flag_name
from shoegen.errors import ShoegenError
from shoegen.models.resolve import BUILTIN_BASES, builtin_base_path, write_atomically

def register(subparsers) -> None:
    parser = subparsers.add_parser("base", help="built-in base models",
                                   description="Built-in Stable Diffusion 1.x architecture base models.")
    commands = parser.add_subparsers(dest="base_command", metavar="SUBCOMMAND", required=True)
    path = commands.add_parser(
        "path",
        help="print a built-in base's diffusers folder (building it on first use)",
        description="Print the local diffusers folder of a built-in base, building and caching it first if "
        "needed (offline, deterministic). `tiny`: random weights, built in a second, proves that code runs. "
        "`demo`: trained from scratch on rendered shoe photos (watermelon pattern held out), several minutes "
        "on a CPU the first time, so training and LoRAs visibly change what is generated. Any diffusers "
        "code can load the folder: StableDiffusionPipeline.from_pretrained(folder). "
        "Cache: $SHOEGEN_CACHE_DIR or ~/.cache/shoegen.",
    )
    path.add_argument("name", choices=BUILTIN_BASES, help="built-in base name")
    path.set_defaults(handler=run_path)

    pretrain = commands.add_parser(
        "pretrain",
        help="train a small base model from scratch on rendered shoe photos",
        description="Train a small Stable Diffusion 1.x architecture base from scratch, offline: render shoe "
        "photos (one pattern held out), train the autoencoder to reconstruct them, then the UNet and text "
        "encoder to generate them from their captions. Writes a diffusers folder usable as "
        "--pretrained_model_name_or_path. With the defaults this is the built-in `demo` base.",
    )
    pretrain.add_argument("output", type=Path, help="folder to write (must not exist or be empty)")
    for name in PretrainRecipe.model_fields:
        add_field_flag(pretrain, PretrainRecipe, name, [flag_name(name)])
    pretrain.set_defaults(handler=run_pretrain)


def run_path(args: argparse.Namespace) -> int:
    print(builtin_base_path(args.name))
    return 0


def run_pretrain(args: argparse.Namespace) -> int:
    from shoegen.training.pretrain import check_recipe, pretrain_base

    recipe = build_recipe({name: value for name, value in vars(args).items() if name in PretrainRecipe.model_fields})
    check_recipe(recipe)
    if args.output.exists() and (not args.output.is_dir() or any(args.output.iterdir())):
        raise ShoegenError(f"{args.output} already exists and is not an empty folder; it was left untouched.")
    write_atomically(args.output, lambda staging: pretrain_base(staging, recipe, show_progress=True))
    print(args.output)
    return 0
