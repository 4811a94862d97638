"""benchmarks/RESULTS.md and benchmarks/results/: where every benchmark script records what it measured."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from datetime import datetime
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCHMARKS_DIR / "RESULTS.md"
RESULTS_JSON_DIR = BENCHMARKS_DIR / "results"

RESULTS_INTRO = """# Benchmark results

Figures measured by the scripts in `benchmarks/` (see `benchmarks/README.md`), newest section last. Each
section records its date (UTC), the machine, the exact command and the table the script printed; the
machine-readable numbers of every run are in `benchmarks/results/`.

- **Training throughput** (`train_throughput.py`): optimizer steps per second and peak memory of shoegen's
  trainer against a straightforward diffusers LoRA training loop (encode images and captions every step, as
  diffusers' `train_text_to_image_lora.py` does) on the same base, data and settings. `tiny` is the built-in
  tiny base at 64 px; `sd15-small` is SD1.5's UNet block structure with narrow channels at 128 px;
  `sd15-full` is the full SD1.5 architecture (random weights) at 512 px in fp16 on a GPU. Target: shoegen at
  least 2x faster on `tiny`.
- **Service** (`service_bench.py`): latency and throughput of `shoegen serve` against in-process diffusers and
  adapter switching against reloading, on the built-in tiny base on a CPU.
- **Generation speed** (`generation_speed.py`): the same questions at SD1.5's real size on a GPU (the Engine
  against diffusers at 512 px, batching, adapter switching).
- **Score speed** (`score_speed.py`): seconds per image of the model-based scores (tiny CLIP and DINOv2 by
  default) and the catalogue scores, against one 20-step generation on the tiny base.
- **Queue** (`queue_bench.py`): 50 concurrent clients on the durable job queue, two replicas on PostgreSQL
  against one on SQLite (tiny base, 64 px): accepted jobs/s, p50/p95 submit -> done, 429 share, lost or
  duplicated jobs (must be 0).
- **Training as a job** (`train_job_bench.py`): the same LoRA run as a job of `shoegen serve` (POST /api/runs)
  against `shoegen train` in a terminal, alternating: steps/s (target: within 5%) and the time to the first step.
- **Generation modes** (`modes_bench.py`): seconds per image of img2img, inpaint, background replacement, outpaint
  and the hires fix against plain txt2img on the same base, size and steps (tiny base, 64 and 128 px, CPU), cases
  interleaved over rounds; hires returns a 2x image and outpaint a 16:9 one. Plus the product-mask search alone.
"""


def report_header(script: str, started: datetime) -> dict:
    """What every report starts with: the script, when it started (UTC) and the command line that ran it."""
    return {"benchmark": script, "timestamp": started.strftime("%Y-%m-%dT%H%M%SZ"),
            "date": started.strftime("%Y-%m-%d"), "time_utc": started.strftime("%H:%M"),
            "command": shlex.join([os.path.relpath(sys.executable),
                                   os.path.relpath(BENCHMARKS_DIR / f"{script}.py"), *sys.argv[1:]])}


def save_report(script: str, report: dict) -> Path:
    """The raw numbers as results/<script>-<timestamp>.json; returns that path."""
    RESULTS_JSON_DIR.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS_JSON_DIR / f"{script}-{report['timestamp']}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    return json_path


def write_section(key: str, lines: list[str]) -> None:
    """Put `lines` into RESULTS.md between markers named `key`: the same benchmark on the same day and
    machine replaces its earlier section, anything else is appended."""
    start, end = f"<!-- section: {key} -->", f"<!-- end section: {key} -->"
    section = "\n".join([start, *lines, end])
    text = RESULTS_FILE.read_text() if RESULTS_FILE.is_file() else RESULTS_INTRO
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS_FILE.write_text(text)


def log(message: str) -> None:
    """A benchmark's progress line, on stderr (stdout carries its table)."""
    print(message, file=sys.stderr, flush=True)


def uptime() -> str:
    """The machine's load as `uptime` prints it, recorded beside figures taken on a shared machine."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{value:.2f}" for value in os.getloadavg())
