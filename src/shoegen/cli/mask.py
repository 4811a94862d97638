"""`shoegen mask IMAGE`: the product mask of a photo as a PNG (white = product), or an overlay to check it."""

from __future__ import annotations

import argparse
from pathlib import Path

from shoegen.data.images import open_rgb
from shoegen.data.masks import MASK_METHODS, mask_image, mask_overlay, product_mask, rembg_model_path


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
                        help="where to write the PNG (default: IMAGE's name with _mask.png, or _overlay.png "
                        "with --overlay, beside it)")
    parser.add_argument("--method", choices=MASK_METHODS, default="builtin",
                        help="builtin (default): no weights, for plain studio backgrounds. rembg: the rembg "
                        "package's u2net model, for any background; needs `pip install rembg` and its model file "
                        f"already on disk ({rembg_model_path()}, or U2NET_HOME); nothing is downloaded")
    parser.add_argument("--overlay", action="store_true",
                        help="write the photo with the mask tinted over it instead of the mask, for a quick look")
    parser.set_defaults(handler=run)


def default_output(image: Path, overlay: bool) -> Path:
    return image.with_name(f"{image.stem}_{'overlay' if overlay else 'mask'}.png")


def run(args: argparse.Namespace) -> int:
    photo = open_rgb(args.image)
    mask = product_mask(photo, args.method)
    output = args.output or default_output(args.image, args.overlay)
    picture = mask_overlay(photo, mask) if args.overlay else mask_image(mask)
    picture.save(output, format="PNG")
    share = mask.mean() if mask.size else 0.0
    print(f"{output}: {'overlay' if args.overlay else 'mask'} {photo.width}x{photo.height}, "
          f"product {share:.1%} of the frame ({args.method})")
    return 0
