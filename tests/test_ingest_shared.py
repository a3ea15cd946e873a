"""Integration over the real photos in ../shared/photos: everything decodable ingested, every broken
file named with its reason, a second run reports everything unchanged."""

from __future__ import annotations

import csv
import json
import os

import pytest

from fluxcull.cli import main
from fluxcull.media import formats

# Files in the corpus that cannot give a picture, and the words their reason must contain.
BROKEN = {
    "broken/zero-bytes.jpg": "empty file",
    "broken/truncated-half.jpg": "truncated",
    "broken/not-an-image.jpg": "not an image",
    "broken/bomb-60000x60000.png": "safety limit",
    "broken/garbage.dng": "LibRaw cannot",
    "exiftool/t/images/CanonRaw.cr2": "LibRaw cannot",
    "exiftool/t/images/Nikon.nef": "LibRaw cannot",
}


@pytest.mark.slow
def test_ingest_shared_photos_twice(shared_photos, library, capsys):
    manifest = [r["path"] for r in csv.DictReader(open(shared_photos / "MANIFEST.tsv"), delimiter="\t")]
    photos = {os.path.relpath(os.path.join(d, f), shared_photos)
              for d, _, fs in os.walk(shared_photos) for f in fs if formats.is_supported(f)}
    assert {p for p in manifest if formats.is_supported(p)} <= photos and set(BROKEN) <= photos

    rc = main(["ingest", str(shared_photos), "--role", "originals", "--json"])
    s = json.loads(capsys.readouterr().out)
    assert rc == 1  # some files failed
    assert s["scanned"] == len(photos) and s["added"] == len(photos)
    errors = {os.path.relpath(e["path"], shared_photos): e["reason"] for e in s["errors"]}
    assert set(errors) == set(BROKEN)
    for path, needle in BROKEN.items():
        assert needle in errors[path]
    assert "broken/corrupt-exif.jpg" in {os.path.relpath(w["path"], shared_photos) for w in s["warnings"]}

    c = library.connect()
    rows = {os.path.relpath(r["path"], shared_photos): dict(r) for r in c.execute("SELECT * FROM photos")}
    assert set(rows) == photos
    for p, r in rows.items():
        if p not in BROKEN:
            assert r["status"] == "ok" and r["thumb_key"] and r["width"] and r["sha256"], p
    dng = rows["photoprism/assets/examples/canon_eos_6d.dng"]
    assert dng["thumb_source"] == "raw-preview" and dng["original_filename"] == "IMG_2533.CR2"
    nef = rows["metadata-extractor-images/nef/Issue 247-1.nef"]
    assert nef["status"] == "ok" and nef["thumb_source"] == "raw-preview"
    assert rows["exif-samples/jpg/orientation/landscape_6.jpg"]["orientation"] == 6
    # the GPS walk (16:28-17:00) is one session with a GPS centroid
    walk = {r["session_id"] for p, r in rows.items() if p.startswith("exif-samples/jpg/gps/")}
    assert len(walk) == 1
    sess = c.execute("SELECT * FROM sessions WHERE id = ?", (walk.pop(),)).fetchone()
    assert sess["photo_count"] >= 9 and sess["gps_lat"] is not None
    c.close()

    rc = main(["ingest", str(shared_photos), "--role", "originals", "--json"])
    s2 = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert s2["unchanged"] == len(photos) and s2["added"] == s2["updated"] == 0 and s2["errors"] == []
    assert s2["known_errors"] == len(BROKEN)
