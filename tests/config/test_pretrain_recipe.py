"""Pretraining recipes: the defaults that make the `demo` base, and errors that name the flag."""

from __future__ import annotations

import pytest

from shoegen.config.pretrain import PretrainRecipe, build_recipe
from shoegen.errors import ShoegenError


def test_the_default_recipe_is_the_demo_base():
    recipe = build_recipe({})
    assert recipe == PretrainRecipe()
    assert (recipe.images, recipe.vae_steps, recipe.unet_steps, recipe.held_out_pattern) == (2000, 1000, 600,
                                                                                            "watermelon")


def test_none_shows_every_pattern():
    assert build_recipe({"held_out_pattern": "None"}).held_out_pattern is None


@pytest.mark.parametrize(("values", "message"), [
    ({"vae_steps": "0"}, "--vae-steps must be at least 1, got 0"),
    ({"unet_batch_size": 0}, "--unet-batch-size must be at least 1, got 0"),
    ({"resolution": 60}, "--resolution must be a multiple of 8"),
    ({"resolution": 16}, "--resolution must be at least 32"),
    ({"caption_dropout": 1.0}, "--caption-dropout must be less than 1"),
    ({"images": "many"}, "--images must be a whole number, got many"),
    ({"vae_learning_rate": -1}, "--vae-learning-rate must be more than 0.0, got -1"),
    ({"unet_learning_rate": 0}, "--unet-learning-rate must be more than 0.0, got 0"),
])
def test_a_bad_value_names_its_flag(values, message):
    with pytest.raises(ShoegenError, match=message):
        build_recipe(values)


def test_every_field_has_its_help():
    assert all(info.description for info in PretrainRecipe.model_fields.values())
