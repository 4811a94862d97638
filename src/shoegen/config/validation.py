"""Settings built from what a user typed: a pydantic validation error becomes one ShoegenError that names
each bad option the way the user wrote it (a flag, a YAML key)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shoegen.errors import ShoegenError

Settings = TypeVar("Settings", bound=BaseModel)
# Pydantic's wording of a broken bound, as a sentence after the option's name ("--images must be at least 1").
SENTENCES = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "string_too_long": "must have at most {max_length} characters",
    "string_too_short": "must have at least {min_length} character(s)",
}


FIELD_IN_MESSAGE = re.compile(r"`(\w+)`")
"""A field named in a model validator's message: `hires_scale`."""


def flag_of(field: str) -> str:
    """`--field`: how most settings are spelled on the command line (the training flags keep diffusers' names)."""
    return f"--{field}"


def build_settings(model: type[Settings], values: Mapping[str, Any], *, what: str | None,
                   option: Callable[[str], str] = flag_of, key: Callable[[str], str] = str,
                   source: Path | None = None, help_command: str = "--help", sentences: bool = False,
                   aliases: Mapping[str, str] | None = None, guesses: Collection[str] | None = None) -> Settings:
    """`model(**values)`, or a ShoegenError with one line per bad option, e.g.
    `--learning_rate: Input should be greater than 0 (got -1)`, or with `sentences`
    `width must be a multiple of 8 (got 65)`; `what` heads the lines ("invalid training configuration:").
    The arguments after `values` are `describe_problems`'."""
    try:
        return model(**values)
    except ValidationError as error:
        lines = describe_problems(error, option=option, key=key, source=source, help_command=help_command,
                                  sentences=sentences, model=model, aliases=aliases, guesses=guesses)
        raise ShoegenError(f"invalid {what}:\n  " + "\n  ".join(lines) if what else "\n".join(lines)) from None


def describe_problems(error: ValidationError, *, option: Callable[[str], str] = flag_of,
                      key: Callable[[str], str] = str, source: Path | None = None, help_command: str = "--help",
                      sentences: bool = False, model: type[BaseModel] | None = None,
                      aliases: Mapping[str, str] | None = None, guesses: Collection[str] | None = None) -> list[str]:
    """One line per problem. `option` names a field with a bad value (a flag); `key` names an unknown key and the
    options it may have meant (a file's key as written; `settings.x` in an API body); `model` lends a field's
    examples to a value that does not have the field's form, and its field names (or only `guesses`, those a caller
    may send) to the "did you mean" of an unknown key, which also knows the other spellings in `aliases` (a flag's
    name: `base_model`)."""
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        if problem["type"] == "extra_forbidden":
            where = f" in {source}" if source else ""
            known = guesses if guesses is not None else (model.model_fields if model is not None else ())
            meant = _meant(name, known, aliases or {})
            guess = f": did you mean {' or '.join(f'`{key(m)}`' for m in meant)}?" if meant else ""
            lines.append(f"unknown option `{key(name)}`{where}{guess} (see `{help_command}` for the valid options)")
            continue
        message = problem["msg"].removeprefix("Value error, ")
        if not name:
            # A rule across several options (a model validator): its message names them in backticks, which
            # become the caller's names for them (`hires_scale`: the CLI's "hires").
            fields = model.model_fields if model is not None else {}
            lines.append(FIELD_IN_MESSAGE.sub(lambda m: option(m[1]) if m[1] in fields else m[0], message))
            continue
        if problem["type"] == "value_error" and str(problem.get("input")) in message:
            # A validator's own sentence, which already names the value ("unknown sampler 'Euler b'; ...").
            lines.append(f"{option(name)}: {message}")
            continue
        if problem["type"] == "string_pattern_mismatch":
            field = model.model_fields.get(name) if model is not None else None
            examples = f" (e.g. {', '.join(map(str, field.examples))})" if field is not None and field.examples else ""
            message = f"Input should have the expected form{examples}"
        if sentences:
            template = SENTENCES.get(problem["type"])
            phrase = template.format(**problem.get("ctx", {})) if template else message.replace("Input should", "must")
            lines.append(f"{option(name)} {phrase}, got {_shown(problem.get('input'))}")
        else:
            lines.append(f"{option(name)}: {message} (got {_shown(problem.get('input'), repr)})")
    return lines


def _meant(name: str, known: Collection[str], aliases: Mapping[str, str]) -> list[str]:
    """The fields an unknown key most likely meant, nearest first; none when none is close: a flag's spelling
    (`--base-model`, `learning-rate`), else the nearest names by difflib."""
    normalised = name.strip().lstrip("-").replace("-", "_").lower()
    normalised = aliases.get(normalised, normalised)
    if normalised in known:
        return [normalised]
    return difflib.get_close_matches(normalised, list(known), n=2, cutoff=0.6)


def _shown(value, text=str) -> str:
    """The value a user gave, cut short when long (a whole prompt or file would bury the message)."""
    shown = text(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."
