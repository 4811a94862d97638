"""Generation speed at SD1.5's real size: shoegen's Engine against plain diffusers, on a GPU; and the compiled
engine (`--compile`) against both, on a GPU or a CPU.

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
  4. compiled  one image at the same settings on three sides: plain diffusers (`StableDiffusionPipeline`, same
               sampler), shoegen's Engine and shoegen's compiled Engine (`EngineSettings(compile=True)`: torch.compile
               of the UNet and VAE decoder, channels_last, fused attention projections). Warm-up (the first call:
               loading done, compiling included; and the seconds torch spent compiling) is reported apart from the
               steady state: median image latency of `--runs` alternating runs and it/s (steps / latency). The
               compiled side gets its own inductor cache in the work dir, so a fresh work dir measures a cold
               compile and a kept one (`--work-dir`) a warm start.

`--config` picks a preset: `sd15-full` (the default: 512 px, CUDA), `tiny` (the built-in tiny base, 64 px, CPU) or
`sd15-small` (SD1.5's block structure at small widths, 128 px, CPU, built like train_throughput.py's); `--base`,
`--device` and `--size` override it. `--sections` picks the measurements (default all four).

`--base sd15-full` (the default) is built into the work dir by train_throughput.py's `build_sd15_base`: SD1.5's
published UNet, VAE and CLIP ViT-L text-encoder configs with random weights (no hub is needed). Any base shoegen
accepts works too (`--base tiny --device cpu --size 64 --steps 4` is a quick check of the script itself).

Results are printed, written to benchmarks/results/generation_speed-<UTC timestamp>.json and recorded in
benchmarks/RESULTS.md.

Run from the repository root:  .venv/bin/python benchmarks/generation_speed.py [--runs 5 --batch 4]
                               .venv/bin/python benchmarks/generation_speed.py --config tiny --sections compiled
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

CONFIGS = {  # --config → (base, device, size)
    "sd15-full": ("sd15-full", "cuda", 512),
    "sd15-small": ("sd15-small", "cpu", 128),
    "tiny": ("tiny", "cpu", 64),
}
SECTIONS = ("latency", "batch", "adapters", "compiled")


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


def measure_compiled(base: str, device: str, size: int, steps: int, runs: int, mode: str) -> dict:
    """One image, the same request on three sides: plain diffusers, the Engine, the compiled Engine. Each side's
    first call is its warm-up; then `runs` rounds, the sides alternating."""
    import torch

    from shoegen.config.engine import EngineSettings
    from shoegen.engine.engine import Engine, GenerationRequest

    plain = Engine(base, device=device)
    compiled = Engine(base, device=device, settings=EngineSettings(compile=True, compile_mode=mode))
    pipe = make_inprocess_pipeline(base, plain.device, plain.dtype)
    request = GenerationRequest(prompt=PROMPTS[0], num_inference_steps=steps, width=size, height=size, seed=SEED,
                                guidance_scale=GUIDANCE, sampler=SAMPLER)

    def diffusers_call():
        with torch.inference_mode():
            return pipe(prompt=PROMPTS[0], num_inference_steps=steps, guidance_scale=GUIDANCE, width=size,
                        height=size, generator=torch.Generator("cpu").manual_seed(SEED)).images

    calls = {"diffusers": diffusers_call, "shoegen": lambda: plain.generate(request),
             "shoegen-compiled": lambda: compiled.generate(request)}
    plain.load()
    compiled.load()  # loading (and fusing) is not warm-up: only the first call, which compiles
    sides = {}
    for name, call in calls.items():
        warm_up = timed(call)
        sides[name] = {"warm_up_s": warm_up, "seconds": []}
        log(f"  {name}: warm-up (first call) {warm_up:.2f} s")
    report = compiled.compile_report()
    sides["shoegen-compiled"] |= {"compile_s": report.compile_seconds, "compilations": report.compilations,
                                  "fallback_reason": report.fallback_reason}
    for i in range(runs):
        for name, call in calls.items():
            sides[name]["seconds"].append(timed(call))
        log(f"  compiled run {i + 1}/{runs}: " + ", ".join(f"{name} {side['seconds'][-1]:.3f} s"
                                                          for name, side in sides.items()))
    for side in sides.values():
        side["median_s"] = statistics.median(side["seconds"])
        side["it_per_s"] = steps / side["median_s"]
    baseline = sides["diffusers"]["median_s"]
    for side in sides.values():
        side["speedup_vs_diffusers"] = baseline / side["median_s"]
    after = compiled.compile_report()
    sides["shoegen-compiled"]["recompiles_in_steady_state"] = after.compilations - report.compilations
    return {"mode": mode, "sides": sides}


def format_table(settings: dict, lat: dict | None, bat: dict | None, ada: dict | None, comp: dict | None) -> str:
    """The measured sections as markdown: one table for latency, batch and adapters, one for the compiled sides."""
    size, steps = settings["size"], settings["steps"]
    ms = lambda seconds: f"{seconds * 1000:.0f} ms"  # noqa: E731
    rows = []
    for label, one in (lat or {}).items():
        rows.append(f"| 1 image, {size} px, {steps} steps, {label}: median latency (Engine.generate vs "
                    f"StableDiffusionPipeline{' + load_lora_weights' if label == 'adapter' else ''}) "
                    f"| {ms(one['engine_median_s'])} | {ms(one['diffusers_median_s'])} "
                    f"| {one['overhead'] * 100:+.1f}% |")
    if bat:
        rows.append(f"| {bat['batch']} images in one generate_many call vs one at a time: images/s "
                    f"| {bat['images_per_s']:.2f} | {bat['single_images_per_s']:.2f} | {bat['speedup']:.2f}x |")
        if bat["cuda_peak_mib"] is not None:
            rows.append(f"| peak CUDA memory, batch of {bat['batch']} | {bat['cuda_peak_mib']:.0f} MiB | – | – |")
    if ada:
        rows += [
            f"| adapter switch (1-step generate alternating A/B minus A/A, medians) vs fresh pipeline + LoRA from "
            f"disk | {ms(ada['switch_cost_s'])} | {ms(ada['reload_median_s'])} | "
            + (f"{ada['ratio_public']:.0f}x |" if ada["ratio_public"] else "switch below noise |"),
            f"| adapter switch, `Engine._activate` alone (median) | {ada['activate_direct_median_s'] * 1000:.1f} ms "
            f"| {ms(ada['reload_median_s'])} | {ada['ratio_direct']:.0f}x |",
            f"| adapter first use (cold), A / B | {ms(ada['cold_load_cost_s'][0])} / "
            f"{ms(ada['cold_load_cost_s'][1])} | – | – |",
            f"| Engine base pipeline load (warm file cache) | {ms(ada['base_pipeline_load_s'])} | – | – |"]
    if rows:
        rows = ["| measurement | shoegen | diffusers | ratio |", "|---|---|---|---|", *rows]
    if comp:
        cache = settings.get("inductor_cache", "fresh")
        rows += [*([""] if rows else []),
                 f"1 image, {size} px, {steps} steps, guidance {GUIDANCE}, {SAMPLER}; the compiled side with "
                 f"torch.compile mode `{comp['mode']}` and a {cache} inductor cache:", "",
                 "| side | warm-up (first call) | of which compiling | median latency | it/s | vs diffusers |",
                 "|---|---|---|---|---|---|"]
        for name, side in comp["sides"].items():
            compiling = f"{side['compile_s']:.1f} s ({side['compilations']} graphs)" if "compile_s" in side else "–"
            rows.append(f"| {name} | {side['warm_up_s']:.2f} s | {compiling} | {ms(side['median_s'])} "
                        f"| {side['it_per_s']:.2f} | {side['speedup_vs_diffusers']:.2f}x |")
        compiled = comp["sides"]["shoegen-compiled"]
        if compiled.get("fallback_reason"):
            rows += ["", f"The compiled side fell back to the plain pipeline: {compiled['fallback_reason']}"]
        if compiled.get("recompiles_in_steady_state"):
            rows += ["", f"The compiled side recompiled {compiled['recompiles_in_steady_state']} times after its "
                         "warm-up."]
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
        f"dtype {s['dtype']}, sections {', '.join(s['sections'])}; latency median of {s['runs']} alternating runs "
        f"after one warm-up; batch median of {s['runs']}; adapters (rank 8, trained 2 steps) switch/reload medians "
        f"of {s['runs']}; compiled: median of {s['runs']} alternating rounds after each side's warm-up, the "
        f"compiled side with a {s.get('inductor_cache', 'fresh')} inductor cache",
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
    # The compiled side's own inductor cache per base: a fresh work dir compiles from nothing, a kept one reuses it.
    inductor_cache = work_dir / "inductor" / Path(args.base).name
    # "reused" holds kernels only for the settings compiled before (threads, size, steps' dtypes): the compile
    # seconds in the table tell whether they matched.
    cache_state = "reused" if inductor_cache.is_dir() and any(inductor_cache.iterdir()) else "fresh"
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(inductor_cache)
    latency = batch = adapters = compiled = None
    try:
        base = resolve_base(args.base, work_dir)
        if {"latency", "batch", "adapters"} & set(args.sections):
            log("training two adapters (2 steps) ...")
            models_dir = train_adapters(work_dir, torch.get_num_threads(), base=base, size=args.size,
                                        device=args.device)
            engine = Engine(base, models_dir, device=args.device)
            engine.load()
        if "latency" in args.sections or "batch" in args.sections:
            log(f"latency: 1 + {args.runs} runs each way, {args.steps} steps at {args.size} px")
            latency = measure_latency(engine, base, models_dir, args.size, args.steps, args.runs)
        if "batch" in args.sections:
            log(f"batch of {args.batch}")
            batch = measure_batch(engine, args.size, args.steps, args.batch, args.runs,
                                  latency["base"]["engine_median_s"])
            latency = latency if "latency" in args.sections else None
        if "adapters" in args.sections:
            del engine
            log("adapters: switch vs reload")
            adapters = measure_adapters(models_dir, args.runs, load, base_model=base, size=args.size,
                                        device=args.device)
        if "compiled" in args.sections:
            log(f"compiled: diffusers, shoegen, shoegen compiled ({cache_state} inductor cache), {args.steps} steps "
                f"at {args.size} px")
            compiled = measure_compiled(base, args.device, args.size, args.steps, args.runs, args.compile_mode)
            load.sample()  # the other sections sample as they go; this one only at its end
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    settings = {"base": args.base, "size": args.size, "steps": args.steps, "runs": args.runs, "batch": args.batch,
                "device": args.device, "dtype": "fp16" if args.device == "cuda" else "fp32",
                "sections": list(args.sections), "inductor_cache": cache_state}
    table = format_table(settings, latency, batch, adapters, compiled)
    print("\n" + table)
    if args.no_record:
        return
    report = {
        **report_header("generation_speed", now),
        "machine": machine_info(args.device, [torch.get_num_threads()], max(load.samples)),
        "settings": settings, "latency": latency, "batch": batch, "adapters": adapters, "compiled": compiled,
    }
    json_path = record_results(report, table)
    log(f"\nrecorded in {RESULTS_FILE} and {json_path}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generation speed at SD1.5's real size (meant for a GPU): Engine.generate against plain "
                    "diffusers with the same sampler (latency), a batch of requests in one call against one at a "
                    "time (images/s), adapter switching against reloading, and the compiled engine against both "
                    "(warm-up apart from steady-state it/s). Prints a table and records it in "
                    "benchmarks/RESULTS.md and benchmarks/results/*.json.")
    parser.add_argument("--config", choices=CONFIGS, default="sd15-full",
                        help="preset base, device and size: sd15-full (512 px, cuda), sd15-small (128 px, cpu), "
                             "tiny (64 px, cpu); default sd15-full")
    parser.add_argument("--base", help="sd15-full or sd15-small (SD1.5's architecture with random weights, built "
                                       "into the work dir) or any base shoegen accepts: a diffusers folder, a "
                                       "checkpoint file, tiny (default: the config's)")
    parser.add_argument("--device", help="torch device (default: the config's; fp16 on cuda, fp32 on cpu)")
    parser.add_argument("--size", type=int, help="image width and height in pixels (default: the config's)")
    parser.add_argument("--sections", type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
                        default=list(SECTIONS), help=f"comma-separated measurements among {','.join(SECTIONS)} "
                                                     "(default all)")
    parser.add_argument("--compile-mode", default="default",
                        help="torch.compile mode of the compiled side (default `default`; `reduce-overhead` adds "
                             "CUDA graphs)")
    parser.add_argument("--steps", type=int, default=30, help="denoising steps per image (default 30)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (default 5)")
    parser.add_argument("--batch", type=int, default=4, help="requests in one generate_many call (default 4)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice; 1 is "
                                                    "steadier on a small shared CPU)")
    parser.add_argument("--work-dir", help="keep the base, data and adapters here (reused); default: a temporary "
                                           "folder, deleted afterwards")
    parser.add_argument("--no-record", action="store_true", help="only print; do not touch RESULTS.md or results/")
    args = parser.parse_args(argv)
    preset = CONFIGS[args.config]
    args.base, args.device, args.size = (args.base or preset[0], args.device or preset[1], args.size or preset[2])
    if unknown := set(args.sections) - set(SECTIONS):
        parser.error(f"--sections: unknown {', '.join(sorted(unknown))} (choose among {', '.join(SECTIONS)})")
    if min(args.runs, args.batch, args.steps) < 1 or args.size % 8:
        parser.error("--runs, --batch and --steps must be at least 1 and --size a multiple of 8")
    return args


if __name__ == "__main__":
    run_all(parse_args(None))
