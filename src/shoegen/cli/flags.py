"""Command-line flags generated from typed settings (pydantic fields), so the settings, the flags and their
--help are one list."""

from __future__ import annotations

import argparse
import typing
from collections.abc import Sequence
from pathlib import Path


def add_field_flag(parser: argparse.ArgumentParser, name: str, info, flags: Sequence[str] | None = None) -> None:
    """The flag of settings field `name` (`--name` unless `flags` names its spellings): the field's
    docstring and default are its help, and its value reaches `name` only when typed."""
    default = info.default
    shown = "" if default is None else f" (default: {default.as_posix() if isinstance(default, Path) else default})"
    help_text = (info.description or "") + shown
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
        parser.add_argument(*flags, metavar=name.split("_")[-1].upper(), **common)
