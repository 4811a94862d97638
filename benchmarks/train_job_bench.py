"""Training as a job (issue 16): the same LoRA run trained by `shoegen train` in a terminal and as a job of the
durable queue through a real `shoegen serve`, compared on steps/s (target: the job within 5%) and on the time from
"start" to the first step.

Sides (the same dataset, the same settings, the same base; each run in a fresh run folder):
  terminal  `shoegen train --config RUN.yaml` started as a subprocess, as a user types it in a terminal (no
            --quiet, so its progress bars are drawn; its output goes to a file, not a tty). "Start" is the moment
            the process is started.
  job       `POST /api/runs {"name", "dataset", "recipe", "settings"}` on a `shoegen serve` (role all, started
            fresh for each of its rounds and ready before the POST, otherwise idle: no generation, no client but
            this one); its training worker claims the job and runs `shoegen train --config MODELS_DIR/<name>/run.yaml
            --quiet` in a subprocess (src/shoegen/service/trainer.py). "Start" is the moment the POST is sent.
            The server warms up (loads the base for generation) before it is ready, as `shoegen serve` does by
            default; that happens before the POST and outside every timing (--no-server-warm-up turns it off).

The terminal side's RUN.yaml is written from the same recipe and settings the server builds the job's from
(recipe values, then the settings, then the dataset folder), and the benchmark checks that the two run.yaml files
agree but for the output folder; a difference is printed and recorded.

The sides alternate (terminal, job, terminal, job, ... `--rounds` each), because a shared CPU's speed drifts.
Figures per run:
  steps/s (median)   1 / the median of the train log's per-step `seconds` (one optimizer step each), after
                     `--warmup-steps` steps: the headline, least disturbed by what else the machine does;
  steps/s (mean)     the same steps / the sum of their seconds;
  wall steps/s       steps / (process end - start): start-up, final validation and checkpoint included;
  first step s       start -> the first record in the train log, broken down into
                     start -> training process running (the job side: the worker's claim and Popen, from the
                     process's start time in /proc), -> end of setup (its "threads: ..." log line: imports, data
                     scan, model load, latent/text caches), -> the first step logged;
  CPU s              the training process's CPU time (user + system, all threads), and for the job side the server
                     process's own CPU time from the POST until the job reads done (what serving costs beside it).
Per side the median over its rounds; the ratio job / terminal of the medians and of each adjacent pair.

After the rounds one probe process (not a side) runs the same settings in-process (`shoegen.training.loop.train`
with timing wrappers around its phases) to break the setup down further: interpreter + imports, dataset scan,
model load, latent cache, text cache, the rest of setup, first step.

The machine's load (`uptime`) is recorded at the start and the end, and the 1-minute load average at every run.

Run from the repository root:  .venv/bin/python benchmarks/train_job_bench.py [--rounds 3 --steps 300]
Quick look:                    .venv/bin/python benchmarks/train_job_bench.py --rounds 1 --steps 60 --no-record
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
from results_file import (BENCHMARKS_DIR, RESULTS_FILE, log, report_header, save_report, uptime,
                          write_section)

sys.path.insert(0, str(BENCHMARKS_DIR))
from service_bench import free_port  # noqa: E402
from train_throughput import THREAD_VARIABLES, machine_info  # noqa: E402

from shoegen.config.threads import usable_cores  # noqa: E402

TARGET_RATIO = 0.95  # the job's steps/s at least 95% of the terminal's (issue 16: "within 5%")
RECIPE = "quick-test"
DATASET = "bench-shoes"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FAST_POLL = 0.01  # seconds between looks while waiting for the first step
SLOW_POLL = 0.05  # seconds between looks while waiting for the end


# ------------------------------------------------------------------------------------------- /proc helpers

def boot_to_monotonic(boot_seconds: float) -> float:
    """A CLOCK_BOOTTIME instant (as /proc's start times are) on time.monotonic's clock."""
    return boot_seconds - (time.clock_gettime(time.CLOCK_BOOTTIME) - time.monotonic())


def proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (index 0 is the state); None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_started(pid: int) -> float | None:
    """When the process started, on time.monotonic's clock (10 ms resolution)."""
    fields = proc_stat(pid)
    return None if fields is None else boot_to_monotonic(int(fields[19]) / CLOCK_TICKS)


def cpu_seconds(pid: int) -> tuple[float, float] | None:
    """(own user+system seconds, reaped children's user+system seconds) of a live process."""
    fields = proc_stat(pid)
    if fields is None:
        return None
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime) / CLOCK_TICKS, (cutime + cstime) / CLOCK_TICKS


def find_child(parent: int, needle: str) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = proc_stat(int(entry.name))
        if fields is None or int(fields[1]) != parent:
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in command:
            return int(entry.name)
    return None


def running(pid: int) -> bool:
    fields = proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


# ------------------------------------------------------------------------------------------- inputs

def child_env(args) -> dict[str, str]:
    """The sides' environment: the benchmark's, without SHOEGEN_* settings (but the cache folder) and, at the
    default thread setting, without OpenMP's thread variables (what a user's shell has)."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("SHOEGEN_") and k != "SHOEGEN_CACHE_DIR") and k not in THREAD_VARIABLES}
    if args.threads != "default":
        env |= {"OMP_NUM_THREADS": args.threads, "MKL_NUM_THREADS": args.threads}
    env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error", "DIFFUSERS_VERBOSITY": "error"}
    if args.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # a GPU machine's CPU figures stay CPU figures
    return env


def run_settings(args) -> dict:
    """The settings sent over the recipe's: the steps, and checkpoints and validation at the end only."""
    settings = {"max_train_steps": args.steps, "checkpointing_steps": args.steps, "validation_steps": args.steps}
    if args.base != "tiny":
        settings["pretrained_model_name_or_path"] = args.base
    if args.batch_size:
        settings["train_batch_size"] = args.batch_size
    return settings


def terminal_config(args, dataset: Path, output_dir: Path) -> Path:
    """RUN.yaml for the terminal side, built as the server builds a job's (service.training_settings.run_config):
    recipe values, the settings over them, the dataset folder, the recipe's validation prompts."""
    from shoegen.config.recipes import find_recipe
    from shoegen.config.train import TrainConfig
    from shoegen.config.validation import build_settings
    from shoegen.training.run_folder import RunFolder

    recipe = find_recipe(RECIPE)
    values = {**recipe.settings, **run_settings(args), "dataset_path": dataset,
              "validation_prompts": recipe.validation_prompts or None}
    config = build_settings(TrainConfig, values, what=None, option=lambda name: name, help_command="--help")
    config = config.model_copy(update={"output_dir": output_dir, "resume_from_checkpoint": None})
    folder = RunFolder(output_dir)
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.write_config(config)
    return folder.config_file


def compare_configs(terminal_yaml: Path, job_yaml: Path) -> list[str]:
    """Settings on which the two run.yaml files differ, but for the output folder and resuming."""
    import yaml

    a, b = yaml.safe_load(terminal_yaml.read_text()), yaml.safe_load(job_yaml.read_text())
    skip = {"output_dir", "resume_from_checkpoint"}
    return sorted(f"{key}: terminal {a.get(key)!r}, job {b.get(key)!r}" for key in set(a) | set(b)
                  if key not in skip and a.get(key) != b.get(key))


def prepare(args, work_dir: Path, env: dict) -> Path:
    """The dataset, inside the server's datasets folder (the terminal side reads the same folder); the base."""
    dataset = work_dir / "server-data" / "datasets" / DATASET
    if not (dataset / "captions.json").is_file():
        subprocess.run([sys.executable, "-m", "shoegen.cli.main", "sample-data", str(dataset), "--count",
                        str(args.images), "--size", str(args.resolution)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    from shoegen.models.resolve import builtin_base_path

    if args.base in ("tiny", "demo"):
        if args.base == "demo" and not builtin_base_path("demo", build=False).is_dir():
            log("building the demo base first (about 11 minutes on 2 cores; cached afterwards)")
        builtin_base_path(args.base)
    return dataset


# ------------------------------------------------------------------------------------------- following a run

def records(train_log: Path) -> list[dict]:
    try:
        text = train_log.read_text()
    except OSError:
        return []
    out = []
    for line in text.split("\n")[:-1]:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "seconds" in record:
            out.append(record)
    return out


def setup_done(output_log: Path) -> bool:
    try:
        return "threads: " in output_log.read_text(errors="replace")
    except OSError:
        return False


def watch_start(started: float, pid_of, output_log: Path, train_log: Path, timeout: float) -> dict:
    """Poll every FAST_POLL s until the first step is logged: when the process started, when setup ended (its
    "threads:" line), when the first step was logged; seconds from `started`."""
    marks: dict[str, float] = {}
    pid = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = time.monotonic()
        if pid is None:
            pid = pid_of()
            if pid is not None:
                spawned = process_started(pid)
                # /proc's start times have 10 ms resolution: a process started by Popen may read a tick early
                marks["process_started"] = max(0.0, (spawned if spawned is not None else now) - started)
        if pid is not None and "setup_done" not in marks and setup_done(output_log):
            marks["setup_done"] = now - started
        if train_log.is_file() and train_log.stat().st_size > 0:
            marks["first_step"] = now - started
            marks.setdefault("setup_done", now - started)
            return {"pid": pid, **marks}
        if pid is not None and not running(pid):
            raise SystemExit(f"the training process ended before its first step: see {output_log}")
        time.sleep(FAST_POLL)
    raise SystemExit(f"no first step within {timeout} s: see {output_log}")


def step_figures(run_records: list[dict], warmup: int) -> dict:
    seconds = [r["seconds"] for r in run_records if r["step"] > warmup]
    if not seconds:
        raise SystemExit(f"no steps after the {warmup} warm-up steps: raise --steps or lower --warmup-steps")
    median = statistics.median(seconds)
    return {"steps_logged": len(run_records), "median_s_per_step": median, "steps_per_s_median": 1 / median,
            "steps_per_s_mean": len(seconds) / sum(seconds),
            "p90_s_per_step": sorted(seconds)[int(0.9 * (len(seconds) - 1))]}


def run_terminal(args, index: int, dataset: Path, work_dir: Path, env: dict) -> dict:
    output_dir = work_dir / "terminal" / f"run-{index}"
    shutil.rmtree(output_dir, ignore_errors=True)
    config = terminal_config(args, dataset, output_dir)
    from shoegen.training.run_folder import RunFolder

    folder = RunFolder(output_dir)
    output_log = work_dir / "terminal" / f"run-{index}.log"
    command = [str(Path(sys.executable).parent / "shoegen"), "train", "--config", str(config)]
    if args.terminal_quiet:
        command.append("--quiet")
    load = os.getloadavg()[0]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with output_log.open("wb") as output:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    marks = watch_start(started, lambda: process.pid, output_log, folder.train_log, args.timeout)
    while process.poll() is None:
        time.sleep(SLOW_POLL)
    ended = time.monotonic()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"shoegen train exited with {process.returncode}: see {output_log}")
    cpu = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
    run_records = records(folder.train_log)
    return {"side": "terminal", "round": index, "load_1min": load, **marks, "end_s": ended - started,
            "wall_steps_per_s": args.steps / (ended - started), "train_cpu_s": cpu,
            **step_figures(run_records, args.warmup_steps), "config": str(config)}


class Server:
    """A `shoegen serve` (role all) on a free loopback port, over the benchmark's data and models folders."""

    def __init__(self, args, work_dir: Path, env: dict, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.models_dir = work_dir / "models"
        self.log_path = work_dir / f"serve-{name}.log"
        env = env | {"SHOEGEN_WARM_UP": "true" if args.server_warm_up else "false"}
        command = [str(Path(sys.executable).parent / "shoegen"), "serve", "--host", "127.0.0.1", "--port",
                   str(self.port), "--base-model", args.base, "--models-dir", str(self.models_dir), "--data-dir",
                   str(work_dir / "server-data")]
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def wait_ready(self, timeout: float = 240) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"shoegen serve exited ({self.process.returncode}): see {self.log_path}")
            try:
                if self.http.get("/api/health", timeout=5).json().get("status") == "ok":
                    return time.monotonic() - started
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"shoegen serve did not answer within {timeout} s: see {self.log_path}")

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def run_job(args, index: int, work_dir: Path, env: dict) -> dict:
    from shoegen.training.run_folder import RunFolder

    server = Server(args, work_dir, env, f"job-{index}")
    try:
        ready_s = server.wait_ready()
        name = f"bench-job-{index}-{int(time.time())}"
        folder = RunFolder(server.models_dir / name)
        time.sleep(args.settle)  # the server's start-up is over; let its threads go quiet
        load = os.getloadavg()[0]
        server_cpu_before = cpu_seconds(server.process.pid)
        body = {"name": name, "dataset": DATASET, "recipe": RECIPE, "settings": run_settings(args)}
        started = time.monotonic()
        response = server.http.post("/api/runs", json=body)
        posted = time.monotonic() - started
        if response.status_code != 202:
            raise SystemExit(f"POST /api/runs answered {response.status_code}: {response.text}")
        marks = watch_start(started, lambda: find_child(server.process.pid, "shoegen.cli.main train"),
                            folder.worker_log, folder.train_log, args.timeout)
        pid = marks["pid"]
        while running(pid):
            time.sleep(SLOW_POLL)
        ended = time.monotonic()
        while True:  # what a client sees: the job done
            state = server.http.get(f"/api/runs/{name}").json()
            if state["status"] not in ("queued", "running", "stopping"):
                break
            time.sleep(SLOW_POLL)
        done = time.monotonic()
        server_cpu_after = cpu_seconds(server.process.pid)
        if state["status"] != "done":
            raise SystemExit(f"job {name} ended {state['status']}: {state.get('error')}; see {folder.worker_log}")
        api_log = server.http.get(f"/api/runs/{name}/log", params={"since_step": 0}).json()["records"]
        run_records = [r for r in api_log if "seconds" in r]
        if len(run_records) != args.steps:
            raise SystemExit(f"GET /api/runs/{name}/log gave {len(run_records)} step records, not {args.steps}")
    finally:
        server.stop()
    return {"side": "job", "round": index, "load_1min": load, "server_ready_s": ready_s, "post_s": posted, **marks,
            "end_s": ended - started, "done_visible_s": done - started,
            "wall_steps_per_s": args.steps / (ended - started),
            "train_cpu_s": server_cpu_after[1] - server_cpu_before[1],
            "server_cpu_s": server_cpu_after[0] - server_cpu_before[0],
            "api_steps_per_second": state.get("steps_per_second"),
            **step_figures(run_records, args.warmup_steps), "config": str(folder.config_file)}


# ------------------------------------------------------------------------------------------- the probe

PROBE = r"""
import json, os, sys, time
def now():
    return time.clock_gettime(time.CLOCK_BOOTTIME)
fields = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
marks = {"process_started": int(fields[19]) / os.sysconf("SC_CLK_TCK"), "python_ready": now()}
import shoegen.cli.main
from shoegen.training import batches, loop
from shoegen.config.train import build_config
marks["imports_done"] = now()
def timed(module, name, mark):
    original = getattr(module, name)
    def wrapper(*a, **k):
        marks.setdefault(mark + "_start", now())
        try:
            return original(*a, **k)
        finally:
            marks[mark + "_end"] = now()
    setattr(module, name, wrapper)
timed(loop, "load_training_examples", "dataset_scan")
timed(loop, "load_pipeline", "model_load")
timed(batches, "build_latent_cache", "latent_cache")
timed(batches, "build_text_cache", "text_cache")
timed(loop, "setup", "setup")
timed(loop, "optimizer_step", "step")
first = {}
original_log = loop.RunLog.log
def log(self, step, **values):
    first.setdefault("first_step", now())
    return original_log(self, step, **values)
loop.RunLog.log = log
config = build_config(sys.argv[1], {})
loop.train(config, show_progress=False)
marks.update(first)
print("PROBE " + json.dumps(marks))
"""


def run_probe(args, dataset: Path, work_dir: Path, env: dict) -> dict:
    """Where the terminal side's start-up goes: one in-process run with timing wrappers (a few steps)."""
    output_dir = work_dir / "probe"
    shutil.rmtree(output_dir, ignore_errors=True)
    probe_args = argparse.Namespace(**{**vars(args), "steps": min(args.steps, 5)})
    config = terminal_config(probe_args, dataset, output_dir)
    launched = time.clock_gettime(time.CLOCK_BOOTTIME)
    result = subprocess.run([sys.executable, "-c", PROBE, str(config)], env=env, capture_output=True, text=True)
    line = next((line for line in result.stdout.splitlines() if line.startswith("PROBE ")), None)
    if result.returncode != 0 or line is None:
        log(f"the probe failed ({result.returncode}): {result.stderr[-2000:]}")
        return {}
    m = json.loads(line[len("PROBE "):])
    phases = {
        "launch -> interpreter ready": m["python_ready"] - launched,
        "imports (shoegen.cli.main, shoegen.training.loop)": m["imports_done"] - m["python_ready"],
        "config + accelerator + run folder": m["dataset_scan_start"] - m["imports_done"],
        "dataset scan (every image decoded)": m["dataset_scan_end"] - m["dataset_scan_start"],
        "model load": m["model_load_end"] - m["model_load_start"],
        "latent cache": m.get("latent_cache_end", m["model_load_end"]) - m.get("latent_cache_start",
                                                                                   m["model_load_end"]),
        "text cache": m.get("text_cache_end", 0) - m.get("text_cache_start", 0),
    }
    cache_end = max(m.get("latent_cache_end", 0), m.get("text_cache_end", 0), m["model_load_end"])
    phases["rest of setup (LoRA layers, optimizer, logs)"] = m["setup_end"] - cache_end
    phases["setup -> first step logged"] = m["first_step"] - m["setup_end"]
    phases["total: launch -> first step"] = m["first_step"] - launched
    return {key: round(value, 3) for key, value in phases.items()}


# ------------------------------------------------------------------------------------------- report

def summarise(results: list[dict]) -> dict:
    by_side = {side: [r for r in results if r["side"] == side] for side in ("terminal", "job")}
    summary = {}
    for side, runs in by_side.items():
        if not runs:
            continue
        keys = ["steps_per_s_median", "steps_per_s_mean", "wall_steps_per_s", "first_step", "process_started",
                "setup_done", "end_s", "train_cpu_s", "load_1min"] + (["server_cpu_s", "done_visible_s", "post_s"]
                                                                      if side == "job" else [])
        summary[side] = {key: statistics.median(r[key] for r in runs) for key in keys if key in runs[0]}
        summary[side]["runs"] = len(runs)
    if "terminal" in summary and "job" in summary:
        t, j = summary["terminal"], summary["job"]
        summary["ratio"] = {key: j[key] / t[key] for key in ("steps_per_s_median", "steps_per_s_mean",
                                                             "wall_steps_per_s")}
        pairs = list(zip(by_side["terminal"], by_side["job"]))
        summary["pair_ratios"] = [r_j["steps_per_s_median"] / r_t["steps_per_s_median"] for r_t, r_j in pairs]
        summary["pair_wall_ratios"] = [r_j["wall_steps_per_s"] / r_t["wall_steps_per_s"] for r_t, r_j in pairs]
        summary["pair_ratio_median"] = statistics.median(summary["pair_ratios"])
        summary["pair_wall_ratio_median"] = statistics.median(summary["pair_wall_ratios"])
        summary["cpu_per_step_ratio"] = j["train_cpu_s"] / t["train_cpu_s"]
    return summary


def fmt(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def format_tables(results: list[dict], summary: dict, probe: dict) -> str:
    lines = ["| run | side | load 1 min | steps/s (median) | steps/s (mean) | wall steps/s | first step s | "
             "-> process s | -> setup done s | end-to-end s | training CPU s | server CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for number, r in enumerate(results, 1):
        lines.append(f"| {number} | {r['side']} | {r['load_1min']:.2f} | {r['steps_per_s_median']:.2f} | "
                     f"{r['steps_per_s_mean']:.2f} | {r['wall_steps_per_s']:.2f} | {r['first_step']:.2f} | "
                     f"{r['process_started']:.2f} | {r['setup_done']:.2f} | {r['end_s']:.1f} | "
                     f"{r['train_cpu_s']:.1f} | {fmt(r.get('server_cpu_s'), '.2f')} |")
    lines += ["", "Medians per side:", "",
              "| side | runs | steps/s (median) | steps/s (mean) | wall steps/s | first step s | -> process s | "
              "-> setup done s | end-to-end s | training CPU s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for side in ("terminal", "job"):
        if side in summary:
            s = summary[side]
            lines.append(f"| {side} | {s['runs']} | {s['steps_per_s_median']:.2f} | {s['steps_per_s_mean']:.2f} | "
                         f"{s['wall_steps_per_s']:.2f} | {s['first_step']:.2f} | {s['process_started']:.2f} | "
                         f"{s['setup_done']:.2f} | {s['end_s']:.1f} | {s['train_cpu_s']:.1f} |")
    if "ratio" in summary:
        r = summary["ratio"]
        lines.append(f"| job / terminal | | {r['steps_per_s_median']:.3f} | {r['steps_per_s_mean']:.3f} | "
                     f"{r['wall_steps_per_s']:.3f} | | | | | {summary['cpu_per_step_ratio']:.3f} |")
    if probe:
        lines += ["", "Start-up of one training process, broken down (the probe: in-process, same settings):", "",
                  "| phase | s |", "|---|---|"]
        lines += [f"| {phase} | {seconds:.2f} |" for phase, seconds in probe.items()]
    return "\n".join(lines)


def verdict(summary: dict) -> str:
    """Judged on the median of the adjacent pairs' ratios (terminal run i against job run i, minutes apart): the
    machine's drift between rounds cancels in a pair, not in the ratio of the two sides' medians."""
    if "ratio" not in summary:
        return "Target not judged: both sides are needed."
    ratio, wall = summary["pair_ratio_median"], summary["pair_wall_ratio_median"]
    pairs = ", ".join(f"{value:.3f}" for value in summary["pair_ratios"])
    wall_pairs = ", ".join(f"{value:.3f}" for value in summary["pair_wall_ratios"])
    met = "**MET**" if ratio >= TARGET_RATIO else "**NOT MET**"
    wall_met = "met" if wall >= TARGET_RATIO else "not met"
    job, terminal = summary["job"], summary["terminal"]
    return (f"Target (the job's steps/s within 5% of `shoegen train` in a terminal: job / terminal at least "
            f"{TARGET_RATIO}): {met} on the median per-step steps/s, job / terminal {ratio:.3f} (median of the "
            f"adjacent pairs {pairs}; ratio of the two sides' medians {summary['ratio']['steps_per_s_median']:.3f}); "
            f"on wall-clock steps/s over the whole run {wall:.3f}, {wall_met} (pairs {wall_pairs}; ratio of "
            f"medians {summary['ratio']['wall_steps_per_s']:.3f}); the training process's CPU time, the least "
            f"load-sensitive figure, job / terminal {summary['cpu_per_step_ratio']:.3f} (medians "
            f"{job['train_cpu_s']:.1f} s and {terminal['train_cpu_s']:.1f} s for the whole run), the server's own "
            f"CPU time beside it {job['server_cpu_s']:.2f} s. Time to the first step: {job['first_step']:.2f} s "
            f"from the POST for the job against {terminal['first_step']:.2f} s from the process start in the "
            f"terminal (medians); the job's training process started {job['process_started']:.2f} s after the POST "
            f"(the worker looks for jobs every 0.5 s), the rest is the same start-up as the terminal's (the probe's "
            f"table).{noise_note(summary)}")


def noise_note(summary: dict) -> str:
    pairs = summary["pair_ratios"]
    spread = max(pairs) - min(pairs)
    if spread <= 2 * (1 - TARGET_RATIO):
        return ""
    return (f" The pairs spread over {min(pairs):.3f}-{max(pairs):.3f}, wider than the 5% band: on this machine's "
            f"load the steps/s verdict is indicative only; the CPU-time ratio is the figure that resolves 5%.")


def record_results(report: dict, tables: str, verdict_line: str) -> Path:
    json_path = save_report("train_job_bench", report)
    m, s = report["machine"], report["settings"]
    write_section(f"train_job_bench {report['date']} {s['device']} {s['base']} threads-{s['threads']}", [
        f"## Training as a job — {report['date']} {report['time_utc']} UTC, {s['device']}",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores (`nproc` {report['nproc']}), {m['ram_gib']} GiB RAM, device "
        f"{m['device']}; threads {s['threads']} "
        + ("(OpenMP variables unset: what a user gets)" if s['threads'] == 'default' else
           f"(OMP_NUM_THREADS={s['threads']} for the server and both sides' training processes: at the default, two "
           "threads on 2 cores, torch's spin-waiting threads make single steps many times slower whenever other "
           "processes take a core, so a shared machine's figures would say nothing)"),
        f"- Load: `uptime` at the start: {report['uptime_start']}; at the end: {report['uptime_end']} (other "
        "agents' tests and builds were using the CPU; 1-minute load at each run in the first table)",
        f"- Software: Python {m['python']}, torch {m['torch']}, diffusers {m['diffusers']}, transformers "
        f"{m['transformers']}, peft {m['peft']}",
        f"- Command: `{report['command']}`",
        f"- Settings: base `{s['base']}`, {s['resolution']} px, recipe `{RECIPE}` with {s['settings']} (checkpoint "
        f"and validation at the last step only), {s['images']} rendered images; {s['rounds']} rounds alternating "
        f"terminal, job; per-step figures after {s['warmup_steps']} warm-up steps; the terminal side without "
        f"--quiet{' (here with --quiet)' if s['terminal_quiet'] else ''}, the job side's worker with --quiet; "
        f"server warm-up {'on (the default: the base is loaded for generation before the server is ready, outside the timings)' if s['server_warm_up'] else 'off'}; "
        f"run.yaml of the two sides: {'identical but for the output folder' if not report['config_differences'] else 'DIFFER: ' + '; '.join(report['config_differences'])}",
        f"- Raw numbers: `{json_path.relative_to(BENCHMARKS_DIR.parent)}`",
        "",
        tables,
        "",
        verdict_line,
    ])
    return json_path


def rerender(path: Path) -> int:
    """Print and record again a report from its JSON (e.g. after a change to the tables or the verdict)."""
    report = json.loads(path.read_text())
    summary = summarise(report["results"])
    tables, verdict_line = format_tables(report["results"], summary, report["probe"]), verdict(summary)
    print(tables + "\n\n" + verdict_line)
    report |= {"summary": summary, "verdict": verdict_line}
    record_results(report, tables, verdict_line)
    log(f"\nrecorded again in {RESULTS_FILE} and {RESULTS_FILE.parent / 'results'}")
    return 0


def run_all(args) -> int:
    if args.report:
        return rerender(Path(args.report))
    now = datetime.now(timezone.utc)
    uptime_start = uptime()
    log(f"start: {uptime_start}")
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="shoegen-train-job-bench-"))
    (work_dir / "terminal").mkdir(parents=True, exist_ok=True)
    (work_dir / "models").mkdir(parents=True, exist_ok=True)
    env = child_env(args)
    results: list[dict] = []
    probe: dict = {}
    config_differences: list[str] = []
    try:
        dataset = prepare(args, work_dir, env)
        order = ["terminal", "job"] if args.first == "terminal" else ["job", "terminal"]
        for index in range(1, args.rounds + 1):
            for side in order:
                log(f"round {index}/{args.rounds}: {side} ...")
                result = (run_terminal(args, index, dataset, work_dir, env) if side == "terminal"
                          else run_job(args, index, work_dir, env))
                results.append(result)
                log(f"  {result['steps_per_s_median']:.2f} steps/s (median), {result['wall_steps_per_s']:.2f} wall, "
                    f"first step at {result['first_step']:.2f} s, load {result['load_1min']:.2f}")
        terminal_yaml = next(Path(r["config"]) for r in results if r["side"] == "terminal")
        job_yaml = next(Path(r["config"]) for r in results if r["side"] == "job")
        config_differences = compare_configs(terminal_yaml, job_yaml)
        if config_differences:
            log("the two sides' run.yaml differ: " + "; ".join(config_differences))
        if not args.no_probe:
            log("probe: where the start-up goes ...")
            probe = run_probe(args, dataset, work_dir, env)
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    uptime_end = uptime()
    log(f"end: {uptime_end}")
    summary = summarise(results)
    tables, verdict_line = format_tables(results, summary, probe), verdict(summary)
    print("\n" + tables + "\n\n" + verdict_line)
    if not args.no_record:
        loads = [r["load_1min"] for r in results]
        report = {**report_header("train_job_bench", now), "nproc": usable_cores(),
                  "machine": machine_info(args.device, [], max(loads)), "uptime_start": uptime_start,
                  "uptime_end": uptime_end,
                  "settings": {**{key: getattr(args, key) for key in (
                      "base", "resolution", "images", "steps", "rounds", "warmup_steps", "threads", "device",
                      "server_warm_up", "terminal_quiet", "first", "settle")}, "settings": run_settings(args),
                      "recipe": RECIPE},
                  "config_differences": config_differences, "results": results, "summary": summary, "probe": probe,
                  "verdict": verdict_line}
        json_path = record_results(report, tables, verdict_line)
        log(f"\nrecorded in {RESULTS_FILE} and {json_path}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Training as a job (issue 16): the same LoRA run (recipe quick-test with --steps steps, "
                    "checkpoint and validation at the end only, on rendered sample data) trained by `shoegen train` "
                    "in a subprocess, as a user runs it in a terminal, and as a job of a real `shoegen serve` "
                    "(POST /api/runs; role all; otherwise idle), alternating over --rounds rounds. Reports steps/s "
                    "from the train log's per-step seconds (median after a warm-up), wall-clock steps/s over the "
                    "whole run, their ratio job / terminal (target: at least 0.95), and the time from the start "
                    "(process start / POST) to the first logged step, broken down. Prints tables and records them "
                    "in benchmarks/RESULTS.md and benchmarks/results/*.json. Run from the repository root with "
                    "the project's .venv.",
        epilog="example: .venv/bin/python benchmarks/train_job_bench.py --rounds 3 --steps 300   "
               "(quick look: --rounds 1 --steps 60 --no-record)")
    parser.add_argument("--base", default="tiny", choices=["tiny", "demo"],
                        help="built-in base (default tiny; demo is built first when not cached, ~11 min on 2 cores)")
    parser.add_argument("--resolution", type=int, default=64, help="size of the rendered images (default 64, the "
                        "recipe's resolution)")
    parser.add_argument("--images", type=int, default=64, help="rendered training images (default 64)")
    parser.add_argument("--steps", type=int, default=300, help="max_train_steps of every run (default 300)")
    parser.add_argument("--batch-size", type=int, help="train_batch_size (default: the recipe's, 4)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per side, alternating (default 3)")
    parser.add_argument("--first", choices=["terminal", "job"], default="terminal",
                        help="which side starts each round (default terminal)")
    parser.add_argument("--warmup-steps", type=int, default=20,
                        help="first steps of each run left out of the per-step figures (default 20)")
    parser.add_argument("--threads", default="default",
                        help="'default' (OpenMP variables unset: what a user gets; default) or N "
                             "(OMP_NUM_THREADS=N for the server and both sides' training processes)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cpu (default; CUDA_VISIBLE_DEVICES is emptied) or cuda (whatever torch picks)")
    parser.add_argument("--no-server-warm-up", dest="server_warm_up", action="store_false",
                        help="start the server with SHOEGEN_WARM_UP=false (default: warm-up on, as `shoegen serve`)")
    parser.add_argument("--terminal-quiet", action="store_true",
                        help="pass --quiet to the terminal side too (default: progress bars on, as a user runs it)")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds to wait after the server is ready before the POST (default 2)")
    parser.add_argument("--timeout", type=float, default=600, help="longest wait for a run's first step (s)")
    parser.add_argument("--no-probe", action="store_true", help="skip the start-up breakdown probe")
    parser.add_argument("--work-dir", help="keep data, run folders and logs here (default: a temporary folder, "
                        "deleted afterwards)")
    parser.add_argument("--no-record", action="store_true", help="only print; do not touch RESULTS.md or results/")
    parser.add_argument("--report", metavar="JSON", help="run nothing: print and record again the report of "
                        "results/train_job_bench-*.json JSON (its section in RESULTS.md is replaced)")
    args = parser.parse_args(argv)
    if args.threads != "default" and not args.threads.isdigit():
        parser.error("--threads: 'default' or a number")
    if args.warmup_steps >= args.steps:
        parser.error("--warmup-steps must be below --steps")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_all(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
