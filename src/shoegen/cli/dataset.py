"""`shoegen dataset check DIR`: report on a dataset folder before training on it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shoegen.cli.flags import whole_number
from shoegen.data.check import TRAINING_MIN_SIDE, check_dataset
from shoegen.data.formats import ACCEPTED_LAYOUTS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dataset_parser = subparsers.add_parser(
        "dataset",
        help="inspect a folder of product photos and captions",
        description="Inspect a folder of product photos and captions before training on it.",
    )
    actions = dataset_parser.add_subparsers(dest="dataset_action", metavar="ACTION", required=True)
    check_parser = actions.add_parser(
        "check",
        help="report what training would use and skip, and why",
        description=(
            "Read DIR as the trainer would, decode every image, and report counts, image sizes,\n"
            "aspect ratios, color modes, EXIF rotations, duplicates, caption statistics and the\n"
            "files that training would skip, by reason (unreadable, too small, without caption,\n"
            "caption without image): every unreadable file is named, longer lists of another\n"
            "reason show their first 10 (--json lists every file).\n\n"
            "Exit status: 0 when training can start (files with problems are skipped), 1 when no\n"
            "image is usable, 2 when DIR cannot be read as a dataset at all."
        ),
        epilog=f"Accepted layouts of DIR:\n{ACCEPTED_LAYOUTS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check_parser.add_argument("directory", type=Path, metavar="DIR", help="the dataset folder")
    check_parser.add_argument(
        "--min-side",
        type=whole_number(0, "a whole number of pixels"),
        default=TRAINING_MIN_SIDE,
        metavar="PX",
        help="images whose shorter side is under PX pixels are skipped (default: %(default)s, the default of "
        "`shoegen train --min_image_side`; pass the value you train with if you change it)",
    )
    check_parser.add_argument("--json", action="store_true", help="print the report as JSON instead of text")
    check_parser.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    report = check_dataset(args.directory, min_side=args.min_side)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.render())
    return 0 if report.ready_to_train else 1
