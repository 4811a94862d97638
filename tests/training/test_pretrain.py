"""The built-in `demo` base learns: prompts naming a colour give shoes of that colour, and a LoRA trained
with `shoegen train` teaches it the watermelon pattern it never saw. Measured with the pixel statistics
of `shoegen.data.image_stats` (checked on rendered photos in tests/data/test_image_stats.py), fixed seeds,
the engine's default sampler, on a CPU. The base is built once (about 12 minutes) and cached in the test
cache; `make test` leaves those tests (marked `demo_base`) out to stay within its time budget and
`make test-demo` runs them. The pretraining code itself (CLI, options, colour preconditioning) is tested
in `make test` on a few-step recipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shoegen.config.train import build_config
from shoegen.data.image_stats import dominant_color, watermelon_score
from shoegen.data.sample import draw_shoe_spec, render_sample_dataset
from shoegen.engine.engine import Engine, GenerationRequest
from shoegen.models.resolve import builtin_base_path
from shoegen.training.loop import train
from shoegen.training.pretrain import RECIPE_FILE

REPO = Path(__file__).resolve().parents[2]
COLOURS = ("red", "blue", "green", "yellow", "black", "white")
STYLES = ("sneakers", "boots", "loafers")
WATERMELON = 0.15  # watermelon_score above which a shoe shows the pattern (renders: > 0.25; other shoes: < 0.1)


def product_prompt(subject: str) -> str:
    return f"A professional product photo of {subject}, centered on white background, high quality, product photography"


def generate(engine: Engine, subject: str, model: str | None = None, count: int = 3, seed: int = 0):
    request = GenerationRequest(prompt=product_prompt(subject), model_name=model, width=64, height=64,
                                num_inference_steps=20, num_images=count, seed=seed)
    return [generated.image for generated in engine.generate(request).images]


@pytest.fixture(scope="module")
def demo_base() -> Path:
    return builtin_base_path("demo")


@pytest.fixture(scope="module")
def watermelon_run(demo_base, tmp_path_factory) -> Path:
    """The demo's LoRA run (configs/demo.yaml) on rendered watermelon-pattern shoes, regularised with other
    rendered shoes, as scripts/demo.sh trains it."""
    root = tmp_path_factory.mktemp("watermelon")
    render_sample_dataset(root / "data", count=200, seed=0, size=64, only_patterns=("watermelon",))
    render_sample_dataset(root / "reg", count=200, seed=7, size=64, exclude_patterns=("watermelon",))
    config = build_config(REPO / "configs" / "demo.yaml", {"dataset_path": root / "data", "reg_data_dir": root / "reg",
                                                           "output_dir": root / "runs" / "watermelon"})
    train(config, show_progress=False)
    return root / "runs"


@pytest.mark.demo_base
def test_demo_base_is_a_diffusers_folder_that_never_saw_the_held_out_pattern(demo_base):
    from diffusers import StableDiffusionPipeline

    report = json.loads((demo_base / RECIPE_FILE).read_text())
    assert report["recipe"]["held_out_pattern"] == "watermelon"
    pipeline = StableDiffusionPipeline.from_pretrained(demo_base)
    assert 2 ** (len(pipeline.vae.config.block_out_channels) - 1) == 8  # SD's VAE factor
    assert pipeline.tokenizer.vocab_size == 49408


@pytest.mark.demo_base
@pytest.mark.parametrize("colour", COLOURS)
def test_a_prompt_naming_a_colour_gives_shoes_of_that_colour(demo_base, colour):
    engine = Engine(str(demo_base))
    seen = [dominant_color(image) for seed, style in enumerate(STYLES)
            for image in generate(engine, f"{colour} leather {style}", seed=100 * seed)]
    assert sum(found == colour for found in seen) >= 6, f"{colour} prompts gave {seen}"


@pytest.mark.demo_base
def test_the_lora_teaches_the_held_out_pattern(demo_base, watermelon_run):
    engine = Engine(str(demo_base), models_dir=watermelon_run)
    without = [watermelon_score(image) for image in generate(engine, "watermelon pattern leather sneakers", count=8)]
    with_lora = [watermelon_score(image)
                 for image in generate(engine, "watermelon pattern leather sneakers", model="watermelon", count=8)]
    assert sum(score > WATERMELON for score in with_lora) >= 6, with_lora
    assert sum(score > WATERMELON for score in without) <= 1, without


@pytest.mark.demo_base
def test_the_lora_leaves_other_prompts_their_colours(demo_base, watermelon_run):
    # Regularisation images keep the adapter to the pattern: trained without them (the demo before
    # --reg_data_dir), only 18 of these 54 shoes kept their colour and 5 grew the pattern.
    engine = Engine(str(demo_base), models_dir=watermelon_run)
    images = [(colour, image) for colour in COLOURS for seed, style in enumerate(STYLES)
              for image in generate(engine, f"{colour} leather {style}", model="watermelon", seed=100 * seed)]
    right = sum(dominant_color(image) == colour for colour, image in images)
    patterned = sum(watermelon_score(image) > WATERMELON for _, image in images)
    assert right >= 36 and patterned <= 3, f"{right} of {len(images)} kept their colour, {patterned} grew the pattern"


def test_the_colour_preconditioning_folds_into_the_vae_exactly(tmp_path):
    import torch

    from shoegen.config.pretrain import PretrainRecipe
    from shoegen.models.clip_vocab import write_tokenizer_files
    from shoegen.training.pretrain import build_components, color_preconditioner, fold_color_transform

    write_tokenizer_files(tmp_path / "tokenizer")
    vae = build_components(PretrainRecipe(), tmp_path / "tokenizer")[0].eval()
    photos = torch.rand(2, 3, 64, 64) * 2 - 1
    transform = color_preconditioner(photos * torch.tensor([1.0, 0.2, 0.05]).view(1, 3, 1, 1))
    with torch.no_grad():
        transformed = torch.einsum("ij,njhw->nihw", transform, photos)
        decoded = vae.decode(vae.encode(transformed).latent_dist.mode()).sample
        expected = torch.einsum("ij,njhw->nihw", torch.linalg.inv(transform), decoded)
        fold_color_transform(vae, transform)
        folded = vae.decode(vae.encode(photos).latent_dist.mode()).sample
    torch.testing.assert_close(folded, expected, atol=1e-4, rtol=1e-4)


def test_base_pretrain_cli_writes_a_loadable_base_and_refuses_a_used_folder(tmp_path):
    out = tmp_path / "my-base"
    command = [sys.executable, "-m", "shoegen.cli.main", "base", "pretrain", str(out), "--images", "16",
               "--vae-steps", "2", "--unet-steps", "2", "--vae-batch-size", "2", "--unet-batch-size", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert "stage 2/2" in result.stderr  # progress bars
    assert (out / "model_index.json").is_file() and not out.with_name("my-base.building").exists()
    # The autoencoder saw all 16 photos; the UNet and text encoder only those without the held-out pattern.
    held_out = sum(draw_shoe_spec(0, index).pattern == "watermelon" for index in range(16))
    assert held_out >= 1
    assert json.loads((out / RECIPE_FILE).read_text())["denoiser_photos"] == 16 - held_out
    engine = Engine(str(out))
    assert generate(engine, "red leather boots", count=1)[0].size == (64, 64)

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode != 0 and "left untouched" in again.stderr


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--images", "0", "--images must be at least 1"),
    ("--resolution", "60", "--resolution must be a multiple of 8"),
    ("--held-out-pattern", "tartan", "unknown pattern 'tartan'"),
])
def test_base_pretrain_cli_names_a_bad_option(tmp_path, flag, value, message):
    result = subprocess.run([sys.executable, "-m", "shoegen.cli.main", "base", "pretrain", str(tmp_path / "b"),
                             flag, value], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "b").exists()
