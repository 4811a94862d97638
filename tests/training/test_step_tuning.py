"""How a CPU training run computes its steps: tried at its start (torch's thread count against one thread, oneDNN's
convolutions against ATen's, peft's LoRA layers against the update folded into the weight), the faster of each kept
and remembered for a resume; never tried where it is not the run's to choose."""

from __future__ import annotations

import json

import pytest
import torch

from shoegen.training import lora, step_tuning
from shoegen.training.loop import train
from shoegen.training.step_tuning import (CHOICE_FILE, OLD_CHOICE_FILE, TRIAL_STEPS, WARM_UP_STEPS, Choice,
                                          StepTuner, training_choices)


@pytest.fixture(autouse=True)
def cpu_setup(monkeypatch):
    """Two threads by default (as on a 2-core machine) and oneDNN on, restored afterwards; OMP_NUM_THREADS unset."""
    threads, onednn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)
    torch.backends.mkldnn.enabled = onednn


class Knob:
    """A stand-in choice whose state the test reads, to time steps by it."""

    def __init__(self, name, usual, alternative):
        self.value = usual
        self.choice = Choice(name, usual, alternative, self.set, str)

    def set(self, value):
        self.value = value


def drive(tuner: StepTuner, seconds) -> list:
    """Run the tuner as the loop does, each step taking `seconds()` (read from the knobs' state); returns what
    each step ran at."""
    seen = []
    while not tuner.done:
        tuner.before_step()
        seen.append(seconds.state())
        tuner.after_step(seconds())
    return seen


def new_tuner(tmp_path, choices, **changes) -> StepTuner | None:
    values = dict(device_type="cpu", processes=1, max_steps=500, start_step=0, logs_dir=tmp_path, resuming=False)
    return StepTuner.for_run(choices, **{**values, **changes})


class Timing:
    """Step seconds from the knobs' values: a base time, scaled by each knob's factor for its current value."""

    def __init__(self, knobs, factors):
        self.knobs, self.factors = knobs, factors

    def state(self):
        return tuple(k.value for k in self.knobs)

    def __call__(self):
        seconds = 0.05
        for knob in self.knobs:
            seconds *= self.factors.get((knob.choice.name, knob.value), 1.0)
        return seconds


def test_each_choice_is_timed_in_turn_and_only_a_clear_gain_is_kept(tmp_path):
    knobs = [Knob("a", "usual", "alt"), Knob("b", "usual", "alt"), Knob("c", "usual", "alt")]
    # a: the alternative 20% faster (kept); b: 3% faster, inside the margin (not kept); c: 10% slower (not kept).
    timing = Timing(knobs, {("a", "alt"): 0.8, ("b", "alt"): 0.97, ("c", "alt"): 1.1})
    tuner = new_tuner(tmp_path, [k.choice for k in knobs])
    seen = drive(tuner, timing)

    assert tuner.chosen == {"a": "alt", "b": "usual", "c": "usual"}
    assert [k.value for k in knobs] == ["alt", "usual", "usual"]
    assert seen[:WARM_UP_STEPS] == [("usual",) * 3] * WARM_UP_STEPS
    trial = 2 * TRIAL_STEPS
    first, second, third = (seen[WARM_UP_STEPS + i * trial:WARM_UP_STEPS + (i + 1) * trial] for i in range(3))
    assert first[:4] == [("usual", "usual", "usual"), ("alt", "usual", "usual")] * 2
    assert second[:2] == [("alt", "usual", "usual"), ("alt", "alt", "usual")]  # the first choice stays made
    assert third[:2] == [("alt", "usual", "usual"), ("alt", "usual", "alt")]
    assert len(seen) == WARM_UP_STEPS + 3 * trial

    written = json.loads((tmp_path / CHOICE_FILE).read_text())
    assert written["chosen"] == tuner.chosen and written["from_step"] == 0
    assert written["median_seconds"]["a"] == {"usual": pytest.approx(0.05), "alt": pytest.approx(0.04)}
    assert all(len(times) == TRIAL_STEPS for times in written["seconds"]["c"].values())
    tuner.before_step()
    assert [k.value for k in knobs] == ["alt", "usual", "usual"]  # afterwards the setup stays


def test_a_resumed_run_takes_the_setup_it_chose_before(tmp_path):
    knobs = [Knob("a", "usual", "alt"), Knob("b", "usual", "alt")]
    drive(new_tuner(tmp_path, [k.choice for k in knobs]), Timing(knobs, {("b", "alt"): 0.5}))
    fresh = [Knob("a", "usual", "alt"), Knob("b", "usual", "alt"), Knob("new", "usual", "alt")]
    fresh[1].value = "not applied yet"
    resumed = new_tuner(tmp_path, [k.choice for k in fresh], resuming=True, start_step=300)
    assert resumed.done  # nothing more is tried
    # What it chose, and the usual setting for a choice it never made (that is how it ran).
    assert [k.value for k in fresh] == ["usual", "alt", "usual"]
    resumed.close()
    assert [k.value for k in fresh] == ["usual"] * 3  # the end of the run puts the usual setup back


def test_a_run_written_before_resumes_on_its_thread_count(tmp_path):
    (tmp_path / OLD_CHOICE_FILE).write_text(json.dumps({"threads": 1, "default": 2}))
    choices = training_choices([], compiled=False)
    assert new_tuner(tmp_path, choices, resuming=True, start_step=300).done
    assert torch.get_num_threads() == 1 and torch.backends.mkldnn.enabled


@pytest.mark.parametrize("changes", [{"device_type": "cuda"}, {"processes": 2}, {"max_steps": 60},
                                     {"start_step": 450}])
def test_nothing_is_tried_where_the_setup_is_not_the_run_s_to_choose(tmp_path, changes):
    assert new_tuner(tmp_path, [Knob("a", 1, 2).choice], **changes) is None


def test_what_a_run_may_try(tiny_base, monkeypatch):
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(tiny_base, subfolder="unet")
    unet.add_adapter(lora.lora_config(_lora_settings(), ["to_q", "to_k", "to_v", "to_out.0"]))
    assert [c.name for c in training_choices([unet], compiled=False)] == ["threads", "convolutions", "lora_form"]
    # A switch would make torch.compile trace the model again.
    assert [c.name for c in training_choices([unet], compiled=True)] == ["threads"]
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user's count is left alone
    assert [c.name for c in training_choices([unet], compiled=False)] == ["convolutions", "lora_form"]

    dropped = UNet2DConditionModel.from_pretrained(tiny_base, subfolder="unet")
    dropped.add_adapter(lora.lora_config(_lora_settings(lora_dropout=0.1), ["to_q", "to_k"]))
    assert lora.mergeable_layers(dropped) == []  # dropout sits between x and the update: nothing folds
    assert "lora_form" not in [c.name for c in training_choices([dropped], compiled=False)]


def _lora_settings(**changes):
    from shoegen.config.train import TrainConfig

    return TrainConfig(**{"rank": 4, "lora_alpha": 8, **changes})


def test_the_folded_update_computes_the_same_outputs_and_gradients(tiny_base):
    from diffusers import UNet2DConditionModel

    # In float64, so that the two forms' different roundings (which training in float32 amplifies over steps)
    # leave the comparison a question of the mathematics.
    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_pretrained(tiny_base, subfolder="unet")
    unet.add_adapter(lora.lora_config(_lora_settings(), ["to_q", "to_k", "to_v", "to_out.0"]))
    unet.double()
    for name, parameter in unet.named_parameters():
        if "lora_B" in name:  # peft starts B at zero, where both forms agree trivially
            torch.nn.init.normal_(parameter, std=0.5)
    layers = lora.mergeable_layers(unet)
    assert len(layers) == sum(1 for n, _ in unet.named_modules() if n.endswith(("to_q", "to_k", "to_v", "to_out.0")))
    sample, timestep = torch.randn(2, 4, 8, 8, dtype=torch.float64), torch.tensor([10, 700])
    context = torch.randn(2, 77, unet.config.cross_attention_dim, dtype=torch.float64)

    def run():
        unet.zero_grad(set_to_none=True)
        out = unet(sample, timestep, context).sample
        out.square().mean().backward()
        return out.detach(), {n: p.grad.clone() for n, p in unet.named_parameters() if p.requires_grad}

    apart, apart_grads = run()
    lora.use_merged_forward(layers, True)
    merged, merged_grads = run()
    assert all("forward" in layer.__dict__ for layer in layers)
    torch.testing.assert_close(merged, apart, rtol=1e-10, atol=1e-10)
    assert merged_grads.keys() == apart_grads.keys() and len(merged_grads) == 2 * len(layers)
    for name in apart_grads:
        torch.testing.assert_close(merged_grads[name], apart_grads[name], rtol=1e-7, atol=1e-10)

    # The adapter's strength is read at each call (pipelines scale it for a `scale` argument), and a disabled
    # adapter is left out, as in peft's own form.
    from diffusers.utils.peft_utils import scale_lora_layers, unscale_lora_layers

    with torch.no_grad():
        scale_lora_layers(unet, 0.0)
        unscaled = unet(sample, timestep, context).sample
        unscale_lora_layers(unet, 0.0)
        unet.disable_adapters()
        base = unet(sample, timestep, context).sample
        unet.enable_adapters()
    torch.testing.assert_close(unscaled, base, rtol=1e-10, atol=1e-10)
    assert not torch.allclose(base, merged, atol=1e-3)

    lora.use_merged_forward(layers, False)
    assert not any("forward" in layer.__dict__ for layer in layers)
    torch.testing.assert_close(run()[0], apart)


def test_a_training_run_tries_chooses_logs_and_resumes_exactly(fast_config, monkeypatch, caplog):
    """A run long enough to try all three choices; MARGIN -1 keeps every alternative (an alternative is kept when
    it is faster than twice the usual time), so both runs choose alike whatever the machine does, and the resumed
    half must take the three alternatives again to train the same weights as the straight run."""
    monkeypatch.setattr(step_tuning, "MIN_RUN_STEPS", 20)
    monkeypatch.setattr(step_tuning, "MARGIN", -1.0)
    steps = WARM_UP_STEPS + 3 * 2 * TRIAL_STEPS + 3
    small = dict(train_batch_size=1, gradient_accumulation_steps=1, num_validation_images=0, validation_steps=steps)
    with caplog.at_level("INFO", logger="shoegen.training.step_tuning"):
        straight = train(fast_config("straight", max_train_steps=steps, checkpointing_steps=steps, **small),
                         show_progress=False)
    written = json.loads((straight.output_dir / "logs" / CHOICE_FILE).read_text())
    assert written["chosen"] == {"threads": 1, "convolutions": "aten", "lora_form": "merged"}
    assert len(written["seconds"]["lora_form"]["merged"]) == TRIAL_STEPS
    assert any("chosen after timing" in message for message in caplog.messages)
    assert any(message.startswith("step setup: 1 thread, ATen convolutions, LoRA update folded")
               for message in caplog.messages)

    first = train(fast_config("split", max_train_steps=steps - 2, checkpointing_steps=steps - 2, **small),
                  show_progress=False)
    assert first.final_step == steps - 2
    # Each run leaves the process as it found it.
    assert torch.get_num_threads() == 2 and torch.backends.mkldnn.enabled
    caplog.clear()
    with caplog.at_level("INFO", logger="shoegen.training.step_tuning"):
        resumed = train(fast_config("split", max_train_steps=steps, checkpointing_steps=steps,
                                    resume_from_checkpoint="latest", **small), show_progress=False)
    assert any("LoRA update folded into the weight, as this run chose before" in m for m in caplog.messages)
    from safetensors.torch import load_file

    expected = load_file(straight.output_dir / "checkpoints" / f"checkpoint-{steps}" / "lora_state.safetensors")
    actual = load_file(resumed.output_dir / "checkpoints" / f"checkpoint-{steps}" / "lora_state.safetensors")
    assert expected.keys() == actual.keys()
    for key in expected:
        assert torch.equal(actual[key], expected[key]), key
