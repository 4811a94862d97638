"""Generation modes that keep the photo: background replacement returns the product's pixels exactly, outpaint the
original region, inpaint everything outside its mask's fade; the hires fix doubles the size. On the tiny base, with
rendered shoes whose silhouettes the renderer knows."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from shoegen.data.masks import product_mask
from shoegen.data.sample import draw_shoe_spec, render_shoe_with_mask
from shoegen.engine.engine import GenerationRequest
from shoegen.errors import ShoegenError

PROMPT = "a shoe on a wooden table, morning light"


@pytest.fixture(scope="module")
def photo() -> tuple[Image.Image, np.ndarray]:
    return render_shoe_with_mask(draw_shoe_spec(0, 3), 64)


def request(**values) -> GenerationRequest:
    return GenerationRequest(**{"prompt": PROMPT, "num_inference_steps": 4, "seed": 3, **values})


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_background_replacement_keeps_the_product_exactly_and_changes_the_scene(engine, photo):
    image, silhouette = photo
    # The product found automatically (data.masks, measured in tests/data), or the renderer's own silhouette given.
    for mask, product in ((None, product_mask(image)), (Image.fromarray((silhouette * 255).astype(np.uint8)),
                                                        silhouette)):
        out = engine.generate(request(mode="background", init_image=image, mask_image=mask)).images[0]
        assert out.image.size == image.size and out.params.mode == "background"
        difference = np.abs(pixels(out.image) - pixels(image)).max(axis=2)
        assert product.sum() > 200 and difference[product].max() == 0
        assert (difference[~product] > 10).mean() > 0.5  # most of the white background was repainted


def test_outpaint_returns_the_new_format_with_the_photo_unchanged(engine, photo):
    image, _ = photo
    out = engine.generate(request(mode="outpaint", init_image=image, width=112, height=64)).images[0].image
    assert out.size == (112, 64)
    left = (112 - 64) // 2
    assert np.array_equal(pixels(out)[:, left:left + 64], pixels(image))
    assert np.abs(pixels(out)[:, :left] - 255).max() > 10  # the new side was generated, not left white

    white = engine.generate(request(mode="outpaint", outpaint_fill="white", init_image=image, width=64, height=80))
    frame = pixels(white.images[0].image)
    assert frame.shape == (80, 64, 3) and np.array_equal(frame[8:72], pixels(image))
    assert (frame[:8] == 255).all() and (frame[72:] == 255).all()  # the photo's own background colour


def test_outpaint_to_an_aspect_ratio(engine, photo):
    image, _ = photo
    for ratio, size in (("4:5", (64, 80)), ("16:9", (112, 64)), ("1:1", None)):
        values = dict(mode="outpaint", outpaint_fill="white", init_image=image, aspect_ratio=ratio)
        if size is None:
            with pytest.raises(ShoegenError, match="already fills"):
                engine.generate(request(**values))
        else:
            assert engine.generate(request(**values)).images[0].image.size == size
    # A photo smaller than the base's size is placed at that size, as the format was measured for it.
    small = engine.generate(request(mode="outpaint", outpaint_fill="white", init_image=image.resize((32, 32)),
                                    aspect_ratio="16:9")).images[0].image
    assert small.size == (112, 64)
    enlarged = image.resize((32, 32)).resize((64, 64), Image.Resampling.LANCZOS)
    assert np.array_equal(pixels(small)[:, 24:88], pixels(enlarged))


def test_outpaint_can_centre_the_product(engine):
    image, silhouette = render_shoe_with_mask(draw_shoe_spec(0, 5), 64)
    shifted = Image.new("RGB", (96, 64), "white")
    shifted.paste(image, (0, 0))  # the shoe sits in the left part of a wide photo
    out = engine.generate(request(mode="outpaint", outpaint_fill="white", placement="center", init_image=shifted,
                                  width=160, height=64)).images[0].image
    columns = np.nonzero((np.abs(pixels(out) - 255).max(axis=2) > 30).any(axis=0))[0]
    assert abs((columns.min() + columns.max()) / 2 - 80) <= 2


def test_inpaint_changes_only_the_masked_area_and_its_fade(engine, photo):
    image, silhouette = photo
    mask = np.zeros((64, 64), dtype=bool)
    mask[8:32, 8:40] = True
    out = engine.generate(request(mode="inpaint", init_image=image, mask_image=Image.fromarray(mask),
                                  masked_content="latent_noise", mask_blur=2)).images[0]
    difference = np.abs(pixels(out.image) - pixels(image)).max(axis=2)
    assert difference[~mask].max() == 0  # the fade is on the repainted side: outside the mask nothing changes
    assert (difference[mask] > 10).mean() > 0.5
    inner = ndimage.binary_erosion(mask, iterations=6)
    assert (difference[inner] > 10).mean() > 0.8  # well inside the mask, beyond the fade, nearly all repainted
    assert out.params.extra["mode_settings"]["masked_content"] == "latent_noise"
    # Latent noise repaints all of the area whatever the strength asked (0.75 by default): recorded as done.
    assert "mask_sha256" in out.params.extra["mode_settings"] and out.params.strength == 1.0

    inverted = engine.generate(request(mode="inpaint", init_image=image, mask_image=Image.fromarray(mask),
                                       mask_invert=True, masked_content="latent_noise")).images[0].image
    assert np.abs(pixels(inverted) - pixels(image)).max(axis=2)[mask].max() == 0


@pytest.mark.parametrize("content", ["latent_nothing", "fill", "latent_noise"])
def test_the_seam_fades_into_the_photo_whatever_the_masked_area_starts_from(content):
    """The same generated pixels composed on a white photo: the fade across the mask's edge goes from them to
    the photo's white, as with `original` (it faded into the grey or the flat colour that filled the area)."""
    from shoegen.config.generation import GenerationParams
    from shoegen.engine import modes

    photo = Image.new("RGB", (64, 64), "white")
    mask = np.zeros((64, 64), dtype=bool)
    mask[16:48, 16:48] = True
    generated = Image.new("RGB", (64, 64), "black")

    def composed(masked_content: str) -> np.ndarray:
        params = GenerationParams(prompt="a shoe", mode="inpaint", masked_content=masked_content, mask_blur=8)
        planned = modes.plan("inpaint", params, photo, Image.fromarray(mask), (64, 64))
        return np.asarray(modes.compose(generated, planned, 8))

    assert np.array_equal(composed(content), composed("original"))
    assert composed(content)[17, 32, 0] > 100  # just inside the edge: mostly the photo's white


def test_a_mask_of_another_size_is_resized_and_said_so(engine, photo):
    image, _ = photo
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (4, 4, 16, 16))
    result = engine.generate(request(mode="inpaint", init_image=image, mask_image=mask))
    assert any("the mask (32x32) is not the photo's size (64x64)" in note for note in result.warnings)
    # A mask of the photo's size is resized with it, unremarked (every `shoegen mask` output was warned about).
    large = image.resize((128, 128))
    same = engine.generate(request(mode="inpaint", init_image=large, mask_image=mask.resize((128, 128))))
    assert same.warnings == [], same.warnings


def test_a_photo_stretched_to_another_shape_is_said(engine):
    """A photo too narrow for the smallest side (64 px) at the base's size is stretched; the caller is told."""
    wide = Image.new("RGB", (100, 37), "white")
    wide.paste((200, 30, 30), (30, 5, 70, 30))
    result = engine.generate(request(mode="background", init_image=wide))
    assert result.images[0].image.size == (64, 64)
    assert result.warnings == ["the photo (100x37) was stretched to 64x64, another shape; ask for 176x64 to keep its "
                               "shape"]


def test_hires_fix_doubles_the_size(engine):
    result = engine.generate(request(hires_scale=2.0, hires_steps=4))
    image = result.images[0]
    assert image.image.size == (128, 128) and (image.params.width, image.params.height) == (128, 128)
    assert image.params.extra["mode_settings"]["hires_scale"] == 2.0


def test_hires_fix_in_the_mask_modes_keeps_the_photo_at_the_new_size(engine):
    big, _ = render_shoe_with_mask(draw_shoe_spec(0, 3), 128)  # a photo larger than the base's 64 px
    common = dict(init_image=big, hires_scale=2.0, hires_steps=4)
    background = engine.generate(request(mode="background", **common)).images[0]
    assert background.image.size == (128, 128)
    product = product_mask(big)
    difference = np.abs(pixels(background.image) - pixels(big)).max(axis=2)
    assert product.sum() > 800 and difference[product].max() == 0  # the photo's own pixels, not an upscaled copy
    assert (difference[~product] > 10).mean() > 0.5

    outpaint = engine.generate(request(mode="outpaint", width=112, height=64, **common)).images[0].image
    assert outpaint.size == (224, 128)
    left = (224 - 128) // 2
    assert np.array_equal(pixels(outpaint)[:, left:left + 128], pixels(big))  # the photo at 2x its first-pass size

    mask = np.zeros((64, 64), dtype=bool)
    mask[8:32, 8:40] = True
    inpaint = engine.generate(request(mode="inpaint", mask_image=Image.fromarray(mask), mask_blur=2,
                                      masked_content="latent_noise", **common)).images[0].image
    grown = np.asarray(Image.fromarray(mask).resize((128, 128), Image.Resampling.NEAREST))
    difference = np.abs(pixels(inpaint) - pixels(big)).max(axis=2)
    assert inpaint.size == (128, 128) and difference[~grown].max() == 0
    assert (difference[ndimage.binary_erosion(grown, iterations=12)] > 10).mean() > 0.8


@pytest.mark.parametrize(("values", "message"), [
    ({"mode": "inpaint"}, "needs a photo"),
    ({"mode": "outpaint", "with_photo": True}, "needs the new format"),
    ({"mode": "background", "with_photo": True, "aspect_ratio": "4:5"}, "aspect_ratio is the outpaint format"),
    ({"mode": "inpaint", "with_photo": True}, "needs a mask"),
    ({"mode": "outpaint", "with_photo": True, "aspect_ratio": "4:5", "outpaint_fill": "white", "hires_scale": 2.0},
     "generates nothing for the hires fix"),
    ({"mode": "txt2img", "with_photo": True}, "takes no init_image"),
    ({"mode": "outpaint", "with_photo": True, "width": 64, "height": 64, "outpaint_fill": "white"}, "already fills"),
    # The size limit, where the engine alone knows the size: the format's canvas, the native height scaled.
    ({"mode": "outpaint", "with_photo": True, "aspect_ratio": "40:1", "outpaint_fill": "white"},
     "40:1 makes a 2560x64 canvas .* over the 2048 px limit"),
    ({"width": 1024, "hires_scale": 4.0}, "1024x64 x 4 = 4096x256, over the 2048 px limit a side: use a hires_scale "
                                          "of at most 2.00"),
])
def test_what_a_mode_needs_is_named(engine, photo, values, message):
    values = dict(values)
    if values.pop("with_photo", False):
        values["init_image"] = photo[0]
    with pytest.raises(ShoegenError, match=message):
        engine.generate(request(**values))


def test_a_plain_photo_has_no_product_for_background_replacement(engine):
    with pytest.raises(ShoegenError, match="no product was found"):
        engine.generate(request(mode="background", init_image=Image.new("RGB", (64, 64), "white")))
    white = Image.new("L", (64, 64), 255)  # all product: inverted, none
    with pytest.raises(ShoegenError, match=r"^background: the mask marks everything as background \(with "
                                           r"mask_invert: white on the background\)$"):
        engine.generate(request(mode="background", init_image=Image.new("RGB", (64, 64), "white"), mask_image=white,
                                mask_invert=True))


@pytest.fixture(scope="module")
def inpainting_base(tmp_path_factory, tiny_base) -> str:
    """The tiny base with a 9-channel UNet (noise, mask, masked photo), as SD1.5's inpainting checkpoints are."""
    import shutil

    import torch
    from diffusers import UNet2DConditionModel

    folder = tmp_path_factory.mktemp("inpainting") / "tiny-inpainting"
    shutil.copytree(tiny_base, folder)
    unet = UNet2DConditionModel.from_pretrained(folder / "unet")
    torch.manual_seed(0)
    nine = UNet2DConditionModel.from_config({**unet.config, "in_channels": 9})
    nine.load_state_dict({k: v for k, v in unet.state_dict().items() if not k.startswith("conv_in.")}, strict=False)
    shutil.rmtree(folder / "unet")
    nine.save_pretrained(folder / "unet")
    return str(folder)


def test_a_nine_channel_inpainting_base_conditions_on_the_mask(inpainting_base, photo):
    from shoegen.engine.engine import Engine

    image, silhouette = photo
    engine = Engine(inpainting_base, device="cpu")
    mask = Image.fromarray(((~silhouette) * 255).astype(np.uint8))
    out = engine.generate(request(mode="inpaint", init_image=image, mask_image=mask, mask_blur=0)).images[0].image
    difference = np.abs(pixels(out) - pixels(image)).max(axis=2)
    assert difference[silhouette].max() == 0 and (difference[~silhouette] > 10).mean() > 0.5
    background = engine.generate(request(mode="background", init_image=image)).images[0].image
    assert np.abs(pixels(background) - pixels(image)).max(axis=2)[product_mask(image)].max() == 0
    with pytest.raises(ShoegenError, match="is an inpainting checkpoint"):
        engine.generate(request())
