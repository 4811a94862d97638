"""`shoegen mask`: a photo in, the mask PNG (or an overlay) out, the same mask as the library's."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from shoegen.cli.main import main
from shoegen.data.masks import product_mask
from shoegen.data.sample import draw_shoe_spec, render_shoe


def test_mask_writes_the_mask_beside_the_photo_and_an_overlay_on_request(tmp_path, capsys):
    photo = tmp_path / "shoe.jpg"
    image = render_shoe(draw_shoe_spec(7, 3), 256)
    image.save(photo, quality=95)
    assert main(["mask", str(photo)]) == 0
    written = Image.open(tmp_path / "shoe_mask.png")
    assert written.mode == "L" and written.size == (256, 256)
    assert (np.asarray(written) == 255).sum() == product_mask(Image.open(photo).convert("RGB")).sum()
    assert "shoe_mask.png" in capsys.readouterr().out

    out = tmp_path / "look.png"
    assert main(["mask", str(photo), "--overlay", "-o", str(out)]) == 0
    assert Image.open(out).mode == "RGB" and Image.open(out).size == (256, 256)


def test_mask_with_rembg_missing_says_so(tmp_path, capsys, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "rembg" else real_find_spec(name, *a))
    photo = tmp_path / "white.png"
    Image.new("RGB", (64, 64), "white").save(photo)
    assert main(["mask", str(photo), "--method", "rembg"]) == 2
    assert "pip install" in capsys.readouterr().err
    assert not (tmp_path / "white_mask.png").exists()


def test_mask_of_an_unreadable_file_is_one_error_line(tmp_path, capsys):
    photo = tmp_path / "broken.png"
    photo.write_bytes(b"not an image")
    assert main(["mask", str(photo)]) == 2
    assert "error:" in capsys.readouterr().err


def shoe_photo(path):
    render_shoe(draw_shoe_spec(7, 3), 128).save(path)
    return path


def test_mask_never_writes_over_its_photo(tmp_path, capsys):
    photo = shoe_photo(tmp_path / "shoe.png")
    before = photo.read_bytes()
    link = tmp_path / "link.png"
    link.symlink_to(photo)
    for output in (photo, tmp_path / "." / "shoe.png", link):
        for extra in ([], ["--overlay"]):
            assert main(["mask", str(photo), "-o", str(output), *extra]) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"error: --output {output} is the photo itself") and "Traceback" not in err
    assert photo.read_bytes() == before


@pytest.mark.parametrize(("name", "overlay", "expected"), [
    ("mask.png", False, "PNG"),
    ("mask.webp", False, "WEBP"),
    ("mask.tif", False, "TIFF"),
    ("look.jpg", True, "JPEG"),
    ("look.webp", True, "WEBP"),
])
def test_mask_writes_the_format_its_extension_names(tmp_path, name, overlay, expected):
    photo = shoe_photo(tmp_path / "shoe.png")
    output = tmp_path / "out" / name
    assert main(["mask", str(photo), "-o", str(output), *(["--overlay"] if overlay else [])]) == 0
    written = Image.open(output)
    assert written.format == expected and written.size == (128, 128)
    if not overlay:  # lossless: exactly the library's mask, black and white
        pixels = np.asarray(written.convert("L"))  # WebP keeps no grey mode: RGB, the same values
        assert set(np.unique(pixels)) <= {0, 255}
        assert (pixels == 255).sum() == product_mask(Image.open(photo).convert("RGB")).sum()


@pytest.mark.parametrize(("name", "expected"), [
    ("mask.txt", "`.txt` is not an image format"),
    ("mask", "no extension is not an image format"),
    ("mask.jpg", "JPEG would blur the mask"),
    ("shoe.png/mask.png", "its folder"),
])
def test_mask_refuses_an_output_it_cannot_write_as_named(tmp_path, capsys, name, expected):
    photo = shoe_photo(tmp_path / "shoe.png")
    assert main(["mask", str(photo), "-o", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --output {tmp_path / name}") and expected in err
    assert not (tmp_path / name).exists()


def test_an_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    photo = tmp_path / "photo.png"
    render_shoe(draw_shoe_spec(7, 3), 64).save(photo)
    other = tmp_path / "other.png"
    other.write_bytes(b"another photo")
    assert main(["mask", str(photo), "-o", str(other)]) == 2
    assert f"--output {other} already exists: pass --overwrite" in capsys.readouterr().err
    assert other.read_bytes() == b"another photo"
    assert main(["mask", str(photo), "-o", str(other), "--overwrite"]) == 0
    assert Image.open(other).size == Image.open(photo).size
    assert main(["mask", str(tmp_path / "none.png")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"IMAGE {tmp_path / 'none.png'}: file not found")
