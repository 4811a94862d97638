"""The built-in `tiny` base: SD1.5's tokenizer and structure, loadable by plain diffusers, built deterministically."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from shoegen.models.resolve import builtin_base_path


def folder_contents(folder) -> dict[str, object]:
    """Every file of a model folder: safetensors files as tensor dicts, the rest as bytes."""
    contents = {}
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            name = file.relative_to(folder).as_posix()
            contents[name] = load_file(file) if file.suffix == ".safetensors" else file.read_bytes()
    return contents


def assert_same_model(left, right) -> None:
    a, b = folder_contents(left), folder_contents(right)
    assert a.keys() == b.keys()
    for name in a:
        if isinstance(a[name], dict):
            assert a[name].keys() == b[name].keys(), name
            for key in a[name]:
                assert torch.equal(a[name][key], b[name][key]), f"{name}: {key}"
        else:
            assert a[name] == b[name], name


def test_tokenizer_is_sd15s(tiny_base):
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tiny_base / "tokenizer")
    assert len(tokenizer) == 49408
    assert tokenizer("a photo").input_ids == [49406, 320, 1125, 49407]
    # Lower-casing and the end-of-word merges are SD1.5's too.
    assert tokenizer("A Photo").input_ids == [49406, 320, 1125, 49407]
    long_prompt = "black leather casual shoes " * 40
    ids = tokenizer(long_prompt, truncation=True, max_length=tokenizer.model_max_length).input_ids
    assert tokenizer.model_max_length == 77
    assert len(ids) == 77 and ids[0] == 49406 and ids[-1] == 49407


def test_plain_diffusers_loads_and_generates(tiny_base):
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(tiny_base)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.safety_checker is None

    def generate(seed):
        return pipe("a photo of black casual shoes", num_inference_steps=2, height=64, width=64,
                    generator=torch.Generator().manual_seed(seed), output_type="np").images

    first = generate(0)
    assert first.shape == (1, 64, 64, 3)
    assert np.isfinite(first).all() and 0.0 <= first.min() and first.max() <= 1.0 and first.std() > 0
    np.testing.assert_array_equal(generate(0), first)  # a fixed seed is a fixed image: what other tests rely on

    # SD's VAE factor 8: a 64 px image is an 8x8 latent (a smaller factor would make the UNet crawl).
    assert pipe.vae_scale_factor == 8
    with torch.no_grad():
        latents = pipe.vae.encode(torch.zeros(1, 3, 64, 64)).latent_dist.mean
    assert latents.shape == (1, 4, 8, 8)


def test_build_is_deterministic_and_rebuilds_an_incomplete_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOEGEN_CACHE_DIR", str(tmp_path / "a"))
    first = builtin_base_path("tiny")
    monkeypatch.setenv("SHOEGEN_CACHE_DIR", str(tmp_path / "b"))
    second = builtin_base_path("tiny")
    assert first != second and first.parent.parent == tmp_path / "a"
    assert (first / "model_index.json").is_file()
    assert_same_model(first, second)

    # A folder without its marker (an interrupted build) is rebuilt, not trusted.
    (first / "SHOEGEN_BUILTIN_VERSION").unlink()
    (first / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"truncated")
    monkeypatch.setenv("SHOEGEN_CACHE_DIR", str(tmp_path / "a"))
    assert builtin_base_path("tiny") == first
    assert (first / "SHOEGEN_BUILTIN_VERSION").is_file()
    assert_same_model(first, second)


def test_cli_prints_the_folder(tiny_base):
    result = subprocess.run([sys.executable, "-m", "shoegen.cli.main", "base", "path", "tiny"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tiny_base)


def test_unknown_builtin_is_refused():
    from shoegen.errors import ShoegenError

    with pytest.raises(ShoegenError, match="built-in bases: tiny"):
        builtin_base_path("huge")
