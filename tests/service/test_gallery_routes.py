"""The gallery over real HTTP: list, search, filter (prompt, model, dates, presets, scores), sort, get, PNG,
delete, ZIP and metadata export; the presets."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from live_server import GENERATE
from PIL import Image

from shoegen.config.generation import ImageParams
from shoegen.config.scores import PRESETS, CatalogueScores
from shoegen.storage import Gallery


@pytest.fixture(scope="module")
def stored(server) -> dict:
    """Three images, one per model, with a word no other test uses; ids newest last."""
    word = f"zq{uuid.uuid4().hex[:8]}"
    ids = {}
    with server.client() as client:
        for key, prompt, model, seed in (("crimson_boots", f"Crimson {word} ankle boots", "tiny", 1),
                                         ("white_sneakers", f"white {word} sneakers", "shoesA", 2),
                                         ("crimson_loafers", f"CRIMSON {word} loafers", "shoesB", 3)):
            response = client.post("/api/generate", json={**GENERATE, "prompt": prompt, "model_name": model,
                                                          "seed": seed})
            assert response.status_code == 200, response.text
            ids[key] = response.json()["images"][0]["id"]
    return {"word": word, **ids}


def listed(client, **params) -> tuple[list[str], int]:
    response = client.get("/api/gallery", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in body["items"]], body["total"]


def test_list_is_newest_first_with_a_total_and_pages(client, stored):
    newest_first = [stored["crimson_loafers"], stored["white_sneakers"], stored["crimson_boots"]]
    assert listed(client, q=stored["word"]) == (newest_first, 3)
    assert listed(client, q=stored["word"], limit=2) == (newest_first[:2], 3)
    assert listed(client, q=stored["word"], limit=2, offset=2) == (newest_first[2:], 3)
    everything, total = listed(client, limit=200)
    assert total >= 3
    assert [image_id for image_id in everything if image_id in newest_first] == newest_first


def test_search_is_case_insensitive_and_needs_every_word(client, stored):
    word = stored["word"]
    assert set(listed(client, q=f"crimson {word.upper()}")[0]) == {stored["crimson_boots"], stored["crimson_loafers"]}
    assert listed(client, q=f"{word} SNEAKERS")[0] == [stored["white_sneakers"]]
    assert listed(client, q=f"{word} sandals") == ([], 0)
    assert listed(client, q=f"{word} %")[0] == []  # a literal percent sign, not a wildcard


def test_filter_by_model(client, stored):
    word = stored["word"]
    assert listed(client, q=word, model="shoesA")[0] == [stored["white_sneakers"]]
    assert listed(client, q=word, model="tiny")[0] == [stored["crimson_boots"]]
    assert listed(client, q=word, model="nope") == ([], 0)
    assert {"tiny", "shoesA", "shoesB"} <= set(client.get("/api/gallery/models").json())


def test_get_one_record_and_its_png(client, stored, tmp_path):
    from shoegen.storage import read_png_parameters

    record = client.get(f"/api/gallery/{stored['white_sneakers']}").json()
    assert record["prompt"] == f"white {stored['word']} sneakers"
    assert record["model_name"] == "shoesA" and record["seed"] == 2 and record["num_inference_steps"] == 2
    assert (record["width"], record["height"]) == (64, 64)
    response = client.get(record["image_url"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    path = tmp_path / "image.png"
    path.write_bytes(response.content)
    infotext, params = read_png_parameters(path)
    assert params["prompt"] == record["prompt"] and "Model: shoesA" in infotext


def test_unknown_and_hostile_ids_are_404(client):
    for image_id in ("0" * 32, "nope", "..%2F..%2Fgallery.db", "%2Fetc%2Fpasswd"):
        assert client.get(f"/api/gallery/{image_id}").status_code == 404
        assert client.get(f"/api/gallery/{image_id}/image").status_code == 404


def test_delete_removes_the_record_and_the_file(client):
    image_id = client.post("/api/generate", json={**GENERATE, "prompt": "soon deleted"}).json()["images"][0]["id"]
    assert client.get(f"/api/gallery/{image_id}/image").status_code == 200
    assert client.delete(f"/api/gallery/{image_id}").status_code == 204
    assert client.get(f"/api/gallery/{image_id}").status_code == 404
    assert client.get(f"/api/gallery/{image_id}/image").status_code == 404
    assert client.delete(f"/api/gallery/{image_id}").status_code == 404
    assert image_id not in listed(client, limit=200)[0]


def test_export_zip_holds_exactly_the_chosen_pngs_and_their_metadata(client, stored):
    chosen = [stored["crimson_boots"], stored["crimson_loafers"]]
    response = client.post("/api/gallery/export", json={"ids": chosen})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        metadata = json.loads(archive.read("metadata.json"))
        assert sorted(names) == sorted([entry["archive_name"] for entry in metadata] + ["metadata.json"])
        assert {entry["id"] for entry in metadata} == set(chosen)
        for entry in metadata:
            assert archive.read(entry["archive_name"]) == client.get(f"/api/gallery/{entry['id']}/image").content
    by_filter = client.post("/api/gallery/export", json={"q": stored["word"], "model": "shoesA"})
    with zipfile.ZipFile(io.BytesIO(by_filter.content)) as archive:
        assert [entry["id"] for entry in json.loads(archive.read("metadata.json"))] == [stored["white_sneakers"]]
    nothing = client.post("/api/gallery/export", json={"ids": []})
    with zipfile.ZipFile(io.BytesIO(nothing.content)) as archive:
        assert archive.namelist() == ["metadata.json"] and json.loads(archive.read("metadata.json")) == []


def test_export_metadata(client, stored):
    response = client.post("/api/gallery/metadata", json={"ids": [stored["white_sneakers"]]})
    assert response.status_code == 200
    [entry] = response.json()
    assert entry["id"] == stored["white_sneakers"] and entry["params"]["model_name"] == "shoesA"
    by_word = client.post("/api/gallery/metadata", json={"q": stored["word"]}).json()
    assert [e["id"] for e in by_word] == [stored["crimson_loafers"], stored["white_sneakers"], stored["crimson_boots"]]
    assert client.post("/api/gallery/metadata", json={"bogus": 1}).status_code == 422


@pytest.mark.parametrize("bound", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_date_filters_outside_the_utc_range_are_422_not_500(client, bound):
    # Year 1 at +01:00 is still year 0 in UTC: no database column can hold it.
    for field in ("created_after", "created_before"):
        response = client.get("/api/gallery", params={field: bound})
        assert response.status_code == 422 and field in response.json()["detail"]
        for route in ("/api/gallery/metadata", "/api/gallery/export"):
            response = client.post(route, json={field: bound})
            assert response.status_code == 422 and field in response.json()["detail"]


def test_ordinary_date_filters(client, stored):
    record = client.get(f"/api/gallery/{stored['white_sneakers']}").json()
    created = record["created_at"]
    assert stored["white_sneakers"] in listed(client, q=stored["word"], created_after=created)[0]
    assert stored["white_sneakers"] not in listed(client, q=stored["word"], created_before=created)[0]
    assert listed(client, q=stored["word"], created_after="2999-01-01T00:00:00Z") == ([], 0)


def test_a_generated_image_comes_back_with_its_catalogue_scores(client, stored):
    image = client.get(f"/api/gallery/{stored['crimson_boots']}").json()
    scores = image["scores"]
    assert scores is not None and 0.0 <= scores["score"] <= 1.0
    assert (scores["width"], scores["height"]) == (64, 64)
    assert set(scores["rule_failures"]) == {"main-image", "catalogue"}
    # 64 px is far under the main-image rule's 1,000 px, whatever the tiny base drew.
    assert any("longest side is 64 px" in rule for rule in scores["rule_failures"]["main-image"])
    assert listed(client, q=stored["word"], passes="main-image") == ([], 0)


def _scores(score: float, *, main_image: bool) -> CatalogueScores:
    return CatalogueScores(width=1200, height=1200, product_found=True, background=1.0, offset=0.0, fill=0.9,
                           cut_off=False, sharpness=30.0, score=score,
                           rule_failures={"main-image": [] if main_image else ["product fills 60% of the frame"],
                                          "catalogue": []})


def test_filter_by_preset_and_score_and_sort_best_first(client, server):
    word = f"zq{uuid.uuid4().hex[:8]}"
    # Stored straight into the server's gallery (a shared SQLite file), with scores chosen to tell the filters apart.
    with Gallery.for_data_dir(server.data_dir) as gallery:
        params = ImageParams(prompt=f"{word} loafers", model_name="tiny", seed=1, num_inference_steps=2,
                             guidance_scale=7.5, sampler="DPM++ 2M Karras", width=64, height=64)
        picture = Image.new("RGB", (64, 64), "white")
        good = gallery.add(picture, params, scores=_scores(0.9, main_image=True)).id
        fair = gallery.add(picture, params, scores=_scores(0.5, main_image=False)).id
        unscored = gallery.add(picture, params).id

    assert listed(client, q=word, passes="main-image") == ([good], 1)
    assert listed(client, q=word, passes="catalogue") == ([fair, good], 2)
    assert listed(client, q=word, min_score=0.6) == ([good], 1)
    assert listed(client, q=word, sort="score") == ([good, fair, unscored], 3)
    assert listed(client, q=word) == ([unscored, fair, good], 3)
    item = client.get("/api/gallery", params={"q": word, "passes": "main-image"}).json()["items"][0]
    assert item["scores"]["rule_failures"] == {"main-image": [], "catalogue": []}


@pytest.mark.parametrize("params", [{"passes": "amazon"}, {"min_score": 1.5}, {"min_score": -0.1},
                                    {"min_score": "nan"}, {"sort": "oldest"}])
def test_unknown_presets_and_bad_score_options_are_422(client, params):
    response = client.get("/api/gallery", params=params)
    assert response.status_code == 422
    if "passes" in params:
        assert "'main-image' or 'catalogue'" in response.json()["detail"][0]["msg"]
    if params.get("min_score") == "nan":
        assert response.json()["detail"][0]["msg"] == "Input should be a finite number"


def test_presets_are_listed_with_their_descriptions(client):
    presets = client.get("/api/presets").json()
    assert [preset["name"] for preset in presets] == list(PRESETS)
    assert all(preset["description"] for preset in presets)
    assert next(p for p in presets if p["name"] == "main-image")["min_longest_side"] == 1000
