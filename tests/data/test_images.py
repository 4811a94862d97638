"""open_rgb and image_info on the files catalogues really contain: odd color modes, bit depths,
EXIF rotation, and broken or oversized files."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image

from shoegen.data.images import ImageError, image_info, open_rgb
from shoegen.errors import ShoegenError

Builder = Callable[..., Path]  # the file builders from conftest.py


def _noise_image(size: tuple[int, int] = (96, 64)) -> Image.Image:
    """Random pixels compress badly, so half of the file really is half of the image data."""
    pixels = np.random.default_rng(0).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def _assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 3) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (actual, expected)


def test_rgba_transparency_becomes_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (4, 2), (0, 0, 0, 0))
    image.putpixel((0, 0), (200, 10, 10, 255))
    image.putpixel((1, 0), (0, 0, 0, 128))
    image.save(tmp_path / "cutout.png")

    rgb = open_rgb(tmp_path / "cutout.png")

    assert rgb.mode == "RGB"
    assert rgb.getpixel((0, 0)) == (200, 10, 10)
    _assert_close(rgb.getpixel((1, 0)), (127, 127, 127), tolerance=1)
    assert rgb.getpixel((3, 1)) == (255, 255, 255)


def test_palette_with_transparent_index_becomes_white(tmp_path: Path) -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([0, 0, 0, 10, 200, 10] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "palette.png", transparency=0)

    rgb = open_rgb(tmp_path / "palette.png")

    assert rgb.getpixel((0, 0)) == (255, 255, 255)
    assert rgb.getpixel((1, 0)) == (10, 200, 10)


def test_gray_with_alpha_becomes_white_where_transparent(tmp_path: Path, write_image: Builder) -> None:
    path = write_image(tmp_path / "la.png", (2, 2), mode="LA", color=(40, 0))
    assert open_rgb(path).getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize(("mode", "color", "expected"), [("L", 90, (90, 90, 90)), ("1", 1, (255, 255, 255))])
def test_gray_and_bilevel_become_rgb(
    tmp_path: Path, write_image: Builder, mode: str, color: int, expected: tuple[int, int, int]
) -> None:
    path = write_image(tmp_path / f"{mode}.png", (3, 3), mode=mode, color=color)
    rgb = open_rgb(path)
    assert rgb.mode == "RGB" and rgb.getpixel((1, 1)) == expected


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path, write_image: Builder) -> None:
    path = write_image(tmp_path / "print.jpg", (16, 16), mode="CMYK", color=(0, 255, 255, 0), quality=95)
    assert image_info(path).mode == "CMYK"
    rgb = open_rgb(path)
    assert rgb.mode == "RGB"
    _assert_close(rgb.getpixel((8, 8)), (255, 0, 0), tolerance=6)


def test_16_bit_gray_is_scaled_not_clipped_to_white(tmp_path: Path) -> None:
    Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16)).save(tmp_path / "deep.png")
    assert image_info(tmp_path / "deep.png").mode == "I;16"
    assert open_rgb(tmp_path / "deep.png").getpixel((0, 0)) == (128, 128, 128)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_exif_orientation_is_applied(tmp_path: Path, suffix: str) -> None:
    # Stored 40 wide and 20 high, left half red; orientation 6 asks viewers to turn it a quarter
    # clockwise, which puts the stored left side on top.
    stored = Image.new("RGB", (40, 20), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    path = tmp_path / f"rotated{suffix}"
    stored.save(path, exif=exif, quality=95)

    info = image_info(path)
    rgb = open_rgb(path)

    assert (info.width, info.height, info.exif_orientation) == (20, 40, 6)
    assert rgb.size == (20, 40)
    _assert_close(rgb.getpixel((10, 5)), (255, 0, 0), tolerance=10)
    _assert_close(rgb.getpixel((10, 35)), (0, 0, 255), tolerance=10)


def test_image_info_reads_the_header(tmp_path: Path, write_image: Builder) -> None:
    path = write_image(tmp_path / "photo.jpg", (30, 40))
    info = image_info(path)
    assert (info.width, info.height, info.mode, info.format, info.exif_orientation) == (30, 40, "RGB", "JPEG", 1)


def test_random_bytes_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 500, dtype=np.uint8).tobytes())
    with pytest.raises(ImageError) as raised:
        open_rgb(path)
    assert str(path) in str(raised.value) and isinstance(raised.value, ShoegenError)
    with pytest.raises(ImageError):
        image_info(path)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_truncated_files_are_refused(tmp_path: Path, image_format: str) -> None:
    path = tmp_path / f"cut.{image_format.lower()}"
    _noise_image().save(path, format=image_format)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated"):
        open_rgb(path)


def test_missing_file_is_an_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="file not found"):
        open_rgb(tmp_path / "nope.png")


def test_image_without_pixels_is_refused(tmp_path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)
    path = tmp_path / "empty.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    with pytest.raises(ImageError):
        open_rgb(path)


def test_images_over_max_pixels_are_refused_before_decoding(tmp_path: Path, write_image: Builder) -> None:
    path = write_image(tmp_path / "big.png", (100, 100))
    with pytest.raises(ImageError, match="over the pixel limit"):
        open_rgb(path, max_pixels=9_999)
    assert open_rgb(path, max_pixels=10_000).size == (100, 100)


@pytest.mark.parametrize("pillow_limit", [6_000, 4_000])  # Pillow warns above its limit and fails above twice it
def test_pillow_decompression_bomb_checks_become_image_errors(
    tmp_path: Path, write_image: Builder, monkeypatch: pytest.MonkeyPatch, pillow_limit: int
) -> None:
    path = write_image(tmp_path / "bomb.png", (100, 100))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    with pytest.raises(ImageError, match="too many pixels"):
        open_rgb(path)


def _mask_on_a_transparent_layer(path: Path, hidden: tuple[int, int, int]) -> None:
    """White paint (opaque) in the middle of a 32 px layer; the transparent pixels hide the colour `hidden`."""
    layer = Image.new("RGBA", (32, 32), (*hidden, 0))
    layer.paste((255, 255, 255, 255), (8, 8, 24, 24))
    layer.save(path)


@pytest.mark.parametrize("hidden", [(0, 0, 0), (255, 255, 255)], ids=["black-under", "white-under"])
def test_a_mask_painted_on_a_transparent_layer_is_its_paint(tmp_path: Path, hidden) -> None:
    """What is opaque is painted (AUTOMATIC1111 reads such a mask so): the repaint area is the white square,
    whatever colour the transparent pixels hide. Flattened on white, the whole mask was white (repaint all)."""
    from shoegen.data.images import open_mask

    path = tmp_path / "mask.png"
    _mask_on_a_transparent_layer(path, hidden)
    mask = np.asarray(open_mask(path))
    assert mask.shape == (32, 32)
    assert (mask[8:24, 8:24] == 255).all() and mask.sum() == 255 * 16 * 16
    opaque = tmp_path / "opaque.png"
    Image.new("RGB", (32, 32), (255, 255, 255)).save(opaque)
    assert (np.asarray(open_mask(opaque)) == 255).all()  # no transparency: its brightness


@pytest.mark.parametrize("mask", [False, True], ids=["photo", "mask"])
def test_an_upload_is_decoded_as_the_command_line_decodes_its_file(tmp_path: Path, mask: bool) -> None:
    """The API's images (base64 or uploads) and the CLI's files: the same pixels, upright, for a photo taken
    sideways and for a mask on a transparent layer."""
    from shoegen.data.images import open_mask
    from shoegen.service.images import decode_image_bytes

    path = tmp_path / ("mask.png" if mask else "rotated.jpg")
    if mask:
        _mask_on_a_transparent_layer(path, (0, 0, 0))
    else:
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = 6
        Image.new("RGB", (40, 20), (0, 0, 255)).save(path, exif=exif, quality=95)
    from_file = open_mask(path) if mask else open_rgb(path)
    uploaded = decode_image_bytes(path.read_bytes(), 10**6, "image", mask=mask)
    assert uploaded.size == from_file.size == ((32, 32) if mask else (20, 40))
    assert np.array_equal(np.asarray(uploaded), np.asarray(from_file))
