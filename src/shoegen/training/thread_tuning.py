"""The CPU thread count of a training run, found by trying: small models train faster on one thread (their
kernels are too short to share), larger ones on every core, and where the line lies depends on the machine.

On a CPU, in a single training process, when the user has not set the count (OMP_NUM_THREADS), the run times
its first steps alternately at torch's default count and at one thread, keeps the faster, logs what it measured,
and writes the choice into the run folder, so that a resumed run trains on the same count as before (the same
count gives the same floating-point sums: resuming stays exact). With OMP_NUM_THREADS set, on a GPU, with several
processes, or for a run too short to pay back the trial, nothing is tried.
"""

from __future__ import annotations

import json
import logging
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from shoegen.config.threads import ThreadSettings

log = logging.getLogger(__name__)

WARM_UP_STEPS = 3
"""Steps before the trial: the first ones allocate and are slow at any count."""
TRIAL_STEPS = 6
"""Steps timed per candidate, alternating (a drift of the machine's speed falls on both alike)."""
MIN_RUN_STEPS = 100
"""Shorter runs are not tried: the trial would be a large share of them."""
MARGIN = 0.05
"""One thread is kept only when it is this much faster than the default count (ties keep every core)."""
CHOICE_FILE = "threads.json"
"""In the run folder's logs/: the count chosen and the trial's timings."""


@dataclass
class ThreadTuner:
    """Call `before_step()` and `after_step(seconds)` around each optimizer step."""

    default: int
    choice_path: Path
    start_step: int
    candidates: tuple[int, ...] = ()
    timings: dict[int, list[float]] = field(default_factory=dict)
    chosen: int | None = None
    _step: int = 0
    _current: int | None = None

    @classmethod
    def for_run(cls, device_type: str, processes: int, max_steps: int, start_step: int, logs_dir: Path,
                resuming: bool) -> ThreadTuner | None:
        """The tuner for a run, or None where the count is not the run's to choose."""
        import torch

        default = torch.get_num_threads()
        if device_type != "cpu" or processes > 1 or ThreadSettings().omp_num_threads or default <= 1:
            return None
        path = logs_dir / CHOICE_FILE
        if resuming and (earlier := _read_choice(path)) is not None:
            torch.set_num_threads(earlier)
            log.info("threads: %d, as this run chose before (%s)", earlier, path)
            return None
        if max_steps - start_step < MIN_RUN_STEPS:
            return None
        return cls(default, path, start_step, (default, 1), {default: [], 1: []})

    def before_step(self) -> None:
        import torch

        if self.chosen is not None:
            return
        index = self._step - WARM_UP_STEPS
        wanted = self.default if index < 0 else self.candidates[index % len(self.candidates)]
        if wanted != self._current:
            torch.set_num_threads(wanted)
            self._current = wanted

    def after_step(self, seconds: float) -> None:
        if self.chosen is not None:
            return
        if self._step >= WARM_UP_STEPS:
            self.timings[self._current].append(seconds)
        self._step += 1
        if all(len(times) >= TRIAL_STEPS for times in self.timings.values()):
            self._decide()

    def _decide(self) -> None:
        import torch

        medians = {count: statistics.median(times) for count, times in self.timings.items()}
        self.chosen = 1 if medians[1] < medians[self.default] * (1 - MARGIN) else self.default
        torch.set_num_threads(self.chosen)
        log.info("threads: %d chosen after timing %d steps each: %s", self.chosen, TRIAL_STEPS,
                 ", ".join(f"{count} thread{'s' if count > 1 else ''} {median:.4f} s/step"
                           for count, median in medians.items()))
        self.choice_path.parent.mkdir(parents=True, exist_ok=True)
        self.choice_path.write_text(json.dumps({
            "threads": self.chosen, "default": self.default, "from_step": self.start_step,
            "median_seconds": {str(count): median for count, median in medians.items()},
            "seconds": {str(count): times for count, times in self.timings.items()}}, indent=2) + "\n")


def _read_choice(path: Path) -> int | None:
    try:
        chosen = json.loads(path.read_text())["threads"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return chosen if isinstance(chosen, int) and chosen >= 1 else None
