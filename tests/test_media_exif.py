"""fluxcull.media.exif: capture time, camera, exposure, GPS, original file names."""

from __future__ import annotations

import datetime as dt

import pytest
from PIL import Image

from fluxcull.media.exif import parse_taken, read_metadata
from tests.photogen import scene, write_jpeg


def test_full_metadata_from_generated_jpeg(tmp_path):
    p = write_jpeg(tmp_path / "R0001234.JPG", seed=1, taken=dt.datetime(2021, 5, 4, 10, 20, 30), subsec="45",
                   offset="+02:00", gps=(48.8566, -2.3522), fnumber=4.0, exposure=1 / 500, iso=400, focal=18.3,
                   focal35=28, orientation=6)
    m = read_metadata(p.read_bytes(), p)
    assert m["taken_at"] == "2021-05-04T10:20:30.45+02:00"
    assert m["taken_offset"] == "+02:00"
    want = dt.datetime(2021, 5, 4, 10, 20, 30, 450000, tzinfo=dt.timezone.utc).timestamp()
    assert m["capture_time"] == pytest.approx(want)
    assert m["camera_make"].startswith("RICOH") and m["camera_model"] == "RICOH GR III"
    assert m["aperture"] == pytest.approx(4.0)
    assert m["shutter"] == pytest.approx(1 / 500)
    assert m["iso"] == 400
    assert m["focal_length"] == pytest.approx(18.3) and m["focal_length_35mm"] == 28
    assert m["gps_lat"] == pytest.approx(48.8566, abs=1e-4) and m["gps_lon"] == pytest.approx(-2.3522, abs=1e-4)
    assert m["orientation"] == 6
    assert m["original_filename"] == "R0001234.JPG"
    assert m["warning"] is None


def test_no_exif_at_all(tmp_path):
    p = tmp_path / "plain.png"
    scene(2).save(p)
    m = read_metadata(p.read_bytes(), p)
    assert m["capture_time"] is None and m["camera_make"] is None and m["warning"] is None


@pytest.mark.parametrize("taken,subsec,offset,iso,ct", [
    ("2020:01:02 03:04:05", None, None, "2020-01-02T03:04:05", 1577934245.0),
    ("2020:01:02 03:04:05", "007", "-05:00", "2020-01-02T03:04:05.007-05:00", 1577934245.007),
    ("0000:00:00 00:00:00", None, None, None, None),
    ("    :  :     :  :  ", None, None, None, None),
    ("2020:13:40 03:04:05", None, None, None, None),
    ("2020-01-02T03:04:05", None, "bogus", "2020-01-02T03:04:05", 1577934245.0),
])
def test_parse_taken(taken, subsec, offset, iso, ct):
    out = parse_taken(taken, subsec, offset)
    assert out["taken_at"] == iso
    assert out["capture_time"] == (pytest.approx(ct) if ct else None)


@pytest.mark.parametrize("xmp,name", [
    (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmpMM:PreservedFileName="R0004567.DNG"/>'
     b"</rdf:RDF></x:xmpmeta>", "R0004567.DNG"),
    (b"<x:xmpmeta><rdf:RDF><rdf:Description><crs:RawFileName>R0000042.DNG</crs:RawFileName>"
     b"</rdf:Description></rdf:RDF></x:xmpmeta>", "R0000042.DNG"),
])
def test_original_filename_from_xmp(tmp_path, xmp, name):
    p = tmp_path / "2021-05-04 export.jpg"
    scene(3).save(p, "JPEG", xmp=xmp)
    assert read_metadata(p.read_bytes(), p)["original_filename"] == name


def test_scrambled_exif_block_gives_a_warning_not_a_crash(tmp_path):
    p = write_jpeg(tmp_path / "x.jpg", seed=4, taken=dt.datetime(2020, 1, 1, 12, 0, 0))
    data = bytearray(p.read_bytes())
    j = data.find(b"\xff\xe1")
    end = j + 2 + int.from_bytes(data[j + 2 : j + 4], "big")
    for k in range(j + 18, end):  # keep the TIFF header, scramble the IFDs, stay inside the segment
        data[k] = 0x0D
    m = read_metadata(bytes(data), p)
    assert m["capture_time"] is None
    assert "damaged EXIF" in m["warning"]


def test_dng_original_raw_file_name_and_offset(shared_photos):
    p = shared_photos / "photoprism/assets/examples/canon_eos_6d.dng"
    m = read_metadata(p.read_bytes(), p)
    assert m["original_filename"] == "IMG_2533.CR2"
    assert m["taken_at"] == "2019-06-06T07:29:51.00+02:00"
    assert m["lens"] == "EF24-105mm f/4L IS USM" and m["iso"] == 1000


def test_gps_walk(shared_photos):
    p = shared_photos / "exif-samples/jpg/gps/DSCN0010.jpg"
    m = read_metadata(p.read_bytes(), p)
    assert m["gps_lat"] == pytest.approx(43.4674, abs=1e-3) and m["gps_lon"] == pytest.approx(11.8851, abs=1e-3)
    assert m["taken_at"] == "2008-10-22T16:28:39"


def test_crs_raw_file_name_in_real_export(shared_photos):
    p = shared_photos / "exif-samples/jpg/Nikon_D70.jpg"
    assert read_metadata(p.read_bytes(), p)["original_filename"] == "DSC_1801.NEF"
