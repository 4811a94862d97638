"""PNG files that carry their own generation parameters, readable by AUTOMATIC1111-compatible tools.

Two text chunks are embedded: `parameters`, AUTOMATIC1111's "infotext" (what A1111's PNG Info tab,
ComfyUI, Civitai and most image browsers read), and `shoegen`, the exact `ImageParams` as JSON, which
round-trips losslessly where the infotext is made for people.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from shoegen.config.generation import ImageParams
from shoegen.files import replaced_atomically

A1111_KEY = "parameters"
JSON_KEY = "shoegen"


def _a1111_quote(value: object) -> str:
    # A1111's infotext_utils.quote: values that would break its "key: value, ..." parser become JSON strings.
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def format_a1111_parameters(params: ImageParams) -> str:
    """AUTOMATIC1111's infotext: the prompt, a `Negative prompt:` line if there is one, then the settings line.

    Keys follow A1111's order (Steps, Sampler, CFG scale, Seed, Size, Model, Denoising strength, Clip skip;
    A1111 too writes Clip skip only when it is above 1). A1111
    writes LoRAs as `<lora:...>` tags inside the prompt; to keep the prompt exactly as the user typed it
    they go into a `Lora weights` entry instead (the key Fooocus uses), which A1111's parser keeps as-is.
    """
    mode = params.extra.get("mode_settings") or {}
    hires = mode.get("hires_scale")
    strength = mode.get("hires_strength") if hires and params.strength is None else params.strength
    settings: dict[str, object | None] = {
        "Steps": params.num_inference_steps,
        "Sampler": params.sampler,
        "CFG scale": float(params.guidance_scale),
        "Seed": params.seed,
        # With the hires fix, the first pass's size (A1111's), the result being it times `Hires upscale`.
        "Size": "x".join(map(str, params.first_pass_size)),
        "Model": params.model_name,
        "Denoising strength": None if strength is None else float(strength),
        "Clip skip": params.clip_skip if params.clip_skip > 1 else None,
        "Mask blur": mode.get("mask_blur"),
        # A1111 has no background or outpaint mode of its own: named so its parser keeps them.
        "Mode": params.mode if params.mode in ("background", "outpaint") else None,
        "Hires upscale": _number(hires) if hires else None,
        "Hires steps": mode.get("hires_steps") if hires else None,
        "Hires upscaler": (mode.get("hires_upscaler") or "Lanczos").replace("lanczos", "Lanczos") if hires else None,
        "Lora weights": ", ".join(f"{lora.name}: {float(lora.weight)}" for lora in params.loras) or None,
    }
    settings_line = ", ".join(f"{key}: {_a1111_quote(value)}" for key, value in settings.items() if value is not None)
    negative = f"\nNegative prompt: {params.negative_prompt}" if params.negative_prompt else ""
    # A1111 strips the whole text, which drops the leading newline of an empty prompt.
    return f"{params.prompt}{negative}\n{settings_line}".strip()


def _number(value: float) -> int | float:
    """2.0 as 2, as A1111 writes a whole scale."""
    return int(value) if float(value).is_integer() else value


def _png_info(params: ImageParams) -> PngInfo:
    info = PngInfo()
    # Pillow writes tEXt when the text is Latin-1 and switches to iTXt (UTF-8) for anything else.
    info.add_text(A1111_KEY, format_a1111_parameters(params))
    info.add_text(JSON_KEY, json.dumps(params.to_dict(), ensure_ascii=True, allow_nan=False))
    return info


def save_png_with_parameters(image: Image.Image, params: ImageParams, path: Path) -> Path:
    """Write `image` to `path` as a PNG with both metadata chunks, atomically; returns `path`.

    The bytes go to a temporary file in the same folder, are flushed to disk, and then renamed over
    `path`, so a reader (or a crash) never sees a half-written PNG under the final name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Durable: without fsync a power loss after the database commit could leave a row pointing at an empty file.
    with replaced_atomically(path, durable=True) as temporary:
        image.save(temporary, format="PNG", pnginfo=_png_info(params))
    return path


def read_png_parameters(path: Path) -> tuple[str | None, dict[str, Any] | None]:
    """The embedded (A1111 infotext, shoegen JSON) of a PNG; None for a chunk that is absent or unreadable."""
    with Image.open(path) as image:
        # `.text` on a PNG also loads chunks stored after the image data.
        chunks: dict[str, str] = dict(getattr(image, "text", {}) or {})
    a1111 = chunks.get(A1111_KEY)
    raw_json = chunks.get(JSON_KEY)
    params: dict[str, Any] | None = None
    if raw_json is not None:
        try:
            decoded = json.loads(raw_json)
        except json.JSONDecodeError:
            decoded = None
        params = decoded if isinstance(decoded, dict) else None
    return a1111, params
