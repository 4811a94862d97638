"""The summary of the train log that status.json keeps, so that listing runs reads no log."""

from __future__ import annotations

import json

from shoegen.training import logs
from shoegen.training.logs import LogSummary, log_summary
from shoegen.training.run_folder import RunFolder


def line(step: int, **values) -> bytes:
    return (json.dumps({"step": step, **values}) + "\n").encode()


def test_the_summary_is_what_the_log_says(tmp_path):
    records = [{"step": s, "loss": 1 / s, "lr": 1e-4, "seconds": 0.25} for s in range(1, 31)] + [
        {"step": 30, "loss": 1 / 30, "lr": 1e-4, "seconds": 0.25, "val_loss": 0.2}]
    assert LogSummary.of(records) == LogSummary(step=30, loss=1 / 30, lr=1e-4, steps_per_second=4.0)
    assert LogSummary.of([]) == LogSummary()
    summary = LogSummary(step=7, loss=0.25, lr=2e-4, steps_per_second=1.5)
    assert LogSummary.from_status(json.loads(json.dumps({"state": "running", "log": summary.to_status()}))) == summary
    assert LogSummary.from_status({"state": "running"}) is None  # written before status.json kept one
    assert LogSummary.from_status({"log": {"step": "7", "loss": "x"}}) == LogSummary()


def test_a_run_whose_status_has_no_summary_reads_its_log_once_until_it_changes(tmp_path, monkeypatch):
    logs._summary_of_log.cache_clear()
    run = RunFolder(tmp_path)
    run.logs_dir.mkdir()
    run.train_log.write_bytes(line(1, loss=0.5, lr=1e-4, seconds=0.5) + line(2, loss=0.4, lr=1e-4, seconds=0.5))
    reads = []
    original = logs.read_log
    monkeypatch.setattr(logs, "read_log", lambda folder: reads.append(folder.path) or original(folder))
    old_status = {"state": "done", "step": 2, "max_steps": 2}
    assert log_summary(run, old_status) == LogSummary(step=2, loss=0.4, lr=1e-4, steps_per_second=2.0)
    assert log_summary(run, old_status).step == 2 and len(reads) == 1
    with run.train_log.open("ab") as handle:
        handle.write(line(3, loss=0.3, lr=1e-4, seconds=0.5))
    assert log_summary(run, old_status).step == 3 and len(reads) == 2
    kept = LogSummary(step=9, loss=0.1, lr=1e-5, steps_per_second=3.0)
    assert log_summary(run, {**old_status, "log": kept.to_status()}) == kept and len(reads) == 2
    assert log_summary(RunFolder(tmp_path / "queued"), None) == LogSummary()
