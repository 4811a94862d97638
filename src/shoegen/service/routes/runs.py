"""Training runs: start one from a recipe (a job of the durable queue), follow it (status, log, validation images),
steer it (stop, save, sample, resume, validation prompts), delete it; and for the models page its checkpoints,
loss curve, evaluation scores with the best checkpoint and their plot, captions. Runs started with `shoegen train`
in a terminal into MODELS_DIR are listed too."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from shoegen.config.generation import MAX_REQUEST_SEED, Steps
from shoegen.config.scores import (DEFAULT_BEST_METRIC, EVALUATION_MAX_SEEDS, EVALUATION_SEED, EVALUATION_SEEDS,
                                   METRIC_GROUPS, BestCheckpoint, CheckpointScores)
from shoegen.errors import ShoegenError
from shoegen.service.deps import Services, ServicesDep, require_api_key
from shoegen.service.training_settings import (RecipesPublic, RunCreate, ValidationPrompts, recipes_public,
                                               run_config)
from shoegen.service.trainer import RunError, RunState
from shoegen.training.logs import current_loss_curve, read_log
from shoegen.training.runs import RunInfo, find_run, list_runs, training_captions

log = logging.getLogger("shoegen.service")
router = APIRouter(prefix="/api/runs", dependencies=[Depends(require_api_key)])
recipes_router = APIRouter(prefix="/api", dependencies=[Depends(require_api_key)])


@recipes_router.get("/recipes", response_model=RecipesPublic,
                    summary="Training recipes to start a run from, and every training setting with its bounds and help")
def get_recipes(services: ServicesDep) -> RecipesPublic:
    return recipes_public(services.engine.base_model)


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
    status: str = Field(description="queued | running | stopping | stopped | interrupted | done | error | cancelled")
    source: str = Field(description="studio (a training job of the queue) | terminal (`shoegen train` in a shell)")
    job_id: str | None
    position: int | None = Field(description="place in the training queue while queued (1: the next to run)")
    waiting_reason: str | None = Field(description="why a queued run has not started yet, or what a new run does "
                                       "before its first step")
    error: str | None
    resumable: bool = Field(description="stopped, interrupted, failed or cancelled: POST .../resume continues it "
                            "from its latest checkpoint")
    step: int = Field(description="the last optimizer step logged")
    max_steps: int
    loss: float | None = Field(description="training loss at `step`")
    lr: float | None
    steps_per_second: float | None = Field(description="over the last 20 steps, while it trains")
    eta_seconds: float | None
    dataset: str | None = Field(description="the training data folder (run.yaml's dataset_path)")
    base_model: str | None
    validation_prompts: list[str] | None = Field(description="the prompts the next validation uses (None: the "
                                                 "first two training captions)")
    started_at: datetime | None
    finished_at: datetime | None
    evaluation: EvaluationPublic | None = Field(description="the studio's last evaluation of the run (POST "
                                                ".../evaluate); None when it was never evaluated from the studio")


class EvaluationPublic(BaseModel):
    """The studio's last evaluation of a run (`shoegen evaluate` run by the training worker)."""

    job_id: str
    status: str = Field(description="queued | running | done | error | cancelled | interrupted")
    images_done: int
    images_total: int = Field(description="every model's images (0 until the evaluation has started)")
    waiting_reason: str | None = Field(description="why a queued evaluation has not started yet")
    settings: dict[str, Any]
    error: str | None
    notices: list[str] = Field(description="what a finished evaluation skipped, and why (a model whose weights are "
                               "not at hand, the run's training photos unreadable)")
    finished_at: datetime | None


class EvaluationCreate(BaseModel):
    """What an evaluation generates and how it picks the best checkpoint (as `shoegen evaluate`'s flags)."""

    model_config = ConfigDict(extra="forbid")
    seeds: int = Field(EVALUATION_SEEDS, ge=1, le=EVALUATION_MAX_SEEDS,
                       description="images per prompt and model (seed diversity needs at least 2)")
    seed: int = Field(EVALUATION_SEED, ge=0, le=MAX_REQUEST_SEED - EVALUATION_MAX_SEEDS, description="first seed")
    steps: Steps | None = Field(None, description="denoising steps per image (default: the generation default)")
    metrics: list[str] = Field(list(METRIC_GROUPS), min_length=1, description=f"groups out of "
                               f"{', '.join(METRIC_GROUPS)}; a model whose weights are not at hand is skipped")
    best_metric: str = Field(DEFAULT_BEST_METRIC, description="the metric the best checkpoint is picked by")


class RunsPublic(BaseModel):
    runs: list[RunPublic]


def run_public(run: RunInfo, state: RunState) -> RunPublic:
    values = state.settings
    job = state.job
    return RunPublic(name=run.name, checkpoints=[CheckpointPublic(name=c.name, step=c.step) for c in run.checkpoints],
                     has_final=run.has_final, validation_steps=run.validation_steps,
                     loss_curve_url=f"/api/runs/{run.name}/loss-curve" if run.has_loss_curve else None,
                     scores=run.scores, best=run.best,
                     scores_plot_url=f"/api/runs/{run.name}/scores-plot" if run.folder.scores_plot.is_file() else None,
                     status=state.status, source=state.source, job_id=job.id if job else None,
                     position=state.position, waiting_reason=state.waiting_reason, error=state.error,
                     resumable=state.resumable, step=state.step, max_steps=state.max_steps, loss=state.loss,
                     lr=state.lr, steps_per_second=state.steps_per_second, eta_seconds=state.eta_seconds,
                     dataset=_text(values.get("dataset_path")),
                     base_model=_text(values.get("pretrained_model_name_or_path")),
                     validation_prompts=run.folder.validation_prompts(values),
                     started_at=job.started_at if job else None, finished_at=job.finished_at if job else None,
                     evaluation=_evaluation(state))


def _evaluation(state: RunState) -> EvaluationPublic | None:
    job = state.evaluation
    if job is None:
        return None
    settings = {key: value for key, value in job.params.items() if key != "run"}
    return EvaluationPublic(job_id=job.id, status=job.status, images_done=job.step, images_total=job.total_steps,
                            waiting_reason=state.evaluation_waiting, settings=settings, error=job.error,
                            notices=job.warnings, finished_at=job.finished_at)


def _text(value: object) -> str | None:
    """A run.yaml value as written, when it is text (a hand-edited file may hold anything)."""
    return value if isinstance(value, str) else None


def _run(services: Services, name: str) -> RunInfo:
    try:
        return find_run(services.settings.models_dir, name)
    except ShoegenError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{error}; the runs are listed at GET /api/runs") from None


def _public(services: Services, name: str) -> RunPublic:
    run = _run(services, name)
    return run_public(run, services.training.state(run.folder))


def _steer(services: Services, name: str, action) -> RunPublic:
    run = _run(services, name)
    try:
        action(run.folder)
    except RunError as error:
        raise HTTPException(error.status, str(error)) from None
    return run_public(run, services.training.state(run.folder))


@router.get("", response_model=RunsPublic, summary="Training runs under MODELS_DIR: their state, checkpoints, scores")
def get_runs(services: ServicesDep) -> RunsPublic:
    runs = list_runs(services.settings.models_dir)
    states = services.training.states([run.folder for run in runs])
    return RunsPublic(runs=[run_public(run, state) for run, state in zip(runs, states)])


@router.post("", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED,
             summary="Start a training run from a recipe: it waits in the training queue, then a worker trains it",
             responses={404: {"description": "unknown dataset or recipe"}, 409: {"description": "the name is taken"},
                        422: {"description": "a setting is refused; the message names it"},
                        429: {"description": "the training queue is full"}})
def create_run(body: RunCreate, services: ServicesDep) -> RunPublic:
    try:
        services.training.create(body.name, run_config(body, services))
    except RunError as error:
        raise HTTPException(error.status, str(error)) from None
    return _public(services, body.name)


@router.get("/{run_name}", response_model=RunPublic, summary="One run's state")
def get_run(run_name: str, services: ServicesDep) -> RunPublic:
    return _public(services, run_name)


class RunLogPublic(BaseModel):
    records: list[dict[str, Any]] = Field(description="one per step from `since_step` on (inclusive: a step's "
                                          "validation loss may arrive after its training loss), each with step and "
                                          "what was measured then: loss, lr, seconds, val_loss, prior_loss, "
                                          "score_<metric>")
    last_step: int


@router.get("/{run_name}/log", response_model=RunLogPublic,
            summary="The run's train log from a step on, for a loss chart that is read incrementally")
def run_log(run_name: str, services: ServicesDep,
            since_step: int = Query(0, ge=0, description="the last step the client has; it is sent again")
            ) -> RunLogPublic:
    records = read_log(_run(services, run_name).folder)
    return RunLogPublic(records=[r for r in records if r["step"] >= since_step],
                        last_step=records[-1]["step"] if records else 0)


@router.post("/{run_name}/stop", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED,
             summary="Stop the run: a queued run is cancelled, a running one writes a checkpoint first")
def stop_run(run_name: str, services: ServicesDep) -> RunPublic:
    return _steer(services, run_name, services.training.stop)


@router.post("/{run_name}/save", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED,
             summary="Write a checkpoint at the run's next step")
def save_run(run_name: str, services: ServicesDep) -> RunPublic:
    return _steer(services, run_name, lambda folder: services.training.request(folder, "save"))


@router.post("/{run_name}/sample", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED,
             summary="Make validation images (and validation loss) at the run's next step")
def sample_run(run_name: str, services: ServicesDep) -> RunPublic:
    return _steer(services, run_name, lambda folder: services.training.request(folder, "sample"))


@router.post("/{run_name}/resume", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED,
             summary="Queue a stopped, interrupted or failed run again: it continues from its latest checkpoint",
             responses={404: {"description": "unknown run"}, 409: {"description": "the run is not resumable"},
                        422: {"description": "the run's process would refuse to start (`detail`, a string, names "
                                             "the run.yaml setting or the dataset that is wrong)"},
                        429: {"description": "the training queue is full"}})
def resume_run(run_name: str, services: ServicesDep) -> RunPublic:
    return _steer(services, run_name, services.training.resume)


@router.post("/{run_name}/evaluate", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED,
             summary="Score every checkpoint of the run and pick the best one (`shoegen evaluate`, run by the "
             "training worker when no training run waits); cancel it with DELETE /api/jobs/{evaluation.job_id}",
             responses={404: {"description": "unknown run"},
                        409: {"description": "the run is training, or is being evaluated already"},
                        422: {"description": "a setting is refused, or the run has no checkpoint yet"},
                        429: {"description": "the queue is full"}})
def evaluate_run(run_name: str, body: EvaluationCreate, services: ServicesDep) -> RunPublic:
    run = _run(services, run_name)
    try:
        services.training.evaluate(run, body.model_dump())
    except RunError as error:
        raise HTTPException(error.status, str(error)) from None
    return run_public(run, services.training.state(run.folder))


class ValidationPromptsUpdate(BaseModel):
    prompts: ValidationPrompts = Field(min_length=1, description="the next validation's prompts")


@router.put("/{run_name}/validation-prompts", response_model=RunPublic,
            summary="Set the prompts of the run's validation images; the next validation uses them")
def set_validation_prompts(run_name: str, body: ValidationPromptsUpdate, services: ServicesDep) -> RunPublic:
    prompts = [prompt.strip() for prompt in body.prompts]
    if not all(prompts):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "prompts: a validation prompt is empty")
    run = _run(services, run_name)
    run.folder.write_validation_prompts(prompts)
    return run_public(run, services.training.state(run.folder))


@router.delete("/{run_name}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a run's folder: checkpoints, adapter, logs (refused while it is queued or running)")
def delete_run(run_name: str, services: ServicesDep) -> Response:
    run = _run(services, run_name)
    try:
        services.training.delete(run.folder)
    except RunError as error:
        raise HTTPException(error.status, str(error)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{run_name}/loss-curve", response_class=Response,
            summary="The run's loss-curve PNG, drawn again when its log has changed since (so while the run trains)",
            responses={200: {"content": {"image/png": {}}}})
def loss_curve(run_name: str, services: ServicesDep) -> Response:
    run = _run(services, run_name)
    try:
        picture = current_loss_curve(run.folder)
    except Exception as error:  # a full or read-only models folder, say: the picture drawn before still answers
        log.warning("could not draw the loss curve of run %s: %s", run_name, error)
        picture = run.folder.loss_curve if run.folder.loss_curve.is_file() else None
        if picture is None:
            raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR,
                                f"could not draw the loss curve of run {run_name!r}: {error}") from None
    if picture is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_name!r} has no loss curve yet")
    # Read whole, once: another request's drawing may replace the file between a size check and the read.
    return Response(picture.read_bytes(), media_type="image/png")


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
