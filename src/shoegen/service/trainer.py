"""Training runs as jobs of the durable queue: started from the studio (or queued for a run started in a terminal),
trained one at a time per device by a worker that runs the same `shoegen train` in a process of its own.

A run is its folder MODELS_DIR/<name> (`training.run_folder.RunFolder`: settings, checkpoints, log, status) plus,
for a run the studio trains, one job row (kind "training", params {"run": name}) whose id the folder keeps. The
job says where the run stands in the queue (queued, running, stopped, interrupted, done, error, cancelled); the
folder says how far it got (its log and status.json), which is all a run started in a terminal has.

- Steering goes through the folder (`RunFolder.request`: stop after a checkpoint, save now, sample now), read by
  the training process between two steps, so the studio, `shoegen runs` and any replica sharing MODELS_DIR steer
  a run the same way, wherever it trains.
- The worker holds the job under a lease renewed while the process runs (with each new logged step, or a
  heartbeat), and turns a cancel of the job (DELETE /api/jobs/{id}) into a stop request. The training process dies
  with its worker (PR_SET_PDEATHSIG); the job's lease then runs out and the job ends `interrupted`, its
  checkpoints intact: resuming is a user's choice (`resume`), from the latest checkpoint, exactly as
  `shoegen train --resume_from_checkpoint latest`. A worker stopped cleanly (a server restart) asks its run to
  stop after a checkpoint and ends the job `interrupted` too.
- Generation beside training: a server's generation worker and its training worker share the device; both run,
  each slower (on a GPU, both models must fit in its memory). One training job per device: each worker trains
  one run at a time; more devices, more workers (replicas).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shoegen.config.recipes import SERVER_CHOSEN
from shoegen.config.train import TrainConfig
from shoegen.data.library import NAME_PATTERN
from shoegen.errors import ShoegenError
from shoegen.processes import DIE_WITH_PARENT_ENV, die_with_parent
from shoegen.storage import Gallery, JobState, JobStore, OptionStore, QueueFull
from shoegen.training.logs import LogTail, log_summary
from shoegen.training.run_folder import RunFolder, step_count
from shoegen.training.runs import RunInfo, list_runs

log = logging.getLogger("shoegen.service")
KIND = "training"
EVALUATION_KIND = "evaluation"
"""An evaluation of a run's checkpoints (`shoegen evaluate`), run by the training worker: one heavy job per device,
training first."""
WORKER_PREFIX = "training-worker:"
"""Service options named so are the training workers' heartbeats (when each was last seen)."""
POLL_SECONDS = 0.5
"""How often the worker reads what its run appended to its log and looks for a job, and how often it sees its
process end."""
CANCEL_LOOK_SECONDS = 2.0
"""How often a worker whose process publishes no new step looks whether its job was asked to cancel (an evaluation
loading its models, a long training step)."""
STOP_GRACE_SECONDS = 60.0
"""How long a cleanly stopping worker waits for its run to write a checkpoint and exit before killing it."""
TERMINAL_STALE_SECONDS = 60.0
"""A run whose status.json says running but was not rewritten for this long has stopped (its process, on this
machine, is also asked whether it runs)."""
STARTING = "starting: loading the base model and caching the training images; the first step follows"
LOG_TAIL_CHARACTERS = 2000


class RunError(ShoegenError):
    """A request about a run that cannot be done as asked; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RunState:
    """Where a run stands, from its job (if the studio trains it) and its folder."""

    status: str
    """queued | running | stopping | stopped | interrupted | done | error | cancelled"""
    source: str
    """studio (a job trains it) | terminal (`shoegen train` in a shell)"""
    job: JobState | None
    step: int
    max_steps: int
    position: int | None = None
    waiting_reason: str | None = None
    error: str | None = None
    loss: float | None = None
    lr: float | None = None
    steps_per_second: float | None = None
    eta_seconds: float | None = None
    settings: dict = field(default_factory=dict, repr=False)
    """The run's settings as written (run.yaml, read once with the state); {} when it cannot be read."""
    evaluation: JobState | None = None
    """The studio's last evaluation of the run (its job: queued, running, done, error, cancelled, interrupted)."""
    evaluation_waiting: str | None = None
    """Why a queued evaluation has not started yet."""

    @property
    def evaluating(self) -> bool:
        return self.evaluation is not None and self.evaluation.status in ("queued", "running")

    @property
    def resumable(self) -> bool:
        return self.status in ("stopped", "interrupted", "error", "cancelled")

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running", "stopping")


def check_run_name(name: str) -> str:
    """A run's folder name: the rule a dataset's name follows (`data.library.NAME_PATTERN`)."""
    if not NAME_PATTERN.fullmatch(name):
        raise RunError("a run name is 1-64 letters, digits, '.', '_' or '-', not starting with '.'", 422)
    return name


class TrainingRuns:
    """Start, steer and follow training runs (any replica); `start_worker` trains them (one per device)."""

    def __init__(self, gallery: Gallery, models_dir: Path, *, max_queued: int, lease_seconds: float,
                 processes: int = 1, trains_here: bool = True):
        self.store, self.options = JobStore(gallery), OptionStore(gallery)
        self.models_dir, self.max_queued, self.lease_seconds = Path(models_dir), max_queued, lease_seconds
        self.processes = processes
        self.trains_here = trains_here
        """Whether this process's machine trains the runs (not an API-only replica): its device is checked."""
        self.worker_id = f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_beat = float("-inf")

    def folder(self, name: str) -> RunFolder:
        return RunFolder(self.models_dir / check_run_name(name))

    # ----------------------------------------------------------------- client side (any replica)
    def create(self, name: str, config: TrainConfig) -> JobState:
        """Queue a new run: its folder (run.yaml) first, then its job; refused when the name is taken."""
        folder = self.folder(name)
        if folder.path.exists():
            raise RunError(f"a run named {name!r} exists; pick another name, or resume or delete it")
        loose = self.models_dir / f"{name}.safetensors"
        if loose.exists():
            raise RunError(f"the models folder holds a LoRA file named {name!r} ({loose.name}): `model_name: {name}` "
                           "could pick only one of them; pick another name")
        config = config.model_copy(update={"output_dir": folder.path, "resume_from_checkpoint": None})
        self._check(config)
        try:
            folder.write_config(config)
            job = self.store.submit({"run": name}, total_steps=config.max_train_steps, batch_key=None,
                                    max_queued=self.max_queued, kind=KIND)
        except QueueFull as full:
            shutil.rmtree(folder.path, ignore_errors=True)
            raise RunError(f"the training queue holds {full.queued} runs, its bound; try again later", 429) from None
        folder.write_job(job.id)
        return job

    def job(self, folder: RunFolder, *, evaluation: bool = False) -> JobState | None:
        job_id = folder.read_job(evaluation=evaluation)
        return None if job_id is None else self.store.get(job_id)

    def state(self, folder: RunFolder) -> RunState:
        return self.states([folder])[0]

    def states(self, folders: list[RunFolder]) -> list[RunState]:
        for kind in (KIND, EVALUATION_KIND):  # a dead worker's job reads `interrupted` at once, on any replica
            self.store.interrupt_expired(kind)
        running = {job.params.get("run"): job for kind in (KIND, EVALUATION_KIND)
                   for job in self.store.list("running", kind=kind, limit=100)}
        return [self._state(folder, running) for folder in folders]

    def _state(self, folder: RunFolder, running: dict[str, JobState]) -> RunState:
        status_file = folder.read_status() or {}
        summary = log_summary(folder, status_file)  # status.json's: no log is read (but an old run's, once)
        settings = folder.read_config_values()
        max_steps = _steps(status_file.get("max_steps"), settings.get("max_train_steps"))
        step = _steps(summary.step, status_file.get("step"))
        speed = summary.steps_per_second
        job = self.job(folder)
        evaluation = self.job(folder, evaluation=True)
        common = {"job": job, "step": step, "max_steps": max_steps, "loss": summary.loss, "lr": summary.lr,
                  "settings": settings, "evaluation": evaluation,
                  "evaluation_waiting": self._evaluation_waiting(running) if evaluation is not None and
                  evaluation.status == "queued" else None}
        terminal = self._terminal_status(folder, status_file)
        if job is None or (job.finished and terminal == "running"):  # resumed in a terminal after the studio
            status = terminal
            return RunState(status=status, source="terminal", error=status_file.get("error"),
                            steps_per_second=speed if status == "running" else None,
                            eta_seconds=_eta(speed, step, max_steps) if status == "running" else None, **common)
        if job.status == "queued":
            position = self.store.position(job)
            return RunState(status="queued", source="studio", position=position,
                            waiting_reason=self._waiting_reason(position, running), **common)
        if job.status == "running":
            status = "stopping" if "stop" in folder.requested() else "running"
            starting = STARTING if not summary.step and not folder.checkpoints() else None
            # The worker's step: a resumed run's log holds the killed attempt's steps past its checkpoint until
            # the new process drops them.
            common["step"] = step = job.step or step
            return RunState(status=status, source="studio", steps_per_second=speed, waiting_reason=starting,
                            eta_seconds=_eta(speed, step, max_steps), **common)
        return RunState(status=job.status, source="studio", error=job.error, **common)

    @staticmethod
    def _terminal_status(folder: RunFolder, status_file: dict) -> str:
        state = status_file.get("state")
        if state == "running":
            try:
                updated = datetime.fromisoformat(status_file["updated_at"])
            except (KeyError, TypeError, ValueError):
                return "interrupted"
            fresh = datetime.now(UTC) - updated < timedelta(seconds=TERMINAL_STALE_SECONDS)
            return "running" if fresh and _process_alive(status_file) else "interrupted"
        if state in ("done", "stopped", "error", "interrupted"):
            return state
        return "done" if folder.final_adapter.is_file() else "stopped"

    def _waiting_reason(self, position: int, running: dict[str, JobState]) -> str:
        ahead = f"{position - 1} run{'s' if position > 2 else ''} ahead of it; " if position > 1 else ""
        if not self.live_workers():
            return (f"{ahead}no training worker is running: start `shoegen serve` (without --api-only) or "
                    "`shoegen serve --workers-only` on the machine with the device")
        if running:
            names = ", ".join(repr(name) for name in sorted(running, key=str))
            return f"{ahead}waiting for {names} to finish: one run trains (or is evaluated) at a time on each device"
        return f"{ahead}a worker picks it up within a second"

    def _evaluation_waiting(self, running: dict[str, JobState]) -> str:
        """A queued evaluation's wait: the training runs queued go first, then the evaluations in their order."""
        runs = self.store.depth(KIND)
        first = f"{runs} queued training run{'s' if runs > 1 else ''} go first; " if runs else ""
        return first + self._waiting_reason(1, running)

    def live_workers(self) -> list[str]:
        """Training workers seen within three leases, on any replica."""
        cutoff = datetime.now(UTC) - timedelta(seconds=3 * self.lease_seconds)
        live = []
        for value in self.options.with_prefix(WORKER_PREFIX).values():
            try:
                if datetime.fromisoformat(value["seen"]) >= cutoff:
                    live.append(value["worker_id"])
            except (KeyError, TypeError, ValueError):
                continue
        return live

    def stop(self, folder: RunFolder) -> None:
        """A queued run is cancelled; a running one stops after writing a checkpoint of its current step."""
        state = self.state(folder)
        if state.status == "queued":
            self.store.cancel(state.job.id)
        elif state.status == "running":
            folder.request("stop")
        elif state.status != "stopping":
            raise RunError(f"run {folder.path.name!r} is {state.status}, not queued or running")

    def request(self, folder: RunFolder, what: str) -> None:
        """`save` a checkpoint or `sample` (validate) at the run's next step."""
        state = self.state(folder)
        if state.status != "running":
            raise RunError(f"run {folder.path.name!r} is {state.status}: only a running run can {what}")
        folder.request(what)

    def resume(self, folder: RunFolder) -> JobState:
        """Queue a stopped, interrupted or failed run again; it continues from its latest checkpoint (from the
        start when it has none). A run started in a terminal gets a job of its own."""
        state = self.state(folder)
        if not state.resumable:
            raise RunError(f"run {folder.path.name!r} is {state.status}: only a stopped, interrupted, failed or "
                           "cancelled run can be resumed")
        _refuse_while_evaluated(folder, state, "resume it")
        try:
            config = folder.read_config()  # a folder whose run.yaml does not load would fail in the worker
        except ShoegenError as error:
            raise RunError(str(error), 422) from None
        self._check(config.model_copy(update={"output_dir": folder.path,
                                              "resume_from_checkpoint": "latest" if folder.checkpoints() else None}),
                    resume=True)
        try:
            if state.job is not None:
                job = self.store.requeue(state.job.id, self.max_queued)
            else:
                job = self.store.submit({"run": folder.path.name}, total_steps=state.max_steps, batch_key=None,
                                        max_queued=self.max_queued, kind=KIND)
                folder.write_job(job.id)
        except QueueFull as full:
            raise RunError(f"the training queue holds {full.queued} runs, its bound; try again later", 429) from None
        folder.clear_requests()
        return job

    def evaluate(self, run: RunInfo, settings: dict) -> JobState:
        """Queue an evaluation of a run that is not training (`shoegen evaluate` with `settings`: seeds, seed, steps,
        metrics, best_metric), run by the training worker when no training run waits."""
        from shoegen.evaluate import check_evaluable, check_metrics

        folder = run.folder
        state = self.state(folder)
        if state.active:
            raise RunError(f"run {run.name!r} is {state.status}: evaluate it once it has stopped or finished (its "
                           "checkpoints change while it trains)")
        _refuse_while_evaluated(folder, state, "evaluate it again")
        try:
            check_metrics(settings["metrics"], settings["best_metric"], name=str)
            check_evaluable(run)
        except ShoegenError as error:
            raise RunError(str(error), 422) from None
        try:
            job = self.store.submit({"run": run.name, **settings}, total_steps=0, batch_key=None,
                                    max_queued=self.max_queued, kind=EVALUATION_KIND)
        except QueueFull as full:
            raise RunError(f"the evaluation queue holds {full.queued} evaluations, its bound; try again later",
                           429) from None
        folder.write_job(job.id, evaluation=True)
        return job

    def _check(self, config: TrainConfig, *, resume: bool = False) -> None:
        """What the training process would refuse before its first step (the dataset gone, a base path that is no
        model, fp16 without a GPU, a resume whose checkpoint does not match), refused now with 422 in the
        request's terms, rather than after the run has waited its turn."""
        from shoegen.training.loop import check_settings

        try:
            check_settings(config, device=self.trains_here)
        except ShoegenError as error:
            raise RunError(in_body_terms(str(error), resume=resume), 422) from None

    def using_dataset(self, dataset: Path, *, inside: bool = False) -> dict[str, str]:
        """The runs still to read the dataset at `dataset`, or with `inside` a folder inside it too (queued,
        running or stopping, in the studio or a terminal): run name -> status."""
        target = dataset.resolve()
        folders = [run.folder for run in list_runs(self.models_dir)
                   if _reads(run.folder.read_config_values().get("dataset_path"), target, inside)]
        return {folder.path.name: "being evaluated" if state.evaluating and not state.active else state.status
                for folder, state in zip(folders, self.states(folders)) if state.active or state.evaluating}

    def delete(self, folder: RunFolder) -> None:
        state = self.state(folder)
        if state.active:
            raise RunError(f"run {folder.path.name!r} is {state.status}: stop it before deleting it")
        _refuse_while_evaluated(folder, state, "delete it")
        shutil.rmtree(folder.path)

    # ----------------------------------------------------------------- worker side
    def start_worker(self) -> None:
        self._thread = threading.Thread(target=self._work, name="shoegen-trainer", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the worker to stop (without waiting): a run it trains stops after a checkpoint."""
        self._stopping.set()

    def stop_worker(self) -> None:
        """Stop the worker; a run it trains stops after a checkpoint and its job ends `interrupted`."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_GRACE_SECONDS + 10)
        self.options.set(self._worker_key, None)

    @property
    def _worker_key(self) -> str:
        return WORKER_PREFIX + hashlib.sha256(self.worker_id.encode()).hexdigest()[:32]

    def _beat(self) -> None:
        """Say this worker is alive, every third of a lease (a write: not at every look for a job)."""
        if time.monotonic() - self._last_beat < self.lease_seconds / 3:
            return
        self.options.set(self._worker_key, {"worker_id": self.worker_id, "seen": datetime.now(UTC).isoformat()})
        self._last_beat = time.monotonic()

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                self._beat()
                claimed = self.store.claim(self.worker_id, lease_seconds=self.lease_seconds, kind=KIND) or \
                    self.store.claim(self.worker_id, lease_seconds=self.lease_seconds, kind=EVALUATION_KIND)
            except Exception:  # the database is away: try again, as a fresh replica would
                log.exception("claiming a training job failed")
                claimed = []
            if not claimed:
                self._stopping.wait(POLL_SECONDS)
                continue
            job = claimed[0]
            try:
                (self._evaluate if job.kind == EVALUATION_KIND else self._train)(job)
            except Exception:  # the lease runs out and the job reads interrupted: resumable
                log.exception("%s job %s: the worker failed while it ran", job.kind, job.id)

    def command(self, folder: RunFolder) -> list[str]:
        """The training process: `shoegen train` on the run's settings, under `accelerate launch` for several
        devices."""
        train = ["-m", "shoegen.cli.main", "train", "--config", str(folder.config_file), "--quiet"]
        if self.processes > 1:
            return [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(self.processes), *train]
        return [sys.executable, *train]

    @staticmethod
    def evaluation_command(folder: RunFolder, settings: dict) -> list[str]:
        """The evaluation process: `shoegen evaluate` on the run's folder (its own base, from run.yaml)."""
        command = [sys.executable, "-m", "shoegen.cli.main", "evaluate", str(folder.path),
                   "--seeds", str(settings["seeds"]), "--seed", str(settings["seed"]),
                   "--metrics", ",".join(settings["metrics"]), "--best-metric", settings["best_metric"]]
        return command + (["--steps", str(settings["steps"])] if settings.get("steps") else [])

    def _evaluate(self, job: JobState) -> None:
        try:
            folder = self.folder(str(job.params.get("run")))
        except ShoegenError as error:
            self.store.finish(self.worker_id, [job.id], "error", error=f"the evaluation cannot start: {error}")
            return
        if not folder.config_file.is_file():
            self.store.finish(self.worker_id, [job.id], "error", error=f"the evaluation cannot start: run "
                              f"{folder.path.name!r} is gone")
            return
        state = self.state(folder)
        if state.active:  # resumed since (a terminal, another replica): its checkpoints change while it trains
            self.store.finish(self.worker_id, [job.id], "error", error=f"the evaluation did not start: run "
                              f"{folder.path.name!r} is {state.status}; evaluate it once it has stopped or finished")
            return
        folder.logs_dir.mkdir(parents=True, exist_ok=True)
        folder.evaluation_log.unlink(missing_ok=True)  # one evaluation's output: nothing is resumed
        folder.evaluation_progress_file.unlink(missing_ok=True)
        started = time.monotonic()
        process = start_training_process(self.evaluation_command(folder, job.params), folder.evaluation_log)
        log.info("evaluating run %s (job %s, pid %d)", folder.path.name, job.id, process.pid)
        lease, cancelled = _Lease(self, job), False
        while process.poll() is None:
            time.sleep(POLL_SECONDS)
            done, total = folder.read_evaluation_progress() or (0, 0)
            held, cancel = lease.report(done, total)
            if not held:
                log.warning("evaluation job %s was ended elsewhere; stopping its process", job.id)
                process.kill()
                process.wait()
                return
            if (cancel or self._stopping.is_set()) and not cancelled:
                cancelled = True
                process.terminate()  # nothing to save: the scores are written when every image is made
        if process.returncode == 0:
            self.store.complete(self.worker_id, job.id, [], generation_time=time.monotonic() - started,
                                warnings=_notices(folder.evaluation_log), despite_cancel=True)
        elif self._stopping.is_set():
            self.store.finish(self.worker_id, [job.id], "interrupted",
                              error="the server stopped while the run was evaluated; evaluate it again")
        elif cancelled:
            self.store.finish(self.worker_id, [job.id], "cancelled")
        else:
            self.store.finish(self.worker_id, [job.id], "error", error=f"the evaluation exited with "
                              f"{process.returncode}: {_tail(folder.evaluation_log)}")

    def _train(self, job: JobState) -> None:
        try:
            folder = self.folder(str(job.params.get("run")))
            config = folder.read_config()
        except ShoegenError as error:  # the run's folder went or its run.yaml broke: the job says so
            self.store.finish(self.worker_id, [job.id], "error", error=f"the run cannot start: {error}")
            return
        checkpoints = folder.checkpoints()
        resume = "latest" if checkpoints else None
        folder.write_config(config.model_copy(update={"resume_from_checkpoint": resume,
                                                      "output_dir": folder.path}))
        folder.clear_requests()
        folder.logs_dir.mkdir(parents=True, exist_ok=True)
        started, launched = time.monotonic(), datetime.now(UTC)
        process = start_training_process(self.command(folder), folder.worker_log)
        log.info("training run %s (job %s, pid %d)%s", folder.path.name, job.id, process.pid,
                 " from its latest checkpoint" if resume else "")
        resumed_from = checkpoints[-1].step if checkpoints else None
        held = self._follow(job, folder, process, config.max_train_steps, resumed_from)
        if not held:
            return
        status = _written_since(folder.read_status() or {}, launched)
        if self._stopping.is_set() and status.get("state") != "done":
            self.store.finish(self.worker_id, [job.id], "interrupted",
                              error="the server stopped while the run trained; resume it from its last checkpoint")
        elif process.returncode == 0 and status.get("state") == "done":
            self.store.complete(self.worker_id, job.id, [], generation_time=time.monotonic() - started,
                                despite_cancel=True)
        elif process.returncode == 0 and status.get("state") == "stopped":
            self.store.finish(self.worker_id, [job.id], "stopped")
        else:
            error = status.get("error") or f"the training process exited with {process.returncode}: " \
                                           f"{_tail(folder.worker_log)}"
            self.store.finish(self.worker_id, [job.id], "error", error=error)

    def _follow(self, job: JobState, folder: RunFolder, process: subprocess.Popen, total: int,
                resumed_at: int | None) -> bool:
        """Renew the job's lease and publish its steps until the process ends; False when the job was lost
        (another replica ended it), in which case the process is killed. A run resumed from the checkpoint at
        `resumed_at` starts there: what the log holds past it, the steps the new process drops, is not shown."""
        lease, stop_asked_at = _Lease(self, job), None
        # Each look reads only what the run logged since the last.
        log_tail = LogTail(folder.train_log) if resumed_at is None else \
            LogTail.from_end(folder.train_log, resumed_at)
        while process.poll() is None:
            time.sleep(POLL_SECONDS)
            if self._stopping.is_set() and stop_asked_at is None:
                folder.request("stop")
                stop_asked_at = time.monotonic()
            if stop_asked_at is not None and time.monotonic() - stop_asked_at > STOP_GRACE_SECONDS:
                process.kill()
            log_tail.read()
            held, cancelled = lease.report(log_tail.last_step, total)
            if not held:
                log.warning("training job %s was ended elsewhere; stopping its process", job.id)
                process.kill()
                process.wait()
                return False
            if cancelled:
                folder.request("stop")
        return True


class _Lease:
    """A worker's hold on the job its process runs: each new step published (renewing the lease), else a heartbeat
    every third of a lease."""

    def __init__(self, runs: TrainingRuns, job: JobState):
        self.runs, self.job = runs, job
        self.last: tuple[int, int] | None = None
        self.renewed = self.looked = time.monotonic()

    def report(self, step: int, total: int) -> tuple[bool, bool]:
        """(whether the job is still held, whether it was asked to cancel)."""
        runs, job = self.runs, self.job
        try:
            if (step, total) != self.last:
                held, cancelled = runs.store.progress(
                    runs.worker_id, [job.id], step=step, total=total, payload={"step": step, "total": total},
                    lease_seconds=runs.lease_seconds)
                self.last = step, total
            elif time.monotonic() - self.renewed > runs.lease_seconds / 3:
                held, cancelled = runs.store.heartbeat(runs.worker_id, [job.id],
                                                       lease_seconds=runs.lease_seconds), set()
                runs._beat()
            elif time.monotonic() - self.looked > CANCEL_LOOK_SECONDS:  # a cancel asked between two steps
                self.looked = time.monotonic()
                state = runs.store.get(job.id)
                return True, state is not None and state.cancel_requested
            else:
                return True, False
        except Exception:  # the database is away for a moment: the lease has time left
            log.exception("renewing %s job %s failed", job.kind, job.id)
            return True, False
        self.renewed = time.monotonic()
        return job.id in held, bool(cancelled)


def _refuse_while_evaluated(folder: RunFolder, state: RunState, action: str) -> None:
    if state.evaluating:
        raise RunError(f"run {folder.path.name!r} is being evaluated (job {state.evaluation.id}, "
                       f"{state.evaluation.status}): {action} once that ends, or cancel it (Cancel on its card on "
                       f"the Models page, or DELETE /api/jobs/{state.evaluation.id})")


def _reads(path: object, target: Path, inside: bool) -> bool:
    """Whether a run's dataset_path is `target` (or, with `inside`, a folder inside it)."""
    try:
        folder = Path(path).resolve() if isinstance(path, str) else None
    except (OSError, RuntimeError, ValueError):
        return False
    return folder is not None and (folder.is_relative_to(target) if inside else folder == target)


def _process_alive(status_file: dict) -> bool:
    """Whether the process that wrote status.json still runs: asked of the system on its own machine, assumed
    (while the file is fresh) on another."""
    if status_file.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(status_file["pid"]), 0)
    except (KeyError, TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True


def in_body_terms(message: str, *, resume: bool = False) -> str:
    """A training refusal worded for the command line (`--learning_rate`) in the terms of the request: a run
    body's `settings.learning_rate` (the dataset, chosen by name: `dataset`); for a resume, which takes no body,
    and for what the server chooses, the run's run.yaml key. A `--` inside a path or a name is left alone."""
    def name(match: re.Match) -> str:
        field = match[1]
        if field not in TrainConfig.model_fields:
            return match[0]
        if resume:
            return f"{field} (run.yaml)"
        if field == "dataset_path":
            return "dataset"
        return f"{field} (set by the server)" if field in SERVER_CHOSEN else f"settings.{field}"
    return re.sub(r"(?<![\w/.-])--(\w+)", name, message)


def start_training_process(command: list[str], output: Path) -> subprocess.Popen:
    """The training process, writing to `output`; it and every process it starts (`accelerate launch`'s, each in
    a session of its own) die with this one, so a dead worker's run never trains on, unseen, while its job reads
    interrupted and the next run starts on the same device."""
    with open(output, "ab") as log_file:
        return subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", DIE_WITH_PARENT_ENV: "1"},
                                preexec_fn=die_with_parent)


def _written_since(status_file: dict, moment: datetime) -> dict:
    """status.json as the process started at `moment` left it; {} when that process never wrote it (it was refused
    before its run started, and an earlier attempt's "error" is not this one's)."""
    try:
        return status_file if datetime.fromisoformat(status_file["updated_at"]) >= moment else {}
    except (KeyError, TypeError, ValueError):
        return {}


def _steps(*values: object) -> int:
    """The first of `values` that is a positive whole number of steps (`step_count`), else 0."""
    return next((steps for value in values if (steps := step_count(value))), 0)


def _eta(speed: float | None, step: int, max_steps: int) -> float | None:
    return (max_steps - step) / speed if speed and max_steps > step else None


def _notices(path: Path) -> list[str]:
    """The `notice: ...` lines of a process's output (what `shoegen evaluate` skipped, and why)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [line.removeprefix("notice: ") for line in lines if line.startswith("notice: ")]


def _tail(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    lines = [line for line in text[-LOG_TAIL_CHARACTERS:].splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or ["(no output)"])[-1]
