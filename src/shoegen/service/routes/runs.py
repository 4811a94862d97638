"""Training runs for the models page: checkpoints, validation contact sheets, loss curve, evaluation scores with the
best checkpoint and their plot, captions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from shoegen.config.scores import BestCheckpoint, CheckpointScores
from shoegen.errors import ShoegenError
from shoegen.service.deps import Services, ServicesDep, require_api_key
from shoegen.training.runs import RunInfo, find_run, list_runs, training_captions

router = APIRouter(prefix="/api/runs", dependencies=[Depends(require_api_key)])


class CheckpointPublic(BaseModel):
    name: str
    step: int | None


class RunPublic(BaseModel):
    name: str
    checkpoints: list[CheckpointPublic]
    has_final: bool
    validation_steps: list[int]
    loss_curve_url: str | None
    scores: list[CheckpointScores] = Field(description="The last `shoegen evaluate`'s scores per model by step "
                                           "(step 0: the base without adapter); empty before the run is evaluated")
    best: BestCheckpoint | None = Field(description="The checkpoint the evaluation picked; generation takes it as "
                                        "RUN/best")
    scores_plot_url: str | None


class RunsPublic(BaseModel):
    runs: list[RunPublic]


def run_public(run: RunInfo) -> RunPublic:
    return RunPublic(name=run.name, checkpoints=[CheckpointPublic(name=c.name, step=c.step) for c in run.checkpoints],
                     has_final=run.has_final, validation_steps=run.validation_steps,
                     loss_curve_url=f"/api/runs/{run.name}/loss-curve" if run.has_loss_curve else None,
                     scores=run.scores, best=run.best,
                     scores_plot_url=f"/api/runs/{run.name}/scores-plot" if run.folder.scores_plot.is_file() else None)


def _run(services: Services, name: str) -> RunInfo:
    try:
        return find_run(services.settings.models_dir, name)
    except ShoegenError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{error}; the runs are listed at GET /api/runs") from None


@router.get("", response_model=RunsPublic, summary="Training runs under MODELS_DIR with their checkpoints")
def get_runs(services: ServicesDep) -> RunsPublic:
    return RunsPublic(runs=[run_public(run) for run in list_runs(services.settings.models_dir)])


@router.get("/{run_name}/loss-curve", response_class=FileResponse, summary="The run's loss-curve PNG",
            responses={200: {"content": {"image/png": {}}}})
def loss_curve(run_name: str, services: ServicesDep) -> FileResponse:
    run = _run(services, run_name)
    if not run.has_loss_curve:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_name!r} has no loss curve yet")
    return FileResponse(run.folder.loss_curve, media_type="image/png")


@router.get("/{run_name}/scores-plot", response_class=FileResponse, summary="The run's score-versus-step PNG",
            responses={200: {"content": {"image/png": {}}}})
def scores_plot(run_name: str, services: ServicesDep) -> FileResponse:
    run = _run(services, run_name)
    if not run.folder.scores_plot.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_name!r} is not evaluated yet (shoegen evaluate "
                            f"{run_name})")
    return FileResponse(run.folder.scores_plot, media_type="image/png")


@router.get("/{run_name}/validation/{step}", response_class=FileResponse,
            summary="The validation contact sheet of one step", responses={200: {"content": {"image/png": {}}}})
def validation_sheet(run_name: str, step: int, services: ServicesDep) -> FileResponse:
    run = _run(services, run_name)
    if step not in run.validation_steps:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_name!r} has no validation images at step {step}")
    return FileResponse(run.folder.validation_sheet(step), media_type="image/png")


@router.get("/{run_name}/captions", response_model=list[str],
            summary="Captions of the run's training data, for prompt suggestions")
def captions(run_name: str, services: ServicesDep) -> list[str]:
    return training_captions(_run(services, run_name))
