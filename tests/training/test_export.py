"""Trained adapters in plain diffusers: they load, they change the image, they keep their strength (alpha)
through save/load and through `shoegen lora export` (kohya layout, as AUTOMATIC1111/ComfyUI load it)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import torch
import pytest
from safetensors import safe_open
from safetensors.torch import load_file

from shoegen.cli.main import main
from shoegen.config.train import TrainConfig
from shoegen.training.lora import LORA_WEIGHTS_NAME
from shoegen.training.loop import train

PROMPT = "A professional product photo of black casual shoes, centered on white background"


def run_config(folder, dataset, **overrides) -> TrainConfig:
    # Module-scoped runs (fast_config is per test): a high learning rate so a few steps move pixels visibly.
    values = dict(pretrained_model_name_or_path="tiny", dataset_path=dataset, output_dir=folder, resolution=64,
                  train_batch_size=4, gradient_accumulation_steps=1, learning_rate=5e-3, lr_scheduler="constant",
                  lr_warmup_steps=0, max_train_steps=6, checkpointing_steps=3, validation_steps=1000,
                  num_validation_images=0, seed=7)
    return TrainConfig(**(values | overrides))


@pytest.fixture(scope="module")
def unet_run(tmp_path_factory, sample_dataset, tiny_base):
    return train(run_config(tmp_path_factory.mktemp("export") / "unet", sample_dataset), show_progress=False)


@pytest.fixture(scope="module")
def text_encoder_run(tmp_path_factory, sample_dataset, tiny_base):
    config = run_config(tmp_path_factory.mktemp("export") / "te", sample_dataset, train_text_encoder=True,
                        max_train_steps=3)
    return train(config, show_progress=False)


@pytest.fixture(scope="module")
def base_pipeline(tiny_base):
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(tiny_base)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def fresh_pipeline(base_pipeline):
    """A pipeline as `from_pretrained(tiny_base)` returns it, without re-reading the files each time."""
    return lambda: copy.deepcopy(base_pipeline)


@pytest.fixture(scope="module")
def final_image(unet_run, fresh_pipeline):
    """The image with the run's final adapter loaded the documented way: `pipe.load_lora_weights(folder)`."""
    return with_lora(fresh_pipeline, unet_run.output_dir / "lora_weights")


def generate(pipe) -> np.ndarray:
    return pipe(PROMPT, num_inference_steps=2, height=64, width=64, generator=torch.Generator().manual_seed(0),
                output_type="np").images[0]


def with_lora(fresh_pipeline, source) -> np.ndarray:
    pipe = fresh_pipeline()
    pipe.load_lora_weights(str(source))
    return generate(pipe)


def export(source, output, export_format="kohya") -> int:
    return main(["lora", "export", str(source), "--format", export_format, "--output", str(output)])


def test_adapter_and_checkpoints_load_in_diffusers_and_change_the_image(unet_run, fresh_pipeline, final_image):
    base, final = generate(fresh_pipeline()), final_image
    assert np.abs(final - base).mean() > 0.01

    names = [p.name for p in unet_run.checkpoints]
    assert names == ["checkpoint-3", "checkpoint-6"]
    np.testing.assert_allclose(with_lora(fresh_pipeline, unet_run.checkpoints[-1]), final, atol=1e-6)
    halfway = with_lora(fresh_pipeline, unet_run.checkpoints[0])
    assert np.abs(halfway - base).mean() > 1e-3 and np.abs(halfway - final).mean() > 1e-3


def test_saved_adapter_keeps_rank_and_alpha(unet_run, fresh_pipeline, final_image):
    from peft import LoraConfig
    from peft.utils import set_peft_model_state_dict

    with safe_open(str(unet_run.lora_weights), framework="pt") as handle:
        adapter = json.loads(handle.metadata()["lora_adapter_metadata"])
    assert adapter["unet.lora_alpha"] == 16 and adapter["unet.r"] == 8
    assert sorted(adapter["unet.target_modules"]) == ["to_k", "to_out.0", "to_q", "to_v"]

    # Reference: the trained peft tensors (the checkpoint's resume state) applied in-process at alpha 16.
    peft_state = {k.removeprefix("unet."): v for k, v in
                  load_file(unet_run.checkpoints[-1] / "lora_state.safetensors").items()}

    def in_process(alpha):
        pipe = fresh_pipeline()
        pipe.unet.add_adapter(LoraConfig(r=8, lora_alpha=alpha, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
        result = set_peft_model_state_dict(pipe.unet, peft_state)
        assert not result.unexpected_keys
        return generate(pipe)

    np.testing.assert_allclose(final_image, in_process(16.0), atol=1e-5)
    # The comparison can tell: the same tensors at the alpha a metadata-less file implies look different.
    assert np.abs(final_image - in_process(8.0)).mean() > 1e-3


def test_kohya_export_keeps_alpha_and_loads_with_the_same_pixels(unet_run, fresh_pipeline, final_image, tmp_path,
                                                                capsys):
    output = tmp_path / "shoes_lora.safetensors"
    assert export(unet_run.output_dir, output) == 0
    assert str(output) in capsys.readouterr().out

    tensors = load_file(output)
    module = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
    assert {f"{module}.lora_down.weight", f"{module}.lora_up.weight", f"{module}.alpha"} <= tensors.keys()
    assert tensors[f"{module}.lora_down.weight"].shape[0] == 8
    alphas = {k: v for k, v in tensors.items() if k.endswith(".alpha")}
    assert len(alphas) * 3 == len(tensors)
    assert all(v.item() == 16.0 for v in alphas.values())
    assert not any(k.startswith("lora_te_") for k in tensors)
    with safe_open(str(output), framework="pt") as handle:
        metadata = handle.metadata()
    assert metadata["ss_network_dim"] == "8" and float(metadata["ss_network_alpha"]) == 16.0

    np.testing.assert_allclose(with_lora(fresh_pipeline, output), final_image, atol=1e-4)


def test_diffusers_export_is_the_adapter_file(unet_run, tmp_path):
    output = tmp_path / "adapter.safetensors"
    assert export(unet_run.checkpoints[0], output, "diffusers") == 0
    assert output.read_bytes() == (unet_run.checkpoints[0] / "pytorch_lora_weights.safetensors").read_bytes()


def test_text_encoder_adapter_exports_to_kohya_and_loads(text_encoder_run, fresh_pipeline, tmp_path):
    with safe_open(str(text_encoder_run.lora_weights), framework="pt") as handle:
        adapter = json.loads(handle.metadata()["lora_adapter_metadata"])
    assert adapter["text_encoder.lora_alpha"] == 16 and adapter["text_encoder.r"] == 8

    output = tmp_path / "te.safetensors"
    assert export(text_encoder_run.output_dir, output) == 0
    tensors = load_file(output)
    module = "lora_te_text_model_encoder_layers_0_self_attn_q_proj"
    assert {f"{module}.lora_down.weight", f"{module}.lora_up.weight", f"{module}.alpha"} <= tensors.keys()
    assert any(k.startswith("lora_unet_") for k in tensors)
    assert tensors[f"{module}.alpha"].item() == 16.0

    pipe = fresh_pipeline()
    pipe.load_lora_weights(str(output))
    assert any("lora" in name for name, _ in pipe.text_encoder.named_modules())
    np.testing.assert_allclose(generate(pipe), with_lora(fresh_pipeline, text_encoder_run.output_dir / "lora_weights"),
                               atol=1e-4)


def test_export_errors_are_one_line_and_write_nothing(unet_run, tmp_path, capsys):
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    target = tmp_path / "out.safetensors"
    assert export(empty, target) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No LoRA adapter found at") and str(empty) in err and "Traceback" not in err
    assert not target.exists()

    assert export(unet_run.output_dir, tmp_path / "out.pt") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --output must be a .safetensors file")
    assert not (tmp_path / "out.pt").exists()

    with pytest.raises(SystemExit) as exited:
        export(unet_run.output_dir, target, "ckpt")
    assert exited.value.code == 2 and "invalid choice" in capsys.readouterr().err

    if Path("/proc/self").is_dir():  # a folder no file can be written in: safetensors' own error, one line
        assert export(unet_run.output_dir, Path("/proc/x.safetensors")) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: could not write /proc/x.safetensors") and "Traceback" not in err


@pytest.mark.parametrize("export_format", ["kohya", "diffusers"])
def test_export_refuses_to_replace_a_file_unless_asked(unet_run, tmp_path, capsys, export_format):
    target = tmp_path / "out.safetensors"
    target.write_bytes(b"someone's file")
    assert export(unet_run.output_dir, target, export_format) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target} already exists: pass --overwrite") and "Traceback" not in err
    assert target.read_bytes() == b"someone's file"

    argv = ["lora", "export", str(unet_run.output_dir), "--format", export_format, "--output", str(target)]
    assert main([*argv, "--overwrite"]) == 0
    assert load_file(target)  # a whole adapter now
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.safetensors"]  # no temporary file left


def test_export_never_leaves_half_a_file(unet_run, tmp_path, capsys, monkeypatch):
    import safetensors.torch

    target = tmp_path / "out.safetensors"
    assert export(unet_run.output_dir, target) == 0
    before = target.read_bytes()

    def disk_full(tensors, filename, metadata=None):
        with open(filename, "wb") as handle:
            handle.write(b"half a fi")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", disk_full)
    argv = ["lora", "export", str(unet_run.output_dir), "--output", str(target), "--overwrite"]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"error: could not write {target}: No space left on device")
    assert target.read_bytes() == before  # the earlier export, whole
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.safetensors"]


def test_export_names_what_is_missing(unet_run, tmp_path, capsys):
    import shutil

    run = unet_run.output_dir
    target = tmp_path / "out.safetensors"
    cases = {
        tmp_path / "no-such-run": f"error: {tmp_path / 'no-such-run'} does not exist: give a run folder",
        run / "checkpoint-99": f"error: Checkpoint {run / 'checkpoints' / 'checkpoint-99'} does not exist "
                               f"(checkpoints of {run}: checkpoint-3, checkpoint-6)",
        run / "checkpoints" / "checkpoint-98": "error: Checkpoint",
    }
    stopped = tmp_path / "stopped"
    shutil.copytree(run, stopped)
    shutil.rmtree(stopped / "lora_weights")
    cases[stopped] = (f"error: No final adapter in {stopped} yet", "Export a checkpoint instead, e.g. "
                      f"{stopped / 'checkpoints' / 'checkpoint-6'}")
    for source, expected in cases.items():
        assert export(source, target) == 2
        err = capsys.readouterr().err
        for phrase in (expected,) if isinstance(expected, str) else expected:
            assert phrase in err, (source, err)
        assert "Traceback" not in err and not target.exists()

    # A checkpoint by the name `shoegen models` gives it: RUN/checkpoint-N.
    assert export(run / "checkpoint-3", target, "diffusers") == 0
    assert target.read_bytes() == (run / "checkpoints" / "checkpoint-3" / LORA_WEIGHTS_NAME).read_bytes()


def test_export_of_a_damaged_adapter_names_it(unet_run, tmp_path, capsys):
    data = unet_run.lora_weights.read_bytes()
    for name, content in {"truncated": data[: len(data) // 2], "garbage": b"\x00" * 200}.items():
        damaged = tmp_path / f"{name}.safetensors"
        damaged.write_bytes(content)
        for export_format in ("kohya", "diffusers"):
            assert export(damaged, tmp_path / "out.safetensors", export_format) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"error: {damaged} cannot be read as a LoRA adapter") and "Traceback" not in err
            assert not (tmp_path / "out.safetensors").exists()

    assert export(unet_run.lora_weights, unet_run.lora_weights, "diffusers") == 2
    assert "is the adapter being exported" in capsys.readouterr().err
    assert unet_run.lora_weights.read_bytes() == data
