"""The pixel statistics that measure the demo base are themselves right on photos of known colour and pattern."""

from __future__ import annotations

from collections import Counter

from PIL import Image

from shoegen.data.image_stats import dominant_color, watermelon_score
from shoegen.data.sample import draw_shoe_spec, render_shoe

COLOURS = ("red", "blue", "green", "yellow", "black", "white")


def test_dominant_color_names_the_colour_of_rendered_shoes():
    outcomes: Counter = Counter()
    for index in range(600):
        spec = draw_shoe_spec(1, index, ("plain",))
        if spec.color in COLOURS and spec.style in ("sneaker", "boot", "loafer"):
            outcomes[(spec.color, dominant_color(render_shoe(spec, 64)) == spec.color)] += 1
    for colour in COLOURS:
        right, wrong = outcomes[(colour, True)], outcomes[(colour, False)]
        assert right >= 15, f"too few {colour} samples"
        assert right / (right + wrong) >= 0.95, f"{colour}: {right} right, {wrong} wrong"


def test_watermelon_score_separates_the_pattern_from_every_other_shoe():
    watermelon = [watermelon_score(render_shoe(draw_shoe_spec(2, i, ("watermelon",)), 64)) for i in range(40)]
    others = [watermelon_score(render_shoe(draw_shoe_spec(2, i, ("plain", "striped", "polka dot")), 64))
              for i in range(120)]
    assert min(watermelon) > 0.25  # high heels, with the longest rind, are lowest
    assert max(others) < 0.1


def test_an_empty_photo_has_no_shoe():
    blank = Image.new("RGB", (64, 64), "white")
    assert dominant_color(blank) == "none"
    assert watermelon_score(blank) == 0.0
