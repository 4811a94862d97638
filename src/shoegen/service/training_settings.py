"""What the studio sends to start a run, and the training settings it may send: a recipe's values, the user's
changes over them, the dataset by name; all checked by TrainConfig, each refusal naming its field."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from shoegen.config.generation import PromptText
from shoegen.config.recipes import SERVER_CHOSEN, Recipe, find_recipe, recipes, setting_fields
from shoegen.config.train import KEY_ALIASES, TrainConfig
from shoegen.config.validation import build_settings
from shoegen.data.library import NAME_PATTERN, DatasetLibrary
from shoegen.errors import ShoegenError
from shoegen.models.resolve import same_lora_layout
from shoegen.service.deps import Services
from shoegen.service.trainer import RunError, check_run_name


ValidationPrompts = Annotated[list[PromptText], Field(max_length=16)]
"""A run's validation prompts: as many as a validation sheet shows, each as long as a generation's prompt."""


class RunCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=f"^{NAME_PATTERN.pattern}$",
                      description="the run's folder under MODELS_DIR and its models' prefix (RUN/checkpoint-N)")
    dataset: str = Field(description="a dataset of GET /api/datasets, by name")
    recipe: str | None = Field(None, description="a recipe of GET /api/recipes whose settings start the run; left "
                               "out: the one for the server's base, null: TrainConfig's defaults. The run trains on "
                               "the server's base unless `settings.pretrained_model_name_or_path` names another; a "
                               "recipe for a base whose layers differ is refused")
    settings: dict[str, Any] = Field(default_factory=dict, description="training settings over the recipe's, by "
                                     "name (the `fields` of GET /api/recipes)")
    validation_prompts: ValidationPrompts | None = Field(None, description="the validation images' prompts "
                                                 "(none: the recipe's, else the first two training captions)")


class RecipePublic(BaseModel):
    name: str
    title: str
    settings: dict[str, Any]
    validation_prompts: list[str] | None


class SettingFieldPublic(BaseModel):
    name: str
    group: str
    type: str = Field(description="integer | number | boolean | string | enum | list")
    default: Any
    help: str
    optional: bool = Field(description="may be left empty (null: off or unset)")
    minimum: float | None
    maximum: float | None
    exclusive_minimum: float | None
    exclusive_maximum: float | None
    choices: list[str] | None


class RecipesPublic(BaseModel):
    recipes: list[RecipePublic]
    base_model: str = Field(description="the base this server generates with: a run trains on it unless its "
                            "settings name another (a recipe for a base whose layers differ is refused)")
    default_recipe: str | None = Field(description="the recipe for the server's base, which a run's body that "
                                       "names none starts from (none fits: TrainConfig's defaults)")
    fields: list[SettingFieldPublic] = Field(description="every training setting the studio may send, by group, "
                                             "with its default, bounds and help (TrainConfig's, one place)")


def setting(name: str) -> str:
    """How a training setting is named in a run's body."""
    return f"settings.{name}"


def recipes_public(base_model: str) -> RecipesPublic:
    default = recipe_for(base_model)
    return RecipesPublic(
        recipes=[RecipePublic(name=r.name, title=r.title, settings=r.settings, validation_prompts=r.validation_prompts)
                 for r in recipes()],
        base_model=base_model, default_recipe=default.name if default else None,
        fields=[SettingFieldPublic(**vars(field)) for field in setting_fields()])


BASE_SETTING = "pretrained_model_name_or_path"


def recipe_for(server_base: str) -> Recipe | None:
    """The recipe for the server's base: the one naming it, else one for a base of the same layers, else one for
    a base not known to differ (its configuration not at hand here); None when every recipe is for other layers
    (TrainConfig's defaults are SD1.5's)."""
    fits = {True: 0, None: 1}
    ranked = [(0 if base == server_base else fits[layout], index, recipe) for index, recipe in enumerate(recipes())
              if (base := recipe.settings.get(BASE_SETTING))
              and (layout := same_lora_layout(base, server_base)) is not False]
    return min(ranked, key=lambda item: item[:2])[2] if ranked else None


def _base_settings(recipe: Recipe | None, settings: dict[str, Any], server_base: str) -> dict[str, Any]:
    """The run's base: the one its settings name, else the server's. A recipe for a base whose LoRA layers
    differ (its resolution and steps are that base's, and this server's generation could not use the run's
    adapters) is refused, naming the recipe for this one."""
    if BASE_SETTING in settings:
        return {}
    base = recipe.settings.get(BASE_SETTING) if recipe else None
    if recipe is not None and base is not None and same_lora_layout(base, server_base) is False:
        fitting = recipe_for(server_base)
        instead = f"pick {fitting.name!r}" if fitting else "send `recipe: null` (TrainConfig's defaults on it)"
        raise RunError(f"recipe: {recipe.name!r} trains on the base {base!r}, whose layers differ from those of "
                       f"{server_base!r}, the base this server generates with, which could not use the run's "
                       f"adapters: {instead}, or set {setting(BASE_SETTING)} to train for another server", 422)
    return {BASE_SETTING: server_base}


def run_config(body: RunCreate, services: Services) -> TrainConfig:
    """The run's TrainConfig, or a RunError naming what is wrong (422 a setting, 404 an unknown dataset or
    recipe)."""
    check_run_name(body.name)
    if body.name == services.engine.base_model:
        raise RunError(f"name: {body.name!r} is the base model's name, so `model_name: {body.name}` would pick the "
                       "base, never this run's adapter; pick another name", 422)
    refused = sorted(set(body.settings) & set(SERVER_CHOSEN))
    if refused:
        raise RunError(f"{setting(refused[0])}: set by the server (the dataset is chosen by name, the run folder is "
                       "MODELS_DIR/<name>, validation prompts have a field of their own)", 422)
    server_base = services.engine.base_model
    try:
        if "recipe" not in body.model_fields_set:
            recipe = recipe_for(server_base)
        else:
            recipe = find_recipe(body.recipe) if body.recipe else None
    except KeyError as error:
        raise RunError(f"recipe: {error.args[0]}", 404) from None
    library = DatasetLibrary(services.settings.datasets_root)
    try:
        dataset, info = library.folder(body.dataset), library.info(body.dataset)
    except ShoegenError as error:
        raise RunError(f"dataset: {error}", 404) from None
    if info.status != "ready":
        raise RunError(f"dataset: {body.dataset!r} has no image training can use ({info.images} images, "
                       f"{info.skipped} skipped); its report is at GET /api/datasets/{body.dataset}", 422)
    prompts = body.validation_prompts if body.validation_prompts is not None else \
        (recipe.validation_prompts if recipe else None)
    if prompts is not None and not all(prompt.strip() for prompt in prompts):
        raise RunError("validation_prompts: a validation prompt is empty", 422)
    values = {**(recipe.settings if recipe else {}), **_base_settings(recipe, body.settings, server_base),
              **body.settings, "dataset_path": dataset, "validation_prompts": prompts or None}
    try:
        return build_settings(TrainConfig, values, what=None, option=setting, key=setting,
                              help_command="GET /api/recipes", aliases=KEY_ALIASES,
                              guesses=[name for name in TrainConfig.model_fields if name not in SERVER_CHOSEN])
    except ShoegenError as error:
        raise RunError(str(error), 422) from None
