"""Reading culling marks from XMP at ingest: sidecars of Lightroom Classic, darktable, digiKam and
Capture One, XMP embedded in JPEG and TIFF, both sidecar naming conventions, re-ingest, --no-xmp,
hostile sidecars (refused with a reason, the photo still ingested), the real photos, originals
untouched."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from fluxcull.catalog import Catalog
from fluxcull.cli import main
from fluxcull.media.sidecars import SidecarIndex
from fluxcull.media.xmp import MAX_XMP_BYTES, Marks, XmpError, find_packet, read_embedded_file, read_marks
from tests import xmpgen
from tests.ingest_helpers import ingest, snapshot
from tests.photogen import make_exif, scene, write_jpeg

ALL_MARK_FIELDS = {"rating", "pick", "label", "color_label", "pick_label", "keywords", "source"}


def _photo(folder, name, seed=0):
    return write_jpeg(folder / name, scene(seed, (320, 240)))


def _marks(library) -> dict[str, dict]:
    """photo file name -> its imported marks (None: none)."""
    cat = Catalog(library.connect())
    try:
        ids = cat.photo_ids(_all())
        recs = cat.photos(ids)
        marks = cat.imported_marks(ids)
    finally:
        cat.close()
    return {recs[i]["path"].rsplit("/", 1)[1]: marks.get(i) for i in ids}


def _all():
    from fluxcull.catalog.queries import PhotoQuery

    return PhotoQuery(status=None)


# -- the parser ----------------------------------------------------------------------------------------
def test_lightroom_classic_sidecar():
    m = read_marks(xmpgen.LIGHTROOM.format(rating=4).encode())
    assert m == Marks(rating=4, label="Red", keywords=("Paris", "street", "Places|France|Paris"))


def test_darktable_sidecar_rejected_with_its_colour_label():
    m = read_marks(xmpgen.DARKTABLE.format(rating=-1, name="IMG_0002.CR2").encode())
    assert m.rating == -1 and m.label == "Green" and m.keywords == ("fog", "weather|fog")


def test_digikam_pick_and_colour_labels():
    m = read_marks(xmpgen.DIGIKAM.format(pick_label=3).encode())
    assert (m.rating, m.pick_label, m.color_label) == (2, 3, 4)
    assert m.keywords == ("Iceland", "Trips|Iceland", "Trips/Iceland")


def test_capture_one_element_form_under_another_prefix():
    m = read_marks(xmpgen.CAPTURE_ONE.format(rating=5).encode())
    assert m == Marks(rating=5, label="Green", keywords=("portrait", "studio"))


def test_pick_flags():
    assert read_marks(xmpgen.PICK.format(pick="1").encode()).pick == "picked"
    assert read_marks(xmpgen.PICK.format(pick="-1").encode()).pick == "rejected"
    assert read_marks(xmpgen.PICK.format(pick="0").encode()).empty


def test_namespaces_are_matched_by_uri_never_by_prefix():
    doc = b"""<a:xmpmeta xmlns:a="adobe:ns:meta/"><r:RDF xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
    <r:Description xmlns:xmp="http://example.com/not-xmp/" xmp:Rating="5"/>
    <r:Description xmlns:q="http://ns.adobe.com/xap/1.0/" q:Rating=" 2.0 " q:Label="Blue"/>
    <r:Description xmlns:k="http://www.digikam.org/ns/1.0/"><k:PickLabel>1</k:PickLabel></r:Description>
    </r:RDF></a:xmpmeta>"""
    m = read_marks(doc)
    assert (m.rating, m.label, m.pick_label) == (2, "Blue", 1)


def test_values_out_of_range_are_ignored_and_rating_zero_is_no_mark():
    doc = xmpgen.LIGHTROOM.format(rating=9).replace('xmp:Label="Red"', 'xmp:Label=""')
    m = read_marks(doc.encode())
    assert m.rating is None and m.label is None
    assert read_marks(xmpgen.CAPTURE_ONE.format(rating=0).replace("portrait", "").encode()).rating == 0
    assert Marks(rating=0, color_label=0, pick_label=0).empty


@pytest.mark.parametrize("doc, reason", [
    (xmpgen.BILLION_LAUGHS.encode(), "DTD"),
    (b"\x00\x01 not xml at all <<<", "not well-formed"),
    (xmpgen.undeclared_latin1(), "encoding"),
    (xmpgen.wrong_encoding(), "encoding"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not XMP"),
    (b"   \n", "empty"),
    (b"<x/>" + b" " * MAX_XMP_BYTES, "MB"),
])
def test_hostile_or_broken_documents_are_refused_with_a_reason(doc, reason):
    with pytest.raises(XmpError, match=reason):
        read_marks(doc)


def test_external_entities_are_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    with pytest.raises(XmpError, match="DTD") as exc:
        read_marks(xmpgen.external_entity(secret).encode())
    assert "TOP-SECRET" not in str(exc.value)


def test_embedded_packets_in_jpeg_and_tiff(tmp_path):
    packet = xmpgen.LIGHTROOM.format(rating=3).encode()
    scene(1, (160, 120)).save(tmp_path / "a.jpg", "JPEG", exif=make_exif(), xmp=packet)
    scene(2, (160, 120)).save(tmp_path / "b.tif", "TIFF", tiffinfo={700: packet})
    for name in ("a.jpg", "b.tif"):
        found = find_packet((tmp_path / name).read_bytes())
        assert found is not None and read_marks(found).rating == 3
        assert read_embedded_file(tmp_path / name).rating == 3   # the same packet, from the file's head
    assert find_packet(write_jpeg(tmp_path / "c.jpg", scene(3, (160, 120))).read_bytes()) is None


def test_sidecar_naming_conventions():
    idx = SidecarIndex(["IMG_1.CR2", "IMG_1.JPG", "IMG_1.xmp", "IMG_2.JPG", "IMG_2.XMP", "IMG_3.NEF", "IMG_3.NEF.xmp",
                        "IMG_3.xmp", "IMG_4.JPG", "IMG_4.JPG.xmp", "IMG_4.xmp", "IMG_5.ARW", "IMG_5.JPG",
                        "IMG_5.JPG.xmp"])
    assert idx.for_photo("IMG_1.CR2") == "IMG_1.xmp"       # Adobe style: the RAW's
    assert idx.for_photo("IMG_1.JPG") is None              # ... not the JPEG beside it
    assert idx.for_photo("IMG_2.JPG") == "IMG_2.XMP"       # alone, any letter case
    assert idx.for_photo("IMG_3.NEF") == "IMG_3.NEF.xmp"   # the whole name wins
    assert idx.for_photo("IMG_4.JPG") == "IMG_4.JPG.xmp"
    assert idx.for_photo("IMG_5.JPG") == "IMG_5.JPG.xmp" and idx.for_photo("IMG_5.ARW") is None
    assert not SidecarIndex(["a.jpg", "b.jpg"])


# -- ingest --------------------------------------------------------------------------------------------
def test_ingest_reads_sidecars_of_every_editor_and_embedded_xmp(library, tmp_path):
    src = tmp_path / "shoot"
    for i in range(1, 7):
        _photo(src, f"IMG_000{i}.JPG", i)
    (src / "IMG_0001.xmp").write_text(xmpgen.LIGHTROOM.format(rating=4))
    (src / "IMG_0002.JPG.xmp").write_text(xmpgen.DARKTABLE.format(rating=-1, name="IMG_0002.JPG"))
    (src / "IMG_0003.JPG.xmp").write_text(xmpgen.DIGIKAM.format(pick_label=1))
    (src / "IMG_0004.XMP").write_text(xmpgen.CAPTURE_ONE.format(rating=5))
    scene(5, (320, 240)).save(src / "IMG_0005.JPG", "JPEG", exif=make_exif(),
                              xmp=xmpgen.PICK.format(pick="1").encode())
    before = snapshot(src)
    s = ingest(library, [src])
    assert s["xmp"] == {"sidecars": 4, "embedded": 1, "marks": 5, "warnings": 0}
    assert s["added"] == 6 and not s["errors"]
    m = _marks(library)
    assert m["IMG_0001.JPG"]["rating"] == 4 and m["IMG_0001.JPG"]["label"] == "Red"
    assert m["IMG_0001.JPG"]["source"] == str(src / "IMG_0001.xmp")
    assert m["IMG_0002.JPG"]["rating"] == -1 and m["IMG_0002.JPG"]["keywords"] == ["fog", "weather|fog"]
    assert m["IMG_0003.JPG"]["pick_label"] == 1 and m["IMG_0003.JPG"]["color_label"] == 4
    assert m["IMG_0004.JPG"]["rating"] == 5 and m["IMG_0004.JPG"]["keywords"] == ["portrait", "studio"]
    assert m["IMG_0005.JPG"] == {"rating": None, "pick": "picked", "label": None, "color_label": None,
                                 "pick_label": None, "keywords": [], "source": "embedded"}
    assert m["IMG_0006.JPG"] is None
    assert snapshot(src) == before   # nothing written into the photographer's folder


def test_whole_name_sidecar_wins_and_a_sidecar_wins_over_embedded(library, tmp_path):
    src = tmp_path / "shoot"
    src.mkdir()
    scene(1, (320, 240)).save(src / "IMG_1.JPG", "JPEG", exif=make_exif(),
                              xmp=xmpgen.LIGHTROOM.format(rating=1).encode())
    (src / "IMG_1.xmp").write_text(xmpgen.CAPTURE_ONE.format(rating=2))
    (src / "IMG_1.JPG.xmp").write_text(xmpgen.DARKTABLE.format(rating=3, name="IMG_1.JPG"))
    ingest(library, [src])
    assert _marks(library)["IMG_1.JPG"]["rating"] == 3
    (src / "IMG_1.JPG.xmp").unlink()
    s = ingest(library, [src])   # the photo is unchanged: only the other sidecar is read
    assert s["unchanged"] == 1 and s["xmp"]["sidecars"] == 1 and s["xmp"]["embedded"] == 0
    assert _marks(library)["IMG_1.JPG"]["rating"] == 2
    (src / "IMG_1.xmp").unlink()
    s = ingest(library, [src])
    assert s["xmp"]["sidecars"] == 0
    assert _marks(library)["IMG_1.JPG"]["rating"] == 1 and _marks(library)["IMG_1.JPG"]["source"] == "embedded"


def test_a_single_file_given_finds_its_sidecar(library, tmp_path):
    src = tmp_path / "shoot"
    _photo(src, "IMG_1.JPG", 1)
    (src / "IMG_1.xmp").write_text(xmpgen.CAPTURE_ONE.format(rating=4))
    s = ingest(library, [src / "IMG_1.JPG"])
    assert s["xmp"]["sidecars"] == 1 and _marks(library)["IMG_1.JPG"]["rating"] == 4


def test_reingest_reads_a_changed_sidecar_of_an_unchanged_photo_and_nothing_else(library, tmp_path):
    src = tmp_path / "shoot"
    _photo(src, "IMG_1.JPG", 1)
    _photo(src, "IMG_2.JPG", 2)
    side = src / "IMG_1.xmp"
    side.write_text(xmpgen.LIGHTROOM.format(rating=2))
    assert ingest(library, [src])["xmp"]["sidecars"] == 1
    again = ingest(library, [src])
    assert again["unchanged"] == 2 and again["xmp"] == {"sidecars": 0, "embedded": 0, "marks": 0, "warnings": 0}
    time.sleep(0.01)
    side.write_text(xmpgen.LIGHTROOM.format(rating=-1))
    (src / "IMG_2.xmp").write_text(xmpgen.PICK.format(pick="1"))
    s = ingest(library, [src])
    assert s["unchanged"] == 2 and s["updated"] == 0 and s["xmp"]["sidecars"] == 2 and s["xmp"]["marks"] == 2
    m = _marks(library)
    assert m["IMG_1.JPG"]["rating"] == -1 and m["IMG_2.JPG"]["pick"] == "picked"


def test_no_xmp_then_xmp_reads_what_was_skipped(library, tmp_path, capsys):
    src = tmp_path / "shoot"
    src.mkdir()
    scene(1, (320, 240)).save(src / "IMG_1.JPG", "JPEG", exif=make_exif(),
                              xmp=xmpgen.LIGHTROOM.format(rating=5).encode())
    _photo(src, "IMG_2.JPG", 2)
    (src / "IMG_2.JPG.xmp").write_text(xmpgen.DARKTABLE.format(rating=-1, name="IMG_2.JPG"))
    assert main(["ingest", str(src), "--role", "originals", "--no-xmp", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["xmp"] is None and out["added"] == 2
    assert _marks(library) == {"IMG_1.JPG": None, "IMG_2.JPG": None}
    assert main(["ingest", str(src), "--role", "originals", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["unchanged"] == 2 and out["xmp"] == {"sidecars": 1, "embedded": 1, "marks": 2, "warnings": 0}
    m = _marks(library)
    assert m["IMG_1.JPG"]["rating"] == 5 and m["IMG_2.JPG"]["rating"] == -1
    assert main(["photos", "--json"]) == 0
    listed = {r["path"].rsplit("/", 1)[1]: r for r in json.loads(capsys.readouterr().out)}
    assert set(listed["IMG_1.JPG"]["imported_marks"]) == ALL_MARK_FIELDS
    assert listed["IMG_2.JPG"]["imported_marks"]["source"] == str(src / "IMG_2.JPG.xmp")


def test_hostile_sidecars_are_refused_by_name_and_the_photos_still_ingest(library, tmp_path, capsys):
    src = tmp_path / "shoot"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    hostile = {
        "laughs.JPG.xmp": xmpgen.BILLION_LAUGHS.encode(),
        "entity.JPG.xmp": xmpgen.external_entity(secret).encode(),
        "latin1.JPG.xmp": xmpgen.undeclared_latin1(),
        "utf16.JPG.xmp": xmpgen.wrong_encoding(),
        "notxml.JPG.xmp": b"PK\x03\x04 a zip file, not a sidecar",
    }
    for i, (name, data) in enumerate(hostile.items()):
        _photo(src, name[:-4], i)
        (src / name).write_bytes(data)
    _photo(src, "junk.JPG", 9)
    xmpgen.write_junk(src / "junk.JPG.xmp", 50)
    before = snapshot(src)
    t0 = time.monotonic()
    assert main(["ingest", str(src), "--role", "originals", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert time.monotonic() - t0 < 60
    assert out["added"] == 6 and out["errors"] == []
    assert out["xmp"]["warnings"] == 6 and out["xmp"]["marks"] == 0
    reasons = {w["path"].rsplit("/", 1)[1]: w["reason"] for w in out["warnings"]}
    assert set(reasons) == set(hostile) | {"junk.JPG.xmp"}
    assert "DTD" in reasons["laughs.JPG.xmp"] and "DTD" in reasons["entity.JPG.xmp"]
    assert "encoding" in reasons["latin1.JPG.xmp"] and "encoding" in reasons["utf16.JPG.xmp"]
    assert "not well-formed" in reasons["notxml.JPG.xmp"] and "52.4 MB" in reasons["junk.JPG.xmp"]
    assert "TOP-SECRET" not in json.dumps(out)
    assert main(["photos", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 6 and all(r["status"] == "ok" and r["imported_marks"] is None for r in listed)
    assert snapshot(src) == before
    # later, `status` still says which sidecars were not read and why
    assert main(["status", "--json"]) == 0
    refused = json.loads(capsys.readouterr().out)["xmp_refused"]
    assert refused["count"] == 6
    assert {w["sidecar"].rsplit("/", 1)[1] for w in refused["newest"]} == set(reasons)
    assert main(["status"]) == 0
    assert "XMP sidecar not read: " in capsys.readouterr().out
    # a refused sidecar is recorded: not read again until it changes, then read
    s = ingest(library, [src])
    assert s["xmp"]["sidecars"] == 0
    time.sleep(0.01)
    (src / "latin1.JPG.xmp").write_text(xmpgen.CAPTURE_ONE.format(rating=4))
    s = ingest(library, [src])
    assert s["xmp"] == {"sidecars": 1, "embedded": 0, "marks": 1, "warnings": 0}
    assert _marks(library)["latin1.JPG"]["rating"] == 4


def test_real_photos_with_sidecars_beside_their_copies(library, shared_photos, tmp_path):
    """Copies of a few of ../shared/photos (never the originals) with sidecars written beside them:
    every mark is read, the embedded ones too, and the copies' bytes are unchanged."""
    src = tmp_path / "real"
    src.mkdir()
    picks = {
        "IMG_5910.jpg": "exifr/test/fixtures/sidecar/IMG_5910.jpg",          # Lightroom: rating 3 embedded
        "ladybug.jpg": "photoprism/internal/meta/testdata/ladybug.jpg",      # rating 1 embedded
        "PAIR.dng": "photoprism/assets/examples/canon_eos_6d.dng",
        "PAIR.jpg": "exif-samples/jpg/Canon_40D.jpg",
        "DSCN0010.jpg": "exif-samples/jpg/gps/DSCN0010.jpg",                 # a camera's packet, rating 0
    }
    for name, rel in picks.items():
        shutil.copy2(shared_photos / rel, src / name)
    (src / "ladybug.jpg.xmp").write_text(xmpgen.DARKTABLE.format(rating=-1, name="ladybug.jpg"))
    (src / "PAIR.xmp").write_text(xmpgen.LIGHTROOM.format(rating=5))       # the RAW's, not the JPEG's
    (src / "DSCN0010.xmp").write_text(xmpgen.DIGIKAM.format(pick_label=3))
    before = snapshot(src)
    s = ingest(library, [src])
    assert s["errors"] == [] and s["xmp"]["sidecars"] == 3 and s["xmp"]["warnings"] == 0
    m = _marks(library)
    assert m["IMG_5910.jpg"]["rating"] == 3 and m["IMG_5910.jpg"]["source"] == "embedded"
    assert "Alvin the Squirrel" in m["IMG_5910.jpg"]["keywords"]
    assert m["ladybug.jpg"]["rating"] == -1 and m["ladybug.jpg"]["source"].endswith("ladybug.jpg.xmp")
    assert m["PAIR.dng"]["rating"] == 5 and m["PAIR.dng"]["label"] == "Red"
    assert m["PAIR.jpg"] is None
    assert m["DSCN0010.jpg"]["pick_label"] == 3
    assert s["xmp"]["marks"] == 4
    assert snapshot(src) == before
    assert ingest(library, [src])["xmp"]["sidecars"] == 0
