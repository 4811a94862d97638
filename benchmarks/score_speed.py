"""Seconds per image of the scores: the model-based ones (CLIP score, CLIP-I, DINO similarity, KID/FID on DINOv2
features, `shoegen.evaluation.embeddings`) with the tiny random scorers by default, and the catalogue scores
(`shoegen.evaluation.catalogue.score_image`), against one 20-step generation of the same size on the tiny base
for scale.

Images are rendered shoe photos (`shoegen.data.sample`) standing in for generated ones, with their captions as
prompts; the reference set is another rendered set. Each figure is the median of `--repeats` timed runs after a
warm-up, divided by the number of generated images; model loading is timed once, separately.

    .venv/bin/python benchmarks/score_speed.py [--images 32 --references 32 --size 64 --repeats 5]
    .venv/bin/python benchmarks/score_speed.py --clip-model openai/clip-vit-large-patch14 \
        --dino-model facebook/dinov2-small --device cuda     # the real scorers, where their weights are at hand
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import BENCHMARKS_DIR, report_header, save_report, write_section  # noqa: E402
from train_throughput import machine_info  # noqa: E402  (the machine description every benchmark records)

from shoegen.data.sample import caption_for, draw_shoe_spec, render_shoe  # noqa: E402
from shoegen.evaluation.catalogue import score_image  # noqa: E402
from shoegen.evaluation.embeddings import EmbeddingScorer  # noqa: E402

GENERATION_STEPS = 20


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up: first-call allocations and lazy imports stay out of the figure
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def generation_seconds(size: int, repeats: int, device: str) -> float:
    """One image, 20 steps, guidance 7.5, on the tiny base: the cost the scores are compared with."""
    from shoegen.models.resolve import load_pipeline

    pipe = load_pipeline("tiny").to(device)
    pipe.set_progress_bar_config(disable=True)
    return median_seconds(lambda: pipe("red leather sneakers", num_inference_steps=GENERATION_STEPS, height=size,
                                       width=size, generator=torch.Generator().manual_seed(0)), repeats)


def measure(args: argparse.Namespace) -> dict:
    specs = [draw_shoe_spec(1, index) for index in range(args.images)]
    generated = [render_shoe(spec, args.size) for spec in specs]
    prompts = [caption_for(spec) for spec in specs]
    references = [render_shoe(draw_shoe_spec(2, index), args.size) for index in range(args.references)]
    scorer = EmbeddingScorer(args.clip_model, args.dino_model, device=args.device, batch_size=args.batch_size)
    started = time.perf_counter()
    skipped = scorer.unavailable()
    load_seconds = time.perf_counter() - started
    if skipped:
        raise SystemExit("cannot measure: " + "; ".join(sorted(set(skipped.values()))))
    embedded_references = scorer.embed(references)
    runs: dict[str, Callable[[], object]] = {
        "clip_score": lambda: scorer.clip_score(generated, prompts),
        "clip_image_similarity": lambda: scorer.clip_image_similarity(generated, embedded_references),
        "dino_similarity": lambda: scorer.dino_similarity(generated, embedded_references),
        "kid (fid past d images)": lambda: scorer.distribution_distance(generated, embedded_references),
        "all model-based (score)": lambda: scorer.score(generated, prompts, embedded_references),
    }
    runs["catalogue (score_image)"] = lambda: [score_image(image, prompt) for image, prompt in
                                               zip(generated, prompts, strict=True)]
    seconds = {name: median_seconds(run, args.repeats) / args.images for name, run in runs.items()}
    generation = None if args.no_generation else generation_seconds(args.size, args.repeats, args.device)
    return {"load_seconds": load_seconds, "seconds_per_image": seconds, "generation_seconds": generation,
            "models": scorer.model_names}


def table(results: dict) -> list[str]:
    generation = results["generation_seconds"]
    lines = ["| score | s/image | ms/image | share of a 20-step generation |", "|---|---|---|---|"]
    for name, seconds in results["seconds_per_image"].items():
        share = f"{100 * seconds / generation:.1f}%" if generation else "–"
        lines.append(f"| {name} | {seconds:.4g} | {1000 * seconds:.2f} | {share} |")
    if generation:
        lines.append(f"| (one {GENERATION_STEPS}-step generation, tiny base) | {generation:.4g} | "
                     f"{1000 * generation:.1f} | 100% |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=32, help="generated images scored per run")
    parser.add_argument("--references", type=int, default=32, help="reference photos (embedded once)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per score, after one warm-up")
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    parser.add_argument("--clip-model", default="tiny", help="hub id, local folder or `tiny` (default)")
    parser.add_argument("--dino-model", default="tiny", help="hub id, local folder or `tiny` (default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--no-generation", action="store_true", help="skip the 20-step generation for scale")
    parser.add_argument("--no-record", action="store_true", help="only print; do not touch RESULTS.md or results/")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    started = datetime.now(UTC)
    results = measure(args)
    machine = machine_info(args.device, [torch.get_num_threads()], 0.0)
    device = "CPU" if args.device == "cpu" else machine["device"]
    models = results["models"]
    notes = [f"- Models: CLIP `{models['clip']}`, DINOv2 `{models['dino']}`, loaded in "
             f"{results['load_seconds']:.2f} s (once, transformers' import included); {args.images} generated images "
             f"and {args.references} references (embedded once, outside the timings) of {args.size} px, batches of "
             f"{args.batch_size}; medians of {args.repeats} runs after a warm-up",
             "- Catalogue scores: `score_image` per image, with its prompt"]
    lines = table(results)
    if args.no_record:
        print("\n".join([*notes, "", *lines]))
        return
    report = report_header("score_speed", started) | {"machine": machine, "settings": vars(args), **results}
    json_path = save_report("score_speed", report)
    section = [f"## Score speed — {report['date']} {report['time_utc']} UTC, {device}", "",
               f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM, device "
               f"{machine['device']}, torch threads {torch.get_num_threads()}",
               f"- Software: Python {machine['python']}, torch {machine['torch']}, transformers "
               f"{machine['transformers']}",
               f"- Command: `{report['command']}`", *notes,
               f"- Raw numbers: `{json_path.relative_to(BENCHMARKS_DIR.parent)}`", "", *lines]
    write_section(f"score_speed {report['date']} {machine['device']}", section)
    print("\n".join(section))


if __name__ == "__main__":
    main()
