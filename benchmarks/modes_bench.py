"""Seconds per image of each generation mode against plain txt2img on the same base, size and steps (issue 17).

One warm `Engine`, one rendered shoe photo as the product photo (`shoegen.data.sample.render_shoe_with_mask`,
rendered at each size: the photo and the renderer's own silhouette), then, for each size, these cases (the list
`CASES` below; `--cases` picks some):

  txt2img             the baseline: a prompt, no photo
  img2img             the photo repainted at strength 0.75 (runs steps x 0.75 denoising steps)
  inpaint-original    a centred square mask of a quarter of the image, masked content `original`, strength 0.75
  inpaint-noise       the same mask, masked content `latent_noise` (strength 1: every step)
  background-auto     the product kept exactly, found by `data.masks.product_mask`, the scene generated
  background-given    the same with the renderer's silhouette given as the mask (no mask search)
  outpaint-scene      the photo extended to 16:9 (at the base's native size by `aspect_ratio="16:9"`, at other
                      sizes by the same format's width x height), the new area generated: a LARGER image
  outpaint-white      the same format filled with the photo's background colour: generates nothing
  hires-2x            txt2img, then the hires fix at 2x (Lanczos upscale + img2img at strength 0.5, hires_steps =
                      steps): a 2x image; runs steps + steps x 0.5 denoising steps, the second pass at 4x the pixels
  hires-2x-model      the same with an upscaler model (`--upscaler FILE`; default a Real-ESRGAN compact network of
                      realesr-general-x4v3's shape, 64 features, 32 convolutions, x4, random weights: its cost,
                      not its quality) before the resize to 2x
  hires-2x-background background replacement (mask found), then the hires fix at 2x: the photo kept at 2x

and, apart, the product-mask search alone (`product_mask` on the photo, what background-auto adds).

Timing: `engine.generate` of one image, wall clock, guidance 7.5, the default sampler, a fixed seed. One warm-up
call per case and size first (first-call allocations, the inpainting pipeline's first use), then `--repeats`
rounds; each round runs every (size, case) once, the order rotated by one each round, so that a drift of the
machine's speed (±15% here, and other processes share the CPU) falls on every case alike. Reported per case: the
median seconds per image, the ratio to txt2img's median at the same size and steps, and the median of the
per-round ratios (each case against the txt2img of its own round: steadier on a drifting machine). `uptime` is
recorded at the start and the end and the 1-minute load at every round.

and, where GenerationParams has `controlnets` and `--controlnet` names one (default: the built-in random `tiny`
ControlNet on the tiny base; skipped, and said so, on other bases unless given), `CONTROLNET_CASES`:

  controlnet-txt2img      txt2img + 1 ControlNet on the Canny edges of the photo (edges computed per call)
  controlnet-img2img      img2img 0.75 + the same ControlNet
  controlnet-background   background (mask found) + the same ControlNet

Bases: `tiny` (built in, 64 px native; default sizes 64 and 128), `demo` (built in, 64 px; built first when not
cached, ~11 minutes on 2 cores), `sd15-small` (SD1.5's block structure at small widths, 128 px native, built into
the work dir like train_throughput.py's), `sd15-full` (the full SD1.5 architecture with random weights, 512 px,
meant for `--device cuda`), or any base shoegen accepts (a diffusers folder, a checkpoint file).

    .venv/bin/python benchmarks/modes_bench.py                              # tiny, 64 and 128 px, 20 steps, 5 rounds
    .venv/bin/python benchmarks/modes_bench.py --threads 1 --repeats 7      # steadier on a shared 2-core machine
    .venv/bin/python benchmarks/modes_bench.py --base sd15-small --steps 20
    .venv/bin/python benchmarks/modes_bench.py --base sd15-full --device cuda --steps 30   # on a GPU machine
    .venv/bin/python benchmarks/modes_bench.py --sizes 64 --steps 4 --repeats 1 --no-record  # quick look
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import (BENCHMARKS_DIR, RESULTS_FILE, log, report_header, save_report, uptime,
                          write_section)  # noqa: E402
from train_throughput import build_sd15_base, machine_info  # noqa: E402

from shoegen.config.threads import usable_cores  # noqa: E402

PROMPT = "a shoe on a wooden table, morning light"
SEED = 3
GUIDANCE = 7.5
PHOTO_SPEC = (0, 3)  # draw_shoe_spec(seed, index): the product photo
MASK_REPEATS = 20  # product_mask calls per round (it takes milliseconds)
NATIVE = {"tiny": 64, "demo": 64, "sd15-small": 128, "sd15-full": 512}
DEFAULT_SIZES = {"tiny": [64, 128], "demo": [64, 128], "sd15-small": [128], "sd15-full": [512]}


def wide(side: int) -> int:
    """16:9's width for a height of `side`, in multiples of 8 (what modes.format_size gives at the native size)."""
    return max(side, round(side * 16 / 9 / 8) * 8)


@dataclass(frozen=True)
class Inputs:
    """What the cases build their requests from, at one size."""

    size: int
    native: int
    photo: object  # PIL image, size x size
    silhouette: object  # PIL "L" mask, white on the product
    quarter: object  # PIL "L" mask, a centred square of a quarter of the area
    controlnet: str | None = None  # --controlnet: the ControlNet the controlnet-* cases use
    upscaler: str | None = None  # the hires-2x-model case's upscaler, by name in the engine's MODELS_DIR/upscalers/


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    """The row's description in the table."""
    request: Callable[[Inputs, int], dict]
    """(inputs, steps) → GenerationRequest fields beyond prompt, seed, guidance and steps."""
    output: Callable[[int], tuple[int, int]]
    """size → (width, height) of the image it returns."""
    denoising: Callable[[int], str]
    """steps → the denoising steps it runs, as the table shows them."""


def square(size: int) -> tuple[int, int]:
    return size, size


CASES = [
    Case("txt2img", "txt2img (baseline)", lambda i, s: dict(width=i.size, height=i.size), square, str),
    Case("img2img", "img2img, strength 0.75",
         lambda i, s: dict(mode="img2img", init_image=i.photo, strength=0.75, width=i.size, height=i.size), square,
         lambda s: str(int(s * 0.75))),
    Case("inpaint-original", "inpaint, quarter mask, masked content original (strength 0.75)",
         lambda i, s: dict(mode="inpaint", init_image=i.photo, mask_image=i.quarter, masked_content="original",
                           strength=0.75, width=i.size, height=i.size), square, lambda s: str(int(s * 0.75))),
    Case("inpaint-noise", "inpaint, quarter mask, masked content latent_noise (strength 1)",
         lambda i, s: dict(mode="inpaint", init_image=i.photo, mask_image=i.quarter, masked_content="latent_noise",
                           width=i.size, height=i.size), square, str),
    Case("background-auto", "background, product mask found automatically",
         lambda i, s: dict(mode="background", init_image=i.photo, width=i.size, height=i.size), square, str),
    Case("background-given", "background, product mask given",
         lambda i, s: dict(mode="background", init_image=i.photo, mask_image=i.silhouette, width=i.size,
                           height=i.size), square, str),
    Case("outpaint-scene", "outpaint to 16:9, scene generated (**larger image**)",
         lambda i, s: (dict(mode="outpaint", init_image=i.photo, aspect_ratio="16:9") if i.size == i.native else
                       dict(mode="outpaint", init_image=i.photo, width=wide(i.size), height=i.size)),
         lambda size: (wide(size), size), str),
    Case("outpaint-white", "outpaint to 16:9, white fill (generates nothing; **larger image**)",
         lambda i, s: (dict(mode="outpaint", init_image=i.photo, aspect_ratio="16:9", outpaint_fill="white")
                       if i.size == i.native else
                       dict(mode="outpaint", init_image=i.photo, width=wide(i.size), height=i.size,
                            outpaint_fill="white")),
         lambda size: (wide(size), size), lambda s: "0"),
    Case("hires-2x", "txt2img + hires fix 2x, strength 0.5 (**2x image**)",
         lambda i, s: dict(width=i.size, height=i.size, hires_scale=2.0), lambda size: (2 * size, 2 * size),
         lambda s: f"{s} + {int(s * 0.5)} at 2x"),
    Case("hires-2x-model", "txt2img + hires fix 2x with an upscaler model, strength 0.5 (**2x image**)",
         lambda i, s: dict(width=i.size, height=i.size, hires_scale=2.0, hires_upscaler=i.upscaler),
         lambda size: (2 * size, 2 * size), lambda s: f"{s} + {int(s * 0.5)} at 2x"),
    Case("hires-2x-background", "background (mask found) + hires fix 2x, strength 0.5 (**2x image**)",
         lambda i, s: dict(mode="background", init_image=i.photo, width=i.size, height=i.size, hires_scale=2.0),
         lambda size: (2 * size, 2 * size), lambda s: f"{s} + {int(s * 0.5)} at 2x"),
]
UPSCALER_NAME = "bench-upscaler"


def write_upscaler(models_dir: Path, given: str | None) -> str:
    """The hires-2x-model case's upscaler in `models_dir`/upscalers/: the file given (copied), or a random Real-ESRGAN
    compact network of realesr-general-x4v3's shape (64 features, 32 convolutions, PReLU, x4)."""
    import torch
    from safetensors.torch import save_file

    folder = models_dir / "upscalers"
    folder.mkdir(parents=True, exist_ok=True)
    if given:
        shutil.copy(given, folder / f"{UPSCALER_NAME}{Path(given).suffix}")
        return UPSCALER_NAME
    generator = torch.Generator().manual_seed(0)
    channels = [(64, 3)] + [(64, 64)] * 32 + [(3 * 16, 64)]
    weights = {}
    for index, (out, into) in enumerate(channels):
        weights[f"body.{2 * index}.weight"] = torch.randn(out, into, 3, 3, generator=generator) * 0.02
        weights[f"body.{2 * index}.bias"] = torch.zeros(out)
        if index < len(channels) - 1:
            weights[f"body.{2 * index + 1}.weight"] = torch.full((out,), 0.25)
    save_file(weights, str(folder / f"{UPSCALER_NAME}.safetensors"))
    return UPSCALER_NAME


def controlnet(i: Inputs) -> dict:
    """One ControlNet (`--controlnet`) on the Canny edges of the photo (the engine's preprocessor, per call)."""
    from shoegen.config.generation import ControlNetUnit

    return dict(controlnets=[ControlNetUnit(model=i.controlnet, preprocessor="canny")])


# ControlNet (GenerationParams.controlnets): run only where the field exists and `--controlnet` names one (default
# the built-in random `tiny` ControlNet on the tiny base), interleaved with the other cases. Add further ones here.
CONTROLNET_CASES = [
    Case("controlnet-txt2img", "txt2img + 1 ControlNet (Canny of the photo)",
         lambda i, s: dict(width=i.size, height=i.size, control_images=[i.photo], **controlnet(i)), square, str),
    Case("controlnet-img2img", "img2img 0.75 + 1 ControlNet (Canny of the photo)",
         lambda i, s: dict(mode="img2img", init_image=i.photo, strength=0.75, width=i.size, height=i.size,
                           **controlnet(i)), square, lambda s: str(int(s * 0.75))),
    Case("controlnet-background", "background (mask found) + 1 ControlNet (Canny of the photo)",
         lambda i, s: dict(mode="background", init_image=i.photo, width=i.size, height=i.size, **controlnet(i)),
         square, str),
]
BASELINE = "txt2img"


def has_controlnets() -> bool:
    from shoegen.config.generation import GenerationParams

    return "controlnets" in GenerationParams.model_fields


def all_cases() -> list[Case]:
    return [*CASES, *CONTROLNET_CASES]


def resolve_base(name: str, work_dir: Path) -> str:
    from shoegen.models.resolve import builtin_base_path

    if name.startswith("sd15-"):
        log(f"building {name} (random weights) in {work_dir} ...")
        return str(build_sd15_base(name, work_dir / "bases" / name))
    if name == "demo" and not builtin_base_path("demo", build=False).is_dir():
        log("building the demo base first (about 11 minutes on 2 cores; cached afterwards)")
    if name in ("tiny", "demo"):
        builtin_base_path(name)
    return name


def make_inputs(size: int, native: int, controlnet_name: str | None = None, upscaler: str | None = None) -> Inputs:
    import numpy as np
    from PIL import Image

    from shoegen.data.sample import draw_shoe_spec, render_shoe_with_mask

    photo, silhouette = render_shoe_with_mask(draw_shoe_spec(*PHOTO_SPEC), size)
    quarter = np.zeros((size, size), dtype=np.uint8)
    quarter[size // 4:size // 4 + size // 2, size // 4:size // 4 + size // 2] = 255  # (size/2)^2: a quarter
    return Inputs(size, native, photo, Image.fromarray((silhouette * 255).astype(np.uint8)), Image.fromarray(quarter),
                  controlnet_name, upscaler)


def measure(args, engine, sizes: list[int], cases: list[Case]) -> dict:
    import torch

    from shoegen.data.masks import product_mask
    from shoegen.engine.engine import GenerationRequest

    native = engine.native_size()[0]
    inputs = {size: make_inputs(size, native, args.controlnet, UPSCALER_NAME) for size in sizes}
    requests = {(size, case.name): GenerationRequest(prompt=PROMPT, seed=SEED, guidance_scale=GUIDANCE,
                                                     num_inference_steps=args.steps,
                                                     **case.request(inputs[size], args.steps))
                for size in sizes for case in cases}
    sync = torch.cuda.synchronize if engine.device.type == "cuda" else (lambda: None)

    def timed(key) -> tuple[float, object]:
        sync()
        started = time.perf_counter()
        result = engine.generate(requests[key])  # returns PIL images: the device has finished
        return time.perf_counter() - started, result

    order = list(requests)
    outputs, notes = {}, {}
    log(f"warm-up: {len(order)} calls (one per size and case)")
    for key in order:
        seconds, result = timed(key)
        outputs[key] = result.images[0].image.size
        notes[key] = result.warnings
        log(f"  {key[0]} px {key[1]}: {seconds:.3f} s (warm-up), {outputs[key][0]}x{outputs[key][1]}")
    times = {key: [] for key in order}
    mask_times = {size: [] for size in sizes}
    loads = []
    for round_index in range(args.repeats):
        load = os.getloadavg()[0]
        loads.append(load)
        shift = round_index % len(order)
        for key in order[shift:] + order[:shift]:
            seconds, _ = timed(key)
            times[key].append(seconds)
        for size in sizes:  # the product-mask search alone, at the end of each round
            photo = inputs[size].photo
            started = time.perf_counter()
            for _ in range(MASK_REPEATS):
                product_mask(photo)
            mask_times[size].append((time.perf_counter() - started) / MASK_REPEATS)
        log(f"round {round_index + 1}/{args.repeats} (load {load:.2f}): " +
            ", ".join(f"{size}/{name} {times[(size, name)][-1]:.3f}" for size, name in order))
    loads.append(os.getloadavg()[0])
    results = {}
    for size in sizes:
        base_times = times[(size, BASELINE)]
        base_median = statistics.median(base_times)
        for case in cases:
            case_times = times[(size, case.name)]
            median = statistics.median(case_times)
            width, height = outputs[(size, case.name)]
            results[f"{size}/{case.name}"] = {
                "size": size, "case": case.name, "what": case.what, "seconds": case_times, "median_s": median,
                "ratio": median / base_median,
                "paired_ratio": statistics.median(t / b for t, b in zip(case_times, base_times, strict=True)),
                "output": [width, height], "expected_output": list(case.output(size)),
                "denoising_steps": case.denoising(args.steps),
                "ratio_per_pixel": (median / (width * height)) / (base_median / (size * size)),
                "warnings": notes[(size, case.name)]}
    masks = {size: {"seconds": mask_times[size], "median_s": statistics.median(mask_times[size]),
                    "share_of_txt2img": statistics.median(mask_times[size])
                    / statistics.median(times[(size, BASELINE)])} for size in sizes}
    return {"cases": results, "product_mask": masks, "round_loads": loads}


def format_table(measured: dict, sizes: list[int], cases: list[Case], steps: int) -> str:
    rows = ["| size | case | output | denoising steps | median s/image | vs txt2img (medians) | "
            "vs txt2img (per round) | vs txt2img per output pixel |",
            "|---|---|---|---|---|---|---|---|"]
    for size in sizes:
        for case in cases:
            one = measured["cases"][f"{size}/{case.name}"]
            width, height = one["output"]
            bold = "**" if (width, height) != (size, size) else ""
            rows.append(f"| {size} px | {case.what} | {bold}{width}x{height}{bold} | {one['denoising_steps']} | "
                        f"{one['median_s']:.3f} | {one['ratio']:.2f}x | {one['paired_ratio']:.2f}x | "
                        f"{one['ratio_per_pixel']:.2f}x |")
        mask = measured["product_mask"][size]
        rows.append(f"| {size} px | product mask search alone (`product_mask`, builtin) | – | – | "
                    f"{mask['median_s']:.4f} | {mask['share_of_txt2img']:.3f}x | – | – |")
    return "\n".join(rows)


def notes_lines(measured: dict, sizes: list[int], steps: int) -> list[str]:
    lines = []
    for key, one in measured["cases"].items():
        if one["output"] != one["expected_output"]:
            lines.append(f"- {key}: returned {one['output'][0]}x{one['output'][1]}, expected "
                         f"{one['expected_output'][0]}x{one['expected_output'][1]}")
        for warning in one["warnings"]:
            lines.append(f"- {key}: the engine warned: {warning}")
    return lines


def record_results(report: dict, table: str, notes: list[str]) -> Path:
    json_path = save_report("modes_bench", report)
    m, s = report["machine"], report["settings"]
    subset = "" if set(s["cases"]) >= {case.name for case in CASES} else " cases-" + ",".join(s["cases"])
    write_section(f"modes_bench {report['date']} {m['device']} {s['base']} threads-{s['threads']}{subset}", [
        f"## Generation modes — {report['date']} {report['time_utc']} UTC, {m['device']}",
        "",
        f"- Machine: {m['cpu']}, `nproc` {report['nproc']}, {m['ram_gib']} GiB RAM, device {m['device']}, torch "
        f"threads {m['torch_threads'][0]}",
        f"- Load: `uptime` at the start: {report['uptime_start']}; at the end: {report['uptime_end']}; 1-minute "
        f"load at each round {', '.join(f'{v:.2f}' for v in report['measured']['round_loads'])} (other agents' "
        "work shared the CPU)",
        f"- Software: Python {m['python']}, torch {m['torch']}, diffusers {m['diffusers']}, transformers "
        f"{m['transformers']}",
        f"- Command: `{report['command']}`",
        f"- Settings: base `{s['base']}` ({s['native']} px native), sizes {', '.join(map(str, s['sizes']))} px, "
        f"{s['steps']} steps, guidance {GUIDANCE}, sampler {s['sampler']}, dtype {s['dtype']}, 1 image a call; the "
        f"product photo `render_shoe_with_mask(draw_shoe_spec{PHOTO_SPEC}, size)`; one warm-up call per case, then "
        f"{s['repeats']} rounds, each running every size and case once, the order rotated each round; \"vs "
        "txt2img (medians)\" = the case's median / txt2img's median at the same size and steps, \"per round\" = "
        "the median of each round's case / the same round's txt2img; \"per output pixel\" divides both by their "
        "output's pixels (it differs for hires, 2x the side, and outpaint, a 16:9 canvas); the product mask: "
        f"median of {s['repeats']} rounds of {MASK_REPEATS} calls; hires-2x-model's upscaler: "
        f"{s['upscaler'] or 'a random Real-ESRGAN compact network of realesr-general-x4v3 shape (64 features, 32 convs, x4)'}"
        "; ControlNet cases: "
        + (f"`{s['controlnet']}` (Canny of the photo, scale 1)" if s["controlnet"] else
           f"skipped ({s['controlnet_skipped']})"),
        f"- Raw numbers: `{json_path.relative_to(BENCHMARKS_DIR.parent)}`",
        "",
        table,
        *([""] + notes if notes else []),
    ])
    return json_path


def run_all(args) -> None:
    import torch
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    from shoegen.config.samplers import DEFAULT_SAMPLER
    from shoegen.engine.engine import Engine

    diffusers_logging.disable_progress_bar()
    diffusers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: this machine has no CUDA GPU")
    skipped = ""
    if args.controlnet == "auto":
        args.controlnet = "tiny" if args.base == "tiny" else None
    if not has_controlnets():
        skipped, args.controlnet = "this shoegen has no `controlnets` field yet", None
    elif args.controlnet is None:
        skipped = f"no --controlnet for base {args.base} (the built-in `tiny` ControlNet fits the tiny base only)"
    controlnet_names = {case.name for case in CONTROLNET_CASES}
    cases = [case for case in all_cases() if (args.cases is None or case.name in args.cases)
             and (args.controlnet or case.name not in controlnet_names)]
    if skipped:
        log(f"ControlNet cases skipped: {skipped}")
    if BASELINE not in [case.name for case in cases]:
        cases.insert(0, next(case for case in all_cases() if case.name == BASELINE))
    now = datetime.now(timezone.utc)
    uptime_start = uptime()
    log(f"start: {uptime_start}")
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="shoegen-modes-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        base = resolve_base(args.base, work_dir)
        write_upscaler(work_dir / "models", args.upscaler)
        engine = Engine(base, work_dir / "models", device=args.device)
        engine.load()
        native = engine.native_size()[0]
        sizes = args.sizes or DEFAULT_SIZES.get(args.base, [native])
        log(f"base {args.base} ({native} px native) on {engine.device}, {torch.get_num_threads()} torch threads; "
            f"sizes {sizes}, {args.steps} steps, {args.repeats} rounds of {len(cases)} cases")
        measured = measure(args, engine, sizes, cases)
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    uptime_end = uptime()
    log(f"end: {uptime_end}")
    table = format_table(measured, sizes, cases, args.steps)
    notes = notes_lines(measured, sizes, args.steps)
    print("\n" + "\n".join([table, *notes]))
    if args.no_record:
        return
    settings = {"base": args.base, "native": native, "sizes": sizes, "steps": args.steps, "repeats": args.repeats,
                "device": str(engine.device), "dtype": str(engine.dtype).removeprefix("torch."),
                "threads": args.threads or "default", "sampler": DEFAULT_SAMPLER, "prompt": PROMPT, "seed": SEED,
                "cases": [case.name for case in cases], "controlnet": args.controlnet, "upscaler": args.upscaler,
                "controlnet_skipped": skipped or None}
    report = {**report_header("modes_bench", now), "nproc": usable_cores(), "uptime_start": uptime_start,
              "uptime_end": uptime_end,
              "machine": machine_info(args.device, [torch.get_num_threads()], max(measured["round_loads"])),
              "settings": settings, "measured": measured}
    json_path = record_results(report, table, notes)
    log(f"\nrecorded in {RESULTS_FILE} and {json_path}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [case.name for case in all_cases()]
    parser = argparse.ArgumentParser(
        description="Seconds per image of each generation mode (img2img, inpaint, background, outpaint, the hires "
                    "fix) against plain txt2img on the same base, size and steps: one warm Engine, a rendered shoe "
                    "photo as the product photo, the cases interleaved over the rounds; the median s/image and the "
                    "ratio to txt2img per case, and the product-mask search alone. Note: hires returns a 2x image "
                    "and outpaint a 16:9 one, so their ratios compare larger outputs (the table says so and adds a "
                    "per-output-pixel ratio). Prints a table and records it in benchmarks/RESULTS.md and "
                    "benchmarks/results/modes_bench-*.json.",
        epilog=f"cases: {', '.join(names)}")
    parser.add_argument("--base", default="tiny",
                        help="tiny (default; built in, 64 px), demo (built in, 64 px; built first when not cached, "
                             "~11 min on 2 cores), sd15-small (SD1.5's blocks at small widths, 128 px, built into "
                             "the work dir), sd15-full (SD1.5's full architecture, random weights, 512 px, for "
                             "--device cuda) or any base shoegen accepts")
    parser.add_argument("--sizes", type=lambda text: [int(part) for part in text.split(",") if part.strip()],
                        help="comma-separated square sizes in px (default: tiny and demo 64,128; sd15-small 128; "
                             "sd15-full 512; other bases their native size)")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps of txt2img (default 20)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed rounds, each running every size and case once (default 5), after one warm-up")
    parser.add_argument("--cases", type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
                        help=f"comma-separated subset of the cases (txt2img is always run: it is the baseline); "
                             f"default all: {', '.join(names)}")
    parser.add_argument("--controlnet", default="auto",
                        help="the ControlNet of the controlnet-* cases: a name shoegen accepts (hub id, folder of "
                             "MODELS_DIR/controlnets/, tiny); default auto: the built-in random `tiny` on the tiny "
                             "base, none (cases skipped) on other bases; none: skip them")
    parser.add_argument("--upscaler", help="the hires-2x-model case's upscaler file (.safetensors or .pth of the "
                                           "ESRGAN family, e.g. a real 4x-UltraSharp); default: a random network of "
                                           "realesr-general-x4v3's shape")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu; fp16 on cuda)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice; 1 is "
                                                    "steadier on a small shared CPU)")
    parser.add_argument("--work-dir", help="keep built sd15-* bases here (reused); default: a temporary folder, "
                                           "deleted afterwards")
    parser.add_argument("--no-record", action="store_true", help="only print; do not touch RESULTS.md or results/")
    args = parser.parse_args(argv)
    if args.controlnet in ("none", ""):
        args.controlnet = None
    if args.cases and (unknown := set(args.cases) - set(names)):
        parser.error(f"--cases: unknown {', '.join(sorted(unknown))} (choose among {', '.join(names)})")
    if args.steps < 2 or args.repeats < 1:
        parser.error("--steps must be at least 2 (img2img and the hires fix run steps x strength) and --repeats 1")
    if args.sizes and any(size % 8 or size < 64 for size in args.sizes):
        parser.error("--sizes: each a multiple of 8, at least 64")
    return args


if __name__ == "__main__":
    run_all(parse_args(None))
