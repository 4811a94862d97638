"""The train log read as another process writes it: the incremental tail (a partly written last line, a log
rewritten shorter), the summary that status.json keeps so that listing runs reads no log, and the loss curve drawn
from it again only when it has grown."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from shoegen.training import logs
from shoegen.training.logs import LogSummary, LogTail, log_summary, read_log
from shoegen.training.run_folder import RunFolder


def line(step: int, **values) -> bytes:
    return (json.dumps({"step": step, **values}) + "\n").encode()


def test_the_tail_reads_only_what_was_appended_and_waits_for_a_line_to_end(tmp_path):
    path = tmp_path / "train_log.jsonl"
    tail = LogTail(path)
    assert tail.read() == [] and tail.last_step == 0  # no log yet
    path.write_bytes(line(1, loss=0.5) + line(2, loss=0.4))
    assert [r["step"] for r in tail.read()] == [1, 2] and tail.last_step == 2
    assert tail.read() == []  # nothing new: nothing parsed again

    third = '{"step": 3, "loss": 0.3, "caption": "rouge é"}\n'.encode()  # a character split between two writes
    cut = third.index("é".encode()) + 1
    with path.open("ab") as handle:
        handle.write(third[:cut])
    assert tail.read() == [] and tail.last_step == 2  # half a line: left for the next read
    with path.open("ab") as handle:
        handle.write(third[cut:] + b"not json\n" + line(3, val_loss=0.35) + line(4, loss=0.2)[:5])
    assert tail.read() == [{"step": 3, "loss": 0.3, "caption": "rouge é"}, {"step": 3, "val_loss": 0.35}]
    assert tail.last_step == 3 and tail.offset == path.stat().st_size


def test_the_tail_reads_a_log_rewritten_shorter_from_its_start(tmp_path):
    path = tmp_path / "train_log.jsonl"
    path.write_bytes(b"".join(line(step, loss=1 / step) for step in range(1, 9)))
    tail = LogTail(path)
    assert tail.read()[-1]["step"] == 8
    path.write_bytes(b"".join(line(step, loss=1 / step) for step in range(1, 5)))  # resumed from checkpoint 4
    assert [r["step"] for r in tail.read()] == [1, 2, 3, 4] and tail.last_step == 4


def test_read_log_merges_each_steps_lines_and_skips_a_half_written_one(tmp_path):
    run = RunFolder(tmp_path)
    run.logs_dir.mkdir()
    run.train_log.write_bytes(line(2, loss=0.4, seconds=0.5) + line(1, loss=0.5, seconds=0.5)
                              + line(2, val_loss=0.45) + b'{"step": 3, "lo')
    assert read_log(run) == [{"step": 1, "loss": 0.5, "seconds": 0.5},
                             {"step": 2, "loss": 0.4, "seconds": 0.5, "val_loss": 0.45}]


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


def test_the_loss_curve_is_drawn_from_the_log_and_again_only_once_the_log_has_changed(tmp_path, monkeypatch):
    run = RunFolder(tmp_path)
    assert logs.current_loss_curve(run) is None  # no log
    run.logs_dir.mkdir()
    run.train_log.write_bytes(b"")
    assert logs.current_loss_curve(run) is None  # nothing logged yet
    run.train_log.write_bytes(b"".join(line(s, loss=1 / s) for s in range(1, 11)))
    drawn, draw = [], logs.draw_loss_curve
    monkeypatch.setattr(logs, "draw_loss_curve",
                        lambda records, path, **options: drawn.append(len(records)) or draw(records, path, **options))

    assert logs.current_loss_curve(run) == run.loss_curve
    first = Image.open(run.loss_curve).convert("RGB")
    assert first.size == (800, 450)
    assert logs.current_loss_curve(run) == run.loss_curve and drawn == [10]  # up to date: not drawn again

    # Lines appended within the clock tick of the last drawing (same modification time): the size tells.
    modified = run.train_log.stat().st_mtime_ns
    with run.train_log.open("ab") as log_file:
        log_file.write(b"".join(line(s, loss=0.1) for s in range(11, 21)) + line(20, val_loss=0.3))
    os.utime(run.train_log, ns=(modified, modified))
    assert logs.current_loss_curve(run) == run.loss_curve and drawn == [10, 20]
    assert Image.open(run.loss_curve).convert("RGB").tobytes() != first.tobytes()  # the longer curve
    assert Image.open(run.loss_curve).info[logs.LOG_STAMP_KEY] == f"{run.train_log.stat().st_size} bytes, " \
                                                                  f"modified {modified} ns"
    assert sorted(p.name for p in run.logs_dir.iterdir()) == ["loss_curve.png", "train_log.jsonl"]  # no partial file

    # Rewritten to the same size (a resume cut it back and logged again): the time tells.
    later = modified + 10**9
    os.utime(run.train_log, ns=(later, later))
    assert logs.current_loss_curve(run) == run.loss_curve and drawn == [10, 20, 20]


def test_server_threads_asking_at_once_draw_the_loss_curve_once(tmp_path, monkeypatch):
    run = RunFolder(tmp_path)
    run.logs_dir.mkdir()
    run.train_log.write_bytes(b"".join(line(s, loss=1 / s) for s in range(1, 31)))
    drawn, draw = [], logs.draw_loss_curve
    monkeypatch.setattr(logs, "draw_loss_curve",
                        lambda records, path, **options: drawn.append(path) or draw(records, path, **options))
    with ThreadPoolExecutor(4) as pool:
        pictures = list(pool.map(lambda _: logs.current_loss_curve(run), range(4)))
    assert pictures == [run.loss_curve] * 4 and len(drawn) == 1
