"""`shoegen runs list|show|stop|save|sample|resume`: the training runs under MODELS_DIR, whether the studio queued
them or `shoegen train` runs them in a terminal, steered the way the studio steers them (through the run folder,
and the job queue of the database `shoegen serve` uses)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EPILOG = """\
examples:
  shoegen runs list --models-dir runs
  shoegen runs show shoes-v1          # state, step, loss, speed, checkpoints, as JSON
  shoegen runs stop shoes-v1          # writes a checkpoint, then stops
  shoegen runs resume shoes-v1        # queued for `shoegen serve`'s training worker, from the latest checkpoint

A run in a terminal (`shoegen train --output_dir runs/NAME`) reads the same stop/save/sample requests; resuming
queues it as a job for the studio's worker (or run `shoegen train --config runs/NAME/run.yaml
--resume_from_checkpoint latest` yourself).
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "runs", help="list, follow, stop and resume training runs (the studio's and the terminal's)",
        description="Training runs under MODELS_DIR (SHOEGEN_MODELS_DIR or --models-dir), with the job queue of "
                    "`shoegen serve` (SHOEGEN_DATA_DIR / SHOEGEN_DATABASE_URL, or --data-dir / --database-url).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="runs_command", metavar="COMMAND", required=True)
    actions = {
        "list": ("every run: name, state, step/max, loss, speed", run_list),
        "show": ("one run as JSON", run_show),
        "stop": ("stop a run: a running one after writing a checkpoint, a queued one at once", run_stop),
        "save": ("write a checkpoint of a running run at its next step", run_save),
        "sample": ("make validation images of a running run at its next step", run_sample),
        "resume": ("queue a stopped or interrupted run again, from its latest checkpoint", run_resume),
    }
    for name, (text, handler) in actions.items():
        command = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        if name != "list":
            command.add_argument("name", metavar="RUN", help="the run's folder name under MODELS_DIR")
        command.add_argument("--models-dir", type=Path, help="training runs (default ./runs, or SHOEGEN_MODELS_DIR)")
        command.add_argument("--data-dir", type=Path, help="the server's data folder, whose database holds the job "
                                                          "queue (default ./shoegen-data)")
        command.add_argument("--database-url", help="SQLAlchemy URL of that database (default SQLite in the data "
                                                    "folder)")
        command.set_defaults(handler=handler)


def _open(args: argparse.Namespace):
    from shoegen.config.service import ServiceSettings
    from shoegen.service.trainer import TrainingRuns
    from shoegen.storage import Gallery

    overrides = {"data_dir": args.data_dir, "database_url": args.database_url, "models_dir": args.models_dir}
    settings = ServiceSettings(**{k: v for k, v in overrides.items() if v is not None})
    gallery = Gallery.open(Path(settings.data_dir), settings.database_url)
    runs = TrainingRuns(gallery, settings.models_dir, max_queued=settings.queue_size,
                        lease_seconds=settings.job_lease_seconds)
    return gallery, runs


def _folder(runs, name: str):
    from shoegen.errors import ShoegenError
    from shoegen.service.trainer import RunError

    try:
        folder = runs.folder(name)
    except RunError as error:
        raise ShoegenError(str(error)) from None
    if not folder.config_file.is_file() and not folder.checkpoints_dir.is_dir():
        raise ShoegenError(f"no run {name!r} in {runs.models_dir}; `shoegen runs list` shows the runs")
    return folder


def _steer(args: argparse.Namespace, action: str) -> int:
    from shoegen.errors import ShoegenError
    from shoegen.service.trainer import RunError

    gallery, runs = _open(args)
    with gallery:
        folder = _folder(runs, args.name)
        try:
            if action == "stop":
                runs.stop(folder)
            elif action == "resume":
                runs.resume(folder)
            else:
                runs.request(folder, action)
        except RunError as error:
            raise ShoegenError(str(error)) from None
        state = runs.state(folder)
    print(f"{args.name}: {state.status}" + (f" ({state.waiting_reason})" if state.waiting_reason else ""))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from shoegen.training.runs import list_runs

    gallery, runs = _open(args)
    with gallery:
        infos = list_runs(runs.models_dir)
        states = runs.states([info.folder for info in infos])
    if not infos:
        print(f"no training runs in {runs.models_dir}")
    for info, state in zip(infos, states):
        loss = f"loss {state.loss:.4f}" if state.loss is not None else ""
        speed = f"{state.steps_per_second:.2f} steps/s" if state.steps_per_second else ""
        print(f"{info.name:<24} {state.status:<11} {state.step:>6}/{state.max_steps:<6} {state.source:<8} "
              f"{loss:<12} {speed}".rstrip())
    return 0


def run_show(args: argparse.Namespace) -> int:
    gallery, runs = _open(args)
    with gallery:
        folder = _folder(runs, args.name)
        state = runs.state(folder)
    shown = {key: value for key, value in state.__dict__.items()
             if key not in ("job", "settings", "evaluation", "evaluation_waiting")}
    evaluation = state.evaluation
    shown |= {"job_id": state.job.id if state.job else None, "resumable": state.resumable,
              "evaluation": evaluation and {"job_id": evaluation.id, "status": evaluation.status,
                                            "images_done": evaluation.step, "images_total": evaluation.total_steps,
                                            "waiting_reason": state.evaluation_waiting, "error": evaluation.error},
              "checkpoints": [c.path.name for c in folder.checkpoints()], "has_final": folder.final_adapter.is_file(),
              "validation_steps": folder.validation_steps(), "folder": str(folder.path)}
    print(json.dumps(shown, indent=2, default=str))
    return 0


def run_stop(args: argparse.Namespace) -> int:
    return _steer(args, "stop")


def run_save(args: argparse.Namespace) -> int:
    return _steer(args, "save")


def run_sample(args: argparse.Namespace) -> int:
    return _steer(args, "sample")


def run_resume(args: argparse.Namespace) -> int:
    return _steer(args, "resume")
