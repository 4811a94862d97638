"""`shoegen lora export`: write a trained adapter as one file other tools load."""

from __future__ import annotations

import argparse
from pathlib import Path

from shoegen.training.export import EXPORT_FORMATS, export_adapter


def register(subparsers) -> None:
    parser = subparsers.add_parser("lora", help="work with trained LoRA adapters",
                                   description="Work with trained LoRA adapters.")
    commands = parser.add_subparsers(dest="lora_command", metavar="SUBCOMMAND", required=True)
    export = commands.add_parser(
        "export",
        help="write an adapter as a single .safetensors file",
        description="Export a run's final adapter (or a checkpoint's: RUN/checkpoint-N) as one .safetensors file. "
        "`kohya` is the layout AUTOMATIC1111 (models/Lora), ComfyUI (models/loras) and kohya sd-scripts load; "
        "`diffusers` is the file `pipe.load_lora_weights()` reads. Both keep the LoRA alpha.",
        epilog="example: shoegen lora export runs/shoes --format kohya --output shoes_lora.safetensors",
    )
    export.add_argument("source", type=Path, help="run folder, checkpoint folder, or adapter .safetensors file")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="kohya", help="file layout (default: kohya)")
    export.add_argument("--output", type=Path, required=True, help="the .safetensors file to write (written whole, "
                        "then renamed into place)")
    export.add_argument("--overwrite", action="store_true", help="replace --output if it exists (default: refused)")
    export.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    written = export_adapter(args.source, args.output, args.format, overwrite=args.overwrite)
    print(f"wrote {written} ({args.format} format)")
    return 0
