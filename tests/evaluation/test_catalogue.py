"""The catalogue scores mean what they say: measured on rendered photos whose truth is known (the renderer knows
each shoe's colour, position, size, background and silhouette), each score moves the right way when that truth
is changed."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from shoegen.config.scores import PRESETS
from shoegen.data.masks import product_mask
from shoegen.data.sample import caption_for, draw_shoe_spec, render_shoe, render_shoe_with_mask
from shoegen.evaluation.catalogue import (MemorisationIndex, ReferencePhotos, named_colour, score_image,
                                          seed_diversity)

SIDE_VIEWS = ("sneaker", "boot", "loafer")


def plain_side_views(seed: int, count: int):
    specs = (draw_shoe_spec(seed, index, ("plain",)) for index in range(10 * count))
    return [spec for spec in specs if spec.style in SIDE_VIEWS][:count]


@pytest.mark.parametrize(("size", "least_mean_iou"), [(64, 0.6), (256, 0.7)])
def test_the_product_mask_overlaps_the_renderers_silhouette(size, least_mean_iou):
    """Measured on 40 renders of every style and colour: IoU 0.67 mean (0.55 least) at 64 px, 0.76 (0.62) at
    256 px, recall 0.99 / 0.98. The mask takes in the darker part of the contact shadow and the anti-aliased rim,
    which is what keeps the IoU below 1 (precision 0.67 / 0.77); almost all of the shoe itself is found."""
    ious, recalls = [], []
    for index in range(40):
        image, silhouette = render_shoe_with_mask(draw_shoe_spec(3, index), size)
        mask = product_mask(image, with_shadow=True)
        ious.append((mask & silhouette).sum() / (mask | silhouette).sum())
        recalls.append((mask & silhouette).sum() / silhouette.sum())
    assert np.mean(ious) >= least_mean_iou
    assert min(ious) >= 0.5
    assert np.mean(recalls) >= 0.95


def test_grey_and_off_white_backgrounds_score_lower_on_background():
    spec = plain_side_views(4, 1)[0]
    scores = {background: score_image(render_shoe_with_mask(spec, 64, background)[0]).background
              for background in [(255, 255, 255), (238, 238, 238), (245, 238, 215), (200, 200, 200)]}
    white = scores.pop((255, 255, 255))
    assert white >= 0.9
    for background, value in scores.items():
        assert value < white - 0.5, background
    assert not score_image(render_shoe_with_mask(spec, 64, (200, 200, 200))[0]).passes("catalogue")


def test_shifted_shrunken_and_cropped_shoes_score_lower_on_framing():
    for spec in plain_side_views(5, 6):
        centred = dataclasses.replace(spec, offset=(0.0, 0.0), scale=0.7)
        reference = score_image(render_shoe(centred, 128))
        shifted = score_image(render_shoe(dataclasses.replace(centred, offset=(0.12, 0.0)), 128))
        shrunken = score_image(render_shoe(dataclasses.replace(centred, scale=0.3), 128))
        # Cropped: the frame slides right over the picture, so the shoe's toe or heel leaves it.
        wide = Image.new("RGB", (192, 128), "white")
        wide.paste(render_shoe(centred, 128), (0, 0))
        cropped = score_image(wide.crop((40, 0, 168, 128)))
        assert reference.offset < 0.05 and not reference.cut_off
        assert shifted.offset > reference.offset + 0.05 and shifted.score < reference.score
        assert shrunken.fill < reference.fill - 0.3 and shrunken.score < reference.score
        assert cropped.cut_off and cropped.score < reference.score
        assert reference.passes("catalogue")
        assert not shifted.passes("catalogue") and not shrunken.passes("catalogue") and not cropped.passes("catalogue")


def test_a_prompt_naming_another_colour_scores_lower_on_colour_fidelity():
    """The dominant-colour rule was tuned on the renders of seed 6 (39 of 40 right there); measured here on seed 16."""
    others = {"red": "blue", "blue": "red", "green": "pink", "yellow": "purple", "black": "white", "white": "black",
              "brown": "grey", "grey": "orange", "pink": "green", "orange": "navy", "purple": "yellow",
              "navy": "beige", "beige": "navy"}
    right = 0
    specs = plain_side_views(16, 40)
    for spec in specs:
        image = render_shoe(spec, 64)
        true = score_image(image, caption_for(spec))
        wrong = score_image(image, caption_for(dataclasses.replace(spec, color=others[spec.color])))
        assert true.colour == spec.color and wrong.colour == others[spec.color]
        right += true.colour_distance < wrong.colour_distance and true.score > wrong.score
    assert right / len(specs) >= 0.95


def test_the_prompt_colour_is_the_products_not_the_backgrounds():
    assert named_colour("A professional product photo of light blue canvas sneakers, centered on white "
                        "background") == "light blue"
    assert named_colour("gray suede boots on a white background") == "grey"
    assert named_colour("sneakers, centered on white background, high quality") is None
    assert score_image(render_shoe(plain_side_views(7, 1)[0], 64), "shoes on white background").colour_distance is None


def test_identical_seeds_have_zero_diversity_and_different_shoes_more():
    image = render_shoe(draw_shoe_spec(8, 0), 64)
    assert seed_diversity([image, image.copy(), image.copy()]) == 0.0
    assert seed_diversity([render_shoe(draw_shoe_spec(8, index), 64) for index in range(4)]) > 0.15
    assert seed_diversity([image]) is None


def test_a_training_photo_fed_back_is_flagged_as_memorised():
    photos = {f"{index:06d}.png": render_shoe(draw_shoe_spec(9, index), 64) for index in range(30)}
    index = MemorisationIndex(photos)
    copy = index.nearest(photos["000007.png"])
    assert copy.name == "000007.png" and copy.hash_distance == 0.0 and copy.memorised
    buffer = io.BytesIO()
    photos["000012.png"].save(buffer, format="JPEG", quality=80)
    recompressed = index.nearest(Image.open(buffer))
    assert recompressed.name == "000012.png" and recompressed.memorised
    fresh = [index.nearest(render_shoe(draw_shoe_spec(10, other), 64)) for other in range(20)]
    assert not any(nearest.memorised for nearest in fresh)


def test_blurred_products_score_lower_on_sharpness_against_the_training_photos():
    reference = ReferencePhotos([render_shoe(spec, 128) for spec in plain_side_views(11, 12)])
    low, high = reference.fill_range
    assert 0.4 < low <= high < 0.9
    spec = plain_side_views(12, 1)[0]
    sharp = score_image(render_shoe(spec, 128), reference=reference)
    blurred = score_image(render_shoe(spec, 128).filter(ImageFilter.GaussianBlur(2.5)), reference=reference)
    assert 0.5 < sharp.sharpness_ratio < 2.0
    assert blurred.sharpness_ratio < 0.5 * sharp.sharpness_ratio and blurred.score < sharp.score
    assert any("sharp" in failure for failure in blurred.rule_failures["catalogue"])


def test_the_main_image_preset_names_each_rule_an_image_breaks():
    spec = dataclasses.replace(plain_side_views(13, 1)[0], offset=(0.0, 0.0))
    small = score_image(render_shoe(spec, 64))
    failures = small.rule_failures["main-image"]
    assert any("longest side is 64 px" in failure for failure in failures)
    assert any("fills" in failure and "85%" in failure for failure in failures)
    large = score_image(render_shoe(dataclasses.replace(spec, scale=0.9), 1024))
    assert large.fill >= 0.85 and large.passes("main-image"), large.rule_failures["main-image"]
    assert set(small.rule_failures) == set(PRESETS)


def test_an_empty_frame_has_no_product_and_fails_every_preset():
    scores = score_image(Image.new("RGB", (64, 64), "white"), "red sneakers")
    assert not scores.product_found and scores.score == 0.0
    assert all(failures == ["no product stands out from the background"] for failures in scores.rule_failures.values())
