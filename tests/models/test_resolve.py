"""`load_pipeline` / `classify`: every base model that cannot be used fails with one readable message."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from shoegen.errors import ShoegenError
from shoegen.models.resolve import classify, load_pipeline


class CreatesFileWhenUnpickled:
    """A pickle payload: unpickling it calls open(path, "w"), i.e. runs code the file's author chose."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def malicious_ckpt(tmp_path):
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "model.ckpt"
    torch.save({"state_dict": {"model.diffusion_model.x": torch.zeros(1)}, "payload": CreatesFileWhenUnpickled(marker)},
               checkpoint)
    assert not marker.exists()
    return checkpoint, marker


def test_builtin_and_folder_classify(tiny_base):
    assert classify("tiny").kind == "builtin"
    folder = classify(str(tiny_base))
    assert folder.kind == "folder" and folder.location == str(tiny_base.resolve())
    assert classify("some-org/some-model").kind == "hub"


def test_hub_id_offline_names_the_model_and_the_way_out():
    with pytest.raises(ShoegenError) as caught:
        load_pipeline("some-org/some-model")
    message = str(caught.value)
    assert "offline" in message and "some-org/some-model" in message and "`tiny`" in message


def test_hub_id_offline_through_the_cli_is_one_error_without_traceback(sample_dataset, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "shoegen.cli.main", "train", "--pretrained_model_name_or_path", "some-org/some-model",
         "--dataset_path", str(sample_dataset), "--output_dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 2, result.stderr
    # One paragraph: no traceback, and no library chatter ("Couldn't connect to the Hub...") before it.
    assert result.stderr.startswith("error: Could not load the hub model some-org/some-model"), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "offline" in result.stderr and "`tiny`" in result.stderr
    assert result.stdout == "" and not (tmp_path / "run").exists()


def test_folder_without_model_index_is_explained(tmp_path):
    (tmp_path / "unet").mkdir()
    with pytest.raises(ShoegenError, match="not a diffusers model folder.*no model_index.json"):
        load_pipeline(str(tmp_path))


def test_missing_single_file_is_explained(tmp_path):
    missing = tmp_path / "sd15.safetensors"
    with pytest.raises(ShoegenError, match=f"{missing}.*does not exist"):
        load_pipeline(str(missing))


@pytest.mark.parametrize("name", ["not a model", "a/b/c", "./relative/name"])
def test_unrecognisable_name_is_explained(name):
    expected = r"neither a built-in base \(tiny, demo\), an existing diffusers folder.*hub id"
    with pytest.raises(ShoegenError, match=expected):
        load_pipeline(name)


@pytest.mark.parametrize("config", ["none", "tiny folder"])
def test_malicious_ckpt_runs_no_code(malicious_ckpt, tiny_base, config):
    checkpoint, marker = malicious_ckpt
    with pytest.raises(ShoegenError):
        load_pipeline(str(checkpoint), single_file_config=str(tiny_base) if config == "tiny folder" else None)
    assert not marker.exists()


def test_malicious_ckpt_is_reported_as_refused(malicious_ckpt, tiny_base):
    checkpoint, marker = malicious_ckpt
    with pytest.raises(ShoegenError, match="Refused to load") as caught:
        load_pipeline(str(checkpoint), single_file_config=str(tiny_base))
    assert "offline" not in str(caught.value)
    assert not marker.exists()


def test_single_file_without_local_config_offline_points_to_single_file_config(tmp_path):
    from safetensors.torch import save_file

    checkpoint = tmp_path / "sd15.safetensors"
    # Enough of an SD1.x single-file checkpoint for diffusers to recognise it and ask the hub for its config.
    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(320, 4, 3, 3)}, checkpoint)
    with pytest.raises(ShoegenError, match="offline.*--single_file_config") as caught:
        load_pipeline(str(checkpoint))
    assert str(checkpoint) in str(caught.value)


def test_corrupt_single_file_is_not_blamed_on_the_hub(tmp_path, tiny_base):
    checkpoint = tmp_path / "broken.safetensors"
    checkpoint.write_bytes(b"this is not a safetensors file")
    with pytest.raises(ShoegenError, match="Could not load the single-file checkpoint") as caught:
        load_pipeline(str(checkpoint), single_file_config=str(tiny_base))
    assert str(checkpoint) in str(caught.value) and "offline" not in str(caught.value)


@pytest.mark.parametrize("key", ["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight",
                                 "unet.down_blocks.0.attentions.0.proj_in.lora_A.weight"])
def test_a_lora_adapter_given_as_the_base_says_where_it_belongs(tmp_path, key):
    from safetensors.torch import save_file

    adapter = tmp_path / "shoes_lora.safetensors"
    save_file({key: torch.zeros(4, 8)}, adapter)
    with pytest.raises(ShoegenError, match="is a LoRA adapter, not a base model.*--model or --lora"):
        load_pipeline(str(adapter))


def test_a_build_that_fails_leaves_neither_a_model_nor_its_staging_folder(tmp_path):
    from shoegen.models.resolve import write_atomically

    def build(staging):
        (staging / "model_index.json").write_text("{}")
        raise KeyboardInterrupt  # the user pressed Ctrl+C half way

    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "base", build, stamp="v1")
    assert list(tmp_path.iterdir()) == []


def test_base_facts_come_from_the_configuration_files_and_are_the_loaded_pipelines(tiny_base, configs_only, tmp_path,
                                                                                    monkeypatch):
    import huggingface_hub.constants

    from shoegen.models.resolve import read_base_facts

    pipeline = load_pipeline(str(tiny_base))
    loaded = (pipeline.unet.config.sample_size * pipeline.vae_scale_factor,
              pipeline.text_encoder.config.num_hidden_layers, pipeline.unet.config.in_channels)
    facts = read_base_facts("tiny")
    assert (facts.native_side, facts.text_encoder_layers, facts.unet_in_channels) == loaded == (64, 2, 4)
    # Read from the files, not known by name: a folder of configurations alone, its UNet twice as wide in latents
    # and an inpainting one, and the same files in the hub cache under a hub id.
    configs_only(tiny_base, tmp_path / "inpainting", {"sample_size": 16, "in_channels": 9})
    facts = read_base_facts(str(tmp_path / "inpainting"))
    assert (facts.native_side, facts.unet_in_channels) == (128, 9)
    snapshot = tmp_path / "hub" / "models--acme--base" / "snapshots" / ("0" * 40)
    configs_only(tiny_base, snapshot)
    (tmp_path / "hub" / "models--acme--base" / "refs").mkdir()
    (tmp_path / "hub" / "models--acme--base" / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert read_base_facts("acme/base") == read_base_facts("tiny")
    assert read_base_facts("acme/not-cached") is None  # never fetched: loading says what is missing
    (snapshot / "unet" / "config.json").write_text("{not json")
    assert read_base_facts("acme/base") is None
