"""`fluxcull export files`: the chosen real photos copied (verified), hard-linked, symlinked or listed
into DEST, with collisions renamed, nothing overwritten, a second run resuming, the list and the CSV
written, and DEST refused among the photographer's photos."""

from __future__ import annotations

import csv
import hashlib
import os

import pytest

from fluxcull.cli import main
from tests.export_helpers import build, checksums, decide, run_json


@pytest.fixture
def kept(shared_photos, library, tmp_path, capsys):
    lib = build(shared_photos, tmp_path, capsys)
    ids = lib["ids"]
    decide(capsys, "keep", ids["2008/a/Canon_40D.jpg"], ids["2008/b/Canon_40D.jpg"], ids["2008/c/DSC_0001.dng"])
    decide(capsys, "reject", ids["2008/a/Nikon_D70.jpg"])
    lib["sums"] = checksums(lib["root"])
    lib["dest"] = tmp_path / "out"
    return lib


def _sha(p) -> str:
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def test_copy_verifies_renames_collisions_and_writes_the_list_and_csv(kept, capsys):
    root, dest, ids = kept["root"], kept["dest"], kept["ids"]
    s = run_json(capsys, ["export", "files", "--decision", "keep", "--dest", str(dest)])
    assert (s["photos"], s["placed"], s["present"], s["errors"]) == (3, 3, 0, [])
    second = ids["2008/b/Canon_40D.jpg"]  # the same name from another folder: the higher id is suffixed
    assert s["renamed"] == [{"path": str(root / "2008/b/Canon_40D.jpg"),
                             "as": str(dest / f"Canon_40D_fc{second}.jpg")}]
    assert sorted(os.listdir(dest)) == sorted(["Canon_40D.jpg", f"Canon_40D_fc{second}.jpg", "DSC_0001.dng",
                                               "fluxcull-selection.txt", "fluxcull-selection.csv"])
    assert _sha(dest / "Canon_40D.jpg") == _sha(root / "2008/a/Canon_40D.jpg")
    assert _sha(dest / f"Canon_40D_fc{second}.jpg") == _sha(root / "2008/b/Canon_40D.jpg")
    assert (dest / "DSC_0001.dng").stat().st_mtime_ns == (root / "2008/c/DSC_0001.dng").stat().st_mtime_ns
    assert (dest / "fluxcull-selection.txt").read_text().splitlines() == [
        str(root / rel) for rel in sorted(("2008/a/Canon_40D.jpg", "2008/b/Canon_40D.jpg", "2008/c/DSC_0001.dng"),
                                          key=lambda r: ids[r])]
    with open(dest / "fluxcull-selection.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["path", "file_name", "decision", "keeper_score", "rating", "band", "exported"]
    assert [(r["file_name"], r["decision"], r["keeper_score"], r["rating"], r["band"]) for r in rows] == \
        [(name, "keep", "1.0000", "3", "confirmed") for name in ("Canon_40D.jpg", "Canon_40D.jpg", "DSC_0001.dng")]
    assert rows[1]["exported"] == str(dest / f"Canon_40D_fc{second}.jpg")
    assert checksums(root) == kept["sums"]


def test_a_second_run_resumes_and_never_overwrites_a_different_file(kept, capsys):
    dest, ids = kept["dest"], kept["ids"]
    run_json(capsys, ["export", "files", "--dest", str(dest)])
    os.unlink(dest / "DSC_0001.dng")  # as if the first run had stopped before it
    again = run_json(capsys, ["export", "files", "--dest", str(dest)])
    assert (again["placed"], again["present"]) == (1, 2)
    # a stranger's file where an export would go: kept, and the photo takes the suffixed name
    (dest / "DSC_0001.dng").unlink()
    (dest / "DSC_0001.dng").write_bytes(b"someone else's file")
    third = run_json(capsys, ["export", "files", "--dest", str(dest)])
    assert (dest / "DSC_0001.dng").read_bytes() == b"someone else's file"
    moved = dest / f"DSC_0001_fc{ids['2008/c/DSC_0001.dng']}.dng"
    assert _sha(moved) == _sha(kept["root"] / "2008/c/DSC_0001.dng")
    assert {"path": str(kept["root"] / "2008/c/DSC_0001.dng"), "as": str(moved)} in third["renamed"]
    assert run_json(capsys, ["export", "files", "--dest", str(dest)])["present"] == 3


def test_hardlink_symlink_and_list_modes(kept, capsys, tmp_path):
    root = kept["root"]
    s = run_json(capsys, ["export", "files", "--dest", str(tmp_path / "hl"), "--mode", "hardlink"])
    assert s["placed"] == 3 and os.path.samefile(tmp_path / "hl" / "Canon_40D.jpg", root / "2008/a/Canon_40D.jpg")
    assert run_json(capsys, ["export", "files", "--dest", str(tmp_path / "hl"), "--mode", "hardlink"])["present"] == 3
    s = run_json(capsys, ["export", "files", "--dest", str(tmp_path / "sl"), "--mode", "symlink"])
    assert os.readlink(tmp_path / "sl" / "DSC_0001.dng") == str(root / "2008/c/DSC_0001.dng")
    assert run_json(capsys, ["export", "files", "--dest", str(tmp_path / "sl"), "--mode", "symlink"])["present"] == 3
    s = run_json(capsys, ["export", "files", "--dest", str(tmp_path / "ls"), "--mode", "list", "--decision", "reject"])
    assert sorted(os.listdir(tmp_path / "ls")) == ["fluxcull-selection.csv", "fluxcull-selection.txt"]
    assert (tmp_path / "ls" / "fluxcull-selection.txt").read_text() == str(root / "2008/a/Nikon_D70.jpg") + "\n"
    assert "Nikon_D70.jpg,reject,0.0000,-1,low," in (tmp_path / "ls" / "fluxcull-selection.csv").read_text()
    assert checksums(root) == kept["sums"]


def test_layouts_scores_and_dry_run(kept, capsys, tmp_path, library):
    dest = tmp_path / "dated"
    s = run_json(capsys, ["export", "files", "--dest", str(dest), "--layout", "date", "--dry-run"])
    assert s["placed"] == 3 and not dest.exists()
    run_json(capsys, ["export", "files", "--dest", str(dest), "--layout", "date"])
    c = library.connect()
    taken = dict(c.execute("SELECT id, taken_at FROM photos"))
    session = dict(c.execute("SELECT p.id, s.start_at FROM photos p JOIN sessions s ON s.id = p.session_id"))
    sid = dict(c.execute("SELECT id, session_id FROM photos"))
    c.close()
    pid = kept["ids"]["2008/a/Canon_40D.jpg"]
    day = taken[pid][:10]
    assert (dest / day[:4] / day / "Canon_40D.jpg").is_file()
    by_session = tmp_path / "sessions"
    run_json(capsys, ["export", "files", "--dest", str(by_session), "--layout", "session"])
    assert (by_session / f"{session[pid][:10]}_session-{sid[pid]}" / "Canon_40D.jpg").is_file()
    # --decision any with a minimum score: the keeps (1.0), not the reject (0.0) nor the unscored
    s = run_json(capsys, ["export", "files", "--dest", str(tmp_path / "any"), "--decision", "any",
                          "--min-score", "0.5", "--mode", "list"])
    assert s["photos"] == 3


def test_destinations_among_the_photos_or_outside_dest_are_refused(kept, capsys, tmp_path):
    root = kept["root"]
    assert main(["export", "files", "--dest", str(root / "2008" / "picks")]) == 2
    assert "inside your ORIGINALS folder" in capsys.readouterr().err
    assert not (root / "2008" / "picks").exists()
    (tmp_path / "a-file").write_text("x")
    assert main(["export", "files", "--dest", str(tmp_path / "a-file")]) == 2
    assert "is a file" in capsys.readouterr().err
    # a link inside DEST that leads elsewhere: nothing is written through it
    dest, elsewhere = tmp_path / "linked", tmp_path / "elsewhere"
    dest.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, dest / "2008")
    s = run_json(capsys, ["export", "files", "--dest", str(dest), "--layout", "date"], rc=1)
    assert s["errors"] and all("leads outside" in e["reason"] for e in s["errors"])  # the photos of 2008
    assert s["placed"] + len(s["errors"]) == 3
    assert os.listdir(elsewhere) == []


def test_a_photo_changed_since_ingest_is_not_copied(kept, capsys):
    root, dest = kept["root"], kept["dest"]
    with open(root / "2008/a/Canon_40D.jpg", "r+b") as f:  # same size, other bytes
        f.seek(100)
        f.write(b"\x00\x01")
    s = run_json(capsys, ["export", "files", "--dest", str(dest)], rc=1)
    assert [e["path"] for e in s["errors"]] == [str(root / "2008/a/Canon_40D.jpg")]
    assert "SHA-256" in s["errors"][0]["reason"]
    assert s["placed"] == 2 and not (dest / "Canon_40D.jpg").exists()
    assert [n for n in os.listdir(dest) if n.startswith(".")] == []  # no temp file left
