"""POST /api/masks on a real server: multipart and JSON in, a mask PNG of the photo's size out; bad images refused."""

from __future__ import annotations

import base64
import io

import importlib.util

import numpy as np
import pytest
from PIL import Image

from shoegen.data.masks import product_mask, rembg_model_path
from shoegen.data.sample import draw_shoe_spec, render_shoe


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_photo_gives_its_mask_by_upload_and_by_json(client):
    photo = render_shoe(draw_shoe_spec(7, 4), 256).crop((0, 0, 256, 200))
    expected = product_mask(photo)
    uploaded = client.post("/api/masks", files={"image": ("shoe.png", png_bytes(photo), "image/png")},
                           data={"method": "builtin"})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.headers["content-type"] == "image/png"
    mask = Image.open(io.BytesIO(uploaded.content))
    assert mask.size == (256, 200) and mask.mode == "L"
    assert ((np.asarray(mask) == 255) == expected).all()
    sent = client.post("/api/masks", json={"image": base64.b64encode(png_bytes(photo)).decode()})
    assert sent.status_code == 200 and sent.content == uploaded.content


def test_a_plain_white_photo_gives_an_empty_mask(client):
    answer = client.post("/api/masks", files={"image": ("white.png", png_bytes(Image.new("RGB", (128, 96), "white")))})
    assert answer.status_code == 200
    assert not np.asarray(Image.open(io.BytesIO(answer.content))).any()


def test_bad_images_and_fields_are_refused(client):
    assert client.post("/api/masks", files={"image": ("x.png", b"not an image")}).status_code == 422
    assert client.post("/api/masks", json={"image": "%%%"}).status_code == 422
    assert client.post("/api/masks", json={}).status_code == 422
    assert client.post("/api/masks", json={"image": "", "method": "magic"}).status_code == 422
    assert client.post("/api/masks", data={"method": "builtin"}).status_code == 422
    # 5000 x 5000 is over the server's 4096 x 4096 pixel limit: refused from the header, before decoding.
    huge = png_bytes(Image.new("L", (5000, 5000), 255))
    answer = client.post("/api/masks", files={"image": ("huge.png", huge)})
    assert answer.status_code == 413 and "pixel limit" in answer.text


@pytest.mark.skipif(importlib.util.find_spec("rembg") is not None and rembg_model_path().is_file(),
                    reason="rembg and its model are installed here")
def test_rembg_not_installed_is_a_clear_422(client):
    photo = base64.b64encode(png_bytes(Image.new("RGB", (64, 64), "white"))).decode()
    answer = client.post("/api/masks", json={"image": photo, "method": "rembg"})
    assert answer.status_code == 422 and "rembg" in answer.json()["detail"]
