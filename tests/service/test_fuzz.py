"""Schemathesis against the live server: no request the OpenAPI schema allows (or nearly allows) may get
a 5xx.

The schema is built in-process at collection time (schemathesis' pytest integration needs it before any
fixture runs; its lazy `from_fixture` loader does not work with pytest 9) and checked to be the very
schema the live server publishes at /openapi.json. Cases go to the locked server (API key, queue of
two). Valid generation requests are made cheap before they are sent (one step, 64 px, one image):
the fuzzer still reaches the engine, the job queue and the gallery, but an accepted 2048 px x 150 step
request would take the whole test budget on a CPU.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from live_server import API_KEY
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

# Fields that set the cost of a generation, per route, and their cheap values. A value inside the valid
# range (or a missing one, whose default is 512 px and 20-30 steps) is lowered; invalid ones stay as drawn.
NATIVE_COST = {"num_inference_steps": (1, 150, 1), "num_images": (1, 10, 1), "width": (64, 2048, 64),
               "height": (64, 2048, 64)}
SDAPI_COST = {"steps": (1, 150, 1), "batch_size": (1, 10, 1), "n_iter": (1, 10, 1), "width": (64, 2048, 64),
              "height": (64, 2048, 64)}


def published_schema() -> dict:
    from shoegen.service.app import create_app
    from shoegen.config.service import ServiceSettings

    with tempfile.TemporaryDirectory(prefix="shoegen-openapi-", ignore_cleanup_errors=True) as folder:
        # Every setting given, so that no SHOEGEN_* variable of the shell (a database URL...) is used.
        settings_ = ServiceSettings(base_model="tiny", models_dir=Path(folder), data_dir=Path(folder) / "data",
                                    database_url=None, api_key=None, warm_up=False, web_dir=Path(folder))
        app = create_app(settings_)
        app.state.services.gallery.close()
        return app.openapi()


OPENAPI = published_schema()
GENERATING = ["/api/generate", "/api/jobs", "/sdapi/v1/txt2img", "/sdapi/v1/img2img"]
CONFIG = SchemathesisConfig.from_dict({
    "generation": {"mode": "all", "max-examples": 25, "database": "none"},
    # Coverage (boundary values of every field) for the cheap operations; a few random examples for the
    # ones that may reach the engine, each of which costs a real generation.
    "phases": {"coverage": {"enabled": True}, "stateful": {"enabled": False}},
    "operations": [{"include-path": GENERATING, "include-method": "POST", "phases": {"coverage": {"enabled": False}},
                    "generation": {"max-examples": 6}}],
})
schema = schemathesis.openapi.from_dict(OPENAPI, config=CONFIG)


def make_cheap(case) -> None:
    if case.method != "POST" or case.path not in GENERATING or not isinstance(case.body, dict):
        return
    for key, (low, high, cheap) in (SDAPI_COST if case.path.startswith("/sdapi") else NATIVE_COST).items():
        value = case.body.get(key, low)
        # 80.0 counts too: the schemas take integral floats as integers.
        integral = type(value) is int or (type(value) is float and value.is_integer())
        if integral and low <= value <= high:
            case.body[key] = cheap


@pytest.fixture(scope="module")
def target(locked_server) -> str:
    published = httpx.get(f"{locked_server.url}/openapi.json").json()
    assert published == OPENAPI, "the fuzzed schema must be the one the server publishes"
    yield locked_server.url
    # Leave the server idle for the tests that count its queue.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        queue = httpx.get(f"{locked_server.url}/api/health", headers={"X-API-Key": API_KEY}).json()["queue"]
        if queue == {"depth": 0, "running": None}:
            break
        time.sleep(0.2)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_no_request_gets_a_server_error(case, target):
    make_cheap(case)
    case.call_and_validate(base_url=target, headers={"X-API-Key": API_KEY}, checks=[not_a_server_error],
                           timeout=120)
