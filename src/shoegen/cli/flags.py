"""Command-line flags generated from typed settings (pydantic fields), so the settings, the flags and their
--help are one list."""

from __future__ import annotations

import argparse
import functools
import typing
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from shoegen.config.engine import EngineSettings
from shoegen.config.models import DEFAULT_BASE_MODEL, ModelSettings
from shoegen.config.validation import build_settings
from shoegen.errors import ShoegenError


# The base model's flag, then the diffusers training scripts' name that the original command lines use.
BASE_MODEL_FLAGS = ("--base-model", "--pretrained_model_name_or_path")


def add_base_model_flags(parser: argparse.ArgumentParser, models_dir: bool = True) -> None:
    """--base-model (also spelled --pretrained_model_name_or_path, as `shoegen train` and the original command
    lines do) and --models-dir; unset, they come from the environment (see `model_settings`)."""
    parser.add_argument(*BASE_MODEL_FLAGS, dest="base_model", metavar="MODEL",
                        help="base model: hub id, folder, single file, or built-in `tiny` / `demo` (default "
                        f"$SHOEGEN_BASE_MODEL or {DEFAULT_BASE_MODEL})")
    if models_dir:
        parser.add_argument("--models-dir", type=Path, help="training runs and LoRA files (default "
                            "$SHOEGEN_MODELS_DIR, $MODELS_DIR or ./runs)")


def model_settings(args: argparse.Namespace) -> ModelSettings:
    """The base model and models folder: flags first, then SHOEGEN_* environment variables, then defaults."""
    given = {name: getattr(args, name, None) for name in ("base_model", "models_dir")}
    return ModelSettings(**{name: value for name, value in given.items() if value is not None})


# EngineSettings' fields → their flags, the same in generate, batch, grid and serve.
ENGINE_FLAGS = {"compile": ("--compile",), "compile_mode": ("--compile-mode",)}


def add_engine_flags(parser: argparse.ArgumentParser) -> None:
    """--compile / --no-compile and --compile-mode; unset, they come from SHOEGEN_COMPILE and SHOEGEN_COMPILE_MODE
    (see `engine_settings`)."""
    for name, flags in ENGINE_FLAGS.items():
        add_field_flag(parser, EngineSettings, name, flags)


def engine_settings(args: argparse.Namespace) -> EngineSettings:
    """How the engine runs: flags first, then SHOEGEN_* environment variables, then defaults."""
    given = {name: getattr(args, name) for name in ENGINE_FLAGS if hasattr(args, name)}
    return build_settings(EngineSettings, given, what=None, sentences=True,
                          option=lambda field: ENGINE_FLAGS.get(field, (field,))[-1])


def add_field_flag(parser: argparse.ArgumentParser, model: type[BaseModel], name: str,
                   flags: Sequence[str] | None = None, default=None) -> None:
    """The flag of `model`'s field `name` (`--name` unless `flags` names its spellings): the field's docstring,
    default (or the command's own `default`) and range are its help, and its value reaches `name` only when
    typed; the model validates it."""
    info = model.model_fields[name]
    # get_default: a field with a default_factory has no `default` (pydantic's PydanticUndefined).
    default = info.get_default(call_default_factory=True) if default is None else default
    bounds = value_range(model, name)
    shown = "" if default in (None, "", [], ()) else f" (default: {shown_default(default)})"
    help_text = (info.description or "") + (f" Range: {bounds}." if bounds else "") + shown
    # SUPPRESS: only flags the user actually typed override the config file or the settings' defaults.
    common = {"dest": name, "default": argparse.SUPPRESS, "help": help_text.replace("%", "%%")}
    flags = list(flags or [f"--{name}"])
    annotation = info.annotation
    if annotation is bool:
        parser.add_argument(*flags, action=argparse.BooleanOptionalAction, **common)
    elif typing.get_origin(annotation) is list or list in typing.get_args(annotation) or any(
        typing.get_origin(arg) is list for arg in typing.get_args(annotation)
    ):
        parser.add_argument(*flags, nargs="+", metavar="VALUE", **common)
    else:
        parser.add_argument(*flags, metavar=flags[-1].lstrip("-").replace("-", "_").split("_")[-1].upper(), **common)


def shown_default(value) -> str:
    """A default as it would be typed: a path with forward slashes, a list as its space-separated items."""
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, (list, tuple)):
        return " ".join(shown_default(item) for item in value)
    return str(value)


@functools.cache
def whole_number(minimum: int, what: str = "a whole number", maximum: int | None = None):
    """An argparse type: an int of at least `minimum` (and at most `maximum`), else argparse's usage error naming the
    value."""
    return functools.partial(_whole_number, minimum=minimum, what=what, maximum=maximum)


def _whole_number(text: str, minimum: int, what: str, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < minimum:
        bound = "0 or more" if minimum == 0 else f"at least {minimum}"
        raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
    if maximum is not None and value > maximum:
        raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
    return value


def _properties(model: type[BaseModel]) -> dict:
    # Built once per settings type: every command's parser is built at start-up.
    return model.model_json_schema(mode="validation")["properties"]


def value_range(model: type[BaseModel], name: str) -> str:
    """A field's bounds as its JSON schema (and so the API's OpenAPI) states them: "1 to 150", "at least 64"."""
    schema = _properties(model)[name]
    bounds: dict = {}
    for variant in schema.get("anyOf", [schema]):
        bounds |= {key: value for key, value in variant.items()
                   if key in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf")}
    low = (f"above {bounds['exclusiveMinimum']}" if "exclusiveMinimum" in bounds
           else f"{bounds['minimum']}" if "minimum" in bounds else None)
    high = (f"below {bounds['exclusiveMaximum']}" if "exclusiveMaximum" in bounds
            else f"{bounds['maximum']}" if "maximum" in bounds else None)
    if low and high:
        text = f"{low} to {high}"
    elif low:
        text = f"at least {low}" if "minimum" in bounds else low
    elif high:
        text = f"at most {high}" if "maximum" in bounds else high
    else:
        text = ""
    if "multipleOf" in bounds:
        text = f"{text}, a multiple of {bounds['multipleOf']}" if text else f"a multiple of {bounds['multipleOf']}"
    return text


# --- output paths given as flags: checked before any work, so a typo fails in a second, not after a render ----------

def picture_file(flag: str, path: Path, *, mask: bool = False):
    """The picture a flag names, decoded (RGB; a `mask` as `data.images.as_mask` reads one); a ShoegenError naming
    the flag and what is wrong with the file."""
    from shoegen.data.images import ImageError, open_mask, open_rgb

    try:
        return open_mask(path) if mask else open_rgb(path)
    except ImageError as error:
        raise ShoegenError(f"{flag} {path}: {error.reason}") from None


def refuse_existing(output: Path, overwrite: bool) -> None:
    """An existing file is never replaced unless --overwrite says so (it may be a photo, or earlier work)."""
    if output.is_file() and not overwrite:
        raise ShoegenError(f"--output {output} already exists: pass --overwrite to replace it, or pick another name")


def writable_folder(folder: Path, flag: str = "--output", file: Path | None = None) -> Path:
    """`folder` (the folder of `flag`'s `file` when given), once it is proven writable: it, or the nearest of its
    parents that exists (where it will be made), takes a scratch file, written and removed; nothing is created. A
    ShoegenError naming `flag` when a file is in the way or the folder cannot be written."""
    import tempfile

    named = f"{flag} {file}: its folder {folder}" if file is not None else f"{flag} {folder}"
    if folder.exists() and not folder.is_dir():
        raise ShoegenError(f"{named} is a file, not a folder: pick a folder for the images.")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ShoegenError(f"{named} cannot be made: {existing} is a file.")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ShoegenError(f"{named} cannot be written ({error.strerror or error} in {existing}).") from None
    return folder


def image_format(path: Path, flag: str = "--output") -> str:
    """The Pillow format `path`'s extension names (.png: PNG, .jpg: JPEG, .webp: WEBP, ...); a name without an
    image extension Pillow writes is a ShoegenError naming `flag`."""
    from PIL import Image

    found = Image.registered_extensions().get(path.suffix.lower())
    if found is None or found not in Image.SAVE:
        suffix = f"`{path.suffix}`" if path.suffix else "no extension"
        raise ShoegenError(f"{flag} {path}: {suffix} is not an image format this can write; end the name with "
                           ".png (or .jpg, .webp, .tif).")
    return found


def open_served_gallery(args: argparse.Namespace):
    """The gallery `shoegen serve` keeps, from `--data-dir` / `--database-url` (else SHOEGEN_DATA_DIR,
    SHOEGEN_DATABASE_URL), opened only where it exists: a SQLite file that is not there is a wrong folder or URL,
    which would otherwise be made, empty."""
    from shoegen.config.service import ServiceSettings
    from shoegen.errors import ShoegenError
    from shoegen.storage import Gallery

    overrides = {"data_dir": args.data_dir, "database_url": args.database_url}
    settings = ServiceSettings(**{k: v for k, v in overrides.items() if v is not None})
    sqlite_file = Gallery.sqlite_file(Path(settings.data_dir), settings.database_url)
    if sqlite_file is not None and not sqlite_file.is_file():
        where = "--database-url" if settings.database_url else "the data folder (SHOEGEN_DATA_DIR or --data-dir)"
        raise ShoegenError(f"no gallery database at {sqlite_file}: `shoegen serve` makes it there; is {where} the one "
                           "it uses?")
    return Gallery.open(Path(settings.data_dir), settings.database_url)
