"""Generation straight to files, for the CLI: single requests, resumable batches, comparison grids. The engine
returns images and their parameters; writing them (as PNGs with the parameters embedded) happens here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from tqdm.auto import tqdm

from shoegen.config.validation import build_settings
from shoegen.engine.engine import Engine, GenerationRequest
from shoegen.errors import ShoegenError
from shoegen.files import replaced_atomically, write_text_atomically
from shoegen.storage.png import save_png_with_parameters

MANIFEST = "manifest.json"


def _slug(text: str, length: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:length] or "image"


def generate_to_folder(engine: Engine, request: GenerationRequest, folder: Path) -> list[Path]:
    """Generate and write each image as `<time>_<prompt>_<seed>.png` with its parameters embedded."""
    result = engine.generate(request)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    paths = []
    for image in result.images:
        path = folder / f"{stamp}_{_slug(image.params.prompt)}_{image.seed}.png"
        paths.append(save_png_with_parameters(image.image, image.params, path))
    return paths


def save_image(image: Image.Image, path: Path, file_format: str, **options) -> Path:
    """Write `image` to `path` in `file_format` (Pillow's name: PNG, JPEG, ...; `options` Pillow's for it) through a
    temporary file in the same folder, renamed over `path`: an interrupted write never leaves half an image under the
    final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(path) as temporary:
        image.save(temporary, format=file_format, **options)
    return path


def _variant(template: GenerationRequest, **changes) -> GenerationRequest:
    """`template` with some fields changed, validated like any request: a prompt line over the limit, or a seed
    run past the last one, is a clear error naming it."""
    return build_settings(GenerationRequest, {**dict(template), **changes}, what=None, option=str, sentences=True)


def _check_variants(template: GenerationRequest, prompts: list[str], models: list[str | None]) -> None:
    """Every prompt (and model) checked before the first image: a bad line stops the run at once, naming it,
    instead of after hours of images (the template's seed and image count already keep every seed in range)."""
    for index, prompt in enumerate(prompts):
        for model in models:
            changes = {"prompt": prompt} | ({"model_name": model} if model else {})
            try:
                _variant(template, **changes)
            except ShoegenError as error:
                raise ShoegenError(f"prompt {index + 1}: {error}") from None


def read_prompts(path: Path) -> list[str]:
    """One prompt per line; blank lines and lines starting with # are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ShoegenError(f"prompts file {path} does not exist") from None
    except IsADirectoryError:
        raise ShoegenError(f"prompts file {path} is a folder: give a text file, one prompt a line") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ShoegenError(f"prompts file {path} cannot be read as UTF-8 text: {error}") from None
    prompts = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not prompts:
        raise ShoegenError(f"{path} holds no prompts (one per line; # starts a comment)")
    return prompts


@dataclass
class BatchSummary:
    folder: Path
    written: list[Path]
    skipped: int


def run_batch(engine: Engine, prompts: list[str], template: GenerationRequest, folder: Path,
              show_progress: bool = True) -> BatchSummary:
    """`template.num_images` images per prompt, seeds template.seed, +1, ...; files already listed in the
    folder's manifest are kept, so rerunning an interrupted batch finishes it."""
    if template.seed is None:
        raise ShoegenError("a batch needs a fixed --seed so that a rerun can tell what is already done")
    _check_variants(template, prompts, [None])
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {"images": []}
    done = {(entry["prompt_index"], entry["seed"]) for entry in manifest["images"] if (folder / entry["file"]).is_file()}
    manifest["images"] = [e for e in manifest["images"] if (e["prompt_index"], e["seed"]) in done]
    request = template.model_dump(mode="json", exclude={"prompt"})
    _check_same_batch(folder, manifest, request, prompts)
    manifest["request"] = request
    written, skipped = [], 0
    bar = tqdm(total=len(prompts) * template.num_images, desc="Generating", unit="img", disable=not show_progress)
    for index, prompt in enumerate(prompts):
        seeds = [template.seed + i for i in range(template.num_images)]
        todo = [seed for seed in seeds if (index, seed) not in done]
        skipped += len(seeds) - len(todo)
        bar.update(len(seeds) - len(todo))
        for seed in todo:  # one image per call: an interruption loses at most one image
            result = engine.generate(_variant(template, prompt=prompt, seed=seed, num_images=1))
            image = result.images[0]
            folder.mkdir(parents=True, exist_ok=True)  # once an image is made: a refused request leaves no folder
            file = f"p{index:03d}_{_slug(prompt, 30)}_s{seed}.png"
            written.append(save_png_with_parameters(image.image, image.params, folder / file))
            manifest["images"].append({"prompt_index": index, "prompt": prompt, "seed": seed, "file": file,
                                       "params": image.params.to_dict()})
            write_text_atomically(manifest_path, json.dumps(manifest, indent=2))
            bar.update(1)
    bar.close()
    write_text_atomically(manifest_path, json.dumps(manifest, indent=2))
    return BatchSummary(folder, written, skipped)


def _check_same_batch(folder: Path, manifest: dict, request: dict, prompts: list[str]) -> None:
    """A rerun finishes the batch its folder holds: the same settings (more images per prompt aside) and the same
    prompt at each line, or the images already there would be counted as done for another request."""
    if not manifest["images"]:
        return
    previous = manifest.get("request") or {}
    changed = [key for key in sorted(set(previous) | set(request))
               if key != "num_images" and previous.get(key) != request.get(key)]
    if changed:
        listed = ", ".join(f"{key} {previous.get(key)!r}, now {request.get(key)!r}" for key in changed[:5])
        raise ShoegenError(f"--output {folder} holds a batch made with other settings ({listed}): rerun it with its "
                           "own settings to finish it, or pick another --output")
    for entry in manifest["images"]:
        index = entry["prompt_index"]
        now = prompts[index] if index < len(prompts) else None
        if entry.get("prompt") != now:
            raise ShoegenError(f"--output {folder} holds a batch whose prompt {index + 1} was {entry.get('prompt')!r}, "
                               f"now {now!r}: rerun it with its own prompts file to finish it, or pick another "
                               "--output")


def comparison_grid(engine: Engine, prompts: list[str], models: list[str], template: GenerationRequest,
                    show_progress: bool = True) -> Image.Image:
    """Rows are prompts, columns models, every cell the same seed; labelled so a checkpoint can be picked
    by looking."""
    if template.seed is None:
        template = _variant(template, seed=0)
    _check_variants(template, prompts, models)
    cells: list[list[Image.Image]] = []
    bar = tqdm(total=len(prompts) * len(models), desc="Grid", unit="img", disable=not show_progress)
    for prompt in prompts:
        row = []
        for model in models:
            request = _variant(template, prompt=prompt, model_name=model, num_images=1)
            row.append(engine.generate(request).images[0].image)
            bar.update(1)
        cells.append(row)
    bar.close()
    return _draw_grid(cells, prompts, models)


def _draw_grid(cells: list[list[Image.Image]], prompts: list[str], models: list[str]) -> Image.Image:
    width, height = cells[0][0].size
    scale = max(1, 256 // max(width, height))  # tiny 64 px images are enlarged to stay readable
    cell_w, cell_h = width * scale, height * scale
    font = ImageFont.load_default(size=14)
    label_w, header_h = 260, 40
    grid = Image.new("RGB", (label_w + cell_w * len(models), header_h + cell_h * len(prompts)), "white")
    draw = ImageDraw.Draw(grid)
    for column, model in enumerate(models):
        draw.text((label_w + column * cell_w + 6, 12), model[-34:], fill="black", font=font)
    for row, prompt in enumerate(prompts):
        words, lines = prompt.split(), [""]
        for word in words:
            if len(lines[-1]) + len(word) > 34:
                lines.append("")
            lines[-1] = f"{lines[-1]} {word}".strip()
        draw.multiline_text((8, header_h + row * cell_h + 8), "\n".join(lines[:8]), fill="black", font=font)
        for column, image in enumerate(cells[row]):
            grid.paste(image.resize((cell_w, cell_h), Image.NEAREST), (label_w + column * cell_w, header_h + row * cell_h))
    return grid
