"""The AUTOMATIC1111-compatible subset (/sdapi/v1) over real HTTP, as existing WebUI clients call it."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from live_server import GENERATE, PROMPT, decode_png, generate_pixels, pixels, png_base64, sse_events
from PIL import Image

from shoegen.config.samplers import SAMPLERS

TXT2IMG = {"prompt": PROMPT, "negative_prompt": "blurry", "steps": 2, "cfg_scale": 7, "width": 64, "height": 64,
           "seed": 5, "batch_size": 1, "sampler_name": "Euler a"}


def txt2img(client, **changes) -> dict:
    response = client.post("/sdapi/v1/txt2img", json={**TXT2IMG, **changes})
    assert response.status_code == 200, response.text
    return response.json()


def first_pixels(result: dict) -> np.ndarray:
    return pixels(decode_png(result["images"][0]))


def test_txt2img_answers_in_a1111_shape(client):
    result = txt2img(client, batch_size=2, send_images=True, save_images=False)  # unknown A1111 fields are fine
    assert len(result["images"]) == 2
    assert all(decode_png(image).size == (64, 64) for image in result["images"])
    assert result["parameters"]["prompt"] == PROMPT and result["parameters"]["seed"] == 5
    info = json.loads(result["info"])
    assert info["seed"] == 5 and info["all_seeds"] == [5, 6]
    assert info["sampler_name"] == "Euler a" and info["sd_model_name"] == "tiny"
    assert len(info["infotexts"]) == 2
    for text, seed in zip(info["infotexts"], (5, 6)):
        assert text.startswith(f"{PROMPT}\nNegative prompt: blurry\n")
        assert f"Seed: {seed}" in text and "Sampler: Euler a" in text and "Steps: 2" in text
    # The same generation as the native route with the same settings.
    native = generate_pixels(client, seed=5, num_images=2, guidance_scale=7, sampler="Euler a",
                             negative_prompt="blurry")
    assert np.array_equal(first_pixels(result), native)
    assert client.get(f"/api/gallery/{info['gallery_ids'][0]}").status_code == 200


def test_txt2img_seed_minus_one_draws_a_seed(client):
    info = json.loads(txt2img(client, seed=-1, steps=1)["info"])
    assert 0 <= info["seed"] < 2**32


def test_img2img_starts_from_the_init_image(client, sample_dataset):
    photo = Image.open(sorted((sample_dataset / "images").iterdir())[0]).convert("RGB").resize((64, 64))
    body = {**TXT2IMG, "steps": 4, "init_images": [png_base64(photo)], "denoising_strength": 0.5}
    response = client.post("/sdapi/v1/img2img", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert "init_images" not in result["parameters"]  # the upload is not echoed back
    info = json.loads(result["info"])
    assert "Denoising strength: 0.5" in info["infotexts"][0]
    assert not np.array_equal(first_pixels(result), first_pixels(txt2img(client, steps=4)))
    bad = client.post("/sdapi/v1/img2img", json={**body, "init_images": ["@@not base64@@"]})
    assert bad.status_code == 422


def test_model_sampler_and_lora_listings(client):
    titles = [m["title"] for m in client.get("/sdapi/v1/sd-models").json()]
    assert titles[0] == "tiny" and {"shoesA", "shoesA/checkpoint-4", "shoesB/checkpoint-8"} <= set(titles)
    loras = {lora["name"]: lora["metadata"] for lora in client.get("/sdapi/v1/loras").json()}
    assert "tiny" not in loras and loras["shoesA/checkpoint-4"] == {"type": "checkpoint", "step": 4}
    samplers = client.get("/sdapi/v1/samplers").json()
    assert [s["name"] for s in samplers] == [s.name for s in SAMPLERS]
    assert {"euler_a", "k_euler_a"} <= set(next(s["aliases"] for s in samplers if s["name"] == "Euler a"))
    assert client.get("/sdapi/v1/options").json()["sd_model_checkpoint"] == "tiny"


def test_progress_follows_the_running_job(client):
    idle = client.get("/sdapi/v1/progress").json()
    assert idle["progress"] == 0.0 and idle["state"]["job"] == "" and idle["state"]["job_count"] == 0
    job = client.post("/api/jobs", json={**GENERATE, "num_inference_steps": 150}).json()
    running = None
    try:
        for name, data in sse_events(client, job["id"]):
            if name == "progress" and data["step"] >= 2:
                running = client.get("/sdapi/v1/progress").json()
                break
    finally:
        client.delete(f"/api/jobs/{job['id']}")
    assert running is not None, "the job never reported progress"
    assert running["state"]["job"] == job["id"] and running["state"]["sampling_steps"] == 150
    assert running["state"]["job_count"] == 1
    assert 0 < running["progress"] <= 1


def test_options_checkpoint_switches_the_model(client):
    base = first_pixels(txt2img(client, seed=9))
    try:
        response = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "shoesA", "CLIP_stop_at_last_layers": 1})
        assert response.status_code == 200 and response.json()["sd_model_checkpoint"] == "shoesA"
        assert client.get("/sdapi/v1/options").json()["sd_model_checkpoint"] == "shoesA"
        result = txt2img(client, seed=9)
        assert json.loads(result["info"])["sd_model_name"] == "shoesA"
        adapted = first_pixels(result)
        assert not np.array_equal(adapted, base)
        assert np.array_equal(adapted, generate_pixels(client, model_name="shoesA", seed=9, guidance_scale=7,
                                                       sampler="Euler a", negative_prompt="blurry"))
        # A per-request override wins over the option.
        overridden = txt2img(client, seed=9, override_settings={"sd_model_checkpoint": "tiny"})
        assert np.array_equal(first_pixels(overridden), base)
        # An unknown checkpoint is refused and changes nothing.
        assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "nope"}).status_code == 404
        assert client.get("/sdapi/v1/options").json()["sd_model_checkpoint"] == "shoesA"
        assert client.post("/sdapi/v1/txt2img", json={**TXT2IMG, "override_settings": {
            "sd_model_checkpoint": "nope"}}).status_code == 404
    finally:
        client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "tiny"})
    assert client.get("/sdapi/v1/options").json()["sd_model_checkpoint"] == "tiny"


def test_a_deleted_checkpoint_falls_back_to_the_base(client, server, models_dir):
    base = first_pixels(txt2img(client, seed=9))
    shutil.copytree(models_dir / "shoesA", models_dir / "sdapi-doomed")
    try:
        assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "sdapi-doomed"}).status_code == 200
        assert client.delete("/api/runs/sdapi-doomed").status_code == 204
        result = txt2img(client, seed=9)  # A1111 loads its fallback model rather than failing every request
        assert json.loads(result["info"])["sd_model_name"] == "tiny"
        assert np.array_equal(first_pixels(result), base)
        assert client.get("/sdapi/v1/options").json()["sd_model_checkpoint"] == "tiny"
        assert "sd_model_checkpoint 'sdapi-doomed'" in server.log()
        assert client.post("/sdapi/v1/img2img", json={**TXT2IMG, "init_images": [png_base64(Image.new(
            "RGB", (64, 64), "white"))], "denoising_strength": 0.5}).status_code == 200
    finally:
        shutil.rmtree(models_dir / "sdapi-doomed", ignore_errors=True)
        client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "tiny"})


def test_invalid_a1111_bodies_are_422(client):
    for change in ({"steps": 0}, {"width": 65}, {"batch_size": 11}, {"seed": -2}, {"sampler_name": "Nope"},
                   {"override_settings": {"sd_model_checkpoint": 5}}):
        response = client.post("/sdapi/v1/txt2img", json={**TXT2IMG, **change})
        assert response.status_code == 422, (change, response.text)


INTERNAL_NAMES = re.compile(r"num_inference_steps|guidance_scale|hires_|clip_skip|init_image\b|mask_image|controlnets|"
                            r"num_images|model_name|masked_content|(?<!denoising_)strength|\bsampler:")


def a1111_error(client, route: str, body: dict) -> str:
    response = client.post(f"/sdapi/v1/{route}", json=body)
    assert response.status_code == 422, (body, response.text)
    return response.text


def test_a1111_errors_name_the_fields_the_client_sent(client):
    unit = {"module": "none", "model": "tiny", "image": png_base64(Image.new("RGB", (64, 64), "white"))}
    hires = {"enable_hr": True, "hr_scale": 2}
    cases = [
        ({"steps": 0}, "steps"), ({"cfg_scale": 31}, "cfg_scale"), ({"width": 65}, "width"), ({"height": 4}, "height"),
        ({"seed": -2}, "seed"), ({"batch_size": 0}, "batch_size"), ({"n_iter": 11}, "n_iter"),
        ({"sampler_name": "Nope"}, "sampler_name"), ({"sampler_name": None, "sampler_index": "Nope"}, "sampler_index"),
        ({**hires, "denoising_strength": 0}, "denoising_strength"),
        ({**hires, "denoising_strength": 0.1, "steps": 2}, "denoising_strength"),
        ({**hires, "width": 1536, "height": 1536}, "hr_scale"),
        ({"override_settings": {"CLIP_stop_at_last_layers": 13}}, "CLIP_stop_at_last_layers"),
        ({"override_settings": {"CLIP_stop_at_last_layers": 3}}, "CLIP_stop_at_last_layers"),  # tiny has 2 layers
        ({"alwayson_scripts": {"controlnet": {"args": [{**unit, "enabled": False}, {**unit, "weight": 3}]}}},
         "alwayson_scripts.controlnet.args[1].weight"),
        ({"alwayson_scripts": {"controlnet": {"args": [{**unit, "guidance_start": 0.5, "guidance_end": 0.2}]}}},
         "guidance_end"),
        ({"alwayson_scripts": {"controlnet": {"args": [{**unit, "image": "@@"}]}}},
         "alwayson_scripts.controlnet.args[0].image"),
        ({"alwayson_scripts": {"controlnet": {"args": [{**unit, "control_mode": "ControlNet is more important"}]}}},
         "alwayson_scripts.controlnet.args[0].control_mode \\\"ControlNet is more important\\\": each ControlNet is"),
        ({"alwayson_scripts": {"controlnet": {"args": [{**unit, "resize_mode": 2}]}}},
         "alwayson_scripts.controlnet.args[0].resize_mode 2: the control image is resized"),
        ({"alwayson_scripts": {"controlnet": {"args": [{**unit, "module": "canny", "threshold_a": 50}]}}},
         "args[0].threshold_a 50: Canny's thresholds"),
        ({"alwayson_scripts": {"controlnet": {"args": [{**unit, "image": {"image": unit["image"], "mask": "x"}}]}}},
         "args[0].image.mask: a ControlNet's own mask"),
    ]
    for change, name in cases:
        text = a1111_error(client, "txt2img", {**TXT2IMG, **change})
        assert name in text and not INTERNAL_NAMES.search(text), (change, text)
    photo = png_base64(Image.new("RGB", (64, 64), "white"))
    for change, name in [({"init_images": ["@@"]}, "init_images"), ({"mask": "@@"}, "mask"),
                         ({"resize_mode": 1}, "resize_mode 1: img2img resizes the start image"),
                         ({"denoising_strength": 0.1, "steps": 2}, "denoising_strength"),
                         ({"mask_blur": 65}, "mask_blur"), ({"inpainting_fill": 4}, "inpainting_fill"),
                         ({"enable_hr": True}, "enable_hr true: the hires fix is txt2img's")]:
        text = a1111_error(client, "img2img", {**TXT2IMG, "init_images": [photo], **change})
        assert name in text and not INTERNAL_NAMES.search(text), (change, text)


@pytest.mark.parametrize("sent, sampler", [
    ("k_euler_a", "Euler a"), ("k_euler_ancestral", "Euler a"), ("k_euler", "Euler"), ("k_dpmpp_2m", "DPM++ 2M"),
    ("k_dpmpp_2m_ka", "DPM++ 2M Karras"), ("dpm++ 2m karras", "DPM++ 2M Karras"),
    (" DPM++  2M KARRAS ", "DPM++ 2M Karras"), ("EULER A", "Euler a"), ("DPM++_2M", "DPM++ 2M"), ("plms", "PNDM")])
def test_a1111_sampler_aliases(client, sent, sampler):
    info = json.loads(txt2img(client, steps=1, sampler_name=sent)["info"])
    assert info["sampler_name"] == sampler and f"Sampler: {sampler}," in info["infotexts"][0]


@pytest.mark.parametrize("sent, schedule, sampler", [
    ("DPM++ 2M", "Automatic", "DPM++ 2M Karras"),  # A1111 1.9+: DPM++ 2M's own schedule is Karras
    ("DPM++ 2M", "karras", "DPM++ 2M Karras"), ("DPM++ 2M", "Normal", "DPM++ 2M"),
    ("DPM++ 2M", None, "DPM++ 2M"),  # a client from before 1.9: the name says it all
    ("DPM++ 2M Karras", "Normal", "DPM++ 2M Karras"),  # a schedule in the name wins, as in A1111
    ("Euler a", "Automatic", "Euler a"), ("k_dpmpp_2m", "Karras", "DPM++ 2M Karras")])
def test_a1111_schedule_types_pick_the_sampler_a1111_would_run(client, sent, schedule, sampler):
    result = txt2img(client, steps=2, sampler_name=sent, scheduler=schedule)
    native = generate_pixels(client, seed=5, guidance_scale=7, sampler=sampler, negative_prompt="blurry",
                             num_inference_steps=2)
    assert np.array_equal(first_pixels(result), native)


def test_schedule_types_this_server_lacks_are_refused_by_name(client):
    names = [(s["name"], s["label"]) for s in client.get("/sdapi/v1/schedulers").json()]
    assert names == [("automatic", "Automatic"), ("karras", "Karras"), ("normal", "Normal")]
    text = a1111_error(client, "txt2img", {**TXT2IMG, "sampler_name": "Euler", "scheduler": "Karras"})
    assert "scheduler: sampler 'Euler' has no Karras schedule here; Karras goes with: DPM++ 2M" in text, text
    text = a1111_error(client, "txt2img", {**TXT2IMG, "scheduler": "Exponential"})
    assert "scheduler: schedule type 'Exponential' is not available here; available: Automatic, Karras, Normal" in text
    text = a1111_error(client, "txt2img", {**TXT2IMG, "sampler_name": "Nope", "scheduler": "Karras"})
    assert "sampler_name" in text and "unknown sampler 'Nope'" in text, text


def test_samplers_this_server_lacks_are_refused_by_name(client):
    for sent, a1111_name in [("k_lms", "LMS"), ("k_heun", "Heun"), ("k_dpm_2", "DPM2"), ("k_dpm_2_a", "DPM2 a"),
                             ("k_dpmpp_sde", "DPM++ SDE"), ("Nope", None)]:
        text = a1111_error(client, "txt2img", {**TXT2IMG, "sampler_name": sent})
        assert "sampler_name" in text and all(s.name in text for s in SAMPLERS), text
        assert a1111_name is None or f"AUTOMATIC1111's {a1111_name}" in text, text


A1111_DEFAULTS = {"hr_prompt": "", "hr_negative_prompt": "", "hr_sampler_name": None, "hr_scheduler": None,
                  "hr_checkpoint_name": None, "subseed": -1, "subseed_strength": 0, "seed_resize_from_h": -1,
                  "seed_resize_from_w": -1, "tiling": False, "restore_faces": False, "styles": [],
                  "refiner_checkpoint": None, "script_name": None, "script_args": [], "eta": None}


def test_a1111_fields_without_a_feature_here_are_refused_unless_they_change_nothing(client):
    plain = first_pixels(txt2img(client, steps=1))
    assert np.array_equal(first_pixels(txt2img(client, steps=1, **A1111_DEFAULTS)), plain)  # a full default body
    assert np.array_equal(first_pixels(txt2img(client, steps=1, hr_prompt="other")), plain)  # no hires fix: unused
    for change, words in [({"tiling": True}, "tiling true: tileable images are not available here"),
                          ({"restore_faces": True}, "restore_faces true: face restoration"),
                          ({"subseed_strength": 0.3}, "subseed_strength 0.3: variation seeds"),
                          ({"seed_resize_from_w": 512}, "seed_resize_from_w 512:"),
                          ({"styles": ["Catalogue"]}, 'styles ["Catalogue"]: prompt styles'),
                          ({"script_name": "x/y/z plot"}, 'script_name "x/y/z plot": scripts'),
                          ({"enable_hr": True, "hr_prompt": "a red shoe"}, 'hr_prompt "a red shoe": the hires fix'),
                          ({"enable_hr": True, "hr_sampler_name": "DDIM"}, 'hr_sampler_name "DDIM"')]:
        text = json.dumps(json.loads(a1111_error(client, "txt2img", {**TXT2IMG, **change})), ensure_ascii=False)
        assert words.replace('"', '\\"') in text, (change, text)
    both = a1111_error(client, "txt2img", {**TXT2IMG, "tiling": True, "restore_faces": True})
    assert "tiling" in both and "restore_faces" in both
    same = txt2img(client, steps=2, enable_hr=True, hr_prompt=TXT2IMG["prompt"], hr_sampler_name="Euler a")
    assert decode_png(same["images"][0]).size == (128, 128)


def test_the_hires_fix_resizes_to_hr_resize_x_and_y(client):
    by_scale = txt2img(client, steps=2, enable_hr=True, hr_scale=1.5, denoising_strength=0.5)
    for sizes in ({"hr_resize_x": 96}, {"hr_resize_y": 96}, {"hr_resize_x": 96, "hr_resize_y": 96}):
        resized = txt2img(client, steps=2, enable_hr=True, hr_scale=3, denoising_strength=0.5, **sizes)
        assert decode_png(resized["images"][0]).size == (96, 96), sizes
        assert np.array_equal(first_pixels(resized), first_pixels(by_scale))  # the same as hr_scale 1.5
    wide = txt2img(client, steps=2, width=128, height=64, enable_hr=True, hr_resize_x=192)
    assert decode_png(wide["images"][0]).size == (192, 96)
    text = a1111_error(client, "txt2img", {**TXT2IMG, "enable_hr": True, "hr_resize_x": 128, "hr_resize_y": 96})
    assert "hr_resize_x x hr_resize_y 128x96: the hires fix scales both sides of 64x64 alike" in text, text
    assert "by 1 to 4" in a1111_error(client, "txt2img", {**TXT2IMG, "enable_hr": True, "hr_resize_x": 320})
    assert "by 1 to 4" in a1111_error(client, "txt2img", {**TXT2IMG, "enable_hr": True, "hr_resize_y": 32})


def test_batch_size_times_n_iter_over_the_cap_is_refused(client):
    result = txt2img(client, steps=1, batch_size=2, n_iter=3)
    assert len(result["images"]) == 6 and json.loads(result["info"])["all_seeds"] == [5, 6, 7, 8, 9, 10]
    text = a1111_error(client, "txt2img", {**TXT2IMG, "batch_size": 4, "n_iter": 3})
    assert "batch_size" in text and "n_iter" in text and "10" in text and "12" in text, text


def test_clip_stop_at_last_layers_is_clip_skip(client):
    result = txt2img(client, override_settings={"CLIP_stop_at_last_layers": 2})
    info = json.loads(result["info"])
    assert info["clip_skip"] == 2 and "Clip skip: 2" in info["infotexts"][0]
    native = generate_pixels(client, seed=5, guidance_scale=7, sampler="Euler a", negative_prompt="blurry",
                             clip_skip=2)
    assert np.array_equal(first_pixels(result), native)
    assert not np.array_equal(first_pixels(txt2img(client)), native)
    refused = client.post("/sdapi/v1/txt2img", json={**TXT2IMG, "override_settings": {"CLIP_stop_at_last_layers": "x"}})
    assert refused.status_code == 422 and "CLIP_stop_at_last_layers" in refused.json()["detail"]


def test_clip_stop_at_last_layers_option_is_clip_skip(client):
    native = generate_pixels(client, seed=5, guidance_scale=7, sampler="Euler a", negative_prompt="blurry",
                             clip_skip=2)
    try:
        response = client.post("/sdapi/v1/options", json={"CLIP_stop_at_last_layers": 2, "samples_format": "png"})
        assert response.status_code == 200 and response.json()["CLIP_stop_at_last_layers"] == 2
        assert client.get("/sdapi/v1/options").json() == {"sd_model_checkpoint": "tiny", "CLIP_stop_at_last_layers": 2}
        result = txt2img(client)
        assert json.loads(result["info"])["clip_skip"] == 2 and np.array_equal(first_pixels(result), native)
        overridden = txt2img(client, override_settings={"CLIP_stop_at_last_layers": 1})
        assert json.loads(overridden["info"])["clip_skip"] == 1
        too_deep = client.post("/sdapi/v1/options", json={"CLIP_stop_at_last_layers": 3})  # the tiny base has 2
        assert too_deep.status_code == 422 and too_deep.json()["detail"] == (
            "CLIP_stop_at_last_layers 3: this base's text encoder has 2 layers, so CLIP_stop_at_last_layers can be at "
            "most 2")
        # A refused request changes nothing, not even the option it named correctly.
        half = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "shoesA", "CLIP_stop_at_last_layers": 3})
        assert half.status_code == 422
        assert client.get("/sdapi/v1/options").json() == {"sd_model_checkpoint": "tiny", "CLIP_stop_at_last_layers": 2}
        for bad in (0, 13, "x", True):
            refused = client.post("/sdapi/v1/options", json={"CLIP_stop_at_last_layers": bad})
            assert refused.status_code == 422 and "CLIP_stop_at_last_layers" in refused.text, (bad, refused.text)
        assert client.get("/sdapi/v1/options").json()["CLIP_stop_at_last_layers"] == 2
    finally:
        client.post("/sdapi/v1/options", json={"CLIP_stop_at_last_layers": 1})
    assert client.get("/sdapi/v1/options").json()["CLIP_stop_at_last_layers"] == 1


def test_a1111_hires_fix_and_inpainting_fields(client, sample_dataset):
    hires = txt2img(client, enable_hr=True, hr_scale=2, denoising_strength=0.5, hr_second_pass_steps=2)
    assert decode_png(hires["images"][0]).size == (128, 128)
    info = json.loads(hires["info"])
    # As A1111 writes them: the first pass's size, which the hires fix scales by 2 (PNG Info rebuilds 64 px).
    assert "Size: 64x64," in info["infotexts"][0] and "Hires upscale: 2" in info["infotexts"][0]
    assert (info["width"], info["height"]) == (64, 64)

    photo = Image.open(sorted((sample_dataset / "images").iterdir())[0]).convert("RGB").resize((64, 64))
    mask = np.zeros((64, 64), dtype=np.uint8)
    mask[16:48, 16:48] = 255
    body = {**TXT2IMG, "steps": 4, "init_images": [png_base64(photo)], "mask": png_base64(Image.fromarray(mask)),
            "mask_blur": 0, "inpainting_fill": 2, "inpaint_full_res": False, "inpainting_mask_invert": 0}
    response = client.post("/sdapi/v1/img2img", json=body)
    assert response.status_code == 200, response.text
    painted = first_pixels(response.json()).astype(int)
    changed = np.abs(painted - pixels(photo).astype(int)).max(axis=2) > 0
    assert not changed[mask == 0].any() and changed[mask == 255].mean() > 0.5
    assert "mask" not in response.json()["parameters"]
    inverted = client.post("/sdapi/v1/img2img", json={**body, "inpainting_mask_invert": 1}).json()
    kept = np.abs(first_pixels(inverted).astype(int) - pixels(photo).astype(int)).max(axis=2) == 0
    assert kept[mask == 255].all()


def test_controlnet_units_in_the_extension_s_form(client, sample_dataset):
    photo = Image.open(sorted((sample_dataset / "images").iterdir())[0]).convert("RGB").resize((64, 64))
    unit = {"enabled": True, "module": "canny", "model": "tiny [0000]", "weight": 1.0, "guidance_start": 0.0,
            "guidance_end": 1.0, "image": png_base64(photo)}
    controlled = txt2img(client, steps=4, alwayson_scripts={"controlnet": {"args": [unit]}})
    off = txt2img(client, steps=4, alwayson_scripts={"controlnet": {"args": [{**unit, "weight": 0.0}]}})
    plain = txt2img(client, steps=4)
    assert np.abs(first_pixels(off).astype(int) - first_pixels(plain).astype(int)).max() <= 1
    assert np.abs(first_pixels(controlled).astype(int) - first_pixels(plain).astype(int)).mean() > 2
    # The extension's defaults change nothing here, and its {"image": ...} form is the image itself.
    defaults = {**unit, "image": {"image": unit["image"]}, "control_mode": "Balanced", "resize_mode": "Crop and Resize",
                "pixel_perfect": True, "processor_res": 512, "threshold_a": 100, "threshold_b": 200}
    as_sent = txt2img(client, steps=4, alwayson_scripts={"controlnet": {"args": [defaults]}})
    assert np.array_equal(first_pixels(as_sent), first_pixels(controlled))
    disabled = txt2img(client, steps=4, alwayson_scripts={"controlnet": {"args": [{**unit, "enabled": False}]}})
    assert np.array_equal(first_pixels(disabled), first_pixels(plain))
    bad = client.post("/sdapi/v1/txt2img", json={**TXT2IMG, "alwayson_scripts": {"controlnet": {"args": [
        {**unit, "module": "openpose"}]}}})
    assert bad.status_code == 422 and "canny or none" in bad.json()["detail"]
    missing = client.post("/sdapi/v1/txt2img", json={**TXT2IMG, "alwayson_scripts": {"controlnet": {"args": [
        {**unit, "image": None}]}}})
    assert missing.status_code == 422 and "needs a control image" in missing.json()["detail"]


def zero_compact_upscaler(path, scale: int = 4) -> None:
    """Real-ESRGAN's compact network with every weight zero: its output is the nearest-neighbour upscale."""
    import torch
    from safetensors.torch import save_file

    save_file({"body.0.weight": torch.zeros(4, 3, 3, 3), "body.0.bias": torch.zeros(4), "body.1.weight": torch.zeros(4),
               "body.2.weight": torch.zeros(3 * scale * scale, 4, 3, 3), "body.2.bias": torch.zeros(3 * scale * scale)},
              str(path))


def test_hires_upscaler_models_and_the_listings(client, models_dir):
    folder = models_dir / "upscalers"
    folder.mkdir(exist_ok=True)
    zero_compact_upscaler(folder / "zero-compact.safetensors")
    try:
        assert [u["name"] for u in client.get("/sdapi/v1/upscalers").json()] == ["Lanczos", "zero-compact"]
        assert client.get("/api/upscalers").json() == [{"name": "lanczos", "source": "built-in"},
                                                       {"name": "zero-compact", "source": "file"}]
        hires = dict(enable_hr=True, hr_scale=2, denoising_strength=0.5, hr_second_pass_steps=2)
        by_model = txt2img(client, hr_upscaler="zero-compact", **hires)
        assert decode_png(by_model["images"][0]).size == (128, 128)
        assert "Hires upscaler: zero-compact" in json.loads(by_model["info"])["infotexts"][0]
        latent = txt2img(client, hr_upscaler="Latent (bicubic antialiased)", **hires)  # A1111's built-in names
        assert "Hires upscaler: Lanczos" in json.loads(latent["info"])["infotexts"][0]
        unknown = client.post("/sdapi/v1/txt2img", json={**TXT2IMG, **hires, "hr_upscaler": "R-ESRGAN 4x+"})
        assert unknown.status_code == 422 and "GET /sdapi/v1/upscalers" in unknown.json()["detail"]
        native = client.post("/api/generate", json={**GENERATE, "hires_scale": 2, "hires_upscaler": "nope"})
        assert native.status_code == 422 and "known: lanczos, zero-compact" in native.text
    finally:
        (folder / "zero-compact.safetensors").unlink()
    assert {"name": "tiny", "source": "built-in"} in client.get("/api/controlnets").json()
    assert "tiny" in client.get("/controlnet/model_list").json()["model_list"]
    assert client.get("/controlnet/module_list").json() == {"module_list": ["canny", "none"]}


def test_what_the_engine_changed_is_in_info(client):
    """A start image of another shape is stretched to width x height; `info.warnings` says so (A1111 is silent)."""
    wide = png_base64(Image.new("RGB", (100, 37), "white"))
    response = client.post("/sdapi/v1/img2img", json={**TXT2IMG, "init_images": [wide]})
    assert response.status_code == 200, response.text
    assert json.loads(response.json()["info"])["warnings"] == [
        "the start image (100x37) was stretched to 64x64, another shape; ask for 176x64 to keep its shape"]
    assert json.loads(txt2img(client)["info"])["warnings"] == []
