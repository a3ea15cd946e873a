"""`fluxcull import-marks`: imported XMP marks become decisions (source 'import', one batch), a
person's decision is never overridden, a dry run changes nothing, `fluxcull undo` takes the whole
import back, and the trainer says how many of its labels came from imported marks."""

from __future__ import annotations

import json
import time


import modelgen
from fluxcull.catalog import Catalog, transaction
from fluxcull.catalog import marks as marks_store
from fluxcull.cli import main
from fluxcull.past_marks import Rules, verdict
from tests import xmpgen
from tests.ingest_helpers import ingest, snapshot
from tests.photogen import make_exif, scene, write_jpeg


def _cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, (json.loads(out) if "--json" in argv else out)


def _decisions(conn) -> dict[str, str]:
    return {r[0].rsplit("/", 1)[1]: r[1] for r in conn.execute("SELECT path, decision FROM photos")}


def _events(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute("SELECT kind, source, batch FROM decision_events ORDER BY id")]


def _shoot(tmp_path):
    """A folder whose sidecars say: A, B, C rejected (three editors), D picked, E 5 stars, F 3 stars,
    G picked and rejected at once, H nothing."""
    src = tmp_path / "shoot"
    for i, name in enumerate("ABCDEFGH"):
        write_jpeg(src / f"{name}.JPG", scene(i, (320, 240)))
    (src / "A.xmp").write_text(xmpgen.LIGHTROOM.format(rating=-1))
    (src / "B.JPG.xmp").write_text(xmpgen.DARKTABLE.format(rating=-1, name="B.JPG"))
    (src / "C.JPG.xmp").write_text(xmpgen.DIGIKAM.format(pick_label=1))
    (src / "D.xmp").write_text(xmpgen.PICK.format(pick="1"))
    (src / "E.xmp").write_text(xmpgen.CAPTURE_ONE.format(rating=5))
    (src / "F.xmp").write_text(xmpgen.LIGHTROOM.format(rating=3))
    (src / "G.xmp").write_text(xmpgen.PICK.format(pick="1").replace('xmpDM:pick="1"', 'xmpDM:pick="1" '
                               'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="-1"'))
    return src


def test_rules():
    r = Rules(min_stars=4)
    assert verdict({"rating": -1}, r) == ("reject", "rated -1 (rejected)")
    assert verdict({"pick": "rejected"}, r)[0] == "reject"
    assert verdict({"pick_label": 1}, r)[0] == "reject"
    assert verdict({"pick": "picked"}, r)[0] == "keep" and verdict({"pick_label": 3}, r)[0] == "keep"
    assert verdict({"rating": 4}, r) == ("keep", "4 stars (at least 4)")
    assert verdict({"rating": 3}, r)[0] is None and verdict({"rating": 5}, Rules())[0] is None
    assert verdict({"rating": -1, "pick": "picked"}, r)[0] == "conflict"
    assert verdict({"rating": -1}, Rules(rejects=False))[0] is None
    assert verdict({"label": "Red", "keywords": ["x"], "color_label": 2}, r)[0] is None


def test_import_dry_run_skip_undo(library, conn, tmp_path, capsys):
    src = _shoot(tmp_path)
    ingest(library, [src])
    before_files = snapshot(src)
    code, _ = _cli(capsys, "decide", str(src / "A.JPG"), "--keep")   # a person's decision before the import
    assert code == 0
    log_before, decisions_before = _events(conn), _decisions(conn)

    code, dry = _cli(capsys, "import-marks", "--min-stars", "4", "--as", "keep", "--dry-run", "--json")
    assert code == 0 and dry["dry_run"] and dry["batch"] is None
    assert (dry["keep"], dry["reject"], dry["no_rule"], dry["photos_with_marks"]) == (2, 2, 1, 7)
    assert _events(conn) == log_before and _decisions(conn) == decisions_before   # nothing changed

    code, s = _cli(capsys, "import-marks", "--min-stars", "4", "--json")
    assert code == 0 and not s["dry_run"]
    assert {d["path"].rsplit("/", 1)[1]: d["decision"] for d in s["decided"]} == {
        "B.JPG": "reject", "C.JPG": "reject", "D.JPG": "keep", "E.JPG": "keep"}
    assert [x["path"].rsplit("/", 1)[1] for x in s["skipped"]] == ["A.JPG"]
    assert "never overridden" in s["skipped"][0]["reason"] and s["skipped"][0]["would_be"] == "reject"
    assert [x["path"].rsplit("/", 1)[1] for x in s["conflicting"]] == ["G.JPG"]
    d = _decisions(conn)
    assert (d["A.JPG"], d["B.JPG"], d["C.JPG"], d["D.JPG"], d["E.JPG"], d["F.JPG"], d["G.JPG"], d["H.JPG"]) == (
        "keep", "reject", "reject", "keep", "keep", "none", "none", "none")
    imported = [e for e in _events(conn) if e[1] == "import"]
    assert len(imported) == 4 and {e[2] for e in imported} == {s["batch"]}
    scores = dict(conn.execute("SELECT path, keeper_score FROM photos").fetchall())
    assert scores[str(src / "B.JPG")] == 0.0 and scores[str(src / "E.JPG")] == 1.0

    code, again = _cli(capsys, "import-marks", "--min-stars", "4", "--json")
    assert again["already"] == 4 and again["decided"] == [] and again["batch"] is None

    # a person changes one imported decision in the window; then `fluxcull undo` takes the import back
    cat = Catalog(library.connect())
    cat.decide(cat.ids_by_paths([str(src / "B.JPG")]), "keep", "gui")
    cat.close()
    code, u = _cli(capsys, "undo", "--json")
    assert u["undone"]["batch"] == s["batch"] and u["undone"]["events"] == 4
    assert u["undone"]["photos_restored"] == 3
    d = _decisions(conn)
    assert (d["A.JPG"], d["B.JPG"], d["C.JPG"], d["D.JPG"], d["E.JPG"]) == ("keep", "keep", "none", "none", "none")
    code, text = _cli(capsys, "import-marks", "--min-stars", "4")
    assert "decided 2 keep and 1 reject" in text and "skipped 2 decided by you" in text
    assert snapshot(src) == before_files


def test_rejects_ignored_and_a_changed_sidecar_changes_an_imported_decision(library, conn, tmp_path, capsys):
    src = _shoot(tmp_path)
    ingest(library, [src])
    code, s = _cli(capsys, "import-marks", "--rejects-as", "ignore", "--json")
    assert (s["keep"], s["reject"]) == (1, 0) and s["rules"]["rejects_as"] == "ignore"
    time.sleep(0.01)
    (src / "D.xmp").write_text(xmpgen.PICK.format(pick="-1"))   # picked, then rejected in the editor
    ingest(library, [src])
    code, s = _cli(capsys, "import-marks", "--json")
    assert {d["path"].rsplit("/", 1)[1]: d["decision"] for d in s["decided"]} == {
        "A.JPG": "reject", "B.JPG": "reject", "C.JPG": "reject", "D.JPG": "reject"}
    assert _decisions(conn)["D.JPG"] == "reject"


def test_embedded_marks_import_too(library, conn, tmp_path, capsys):
    src = tmp_path / "shoot"
    src.mkdir()
    scene(1, (320, 240)).save(src / "R1.JPG", "JPEG", exif=make_exif(), xmp=xmpgen.LIGHTROOM.format(rating=-1).encode())
    ingest(library, [src])
    code, s = _cli(capsys, "import-marks", "--json")
    assert s["reject"] == 1 and s["decided"][0]["source"] == "embedded"


def test_train_reports_labels_from_imported_marks(library, conn, capsys):
    g = modelgen.build(library, conn, n=240, sessions=6, seed=4)
    ids = [int(i) for i in g["ids"]]
    keepers = [int(i) for i in g["ids"][g["keeper"]]]
    modelgen.link_keepers(conn, keepers[:-3])
    others = [i for i in ids if i not in keepers]
    with transaction(conn):
        for pid in keepers[-3:]:
            marks_store.put(conn, pid, "sidecar", f"/x/{pid}.xmp", {"rating": 5}, size=1, mtime_ns=1)
        for pid in others[:5]:
            marks_store.put(conn, pid, "embedded", "embedded", {"rating": -1})
    _cli(capsys, "decide", str(others[0]), "--keep")   # a person's decision: not overridden, not counted
    code, s = _cli(capsys, "import-marks", "--min-stars", "5", "--json")
    assert (s["keep"], s["reject"], len(s["skipped"])) == (3, 4, 1)
    code, tr = _cli(capsys, "train", "--json", "--no-score", "--model", "linear")
    assert code == 0 and tr["data"]["from_imported_marks"] == 7
    assert tr["data"]["decided_reject"] == 4 and tr["data"]["decided_keep"] == 4
