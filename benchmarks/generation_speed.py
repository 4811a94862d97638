"""Generation speed at SD1.5's real size: shoegen's Engine against plain diffusers, on a GPU.

service_bench.py measures the service on the built-in tiny base on a CPU; this script measures what a user with
real weights gets: the full SD1.5 architecture at 512 px on `--device` (default cuda), in the Engine's dtype
(fp16 on CUDA), all in this process.

  1. latency   one image, DPM++ 2M Karras, `--steps` steps, guidance 7.5, fixed seed: `Engine.generate` against
               `StableDiffusionPipeline` in the same dtype with the same sampler (DPMSolverMultistepScheduler,
               dpmsolver++, Karras sigmas), with the base alone and then with adapter A (the Engine folds it into
               the weights; diffusers runs it as LoRA branches after `load_lora_weights`). The two alternate;
               median of `--runs` after one warm-up each.
  2. batch     `--batch` requests with different prompts and seeds in one `Engine.generate_many` call (what the
               service does with queued compatible requests): images/s against one image at a time, and the
               peak CUDA memory of the batch.
  3. adapters  service_bench.py's adapter measurement (the same code) on this base and size: cold first use, the
               cost of switching between two loaded adapters, and a fresh pipeline + LoRA from disk. The two
               adapters are trained for 2 steps on the same base first (`shoegen train`).

`--base sd15-full` (the default) is built into the work dir by train_throughput.py's `build_sd15_base`: SD1.5's
published UNet, VAE and CLIP ViT-L text-encoder configs with random weights (no hub is needed). Any base shoegen
accepts works too (`--base tiny --device cpu --size 64 --steps 4` is a quick check of the script itself).

Results are printed, written to benchmarks/results/generation_speed-<UTC timestamp>.json and recorded in
benchmarks/RESULTS.md.

Run from the repository root:  .venv/bin/python benchmarks/generation_speed.py [--runs 5 --batch 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from results_file import BENCHMARKS_DIR, RESULTS_FILE, report_header, save_report, write_section
from service_bench import (ADAPTER_A, GUIDANCE, PROMPTS, SAMPLER, SEED, LoadTracker, log, make_inprocess_pipeline,
                           measure_adapters, train_adapters)
from train_throughput import build_sd15_base, machine_info


def resolve_base(name: str, work_dir: Path) -> str:
    if name.startswith("sd15-"):
        log(f"building {name} (random weights) in {work_dir} ...")
        return str(build_sd15_base(name, work_dir / "bases" / name))
    return name


def timed(function) -> float:
    started = time.perf_counter()
    function()  # both sides return PIL images, so the device has finished when they return
    return time.perf_counter() - started


def measure_latency(engine, base: str, models_dir: Path, size: int, steps: int, runs: int) -> dict:
    """One image with the base alone, then with adapter A: the Engine (adapter folded into the weights)
    against diffusers (the adapter loaded with load_lora_weights, run as LoRA branches)."""
    import torch

    from shoegen.engine.engine import GenerationRequest
    from shoegen.training.runs import find_adapter

    pipe = make_inprocess_pipeline(base, engine.device, engine.dtype)

    def plain():
        return pipe(prompt=PROMPTS[0], num_inference_steps=steps, guidance_scale=GUIDANCE, width=size, height=size,
                    generator=torch.Generator("cpu").manual_seed(SEED)).images

    results = {}
    for label, model in (("base", None), ("adapter", ADAPTER_A)):
        if model:
            entry = find_adapter(models_dir, model)
            pipe.load_lora_weights(str(entry.path.parent), weight_name=entry.path.name, adapter_name="a")
        request = GenerationRequest(prompt=PROMPTS[0], model_name=model, num_inference_steps=steps, width=size,
                                    height=size, seed=SEED, guidance_scale=GUIDANCE, sampler=SAMPLER)
        ours, theirs = [], []
        for i in range(runs + 1):
            engine_s, diffusers_s = timed(lambda: engine.generate(request)), timed(plain)
            if i:
                ours.append(engine_s)
                theirs.append(diffusers_s)
            log(f"  {label} latency run {i}/{runs}{' (warm-up)' if not i else ''}: engine {engine_s:.3f} s, "
                f"diffusers {diffusers_s:.3f} s")
        ours_m, theirs_m = statistics.median(ours), statistics.median(theirs)
        results[label] = {"engine_s": ours, "diffusers_s": theirs, "engine_median_s": ours_m,
                          "diffusers_median_s": theirs_m, "overhead": (ours_m - theirs_m) / theirs_m}
    del pipe
    if engine.device.type == "cuda":
        torch.cuda.empty_cache()
    return results


def measure_batch(engine, size: int, steps: int, batch: int, runs: int, single_s: float) -> dict:
    import torch

    from shoegen.engine.engine import GenerationRequest

    requests = [GenerationRequest(prompt=PROMPTS[i % len(PROMPTS)], num_inference_steps=steps, width=size,
                                  height=size, seed=SEED + i, guidance_scale=GUIDANCE, sampler=SAMPLER)
                for i in range(batch)]
    if engine.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    seconds = [timed(lambda: engine.generate_many(requests)) for _ in range(runs)]
    median = statistics.median(seconds)
    return {"batch": batch, "seconds": seconds, "median_s": median, "images_per_s": batch / median,
            "single_images_per_s": 1 / single_s, "speedup": single_s * batch / median,
            "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if engine.device.type == "cuda" else None}


def format_table(settings: dict, lat: dict, bat: dict, ada: dict) -> str:
    size, steps = settings["size"], settings["steps"]
    ms = lambda seconds: f"{seconds * 1000:.0f} ms"  # noqa: E731
    rows = [
        "| measurement | shoegen | diffusers | ratio |", "|---|---|---|---|",
        *(f"| 1 image, {size} px, {steps} steps, {label}: median latency (Engine.generate vs "
          f"StableDiffusionPipeline{' + load_lora_weights' if label == 'adapter' else ''}) "
          f"| {ms(one['engine_median_s'])} | {ms(one['diffusers_median_s'])} | {one['overhead'] * 100:+.1f}% |"
          for label, one in lat.items()),
        f"| {bat['batch']} images in one generate_many call vs one at a time: images/s "
        f"| {bat['images_per_s']:.2f} | {bat['single_images_per_s']:.2f} | {bat['speedup']:.2f}x |",
        f"| adapter switch (1-step generate alternating A/B minus A/A, medians) vs fresh pipeline + LoRA from disk "
        f"| {ms(ada['switch_cost_s'])} | {ms(ada['reload_median_s'])} | "
        + (f"{ada['ratio_public']:.0f}x |" if ada["ratio_public"] else "switch below noise |"),
        f"| adapter switch, `Engine._activate` alone (median) | {ada['activate_direct_median_s'] * 1000:.1f} ms "
        f"| {ms(ada['reload_median_s'])} | {ada['ratio_direct']:.0f}x |",
        f"| adapter first use (cold), A / B | {ms(ada['cold_load_cost_s'][0])} / {ms(ada['cold_load_cost_s'][1])} "
        "| – | – |",
        f"| Engine base pipeline load (warm file cache) | {ms(ada['base_pipeline_load_s'])} | – | – |",
    ]
    if bat["cuda_peak_mib"] is not None:
        rows.append(f"| peak CUDA memory, batch of {bat['batch']} | {bat['cuda_peak_mib']:.0f} MiB | – | – |")
    return "\n".join(rows)


def record_results(report: dict, table: str) -> Path:
    json_path = save_report("generation_speed", report)
    m, s = report["machine"], report["settings"]
    write_section(f"generation_speed {report['date']} {m['device']} {s['base']}", [
        f"## Generation speed — {report['date']} {report['time_utc']} UTC, {m['device']}",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, device {m['device']}",
        f"- Software: Python {m['python']}, torch {m['torch']}, diffusers {m['diffusers']}, "
        f"transformers {m['transformers']}, peft {m['peft']}",
        f"- Command: `{report['command']}`",
        f"- Settings: base `{s['base']}`, {s['size']} px, {SAMPLER}, guidance {GUIDANCE}, {s['steps']} steps, "
        f"dtype {s['dtype']}; latency median of {s['runs']} alternating runs after one warm-up; batch median of "
        f"{s['runs']}; adapters (rank 8, trained 2 steps) switch/reload medians of {s['runs']}",
        f"- Raw numbers: `{json_path.relative_to(BENCHMARKS_DIR.parent)}`",
        "",
        table,
    ])
    return json_path


def run_all(args) -> None:
    import torch
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    from shoegen.engine.engine import Engine

    diffusers_logging.disable_progress_bar()
    diffusers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: this machine has no CUDA GPU; try --base tiny --device cpu --size 64")
    now = datetime.now(timezone.utc)
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="shoegen-generation-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    load = LoadTracker()
    try:
        base = resolve_base(args.base, work_dir)
        log("training two adapters (2 steps) ...")
        models_dir = train_adapters(work_dir, torch.get_num_threads(), base=base, size=args.size, device=args.device)
        engine = Engine(base, models_dir, device=args.device)
        engine.load()
        log(f"latency: 1 + {args.runs} runs each way, {args.steps} steps at {args.size} px")
        latency = measure_latency(engine, base, models_dir, args.size, args.steps, args.runs)
        log(f"batch of {args.batch}")
        batch = measure_batch(engine, args.size, args.steps, args.batch, args.runs,
                              latency["base"]["engine_median_s"])
        del engine
        log("adapters: switch vs reload")
        adapters = measure_adapters(models_dir, args.runs, load, base_model=base, size=args.size, device=args.device)
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    settings = {"base": args.base, "size": args.size, "steps": args.steps, "runs": args.runs, "batch": args.batch,
                "device": args.device, "dtype": "fp16" if args.device == "cuda" else "fp32"}
    table = format_table(settings, latency, batch, adapters)
    print("\n" + table)
    if args.no_record:
        return
    report = {
        **report_header("generation_speed", now),
        "machine": machine_info(args.device, [torch.get_num_threads()], max(load.samples)),
        "settings": settings, "latency": latency, "batch": batch, "adapters": adapters,
    }
    json_path = record_results(report, table)
    log(f"\nrecorded in {RESULTS_FILE} and {json_path}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generation speed at SD1.5's real size (meant for a GPU): Engine.generate against plain "
                    "diffusers with the same sampler (latency), a batch of requests in one call against one at a "
                    "time (images/s), and adapter switching against reloading. Prints a table and records it in "
                    "benchmarks/RESULTS.md and benchmarks/results/*.json.")
    parser.add_argument("--base", default="sd15-full",
                        help="sd15-full (SD1.5's architecture with random weights, built into the work dir) or any "
                             "base shoegen accepts: a diffusers folder, a checkpoint file, tiny (default sd15-full)")
    parser.add_argument("--device", default="cuda", help="torch device (default cuda; fp16 there, fp32 on cpu)")
    parser.add_argument("--size", type=int, default=512, help="image width and height in pixels (default 512)")
    parser.add_argument("--steps", type=int, default=30, help="denoising steps per image (default 30)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (default 5)")
    parser.add_argument("--batch", type=int, default=4, help="requests in one generate_many call (default 4)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice; 1 is "
                                                    "steadier on a small shared CPU)")
    parser.add_argument("--work-dir", help="keep the base, data and adapters here (reused); default: a temporary "
                                           "folder, deleted afterwards")
    parser.add_argument("--no-record", action="store_true", help="only print; do not touch RESULTS.md or results/")
    args = parser.parse_args(argv)
    if min(args.runs, args.batch, args.steps) < 1 or args.size % 8:
        parser.error("--runs, --batch and --steps must be at least 1 and --size a multiple of 8")
    return args


if __name__ == "__main__":
    run_all(parse_args(None))
