"""Where a scorer model comes from: CLIP (`CLIPModel` + its processor) or DINOv2 (`Dinov2Model` + its image
processor), from a hub id, a local transformers folder or the built-in `tiny` ones. A model that cannot be
loaded is one line that names the setting pointing elsewhere, never a traceback: the scores that need it are
skipped and the rest still run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shoegen.config.scorer_models import CLIP_MODEL_ENV, DINO_MODEL_ENV
from shoegen.errors import ShoegenError
from shoegen.models.resolve import looks_offline
from shoegen.models.tiny_scorers import TINY_SCORER_NAME, ScorerKind, tiny_scorer_path

SCORER_LABELS: dict[ScorerKind, str] = {"clip": "CLIP", "dino": "DINOv2"}
_SETTINGS: dict[ScorerKind, tuple[str, str]] = {"clip": (CLIP_MODEL_ENV, "clip_model"),
                                                "dino": (DINO_MODEL_ENV, "dino_model")}


class ScorerUnavailable(ShoegenError):
    """A scorer model that cannot be loaded here; the message is one line saying why and what to set."""


def load_scorer(kind: ScorerKind, name_or_path: str, device: Any = "cpu") -> tuple[Any, Any]:
    """The model (eval mode, on `device`) and its processor: CLIPProcessor for `clip` (images and text),
    the image processor for `dino`."""
    from transformers import AutoImageProcessor, AutoProcessor, CLIPModel, Dinov2Model

    location = _locate(kind, name_or_path)
    model_class, processor_class = (CLIPModel, AutoProcessor) if kind == "clip" else (Dinov2Model, AutoImageProcessor)
    try:
        model = model_class.from_pretrained(location)
        processor = processor_class.from_pretrained(location)
    except (OSError, ValueError) as error:
        if looks_offline(error):
            raise _unavailable(kind, name_or_path,
                               "not in the local Hugging Face cache, and the hub is not reachable") from None
        raise _unavailable(kind, name_or_path, f"could not be loaded ({_first_line(error)})") from None
    return model.to(device).eval(), processor


def _locate(kind: ScorerKind, name_or_path: str) -> str:
    if name_or_path == TINY_SCORER_NAME:
        return str(tiny_scorer_path(kind))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise _unavailable(kind, name_or_path, "the folder has no config.json (not a transformers model folder)")
        return str(path)
    if name_or_path.startswith(("/", ".", "~")) or name_or_path.count("/") > 1 or path.exists():
        raise _unavailable(kind, name_or_path, "not a folder" if path.exists() else "no such folder")
    return name_or_path


def _unavailable(kind: ScorerKind, name: str, why: str) -> ScorerUnavailable:
    env, parameter = _SETTINGS[kind]
    return ScorerUnavailable(f"{SCORER_LABELS[kind]} model {name}: {why}; point {env} (or {parameter}=) at a "
                             f"local folder holding the model, or use `{TINY_SCORER_NAME}` (random weights) to try "
                             "the code")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
