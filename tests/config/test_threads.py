"""The CPU thread setup: torch's defaults unless the user chooses otherwise, and one line saying which it is."""

from __future__ import annotations

import os
import subprocess
import sys

from shoegen.config.threads import describe_threads, usable_cores


def test_the_description_names_the_threads_the_cores_and_where_they_came_from(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert describe_threads(2) == f"2 torch threads on {usable_cores()} usable cores (default); idle threads: " \
                                  "default (spin, then sleep)"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("OMP_WAIT_POLICY", "passive")
    assert describe_threads(1).endswith("(OMP_NUM_THREADS=1); idle threads: OMP_WAIT_POLICY=passive")


def test_the_cli_leaves_the_thread_setup_to_torch_and_shows_it():
    """It used to make every command wait passively, which made one training process about 3x slower."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    report = subprocess.run([sys.executable, "-m", "shoegen.cli.main", "doctor", "--base-model", "tiny"], env=env,
                            capture_output=True, text=True, timeout=120, check=True).stdout
    assert "idle threads: default (spin, then sleep)" in report
    assert f"on {usable_cores()} usable cores" in report
