"""Queue benchmark (issue 15): the durable job queue under concurrent clients, two replicas on PostgreSQL against
one replica on SQLite.

Sides (each on fresh data, the built-in tiny base at 64 px on the CPU, `--steps` denoising steps, 1 image a job):
  postgres-2  two `shoegen serve` processes on two loopback ports sharing one throwaway PostgreSQL cluster
              (tests/postgres_cluster.py: initdb + pg_ctl on a free loopback port, as the `postgres` user when
              run as root, removed after) and one data folder; clients alternate between them.
  sqlite-1    one `shoegen serve` with its default SQLite database in its data folder.

`--clients` threads (default 50) each loop: POST /api/jobs (a seed of its own); on 202 follow the job with
GET /api/jobs/{id} every `--poll` seconds until it has finished, then submit the next; on 429 wait Retry-After
(at most `--max-retry-wait` s) and submit again. Bounded in count and time: at most `--max-submits` POSTs in all
and none after `--duration` seconds; jobs accepted by then are waited for (at most `--drain-timeout` s).

Figures per side: accepted jobs per second (accepted jobs / seconds from the first POST to the last job done),
p50/p95 latency submit -> done (the job row's created_at to finished_at, the servers' clocks), the share of POSTs
answered 429, other errors (5xx, transport), and jobs lost or duplicated, which must be 0: every accepted id is
done in the database with exactly one gallery image, no id was accepted twice, the database holds no done job
nobody was told about, and the image folder holds exactly the gallery's files.

Run from the repository root:  .venv/bin/python benchmarks/queue_bench.py [--sides postgres-2,sqlite-1]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import httpx
from results_file import (BENCHMARKS_DIR, RESULTS_FILE, log, report_header, save_report,
                          write_section)

sys.path.insert(0, str(BENCHMARKS_DIR))
sys.path.insert(0, str(BENCHMARKS_DIR.parent / "tests"))  # the tests' throwaway PostgreSQL cluster
from postgres_cluster import PostgresUnavailable, start_cluster  # noqa: E402
from service_bench import LoadTracker, child_env, free_port  # noqa: E402
from train_throughput import machine_info  # noqa: E402

SIZE = 64
PROMPT = "A professional product photo of black casual shoes, centered on white background"
FINISHED = ("done", "error", "cancelled")


class Replica:
    """One `shoegen serve` on a free loopback port."""

    def __init__(self, work_dir: Path, data_dir: Path, env: dict[str, str], name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = (work_dir / f"serve-{name}.log").open("w")
        command = [str(Path(sys.executable).parent / "shoegen"), "serve", "--host", "127.0.0.1", "--port",
                   str(self.port), "--base-model", "tiny", "--models-dir", str(work_dir / "models"), "--data-dir",
                   str(data_dir)]
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"shoegen serve exited ({self.process.returncode}): see {self._log.name}")
            try:
                if httpx.get(self.url + "/api/health", timeout=5).json().get("status") == "ok":
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.3)
        raise SystemExit(f"shoegen serve did not answer within {timeout} s: see {self._log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


class Load:
    """The clients: shared bounds and what they saw."""

    def __init__(self, urls: list[str], args):
        self.urls, self.args = urls, args
        self.lock = threading.Lock()
        self.submits = 0
        self.statuses: Counter[str] = Counter()
        self.accepted: list[str] = []
        self.unfinished: list[str] = []
        self.deadline = 0.0

    def _take_submit(self) -> bool:
        with self.lock:
            if self.submits >= self.args.max_submits or time.monotonic() >= self.deadline:
                return False
            self.submits += 1
            return True

    def client(self, index: int) -> None:
        args = self.args
        url = self.urls[index % len(self.urls)]
        body = {"prompt": PROMPT, "num_images": 1, "num_inference_steps": args.steps, "width": SIZE,
                "height": SIZE, "guidance_scale": 7.5}
        with httpx.Client(base_url=url, timeout=60) as http:
            attempt = 0
            while self._take_submit():
                attempt += 1
                try:
                    response = http.post("/api/jobs", json={**body, "seed": index * 100_000 + attempt})
                except httpx.HTTPError as error:
                    with self.lock:
                        self.statuses[type(error).__name__] += 1
                    time.sleep(0.5)
                    continue
                with self.lock:
                    self.statuses[str(response.status_code)] += 1
                if response.status_code == 429:
                    time.sleep(min(float(response.headers.get("Retry-After", 1)), args.max_retry_wait))
                    continue
                if response.status_code != 202:
                    time.sleep(0.5)
                    continue
                job_id = response.json()["id"]
                with self.lock:
                    self.accepted.append(job_id)
                if not self._follow(http, job_id):
                    with self.lock:
                        self.unfinished.append(job_id)

    def _follow(self, http: httpx.Client, job_id: str) -> bool:
        """Poll the job until it has finished (another client's replica may run it); False after the drain."""
        give_up = self.deadline + self.args.drain_timeout
        while time.monotonic() < give_up:
            time.sleep(self.args.poll)
            try:
                if http.get(f"/api/jobs/{job_id}").json()["status"] in FINISHED:
                    return True
            except (httpx.HTTPError, ValueError, KeyError):
                pass
        return False


def audit(database_url: str, image_dir: Path, accepted: list[str]) -> dict:
    """Lost and duplicated jobs, from the database and the image folder (not from what the API said)."""
    from shoegen.storage import Gallery, JobStore

    with Gallery(database_url, image_dir) as gallery:
        store = JobStore(gallery)
        jobs = {job_id: store.get(job_id) for job_id in set(accepted)}
        images_per_job = Counter(image.job_id for image in gallery.iter_images())
        image_ids = {image.id for image in gallery.iter_images()}
        done_in_db = {job.id for job in store.list(status="done", limit=10**6)}
    files = {path.stem for path in image_dir.rglob("*.png")}
    latencies = [(job.finished_at - job.created_at).total_seconds() for job in jobs.values()
                 if job is not None and job.status == "done"]
    return {
        "lost": sorted(job_id for job_id, job in jobs.items()
                       if job is None or job.status != "done" or images_per_job[job_id] == 0),
        "duplicated": sorted({job_id for job_id in accepted if accepted.count(job_id) > 1}
                             | {job_id for job_id in jobs if images_per_job[job_id] > 1}),
        "unreported_done": sorted(done_in_db - set(accepted)),
        "orphan_files": len(files - image_ids), "missing_files": len(image_ids - files),
        "statuses": dict(Counter(job.status if job else "missing" for job in jobs.values())),
        "latencies": latencies,
    }


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_side(side: str, args, work_dir: Path, load: LoadTracker) -> dict:
    kind, count = side.split("-")
    data_dir = work_dir / f"data-{side}"
    env = child_env(args.threads) | {"SHOEGEN_QUEUE_SIZE": str(args.queue_size),
                                     "SHOEGEN_MAX_BATCH": str(args.max_batch)}
    env = {k: v for k, v in env.items() if not k.startswith("SHOEGEN_") or k in (
        "SHOEGEN_QUEUE_SIZE", "SHOEGEN_MAX_BATCH", "SHOEGEN_CACHE_DIR")}
    cluster = None
    if kind == "postgres":
        cluster = start_cluster()
        database_url = cluster.create_database()
        env["SHOEGEN_DATABASE_URL"] = database_url
    else:
        database_url = f"sqlite:///{(data_dir / 'gallery.db').resolve()}"
    replicas: list[Replica] = []
    try:
        for number in range(int(count)):
            replicas.append(Replica(work_dir, data_dir, env, f"{side}-{number}"))
            replicas[-1].wait_ready()  # one after the other: both migrating at once is the tests' business
        clients = Load([replica.url for replica in replicas], args)
        threads = [threading.Thread(target=clients.client, args=(n,), daemon=True) for n in range(args.clients)]
        log(f"{side}: {args.clients} clients, at most {args.max_submits} submits in {args.duration} s")
        load.sample()
        started = time.monotonic()
        clients.deadline = started + args.duration
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.duration + args.drain_timeout + 120)
        wall = time.monotonic() - started
        load.sample()
    finally:
        for replica in replicas:
            replica.stop()
    try:
        found = audit(database_url, data_dir / "images", clients.accepted)
    finally:
        if cluster is not None:
            cluster.stop()
    latencies = found.pop("latencies")
    posts = sum(clients.statuses.values())
    result = {
        "side": side, "replicas": int(count), "database": kind, "posts": posts,
        "statuses": dict(clients.statuses), "accepted": len(clients.accepted), "seconds": wall,
        "accepted_per_s": len(clients.accepted) / wall, "share_429": clients.statuses["429"] / posts if posts else 0,
        "errors": posts - clients.statuses["202"] - clients.statuses["429"],
        "p50_s": percentile(latencies, 0.5), "p95_s": percentile(latencies, 0.95),
        "unfinished_by_clients": len(clients.unfinished), **found,
    }
    log(f"  {result['accepted']} accepted of {posts} posts in {wall:.1f} s, lost {len(result['lost'])}, "
        f"duplicated {len(result['duplicated'])}")
    return result


def format_table(results: list[dict]) -> str:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = ["| side | POSTs | accepted | accepted jobs/s | p50 s | p95 s | 429 share | other errors | lost | "
             "duplicated |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        name = {"postgres": "PostgreSQL", "sqlite": "SQLite"}[r["database"]]
        lines.append(f"| {r['replicas']} replica{'s' if r['replicas'] > 1 else ''} + {name} | {r['posts']} | "
                     f"{r['accepted']} | {r['accepted_per_s']:.2f} | {seconds(r['p50_s'])} | {seconds(r['p95_s'])} "
                     f"| {100 * r['share_429']:.0f}% | {r['errors']} | {len(r['lost'])} | "
                     f"{len(r['duplicated']) + len(r['unreported_done'])} |")
    return "\n".join(lines)


def verdicts(results: list[dict]) -> list[str]:
    lines = []
    for r in results:
        clean = not (r["lost"] or r["duplicated"] or r["unreported_done"] or r["orphan_files"]
                     or r["missing_files"] or r["errors"])
        lines.append(f"- {r['side']}: {'PASS' if clean else 'FAIL'} (target: 0 lost, 0 duplicated, no 5xx; "
                     f"{len(r['lost'])} lost, {len(r['duplicated']) + len(r['unreported_done'])} duplicated or "
                     f"unreported, {r['orphan_files']} orphan files, {r['errors']} other errors)")
    return lines


def record_results(report: dict, table: str, verdict_lines: list[str]) -> Path:
    json_path = save_report("queue_bench", report)
    m, s = report["machine"], report["settings"]
    write_section(f"queue_bench {report['date']} cpu", [
        f"## Queue — {report['date']} {report['time_utc']} UTC, CPU",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; torch threads {s['threads']} per "
        f"server; 1-minute load average {report['load_min']:.2f}–{m['max_load_average_1min']} during the run",
        f"- Software: Python {m['python']}, torch {m['torch']}, diffusers {m['diffusers']}",
        f"- Command: `{report['command']}`",
        f"- Settings: built-in tiny base, {SIZE} px, {s['steps']} steps, 1 image a job; {s['clients']} clients, "
        f"at most {s['max_submits']} POSTs within {s['duration']} s; SHOEGEN_QUEUE_SIZE {s['queue_size']}, "
        f"SHOEGEN_MAX_BATCH {s['max_batch']}; latency = the job row's created_at to finished_at",
        f"- Raw numbers: `{json_path.relative_to(BENCHMARKS_DIR.parent)}`",
        "",
        table,
        "",
        *verdict_lines,
    ])
    return json_path


def run_all(args) -> int:
    now = datetime.now(timezone.utc)
    load = LoadTracker()
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="shoegen-queue-bench-"))
    (work_dir / "models").mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for side in args.sides.split(","):
            try:
                results.append(run_side(side, args, work_dir, load))
            except PostgresUnavailable as why:
                log(f"{side}: skipped, PostgreSQL cannot run here: {why}")
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    table, verdict_lines = format_table(results), verdicts(results)
    print("\n" + table + "\n\n" + "\n".join(verdict_lines))
    if not args.no_record:
        report = {**report_header("queue_bench", now), "machine": machine_info("cpu", [args.threads], max(load.samples)),
                  "load_min": min(load.samples), "load_samples": load.samples,
                  "settings": {key: getattr(args, key) for key in ("steps", "clients", "max_submits", "duration",
                                                                   "drain_timeout", "poll", "queue_size",
                                                                   "max_batch", "threads", "sides")},
                  "results": results, "verdicts": verdict_lines}
        json_path = record_results(report, table, verdict_lines)
        log(f"\nrecorded in {RESULTS_FILE} and {json_path}")
    return 0 if all("PASS" in line for line in verdict_lines) else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Queue benchmark (issue 15) on the built-in tiny base at 64 px (CPU, loopback only): "
                    "concurrent clients submitting jobs to two `shoegen serve` replicas sharing a throwaway "
                    "PostgreSQL against one replica on SQLite; accepted jobs/s, p50/p95 latency submit -> done, "
                    "share of 429s, jobs lost or duplicated (must be 0). Prints a table and records it in "
                    "benchmarks/RESULTS.md and benchmarks/results/*.json.")
    parser.add_argument("--sides", default="postgres-2,sqlite-1",
                        help="comma-separated DATABASE-REPLICAS sides (default postgres-2,sqlite-1)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent client threads (default 50)")
    parser.add_argument("--max-submits", type=int, default=400, help="POSTs in all, per side (default 400)")
    parser.add_argument("--duration", type=float, default=120, help="no POST after this many seconds (default 120)")
    parser.add_argument("--drain-timeout", type=float, default=300,
                        help="seconds to wait for accepted jobs after the submit window (default 300)")
    parser.add_argument("--steps", type=int, default=4, help="denoising steps per job (default 4)")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between a client's GETs (default 0.25)")
    parser.add_argument("--max-retry-wait", type=float, default=2.0,
                        help="longest wait on a 429's Retry-After, in seconds (default 2)")
    parser.add_argument("--queue-size", type=int, default=16, help="SHOEGEN_QUEUE_SIZE (default 16, the default)")
    parser.add_argument("--max-batch", type=int, default=4, help="SHOEGEN_MAX_BATCH (default 4, the default)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads per server (default 1)")
    parser.add_argument("--work-dir", help="keep server data and logs here; default: a temporary folder, deleted")
    parser.add_argument("--no-record", action="store_true", help="only print; do not touch RESULTS.md or results/")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_all(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
