"""`shoegen generate`, `batch`, `grid` and `models`, run as a user runs them: the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shoegen.storage import read_png_parameters

PROMPT = "A professional product photo of red suede boots"
TINY = ["--base-model", "tiny", "--steps", "2", "--width", "64", "--height", "64"]


def shoegen(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "shoegen.cli.main", *args], capture_output=True, text=True,
                            timeout=300, cwd=cwd, env=None if env is None else {**os.environ, **env})
    return result


@pytest.fixture(scope="module")
def generated(models_dir, tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("generated")
    result = shoegen("generate", PROMPT, "-n", "2", "--seed", "42", "--model", "shoesA", "--models-dir",
                     str(models_dir), "--output", str(out), *TINY)
    assert result.returncode == 0, result.stderr
    return [Path(line) for line in result.stdout.split()]


def test_generate_writes_pngs_with_their_parameters_embedded(generated):
    assert len(generated) == 2
    for path, seed in zip(generated, (42, 43)):
        assert path.is_file() and path.suffix == ".png"
        with Image.open(path) as image:
            assert image.size == (64, 64)
        infotext, params = read_png_parameters(path)
        assert infotext.startswith(PROMPT)
        assert f"Seed: {seed}" in infotext and "Steps: 2" in infotext and "Model: shoesA" in infotext
        assert params["prompt"] == PROMPT and params["seed"] == seed and params["model_name"] == "shoesA"
    assert not np.array_equal(np.asarray(Image.open(generated[0])), np.asarray(Image.open(generated[1])))


def test_generate_refuses_a_bad_size_with_a_short_message(models_dir, tmp_path):
    result = shoegen("generate", PROMPT, "--models-dir", str(models_dir), "--output", str(tmp_path),
                     "--base-model", "tiny", "--width", "65")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --width must be a multiple of 8")
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_batch_writes_a_manifest_and_a_rerun_only_adds_the_missing_images(models_dir, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(f"# product shots\n{PROMPT}\n\nwhite leather sneakers on a white background\n")
    out = tmp_path / "batch"
    common = ["batch", str(prompts), "--output", str(out), "--models-dir", str(models_dir), *TINY]

    first = shoegen(*common, "-n", "2")
    assert first.returncode == 0, first.stderr
    assert "4 images written, 0 already there" in first.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted((e["prompt_index"], e["seed"]) for e in manifest["images"]) == [(0, 42), (0, 43), (1, 42), (1, 43)]
    before = {path.name: path.stat().st_mtime_ns for path in out.glob("*.png")}
    assert set(before) == {entry["file"] for entry in manifest["images"]}

    second = shoegen(*common, "-n", "3")
    assert second.returncode == 0, second.stderr
    assert "2 images written, 4 already there" in second.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted((e["prompt_index"], e["seed"]) for e in manifest["images"]) == [
        (0, 42), (0, 43), (0, 44), (1, 42), (1, 43), (1, 44)]
    after = {path.name: path.stat().st_mtime_ns for path in out.glob("*.png")}
    assert {name: after[name] for name in before} == before  # the first four were not rewritten
    new = set(after) - set(before)
    assert len(new) == 2
    for name in new:
        _, params = read_png_parameters(out / name)
        assert params["seed"] == 44

    # A rerun with other settings, or another prompt at a line, is not taken as finishing this batch.
    other = shoegen(*common[:-6], "--base-model", "tiny", "--steps", "3", "--width", "64", "--height", "64", "-n", "3")
    assert other.returncode == 2 and f"--output {out} holds a batch made with other settings " \
        "(num_inference_steps 2, now 3)" in other.stderr, other.stderr
    prompts.write_text(f"{PROMPT}\nred leather boots\n")
    moved = shoegen(*common, "-n", "3")
    assert moved.returncode == 2 and "prompt 2 was 'white leather sneakers on a white background', now 'red " \
        "leather boots'" in moved.stderr, moved.stderr
    assert {path.name for path in out.glob("*.png")} == set(after)  # nothing written by either


def test_grid_is_one_image_of_prompts_by_models_at_the_same_seed(models_dir, generated, tmp_path):
    output = tmp_path / "grid.png"
    models = ["tiny", "shoesA", "shoesB"]
    result = shoegen("grid", "--prompts", PROMPT, "white sneakers", "--models", ",".join(models),
                     "--models-dir", str(models_dir), "--output", str(output), *TINY)
    assert result.returncode == 0, result.stderr
    grid = np.asarray(Image.open(output).convert("RGB")).astype(int)
    # 64 px cells are enlarged 4x (nearest) to stay readable; labels sit left of and above the cells.
    cell = 256
    height, width = grid.shape[:2]
    label_width, header_height = width - cell * len(models), height - cell * 2
    assert 0 < label_width <= 400 and 0 < header_height <= 100

    def cell_image(row: int, column: int) -> np.ndarray:
        top, left = header_height + row * cell, label_width + column * cell
        return grid[top:top + cell:4, left:left + cell:4]

    # Row 0, column shoesA is what `generate --model shoesA --seed 42` made for the same prompt.
    from_generate = np.asarray(Image.open(generated[0]).convert("RGB")).astype(int)
    assert np.abs(cell_image(0, 1) - from_generate).max() <= 2
    assert np.abs(cell_image(0, 0) - from_generate).mean() > 1
    assert np.abs(cell_image(0, 2) - from_generate).mean() > 1
    assert np.abs(cell_image(1, 1) - from_generate).mean() > 1


def test_models_lists_runs_and_checkpoints_by_name(models_dir, escape_names):
    result = shoegen("models", "--models-dir", str(models_dir))
    assert result.returncode == 0, result.stderr
    adapters = result.stdout.split("\n\n")[0]  # then the ControlNets and the upscalers
    rows = {line.split()[0]: line.split()[1:] for line in adapters.splitlines()}
    assert rows == {
        "shoesA": ["final"], "shoesA/checkpoint-4": ["checkpoint", "step", "4"],
        "shoesA/checkpoint-8": ["checkpoint", "step", "8"],
        "shoesB": ["final"], "shoesB/checkpoint-4": ["checkpoint", "step", "4"],
        "shoesB/checkpoint-8": ["checkpoint", "step", "8"],
    }
    for name in escape_names:  # symlinks pointing outside the folder stay invisible
        assert name not in rows


def test_clip_skip_flag_is_written_into_the_png(models_dir, tmp_path):
    result = shoegen("generate", PROMPT, "--seed", "42", "--clip-skip", "2", "--models-dir", str(models_dir),
                     "--output", str(tmp_path), *TINY)
    assert result.returncode == 0, result.stderr
    infotext, params = read_png_parameters(Path(result.stdout.split()[0]))
    assert "Clip skip: 2" in infotext and params["clip_skip"] == 2


def test_a_bad_line_in_a_batch_stops_it_before_any_image_naming_the_line(tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(f"{PROMPT}\n{'long ' * 900}\n")
    out = tmp_path / "batch"
    result = shoegen("batch", str(prompts), "--output", str(out), *TINY)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: prompt 2: prompt must have at most 4000 characters, got long long")
    assert not out.exists()


def test_models_lists_controlnets_from_the_hub_cache_and_generate_uses_them_offline(models_dir, tmp_path):
    from shoegen.models.controlnets import write_tiny_controlnet

    # A ControlNet downloaded earlier, as the hub cache holds it (refs/main names the snapshot), hub unreachable.
    cache = tmp_path / "hub"
    snapshot = cache / "models--acme--tiny-canny" / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    write_tiny_controlnet(snapshot)
    (cache / "models--acme--tiny-canny" / "refs").mkdir()
    (cache / "models--acme--tiny-canny" / "refs" / "main").write_text("0123456789abcdef0123456789abcdef01234567")
    (models_dir / "upscalers").mkdir(exist_ok=True)
    env = {"HF_HUB_CACHE": str(cache)}
    listed = shoegen("models", "--models-dir", str(models_dir), env=env)
    assert listed.returncode == 0, listed.stderr
    assert "shoesA" in listed.stdout
    lines = [line.split() for line in listed.stdout.splitlines()]
    assert ["acme/tiny-canny", "hub", "cache"] in lines and ["tiny", "built-in"] in lines
    assert ["lanczos", "built-in"] in lines

    photo = tmp_path / "photo.png"
    Image.new("RGB", (64, 64), "white").save(photo)
    made = shoegen("generate", PROMPT, "--init-image", str(photo), "--mode", "img2img", "--controlnet",
                   "acme/tiny-canny::0.5", "--output", str(tmp_path / "out"), "--models-dir", str(models_dir), *TINY,
                   env=env)
    assert made.returncode == 0, made.stderr
    _, saved = read_png_parameters(Path(made.stdout.split()[0]))
    assert saved["extra"]["mode_settings"]["controlnets"][0]["model"] == "acme/tiny-canny"


# --- refused before any model loads: flags that would change nothing, outputs that cannot be written ---------------

class Loaded(Exception):
    """The engine was asked to load its base: every check before generating had passed."""


@pytest.fixture
def no_engine(monkeypatch):
    """In-process `shoegen ...` whose engine raises Loaded instead of loading a base (and so renders nothing)."""
    from shoegen.cli.main import main
    from shoegen.engine.engine import Engine

    def refuse_to_load(self):
        raise Loaded

    monkeypatch.setattr(Engine, "load", refuse_to_load)
    return main


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    Image.new("RGB", (64, 64), "white").save(path)
    return path


@pytest.mark.parametrize(("flags", "expected"), [
    (["--strength", "0.5"], "error: --strength is how much of a start image is repainted: give one with --init-image"),
    (["--strength", "0.5", "--mode", "background", "--init-image", "{photo}"],
     "error: --strength acts in img2img and inpaint; mode background"),
    (["--strength", "0.5", "--mode", "outpaint", "--format", "4:5", "--init-image", "{photo}"],
     "error: --strength acts in img2img and inpaint; mode outpaint"),
    (["--hires-strength", "0.4"], "error: --hires-strength sets the hires fix, which runs only with --hires SCALE"),
    (["--hires-steps", "3"], "error: --hires-steps sets the hires fix"),
    (["--hires-upscaler", "lanczos"], "error: --hires-upscaler sets the hires fix"),
    (["--hires-strength", "0.4", "--hires-steps", "3"], "error: --hires-strength, --hires-steps set the hires fix"),
], ids=["strength-txt2img", "strength-background", "strength-outpaint", "hires-strength", "hires-steps",
        "hires-upscaler", "two-hires-options"])
@pytest.mark.parametrize("command", ["generate", "batch", "grid"])
def test_a_flag_that_would_change_nothing_is_refused(no_engine, capsys, tmp_path, photo, command, flags, expected):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(PROMPT + "\n")
    head = {"generate": ["generate", PROMPT, "--output", str(tmp_path / "out")],
            "batch": ["batch", str(prompts), "--output", str(tmp_path / "out")],
            "grid": ["grid", "--prompts", PROMPT, "--models", "tiny", "--output", str(tmp_path / "grid.png")]}[command]
    assert no_engine([*head, *TINY, *[flag.format(photo=photo) for flag in flags]]) == 2
    assert capsys.readouterr().err.startswith(expected)
    assert not (tmp_path / "out").exists() and not (tmp_path / "grid.png").exists()


@pytest.mark.parametrize("flags", [
    ["--strength", "0.5", "--init-image", "{photo}"],
    ["--strength", "0.5", "--mode", "inpaint", "--init-image", "{photo}", "--mask", "{photo}"],
    ["--hires", "2", "--hires-strength", "0.4", "--hires-steps", "3", "--hires-upscaler", "lanczos"],
], ids=["img2img", "inpaint", "hires"])
def test_the_same_flags_where_they_act_reach_the_engine(no_engine, tmp_path, photo, flags):
    with pytest.raises(Loaded):
        no_engine(["generate", PROMPT, "--output", str(tmp_path / "out"), *TINY,
                   *[flag.format(photo=photo) for flag in flags]])


@pytest.mark.parametrize(("output", "expected"), [
    ("{file}", "is a file, not a folder"),
    ("{file}/images", "cannot be made: {file} is a file"),
    ("{tmp}/out.png", "looks like a file name, but it is the folder the images go in"),
    ("/proc/shoegen-out", "cannot be written"),
], ids=["a-file", "under-a-file", "an-image-name", "unwritable"])
def test_generate_checks_its_output_folder_before_generating(no_engine, capsys, tmp_path, output, expected):
    if output.startswith("/proc") and not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    file = tmp_path / "taken"
    file.write_text("not a folder")
    values = {"file": file, "tmp": tmp_path}
    assert no_engine(["generate", PROMPT, "--output", output.format(**values), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --output ") and expected.format(**values) in err and "Traceback" not in err
    assert file.read_text() == "not a folder" and not (tmp_path / "out.png").exists()


def test_batch_and_grid_check_their_outputs_before_generating(no_engine, capsys, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(PROMPT + "\n")
    assert no_engine(["batch", str(prompts), "--output", str(prompts), *TINY]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    grid = ["grid", "--prompts", PROMPT, "--models", "tiny", *TINY, "--output"]
    assert no_engine([*grid, str(tmp_path / "grid.txt")]) == 2
    assert capsys.readouterr().err.startswith(f"error: --output {tmp_path / 'grid.txt'}: `.txt` is not an image format")
    assert no_engine([*grid, str(tmp_path / "grid")]) == 2
    assert "no extension is not an image format" in capsys.readouterr().err
    assert no_engine([*grid, str(prompts / "grid.png")]) == 2
    assert capsys.readouterr().err.startswith(f"error: --output {prompts / 'grid.png'}: its folder {prompts} is a file")
    with pytest.raises(Loaded):
        no_engine([*grid, str(tmp_path / "new" / "grid.jpg")])
    assert not (tmp_path / "new").exists()  # checked, not made: nothing is left behind by a failed render


def test_grid_writes_the_format_its_extension_names(models_dir, tmp_path):
    output = tmp_path / "grid.jpg"
    result = shoegen("grid", "--prompts", PROMPT, "--models", "tiny", "--models-dir", str(models_dir),
                     "--output", str(output), *TINY)
    assert result.returncode == 0, result.stderr
    assert Image.open(output).format == "JPEG" and result.stdout.strip() == str(output)
    assert [path.name for path in tmp_path.iterdir()] == ["grid.jpg"]  # no temporary file left


# --- a damaged adapter file: an error naming it, and the engine still works ----------------------------------------

def damaged_adapters(folder: Path, good: Path) -> None:
    """Loose adapter files in `folder` that are no loadable LoRA: random bytes, nothing, half of `good`, other keys."""
    from safetensors.torch import save_file
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "garbage.safetensors").write_bytes(os.urandom(300))
    (folder / "empty.safetensors").write_bytes(b"")
    data = good.read_bytes()
    (folder / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    save_file({"model.weight": torch.zeros(2, 2)}, folder / "foreign.safetensors")


@pytest.fixture(scope="module")
def adapter_dir(models_dir, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("adapters")
    good = models_dir / "shoesA" / "lora_weights" / "pytorch_lora_weights.safetensors"
    (folder / "good.safetensors").write_bytes(good.read_bytes())
    damaged_adapters(folder, good)
    return folder


@pytest.mark.parametrize("name", ["garbage", "empty", "truncated", "foreign"])
def test_generate_with_a_damaged_adapter_names_the_file(adapter_dir, tmp_path, capsys, name):
    from shoegen.cli.main import main

    argv = ["generate", PROMPT, "--model", name, "--models-dir", str(adapter_dir), "--output", str(tmp_path), *TINY]
    assert main(argv) == 2
    err = capsys.readouterr().err
    last_line = err.strip().split("\n")[-1]  # after the base's loading bars
    assert last_line.startswith(f"error: could not load the LoRA adapter '{name}' from "
                                f"{adapter_dir / name}.safetensors")
    assert "Traceback" not in err and not list(tmp_path.iterdir())


def test_the_engine_works_on_after_a_damaged_adapter(adapter_dir):
    from shoegen.engine.engine import Engine, GenerationRequest
    from shoegen.errors import ShoegenError

    engine = Engine("tiny", adapter_dir)

    def image(**values) -> np.ndarray:
        request = GenerationRequest(prompt=PROMPT, num_inference_steps=2, width=64, height=64, seed=3, **values)
        return np.asarray(engine.generate(request).images[0].image).astype(int)

    base = image()
    for name in ("garbage", "truncated", "foreign"):
        with pytest.raises(ShoegenError, match=f"{name}.safetensors"):
            image(model_name=name)
        assert engine.loaded_adapters() == []
    adapted = image(model_name="good")
    assert np.abs(adapted - base).mean() > 1  # the good adapter loads and acts
    assert np.array_equal(image(), base)  # and nothing of the damaged ones stayed in the weights


def test_a_run_trained_on_another_base_says_so_not_that_its_file_is_damaged(models_dir, tmp_path, capsys):
    """A run whose adapter does not fit this base's layers (here its tensors widened, as another architecture's
    would be): when its run.yaml names another base, the error names both bases; when it names this one, the
    file is damaged."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file
    import torch

    from shoegen.cli.main import main

    models = tmp_path / "models"
    shutil.copytree(models_dir / "shoesA", models / "other")
    weights = models / "other" / "lora_weights" / "pytorch_lora_weights.safetensors"
    with safe_open(weights, "pt") as opened:
        metadata = opened.metadata()
    save_file({key: torch.cat([value, value], dim=-1) for key, value in load_file(weights).items()}, weights,
              metadata=metadata)
    config = models / "other" / "run.yaml"
    config.write_text(config.read_text().replace("pretrained_model_name_or_path: tiny",
                                                 "pretrained_model_name_or_path: my/other-base"))
    argv = ["generate", PROMPT, "--model", "other", "--models-dir", str(models), "--output", str(tmp_path / "out"),
            *TINY]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().split("\n")[-1] == (
        "error: could not load the LoRA adapter 'other': it was trained on the base 'my/other-base' (its run.yaml), "
        "whose layers differ from those of 'tiny', the base this generates with; generate it with the base "
        "'my/other-base' (--base-model my/other-base, or a server started with it)")
    config.write_text(config.read_text().replace("my/other-base", "tiny"))
    assert main(argv) == 2
    assert "the file is damaged or is not an SD1.x LoRA adapter" in capsys.readouterr().err


def test_flags_that_would_change_nothing_or_name_nothing_are_refused(no_engine, capsys, tmp_path):
    for extra, expected in [
        (["--mask-blur", "30"], "--mask-blur acts in --mode inpaint, background and outpaint, and this is txt2img"),
        (["--format", "4:5"], "--format acts in --mode outpaint, and this is txt2img: pick that mode"),
        (["--masked-content", "fill", "--mode", "background", "--init-image", "x.png"],
         "--masked-content acts in --mode inpaint, and this is background"),
        (["--init-image", str(tmp_path / "none.png")], f"--init-image {tmp_path / 'none.png'}: file not found"),
    ]:
        assert no_engine(["generate", PROMPT, *TINY, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("error: ") and expected in err and "dataset" not in err, (extra, err)
    assert no_engine(["batch", str(tmp_path), *TINY]) == 2  # a folder where the prompts file goes
    assert f"prompts file {tmp_path} is a folder" in capsys.readouterr().err
    grid = ["grid", "--prompts", PROMPT, *TINY]
    assert no_engine([*grid, "--models", ",,", "--output", str(tmp_path / "g.png")]) == 2
    assert "--models ',,' names no model" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a grid is one image per prompt and model: it has no -n
        no_engine([*grid, "--models", "tiny", "-n", "3"])
    capsys.readouterr()


def test_grid_never_replaces_an_existing_file_unless_told(no_engine, capsys, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"a photo")
    grid = ["grid", "--prompts", PROMPT, "--models", "tiny", *TINY, "--output", str(photo)]
    assert no_engine(grid) == 2
    assert f"--output {photo} already exists: pass --overwrite" in capsys.readouterr().err
    assert photo.read_bytes() == b"a photo"
    with pytest.raises(Loaded):  # with --overwrite it goes on to render
        no_engine([*grid, "--overwrite"])


@pytest.mark.parametrize(("flags", "expected"), [
    (["--mode", "img2img"], "--mode img2img needs a photo to start from (--init-image)"),
    (["--mode", "inpaint", "--init-image", "{photo}"], "--mode inpaint needs a mask (--mask)"),
    (["--mode", "outpaint", "--init-image", "{photo}"],
     "--mode outpaint needs the new format: --format (e.g. 4:5), or --width and --height"),
    (["--mode", "img2img", "--init-image", "{photo}", "--mask", "{photo}"], "--mode img2img takes no --mask"),
    (["--hires", "2", "--hires-upscaler", "nosuch"], "--hires-upscaler 'nosuch': not a file of MODELS_DIR/upscalers/"),
    (["--seed", "4294967295", "-n", "2"], "--seed 4294967295 with 2 images (--num-images) gives the last one seed "
     "4294967296, over the largest seed 4294967295: use a --seed of at most 4294967294"),
    (["--width", "1024", "--height", "1024", "--hires", "4"],
     "the hires fix would make 1024x1024 x 4 = 4096x4096, over the 2048 px limit a side: use a --hires of at most "
     "2.00"),
    (["--clip-skip", "12"], "--clip-skip 12: this base's text encoder has 2 layers, so --clip-skip can be at most 2"),
    (["--mode", "outpaint", "--init-image", "{photo}", "--format", "4:5", "--width", "96"],
     "--format makes the canvas from the photo's shape, and --width / --height would set it too"),
    (["--mode", "background", "--init-image", "{photo}", "--mask-invert"],
     "--mask-invert inverts a given mask (--mask); without one, --mode background finds the product itself"),
    (["--mode", "outpaint", "--init-image", "{photo}", "--format", "4:5", "--outpaint-fill", "white", "--controlnet",
      "tiny:"], "a white outpaint generates nothing for a ControlNet to guide: drop --controlnet"),
    (["--mode", "inpaint", "--init-image", "{photo}", "--mask", "{photo}", "--masked-content", "latent_noise",
      "--strength", "0.3"], "--masked-content latent_noise repaints its area from noise, all of it: drop --strength"),
], ids=["img2img-without-photo", "inpaint-without-mask", "outpaint-without-format", "img2img-with-mask",
        "unknown-upscaler", "seed-past-the-last", "hires-past-the-limit", "clip-skip-past-the-encoder",
        "format-and-size", "background-invert-without-mask", "white-outpaint-controlnet", "latent-noise-strength"])
def test_what_the_mode_or_base_needs_is_refused_before_the_base_loads_naming_the_flags(no_engine, tiny_base, capsys,
                                                                                      tmp_path, photo, flags,
                                                                                      expected):
    out = tmp_path / "out"
    assert no_engine(["generate", PROMPT, "--base-model", "tiny", "--output", str(out), "--models-dir",
                      str(tmp_path / "models"), *[flag.format(photo=photo) for flag in flags]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err, err
    assert not out.exists()


def test_a_batch_refused_at_its_first_image_leaves_no_folder(tmp_path, capsys):
    from shoegen.cli.main import main

    models = tmp_path / "models"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(PROMPT + "\n")
    batch = tmp_path / "batch"
    assert main(["batch", str(prompts), *TINY, "--model", "nosuch", "--models-dir", str(models),
                 "--output", str(batch)]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert not batch.exists()  # it was made empty before the first image


def test_generate_prints_what_the_engine_changed_in_the_request(tmp_path, capsys):
    """A start image stretched to another shape (and a mask resized to its photo) reach the user on stderr, once."""
    from shoegen.cli.main import main

    wide, mask = tmp_path / "wide.png", tmp_path / "mask.png"
    Image.new("RGB", (100, 37), "white").save(wide)
    Image.new("L", (32, 32), 255).save(mask)
    out = tmp_path / "out"
    assert main(["generate", PROMPT, "--init-image", str(wide), "--mode", "img2img", "-n", "2", "--output", str(out),
                 *TINY]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert warnings == ["warning: the start image (100x37) was stretched to 64x64, another shape; ask for 176x64 to "
                        "keep its shape"]
    square = tmp_path / "square.png"
    Image.new("RGB", (64, 64), "white").save(square)
    assert main(["generate", PROMPT, "--init-image", str(square), "--mask", str(mask), "--mode", "inpaint",
                 "--output", str(out), "--base-model", "tiny", "--steps", "2"]) == 0
    assert any(line.startswith("warning: the mask (32x32) is not the photo's size (64x64)")
               for line in capsys.readouterr().err.splitlines())
