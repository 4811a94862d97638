"""The training run's CPU thread count: tried at the start of a run (torch's default against one thread), the
faster kept and remembered for a resume; never tried where the user set it or where it is not the run's to
choose."""

from __future__ import annotations

import json

import pytest
import torch

from shoegen.training import thread_tuning
from shoegen.training.loop import train
from shoegen.training.thread_tuning import CHOICE_FILE, TRIAL_STEPS, WARM_UP_STEPS, ThreadTuner


@pytest.fixture(autouse=True)
def torch_threads(monkeypatch):
    """Two threads by default (as on a 2-core machine), restored afterwards; OMP_NUM_THREADS unset."""
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def run_trial(tuner: ThreadTuner, seconds_at: dict[int, float]) -> list[int]:
    """Drive the tuner as the loop does, each step taking `seconds_at[threads]`; the counts each step ran at."""
    seen = []
    while tuner.chosen is None:
        tuner.before_step()
        seen.append(torch.get_num_threads())
        tuner.after_step(seconds_at[torch.get_num_threads()])
    return seen


def new_tuner(tmp_path, **changes) -> ThreadTuner:
    values = dict(device_type="cpu", processes=1, max_steps=500, start_step=0, logs_dir=tmp_path, resuming=False)
    return ThreadTuner.for_run(**{**values, **changes})


@pytest.mark.parametrize(("seconds_at", "chosen"), [
    ({2: 0.054, 1: 0.040}, 1),  # a tiny model: one thread is faster (as measured on tiny, benchmarks/RESULTS.md)
    ({2: 0.300, 1: 0.362}, 2),  # a larger one: both cores
    ({2: 0.100, 1: 0.097}, 2),  # within the 5% margin: every core is kept
])
def test_the_faster_count_is_kept_and_written_down(tmp_path, seconds_at, chosen):
    tuner = new_tuner(tmp_path)
    seen = run_trial(tuner, seconds_at)
    assert tuner.chosen == chosen and torch.get_num_threads() == chosen
    assert seen[:WARM_UP_STEPS] == [2] * WARM_UP_STEPS and seen[WARM_UP_STEPS:WARM_UP_STEPS + 4] == [2, 1, 2, 1]
    assert len(seen) == WARM_UP_STEPS + 2 * TRIAL_STEPS  # the trial's length: a dozen steps
    written = json.loads((tmp_path / CHOICE_FILE).read_text())
    assert written["threads"] == chosen and written["default"] == 2
    assert written["median_seconds"] == {"2": seconds_at[2], "1": seconds_at[1]}
    tuner.before_step()
    assert torch.get_num_threads() == chosen  # afterwards the count stays


def test_a_resumed_run_takes_the_count_it_chose_before(tmp_path):
    run_trial(new_tuner(tmp_path), {2: 0.054, 1: 0.040})
    torch.set_num_threads(2)  # a new process
    assert new_tuner(tmp_path, resuming=True, start_step=300) is None
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("changes", [{"device_type": "cuda"}, {"processes": 2}, {"max_steps": 60},
                                     {"start_step": 450}])
def test_nothing_is_tried_where_the_count_is_not_the_run_s_to_choose(tmp_path, changes):
    assert new_tuner(tmp_path, **changes) is None


def test_the_user_s_omp_num_threads_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert new_tuner(tmp_path) is None and torch.get_num_threads() == 2


def test_a_training_run_tries_chooses_and_logs(fast_config, monkeypatch, caplog):
    monkeypatch.setattr(thread_tuning, "MIN_RUN_STEPS", 20)
    config = fast_config("tuned", max_train_steps=20, checkpointing_steps=20, validation_steps=20)
    with caplog.at_level("INFO", logger="shoegen.training.thread_tuning"):
        train(config, show_progress=False)
    written = json.loads((config.output_dir / "logs" / CHOICE_FILE).read_text())
    assert written["threads"] in (1, 2) and len(written["seconds"]["1"]) == TRIAL_STEPS
    assert any("chosen after timing" in message for message in caplog.messages)
    assert torch.get_num_threads() == written["threads"]
