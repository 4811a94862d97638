"""/api/datasets through the app: uploads in each layout (one ZIP or many files), every bad upload refused with
its status and a message naming the problem and nothing left behind, the report, captions, templates,
registration inside the root only, and the files route serving listed images only."""

from __future__ import annotations

import io
import json
import shutil
import stat
import struct
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from shoegen.config.service import ServiceSettings
from shoegen.data.formats import read_dataset
from shoegen.service.app import create_app

LAYOUTS = ("captions.json", "imagefolder", "kohya")
MAX_UPLOAD = 400_000
MAX_FILE = 100_000


def png(index: int, size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (index * 40 % 256, 80, 200 - index * 30 % 200)).save(buffer, "PNG")
    return buffer.getvalue()


def dataset_files(layout: str, count: int = 3) -> dict[str, bytes]:
    """A small dataset in `layout` as {relative path: bytes}, with colour metadata where the layout has some."""
    captions = {index: f"a product photo of shoes number {index}" for index in range(count)}
    if layout == "captions.json":
        records = [{"image_file": f"images/{index}.png", "caption": caption, "metadata": {"color": "black"}}
                   for index, caption in captions.items()]
        return {"captions.json": json.dumps(records).encode(), **{f"images/{i}.png": png(i) for i in captions}}
    if layout == "imagefolder":
        lines = [json.dumps({"file_name": f"{index}.png", "text": caption, "color": "brown"})
                 for index, caption in captions.items()]
        return {"metadata.jsonl": "\n".join(lines).encode(), **{f"{i}.png": png(i) for i in captions}}
    return {**{f"10_shoes/{i}.png": png(i) for i in captions},
            **{f"10_shoes/{i}.txt": caption.encode() for i, caption in captions.items()}}


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def settings(tmp_path) -> ServiceSettings:
    return ServiceSettings(base_model="tiny", data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                           warm_up=False, max_body_bytes=20_000, max_upload_bytes=MAX_UPLOAD,
                           max_dataset_file_bytes=MAX_FILE, max_dataset_files=12, max_image_pixels=256 * 256)


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as opened:
        yield opened


def upload(client: TestClient, files: dict[str, bytes], name: str = "shoes"):
    return client.post("/api/datasets", data={"name": name},
                       files=[("files", (file_name, content)) for file_name, content in files.items()])


def upload_zip(client: TestClient, files: dict[str, bytes], name: str = "shoes", archive: bytes | None = None):
    return client.post("/api/datasets", data={"name": name},
                       files=[("files", ("shoes.zip", archive if archive is not None else zipped(files)))])


def leftovers(settings: ServiceSettings) -> list[str]:
    """What an upload left in the datasets root: folders (datasets, staging) and files beyond the lock."""
    root = settings.datasets_root
    return sorted(path.name for path in root.iterdir() if path.name not in (".lock", ".reports")) \
        if root.exists() else []


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "files"])
def test_a_good_upload_is_listed_with_its_layout_and_counts(client, layout, as_zip):
    files = dataset_files(layout)
    response = upload_zip(client, files) if as_zip else upload(client, files)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["name"], created["layout"], created["images"], created["usable"], created["skipped"],
            created["status"], created["source"], created["rejected"]) == ("shoes", layout, 3, 3, 0, "ready",
                                                                          "upload", [])
    (listed,) = client.get("/api/datasets").json()["datasets"]
    assert listed["layout"] == layout and listed["images"] == 3 and listed["bytes"] > 0


def test_a_zip_of_one_folder_is_unwrapped(client):
    files = {f"my-shoes/{name}": content for name, content in dataset_files("captions.json").items()}
    response = upload_zip(client, {**files, "__MACOSX/my-shoes/._0.png": b"junk"})
    assert response.status_code == 201, response.text
    assert response.json()["layout"] == "captions.json" and response.json()["usable"] == 3


def symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in dataset_files("kohya").items():
            archive.writestr(name, content)
        link = zipfile.ZipInfo("10_shoes/3.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def lying_zip() -> bytes:
    """A ZIP whose headers declare 1,000 bytes for an entry that inflates to 90,000 (a bomb hiding its size)."""
    files = dataset_files("kohya")
    data = bytearray(zipped({**files, "10_shoes/big.txt": b"a" * 90_000}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at:name_at + 16] == b"10_shoes/big.txt":
                struct.pack_into("<I", data, start + offset, 1000)
            start += 4
    return bytes(data)


BAD_UPLOADS = {
    "zip slip": (lambda c: upload_zip(c, {**dataset_files("kohya"), "../../evil.txt": b"x"}), 400,
                 "../../evil.txt: the path leaves the dataset folder"),
    "absolute path in zip": (lambda c: upload_zip(c, {**dataset_files("kohya"), "/etc/evil.txt": b"x"}), 400,
                             "/etc/evil.txt: the path leaves the dataset folder"),
    "file path climbing out": (lambda c: upload(c, {**dataset_files("kohya"), "../evil.txt": b"x"}), 400,
                               "../evil.txt: the path leaves the dataset folder"),
    "link in zip": (lambda c: upload_zip(c, {}, archive=symlink_zip()), 400, "10_shoes/3.png: a link inside"),
    "nested archive": (lambda c: upload_zip(c, {**dataset_files("kohya"), "more.zip": b"PK"}), 400,
                       "more.zip: an archive inside the upload"),
    "zip beside files": (lambda c: upload(c, {"a.png": png(0), "b.zip": zipped({"x.txt": b"x"})}), 400,
                         "b.zip: send one .zip on its own"),
    "not a zip": (lambda c: upload_zip(c, {}, archive=b"PK\x03\x04 not really"), 400, "not a readable ZIP"),
    "bomb by ratio": (lambda c: upload_zip(c, {**dataset_files("kohya"), "10_shoes/bomb.txt": b"a" * 3 * 2**20}),
                      413, None),
    # Reading stops at the declared size (zipfile's and the staging's own cap), so the checksum then fails.
    "bomb hiding its size": (lambda c: upload_zip(c, {}, archive=lying_zip()), 400,
                             "not a readable ZIP archive (Bad CRC-32 for file '10_shoes/big.txt')"),
    "declared sizes over the limit": (
        lambda c: upload_zip(c, {**dataset_files("kohya"),
                                 **{f"10_shoes/pad{i}.txt": b"b" * 90_000 for i in range(5)}}),
        413, "the ZIP archive extracts to over 400000 bytes"),
    "file over the size limit": (lambda c: upload(c, {**dataset_files("kohya"), "10_shoes/0.txt": b"c" * 100_001}),
                                 413, "10_shoes/0.txt: over the limit of 100000 bytes per file"),
    "entry over the size limit": (
        lambda c: upload_zip(c, {**dataset_files("kohya"), "10_shoes/0.txt": b"c" * 100_001}), 413,
        "10_shoes/0.txt: 100001 bytes, over the limit of 100000 per file"),
    "too many files": (lambda c: upload(c, dataset_files("kohya", count=7)), 413, "more than 12 files"),
    "body over max_upload_bytes": (lambda c: upload(c, {"a.png": b"d" * (MAX_UPLOAD + 1)}), 413,
                                   "request body too large: over 400000 bytes"),
    "not an image or caption": (lambda c: upload(c, {**dataset_files("kohya"), "notes.pdf": b"%PDF-1.4"}), 415,
                                "notes.pdf: neither an image"),
    "no image decodes": (lambda c: upload(c, {"a.png": b"not a png", "a.txt": b"a shoe"}), 422,
                         "no image in the upload decodes: a.png"),
    "image over the pixel bound": (lambda c: upload(c, {"a.png": png(0, (300, 300)), "a.txt": b"a shoe"}), 422,
                                   "a.png (300x300 is 90,000 pixels, over the pixel limit of 65,536"),
    "no accepted layout": (lambda c: upload(c, {"a.png": png(0), "b.png": png(1)}), 422,
                           "found 2 image files but no captions"),
    "no name": (lambda c: upload(c, dataset_files("kohya"), name=""), 422, "name ''"),
    "bad name": (lambda c: upload(c, dataset_files("kohya"), name="../x"), 422, "name '../x'"),
    "name sent twice": (lambda c: c.post("/api/datasets", data={"name": ["shoes", "boots"]},
                                         files=[("files", (n, b)) for n, b in dataset_files("kohya").items()]),
                        400, "field name: sent twice"),
    "not multipart": (lambda c: c.post("/api/datasets", content=b"{}", headers={"content-type": "application/json"}),
                      400, "multipart/form-data"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_and_leaves_nothing(client, settings, case):
    send, status_code, message = BAD_UPLOADS[case]
    response = send(client)
    assert response.status_code == status_code, response.text
    if message is not None:
        assert message in response.json()["detail"], response.text
    assert leftovers(settings) == []
    assert client.get("/api/datasets").json()["datasets"] == []


def test_a_chunked_body_over_the_limit_is_refused_as_it_streams(client, settings):
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nshoes\r\n--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\n").encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(MAX_UPLOAD // 10_000 + 2):
            yield b"e" * 10_000

    response = client.post("/api/datasets", content=body(),
                           headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413 and "over 400000 bytes" in response.json()["detail"]
    assert leftovers(settings) == []


def test_other_routes_keep_the_general_body_limit(client):
    response = client.post("/api/datasets/register", json={"name": "x", "path": "y" * 30_000})
    assert response.status_code == 413 and "over 20000 bytes" in response.json()["detail"]


def test_a_name_taken_is_refused(client, settings):
    assert upload(client, dataset_files("kohya")).status_code == 201
    response = upload_zip(client, dataset_files("kohya"))
    assert response.status_code == 409 and "name shoes" in response.json()["detail"]
    assert leftovers(settings) == ["shoes"]


def test_a_broken_image_is_rejected_named_and_the_rest_uploads(client, settings):
    files = dataset_files("captions.json")
    records = json.loads(files["captions.json"]) + [{"image_file": "images/3.png", "caption": "a broken one"}]
    files.update({"captions.json": json.dumps(records).encode(), "images/3.png": png(3)[:40]})
    response = upload(client, files)
    assert response.status_code == 201, response.text
    rejected = response.json()["rejected"]
    assert [item["file"] for item in rejected] == ["images/3.png"] and rejected[0]["reason"]
    detail = client.get("/api/datasets/shoes").json()
    assert detail["rejected"] == rejected and detail["usable"] == 3
    assert detail["report"]["captions_without_images"] == ["images/3.png"]
    assert detail["report"]["ready_to_train"] == 3 and "caption without image" in detail["report"]["verdict"]
    assert not (settings.datasets_root / "shoes" / "images" / "3.png").exists()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_caption_edit_is_written_in_the_datasets_layout(client, settings, layout):
    assert upload(client, dataset_files(layout)).status_code == 201
    items = client.get("/api/datasets/shoes/items", params={"limit": 2}).json()
    assert items["total"] == 3 and len(items["items"]) == 2
    target = items["items"][1]["file"]
    response = client.put("/api/datasets/shoes/captions", json={"file": target, "caption": " green canvas sneakers "})
    assert response.status_code == 200, response.text
    assert response.json()["caption"] == "green canvas sneakers"
    root = settings.datasets_root / "shoes"
    captions = {entry.image_path.relative_to(root).as_posix(): entry.caption for entry in read_dataset(root).entries}
    assert captions[target] == "green canvas sneakers" and len(captions) == 3
    image = client.get(items["items"][1]["image_url"])
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    missing = client.put("/api/datasets/shoes/captions", json={"file": "../../x.png", "caption": "x"})
    assert missing.status_code == 404 and "../../x.png" in missing.json()["detail"]


def test_the_template_is_applied_or_refused_naming_the_images(client, settings):
    assert upload(client, dataset_files("imagefolder")).status_code == 201
    templates = {item["name"]: item["template"] for item in client.get("/api/datasets/caption-templates").json()}
    assert templates["original"].startswith("A professional product photo of [color] casual shoes")
    refused = client.post("/api/datasets/shoes/caption-template", json={"template": templates["original"]})
    assert refused.status_code == 422
    assert "3 images lack a field: 0.png (season, gender, brand)" in refused.json()["detail"]
    applied = client.post("/api/datasets/shoes/caption-template", json={"template": "[color] shoes, [caption]"})
    assert applied.json() == {"updated": 3}
    captions = [item["caption"] for item in client.get("/api/datasets/shoes/items").json()["items"]]
    assert captions[0] == "brown shoes, a product photo of shoes number 0"


def test_register_a_folder_inside_the_root_only(client, settings, tmp_path):
    root = settings.datasets_root
    for name, content in dataset_files("kohya").items():
        (root / "team" / "spring" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "team" / "spring" / name).write_bytes(content)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "team" / "escape").symlink_to(outside, target_is_directory=True)
    created = client.post("/api/datasets/register", json={"name": "spring", "path": "team/spring"})
    assert created.status_code == 201, created.text
    assert (created.json()["path"], created.json()["usable"], created.json()["source"]) == ("team/spring", 3, "registered")
    for path, code, message in (("team/escape", 400, "not a folder inside"), ("../../outside", 400, "not a folder inside"),
                                ("../../nowhere", 400, "not a folder inside"),
                                (str(outside), 400, "not a folder inside"), ("team/none", 404, "no such folder")):
        response = client.post("/api/datasets/register", json={"name": "other", "path": path})
        assert response.status_code == code and message in response.json()["detail"], path
    taken = client.post("/api/datasets/register", json={"name": "spring", "path": "team"})
    assert taken.status_code == 409
    assert client.delete("/api/datasets/spring").status_code == 204
    assert (root / "team" / "spring" / "10_shoes" / "0.png").is_file()
    assert client.get("/api/datasets/spring").status_code == 404


def test_the_files_route_serves_listed_images_only(client, settings):
    assert upload(client, dataset_files("captions.json")).status_code == 201
    (settings.datasets_root / "secret.png").write_bytes(png(9))
    assert client.get("/api/datasets/shoes/files/images/0.png").status_code == 200
    for file in ("..%2Fsecret.png", "images%2F..%2F..%2Fsecret.png", "captions.json", "images/9.png"):
        response = client.get(f"/api/datasets/shoes/files/{file}")
        assert response.status_code == 404, file
    assert client.get("/api/datasets/nope/files/a.png").status_code == 404


def test_an_uploaded_dataset_is_deleted_with_its_folder(client, settings):
    assert upload(client, dataset_files("kohya")).status_code == 201
    assert client.delete("/api/datasets/shoes").status_code == 204
    assert leftovers(settings) == [] and client.get("/api/datasets").json() == {"datasets": []}
    assert client.delete("/api/datasets/shoes").status_code == 404


def test_a_dataset_a_run_still_reads_is_kept_until_the_run_is_over(settings):
    with TestClient(create_app(settings.model_copy(update={"role": "api"}))) as client:  # no worker: it waits
        assert upload(client, dataset_files("kohya")).status_code == 201
        created = client.post("/api/runs", json={"name": "spring", "dataset": "shoes", "recipe": "quick-test"})
        assert created.status_code == 202, created.text
        refused = client.delete("/api/datasets/shoes")
        assert refused.status_code == 409
        assert refused.json()["detail"] == ("dataset shoes: training run 'spring' (queued) still reads it; stop it "
                                            "or let it finish, then delete the dataset")
        assert client.get("/api/datasets/shoes").status_code == 200 and leftovers(settings) == ["shoes"]
        assert client.post("/api/runs/spring/stop").json()["status"] == "cancelled"
        assert client.delete("/api/datasets/shoes").status_code == 204
        assert leftovers(settings) == []


def test_an_upload_without_a_name_says_the_name_is_missing(client, settings):
    response = client.post("/api/datasets", files=[("files", (name, data)) for name, data in
                                                    dataset_files("kohya").items()])
    assert response.status_code == 422
    assert response.json()["detail"] == "name: missing; send the dataset's name as a form field beside the files"
    assert leftovers(settings) == []


def test_a_delete_removes_what_the_name_finds_and_never_a_dataset_inside_another(settings):
    with TestClient(create_app(settings.model_copy(update={"role": "api"}))) as client:  # no worker: runs wait
        assert upload(client, dataset_files("kohya"), name="team").status_code == 201
        inner = client.post("/api/datasets/register", json={"name": "spring", "path": "team/10_shoes"})
        assert inner.status_code == 201, inner.text
        refused = client.delete("/api/datasets/team")
        assert refused.status_code == 409
        assert refused.json()["detail"] == ("dataset team: the registered dataset spring is a folder inside it; "
                                            "delete (unregister) those first")
        # A run reading the inner folder keeps the upload too: its files would go with it.
        assert client.post("/api/runs", json={"name": "r", "dataset": "spring"}).status_code == 202
        assert client.delete("/api/datasets/spring").status_code == 409  # the run reads it
        assert client.post("/api/runs/r/stop").json()["status"] == "cancelled"
        assert client.delete("/api/datasets/spring").status_code == 204
        assert client.delete("/api/datasets/team").status_code == 204

        # A registered name whose folder went, then an upload of that name: the delete removes the upload.
        assert upload(client, dataset_files("kohya"), name="outer").status_code == 201
        assert client.post("/api/datasets/register", json={"name": "gone", "path": "outer/10_shoes"}).status_code == 201
        shutil.rmtree(settings.datasets_root / "outer" / "10_shoes")  # removed on the server, by hand
        assert upload(client, dataset_files("kohya"), name="gone").status_code == 201
        assert client.delete("/api/datasets/gone").status_code == 204
        assert client.get("/api/datasets/gone").status_code == 404
        assert "gone" not in leftovers(settings)


def test_a_caption_two_images_would_share_is_refused_naming_both(client, settings):
    files = {**dataset_files("kohya"), "10_shoes/0.PNG": png(7)}  # 0.png and 0.PNG: one caption file, 0.txt
    assert upload(client, files).status_code == 201
    report = client.get("/api/datasets/shoes").text
    assert "10_shoes/0.PNG, 10_shoes/0.png share the caption file 10_shoes/0.txt" in report  # said on upload too
    before = (settings.datasets_root / "shoes" / "10_shoes" / "0.txt").read_bytes()
    refused = client.put("/api/datasets/shoes/captions", json={"file": "10_shoes/0.png", "caption": "only this one"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == ("10_shoes/0.png, 10_shoes/0.PNG share the caption file 10_shoes/0.txt: a "
                                        "caption for one would be the other's too; rename one of them so each has "
                                        "its own")
    assert (settings.datasets_root / "shoes" / "10_shoes" / "0.txt").read_bytes() == before
    applied = client.post("/api/datasets/shoes/caption-template", json={"template": "shoes, [caption]"})
    assert applied.status_code == 200 and applied.json() == {"updated": 4}  # the same caption for both is written
