"""Generation modes that keep the team's own photo: what the pipeline is given (the picture, the mask of what it
repaints, the strength) and how its output is put back together with the photo, so that what is kept comes back
pixel for pixel.

- inpaint: repaint inside a mask (or outside, inverted); the rest of the photo is returned exactly, and the
  repainted area fades into it over `mask_blur` pixels (outside the mask: the mask's inside is never kept).
- background: the product of a catalogue photo (`data.masks.product_mask`, or a given mask) is kept exactly, the
  scene around it generated from the prompt; the seam fades outwards from the product's edge.
- outpaint: the photo placed in a larger format (as it is, or moved so its product is centred), the new area
  generated (or filled with the photo's background colour) and the photo's own region returned exactly.

The pipeline runs the SD1.x inpainting pipeline: with a plain 4-channel UNet it blends the photo's latents back
outside the mask at every step (latent blending), with a 9-channel inpainting UNet it conditions on the mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from shoegen.config.generation import MAX_SIDE, GenerationParams, scaled_size
from shoegen.data.masks import border_colour, product_mask
from shoegen.errors import ShoegenError


@dataclass(frozen=True)
class Plan:
    """What one request's pipeline call gets, and what its output is composed with."""

    image: Image.Image
    """The picture the pipeline starts from, at the working size."""
    repaint: np.ndarray | None
    """Bool, height x width: what the pipeline repaints; None: nothing (a white outpaint: no generation)."""
    keep: np.ndarray
    """Bool: the pixels returned exactly as `image` has them."""
    strength: float
    box: tuple[int, int, int, int]
    """Where the photo lies in `image`: left, top, right, bottom (all of it but for an outpaint)."""
    notes: tuple[str, ...] = ()
    unfilled: Image.Image | None = None
    """The photo at the working size before masked content filled the repaint area (None: `image` itself):
    what the seam fades into and a ControlNet without its own image sees."""

    @property
    def photo(self) -> Image.Image:
        return self.unfilled if self.unfilled is not None else self.image


def working_size(photo: Image.Image, native: tuple[int, int]) -> tuple[int, int]:
    """The photo's shape at about the base's native area (its longer side the native side), in multiples of 8."""
    side = max(native)
    scale = side / max(photo.size)
    return tuple(max(64, round(value * scale / 8) * 8) for value in photo.size)


def reshape_note(photo: tuple[int, int], size: tuple[int, int], what: str = "the start image") -> str | None:
    """What to tell a caller whose start image (or `what` else) is stretched to another shape (img2img resizes it to
    the size asked); None when its aspect ratio is kept (within 2 %)."""
    (width, height), (to_width, to_height) = photo, size
    if abs(width * to_height - height * to_width) <= 0.02 * width * to_height:
        return None
    scale = max(max(size) / max(photo), 64 / min(photo))  # its longer side as long, no side under 64
    keep = tuple(round(side * scale / 8) * 8 for side in photo)
    return (f"{what} ({width}x{height}) was stretched to {to_width}x{to_height}, another shape; ask for "
            f"{keep[0]}x{keep[1]} to keep its shape")


def format_size(photo: Image.Image, native: tuple[int, int], ratio: str, name: str = "aspect_ratio"
                ) -> tuple[int, int]:
    """Outpaint's canvas for an aspect ratio "W:H": the photo at its working size, extended along one side
    (`name`: what the caller calls the ratio, in the error of a canvas over the limit)."""
    width, height = working_size(photo, native)
    across, down = (int(part) for part in ratio.split(":"))
    if width * down < height * across:  # narrower than the format: wider canvas
        canvas = max(width, round(height * across / down / 8) * 8), height
    else:
        canvas = width, max(height, round(width * down / across / 8) * 8)
    if max(canvas) > MAX_SIDE:
        raise ShoegenError(f"{name} {ratio} makes a {canvas[0]}x{canvas[1]} canvas around this photo's "
                           f"{width}x{height}, over the {MAX_SIDE} px limit a side: choose a squarer format")
    return canvas


def mask_array(mask: Image.Image, size: tuple[int, int], photo_size: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    """A mask picture as a bool array of `size` (white, or any bright pixel: True), resized as the photo is; a
    mask of another size than the photo's is stretched to it, and said so."""
    notes = []
    if mask.size != photo_size:
        notes.append(f"the mask ({mask.size[0]}x{mask.size[1]}) is not the photo's size ({photo_size[0]}x"
                     f"{photo_size[1]}): it was stretched to fit")
    if mask.size != size:
        mask = mask.resize(size, Image.Resampling.NEAREST)
    return np.asarray(mask.convert("L")) >= 128, notes


def plan(mode: str, request: GenerationParams, photo: Image.Image, mask: Image.Image | None,
         size: tuple[int, int]) -> Plan:
    """The pipeline's input for a mask mode, `photo` at (inpaint, background) or placed in (outpaint) `size`."""
    if mode == "outpaint":
        return _outpaint(request, photo, size)
    image = photo.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    notes = [note for note in [reshape_note(photo.size, size, "the photo")] if note]
    unfilled = None
    if mode == "inpaint":
        if mask is None:
            raise ShoegenError("inpaint needs a mask: white where the image is repainted")
        repaint, mask_notes = mask_array(mask, size, photo.size)
        notes += mask_notes
        repaint = ~repaint if request.mask_invert else repaint
        unfilled = image
        image, strength = _masked_content(image, repaint, request)
    else:  # background
        if mask is None:
            product = product_mask(image)
        else:
            product, mask_notes = mask_array(mask, size, photo.size)
            notes += mask_notes
            product = ~product if request.mask_invert else product
        if not product.any():
            if mask is not None:
                raise ShoegenError("background: the mask marks everything as background (with mask_invert: white on "
                                   "the background)" if request.mask_invert else
                                   "background: the mask marks no product (white on the product)")
            raise ShoegenError("background: no product was found in the photo (is it on a plain background?); "
                               "give a mask: white on the product")
        repaint, strength = ~product, 1.0
    if not repaint.any():
        raise ShoegenError(f"{mode}: the mask leaves nothing to repaint")
    return Plan(image, repaint, ~repaint, strength, (0, 0, *size), tuple(notes), unfilled)


def _masked_content(image: Image.Image, repaint: np.ndarray, request: GenerationParams) -> tuple[Image.Image, float]:
    """AUTOMATIC1111's "masked content": what the repainted area starts from, and the strength it is repainted by."""
    if request.masked_content == "latent_noise":
        return image, 1.0
    if request.masked_content == "original":
        return image, request.strength
    pixels = np.asarray(image).copy()
    if request.masked_content == "fill":
        around = pixels[~repaint]
        pixels[repaint] = around.mean(axis=0) if len(around) else 127
        filled = Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(8))
        pixels = np.where(repaint[..., None], np.asarray(filled), pixels)
    else:  # latent_nothing
        pixels[repaint] = 127
    return Image.fromarray(pixels.astype(np.uint8)), request.strength


def _outpaint(request: GenerationParams, photo: Image.Image, size: tuple[int, int]) -> Plan:
    photo = photo.convert("RGB")
    # To a format, the photo is at its working size (`format_size`), enlarged if smaller; into a width and height,
    # it keeps its own size unless that is too big.
    scale = min(size[0] / photo.width, size[1] / photo.height)
    if request.aspect_ratio is None:
        scale = min(1.0, scale)
    if scale != 1.0:
        photo = photo.resize((max(1, round(photo.width * scale)), max(1, round(photo.height * scale))),
                             Image.Resampling.LANCZOS)
    left, top = (size[0] - photo.width) // 2, (size[1] - photo.height) // 2
    if request.placement == "center":
        product = product_mask(photo)
        if product.any():
            rows, cols = np.nonzero(product)
            left = _clamp(size[0] // 2 - (int(cols.min()) + int(cols.max())) // 2, size[0] - photo.width)
            top = _clamp(size[1] // 2 - (int(rows.min()) + int(rows.max())) // 2, size[1] - photo.height)
    pixels = np.asarray(photo)
    background = border_colour(pixels).round().astype(np.uint8)
    canvas = np.empty((size[1], size[0], 3), dtype=np.uint8)
    canvas[:] = background
    canvas[top:top + photo.height, left:left + photo.width] = pixels
    keep = np.zeros((size[1], size[0]), dtype=bool)
    keep[top:top + photo.height, left:left + photo.width] = True
    if keep.all():
        raise ShoegenError(f"outpaint: the photo already fills {size[0]}x{size[1]}; ask for a larger or "
                           "differently shaped width and height")
    box = (left, top, left + photo.width, top + photo.height)
    if request.outpaint_fill == "white":
        return Plan(Image.fromarray(canvas), None, keep, 0.0, box)
    return Plan(Image.fromarray(canvas), ~keep, keep, 1.0, box)


def _clamp(offset: int, room: int) -> int:
    """An offset that keeps the photo inside the canvas along an axis with `room` spare pixels (negative: none)."""
    return max(min(offset, max(room, 0)), min(room, 0))


def compose(generated: Image.Image, planned: Plan, mask_blur: int) -> Image.Image:
    """The output: the kept pixels exactly as planned, the repainted area from `generated`, faded into the kept
    area over `mask_blur` pixels on the repainted side (the kept pixels never change). For a plan that repaints
    something (a white outpaint generates nothing and is returned as planned)."""
    original = np.asarray(planned.photo, dtype=np.float32)  # the photo, not a fill of its repainted area
    new = np.asarray(generated.convert("RGB").resize(planned.image.size), dtype=np.float32)
    weight = planned.repaint.astype(np.float32)
    if mask_blur:
        # Blurring the kept area's indicator and taking its complement fades inwards from the seam, on the
        # repainted side only.
        kept = Image.fromarray((planned.keep * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(mask_blur))
        weight = np.minimum(weight, 1.0 - np.asarray(kept, dtype=np.float32) / 255.0)
    weight[planned.keep] = 0.0
    mixed = new * weight[..., None] + original * (1.0 - weight[..., None])
    out = np.where(planned.keep[..., None], original, mixed.round())
    return Image.fromarray(out.clip(0, 255).astype(np.uint8))


def refine(mode: str, request: GenerationParams, planned: Plan, upscaled: list[Image.Image], photo: Image.Image,
           mask: Image.Image | None) -> list[Plan]:
    """The hires fix's second pass for a mask mode, one plan per first-pass output upscaled (`upscaled`, of one
    size): what is kept taken anew at the new size from the photo itself (and its mask, or the product found in
    it), not from the first pass's smaller copy; everything else is repainted at `hires_strength`."""
    width, height = upscaled[0].size
    if mode == "outpaint":
        across, down = width / planned.image.width, height / planned.image.height
        left, top, right, bottom = planned.box
        box = (round(left * across), round(top * down), round(right * across), round(bottom * down))
        keep = np.zeros((height, width), dtype=bool)
        keep[box[1]:box[3], box[0]:box[2]] = True
        kept = np.zeros((height, width, 3), dtype=np.uint8)
        kept[keep] = np.asarray(photo.convert("RGB").resize((box[2] - box[0], box[3] - box[1]),
                                                             Image.Resampling.LANCZOS)).reshape(-1, 3)
    else:
        at_size = plan(mode, request, photo, mask, (width, height))
        keep, box, kept = at_size.keep, at_size.box, np.asarray(at_size.image)
    plans = []
    for image in upscaled:
        pixels = np.where(keep[..., None], kept, np.asarray(image.convert("RGB")))
        plans.append(Plan(Image.fromarray(pixels), ~keep, keep, request.hires_strength, box))
    return plans


def upscale(image: Image.Image, scale: float, model: Callable[[Image.Image], Image.Image] | None = None
            ) -> Image.Image:
    """The hires fix's upscale to `scale` times the size, in multiples of 8: Lanczos, or first an upscaler model
    (at its own factor; the result is then resized to the size asked for)."""
    size = scaled_size(image.size, scale)
    return (image if model is None else model(image)).resize(size, Image.Resampling.LANCZOS)


def canny_edges(image: Image.Image, sigma: float = 1.5) -> Image.Image:
    """A Canny ControlNet's input: white edges on black (scikit-image's Canny on the grey image)."""
    from skimage.feature import canny

    edges = canny(np.asarray(image.convert("L"), dtype=np.float64) / 255.0, sigma=sigma)
    return Image.fromarray((edges * 255).astype(np.uint8)).convert("RGB")
