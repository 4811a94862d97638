"""What a user gets from the CLI's thread defaults: `shoegen train`, `shoegen generate` and `shoegen serve` run as
a user runs them (real processes, the built-in tiny base at 64 px, CPU), under each OpenMP setting.

Settings compared (interleaved, so the machine's drift hits all of them alike):
- `passive`: OMP_WAIT_POLICY=PASSIVE, what every command ran under until the CLI stopped setting it;
- `default`: nothing set, what the CLI leaves to torch now (except where a command chooses otherwise);
- `1-thread`: OMP_NUM_THREADS=1.
Measured: training steps per second (median step time from the run's own log, 300 steps, batch 2, no
accumulation, 64 captioned images), `shoegen generate` wall time (4 images, 30 steps), and through `shoegen
serve`, the latency of /api/generate (4 images, 30 steps) and of /api/health asked every 20 ms meanwhile (how
responsive the API stays while the worker generates), and the wall time of a shortened `shoegen base pretrain`
(200 photos, 50 autoencoder and 20 UNet steps).

    .venv/bin/python benchmarks/cli_defaults.py [--repeats 3] [--commands train,generate,serve,pretrain]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import report_header, save_report, write_section  # noqa: E402

SETTINGS = {"passive": {"OMP_WAIT_POLICY": "PASSIVE"}, "default": {}, "1-thread": {"OMP_NUM_THREADS": "1"}}
THREAD_VARIABLES = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")
SHOEGEN = [sys.executable, "-m", "shoegen.cli.main"]
PROMPT = "A professional product photo of red suede boots, centered on white background"
TRAIN_STEPS = 300
GENERATE = {"prompt": PROMPT, "num_images": 4, "num_inference_steps": 30, "seed": 1}


def environment(setting: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    return clean | {"HF_HUB_OFFLINE": "1"} | SETTINGS[setting]


def shoegen(*args: str, setting: str = "default", cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run([*SHOEGEN, *args], env=environment(setting), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure_train(work: Path, setting: str, index: int) -> dict:
    output = work / f"run-{setting}-{index}"
    wall = shoegen("train", "--base-model", "tiny", "--dataset_path", str(work / "data"), "--output_dir",
                   str(output), "--resolution", "64", "--train_batch_size", "2", "--gradient_accumulation_steps", "1",
                   "--max_train_steps", str(TRAIN_STEPS), "--learning_rate", "1e-4", "--lr_warmup_steps", "0",
                   "--checkpointing_steps", "100000", "--validation_steps", "100000", "--num_validation_images", "0",
                   "--quiet", setting=setting)
    records = [json.loads(line) for line in (output / "logs" / "train_log.jsonl").read_text().splitlines()]
    step_seconds = [r["seconds"] for r in records if "seconds" in r][10:]  # the first steps warm up
    return {"steps_per_s": 1 / statistics.median(step_seconds), "wall_s": wall}


def measure_generate(work: Path, setting: str, index: int) -> dict:
    wall = shoegen("generate", PROMPT, "-n", "4", "--steps", "30", "--seed", "1", "--base-model", "tiny",
                   "--output", str(work / f"gen-{setting}-{index}"), setting=setting)
    return {"wall_s": wall}


def measure_pretrain(work: Path, setting: str, index: int) -> dict:
    """A small `shoegen base pretrain` (the demo base's recipe, shortened): both of its training stages."""
    wall = shoegen("base", "pretrain", str(work / f"base-{setting}-{index}"), "--images", "200", "--vae-steps", "50",
                   "--unet-steps", "20", setting=setting)
    return {"wall_s": wall}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_serve(work: Path, setting: str, index: int) -> dict:
    port = free_port()
    data = work / f"serve-{setting}-{index}"
    server = subprocess.Popen([*SHOEGEN, "serve", "--base-model", "tiny", "--port", str(port), "--data-dir",
                               str(data), "--models-dir", str(work / "runs-none")], env=environment(setting),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            client.post("/api/generate", json=GENERATE).raise_for_status()  # warm-up
            health, stop = [], threading.Event()

            def poll() -> None:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as poller:
                    while not stop.is_set():
                        started = time.perf_counter()
                        poller.get("/api/health")
                        health.append(time.perf_counter() - started)
                        stop.wait(0.02)

            watcher = threading.Thread(target=poll)
            watcher.start()
            latencies = []
            for _ in range(3):
                started = time.perf_counter()
                client.post("/api/generate", json=GENERATE).raise_for_status()
                latencies.append(time.perf_counter() - started)
            stop.set()
            watcher.join()
    finally:
        server.terminate()
        server.wait(30)
    health.sort()
    return {"generate_s": statistics.median(latencies), "health_p50_ms": 1000 * health[len(health) // 2],
            "health_p95_ms": 1000 * health[int(len(health) * 0.95)]}


MEASURES = {"train": measure_train, "generate": measure_generate, "serve": measure_serve,
            "pretrain": measure_pretrain}


def medians(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def table(results: dict) -> list[str]:
    lines = ["| command | figure | " + " | ".join(SETTINGS) + " |", "|---|---|" + "---|" * len(SETTINGS)]
    for command, by_setting in results.items():
        for figure in next(iter(by_setting.values())):
            cells = [f"{by_setting[s][figure]:.3g}" for s in SETTINGS]
            lines.append(f"| {command} | {figure} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command under each setting")
    parser.add_argument("--commands", default="train,generate,serve,pretrain",
                        help="comma-separated, of train,generate,serve,pretrain")
    args = parser.parse_args(argv)
    commands = args.commands.split(",")
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="shoegen-cli-defaults-") as folder:
        work = Path(folder)
        shoegen("sample-data", str(work / "data"), "--count", "64", "--size", "64", "--seed", "0")
        runs: dict[str, dict[str, list[dict]]] = {c: {s: [] for s in SETTINGS} for c in commands}
        for index in range(args.repeats):
            for command in commands:
                for setting in SETTINGS:
                    print(f"run {index + 1}/{args.repeats}: {command} under {setting}", file=sys.stderr, flush=True)
                    runs[command][setting].append(MEASURES[command](work, setting, index))
    results = {c: {s: medians(runs[c][s]) for s in SETTINGS} for c in commands}
    report = report_header("cli_defaults", started) | {"cores": os.cpu_count(), "results": results, "runs": runs}
    json_path = save_report("cli_defaults", report)
    lines = [f"## CLI thread defaults — {report['date']} {report['time_utc']} UTC, CPU", "",
             f"- Machine: {os.cpu_count()} cores; command: `{report['command']}`; medians of {args.repeats} "
             f"interleaved runs; raw numbers: `{json_path.relative_to(json_path.parents[1])}`.", "", *table(results)]
    write_section(f"cli_defaults-{report['date']}", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
