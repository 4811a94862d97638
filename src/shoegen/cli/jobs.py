"""`shoegen jobs list|show|cancel`: the job queue `shoegen serve` keeps in the gallery database, from any machine
that reaches that database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shoegen.cli.flags import open_served_gallery, whole_number

STATUSES = ("queued", "running", "done", "error", "cancelled", "stopped", "interrupted")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "jobs", help="list, show and cancel the generation jobs of `shoegen serve`",
        description="The jobs of `shoegen serve`, as its database holds them (every replica sharing the database "
                    "shares them): SHOEGEN_DATA_DIR and SHOEGEN_DATABASE_URL, or --data-dir / --database-url.")
    commands = parser.add_subparsers(dest="jobs_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="the newest jobs first", description="The newest jobs first: id, "
                                  "status, step/total, created (UTC), the worker holding or last holding it.")
    listing.add_argument("--status", choices=STATUSES, help="only jobs in this state")
    listing.add_argument("--limit", type=whole_number(1, maximum=1000), default=20,
                         help="at most this many, up to 1000 (default 20)")
    show = commands.add_parser("show", help="one job as JSON", description="One job as JSON: its state, "
                               "parameters (the start image left out), images and events.")
    show.add_argument("job_id", metavar="JOB_ID")
    cancel = commands.add_parser("cancel", help="cancel a queued or running job", description="Cancel a job: a "
                                 "queued one at once, a running one at its next denoising step (on whichever "
                                 "replica runs it).")
    cancel.add_argument("job_id", metavar="JOB_ID")
    for command in (listing, show, cancel):
        command.add_argument("--data-dir", type=Path, help="gallery database and images (default ./shoegen-data)")
        command.add_argument("--database-url", help="SQLAlchemy URL of the gallery database (default SQLite in "
                                                    "the data folder)")
    listing.set_defaults(handler=run_list)
    show.set_defaults(handler=run_show)
    cancel.set_defaults(handler=run_cancel)


def _found(store, job_id: str):
    from shoegen.errors import ShoegenError

    state = store.get(job_id)
    if state is None:
        raise ShoegenError(f"no job {job_id!r}; `shoegen jobs list` shows the jobs")
    return state


def run_list(args: argparse.Namespace) -> int:
    from shoegen.storage import JobStore

    with open_served_gallery(args) as gallery:
        jobs = JobStore(gallery).list(args.status, limit=args.limit)
    for job in jobs:
        print(f"{job.id}  {job.status:<9}  {job.step:>4}/{job.total_steps:<4}  "
              f"{job.created_at:%Y-%m-%d %H:%M:%S}  {job.worker_id or '-'}")
    if not jobs:
        print(f"no {args.status + ' ' if args.status else ''}jobs", file=sys.stderr)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from shoegen.storage import JobStore

    with open_served_gallery(args) as gallery:
        store = JobStore(gallery)
        job = _found(store, args.job_id)
        events = [{"id": event.number, "event": event.type, **event.payload} for event in store.events(job.id)]
    pictures = ("init_image", "mask_image", "control_images")
    params = {key: value for key, value in job.params.items() if key not in pictures}
    shown = {**job.__dict__, "params": params, "has_init_image": "init_image" in job.params,
             "has_mask_image": "mask_image" in job.params, "events": events}
    for event in events:
        event.pop("preview", None)  # base64 images, unreadable in a terminal
    print(json.dumps(shown, indent=2, default=str))
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    from shoegen.storage import JobStore

    with open_served_gallery(args) as gallery:
        store = JobStore(gallery)
        _found(store, args.job_id)
        job = store.cancel(args.job_id)
    note = " (its worker stops at its next step)" if job.status == "running" else ""
    print(f"{job.id}  {job.status}{note}")
    return 0
