"""ControlNet on the tiny base, with the built-in tiny ControlNet (the tiny UNet's copy, random weights): at scale 0
it changes nothing, at scale 1 it changes the image; it combines with a LoRA, img2img, the mask modes and other
ControlNets; a name that is neither a local folder nor a hub id is refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from shoegen.config.generation import ControlNetUnit
from shoegen.data.sample import draw_shoe_spec, render_shoe_with_mask
from shoegen.engine.engine import GenerationRequest
from shoegen.engine.modes import canny_edges
from shoegen.errors import ShoegenError
from shoegen.models.controlnets import CONTROLNETS_FOLDER, locate

PROMPT = "a professional product photo of a sneaker"


@pytest.fixture(scope="module")
def photo() -> tuple[Image.Image, np.ndarray]:
    return render_shoe_with_mask(draw_shoe_spec(0, 2), 64)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def generate(engine, **values) -> Image.Image:
    request = GenerationRequest(**{"prompt": PROMPT, "num_inference_steps": 4, "seed": 11, **values})
    return engine.generate(request).images[0].image


def test_scale_zero_is_no_controlnet_and_scale_one_changes_the_image(engine, photo):
    image, _ = photo
    plain = pixels(generate(engine))
    off = pixels(generate(engine, controlnets=[ControlNetUnit(model="tiny", scale=0.0)], control_images=[image]))
    on = pixels(generate(engine, controlnets=[ControlNetUnit(model="tiny", scale=1.0)], control_images=[image]))
    assert np.abs(off - plain).max() <= 1  # the residuals are zero: at most float rounding of the other pipeline
    assert np.abs(on - plain).mean() > 2


def test_controlnet_combines_with_a_lora_img2img_inpaint_and_other_controlnets(engine, photo):
    image, silhouette = photo
    unit = ControlNetUnit(model="tiny", scale=1.0, start=0.0, end=0.5)
    with_lora = generate(engine, model_name="shoesA", controlnets=[unit], control_images=[image])
    assert with_lora.size == (64, 64)
    from_photo = generate(engine, mode="img2img", init_image=image, controlnets=[unit])  # edges of the photo
    assert np.abs(pixels(from_photo) - pixels(generate(engine, mode="img2img", init_image=image))).mean() > 0.5
    mask = Image.fromarray(((~silhouette) * 255).astype(np.uint8))
    inpainted = generate(engine, mode="inpaint", init_image=image, mask_image=mask, controlnets=[unit], mask_blur=0)
    assert np.array_equal(pixels(inpainted)[silhouette], pixels(image)[silhouette])
    two = [ControlNetUnit(model="tiny"), ControlNetUnit(model="tiny", preprocessor="none", scale=0.5)]
    result = engine.generate(GenerationRequest(prompt=PROMPT, num_inference_steps=4, seed=11, controlnets=two,
                                               control_images=[image, canny_edges(image)])).images[0]
    assert [unit["scale"] for unit in result.params.extra["mode_settings"]["controlnets"]] == [1.0, 0.5]
    assert len(result.params.extra["mode_settings"]["control_image_sha256"]) == 2


def test_canny_edges_outline_the_product(photo):
    image, silhouette = photo
    edges = np.asarray(canny_edges(image).convert("L")) > 0
    from scipy import ndimage

    outline = ndimage.binary_dilation(silhouette, iterations=2) & ~ndimage.binary_erosion(silhouette, iterations=2)
    # Away from the shoe, only the soft contact shadow's rim: 6 of 194 edge pixels when this test was written.
    assert edges.sum() > 20 and (edges & ~ndimage.binary_dilation(silhouette, iterations=2)).sum() / edges.sum() < 0.05
    assert (edges & outline).sum() / edges.sum() > 0.3


def test_controlnet_names_are_looked_up(engine, tmp_path):
    with pytest.raises(ShoegenError, match="neither a folder of MODELS_DIR/controlnets/"):
        locate("/etc/passwd", tmp_path)
    with pytest.raises(ShoegenError, match="needs a control image"):
        generate(engine, controlnets=[ControlNetUnit(model="tiny")])
    (tmp_path / CONTROLNETS_FOLDER / "mine").mkdir(parents=True)
    (tmp_path / CONTROLNETS_FOLDER / "mine" / "config.json").write_text("{}")
    assert locate("mine", tmp_path) == str(tmp_path / CONTROLNETS_FOLDER / "mine")
    assert locate("lllyasviel/control_v11p_sd15_canny", tmp_path) == "lllyasviel/control_v11p_sd15_canny"
    with pytest.raises(ValueError, match="end"):
        ControlNetUnit(model="tiny", start=0.6, end=0.5)


def test_a_hub_controlnet_offline_is_a_clear_message(monkeypatch, tmp_path):
    from shoegen.models.controlnets import load_controlnet

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ShoegenError, match="not in the local Hugging Face cache.*MODELS_DIR/controlnets/"):
        load_controlnet("lllyasviel/control_v11p_sd15_canny", tmp_path)


@pytest.mark.parametrize("content", ["latent_nothing", "fill"])
def test_an_inpaint_controlnet_without_an_image_sees_the_photo_not_its_filled_mask(engine, photo, content):
    """A unit without its own image takes the photo's edges, whatever the masked area starts from (it was
    handed the photo with its repaint area filled: the product's edges there lost, the mask's outline drawn)."""
    image, silhouette = photo
    mask = Image.fromarray((silhouette * 255).astype(np.uint8))  # repaint the shoe
    unit = ControlNetUnit(model="tiny", scale=1.0)
    common = dict(mode="inpaint", init_image=image, mask_image=mask, masked_content=content, mask_blur=0)
    default = generate(engine, controlnets=[unit], **common)
    given = generate(engine, controlnets=[unit], control_images=[image], **common)
    assert np.array_equal(pixels(default), pixels(given))


def test_a_control_image_stretched_to_another_shape_is_said(engine, photo):
    image, _ = photo
    unit = ControlNetUnit(model="tiny")
    wide = image.resize((128, 64))
    result = engine.generate(GenerationRequest(prompt=PROMPT, num_inference_steps=2, seed=11, controlnets=[unit],
                                               control_images=[wide]))
    assert result.warnings == ["ControlNet tiny's control image (128x64) was stretched to 64x64, another shape; ask "
                               "for 128x64 to keep its shape"]
    same_shape = engine.generate(GenerationRequest(prompt=PROMPT, num_inference_steps=2, seed=11, controlnets=[unit],
                                                   control_images=[image.resize((128, 128))]))
    assert same_shape.warnings == []
