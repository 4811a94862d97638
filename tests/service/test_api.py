"""The original system's routes over real HTTP: /api/generate, /api/models, /api/health; names that try to
leave MODELS_DIR; request validation and size limits."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from live_server import GENERATE, PROMPT, decode_png, generate_pixels, pixels, png_base64
from PIL import Image

from shoegen.storage import read_png_parameters


def test_generate_keeps_the_original_contract(client, tmp_path):
    response = client.post("/api/generate", json={**GENERATE, "num_images": 2, "seed": 1234})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert isinstance(body["generation_time"], float) and body["generation_time"] > 0
    assert [image["seed"] for image in body["images"]] == [1234, 1235]
    for image in body["images"]:
        decoded = decode_png(image["image"])
        assert decoded.size == (64, 64)
        assert image["metadata"]["prompt"] == PROMPT
        assert image["metadata"]["seed"] == image["seed"]
        assert image["metadata"]["num_inference_steps"] == 2 and image["metadata"]["model_name"] == "tiny"
        # The PNG carries its own parameters, readable by A1111-compatible tools.
        path = tmp_path / f"{image['seed']}.png"
        path.write_bytes(base64.b64decode(image["image"]))
        infotext, params = read_png_parameters(path)
        assert infotext.startswith(PROMPT) and f"Seed: {image['seed']}" in infotext
        assert params["seed"] == image["seed"]


def test_omitted_fields_get_their_defaults(client):
    # The original clients send only what they need. Size and steps are still given, to keep it fast.
    response = client.post("/api/generate", json={"prompt": "white sneakers", "num_inference_steps": 1,
                                                   "width": 64, "height": 64})
    assert response.status_code == 200, response.text
    image = response.json()["images"][0]
    assert image["metadata"]["sampler"] == "DPM++ 2M Karras"
    assert image["metadata"]["guidance_scale"] == 7.5
    assert isinstance(image["seed"], int)


def test_models_lists_the_base_and_every_run_and_checkpoint(client, escape_names):
    response = client.get("/api/models")
    assert response.status_code == 200
    models = {m["name"]: m for m in response.json()["models"]}
    assert {name: (m["type"], m["step"]) for name, m in models.items()} == {
        "tiny": ("base", None),
        "shoesA": ("final", None), "shoesA/checkpoint-4": ("checkpoint", 4), "shoesA/checkpoint-8": ("checkpoint", 8),
        "shoesB": ("final", None), "shoesB/checkpoint-4": ("checkpoint", 4), "shoesB/checkpoint-8": ("checkpoint", 8),
    }
    assert models["shoesA/checkpoint-4"]["path"] == "shoesA/checkpoints/checkpoint-4/pytorch_lora_weights.safetensors"
    assert not any(name in models for name in escape_names)
    assert all(not m["path"].startswith("/") for m in models.values())  # no server paths leak


def test_health_reports_the_engine(client):
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["device"] == "cpu"
    assert health["base_model"] == "tiny"
    assert health["base_model_loaded"] is True  # warmed up at start
    assert isinstance(health["loaded_models"], list)
    assert health["memory"]["rss_mb"] > 0
    assert set(health["queue"]) == {"depth", "running"}
    assert {"shoegen", "torch", "diffusers", "peft"} <= set(health["versions"])


def test_switching_adapters_over_http_gives_each_its_own_pixels_back(client):
    a_first = generate_pixels(client, model_name="shoesA", seed=3)
    b = generate_pixels(client, model_name="shoesB", seed=3)
    a_again = generate_pixels(client, model_name="shoesA", seed=3)
    base = generate_pixels(client, model_name="tiny", seed=3)
    assert np.array_equal(a_first, a_again)
    assert not np.array_equal(a_first, b)
    assert not np.array_equal(a_first, base)
    health = client.get("/api/health").json()
    assert {"shoesA", "shoesB"} <= set(health["loaded_models"])


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "shoesA/../../x", "shoesA/../shoesB", "..", "shoesA/",
                                  "escape", "escape/checkpoint-4", "escaped-file", "shoesB/checkpoint-99",
                                  "C:\\Windows\\win.ini"])
def test_model_names_that_leave_models_dir_are_404(client, name):
    bodies = [{**GENERATE, "model_name": name}, {**GENERATE, "loras": [{"name": name, "weight": 1.0}]}]
    if ":" not in name:  # a name with a colon cannot be written as a <lora:name:weight> tag
        bodies.append({**GENERATE, "prompt": f"{PROMPT} <lora:{name}:1>"})
    for body in bodies:
        response = client.post("/api/generate", json=body)
        assert response.status_code == 404, (body, response.text)
        assert "unknown model" in response.json()["detail"]
        assert "Traceback" not in response.text


def test_sdapi_checkpoint_names_that_leave_models_dir_are_404(client, escape_names):
    for name in ("../x", "/etc/passwd", *escape_names):
        assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": name}).status_code == 404
    assert client.get("/sdapi/v1/options").json()["sd_model_checkpoint"] == "tiny"


def locations(response) -> list[list]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(("change", "field"), [
    ({"prompt": None}, "prompt"),
    ({"prompt": ""}, "prompt"),
    ({"num_images": 11}, "num_images"),
    ({"num_images": 0}, "num_images"),
    ({"width": 65}, "width"),
    ({"height": 4096}, "height"),
    ({"num_inference_steps": 151}, "num_inference_steps"),
    ({"guidance_scale": -1}, "guidance_scale"),
    ({"seed": -5}, "seed"),
    ({"seed": 2**32}, "seed"),
    ({"width": True}, "width"),
    ({"num_inference_steps": False}, "num_inference_steps"),
    ({"guidance_scale": True}, "guidance_scale"),
    ({"sampler": "Heun++ 9000"}, "sampler"),
    ({"strength": 0}, "strength"),
    ({"unexpected": 1}, "unexpected"),
])
def test_invalid_fields_are_422_naming_the_field(client, change, field):
    body = {**GENERATE, **change}
    body = {k: v for k, v in body.items() if v is not None or k == "model_name"}
    assert ["body", field] in locations(client.post("/api/generate", json=body))


def test_every_image_of_a_request_gets_a_seed_that_can_be_asked_for_again(client):
    """Image i gets seed + i: a first seed whose last image would pass the largest seed is refused (it wrapped to
    seed 0, another image than its seed field says)."""
    response = client.post("/api/generate", json={**GENERATE, "seed": 2**32 - 1, "num_images": 2})
    assert response.status_code == 422, response.text
    assert "`seed` 4294967295 with 2 images (`num_images`) gives the last one seed 4294967296, over the largest seed " \
        "4294967295: use a `seed` of at most 4294967294" in response.text


def test_the_hires_fix_result_is_bound_like_a_side(client):
    """2048 x 2048 with hires_scale 4 would be 8192 x 8192, hours of the one worker: refused with the way out."""
    response = client.post("/api/generate", json={**GENERATE, "width": 2048, "height": 2048, "hires_scale": 4})
    assert response.status_code == 422, response.text
    assert "8192x8192, over the 2048 px limit a side: ask for a smaller `width` x `height`" in response.text
    response = client.post("/api/generate", json={**GENERATE, "width": 1024, "height": 512, "hires_scale": 4})
    assert "use a `hires_scale` of at most 2.00" in response.text


def test_a_422_does_not_echo_a_huge_input(client):
    response = client.post("/api/generate", json={**GENERATE, "prompt": "x" * 5000})
    assert ["body", "prompt"] in locations(response)
    assert len(response.content) < 1000


def test_a_body_over_the_limit_is_413(client):
    huge = {**GENERATE, "init_image": "A" * 250_000}
    assert client.post("/api/generate", json=huge).status_code == 413


def test_a_chunked_body_over_the_limit_is_413(client):
    payload = json.dumps({**GENERATE, "init_image": "A" * 250_000}).encode()

    def chunks():  # no Content-Length: the limit must hold while reading
        for start in range(0, len(payload), 16_384):
            yield payload[start:start + 16_384]

    response = client.post("/api/generate", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def bomb(side: int) -> str:
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG")  # a few kB that claim side x side pixels
    return base64.b64encode(buffer.getvalue()).decode()


def test_an_init_image_over_the_pixel_limit_is_413(client):
    response = client.post("/api/generate", json={**GENERATE, "init_image": bomb(5000)})
    assert response.status_code == 413
    assert "pixel limit" in response.json()["detail"]


@pytest.mark.parametrize("side", [12_000, 20_000])
def test_a_decompression_bomb_is_413(client, side):
    response = client.post("/api/generate", json={**GENERATE, "init_image": bomb(side)})
    assert response.status_code == 413


@pytest.mark.parametrize("garbage", ["not base64 at all!", base64.b64encode(b"GIF89a but not really").decode(),
                                     "data:image/png;base64,@@@@"])
def test_an_unreadable_init_image_is_422(client, garbage):
    response = client.post("/api/generate", json={**GENERATE, "init_image": garbage})
    assert response.status_code == 422
    assert "init_image" in response.json()["detail"]


def test_img2img_over_http_uses_the_init_image(client, sample_dataset):
    photo = Image.open(sorted((sample_dataset / "images").iterdir())[0]).convert("RGB").resize((64, 64))
    for data in (png_base64(photo), "data:image/png;base64," + png_base64(photo)):
        response = client.post("/api/generate", json={**GENERATE, "init_image": data, "strength": 0.5,
                                                      "num_inference_steps": 4})
        assert response.status_code == 200, response.text
        assert response.json()["images"][0]["metadata"]["strength"] == 0.5


def test_unknown_routes_and_methods_are_not_500(client):
    assert client.get("/api/nope").status_code == 404
    assert client.put("/api/generate", json=GENERATE).status_code == 405
    assert client.post("/api/generate", content=b"{not json", headers={"Content-Type": "application/json"}
                       ).status_code == 422


def test_the_default_size_is_the_base_models_native_size_which_models_reports(client):
    listing = client.get("/api/models").json()
    assert (listing["native_width"], listing["native_height"], listing["far_from_native"]) == (64, 64, 2.0)  # tiny
    body = {key: value for key, value in GENERATE.items() if key not in ("width", "height")}
    response = client.post("/api/generate", json=body)
    assert response.status_code == 200, response.text
    image = response.json()["images"][0]
    assert decode_png(image["image"]).size == (64, 64)
    assert (image["metadata"]["width"], image["metadata"]["height"]) == (64, 64)
    assert response.json()["warnings"] == []
    far = client.post("/api/generate", json={**GENERATE, "width": 256, "num_inference_steps": 1}).json()
    assert len(far["warnings"]) == 1 and "far from this base's native 64x64" in far["warnings"][0]


def test_clip_skip_reaches_the_image_its_record_and_its_png(client, tmp_path):
    skip_one = generate_pixels(client)
    response = client.post("/api/generate", json={**GENERATE, "clip_skip": 2})
    assert response.status_code == 200, response.text
    image = response.json()["images"][0]
    assert not np.array_equal(pixels(decode_png(image["image"])), skip_one)
    assert image["metadata"]["clip_skip"] == 2
    assert client.get(f"/api/gallery/{image['id']}").json()["clip_skip"] == 2
    path = tmp_path / "skip.png"
    path.write_bytes(base64.b64decode(image["image"]))
    infotext, params = read_png_parameters(path)
    assert "Clip skip: 2" in infotext and params["clip_skip"] == 2
    for bad in (0, 13, "two"):
        refused = client.post("/api/generate", json={**GENERATE, "clip_skip": bad})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "clip_skip"]


def test_requests_bound_to_fail_are_refused_when_queued_not_later(client):
    photo = png_base64(Image.new("RGB", (64, 64), "white"))
    for body, words in (({"num_inference_steps": 1, "strength": 0.5, "init_image": photo}, "steps x strength"),
                        ({"clip_skip": 5}, "has 2 layers"),  # the tiny base's text encoder has 2 layers
                        ({"width": 1024, "height": None, "hires_scale": 4}, "4096x256, over the 2048 px limit")):
        response = client.post("/api/jobs", json={**GENERATE, **body})  # height None: the base's native 64
        assert response.status_code == 422 and words in response.json()["detail"], response.text


def test_a_body_with_many_problems_lists_the_first_fifty_and_counts_the_rest(client):
    response = client.post("/api/jobs", json={**GENERATE, **{f"nope{index}": 1 for index in range(5000)}})
    assert response.status_code == 422 and len(response.content) < 10_000
    details = response.json()["detail"]
    assert len(details) == 51 and details[0]["loc"] == ["body", "nope0"]
    assert details[-1] == {"loc": [], "msg": "and 4950 more problems like these", "type": "too_many_errors"}


@pytest.mark.parametrize("tag", ["<lora:shoesA:abc>", "<LoRA:shoesA>", "<lora:shoesA", "<lora:shoesA:0.5:0.5>"])
def test_an_adapter_tag_that_does_not_read_is_refused_not_drawn_as_words(client, tag):
    response = client.post("/api/jobs", json={**GENERATE, "prompt": f"{PROMPT} {tag}"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (f"{tag} in the prompt: an adapter tag is written <lora:NAME> or "
                                         "<lora:NAME:WEIGHT> with a number as the weight, e.g. <lora:shoes:0.8>")


def test_a_base_that_cannot_load_makes_the_model_listing_a_clear_503(tmp_path):
    from fastapi.testclient import TestClient

    from shoegen.config.service import ServiceSettings
    from shoegen.service.app import create_app

    settings = ServiceSettings(base_model="no-such-owner/no-such-model", data_dir=tmp_path, models_dir=tmp_path,
                               warm_up=False)
    with TestClient(create_app(settings)) as local:
        response = local.get("/api/models")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("the base model is not available: Could not load the hub model")


def test_an_api_only_replica_answers_from_the_bases_configuration_without_loading_it(tmp_path):
    """It lists the models with their native size and refuses a request the base cannot run at submission, with
    no worker to load the base (it used to load the whole base into the API process for GET /api/models)."""
    from fastapi.testclient import TestClient

    from shoegen.config.service import ServiceSettings
    from shoegen.service.app import create_app

    settings = ServiceSettings(base_model="tiny", data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                               role="api")
    with TestClient(create_app(settings)) as client:
        listed = client.get("/api/models").json()
        assert (listed["native_width"], listed["native_height"]) == (64, 64)
        response = client.post("/api/generate", json={**GENERATE, "clip_skip": 3})
        assert response.status_code == 422 and "text encoder has 2 layers" in response.text, response.text
        assert client.get("/api/health").json()["base_model_loaded"] is False
