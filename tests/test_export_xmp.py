"""`fluxcull export xmp`: real photos decided, sidecars written (into the library's mirror folder by
default), read back by an independent reader, merged into existing sidecars byte for byte, refused
when hostile; the originals never change."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from fluxcull.cli import main
from fluxcull.interop.xmp_fields import XmpPolicy, target_values
from fluxcull.interop.xmp_merge import Sidecar, SidecarRefused
from tests.export_helpers import (DIGIKAM, FLUX, KEEP_MARKS, XMP, build, checksums, decide, marks, mirror_of,
                                  read_back, run_json)

KEEP = KEEP_MARKS
REJECT = ("-1", "Red", "-1", "1", "reject", "0.0000", "low")

LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:ModifyDate="2021-04-03T18:20:11+02:00"
   xmp:Rating="2"
   tiff:Make="NIKON CORPORATION"
   photoshop:DateCreated="2021-04-03T10:11:12.34"
   photoshop:City="Lisboa"
   crs:Version="15.0"
   crs:ProcessVersion="11.0"
   crs:WhiteBalance="As Shot"
   crs:Exposure2012="+0.35"
   crs:Shadows2012='+22'
   crs:HasCrop="False">
   <!-- a comment Lightroom would never write, kept all the same -->
   <xmp:Label>Purple</xmp:Label>
   <crs:ToneCurvePV2012>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>harbour</rdf:li>
     <rdf:li>boats &amp; gulls</rdf:li>
    </rdf:Bag>
   </dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
   xmp:Rating="1"
   darktable:xmp_version="5"
   darktable:raw_params="0"
   darktable:history_end="0"/>
 </rdf:RDF>
</x:xmpmeta>
"""

HOSTILE = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="&lol2;"/></rdf:RDF></x:xmpmeta>
"""


@pytest.fixture
def decided(shared_photos, library, tmp_path, capsys):
    lib = build(shared_photos, tmp_path, capsys)
    ids = lib["ids"]
    decide(capsys, "keep", ids["2008/a/Canon_40D.jpg"], ids["2008/c/DSC_0001.dng"], ids["2008/c/DSC_0001.JPG"])
    decide(capsys, "reject", ids["2008/a/Nikon_D70.jpg"], ids["2008/b/Canon_40D.jpg"])
    lib["sums"] = checksums(lib["root"])
    return lib


def test_default_destination_is_the_mirror_folder_and_an_independent_reader_reads_it(decided, library, capsys):
    root = decided["root"]
    s = run_json(capsys, ["export", "xmp"])
    assert s["destination"] == "mirror" and s["folder"] == str(library.root / "export" / "xmp")
    assert (s["photos"], s["written"], s["unchanged"], s["skipped"], s["errors"]) == (5, 5, 0, [], [])
    assert checksums(root) == decided["sums"]  # nothing new, nothing changed among the photos
    assert marks(read_back(mirror_of(library.root, root / "2008/a/Canon_40D.xmp"))) == KEEP
    assert marks(read_back(mirror_of(library.root, root / "2008/a/Nikon_D70.xmp"))) == REJECT
    assert marks(read_back(mirror_of(library.root, root / "2008/b/Canon_40D.xmp"))) == REJECT
    # the RAW owns STEM.xmp (as in Adobe's applications); the JPEG sharing its stem takes NAME.EXT.xmp
    assert marks(read_back(mirror_of(library.root, root / "2008/c/DSC_0001.xmp"))) == KEEP
    assert marks(read_back(mirror_of(library.root, root / "2008/c/DSC_0001.JPG.xmp"))) == KEEP
    assert not mirror_of(library.root, root / "2008/b/Pentax_K10D.xmp").exists()  # undecided: --decided


def test_dry_run_writes_nothing_and_a_second_export_changes_nothing(decided, library, capsys):
    s = run_json(capsys, ["export", "xmp", "--dry-run"])
    assert s["dry_run"] and s["written"] == 5
    assert run_json(capsys, ["export", "xmp", "--dry-run", "--role", "keepers"])["photos"] == 0
    assert not (library.root / "export").exists()
    run_json(capsys, ["export", "xmp"])
    mirror = library.root / "export" / "xmp"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in mirror.rglob("*.xmp")}
    again = run_json(capsys, ["export", "xmp"])
    assert (again["written"], again["unchanged"], again["backups"]) == (0, 5, None)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in mirror.rglob("*.xmp")} == before
    # a changed decision rewrites that sidecar alone, keeping the previous one as a backup
    decide(capsys, "keep", decided["ids"]["2008/a/Nikon_D70.jpg"])
    third = run_json(capsys, ["export", "xmp"])
    assert (third["written"], third["unchanged"]) == (1, 4)
    target = mirror_of(library.root, decided["root"] / "2008/a/Nikon_D70.xmp")
    assert marks(read_back(target)) == KEEP
    backup = list((library.root / "export" / "backup").rglob("Nikon_D70.xmp"))
    assert [b.read_bytes() for b in backup] == [before[target][0]]
    assert checksums(decided["root"]) == decided["sums"]


def test_a_cancelled_export_leaves_whole_files_and_the_next_run_finishes_it(decided, library):
    from fluxcull.interop.export_xmp import export_xmp_job
    from fluxcull.jobs import CancelToken, Cancelled, run_job

    token = CancelToken()
    job = export_xmp_job(library, cancel=token)
    for _ in range(3):  # the start, then two photos prepared
        next(job)
    token.cancel()
    with pytest.raises(Cancelled):
        next(job)
    done = list((library.root / "export" / "xmp").rglob("*.xmp"))
    assert len(done) == 2 and all(marks(read_back(p))[4] in ("keep", "reject") for p in done)
    assert not [p for p in (library.root / "export").rglob(".*")]  # no temp file left
    s = run_job(export_xmp_job(library))
    assert (s["written"], s["unchanged"]) == (3, 2)


def _without_additions(text: str) -> str:
    """The merged text less the attributes and namespace declarations fluxcull added (one a line)."""
    return re.sub(r'\n[ \t]*(?:xmlns:)?(?:xmpDM|digiKam|fluxcull)(?::\w+)?="[^"]*"', "", text)


def test_beside_the_originals_merges_lightroom_and_darktable_sidecars_byte_for_byte(decided, library, capsys):
    root = decided["root"]
    lr, dt = root / "2008/a/Canon_40D.xmp", root / "2008/a/Nikon_D70.jpg.xmp"
    lr.write_text(LIGHTROOM)
    dt.write_text(DARKTABLE)
    s = run_json(capsys, ["export", "xmp", "--dest", "sidecar"])
    assert (s["written"], s["errors"], s["skipped"]) == (5, [], [])
    merged = lr.read_text()
    # only the fields fluxcull owns changed: the label, and the attributes it added
    assert _without_additions(merged) == LIGHTROOM.replace("<xmp:Label>Purple</xmp:Label>",
                                                           "<xmp:Label>Green</xmp:Label>").replace(
        'xmp:Rating="2"', 'xmp:Rating="3"')
    props = read_back(lr)
    assert marks(props) == KEEP  # a keep raises 2 stars to 3
    assert props["{http://ns.adobe.com/camera-raw-settings/1.0/}Exposure2012"] == "+0.35"
    assert props["{http://ns.adobe.com/photoshop/1.0/}City"] == "Lisboa"
    assert "<rdf:li>boats &amp; gulls</rdf:li>" in merged
    # the darktable sidecar (NAME.EXT.xmp) is updated in place; no Adobe-style one appears beside it
    assert marks(read_back(dt)) == REJECT
    assert _without_additions(dt.read_text()) == DARKTABLE.replace('xmp:Rating="1"', 'xmp:Rating="-1"').replace(
        'darktable:history_end="0"/>', 'darktable:history_end="0"\n   xmp:Label="Red"/>')
    assert read_back(dt)["{http://darktable.sf.net/}history_end"] == "0"
    assert not (root / "2008/a/Nikon_D70.xmp").exists()
    # previous versions kept in the library, never beside the photos
    backups = {p.name: p.read_text() for p in (library.root / "export" / "backup").rglob("*.xmp")}
    assert backups == {"Canon_40D.xmp": LIGHTROOM, "Nikon_D70.jpg.xmp": DARKTABLE}
    # the photos' bytes are the same; the only new files are sidecars
    after, photos = checksums(root), decided["sums"]
    assert {k: v for k, v in after.items() if k in photos} == photos
    assert {k for k in after if k not in photos} == {"2008/a/Canon_40D.xmp", "2008/a/Nikon_D70.jpg.xmp",
                                                     "2008/b/Canon_40D.xmp", "2008/c/DSC_0001.xmp",
                                                     "2008/c/DSC_0001.JPG.xmp"}
    assert run_json(capsys, ["export", "xmp", "--dest", "sidecar"])["unchanged"] == 5


def test_a_mirror_copy_starts_from_the_sidecar_beside_the_photo(decided, library, capsys):
    lr = decided["root"] / "2008/a/Canon_40D.xmp"
    lr.write_text(LIGHTROOM)
    run_json(capsys, ["export", "xmp"])
    mirror = mirror_of(library.root, lr)
    assert lr.read_text() == LIGHTROOM  # beside the photo: untouched
    assert _without_additions(mirror.read_text()) == LIGHTROOM.replace("Purple", "Green").replace('Rating="2"',
                                                                                                'Rating="3"')


def test_hostile_and_broken_sidecars_are_refused_and_the_job_goes_on(decided, library, capsys):
    root = decided["root"]
    bad = {root / "2008/a/Canon_40D.xmp": HOSTILE, root / "2008/a/Nikon_D70.xmp": "not xml at all <<",
           root / "2008/b/Canon_40D.xmp": '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'}
    for p, text in bad.items():
        p.write_text(text)
    s = run_json(capsys, ["export", "xmp", "--dest", "sidecar"], rc=1)
    reasons = {e["path"]: e["reason"] for e in s["skipped"]}
    assert set(reasons) == {str(p) for p in bad}
    assert "DTD" in reasons[str(root / "2008/a/Canon_40D.xmp")]
    assert "not well-formed" in reasons[str(root / "2008/a/Nikon_D70.xmp")]
    assert "no rdf:RDF" in reasons[str(root / "2008/b/Canon_40D.xmp")]
    assert all(p.read_text() == text for p, text in bad.items())
    assert s["written"] == 2 and marks(read_back(root / "2008/c/DSC_0001.xmp")) == KEEP


def test_undecided_photos_with_all_and_a_cleared_decision_take_back_what_fluxcull_wrote(decided, library, capsys):
    ids, root = decided["ids"], decided["root"]
    run_json(capsys, ["export", "xmp", "--dest", "sidecar"])
    decide(capsys, "clear", ids["2008/a/Canon_40D.jpg"])
    s = run_json(capsys, ["export", "xmp", "--dest", "sidecar", "--all"])
    assert s["photos"] == 6
    cleared = read_back(root / "2008/a/Canon_40D.xmp")
    assert marks(cleared)[:5] == (None, None, None, "2", "none")
    pentax = read_back(root / "2008/b/Pentax_K10D.xmp")
    assert pentax[f"{{{DIGIKAM}}}PickLabel"] == "2" and pentax[f"{{{FLUX}}}Decision"] == "none"


def test_stars_labels_and_the_destination_setting(decided, library, capsys):
    c = library.connect()
    from fluxcull.catalog.settings import put

    put(c, "export.xmp", {"destination": "sidecar", "reject_label": ""})
    c.close()
    s = run_json(capsys, ["export", "xmp", "--stars", "5", "--keep-label", "Blue"])
    assert s["destination"] == "sidecar"
    root = decided["root"]
    assert marks(read_back(root / "2008/a/Canon_40D.xmp"))[:2] == ("5", "Blue")
    assert marks(read_back(root / "2008/a/Nikon_D70.xmp"))[:2] == ("-1", None)


def test_a_destination_among_the_photos_is_refused(decided, library, capsys):
    assert main(["export", "xmp", "--dest", str(decided["root"] / "2008" / "mirror")]) == 2
    assert "inside your ORIGINALS folder" in capsys.readouterr().err
    assert not (decided["root"] / "2008" / "mirror").exists()


# -- the merge itself, on hand-written sidecars (no photos needed) ------------------------------------
def _merge(text: str, decision: str = "keep", score: float | None = 0.9) -> str:
    sc = Sidecar.parse(text.encode("utf-8"))
    return sc.with_values(target_values({"decision": decision, "keeper_score": score}, sc.current,
                                        XmpPolicy())).decode("utf-8")


def test_merge_keeps_the_files_own_prefixes_quotes_line_endings_and_bom():
    old = ('<x:xmpmeta xmlns:x="adobe:ns:meta/">\r\n <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '\r\n  <rdf:Description rdf:about=\'\' xmlns:xap=\'http://ns.adobe.com/xap/1.0/\' xap:Rating=\'4\'>\r\n'
           '   <xap:Label>Yellow</xap:Label>\r\n  </rdf:Description>\r\n </rdf:RDF>\r\n</x:xmpmeta>\r\n')
    new = _merge("\ufeff" + old, "reject")
    assert new.startswith("\ufeff")
    assert "xap:Rating='-1'" in new and "<xap:Label>Red</xap:Label>" in new and "xmp:" not in new
    assert "\n" not in new.replace("\r\n", "")  # no bare line feed added
    props = read_back_text(new)
    assert props[f"{{{FLUX}}}Band"] == "high" and props[f"{{{FLUX}}}KeeperScore"] == "0.9000"


def test_a_keep_never_lowers_a_higher_rating_and_a_reject_always_sets_minus_one():
    five = LIGHTROOM.replace('xmp:Rating="2"', 'xmp:Rating="5"')
    assert read_back_text(_merge(five))[f"{{{XMP}}}Rating"] == "5"
    assert read_back_text(_merge(five, "reject"))[f"{{{XMP}}}Rating"] == "-1"


def test_merge_adds_a_description_where_there_is_none_and_refuses_what_it_cannot_edit():
    bare = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' \
           '</rdf:RDF></x:xmpmeta>'
    assert read_back_text(_merge(bare))[f"{{{XMP}}}Rating"] == "3"
    twice = LIGHTROOM.replace("<xmp:Label>Purple</xmp:Label>", "<xmp:Label>Purple</xmp:Label><xmp:Label>A</xmp:Label>")
    for text, why in ((twice, "appears twice"), ("\xff\xfe", "not UTF-8"),
                      (LIGHTROOM.replace("<xmp:Label>Purple</xmp:Label>",
                                         "<xmp:Label><rdf:Alt><rdf:li>x</rdf:li></rdf:Alt></xmp:Label>"),
                       "not a simple value")):
        data = text.encode("latin-1") if text == "\xff\xfe" else text.encode("utf-8")
        with pytest.raises(SidecarRefused, match=why):
            Sidecar.parse(data)


def read_back_text(text: str) -> dict[str, str]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.xmp"
        p.write_text(text.lstrip("\ufeff"), encoding="utf-8", newline="")
        return read_back(p)


def test_the_export_code_imports_neither_qt_nor_torch():
    code = ("import sys, fluxcull.interop.export_xmp, fluxcull.interop.export_files, fluxcull.cli.export_cmd; "
            "bad = [m for m in ('torch', 'PySide6') if m in sys.modules]; sys.exit(str(bad) if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert r.returncode == 0, r.stdout + r.stderr


def test_stars_and_colour_labels_are_exported_and_taken_back_when_removed(decided, library, capsys):
    """Stars go to xmp:Rating (a reject still writes -1), the colour label to xmp:Label and digiKam's
    ColorLabel; a photo with only stars or a label is exported by default; read back independently."""
    root, ids = decided["root"], decided["ids"]
    for argv in (["rate", str(ids["2008/a/Canon_40D.jpg"]), "--stars", "5"],
                 ["label", str(ids["2008/a/Canon_40D.jpg"]), "--color", "blue"],
                 ["rate", str(ids["2008/a/Nikon_D70.jpg"]), str(ids["2008/b/Pentax_K10D.jpg"]), "--stars", "4"],
                 ["label", str(ids["2008/a/Nikon_D70.jpg"]), "--color", "yellow"],
                 ["label", str(ids["2008/b/Pentax_K10D.jpg"]), "--color", "purple"]):
        assert main(argv) == 0
    capsys.readouterr()
    s = run_json(capsys, ["export", "xmp"])
    assert (s["photos"], s["written"]) == (6, 6)  # the five decided, and the rated, labelled Pentax

    def fields(rel):
        p = read_back(mirror_of(library.root, root / rel))
        return (p.get(f"{{{XMP}}}Rating"), p.get(f"{{{XMP}}}Label"), p.get(f"{{{DIGIKAM}}}ColorLabel"),
                p.get(f"{{{FLUX}}}Stars"), p.get(f"{{{FLUX}}}ColorLabel"), p.get(f"{{{FLUX}}}Decision"),
                p.get(f"{{{DIGIKAM}}}PickLabel"))

    assert fields("2008/a/Canon_40D.xmp") == ("5", "Blue", "5", "5", "blue", "keep", "3")
    assert fields("2008/a/Nikon_D70.xmp") == ("-1", "Yellow", "3", "4", "yellow", "reject", "1")  # still rejected
    assert fields("2008/b/Pentax_K10D.xmp") == ("4", "Purple", "6", "4", "purple", "none", "2")
    assert fields("2008/b/Canon_40D.xmp") == ("-1", "Red", None, "0", "none", "reject", "1")  # no marks: as before
    assert run_json(capsys, ["export", "xmp"])["unchanged"] == 6
    # stars and labels removed: what fluxcull wrote for them is taken back (a keep falls back to its 3 stars)
    for argv in (["rate", str(ids["2008/a/Canon_40D.jpg"]), str(ids["2008/b/Pentax_K10D.jpg"]), "--stars", "0"],
                 ["label", str(ids["2008/a/Canon_40D.jpg"]), str(ids["2008/b/Pentax_K10D.jpg"]), "--color", "none"]):
        assert main(argv) == 0
    capsys.readouterr()
    again = run_json(capsys, ["export", "xmp", "--all"])
    assert (again["photos"], again["written"], again["unchanged"]) == (6, 2, 4)  # the two changed
    assert fields("2008/a/Canon_40D.xmp") == ("3", "Green", None, "0", "none", "keep", "3")
    assert fields("2008/b/Pentax_K10D.xmp") == (None, None, None, "0", "none", "none", "2")
    assert checksums(root) == decided["sums"]


def test_stars_of_a_keep_replace_a_rating_given_elsewhere_and_a_merge_is_idempotent():
    from itertools import product

    from fluxcull.interop.xmp_fields import COLOR_LABEL, LABEL, OWNED, RATING

    policy = XmpPolicy()
    lightroom = {RATING: "4", LABEL: "Purple"}
    assert target_values({"decision": "keep", "rating": 2}, lightroom, policy)[RATING] == "2"  # your stars, exactly
    assert target_values({"decision": "keep", "rating": 0}, lightroom, policy)[RATING] == "4"  # a keep never lowers
    got = target_values({"decision": "none", "rating": 0, "color_label": None}, lightroom, policy)
    assert (got[RATING], got[LABEL], got[COLOR_LABEL]) == ("4", "Purple", None)  # not fluxcull's: left alone
    for decision, stars, label in product(("keep", "reject", "none"), (0, 1, 5), (None, "red", "green")):
        photo = {"decision": decision, "rating": stars, "color_label": label, "keeper_score": 0.5}
        fresh = target_values(photo, {}, policy)
        assert target_values(photo, {p: v for p, v in fresh.items() if v is not None}, policy) == fresh
        assert set(fresh) == set(OWNED)
