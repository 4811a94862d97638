"""The studio's dataset library: caption writes in each layout read back by `read_dataset`, caption templates,
registration inside the root only, the files a dataset serves, and uploads staged and refused whole."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from shoegen.data.formats import Layout, read_dataset, write_captions
from shoegen.data.library import (
    CAPTION_TEMPLATES,
    ORIGINAL_CAPTION_TEMPLATE,
    DatasetLibrary,
    DatasetNameTaken,
    DatasetNotFound,
    FileNotInDataset,
    InvalidName,
    NotDeletable,
    OutsideRoot,
    TemplateError,
)
from shoegen.data.uploads import BadUpload, NothingUsable, UnsupportedFile, UploadLimits, UploadTooLarge, upload_path

LAYOUTS = ("captions.json", "imagefolder", "kohya")


@pytest.fixture
def png_bytes():
    """PNG bytes of a small solid image; each call a different colour, so no two are duplicates."""
    made = []

    def make(size: tuple[int, int] = (64, 64)) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", size, (len(made) * 37 % 256, 90, 160)).save(buffer, "PNG")
        made.append(buffer)
        return buffer.getvalue()

    return make


def captions_by_file(root: Path) -> dict[str, str | None]:
    listing = read_dataset(root)
    return {entry.image_path.relative_to(root).as_posix(): entry.caption for entry in listing.entries}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_caption_written_is_read_back_in_the_same_layout(tmp_path, make_dataset, layout):
    root = make_dataset(tmp_path / "set", layout)
    listing = read_dataset(root)
    target = listing.entries[1].image_path
    write_captions(listing, {target: "red suede loafers, side view"})
    after = read_dataset(root)
    assert after.layout is Layout(layout)
    captions = captions_by_file(root)
    assert captions[target.relative_to(root).as_posix()] == "red suede loafers, side view"
    assert sum(caption == "red suede loafers, side view" for caption in captions.values()) == 1
    assert len(after.entries) == 3 and not after.problems


def test_writing_keeps_the_other_keys_and_metadata_of_captions_json(tmp_path, make_dataset):
    root = make_dataset(tmp_path / "set", "captions.json")
    listing = read_dataset(root)
    write_captions(listing, {listing.entries[0].image_path: "new"})
    first = json.loads((root / "captions.json").read_text())[0]
    assert first == {"image_id": 0, "image_file": "images/0.png", "caption": "new", "metadata": {"color": "black"}}


def test_an_uncaptioned_image_gets_a_caption_in_each_layout(tmp_path, make_dataset, write_image):
    for layout, extra in (("captions.json", "images/new.png"), ("imagefolder", "new.png"), ("kohya", "10_shoes/new.png")):
        root = make_dataset(tmp_path / layout.replace(".", "_"), layout)
        write_image(root / extra)
        library_listing = read_dataset(root)
        (uncaptioned,) = library_listing.images_without_captions
        write_captions(library_listing, {uncaptioned: "a new caption"})
        assert captions_by_file(root)[extra] == "a new caption", layout


def test_the_original_template_is_offered():
    assert CAPTION_TEMPLATES["original"] == ORIGINAL_CAPTION_TEMPLATE
    assert "[color] casual shoes, [season] collection, [gender], [brand] brand" in ORIGINAL_CAPTION_TEMPLATE


def test_a_template_fills_each_image_from_its_metadata(tmp_path, make_dataset):
    root = make_dataset(tmp_path / "datasets" / "set", "captions.json")
    library = DatasetLibrary(tmp_path / "datasets")
    assert library.apply_template("set", "[color] shoes; was: [caption]") == 3
    assert set(captions_by_file(root).values()) == {
        f"black shoes; was: A professional product photo of shoes number {index}" for index in range(3)}


def test_a_template_missing_a_field_names_the_images_and_changes_nothing(tmp_path, make_dataset):
    root = make_dataset(tmp_path / "datasets" / "set", "captions.json")
    before = (root / "captions.json").read_text()
    library = DatasetLibrary(tmp_path / "datasets")
    with pytest.raises(TemplateError, match=r"3 images lack a field: images/0.png \(season, gender, brand\)"):
        library.apply_template("set", ORIGINAL_CAPTION_TEMPLATE)
    with pytest.raises(TemplateError, match=r"unknown placeholder \[colour\]"):
        library.apply_template("set", "[colour] shoes")
    assert (root / "captions.json").read_text() == before


def test_register_inside_the_root_only(tmp_path, make_dataset):
    root = tmp_path / "datasets"
    make_dataset(root / "team" / "spring", "kohya")
    outside = make_dataset(tmp_path / "elsewhere", "kohya")
    (root / "team" / "escape").symlink_to(outside, target_is_directory=True)
    library = DatasetLibrary(root)
    info = library.register("spring", "team/spring")
    assert (info.path, info.layout, info.images, info.usable, info.source) == ("team/spring", "kohya", 3, 3, "registered")
    assert library.folder("spring") == (root / "team" / "spring").resolve()
    make_dataset(root / "team" / "summer", "kohya")
    assert library.register("summer", str(root / "team" / "summer")).path == "team/summer"
    with pytest.raises(OutsideRoot, match="not a folder inside the datasets root"):
        library.register("escape", "team/escape")
    with pytest.raises(OutsideRoot):
        library.register("up", "../elsewhere")
    with pytest.raises(OutsideRoot):
        library.register("abs", str(outside))
    with pytest.raises(DatasetNotFound, match="no such folder"):
        library.register("missing", "team/none")
    with pytest.raises(DatasetNameTaken):
        library.register("spring", "team")
    with pytest.raises(InvalidName):
        library.register(".hidden", "team")
    listed = {item.name: item.source for item in library.list()}
    assert listed == {"spring": "registered", "summer": "registered", "team": "folder"}  # team: placed by hand
    library.delete("spring")
    assert (root / "team" / "spring" / "10_shoes").is_dir()  # unregistered, files kept
    with pytest.raises(NotDeletable):
        library.delete("team")
    with pytest.raises(DatasetNotFound, match=r"known: summer, team"):
        library.folder("spring")


def test_a_link_in_the_root_that_leads_outside_is_not_listed(tmp_path, make_dataset):
    root = tmp_path / "datasets"
    root.mkdir()
    (root / "sneaky").symlink_to(make_dataset(tmp_path / "elsewhere", "kohya"), target_is_directory=True)
    assert DatasetLibrary(root).list() == []


def test_only_listed_images_are_served(tmp_path, make_dataset):
    root = tmp_path / "datasets"
    make_dataset(root / "set", "captions.json")
    (root / "secret.png").write_bytes(b"x")
    library = DatasetLibrary(root)
    assert library.image_file("set", "images/0.png") == root / "set" / "images" / "0.png"
    for file in ("../secret.png", "images/../../secret.png", "captions.json", "/etc/passwd", "images/9.png"):
        with pytest.raises(FileNotInDataset):
            library.image_file("set", file)


def test_reports_are_cached_until_a_file_changes(tmp_path, make_dataset):
    root = tmp_path / "datasets"
    make_dataset(root / "set", "kohya")
    library = DatasetLibrary(root)
    first = library.report("set")
    assert first["ready_to_train"] == 3 and first["root"] == "set"
    assert str(tmp_path) not in json.dumps(first)
    library.set_caption("set", "10_shoes/0.png", "changed")
    assert library.report("set")["common_words"] != first["common_words"]


@pytest.mark.parametrize("name", ["../up", "/abs", "C:/x.png", "a/../../b.png", "..\\win.png"])
def test_upload_paths_that_leave_the_folder_are_refused(name):
    with pytest.raises(BadUpload, match="leaves the dataset folder"):
        upload_path(name)


def test_system_files_are_dropped_silently():
    assert upload_path("__MACOSX/._a.png") is None
    assert upload_path("set/.DS_Store") is None
    assert upload_path("Thumbs.db") is None
    assert str(upload_path("./set//images/a.png")) == "set/images/a.png"


def stage_files(library: DatasetLibrary, files: dict[str, bytes], name: str = "up"):
    with library.upload() as staging:
        for file_name, content in files.items():
            sink = staging.receive(file_name)
            sink.write(content)
            sink.close()
        return library.publish(staging, name)


def test_a_staged_upload_is_refused_whole_and_leaves_nothing(tmp_path, png_bytes):
    root = tmp_path / "datasets"
    library = DatasetLibrary(root, UploadLimits(max_file_bytes=10_000, max_files=3))
    cases = [
        ({"a.png": png_bytes(), "notes.pdf": b"%PDF"}, UnsupportedFile, "notes.pdf: neither an image"),
        ({"a.png": png_bytes(), "a.txt": b"x" * 10_001}, UploadTooLarge, "a.txt: over the limit of 10000"),
        ({f"{i}.png": png_bytes() for i in range(4)}, UploadTooLarge, "more than 3 files"),
        ({"a.png": png_bytes()}, NothingUsable, "found 1 image files but no captions"),
        ({"a.png": b"broken", "a.txt": b"a shoe"}, NothingUsable, "no image in the upload decodes: a.png"),
        ({"a.png": png_bytes(), "inner.zip": b"PK"}, BadUpload, "send one .zip on its own"),
    ]
    for files, error, message in cases:
        with pytest.raises(error, match=message):
            stage_files(library, files)
        assert sorted(path.name for path in root.iterdir()) == [], files.keys()


def test_a_staged_kohya_upload_keeps_its_decodable_images(tmp_path, png_bytes):
    library = DatasetLibrary(tmp_path / "datasets")
    info = stage_files(library, {"a.png": png_bytes(), "a.txt": b"a red shoe", "b.png": b"broken",
                                 "b.txt": b"a blue shoe"})
    assert (info.layout, info.images, info.usable, info.source) == ("kohya", 1, 1, "upload")
    assert [(item.file, item.reason.split(",")[0]) for item in info.rejected] == [
        ("b.png", "not an image")]
    assert library.report("up")["captions_without_images"] == ["b.txt"]
    with pytest.raises(DatasetNameTaken):
        stage_files(library, {"a.png": png_bytes(), "a.txt": b"again"})
    library.delete("up")
    assert [path.name for path in (tmp_path / "datasets").iterdir() if not path.name.startswith(".")] == []
