"""The FastAPI application: `create_app(settings)` wires engine, gallery and job queue; routes stay thin."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from shoegen import __version__
from shoegen.engine.engine import Engine
from shoegen.service.deps import Services
from shoegen.service.jobs import JobQueue
from shoegen.service.trainer import TrainingRuns
from shoegen.service.limits import BodySizeLimit
from shoegen.service.text_guard import RefuseNulCharacters
from shoegen.service.routes import api, datasets, gallery, jobs, masks, runs, sdapi
from shoegen.service.schemas import HealthPublic
from shoegen.config.engine import EngineSettings
from shoegen.config.service import ServiceSettings
from shoegen.storage import Gallery

log = logging.getLogger("shoegen.service")
REPOSITORY_WEB_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
MAX_PROBLEMS = 50
"""The most validation problems one 422 lists; the rest are counted."""


def build_services(settings: ServiceSettings, engine: Engine | None = None) -> Services:
    options = EngineSettings(**settings.model_dump(include=set(EngineSettings.model_fields)))
    engine = engine or Engine(settings.base_model, settings.models_dir, device=settings.device,
                              max_adapters=settings.max_adapters, preview_every=settings.preview_every,
                              settings=options)
    data_dir = Path(settings.data_dir)
    store = Gallery(settings.database_url, data_dir / "images") if settings.database_url \
        else Gallery.for_data_dir(data_dir)
    jobs = JobQueue(engine, store, settings.queue_size, settings.max_batch, lease_seconds=settings.job_lease_seconds,
                    retention=timedelta(days=settings.job_retention_days))
    training = TrainingRuns(store, settings.models_dir, max_queued=settings.queue_size,
                            lease_seconds=settings.job_lease_seconds, processes=settings.train_processes,
                            trains_here=settings.role != "api")
    return Services(settings, engine, store, jobs, training)


def create_app(settings: ServiceSettings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or ServiceSettings()
    services = build_services(settings, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        report = services.gallery.reconcile()
        if report.removed_rows or report.removed_files:
            log.warning("gallery cleanup after an unclean stop: %d rows without files and %d stray files removed",
                        report.removed_rows, report.removed_files)
        runs_worker = settings.role != "api"
        if settings.warm_up and runs_worker:
            services.engine.load()
            if settings.compile:
                services.engine.warm_up()  # the engine logs the seconds; other shapes compile on first use
        if runs_worker:
            services.jobs.start()
            services.training.start_worker()
        yield
        services.training.request_stop()  # its run writes a checkpoint while the generation worker stops
        services.jobs.stop()
        services.training.stop_worker()

    app = FastAPI(
        title="Shoes AI Generator",
        version=__version__,
        description="Generate product photos with Stable Diffusion 1.x and LoRA adapters; keep them in a "
        "searchable gallery. When SHOEGEN_API_KEY is set, send it as `Authorization: Bearer <key>` or "
        "`X-API-Key`.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.add_middleware(RefuseNulCharacters)  # inside the body limit, which bounds what it reads
    # One limit for every body, but the dataset upload's own (gigabytes of photos).
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       path_limits={"/api/datasets": settings.max_upload_bytes})
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["*"], expose_headers=["Retry-After"])

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        # Name each bad field; never echo the input back (it may be a huge base64 image).
        problems = error.errors()
        details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:  # 200,000 unknown keys would make an 18 MB answer
            details.append({"loc": [], "msg": f"and {len(problems) - MAX_PROBLEMS} more problems like these",
                            "type": "too_many_errors"})
        return JSONResponse({"detail": details}, status_code=422)

    if settings.role == "worker":
        # A worker process serves no requests but a liveness probe; the API replicas answer for its jobs.
        app.add_api_route("/api/health", api.health, response_model=HealthPublic, response_model_exclude_none=True,
                          summary="Worker status; details only with the API key when one is set")
        return app
    for router in (api.router, jobs.router, gallery.router, runs.recipes_router, runs.router, datasets.router,
                   masks.router, sdapi.router, sdapi.controlnet_router):
        app.include_router(router)
    web_dir = settings.web_dir or REPOSITORY_WEB_DIST
    if (web_dir / "index.html").is_file():
        # Mounted last: every API route above takes precedence over the UI's files.
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    return app
