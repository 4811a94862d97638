"""Upscaler models from local files: the ESRGAN family's layouts are recognised from their weights (tiny random
networks written here by the published layer names and shapes), the scale follows, tiles leave no seam, and a
pickle that would run code is refused without running it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from shoegen.engine.engine import Engine, GenerationRequest
from shoegen.errors import ShoegenError
from shoegen.models import upscalers
from shoegen.models.upscalers import UpscalerUnavailable, load_upscaler, upscaler_names


def rrdb_weights(seed: int = 0, features: int = 8, growth: int = 4, blocks: int = 2, channels_in: int = 3,
                 upsamples: int = 2) -> dict[str, torch.Tensor]:
    """Real-ESRGAN's RRDBNet layer names and shapes (conv_first, body.N.rdbK.convJ, conv_body, conv_upN, conv_hr,
    conv_last), random values."""
    generator = torch.Generator().manual_seed(seed)
    shapes: dict[str, tuple[int, int]] = {"conv_first": (features, channels_in)}
    for block in range(blocks):
        for rdb in (1, 2, 3):
            for conv in range(1, 6):
                out = features if conv == 5 else growth
                shapes[f"body.{block}.rdb{rdb}.conv{conv}"] = (out, features + (conv - 1) * growth)
    shapes["conv_body"] = (features, features)
    for index in range(1, upsamples + 1):
        shapes[f"conv_up{index}"] = (features, features)
    shapes |= {"conv_hr": (features, features), "conv_last": (3, features)}
    weights = {}
    for name, (out, into) in shapes.items():
        weights[f"{name}.weight"] = torch.randn(out, into, 3, 3, generator=generator) * 0.1
        weights[f"{name}.bias"] = torch.randn(out, generator=generator) * 0.01
    return weights


def as_old_esrgan(weights: dict[str, torch.Tensor], blocks: int = 2) -> dict[str, torch.Tensor]:
    """The same network under the original ESRGAN's names (model.0, model.1.sub.N.RDBk.convj.0, model.1.sub.<blocks>,
    then the 4x tail at model.3, 6, 8, 10)."""
    tail = {"conv_up1": 3, "conv_up2": 6, "conv_hr": 8, "conv_last": 10}
    old = {}
    for key, value in weights.items():
        layer, kind = key.rsplit(".", 1)
        if layer == "conv_first":
            old[f"model.0.{kind}"] = value
        elif layer.startswith("body."):
            _, block, rdb, conv = layer.split(".")
            old[f"model.1.sub.{block}.{rdb.upper()}.{conv}.0.{kind}"] = value
        elif layer == "conv_body":
            old[f"model.1.sub.{blocks}.{kind}"] = value
        else:
            old[f"model.{tail[layer]}.{kind}"] = value
    return old


def compact_weights(seed: int = 0, features: int = 8, convs: int = 3, scale: int = 4, zero: bool = False):
    """Real-ESRGAN's compact network: body.0 conv, body.1 PReLU, (conv, PReLU) x convs, a conv to 3 x scale²."""
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    channels = [(features, 3)] + [(features, features)] * convs + [(3 * scale * scale, features)]
    for index, (out, into) in enumerate(channels):
        conv = 2 * index
        weights[f"body.{conv}.weight"] = torch.randn(out, into, 3, 3, generator=generator) * 0.1
        weights[f"body.{conv}.bias"] = torch.randn(out, generator=generator) * 0.01
        if index < len(channels) - 1:
            weights[f"body.{conv + 1}.weight"] = torch.full((out,), 0.25)
    if zero:
        weights = {key: torch.zeros_like(value) for key, value in weights.items()}
    return weights


class RunsCode:
    """A pickle that would run code when loaded (it only writes a file here, if it ever runs)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("upscaler-models")
    folder = root / "upscalers"
    folder.mkdir()
    save_file(rrdb_weights(), str(folder / "rrdb-x4.safetensors"))
    torch.save(as_old_esrgan(rrdb_weights()), folder / "esrgan-old-x4.pth")
    save_file(rrdb_weights(channels_in=12), str(folder / "rrdb-x2.safetensors"))
    torch.save({"params": compact_weights()}, folder / "compact-x4.pth")  # Real-ESRGAN's wrapper
    save_file(compact_weights(zero=True, scale=2), str(folder / "compact-zero-x2.safetensors"))
    save_file({"encoder.weight": torch.zeros(2, 2)}, str(folder / "not-an-upscaler.safetensors"))
    (folder / "broken.safetensors").write_bytes(b"not a safetensors file")
    return root


def image(size=(40, 30), seed=1) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def test_files_are_listed_by_name_after_the_built_in_lanczos(models, tmp_path):
    names = upscaler_names(models)
    assert names[0] == "lanczos" and "rrdb-x4" in names and "esrgan-old-x4" in names
    assert upscaler_names(tmp_path) == ["lanczos"] and upscaler_names(None) == ["lanczos"]


def test_the_layout_and_scale_are_found_from_the_weights(models):
    for name, architecture, scale in (("rrdb-x4", "ESRGAN (Real-ESRGAN)", 4), ("rrdb-x2", "ESRGAN (Real-ESRGAN)", 2),
                                      ("esrgan-old-x4", "ESRGAN (original layer names)", 4),
                                      ("compact-x4", "Real-ESRGAN compact", 4)):
        model = load_upscaler(name, models)
        assert (model.architecture, model.scale) == (architecture, scale)
        assert model(image((41, 29))).size == (41 * scale, 29 * scale)  # odd sides: padded for x2's unshuffle


def test_the_original_esrgan_names_load_the_same_network(models):
    photo = image()
    new, old = load_upscaler("rrdb-x4", models)(photo), load_upscaler("esrgan-old-x4", models)(photo)
    assert np.array_equal(np.asarray(new), np.asarray(old))


def test_the_compact_network_adds_its_output_to_a_nearest_upscale(models):
    # With every weight zero the network's own part is zero: what is left is its nearest-neighbour base, exactly.
    photo = image((300, 210))  # larger than one tile: tiles and their seams are in this picture
    out = load_upscaler("compact-zero-x2", models)(photo)
    assert np.array_equal(np.asarray(out), np.asarray(photo.resize((600, 420), Image.Resampling.NEAREST)))


def test_tiles_give_the_picture_of_one_pass(models, monkeypatch):
    # The compact network sees 5 pixels around each one, less than the tiles' margin: tiled and whole agree.
    photo = image((300, 210))  # four tiles of 192 px
    model = load_upscaler("compact-x4", models)
    tiled = np.asarray(model(photo), dtype=np.int16)
    monkeypatch.setattr(upscalers, "TILE", 1000)
    whole = np.asarray(model(photo), dtype=np.int16)
    assert tiled.shape == (840, 1200, 3) and np.abs(tiled - whole).max() <= 1  # float rounding at most


def test_a_pickle_that_runs_code_is_refused_without_running(models, tmp_path):
    marker = tmp_path / "ran"
    evil = models / "upscalers" / "evil.pth"
    with evil.open("wb") as handle:
        pickle.dump({"conv_first.weight": RunsCode(marker)}, handle, protocol=2)
    try:
        with pytest.raises(UpscalerUnavailable, match="refused, the file is a pickle"):
            load_upscaler("evil", models)
        assert not marker.exists()
    finally:
        evil.unlink()


@pytest.mark.parametrize(("name", "message"), [
    ("not-an-upscaler", "not an architecture this service knows.*encoder.weight"),
    ("broken", "could not be read"),
    ("missing", r"not a file of MODELS_DIR/upscalers/ \(known: lanczos, broken"),
])
def test_what_cannot_be_used_is_named(models, name, message):
    with pytest.raises(UpscalerUnavailable, match=message):
        load_upscaler(name, models)


def test_the_hires_fix_upscales_with_a_model_and_records_it(models):
    engine = Engine("tiny", models, device="cpu")
    common = dict(prompt="a shoe", num_inference_steps=4, seed=3, hires_scale=2.0, hires_steps=4)
    by_model = engine.generate(GenerationRequest(**common, hires_upscaler="rrdb-x4")).images[0]
    by_lanczos = engine.generate(GenerationRequest(**common)).images[0]
    assert by_model.image.size == by_lanczos.image.size == (128, 128)  # the model's 4x, resized to the 2x asked
    assert by_model.params.extra["mode_settings"]["hires_upscaler"] == "rrdb-x4"
    assert np.abs(np.asarray(by_model.image, dtype=np.int16) - np.asarray(by_lanczos.image, dtype=np.int16)).mean() > 2
    with pytest.raises(ShoegenError, match="not a file of MODELS_DIR/upscalers/"):
        engine.generate(GenerationRequest(**common, hires_upscaler="nope"))
    with pytest.raises(ShoegenError, match="give hires_scale too"):
        engine.generate(GenerationRequest(prompt="a shoe", hires_upscaler="rrdb-x4"))
