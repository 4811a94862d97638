"""The training loop through `train()`: it learns, its outputs load in diffusers, and resume is exact."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from shoegen.errors import ShoegenError
from shoegen.training.logs import LogSummary, read_log
from shoegen.training.loop import train
from shoegen.training.run_folder import RunFolder


def lora_tensors(checkpoint) -> dict:
    from safetensors.torch import load_file

    return load_file(checkpoint / "lora_state.safetensors")


def test_loss_falls_and_run_folder_is_complete(fast_config, sample_dataset):
    config = fast_config(max_train_steps=60, train_batch_size=8, gradient_accumulation_steps=1,
                         learning_rate=3e-3, lr_warmup_steps=0, checkpointing_steps=30, validation_steps=20,
                         validation_path=sample_dataset)
    result = train(config, show_progress=False)

    validation = [r["val_loss"] for r in result.records if "val_loss" in r]
    assert len(validation) == 3
    # Fixed noise and timesteps: the drop is the model fitting the photos, not sampling luck.
    assert validation[-1] < 0.85 * validation[0]
    losses = [r["loss"] for r in result.records if "loss" in r]
    assert len(losses) == 60 and all("lr" in r and "seconds" in r for r in result.records if "loss" in r)
    assert sum(losses[-10:]) < sum(losses[:10])

    out = config.output_dir
    assert [c.step for c in RunFolder(out).checkpoints()] == [30, 60]
    assert (out / "lora_weights" / "pytorch_lora_weights.safetensors").is_file()
    assert (out / "logs" / "loss_curve.png").stat().st_size > 1000
    assert list((out / "logs" / "tensorboard").glob("events.out.tfevents.*"))
    assert sorted(p.name for p in (out / "validation").glob("step-*.png")) == [
        "step-000020.png", "step-000040.png", "step-000060.png"]
    resolved = (out / "run.yaml").read_text()
    assert "learning_rate: 0.003" in resolved and "pretrained_model_name_or_path: tiny" in resolved
    assert RunFolder(out).final_weights_step() == 60  # the final weights say the step they were saved at
    # status.json keeps what listing the run needs of its log, exactly what reading the log would find.
    status = RunFolder(out).read_status()
    assert (status["state"], status["step"]) == ("done", 60)
    assert LogSummary.from_status(status) == LogSummary.of(read_log(RunFolder(out)))
    assert LogSummary.from_status(status).step == 60 and LogSummary.from_status(status).steps_per_second > 0


def test_run_yaml_names_its_folders_from_anywhere(fast_config, sample_dataset, reg_dataset, tmp_path, monkeypatch):
    """Folders given relative to the terminal's working folder are written absolute: the studio's server (which
    keeps a dataset a run still reads, and resumes the run) and `shoegen evaluate` read run.yaml from elsewhere,
    and the run resumes from its run.yaml there (its checkpoint recorded the same folders)."""
    (tmp_path / "terminal").mkdir()
    monkeypatch.chdir(tmp_path / "terminal")
    train(fast_config(dataset_path=Path(os.path.relpath(sample_dataset)), output_dir=Path("relative-run"),
                      reg_data_dir=Path(os.path.relpath(reg_dataset)), max_train_steps=1, checkpointing_steps=1,
                      gradient_accumulation_steps=1, num_validation_images=0), show_progress=False)
    monkeypatch.chdir(tmp_path)
    run = RunFolder(tmp_path / "terminal" / "relative-run")
    written = run.read_config()
    assert written.dataset_path == sample_dataset and written.output_dir == run.path
    assert written.reg_data_dir == reg_dataset
    resumed = train(written.model_copy(update={"max_train_steps": 2, "resume_from_checkpoint": "latest"}),
                    show_progress=False)
    assert resumed.resumed_from == 1 and resumed.final_step == 2


@pytest.mark.parametrize("regularised", [False, True], ids=["plain", "with-reg-images"])
def test_resume_continues_exactly(fast_config, regularised, request):
    extra = {"reg_data_dir": request.getfixturevalue("reg_dataset")} if regularised else {}
    straight = train(fast_config("straight", max_train_steps=6, **extra), show_progress=False)

    train(fast_config("split", max_train_steps=3, **extra), show_progress=False)
    resumed = train(fast_config("split", max_train_steps=6, resume_from_checkpoint="latest", **extra),
                    show_progress=False)

    assert resumed.final_step == 6
    expected = lora_tensors(straight.output_dir / "checkpoints" / "checkpoint-6")
    actual = lora_tensors(resumed.output_dir / "checkpoints" / "checkpoint-6")
    assert expected.keys() == actual.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=1e-5, atol=1e-6)
    # The log holds each step once, in order, across the two processes' worth of training.
    steps = [r["step"] for r in resumed.records if "loss" in r]
    assert steps == [1, 2, 3, 4, 5, 6]
    # The summary in status.json spans both processes too: the first one's steps are read back at resume.
    folder = RunFolder(resumed.output_dir)
    assert LogSummary.from_status(folder.read_status()) == LogSummary.of(read_log(folder))


def test_compiled_training_step_trains_the_same_weights(fast_config):
    # aot_eager traces forward and backward as torch.compile does but generates no code (inductor would spend
    # minutes compiling on 2 CPU cores); inductor's speed is measured in benchmarks/train_throughput.py --compile.
    from torch._dynamo.utils import counters

    eager = train(fast_config("eager", max_train_steps=3), show_progress=False)
    counters.clear()
    compiled = train(fast_config("compiled", max_train_steps=3, torch_compile=True, dynamo_backend="aot_eager"),
                     show_progress=False)
    assert counters["stats"]["unique_graphs"] >= 1  # the step really ran through torch.compile
    expected = lora_tensors(eager.output_dir / "checkpoints" / "checkpoint-3")
    actual = lora_tensors(compiled.output_dir / "checkpoints" / "checkpoint-3")
    assert expected.keys() == actual.keys()
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=1e-4, atol=1e-6)


def test_a_run_that_fails_midway_keeps_its_log_status_and_loss_curve(fast_config, monkeypatch):
    from shoegen.training import loop

    step = loop.optimizer_step

    def failing_step(run):
        if run.step == 3:
            raise RuntimeError("the disk went away")
        return step(run)

    monkeypatch.setattr(loop, "optimizer_step", failing_step)
    config = fast_config("failed", max_train_steps=6)
    with pytest.raises(RuntimeError, match="the disk went away"):
        train(config, show_progress=False)
    folder = RunFolder(config.output_dir)
    status = folder.read_status()
    assert (status["state"], status["step"], status["error"]) == ("error", 3, "RuntimeError: the disk went away")
    assert [r["step"] for r in read_log(folder)] == [1, 2, 3]
    assert folder.loss_curve.stat().st_size > 1000  # the curve of the three steps it logged


def test_a_loss_curve_that_cannot_be_drawn_is_a_warning_not_a_failed_run(fast_config, monkeypatch, caplog):
    from shoegen.training import logs

    def broken(records, path, **options):
        raise OSError("no space left on device")

    monkeypatch.setattr(logs, "draw_loss_curve", broken)
    result = train(fast_config("undrawn", max_train_steps=2, checkpointing_steps=2), show_progress=False)
    assert result.final_step == 2 and result.lora_weights.is_file()
    assert not RunFolder(result.output_dir).loss_curve.exists()
    assert "could not draw the loss curve" in caplog.text and "no space left on device" in caplog.text


def test_failed_compilation_is_a_clear_error(fast_config, monkeypatch):
    from torch._dynamo.exc import BackendCompilerFailed

    def compile_that_fails(module, backend, options=None):
        def compiled(*args, **kwargs):
            raise BackendCompilerFailed(backend, RuntimeError("CppCompileError: no C++ compiler found"), None)
        return compiled

    monkeypatch.setattr(torch, "compile", compile_that_fails)
    with pytest.raises(ShoegenError, match=r"--torch_compile: torch.compile could not compile .* inductor backend "
                                           r"\(CppCompileError: no C\+\+ compiler found\)\. Train without"):
        train(fast_config("broken", max_train_steps=1, torch_compile=True), show_progress=False)


def test_torch_compile_cpp_wrapper_reaches_inductor(fast_config, monkeypatch):
    # Inductor on the CPU is too slow to compile in the suite (minutes on 2 cores, more with the C++ wrapper);
    # its speed with and without the wrapper is measured in benchmarks/train_throughput.py. Here: what
    # torch.compile is asked for.
    calls = []

    def compile_and_record(module, backend, options=None):
        calls.append((backend, options))
        return module

    monkeypatch.setattr(torch, "compile", compile_and_record)
    train(fast_config("plain", max_train_steps=1, torch_compile=True), show_progress=False)
    train(fast_config("cpp", max_train_steps=1, torch_compile=True, torch_compile_cpp_wrapper=True),
          show_progress=False)
    assert calls == [("inductor", None), ("inductor", {"cpp_wrapper": True})]


@pytest.fixture(scope="module")
def reg_dataset(tmp_path_factory):
    """Eight other rendered shoes, as regularisation images."""
    from shoegen.data.sample import render_sample_dataset

    folder = tmp_path_factory.mktemp("reg")
    render_sample_dataset(folder, 8, seed=99, size=64)
    return folder


def test_regularisation_images_train_alongside_and_are_kept(fast_config, reg_dataset):
    # The regularisation images double as the validation set, so val_loss says how well each adapter
    # denoises them: the run that trains on them must do it better.
    settings = dict(max_train_steps=12, learning_rate=1e-2, checkpointing_steps=12, validation_steps=12,
                    num_validation_images=0, validation_path=reg_dataset)
    plain = train(fast_config("plain", **settings), show_progress=False)
    kept = train(fast_config("kept", reg_data_dir=reg_dataset, prior_loss_weight=2.0, **settings),
                 show_progress=False)
    steps = [r for r in kept.records if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 13)) and all(r["prior_loss"] > 0 for r in steps)
    assert not any("prior_loss" in r for r in plain.records)
    plain_val, kept_val = (next(r["val_loss"] for r in run.records if "val_loss" in r) for run in (plain, kept))
    assert kept_val < plain_val


def test_missing_regularisation_folder_is_named_before_training(fast_config, tmp_path):
    with pytest.raises(ShoegenError, match="--reg_data_dir: .*nope does not exist"):
        train(fast_config("noreg", reg_data_dir=tmp_path / "nope"), show_progress=False)
    assert not (tmp_path / "noreg").exists()


def test_resume_from_named_checkpoint_of_a_longer_run(fast_config):
    config = fast_config("cosine", lr_scheduler="cosine", max_train_steps=6, checkpointing_steps=3)
    straight = train(config, show_progress=False)
    final = lora_tensors(straight.output_dir / "checkpoints" / "checkpoint-6")

    again = train(config.model_copy(update={"resume_from_checkpoint": "checkpoint-3"}), show_progress=False)
    for key, value in lora_tensors(again.output_dir / "checkpoints" / "checkpoint-6").items():
        torch.testing.assert_close(value, final[key], rtol=1e-5, atol=1e-6)


def test_resume_that_would_train_nothing_is_refused(fast_config, reg_dataset):
    with pytest.raises(ShoegenError, match="no checkpoint found"):
        train(fast_config("empty", resume_from_checkpoint="latest"), show_progress=False)

    train(fast_config("done", max_train_steps=3), show_progress=False)
    with pytest.raises(ShoegenError, match="already at step 3.*nothing to train"):
        train(fast_config("done", max_train_steps=3, resume_from_checkpoint="latest"), show_progress=False)
    with pytest.raises(ShoegenError, match="checkpoint-2: not a complete checkpoint.*checkpoint-3"):
        train(fast_config("done", max_train_steps=6, resume_from_checkpoint="checkpoint-2"), show_progress=False)
    with pytest.raises(ShoegenError, match="--rank \\(was 8, now 4\\)"):
        train(fast_config("done", max_train_steps=6, rank=4, resume_from_checkpoint="latest"), show_progress=False)
    with pytest.raises(ShoegenError, match="--reg_data_dir \\(was None, now '.*'\\)"):
        train(fast_config("done", max_train_steps=6, reg_data_dir=reg_dataset, resume_from_checkpoint="latest"),
              show_progress=False)


def test_existing_run_is_never_overwritten_silently(fast_config):
    first = train(fast_config("keep", max_train_steps=3), show_progress=False)
    before = lora_tensors(first.checkpoints[-1])
    with pytest.raises(ShoegenError, match="already holds a training run"):
        train(fast_config("keep", max_train_steps=3), show_progress=False)
    assert torch.equal(lora_tensors(first.checkpoints[-1])["unet.down_blocks.0.attentions.0.transformer_blocks.0"
                                                           ".attn1.to_q.lora_A.weight"],
                       before["unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight"])
    train(fast_config("keep", max_train_steps=3, overwrite_output_dir=True, seed=8), show_progress=False)


def snapshot(folder) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_what_is_refused_before_the_run_starts_leaves_an_earlier_run_as_it_was(fast_config, tmp_path):
    """Called as a library (not through the CLI's checks): an undecodable dataset or a base that does not load, with
    --overwrite_output_dir or a resume, is refused before the earlier run is deleted or its status rewritten."""
    config = fast_config("earlier", max_train_steps=3)
    train(config, show_progress=False)
    before = snapshot(config.output_dir)
    assert json.loads(before["status.json"])["state"] == "done"

    broken = tmp_path / "broken"
    (broken / "images").mkdir(parents=True)
    (broken / "images" / "a.png").write_bytes(b"garbage")  # listed and captioned: only decoding it fails
    (broken / "captions.json").write_text(json.dumps([{"image_file": "images/a.png", "caption": "shoes"}]))
    with pytest.raises(ShoegenError, match="a.png"):
        train(fast_config("earlier", max_train_steps=3, overwrite_output_dir=True, dataset_path=broken),
              show_progress=False)
    assert snapshot(config.output_dir) == before

    with pytest.raises(ShoegenError, match="some-org/not-cached"):
        train(fast_config("earlier", max_train_steps=3, overwrite_output_dir=True,
                          pretrained_model_name_or_path="some-org/not-cached"), show_progress=False)
    assert snapshot(config.output_dir) == before


def test_checkpoints_total_limit_keeps_newest(fast_config):
    result = train(fast_config(max_train_steps=6, checkpointing_steps=2, checkpoints_total_limit=2),
                   show_progress=False)
    assert [c.name for c in result.checkpoints] == ["checkpoint-4", "checkpoint-6"]
    state = json.loads((result.checkpoints[-1] / "training_state.json").read_text())
    assert state["step"] == 6 and state["config"]["rank"] == 8


def test_latent_cache_does_not_change_training(fast_config):
    cached = train(fast_config("cached", max_train_steps=2, random_flip=False), show_progress=False)
    direct = train(fast_config("direct", max_train_steps=2, random_flip=False, cache_latents=False),
                   show_progress=False)
    on_disk = train(fast_config("disk", max_train_steps=2, random_flip=False, cache_latents_to_disk=True),
                    show_progress=False)
    assert list((on_disk.output_dir / "cache").glob("latents-*.safetensors"))
    reference = lora_tensors(cached.checkpoints[-1])
    for other in (direct, on_disk):
        for key, value in lora_tensors(other.checkpoints[-1]).items():
            torch.testing.assert_close(value, reference[key], rtol=1e-4, atol=1e-5)


def test_all_options_together_train(fast_config):
    """Text-encoder LoRA, no caches, gradient checkpointing, min-SNR weighting and noise offset in one run."""
    result = train(fast_config(max_train_steps=2, checkpointing_steps=2, train_text_encoder=True,
                               cache_latents=False, gradient_checkpointing=True, snr_gamma=5.0,
                               noise_offset=0.05, validation_split=0.25), show_progress=False)
    state = lora_tensors(result.checkpoints[-1])
    assert any(k.startswith("text_encoder.") for k in state)
    assert all(torch.isfinite(v).all() for v in state.values())
    assert any("val_loss" in r for r in result.records)


def test_messy_catalogue_trains_and_names_what_it_skipped(fast_config, sample_dataset, tmp_path, caplog):
    """Real catalogues: 3:4 JPEGs, CMYK, grayscale, a corrupt file, a missing image, an uncaptioned photo."""
    import shutil

    from PIL import Image

    root = tmp_path / "catalogue"
    shutil.copytree(sample_dataset, root)
    records = json.loads((root / "captions.json").read_text())
    Image.new("RGB", (96, 128), (200, 40, 40)).save(root / "images" / "portrait.jpg")
    Image.new("CMYK", (64, 64), (0, 200, 200, 0)).save(root / "images" / "cmyk.jpg")
    Image.new("L", (80, 80), 90).save(root / "images" / "gray.png")
    (root / "images" / "corrupt.png").write_bytes(b"\x89PNG not really")
    Image.new("RGB", (64, 64)).save(root / "images" / "uncaptioned.png")
    caption = "A professional product photo of red casual shoes, centered on white background"
    for name in ("portrait.jpg", "cmyk.jpg", "gray.png", "corrupt.png", "missing.png"):
        records.append({"image_file": f"images/{name}", "caption": caption, "metadata": {"brand": "Red Tape"}})
    (root / "captions.json").write_text(json.dumps(records))

    with caplog.at_level("WARNING", logger="shoegen.data"):
        result = train(fast_config(dataset_path=root, max_train_steps=2, checkpointing_steps=2),
                       show_progress=False)
    assert result.final_step == 2
    warnings = caplog.text
    assert "corrupt.png" in warnings and "missing.png" in warnings and "uncaptioned.png" in warnings
    assert "portrait.jpg" not in warnings and "cmyk.jpg" not in warnings


def test_dataset_with_nothing_usable_stops_before_loading_the_model(fast_config, tmp_path):
    root = tmp_path / "broken"
    (root / "images").mkdir(parents=True)
    (root / "images" / "a.png").write_bytes(b"garbage")
    (root / "captions.json").write_text(json.dumps([{"image_file": "images/a.png", "caption": "shoes"}]))
    with pytest.raises(ShoegenError, match="a.png"):
        train(fast_config(dataset_path=root, pretrained_model_name_or_path="some-org/not-cached"),
              show_progress=False)


def test_validation_metrics_score_the_validation_images_into_the_log_and_the_loss_curve(fast_config, monkeypatch):
    monkeypatch.setenv("SHOEGEN_CLIP_MODEL", "tiny")  # a tiny random CLIP proves the model-based path
    config = fast_config(max_train_steps=4, checkpointing_steps=4, validation_steps=2, num_validation_images=2,
                         validation_metrics="catalogue,clip")
    assert config.validation_metrics == ["catalogue", "clip"]
    train(config, show_progress=False)
    run = RunFolder(config.output_dir)
    records = [json.loads(line) for line in run.train_log.read_text().splitlines()]
    scored = {record["step"]: record for record in records if "score_catalogue_score" in record}
    assert sorted(scored) == [2, 4]
    for record in scored.values():
        assert 0.0 <= record["score_catalogue_score"] <= 1.0 and 0.0 <= record["score_background"] <= 1.0
        assert "score_clip_score" in record and "score_diversity" in record
    assert run.loss_curve.is_file()


def test_unknown_validation_metrics_are_named(fast_config):
    from shoegen.config.train import TrainConfig
    from shoegen.config.validation import build_settings

    values = fast_config().model_dump() | {"validation_metrics": ["catalogue", "vibes"]}
    with pytest.raises(ShoegenError, match="--validation_metrics: .*unknown vibes; choose from catalogue, clip, dino"):
        build_settings(TrainConfig, values, what="training configuration")
