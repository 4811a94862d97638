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
from shoegen.service.deps import Services
from shoegen.service.trainer import RunError, check_run_name


ValidationPrompts = Annotated[list[PromptText], Field(max_length=16)]
"""A run's validation prompts: as many as a validation sheet shows, each as long as a generation's prompt."""


class RunCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=f"^{NAME_PATTERN.pattern}$",
                      description="the run's folder under MODELS_DIR and its models' prefix (RUN/checkpoint-N)")
    dataset: str = Field(description="a dataset of GET /api/datasets, by name")
    recipe: str | None = Field("quick-test", description="a recipe of GET /api/recipes whose settings start the run "
                               "(none: TrainConfig's defaults on the server's base); its base must be the server's "
                               "unless `settings.pretrained_model_name_or_path` names one")
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
                            "settings name another (the recipes whose `settings.pretrained_model_name_or_path` is "
                            "another base are refused as they are)")
    fields: list[SettingFieldPublic] = Field(description="every training setting the studio may send, by group, "
                                             "with its default, bounds and help (TrainConfig's, one place)")


def setting(name: str) -> str:
    """How a training setting is named in a run's body."""
    return f"settings.{name}"


def recipes_public(base_model: str) -> RecipesPublic:
    return RecipesPublic(
        recipes=[RecipePublic(name=r.name, title=r.title, settings=r.settings, validation_prompts=r.validation_prompts)
                 for r in recipes()],
        base_model=base_model, fields=[SettingFieldPublic(**vars(field)) for field in setting_fields()])


BASE_SETTING = "pretrained_model_name_or_path"


def _check_base(recipe: Recipe | None, settings: dict[str, Any], server_base: str) -> dict[str, Any]:
    """The base settings of the run: the server's, unless the body names one. A recipe for another base (its
    resolution and steps are that base's) is refused, naming the recipes for this one: its adapters could not be
    used by this server's generation."""
    if BASE_SETTING in settings:
        return {}
    base = recipe.settings.get(BASE_SETTING) if recipe else None
    if recipe is None or base is None:
        return {BASE_SETTING: server_base}
    if base != server_base:
        fitting = [r.name for r in recipes() if r.settings.get(BASE_SETTING) == server_base]
        instead = f"pick {' or '.join(repr(name) for name in fitting)}" if fitting else \
            "send no recipe (TrainConfig's defaults on it)"
        raise RunError(f"recipe: {recipe.name!r} trains on the base {base!r}, and this server generates with "
                       f"{server_base!r}, which could not use the run's adapters: {instead}, or set "
                       f"{setting(BASE_SETTING)} to train for another server", 422)
    return {}


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
    try:
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
    values = {**(recipe.settings if recipe else {}), **_check_base(recipe, body.settings, services.engine.base_model),
              **body.settings, "dataset_path": dataset, "validation_prompts": prompts or None}
    try:
        return build_settings(TrainConfig, values, what=None, option=setting, key=setting,
                              help_command="GET /api/recipes", aliases=KEY_ALIASES,
                              guesses=[name for name in TrainConfig.model_fields if name not in SERVER_CHOSEN])
    except ShoegenError as error:
        raise RunError(str(error), 422) from None
