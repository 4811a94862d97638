"""A real `shoegen serve` process on a loopback port, and helpers for talking to it over HTTP."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
API_KEY = "secret-key"
PROMPT = "A professional product photo of black casual shoes, centered on white background"
# The original system's /api/generate body, at the tiny model's size.
GENERATE = {"model_name": None, "prompt": PROMPT, "num_images": 1, "num_inference_steps": 2,
            "guidance_scale": 7.5, "seed": 7, "width": 64, "height": 64}
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the test process dies without its teardown (e.g. killed)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


class LiveServer:
    """One `shoegen serve` process; its stdout and stderr go to `log_path`."""

    def __init__(self, models_dir: Path, data_dir: Path, log_path: Path, env: dict[str, str] | None = None):
        self.models_dir, self.data_dir, self.log_path = models_dir, data_dir, log_path
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.port = free_port()
        # Only the SHOEGEN_* settings a test asks for: nothing from the developer's shell leaks in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOEGEN_") or k == "SHOEGEN_CACHE_DIR"}
        env.pop("MODELS_DIR", None)
        env.update({"PYTHONUNBUFFERED": "1", **self.env})
        command = [sys.executable, "-m", "shoegen.cli.main", "serve", "--port", str(self.port), "--base-model", "tiny",
                   "--models-dir", str(self.models_dir), "--data-dir", str(self.data_dir)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"server did not answer /api/health in {STARTUP_SECONDS} s:\n{self.log()}")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then SIGKILL if it has not exited after `timeout` seconds; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
        return self.process.returncode if self.process else 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, headers=headers)


def decode_png(data: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
    assert image.format == "PNG"
    image.load()
    return image


def png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def generate_pixels(client: httpx.Client, **changes) -> np.ndarray:
    response = client.post("/api/generate", json={**GENERATE, **changes})
    assert response.status_code == 200, response.text
    return pixels(decode_png(response.json()["images"][0]["image"]))


def sse_events(client: httpx.Client, job_id: str, last_event_id: str | None = None) -> Iterator[tuple[str, dict]]:
    """(event name, data) of a job's text/event-stream, until the server ends it."""
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    with client.stream("GET", f"/api/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name, data = None, []
        for line in response.iter_lines():
            if line.startswith(":"):
                continue  # keep-alive comment
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").strip())
            elif line == "" and name is not None:
                yield name, json.loads("\n".join(data) or "{}")
                name, data = None, []


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "error", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def wait_for_run(client, name: str, done, timeout: float = 240.0) -> dict:
    """GET /api/runs/{name} until `done(run)` (any client: TestClient or httpx)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{name}").json()
        if done(run):
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {name} did not get there in {timeout} s: {run}")
