"""`shoegen generate`, `shoegen batch`, `shoegen grid`: generation to files, without the service.

Their generation flags are made from `GenerationParams`' fields (bounds, defaults and help included), so the
CLI, the API and the engine cannot disagree; `FLAGS` only names each field on the command line."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path

from shoegen.cli.flags import (add_base_model_flags, add_engine_flags, add_field_flag, engine_settings, image_format,
                               model_settings, picture_file, refuse_existing, writable_folder)
from shoegen.config.generation import GenerationParams, LoraWeight
from shoegen.config.validation import build_settings
from shoegen.errors import ShoegenError

# Field → its flags (the last is the one errors name). `prompt` is a positional argument or a file's lines.
FLAGS = {
    "model_name": ("--model",),
    "num_images": ("-n", "--num-images"),
    "negative_prompt": ("--negative-prompt",),
    "num_inference_steps": ("--steps",),
    "guidance_scale": ("--guidance",),
    "seed": ("--seed",),
    "sampler": ("--sampler",),
    "width": ("--width",),
    "height": ("--height",),
    "loras": ("--lora",),
    "strength": ("--strength",),
    "clip_skip": ("--clip-skip",),
    "mode": ("--mode",),
    "mask_blur": ("--mask-blur",),
    "masked_content": ("--masked-content",),
    "mask_invert": ("--mask-invert",),
    "outpaint_fill": ("--outpaint-fill",),
    "aspect_ratio": ("--format",),
    "placement": ("--placement",),
    "hires_scale": ("--hires",),
    "hires_strength": ("--hires-strength",),
    "hires_steps": ("--hires-steps",),
    "hires_upscaler": ("--hires-upscaler",),
}
PICTURE_FLAGS = {"init_image": "--init-image", "mask_image": "--mask", "controlnets": "--controlnet"}
"""The request's pictures, each read from the file its flag names."""


def flag_of_field(field: str) -> str:
    """How the command line calls a request's field, in the engine's errors: `--format` for aspect_ratio."""
    return FLAGS[field][-1] if field in FLAGS else PICTURE_FLAGS.get(field, field)


def register(subparsers) -> None:
    generate = subparsers.add_parser(
        "generate", help="generate images from a prompt into PNG files",
        description="Generate images and write PNGs with their parameters embedded (AUTOMATIC1111's "
        "`parameters` text and JSON), then print their paths.",
        epilog='examples:\n  shoegen generate "A professional product photo of red suede boots" -n 4 '
        "--model shoes/checkpoint-1500 --base-model tiny\n"
        '  shoegen generate "on a wooden table, morning light" --mode background --init-image photo.jpg\n'
        '  shoegen generate "white studio" --mode outpaint --format 4:5 --outpaint-fill white --init-image photo.jpg\n'
        '  shoegen generate "red boots" --hires 2 --hires-strength 0.5\n'
        '  shoegen generate "a sneaker" --controlnet lllyasviel/control_v11p_sd15_canny:edges-from.png:0.8',
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    grid.add_argument("--output", type=Path, default=Path("grid.png"), help="image file (default grid.png); an "
                      "existing one is kept unless --overwrite")
    grid.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    add_generation_flags(grid, default_seed=42, with_model=False)  # a cell per model, one image each: no -n
    grid.set_defaults(handler=run_grid)

    models = subparsers.add_parser(
        "models", help="list the adapters, ControlNets and upscalers generation can use",
        description="List every run's final weights and checkpoints, and loose LoRA files, under the models "
        "folder, by the names that --model, <lora:NAME:weight> and the API accept; then the ControlNets usable "
        "offline (--controlnet) and the hires fix's upscalers (--hires-upscaler).",
    )
    models.add_argument("--models-dir", type=Path, help="training runs and LoRA files (default $SHOEGEN_MODELS_DIR, "
                        "$MODELS_DIR or ./runs)")
    models.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    from shoegen.models.controlnets import available_controlnets
    from shoegen.models.upscalers import LANCZOS, UPSCALERS_FOLDER, upscaler_names
    from shoegen.training.runs import discover_adapters

    models_dir = model_settings(args).models_dir
    entries = discover_adapters(models_dir)
    if not entries:
        print(f"no adapters under {models_dir} (train one with `shoegen train --output_dir {models_dir}/NAME`)")
    for entry in entries:
        step = f"step {entry.step}" if entry.step is not None else ""
        print(f"{entry.name:<40} {entry.type:<10} {step}")
    print("\nControlNets (--controlnet; any other hub id is fetched where the hub is reachable):")
    for name, source in available_controlnets(models_dir):
        print(f"  {name:<38} {source}")
    print(f"\nupscalers (--hires-upscaler; model files go in {models_dir / UPSCALERS_FOLDER}):")
    for name in upscaler_names(models_dir):
        print(f"  {name:<38} {'built-in' if name == LANCZOS else 'file'}")
    return 0


def add_generation_flags(parser: argparse.ArgumentParser, default_seed: int | None = None,
                         with_model: bool = True) -> None:
    """The generation flags; without `with_model` (the grid, whose columns are the models) no --model and no -n."""
    add_base_model_flags(parser)
    parser.set_defaults(generation_defaults={} if default_seed is None else {"seed": default_seed})
    for name, flags in FLAGS.items():
        if name == "loras":
            parser.add_argument(*flags, dest="loras", action="append", type=_lora, metavar="NAME[:WEIGHT]",
                                default=argparse.SUPPRESS, help="adapter with a weight (-4 to 4, default 1); "
                                "repeat for several")
        elif with_model or name not in ("model_name", "num_images"):
            add_field_flag(parser, GenerationParams, name, flags, default_seed if name == "seed" else None)
    parser.add_argument("--init-image", type=Path, help="img2img: start from this image; inpaint, background, "
                        "outpaint: the photo")
    parser.add_argument("--mask", type=Path, help="inpaint: white where the photo is repainted; background: white on "
                        "the product (found automatically without one; `shoegen mask` shows what it finds)")
    parser.add_argument("--controlnet", dest="controlnets", action="append", type=_controlnet,
                        metavar="MODEL:IMAGE[:SCALE[:PREPROCESSOR]]", default=argparse.SUPPRESS,
                        help="condition on a ControlNet: a hub id (lllyasviel/control_v11p_sd15_canny), a folder name "
                        "of MODELS_DIR/controlnets/ or `tiny`; IMAGE a control image (empty: the --init-image photo); "
                        "SCALE 0 to 2 (default 1); PREPROCESSOR canny (default: its edges) or none (the image as "
                        "given); repeat for several")
    add_engine_flags(parser)


def _lora(text: str) -> LoraWeight:
    name, _, weight = text.rpartition(":") if ":" in text else (text, "", "1")
    try:
        return LoraWeight(name=name, weight=float(weight))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected NAME or NAME:WEIGHT with a weight from -4 to 4, got {text!r}"
                                         ) from error


def _controlnet(text: str) -> tuple[dict, Path | None]:
    model, _, rest = text.partition(":")
    image, _, rest = rest.partition(":")
    scale, _, preprocessor = rest.partition(":")
    if not model:
        raise argparse.ArgumentTypeError(f"expected MODEL:IMAGE[:SCALE[:PREPROCESSOR]], got {text!r}")
    unit = {"model": model, **({"preprocessor": preprocessor} if preprocessor else {})}
    if scale:
        try:
            unit["scale"] = float(scale)
        except ValueError:
            raise argparse.ArgumentTypeError(f"the scale of {text!r} is not a number") from None
    return unit, Path(image) if image else None


def request_from_args(args: argparse.Namespace, prompt: str):
    """The engine's request: the flags typed, the command's own defaults, and the parameters' defaults."""
    refuse_ignored_flags(args)  # before torch is imported: a second, not three
    from shoegen.engine.engine import GenerationRequest

    values = {**args.generation_defaults, **{name: getattr(args, name) for name in FLAGS if hasattr(args, name)}}
    init_image = picture_file("--init-image", args.init_image) if args.init_image else None
    mask_image = picture_file("--mask", args.mask, mask=True) if args.mask else None
    controls = getattr(args, "controlnets", [])
    images = {"init_image": init_image, "mask_image": mask_image, "controlnets": [unit for unit, _ in controls],
              "control_images": [picture_file("--controlnet", path) if path else None for _, path in controls]}
    return build_settings(GenerationRequest, {**values, "prompt": prompt, **images}, what=None,
                          option=flag_of_field, sentences=True)


HIRES_OPTIONS = ("hires_strength", "hires_steps", "hires_upscaler")
"""The hires fix's settings: they act only with --hires (its scale)."""
STRENGTH_MODES = ("img2img", "inpaint")
"""The modes that repaint the start image by --strength (background and outpaint generate their new area anew)."""
MODE_OPTIONS = {"mask_blur": ("inpaint", "background", "outpaint"), "masked_content": ("inpaint",),
                "mask_invert": ("inpaint", "background"), "outpaint_fill": ("outpaint",), "placement": ("outpaint",),
                "aspect_ratio": ("outpaint",)}
"""The settings that act only in some modes, and those modes."""


def refuse_ignored_flags(args: argparse.Namespace) -> None:
    """A flag typed that would change nothing is refused, naming what it needs: --strength without a start image to
    repaint, the hires fix's settings without --hires, a mode's settings in another mode. (Flags not typed are absent
    from `args`.)"""
    typed = {name for name in FLAGS if hasattr(args, name)}
    hires = [FLAGS[name][-1] for name in HIRES_OPTIONS if name in typed]
    if hires and "hires_scale" not in typed:
        them = "it" if len(hires) == 1 else "them"
        raise ShoegenError(f"{', '.join(hires)} {'sets' if len(hires) == 1 else 'set'} the hires fix, which runs only "
                           f"with --hires SCALE (e.g. --hires 2): add --hires, or drop {them}")
    mode = getattr(args, "mode", None) or ("img2img" if args.init_image is not None else "txt2img")
    for name, modes in MODE_OPTIONS.items():
        if name in typed and mode not in modes:
            listed = modes[0] if len(modes) == 1 else f"{', '.join(modes[:-1])} and {modes[-1]}"
            raise ShoegenError(f"{FLAGS[name][-1]} acts in --mode {listed}, and this is {mode}: "
                               f"{'pick that mode' if len(modes) == 1 else 'pick one of them'}, or drop "
                               f"{FLAGS[name][-1]}")
    if "strength" in typed:
        if args.init_image is None:
            raise ShoegenError("--strength is how much of a start image is repainted: give one with --init-image "
                               "(img2img or inpaint), or drop --strength (text-to-image starts from noise)")
        mode = getattr(args, "mode", None) or "img2img"
        if mode not in STRENGTH_MODES:
            raise ShoegenError(f"--strength acts in img2img and inpaint; mode {mode} generates its new area anew and "
                               "ignores it: drop --strength")
        if getattr(args, "masked_content", None) == "latent_noise":
            raise ShoegenError("--masked-content latent_noise repaints its area from noise, all of it: drop "
                               "--strength (it acts with original, fill and latent_nothing)")


def engine_for(args: argparse.Namespace, request):
    """The engine, once `request` is proven to suit it and its base (what its mode needs, its size and Clip skip
    against the base's configuration), before the base loads; the errors name the flags."""
    from shoegen.engine.engine import Engine

    settings, options = model_settings(args), engine_settings(args)
    show_engine_log(verbose=options.compile)
    engine = Engine(settings.base_model, settings.models_dir, settings=options)
    engine.check(request, flag_of_field)
    return engine


class _EngineLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        return f"warning: {text}" if record.levelno >= logging.WARNING else text


def show_engine_log(verbose: bool = False) -> None:
    """The engine's warnings (a size far from the base's native size, a compile fallback) as `warning: ...` lines
    on stderr; `verbose` adds its notes (the compiled engine's warm-up per shape)."""
    engine_log = logging.getLogger("shoegen.engine")
    for old in [handler for handler in engine_log.handlers if isinstance(handler.formatter, _EngineLines)]:
        engine_log.removeHandler(old)  # once per process, however many commands a test runs in it
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_EngineLines())
    engine_log.addHandler(handler)
    engine_log.setLevel(logging.INFO if verbose else logging.WARNING)


def output_folder(folder: Path) -> Path:
    """generate's --output, the folder the images are written into, checked before anything is generated."""
    if not folder.is_dir() and folder.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
        raise ShoegenError(f"--output {folder} looks like a file name, but it is the folder the images go in (each "
                           "named <time>_<prompt>_<seed>.png): give a folder")
    return writable_folder(folder)


def run_generate(args: argparse.Namespace) -> int:
    folder = output_folder(args.output)  # first: a folder that cannot take the images fails before torch loads
    request = request_from_args(args, args.prompt)
    from shoegen.outputs import generate_to_folder

    for path in generate_to_folder(engine_for(args, request), request, folder):
        print(path)
    return 0


def run_batch_command(args: argparse.Namespace) -> int:
    folder = writable_folder(args.output or Path("generated_batch") / datetime.now().strftime("batch_%Y%m%d_%H%M%S"))
    from shoegen.outputs import read_prompts, run_batch

    prompts = read_prompts(args.prompts_file)
    request = request_from_args(args, prompts[0])
    summary = run_batch(engine_for(args, request), prompts, request, folder)
    print(f"{len(summary.written)} images written, {summary.skipped} already there: {summary.folder}")
    return 0


def run_grid(args: argparse.Namespace) -> int:
    file_format = image_format(args.output)  # first: a name that is no image fails before torch loads
    writable_folder(args.output.parent, file=args.output)
    refuse_existing(args.output, args.overwrite)
    from shoegen.outputs import comparison_grid, save_image

    models = [name.strip() for name in args.models.split(",") if name.strip()]
    if not models:
        raise ShoegenError(f"--models {args.models!r} names no model: give comma-separated names (the base model's "
                           "name for the base)")
    request = request_from_args(args, args.prompts[0])
    grid = comparison_grid(engine_for(args, request), args.prompts, models, request)
    print(save_image(grid, args.output, file_format))
    return 0
