"""fluxcull.media.decode: fastest adequate source, orientation, and a clear error per bad input."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from fluxcull.media import formats
from fluxcull.media.decode import DecodeError, decode_bytes, load_image, probe
from tests.photogen import scene, write_jpeg


def _halves(size=(400, 300)):
    """Left half red, right half blue: shows where the stored left edge ends up after rotation."""
    a = np.zeros((size[1], size[0], 3), np.uint8)
    a[:, : size[0] // 2] = (255, 0, 0)
    a[:, size[0] // 2 :] = (0, 0, 255)
    return Image.fromarray(a, "RGB")


def _png_header_only(path, w, h):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def test_jpeg_draft_gives_at_least_min_side_but_less_than_full(tmp_path):
    p = write_jpeg(tmp_path / "big.jpg", scene(1, (2400, 1600)))
    img, source = load_image(p, min_side=300)
    assert source == "jpeg-draft"
    assert img.mode == "RGB"
    assert min(img.size) >= 300
    assert img.size[0] < 2400 and img.size[0] / img.size[1] == pytest.approx(1.5, abs=0.01)


def test_full_decode_without_min_side(tmp_path):
    p = write_jpeg(tmp_path / "big.jpg", scene(1, (1200, 800)))
    img, source = load_image(p)
    assert source == "decode"
    assert img.size == (1200, 800)


def test_small_jpeg_is_returned_whole_when_min_side_exceeds_it(tmp_path):
    p = write_jpeg(tmp_path / "small.jpg", scene(2, (320, 240)))
    img, _ = load_image(p, min_side=1000)
    assert img.size == (320, 240)


@pytest.mark.parametrize("orientation,size,top_is_red", [(1, (400, 300), None), (6, (300, 400), True),
                                                         (8, (300, 400), False), (3, (400, 300), None)])
def test_exif_orientation_is_applied(tmp_path, orientation, size, top_is_red):
    p = write_jpeg(tmp_path / f"o{orientation}.jpg", _halves(), orientation=orientation, quality=95)
    img, _ = load_image(p)
    assert img.size == size
    a = np.asarray(img).astype(int)
    if top_is_red is None:
        left_red = a[:, : size[0] // 4, 0].mean() > 200
        assert left_red == (orientation == 1)
    else:
        top = a[: size[1] // 4]
        assert (top[..., 0].mean() > 200) == top_is_red
        assert (top[..., 2].mean() > 200) == (not top_is_red)


def test_orientation_applied_with_draft_too(tmp_path):
    p = write_jpeg(tmp_path / "rot.jpg", _halves((1600, 1200)), orientation=6)
    img, source = load_image(p, min_side=200)
    assert source == "jpeg-draft"
    assert img.size[0] < img.size[1]


def test_png_with_alpha_becomes_rgb(tmp_path):
    p = tmp_path / "a.png"
    Image.new("RGBA", (50, 40), (10, 20, 30, 0)).save(p)
    img, source = load_image(p)
    assert img.mode == "RGB" and img.size == (50, 40) and source == "decode"
    assert img.getpixel((0, 0)) == (255, 255, 255)  # transparent over white


def test_tiff_16_bit(tmp_path):
    p = tmp_path / "t.tif"
    Image.fromarray((np.arange(64 * 32, dtype=np.uint16).reshape(32, 64) * 30)).save(p)
    img, _ = load_image(p)
    assert img.mode == "RGB" and img.size == (64, 32)


def test_probe_reads_size_and_orientation_from_headers(tmp_path):
    p = write_jpeg(tmp_path / "p.jpg", scene(3, (640, 480)), orientation=6)
    assert probe(p.read_bytes(), p) == (480, 640, 6)


@pytest.mark.parametrize("make,needle", [
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_text("hello, this is not a photo\n"), "not an image"),
])
def test_bad_jpegs(tmp_path, make, needle):
    p = tmp_path / "bad.jpg"
    make(p)
    with pytest.raises(DecodeError) as e:
        load_image(p)
    assert needle in e.value.reason and e.value.path == str(p)


def test_truncated_jpeg(tmp_path):
    good = write_jpeg(tmp_path / "g.jpg", scene(4, (800, 600)))
    bad = tmp_path / "t.jpg"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DecodeError) as e:
        load_image(bad, min_side=100)
    assert "truncated" in e.value.reason


def test_decompression_bomb_is_refused(tmp_path):
    p = _png_header_only(tmp_path / "bomb.png", 60000, 60000)
    with pytest.raises(DecodeError) as e:
        load_image(p)
    assert "safety limit" in e.value.reason


def test_garbage_raw(tmp_path):
    p = tmp_path / "x.dng"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(DecodeError) as e:
        load_image(p)
    assert "LibRaw" in e.value.reason


def test_raw_with_garbage_but_embedded_jpeg_falls_back_to_it(tmp_path):
    jpeg = write_jpeg(tmp_path / "inner.jpg", scene(5, (320, 200))).read_bytes()
    p = tmp_path / "damaged.nef"
    p.write_bytes(b"\x00" * 1000 + jpeg + b"\x00" * 100)
    img, source = load_image(p)
    assert source == "embedded-jpeg" and img.size == (320, 200)


def test_missing_file(tmp_path):
    with pytest.raises(DecodeError) as e:
        load_image(tmp_path / "nope.jpg")
    assert "not found" in e.value.reason


def test_formats():
    assert formats.is_supported("a/R0001234.JPG") and formats.is_supported("x.DNG") and formats.is_supported("x.cr3")
    assert not formats.is_supported("a/R0001234.xmp") and not formats.is_supported("a/.hidden.jpg")
    assert not formats.is_supported("a/R0001234.THM")
    assert {".nef", ".arw", ".raf", ".orf", ".rw2", ".pef", ".srw", ".kdc", ".crw", ".cr2", ".cr3"} <= formats.RAW_EXTENSIONS
    assert formats.format_name("x.JPEG") == "jpeg" and formats.format_name("x.NEF") == "nef"


# ---- real RAW files


def test_dng_uses_embedded_preview(shared_photos):
    img, source = load_image(shared_photos / "photoprism/assets/examples/canon_eos_6d.dng", min_side=300)
    assert source == "raw-preview" and min(img.size) >= 300


def test_raw_libraw_cannot_decode_falls_back_to_preview(shared_photos):
    p = shared_photos / "exif-py/tests/resources/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng"
    img, source = load_image(p, min_side=300)
    assert source == "raw-preview" and max(img.size) == 640


def test_truncated_nef_preview(shared_photos):
    img, source = load_image(shared_photos / "metadata-extractor-images/nef/Issue 247-1.nef", min_side=256)
    assert source == "raw-preview"


def test_raw_without_preview_is_demosaiced(shared_photos):
    img, source = load_image(shared_photos / "imageio/Blackmagic.dng", min_side=256)
    assert source == "raw-decode" and min(img.size) >= 256


def test_undecodable_raw_stub(shared_photos):
    with pytest.raises(DecodeError) as e:
        load_image(shared_photos / "exiftool/t/images/Nikon.nef")
    assert "LibRaw" in e.value.reason


def test_decode_bytes_long_side(tmp_path):
    p = write_jpeg(tmp_path / "l.jpg", scene(6, (3200, 2000)))
    d = decode_bytes(p.read_bytes(), p, long_side=512)
    assert max(d.image.size) >= 512 and max(d.image.size) < 3200
    assert (d.width, d.height) == (3200, 2000)


def test_heic_decodes_and_has_metadata(tmp_path):
    pytest.importorskip("pillow_heif", reason="pillow-heif not installed: HEIC/HEIF support is optional")
    import datetime as dt

    from fluxcull.media.exif import read_metadata
    from tests.photogen import make_exif

    p = tmp_path / "IMG_0001.HEIC"
    try:
        scene(1, (320, 240)).save(p, quality=80, exif=make_exif(taken=dt.datetime(2022, 2, 2, 12, 0, 0)).tobytes())
    except (KeyError, OSError, ValueError) as exc:  # libheif built without an encoder
        pytest.skip(f"cannot write HEIC here: {exc}")
    assert formats.is_supported(p)
    img, source = load_image(p, min_side=100)
    assert img.mode == "RGB" and img.size == (320, 240) and source == "decode"
    assert read_metadata(p.read_bytes(), p)["taken_at"] == "2022-02-02T12:00:00"
