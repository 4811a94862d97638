"""Gallery.export_zip and Gallery.export_metadata."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from shoegen.config.generation import ImageParams
from shoegen.storage import Gallery, ImageFilter, read_png_parameters

ParamsFactory = Callable[..., ImageParams]


def test_zip_holds_exactly_the_selected_pngs_and_matching_metadata(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    images = [gallery.add(small_image, make_params(seed=seed)) for seed in (11, 22, 33)]
    selected = [images[0], images[2]]

    buffer = io.BytesIO()
    assert gallery.export_zip(buffer, ImageFilter(ids=[image.id for image in selected])) == 2

    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        names = sorted(archive.namelist())
        metadata = json.loads(archive.read("metadata.json"))
        expected_names = sorted(
            [f"20261125-100000_11_{images[0].id[:8]}.png", f"20261125-100002_33_{images[2].id[:8]}.png"]
        )
        assert names == sorted([*expected_names, "metadata.json"])
        assert sorted(entry["archive_name"] for entry in metadata) == expected_names
        for entry in metadata:
            original = next(image for image in selected if image.id == entry["id"])
            assert {key: value for key, value in entry.items() if key != "archive_name"} == original.to_dict()
            assert original.path is not None
            assert archive.read(entry["archive_name"]) == original.path.read_bytes()


def test_zip_to_a_file_by_filter_skips_missing_files(
    gallery: Gallery, tmp_path: Path, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    kept = gallery.add(small_image, make_params(model_name="base"))
    lost = gallery.add(small_image, make_params(model_name="base"))
    gallery.add(small_image, make_params(model_name="other"))
    assert lost.path is not None
    lost.path.unlink()

    target = tmp_path / "export.zip"
    assert gallery.export_zip(target, ImageFilter(model="base")) == 1
    with zipfile.ZipFile(target) as archive:
        metadata = json.loads(archive.read("metadata.json"))
        assert [entry["id"] for entry in metadata] == [kept.id]
        extracted = tmp_path / "extracted.png"
        extracted.write_bytes(archive.read(metadata[0]["archive_name"]))
    assert read_png_parameters(extracted)[1] == kept.params.to_dict()


def test_zip_of_an_empty_selection_has_only_metadata(gallery: Gallery) -> None:
    buffer = io.BytesIO()
    assert gallery.export_zip(buffer) == 0
    with zipfile.ZipFile(buffer) as archive:
        assert archive.namelist() == ["metadata.json"]
        assert json.loads(archive.read("metadata.json")) == []


def test_export_metadata_is_json_ready_and_newest_first(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    first = gallery.add(small_image, make_params(prompt="red boots", extra={"truncated": True}), job_id="j")
    second = gallery.add(small_image, make_params(prompt="blue boots", strength=0.6))

    exported = gallery.export_metadata()
    assert json.loads(json.dumps(exported)) == exported
    assert [entry["id"] for entry in exported] == [second.id, first.id]
    assert exported[1] == {
        "id": first.id,
        "created_at": "2026-11-25T10:00:00+00:00",
        "job_id": "j",
        "file_name": first.file_name,
        "params": first.params.to_dict(),
        "scores": None,
    }
    assert exported[1]["params"]["extra"] == {"truncated": True}
    assert exported[0]["params"]["strength"] == 0.6
    assert gallery.export_metadata(ImageFilter(search="RED")) == [exported[1]]
