"""Training recipes the studio starts from: the YAML files in the repository's configs/ folder (one owner of each
recipe's values; `shoegen train --config` reads the same files), and the training settings a user may change in
the studio, described from TrainConfig's schema (names, bounds, defaults and help text from one place)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoegen.config.train import LR_SCHEDULERS, TrainConfig, read_yaml_mapping

RECIPES_DIR = Path(__file__).resolve().parents[3] / "configs"
RECIPES = {"original": "shoes-sd15.yaml", "quick-test": "quick-test.yaml", "demo": "demo.yaml"}
"""The studio's recipes, by name, in the order it offers them."""
SERVER_CHOSEN = ("dataset_path", "validation_path", "reg_data_dir", "prior_loss_weight", "output_dir",
                 "single_file_config", "overwrite_output_dir", "resume_from_checkpoint", "validation_prompts")
"""Settings the studio does not take as values: paths on the server and what needs one (the dataset is chosen by
name, the run folder is MODELS_DIR/<run>; regularisation images are a CLI feature for now), resuming (a button),
and the validation prompts (a field of their own)."""
GROUPS = {
    "Model and data": ("pretrained_model_name_or_path", "resolution", "enable_bucket", "random_flip",
                       "min_image_side", "validation_split"),
    "Optimisation": ("train_batch_size", "gradient_accumulation_steps", "learning_rate", "lr_scheduler",
                     "lr_warmup_steps", "max_train_steps", "adam_beta1", "adam_beta2", "adam_weight_decay",
                     "adam_epsilon", "max_grad_norm", "snr_gamma", "noise_offset", "gradient_checkpointing",
                     "mixed_precision", "seed"),
    "LoRA": ("rank", "lora_alpha", "lora_dropout", "lora_target_modules", "train_text_encoder"),
    "Speed": ("cache_latents", "cache_latents_to_disk", "torch_compile", "dynamo_backend",
              "torch_compile_cpp_wrapper"),
    "Checkpoints and validation": ("checkpointing_steps", "checkpoints_total_limit", "validation_steps",
                                   "num_validation_images", "validation_inference_steps", "validation_metrics"),
}


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str
    """The file's first comment line."""
    settings: dict[str, Any]
    """The recipe's values of the settings the studio takes (SERVER_CHOSEN left out)."""
    validation_prompts: list[str] | None


def recipes() -> list[Recipe]:
    """The recipes whose files are there (a package installed without its configs/ folder has none)."""
    found = []
    for name, file_name in RECIPES.items():
        path = RECIPES_DIR / file_name
        if path.is_file():
            values = read_yaml_mapping(path)
            title = next((line.lstrip("# ").strip() for line in path.read_text().splitlines()
                          if line.startswith("#")), name)
            settings = {key: value for key, value in values.items() if key not in SERVER_CHOSEN}
            found.append(Recipe(name, title, settings, values.get("validation_prompts")))
    return found


def find_recipe(name: str) -> Recipe:
    for recipe in recipes():
        if recipe.name == name:
            return recipe
    raise KeyError(f"unknown recipe {name!r}; known recipes: {', '.join(r.name for r in recipes())}")


@dataclass(frozen=True)
class SettingField:
    """One training setting as the studio's form shows it."""

    name: str
    group: str
    type: str
    """integer | number | boolean | string | enum | list"""
    default: Any
    help: str
    optional: bool
    """None (unset) is a valid value."""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    choices: list[str] | None = None


def setting_fields() -> list[SettingField]:
    """Every training setting the studio takes, by group, described from TrainConfig's JSON schema."""
    properties = TrainConfig.model_json_schema()["properties"]
    defaults = TrainConfig().model_dump(mode="json")
    group_of = {name: group for group, names in GROUPS.items() for name in names}
    fields = []
    for name in TrainConfig.model_fields:
        if name in SERVER_CHOSEN:
            continue
        schema = properties[name]
        variants = [v for v in schema.get("anyOf", [schema]) if v.get("type") != "null"]
        variant = variants[0] if variants else schema
        kind = variant.get("type", "string")
        choices = list(LR_SCHEDULERS) if name == "lr_scheduler" else variant.get("enum")
        fields.append(SettingField(
            name=name, group=group_of.get(name, "Other"), type="enum" if choices else
            {"array": "list"}.get(kind, kind), default=defaults[name], help=schema.get("description", ""),
            optional=len(variants) < len(schema.get("anyOf", [schema])), minimum=variant.get("minimum"),
            maximum=variant.get("maximum"), exclusive_minimum=variant.get("exclusiveMinimum"),
            exclusive_maximum=variant.get("exclusiveMaximum"), choices=choices))
    return sorted(fields, key=lambda f: list(GROUPS).index(f.group) if f.group in GROUPS else len(GROUPS))
