"""`shoegen sample-data`: writes a synthetic shoe dataset through `render_sample_dataset`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shoegen.data.sample import PATTERNS, STYLES, SampleSummary, render_sample_dataset

DESCRIPTION = f"""\
Render a synthetic dataset of shoe product photos: side views of
{", ".join(STYLES)} in several colours, materials and patterns,
on a white studio background, each with a caption.

The folder gets images/<id>.png and captions.json in the original dataset's layout, so
training and every other command read it exactly like real photos. It is meant for tests,
benchmarks and demos that must run without a photo collection; to train a model for your
own catalogue, point the commands at a folder of your own product photos instead.

The same flags give byte-identical files, and image N is the same whatever --count is.

Patterns: {", ".join(PATTERNS)}. "watermelon" is the pattern meant to be
taught through a LoRA: leave it out of the base data and render it alone for the adapter:

  shoegen sample-data data/base --count 2000 --exclude-pattern watermelon
  shoegen sample-data data/watermelon --count 200 --seed 1 --only-pattern watermelon
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sample-data",
        help="render a synthetic shoe photo dataset for tests, benchmarks and demos",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out_dir", metavar="DIR", type=Path, help="folder to create (must not hold a captions.json)")
    parser.add_argument("--count", type=int, required=True, metavar="N", help="number of images to render")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="dataset seed (default: 0)")
    parser.add_argument(
        "--size", type=int, default=512, metavar="PX", help="image width and height in pixels (default: 512, at least 32)"
    )
    parser.add_argument(
        "--exclude-pattern",
        action="append",
        default=[],
        metavar="NAME",
        help="leave this pattern out; repeat for several (e.g. --exclude-pattern watermelon)",
    )
    parser.add_argument(
        "--only-pattern",
        action="append",
        metavar="NAME",
        help="draw only this pattern; repeat for several (\"polka-dot\" works for \"polka dot\")",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    summary = render_sample_dataset(
        Path(args.out_dir),
        count=args.count,
        seed=args.seed,
        size=args.size,
        exclude_patterns=tuple(args.exclude_pattern),
        only_patterns=None if args.only_pattern is None else tuple(args.only_pattern),
        # A progress bar in a log file is noise; show it only to a person at a terminal.
        progress=sys.stderr.isatty(),
    )
    print(format_summary(summary))
    return 0


def format_summary(summary: SampleSummary) -> str:
    return "\n".join(
        [
            f"wrote {summary.count} images and captions.json to {summary.out_dir} in {summary.seconds:.1f} s",
            f"  styles:   {_nonzero_counts(summary.style_counts)}",
            f"  patterns: {_nonzero_counts(summary.pattern_counts)}",
        ]
    )


def _nonzero_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count)
