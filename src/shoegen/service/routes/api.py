"""The original system's routes: generate, models, health; and the ControlNets and upscalers a request can name."""

from __future__ import annotations

import importlib.metadata

from fastapi import APIRouter, Depends, HTTPException, status

from shoegen.config.scores import PRESETS, MarketplaceRules
from shoegen.engine.engine import FAR_FROM_NATIVE
from shoegen.errors import ShoegenError
from shoegen.service.deps import ApiKeyHeaderDep, BearerDep, ServicesDep, presented_key_is_valid, require_api_key
from shoegen.service.generation import submit, to_generation_request, wait_for
from shoegen.service.images import png_base64
from shoegen.service.schemas import (GenerateCreate, GeneratePublic, HealthPublic, HelperModelPublic, ImagePublic,
                                     ModelPublic, ModelsPublic)

router = APIRouter(prefix="/api")


@router.post("/generate", response_model=GeneratePublic, dependencies=[Depends(require_api_key)],
             summary="Generate images and wait for them (goes through the job queue)")
async def generate(body: GenerateCreate, services: ServicesDep) -> GeneratePublic:
    job = await wait_for(services, submit(services, to_generation_request(body, services)))
    images = [ImagePublic(id=image.id, image=png_base64(image.path), seed=image.params.seed, metadata=image.params)
              for image in job.images]
    return GeneratePublic(success=True, images=images, generation_time=job.generation_time or 0.0,
                          warnings=job.warnings)


@router.get("/models", response_model=ModelsPublic, dependencies=[Depends(require_api_key)],
            summary="The base model (with its native size) and every run's checkpoints and final weights")
def list_models(services: ServicesDep) -> ModelsPublic:
    root = services.settings.models_dir.resolve()
    models = []
    for entry in services.engine.list_models():
        path = entry.name if entry.type == "base" else str(entry.path.relative_to(root))
        models.append(ModelPublic(name=entry.name, path=path, type=entry.type, step=entry.step))
    try:
        width, height = services.engine.native_size()
    except ShoegenError as error:  # the base cannot be loaded (offline, a wrong id): say so, not a 500
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"the base model is not available: {error}") from None
    return ModelsPublic(models=models, native_width=width, native_height=height, far_from_native=FAR_FROM_NATIVE)


@router.get("/controlnets", response_model=list[HelperModelPublic], dependencies=[Depends(require_api_key)],
            summary="The ControlNets usable without the hub: MODELS_DIR/controlnets/ folders, hub ids in the local "
                    "cache, the built-in tiny one (any other hub id is fetched where the hub is reachable)")
def list_controlnets(services: ServicesDep) -> list[HelperModelPublic]:
    from shoegen.models.controlnets import available_controlnets

    return [HelperModelPublic(name=name, source=source)
            for name, source in available_controlnets(services.settings.models_dir)]


@router.get("/upscalers", response_model=list[HelperModelPublic], dependencies=[Depends(require_api_key)],
            summary="The hires fix's upscalers: the built-in lanczos and the model files of MODELS_DIR/upscalers/")
def list_upscalers(services: ServicesDep) -> list[HelperModelPublic]:
    from shoegen.models.upscalers import LANCZOS, upscaler_names

    return [HelperModelPublic(name=name, source="built-in" if name == LANCZOS else "file")
            for name in upscaler_names(services.settings.models_dir)]


@router.get("/presets", response_model=list[MarketplaceRules], dependencies=[Depends(require_api_key)],
            summary="The marketplace presets gallery images are checked against (the gallery's `passes` filter)")
def list_presets() -> list[MarketplaceRules]:
    return list(PRESETS.values())


@router.get("/health", response_model=HealthPublic, response_model_exclude_none=True,
            summary="Service status; details only with the API key when one is set")
def health(services: ServicesDep, bearer_credentials: BearerDep, header_key: ApiKeyHeaderDep) -> HealthPublic:
    if not presented_key_is_valid(services, bearer_credentials, header_key):
        return HealthPublic(status="ok")
    engine = services.engine
    running = services.jobs.running()
    versions = {name: importlib.metadata.version(name) for name in ("shoegen", "torch", "diffusers", "peft")}
    return HealthPublic(
        status="ok", device=str(engine.device), base_model=engine.base_model, base_model_loaded=engine.is_loaded,
        loaded_models=engine.loaded_adapters(), memory=engine.memory(),
        queue={"depth": services.jobs.depth(), "running": running.id if running else None}, versions=versions,
    )
