"""`shoegen mask IMAGE`: the product mask of a photo as a PNG (white = product), or an overlay to check it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from shoegen.cli.flags import image_format, picture_file, refuse_existing, writable_folder
from shoegen.data.masks import MASK_METHODS, mask_image, mask_overlay, product_mask, rembg_model_path
from shoegen.errors import ShoegenError
from shoegen.outputs import save_image

LOSSY_FORMATS = ("JPEG", "MPO")
"""Formats that blur a mask's edges into greys: an overlay may be one, a mask may not."""
LOSSLESS_OPTIONS = {"WEBP": {"lossless": True}}
"""Pillow's options that keep a format lossless (WebP is lossy unless asked)."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "mask",
        help="find the product in a photo: write its mask as a PNG (white = product)",
        description="Separate the product from the plain studio background of a catalogue photo (white or "
        "near-white, the colour of the frame's border) and write the mask: a black-and-white PNG of the photo's "
        "size, white on the product. The soft contact shadow below a product stays background; holes inside the "
        "product (a white upper inside its outline) are filled, a sandal's gaps are not. A photo without a product "
        "gives an all-black mask. The same mask comes from POST /api/masks.",
    )
    parser.add_argument("image", type=Path, metavar="IMAGE", help="the photo (PNG, JPEG, WebP, TIFF, ...)")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT.png",
                        help="where to write it, in the format its extension names (.png, .webp, .tif, ...; "
                        ".jpg only for --overlay: JPEG blurs a mask's edges), never over IMAGE (default: IMAGE's "
                        "name with _mask.png, or _overlay.png with --overlay, beside it)")
    parser.add_argument("--method", choices=MASK_METHODS, default="builtin",
                        help="builtin (default): no weights, for plain studio backgrounds. rembg: the rembg "
                        "package's u2net model, for any background; needs `pip install rembg` and its model file "
                        f"already on disk ({rembg_model_path()}, or U2NET_HOME); nothing is downloaded")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--overlay", action="store_true",
                        help="write the photo with the mask tinted over it instead of the mask, for a quick look")
    parser.set_defaults(handler=run)


def default_output(image: Path, overlay: bool) -> Path:
    return image.with_name(f"{image.stem}_{'overlay' if overlay else 'mask'}.png")


def check_output(image: Path, output: Path, overlay: bool, overwrite: bool = False) -> str:
    """The format to write `output` in, once it is known not to be the photo itself and to name a format that
    keeps what is written (checked before the mask is computed)."""
    if output.resolve() == image.resolve() or (output.exists() and image.exists() and os.path.samefile(output, image)):
        raise ShoegenError(f"--output {output} is the photo itself: writing there would replace it. Pick another "
                           "name (or leave -o out for IMAGE_mask.png beside it).")
    if output.is_dir():
        raise ShoegenError(f"--output {output} is a folder: give the file to write, e.g. {output / 'mask.png'}")
    refuse_existing(output, overwrite)
    file_format = image_format(output)
    if not overlay and file_format in LOSSY_FORMATS:
        raise ShoegenError(f"--output {output}: JPEG would blur the mask's black-and-white edges into greys; write a "
                           "mask as .png (or .webp, .tif), or ask for --overlay")
    writable_folder(output.parent, file=output)
    return file_format


def run(args: argparse.Namespace) -> int:
    output = args.output or default_output(args.image, args.overlay)
    file_format = check_output(args.image, output, args.overlay, args.overwrite)
    photo = picture_file("IMAGE", args.image)
    mask = product_mask(photo, args.method)
    picture = mask_overlay(photo, mask) if args.overlay else mask_image(mask)
    save_image(picture, output, file_format, **LOSSLESS_OPTIONS.get(file_format, {}))
    share = mask.mean() if mask.size else 0.0
    print(f"{output}: {'overlay' if args.overlay else 'mask'} {photo.width}x{photo.height}, "
          f"product {share:.1%} of the frame ({args.method})")
    return 0
