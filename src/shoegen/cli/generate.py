"""`shoegen generate`, `shoegen batch`, `shoegen grid`: generation to files, without the service."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path

from shoegen.engine.prompts import LoraRef
from shoegen.engine.samplers import DEFAULT_SAMPLER, SAMPLERS
from shoegen.errors import ShoegenError
from shoegen.config.models import DEFAULT_BASE_MODEL


def register(subparsers) -> None:
    generate = subparsers.add_parser(
        "generate", help="generate images from a prompt into PNG files",
        description="Generate images and write PNGs with their parameters embedded (AUTOMATIC1111's "
        "`parameters` text and JSON), then print their paths.",
        epilog='example: shoegen generate "A professional product photo of red suede boots" -n 4 '
        "--model shoes/checkpoint-1500 --base-model tiny",
    )
    generate.add_argument("prompt", help="the prompt; `<lora:name:weight>` tags apply adapters")
    generate.add_argument("--output", type=Path, default=Path("generated"), help="folder (default ./generated)")
    add_generation_flags(generate)
    generate.set_defaults(handler=run_generate)

    batch = subparsers.add_parser(
        "batch", help="generate for every prompt in a file, resumable",
        description="Generate -n images for each line of a prompts file into "
        "generated_batch/batch_YYYYMMDD_HHMMSS/ with a manifest.json. Rerun with --output of an existing "
        "batch to finish it: images already there are skipped.",
    )
    batch.add_argument("prompts_file", type=Path, help="one prompt per line; # starts a comment")
    batch.add_argument("--output", type=Path, help="batch folder (default generated_batch/batch_<time>)")
    add_generation_flags(batch, default_seed=42)
    batch.set_defaults(handler=run_batch_command)

    grid = subparsers.add_parser(
        "grid", help="compare checkpoints: one labelled image, prompts x models, same seeds",
        description="Generate every prompt with every model at the same seed and write one labelled "
        "comparison image, to pick the best checkpoint by eye.",
        epilog="example: shoegen grid --prompts 'red boots' 'white sneakers' "
        "--models shoes/checkpoint-500,shoes/checkpoint-1000,shoes",
    )
    grid.add_argument("--prompts", nargs="+", required=True, help="one or more prompts (rows)")
    grid.add_argument("--models", required=True, help="comma-separated model names (columns); the base model's "
                      "name gives the base without adapter")
    grid.add_argument("--output", type=Path, default=Path("grid.png"), help="image file (default grid.png)")
    add_generation_flags(grid, default_seed=42, with_model=False)
    grid.set_defaults(handler=run_grid)

    models = subparsers.add_parser(
        "models", help="list the adapters generation can use",
        description="List every run's final weights and checkpoints, and loose LoRA files, under the models "
        "folder, by the names that --model, <lora:NAME:weight> and the API accept.",
    )
    models.add_argument("--models-dir", type=Path, default=_default_models_dir(),
                        help="training runs and LoRA files (default $SHOEGEN_MODELS_DIR, $MODELS_DIR or ./runs)")
    models.set_defaults(handler=run_models)


def _default_models_dir() -> Path:
    return Path(os.environ.get("SHOEGEN_MODELS_DIR") or os.environ.get("MODELS_DIR") or "runs")


def run_models(args: argparse.Namespace) -> int:
    from shoegen.engine.models import discover_adapters

    entries = discover_adapters(args.models_dir)
    if not entries:
        print(f"no adapters under {args.models_dir} (train one with `shoegen train --output_dir "
              f"{args.models_dir}/NAME`)")
    for entry in entries:
        step = f"step {entry.step}" if entry.step is not None else ""
        print(f"{entry.name:<40} {entry.type:<10} {step}")
    return 0


def add_generation_flags(parser: argparse.ArgumentParser, default_seed: int | None = None,
                         with_model: bool = True) -> None:
    parser.add_argument("--base-model", default=os.environ.get("SHOEGEN_BASE_MODEL", DEFAULT_BASE_MODEL),
                        help="base model: hub id, folder, single file, or built-in `tiny` / `demo` (default $SHOEGEN_BASE_MODEL or "
                        f"{DEFAULT_BASE_MODEL})")
    parser.add_argument("--models-dir", type=Path, default=_default_models_dir(),
                        help="training runs and LoRA files (default $SHOEGEN_MODELS_DIR, $MODELS_DIR or ./runs)")
    if with_model:
        parser.add_argument("--model", help="adapter to apply, e.g. `shoes/checkpoint-1500` (default: base only)")
    parser.add_argument("-n", "--num-images", type=int, default=1, help="images per prompt (default 1)")
    parser.add_argument("--negative-prompt", default="", help="what to avoid")
    parser.add_argument("--steps", type=int, default=30, help="denoising steps (default 30)")
    parser.add_argument("--guidance", type=float, default=7.5, help="classifier-free guidance scale (default 7.5)")
    parser.add_argument("--seed", type=int, default=default_seed,
                        help="first seed; image i uses seed+i" + (f" (default {default_seed})" if default_seed
                                                                   is not None else " (default random, printed)"))
    parser.add_argument("--sampler", default=DEFAULT_SAMPLER,
                        help=f"one of: {', '.join(s.name for s in SAMPLERS)} (default {DEFAULT_SAMPLER})")
    parser.add_argument("--width", type=int, default=512, help="pixels, multiple of 8 (default 512)")
    parser.add_argument("--height", type=int, default=512, help="pixels, multiple of 8 (default 512)")
    parser.add_argument("--lora", action="append", default=[], metavar="NAME[:WEIGHT]",
                        help="extra adapter with a weight; repeat for several")
    parser.add_argument("--init-image", type=Path, help="img2img: start from this image")
    parser.add_argument("--strength", type=float, default=0.75, help="img2img strength (default 0.75)")


def _lora(text: str) -> LoraRef:
    name, _, weight = text.rpartition(":") if ":" in text else (text, "", "1")
    try:
        return LoraRef(name, float(weight))
    except ValueError:
        raise ShoegenError(f"--lora {text!r}: expected NAME or NAME:WEIGHT") from None


def request_from_args(args: argparse.Namespace, prompt: str):
    from shoegen.data.images import open_rgb
    from shoegen.engine.engine import GenerationRequest

    return GenerationRequest(
        prompt=prompt, negative_prompt=args.negative_prompt, model=getattr(args, "model", None),
        loras=[_lora(text) for text in args.lora], sampler=args.sampler, steps=args.steps,
        guidance_scale=args.guidance, width=args.width, height=args.height, num_images=args.num_images,
        seed=args.seed, init_image=open_rgb(args.init_image) if args.init_image else None, strength=args.strength,
    )


def engine_from_args(args: argparse.Namespace):
    from shoegen.engine.engine import Engine

    return Engine(args.base_model, args.models_dir)


def run_generate(args: argparse.Namespace) -> int:
    from shoegen.engine.outputs import generate_to_folder

    for path in generate_to_folder(engine_from_args(args), request_from_args(args, args.prompt), args.output):
        print(path)
    return 0


def run_batch_command(args: argparse.Namespace) -> int:
    from shoegen.engine.outputs import read_prompts, run_batch

    prompts = read_prompts(args.prompts_file)
    folder = args.output or Path("generated_batch") / datetime.now().strftime("batch_%Y%m%d_%H%M%S")
    summary = run_batch(engine_from_args(args), prompts, request_from_args(args, ""), folder)
    print(f"{len(summary.written)} images written, {summary.skipped} already there: {summary.folder}")
    return 0


def run_grid(args: argparse.Namespace) -> int:
    from shoegen.engine.outputs import comparison_grid

    models = [name.strip() for name in args.models.split(",") if name.strip()]
    grid = comparison_grid(engine_from_args(args), args.prompts, models, request_from_args(args, ""))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.output)
    print(args.output)
    return 0
