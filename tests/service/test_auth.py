"""The API key (SHOEGEN_API_KEY): required everywhere but the minimal health answer, accepted as Bearer or
X-API-Key, and never echoed back or logged."""

from __future__ import annotations

import httpx
import pytest
from live_server import API_KEY, GENERATE

PROTECTED = [
    ("GET", "/api/models", None),
    ("POST", "/api/generate", GENERATE),
    ("POST", "/api/jobs", GENERATE),
    ("GET", "/api/jobs/some-id", None),
    ("GET", "/api/gallery", None),
    ("GET", "/api/gallery/models", None),
    ("POST", "/api/gallery/export", {"ids": []}),
    ("GET", "/sdapi/v1/options", None),
    ("POST", "/sdapi/v1/options", {"sd_model_checkpoint": "tiny"}),
    ("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 1, "width": 64, "height": 64}),
    ("GET", "/sdapi/v1/sd-models", None),
    ("GET", "/sdapi/v1/progress", None),
]


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_protected_routes_need_the_key(locked_server, method, path, body):
    for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY},
                    {"X-API-Key": API_KEY.upper()}, {"X-API-Key": API_KEY[:-1]}):
        response = httpx.request(method, locked_server.url + path, json=body, headers=headers, timeout=60)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_bearer_and_x_api_key_both_work(locked_server):
    for headers in ({"Authorization": f"Bearer {API_KEY}"}, {"X-API-Key": API_KEY}):
        with locked_server.client(**headers) as client:
            assert client.get("/api/models").status_code == 200
            assert client.get("/api/gallery").status_code == 200
            assert client.get("/sdapi/v1/options").status_code == 200
            response = client.post("/api/generate", json={**GENERATE, "num_inference_steps": 1})
            assert response.status_code == 200, response.text


def test_health_without_the_key_says_only_ok(locked_server):
    for headers in ({}, {"X-API-Key": "wrong"}):
        response = httpx.get(f"{locked_server.url}/api/health", headers=headers, timeout=30)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
    with locked_server.client(**{"X-API-Key": API_KEY}) as client:
        detailed = client.get("/api/health").json()
    assert detailed["base_model"] == "tiny" and "versions" in detailed


def test_the_key_never_appears_in_responses_or_the_log(locked_server):
    responses = []
    with locked_server.client(**{"Authorization": f"Bearer {API_KEY}"}) as client:
        for path in ("/api/health", "/sdapi/v1/options", "/api/models", "/openapi.json", "/docs", "/api/gallery",
                     "/sdapi/v1/sd-models", "/sdapi/v1/progress"):
            responses.append(client.get(path))
        responses.append(client.post("/api/generate", json={**GENERATE, "model_name": "nope"}))  # an error
        responses.append(client.post("/api/generate", json={**GENERATE, "seed": -1}))  # a 422
    responses.append(httpx.get(f"{locked_server.url}/api/models", headers={"X-API-Key": "wrong"}))  # a 401
    for response in responses:
        assert response.status_code < 500
        assert API_KEY not in response.text, response.request.url
        assert all(API_KEY not in value for value in response.headers.values()), response.request.url
    log = locked_server.log()
    assert "GET /api/models" in log  # the log is the real one, with the requests above in it
    assert API_KEY not in log
