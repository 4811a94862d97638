"""`shoegen serve`: the REST API (and, once built, the web UI) on one port."""

from __future__ import annotations

import argparse
import errno
import socket
from pathlib import Path

from shoegen.cli.flags import ENGINE_FLAGS, add_base_model_flags, add_engine_flags
from shoegen.errors import ShoegenError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the API and the studio (FastAPI) on 127.0.0.1:8011",
        description="Serve the REST API: /api/generate, /api/jobs (with Server-Sent Events), /api/models, "
        "/api/runs (training runs: start, follow, stop, resume), /api/datasets, /api/recipes, /api/gallery, "
        "/api/presets, /api/health, and an AUTOMATIC1111-compatible /sdapi/v1 subset, with the web studio at / "
        "once built. OpenAPI docs at /docs. Besides the API the process runs a generation worker and a training "
        "worker for its device (one training run at a time, in a process of its own). "
        "Settings come from SHOEGEN_* environment variables (SHOEGEN_API_KEY, SHOEGEN_DATA_DIR, "
        "SHOEGEN_MODELS_DIR or MODELS_DIR, SHOEGEN_DATASETS_DIR, SHOEGEN_DATABASE_URL, SHOEGEN_CORS_ORIGINS, "
        "SHOEGEN_QUEUE_SIZE, SHOEGEN_TRAIN_PROCESSES, SHOEGEN_COMPILE, ...); the flags below override them. With --compile the start-up also compiles the engine "
        "for one image at the base's native size and logs how long that took.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8011)")
    add_base_model_flags(parser)
    parser.add_argument("--data-dir", type=Path, help="gallery database and images (default ./shoegen-data)")
    add_engine_flags(parser)
    role = parser.add_mutually_exclusive_group()
    role.add_argument("--api-only", dest="role", action="store_const", const="api",
                      help="serve the API without workers (generation and training jobs run on --workers-only "
                           "processes sharing the database; SHOEGEN_ROLE=api)")
    role.add_argument("--workers-only", dest="role", action="store_const", const="worker",
                      help="run the generation and training workers for this device and serve only /api/health "
                           "(SHOEGEN_ROLE=worker)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from shoegen.cli.generate import show_engine_log
    from shoegen.config.validation import build_settings
    from shoegen.service.app import create_app
    from shoegen.config.service import ServiceSettings

    overrides = {"host": args.host, "port": args.port, "base_model": args.base_model,
                 "models_dir": args.models_dir, "data_dir": args.data_dir, "role": getattr(args, "role", None),
                 **{name: getattr(args, name) for name in ENGINE_FLAGS if hasattr(args, name)}}
    settings = build_settings(ServiceSettings, {k: v for k, v in overrides.items() if v is not None}, what=None,
                              sentences=True, option=lambda field: ENGINE_FLAGS.get(field, (f"--{field}",))[-1])
    show_engine_log(verbose=settings.compile)  # the compile warm-up's seconds, or the reason it fell back
    listening = listening_socket(settings.host, settings.port)  # first: a port in use fails before the base loads
    app = create_app(settings)
    if settings.warm_up and settings.role != "api":
        # Before the server starts: a base that cannot load is a one-paragraph error, not uvicorn's startup
        # traceback (the app's start-up finds the engine loaded).
        app.state.services.engine.load()
    print(f"Shoes AI Generator API on http://{settings.host}:{settings.port} (docs at /docs), "
          f"base model {settings.base_model}, models from {settings.models_dir}", flush=True)
    # A bounded shutdown: open event streams and waiting /api/generate calls get 10 s, then are closed.
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", timeout_graceful_shutdown=10))
    server.run(sockets=[listening])
    return 0


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound to `host`:`port` before anything is loaded or announced; a ShoegenError naming
    them, with what to do, when it cannot be (uvicorn's own bind logs the OSError and exits)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:  # a host name's address is looked up here: gaierror (an OSError) when it has none
        listening.bind((host, port))
    except socket.gaierror as error:
        listening.close()
        raise ShoegenError(f"cannot serve on {host}:{port}: --host {host} is not a known address ({error.strerror})"
                           ) from None
    except OSError as error:
        listening.close()
        advice = {errno.EADDRINUSE: f"another program listens on port {port}: stop it, or pick another --port",
                  errno.EADDRNOTAVAIL: f"{host} is no address of this machine: use 127.0.0.1, or 0.0.0.0 for every "
                                       "address",
                  errno.EACCES: f"port {port} needs more privileges: pick a port above 1023"}.get(error.errno)
        reason = error.strerror or str(error)
        raise ShoegenError(f"cannot serve on {host}:{port}: {reason}" + (f"; {advice}" if advice else "")) from None
    listening.set_inheritable(True)
    return listening
