"""Dependencies shared by the routes: the app's services, and the API-key check."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shoegen.engine.engine import Engine
from shoegen.service.jobs import JobQueue
from shoegen.service.trainer import TrainingRuns
from shoegen.config.service import ServiceSettings
from shoegen.storage import Gallery, OptionStore

SDAPI_CHECKPOINT = "sd_model_checkpoint"


@dataclass
class Services:
    settings: ServiceSettings
    engine: Engine
    gallery: Gallery
    jobs: JobQueue
    training: TrainingRuns

    @property
    def sdapi_checkpoint(self) -> str | None:
        """The model /sdapi requests use, set through POST /sdapi/v1/options on any replica (None: the base)."""
        return OptionStore(self.gallery).get(SDAPI_CHECKPOINT)

    @sdapi_checkpoint.setter
    def sdapi_checkpoint(self, name: str | None) -> None:
        OptionStore(self.gallery).set(SDAPI_CHECKPOINT, name)


def get_services(request: Request) -> Services:
    return request.app.state.services


bearer = HTTPBearer(auto_error=False, description="the API key as a Bearer token")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")

ServicesDep = Annotated[Services, Depends(get_services)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
ApiKeyHeaderDep = Annotated[str | None, Depends(api_key_header)]


def presented_key_is_valid(services: Services, bearer_credentials, header_key: str | None) -> bool:
    expected = services.settings.api_key
    if expected is None:
        return True
    presented = header_key or (bearer_credentials.credentials if bearer_credentials else None)
    return presented is not None and hmac.compare_digest(presented.encode(), expected.get_secret_value().encode())


def require_api_key(services: ServicesDep, bearer_credentials: BearerDep, header_key: ApiKeyHeaderDep) -> None:
    if not presented_key_is_valid(services, bearer_credentials, header_key):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid API key",
                            headers={"WWW-Authenticate": "Bearer"})
