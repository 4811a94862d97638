"""`shoegen gallery rescore`: catalogue scores for gallery images stored before scoring existed."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("gallery", help="maintain the gallery that `shoegen serve` keeps",
                                   description="Maintain the gallery of `shoegen serve` (stop the server first "
                                               "or not: the database takes concurrent writers).")
    commands = parser.add_subparsers(dest="gallery_command", metavar="COMMAND", required=True)
    rescore = commands.add_parser(
        "rescore", help="add catalogue scores to images that have none",
        description="Score every gallery image without catalogue scores (images generated before scoring "
                    "existed), so the gallery's preset and score filters and its best-first order cover them. "
                    "The gallery is the one `shoegen serve` uses: SHOEGEN_DATA_DIR and SHOEGEN_DATABASE_URL, "
                    "or the flags below.")
    rescore.add_argument("--data-dir", type=Path, help="gallery database and images (default ./shoegen-data)")
    rescore.add_argument("--database-url", help="SQLAlchemy URL of the gallery database (default SQLite in "
                                                "the data folder)")
    rescore.add_argument("--all", action="store_true", help="score every image again, not only unscored ones")
    rescore.set_defaults(handler=run_rescore)


def run_rescore(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from shoegen.cli.flags import open_served_gallery
    from shoegen.service.scoring import rescore_gallery

    with open_served_gallery(args) as gallery, tqdm(unit="image", desc="scoring") as progress:
        scored = rescore_gallery(gallery, every=args.all, on_image=partial(_advance, progress))
    print(f"scored {scored} image{'' if scored == 1 else 's'} of {gallery!r}")
    return 0


def _advance(progress, done: int, total: int) -> None:
    progress.total = total
    progress.update(1)
