"""How the CPU's threads are used: how many torch runs its kernels on, and how idle OpenMP threads wait.

The defaults are torch's own (one thread per core the process may use; OpenMP threads spin briefly before
sleeping), which suit one busy process: a training run, a generation, a base build, and `shoegen serve` too
(its API answers in milliseconds while the worker generates). Passive waiting (idle threads sleep at once) pays
only where several busy processes share few cores and spinning threads take the cores from each other: the
Makefile's test targets set OMP_WAIT_POLICY=PASSIVE, and so should a server beside a training run on a small
CPU. Figures: benchmarks/RESULTS.md, "CLI thread defaults".

One exception to torch's count: a training run on a CPU tries its first steps at torch's count and at one thread
and keeps the faster (small models train faster on one), unless OMP_NUM_THREADS is set (training/step_tuning.py,
which also tries the convolution backend and the LoRA form).
"""

from __future__ import annotations

import os

from pydantic_settings import BaseSettings, SettingsConfigDict

class ThreadSettings(BaseSettings):
    """OpenMP's environment variables as the process was started with them (unset: None)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore",
                                      use_attribute_docstrings=True)

    omp_num_threads: str | None = None
    """OMP_NUM_THREADS: how many threads torch's CPU kernels use (unset: one per core the process may use); text,
    since OpenMP also takes a list per nesting level ("4,2")."""
    omp_wait_policy: str | None = None
    """OMP_WAIT_POLICY: ACTIVE (idle threads spin) or PASSIVE (they sleep); unset: spin briefly, then sleep."""


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask, e.g. a container's or taskset's limit)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity masks
        return os.cpu_count() or 1


def describe_threads(torch_threads: int) -> str:
    """One line for logs and `shoegen doctor`: torch's threads, the cores, and where the setup came from."""
    settings = ThreadSettings()
    count = f"OMP_NUM_THREADS={settings.omp_num_threads}" if settings.omp_num_threads else "default"
    waiting = (f"OMP_WAIT_POLICY={settings.omp_wait_policy}" if settings.omp_wait_policy
               else "default (spin, then sleep)")
    return f"{torch_threads} torch threads on {usable_cores()} usable cores ({count}); idle threads: {waiting}"
