"""How a CPU training run computes its steps, found by trying: small models train faster on one thread (their
kernels are too short to share), on ATen's own convolutions (oneDNN's pay for larger images) and with each LoRA
update folded into its base weight (one matrix product instead of three); larger ones the other way, and where
the lines lie depends on the model and the machine.

On a CPU, in a single training process, for a run long enough to pay back the trial, the run times its first
steps: after a few warm-up steps, each choice in turn (threads, then convolutions, then the LoRA form) alternates
its usual setting and the alternative, and the alternative is kept only when clearly faster. The run logs what it
measured and writes the choices into the run folder, so that a resumed run computes exactly as before (the same
setup gives the same floating-point sums: resuming stays exact). A choice is not tried where it is not the run's
to make: the thread count when OMP_NUM_THREADS is set, the convolutions and the LoRA form with --torch_compile
(a switch would recompile), the LoRA form with LoRA dropout or mixed precision (nothing to fold).
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shoegen.config.threads import ThreadSettings

log = logging.getLogger(__name__)

WARM_UP_STEPS = 3
"""Steps before the trial: the first ones allocate and are slow in any setup."""
TRIAL_STEPS = 6
"""Steps timed per setting of a choice, alternating (a drift of the machine's speed falls on both alike)."""
MIN_RUN_STEPS = 100
"""Shorter runs are not tried: the trial would be a large share of them."""
MARGIN = 0.05
"""An alternative is kept only when it is this much faster than the usual setting (ties keep the usual one)."""
CHOICE_FILE = "step_tuning.json"
"""In the run folder's logs/: the setup chosen and the trial's timings."""
OLD_CHOICE_FILE = "threads.json"
"""What runs written before the other choices kept (the thread count alone)."""


@dataclass
class Choice:
    """One setting of the step's computation: its usual value, the alternative tried, and how to apply one."""

    name: str
    usual: object
    alternative: object
    apply: Callable[[object], None]
    describe: Callable[[object], str]


@dataclass
class StepTuner:
    """Call `before_step()` and `after_step(seconds)` around each optimizer step."""

    choices: list[Choice]
    choice_path: Path
    start_step: int
    chosen: dict[str, object] = field(default_factory=dict)
    timings: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    _step: int = 0
    _setting: object = None

    @classmethod
    def for_run(cls, choices: list[Choice], device_type: str, processes: int, max_steps: int, start_step: int,
                logs_dir: Path, resuming: bool) -> StepTuner | None:
        """The tuner for a run, or None where nothing is the run's to choose; a resumed run takes the setup it
        chose before (its tuner has nothing left to try)."""
        if device_type != "cpu" or processes > 1 or not choices:
            return None
        path = logs_dir / CHOICE_FILE
        if resuming and (earlier := read_choices(logs_dir)) is not None:
            # A choice the earlier run did not make: it ran the usual setting.
            chosen = {choice.name: earlier.get(choice.name, choice.usual) for choice in choices}
            for choice in choices:
                choice.apply(chosen[choice.name])
            log.info("step setup: %s, as this run chose before (%s)", _describe(choices, chosen), path)
            return cls(choices, path, start_step, chosen=chosen)
        if max_steps - start_step < MIN_RUN_STEPS:
            return None
        return cls(choices, path, start_step)

    def close(self) -> None:
        """Back to the usual setup (torch's settings are the process's: they outlive the run otherwise)."""
        for choice in self.choices:
            choice.apply(choice.usual)

    @property
    def done(self) -> bool:
        return len(self.chosen) == len(self.choices)

    @property
    def _current(self) -> Choice:
        return self.choices[len(self.chosen)]

    def before_step(self) -> None:
        if self.done:
            return
        choice = self._current
        # After the warm-up, the current choice's timed steps alternate: usual, alternative, usual, ...
        timed = sum(len(times) for times in self.timings.get(choice.name, {}).values())
        wanted = choice.usual if self._step < WARM_UP_STEPS or timed % 2 == 0 else choice.alternative
        if wanted != self._setting:
            choice.apply(wanted)
            self._setting = wanted

    def after_step(self, seconds: float) -> None:
        if self.done:
            return
        choice = self._current
        if self._step >= WARM_UP_STEPS:
            times = self.timings.setdefault(choice.name, {str(choice.usual): [], str(choice.alternative): []})
            times[str(self._setting)].append(seconds)
            if all(len(t) >= TRIAL_STEPS for t in times.values()):
                self._decide(choice, times)
        self._step += 1

    def _decide(self, choice: Choice, times: dict[str, list[float]]) -> None:
        usual, alternative = (statistics.median(times[str(v)]) for v in (choice.usual, choice.alternative))
        value = choice.alternative if alternative < usual * (1 - MARGIN) else choice.usual
        choice.apply(value)
        self.chosen[choice.name] = value
        self._setting = None
        log.info("step setup: %s chosen after timing %d steps each: %s %.4f s/step, %s %.4f s/step",
                 choice.describe(value), TRIAL_STEPS, choice.describe(choice.usual), usual,
                 choice.describe(choice.alternative), alternative)
        if self.done:
            self._write()

    def _write(self) -> None:
        log.info("step setup: %s", _describe(self.choices, self.chosen))
        self.choice_path.parent.mkdir(parents=True, exist_ok=True)
        self.choice_path.write_text(json.dumps({
            "chosen": self.chosen, "from_step": self.start_step,
            "median_seconds": {name: {setting: statistics.median(t) for setting, t in times.items()}
                               for name, times in self.timings.items()},
            "seconds": self.timings}, indent=2) + "\n")


def read_choices(logs_dir: Path) -> dict[str, object] | None:
    """The setup a run chose (None if it never chose): {choice name: value}."""
    try:
        return dict(json.loads((logs_dir / CHOICE_FILE).read_text())["chosen"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        threads = json.loads((logs_dir / OLD_CHOICE_FILE).read_text())["threads"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {"threads": threads} if isinstance(threads, int) and threads >= 1 else None


def _describe(choices: list[Choice], values: dict[str, object]) -> str:
    return ", ".join(choice.describe(values[choice.name]) for choice in choices)


# ------------------------------------------------------------------------------------------- the choices

def thread_choice() -> Choice | None:
    """torch's default thread count against one thread; not where the user set the count, or with one core."""
    import torch

    default = torch.get_num_threads()
    if ThreadSettings().omp_num_threads or default <= 1:
        return None
    return Choice("threads", default, 1, torch.set_num_threads,
                  lambda n: f"{n} thread{'s' if n != 1 else ''}")


def convolution_choice() -> Choice | None:
    """oneDNN's convolutions (torch's default on a CPU) against ATen's own; not where torch has no oneDNN."""
    import torch

    if not torch.backends.mkldnn.is_available():
        return None

    def apply(value: str) -> None:
        torch.backends.mkldnn.enabled = value == "onednn"

    return Choice("convolutions", "onednn", "aten", apply, lambda v: f"{'oneDNN' if v == 'onednn' else 'ATen'} "
                                                                    "convolutions")


def lora_form_choice(modules) -> Choice | None:
    """peft's LoRA layers against the update folded into the weight; not where no layer can fold."""
    from shoegen.training import lora

    layers = lora.mergeable_layers(*modules)
    if not layers:
        return None
    return Choice("lora_form", "separate", "merged", lambda v: lora.use_merged_forward(layers, v == "merged"),
                  lambda v: "LoRA update folded into the weight" if v == "merged" else "LoRA update apart")


def training_choices(modules, compiled: bool) -> list[Choice]:
    """The choices a CPU training run of `modules` (its UNet, and text encoder when trained) may try."""
    found = [thread_choice()]
    if not compiled:
        found += [convolution_choice(), lora_form_choice(modules)]
    return [choice for choice in found if choice is not None]
