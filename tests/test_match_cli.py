"""The match / review / link / unlink commands on a catalog written directly."""

from __future__ import annotations

import json

import pytest

from fluxcull.catalog import transaction
from fluxcull.cli import main


def _add(conn, path, role, taken=None, sha=None):
    with transaction(conn):
        return conn.execute(
            "INSERT INTO photos(path, role, size, mtime_ns, sha256, taken_at, original_filename)"
            " VALUES (?, ?, 1, 1, ?, ?, ?)",
            (path, role, sha or path, taken, path.rsplit("/", 1)[-1]),
        ).lastrowid


@pytest.fixture
def cat(library, conn):
    ids = {
        "o1": _add(conn, "/O/R0000001.JPG", "originals", "2021-04-03T10:00:00"),
        "o2": _add(conn, "/O/b1.JPG", "originals", "2021-04-03T11:00:00"),
        "o3": _add(conn, "/O/b2.JPG", "originals", "2021-04-03T11:00:00"),
        "k1": _add(conn, "/K/2021-04-03_R0000001_edit.jpg", "keepers", "2021-04-03T10:00:00"),
        "k2": _add(conn, "/K/burst.jpg", "keepers", "2021-04-03T11:00:00"),
        "k3": _add(conn, "/K/lost.jpg", "keepers"),
    }
    return ids


def test_match_text_and_json(cat, capsys):
    assert main(["match"]) == 0
    out = capsys.readouterr().out
    assert "linked" in out and "timestamp 1" in out and "review" in out and "unmatched" in out
    assert "/K/lost.jpg" in out
    assert main(["match", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["processed"] == 0 and s["unchanged"] == 3  # incremental: nothing new
    assert s["linked"] == {"timestamp": 1} and s["review"] == 1 and s["unmatched"] == 1
    (lk,) = s["links"]
    assert lk["keeper"] == "/K/2021-04-03_R0000001_edit.jpg" and lk["original"] == "/O/R0000001.JPG"
    assert lk["method"] == "timestamp" and lk["needs_review"] is False and "evidence" in lk
    assert [u["keeper"] for u in s["unmatched_keepers"]] == ["/K/lost.jpg"]
    assert main(["match", "--all", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["processed"] == 3


def test_review_then_link_by_path_and_unlink_by_id(cat, capsys, conn):
    main(["match", "--json"])
    capsys.readouterr()
    assert main(["review", "--json"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert [r["keeper"] for r in q["review"]] == ["/K/burst.jpg"]
    assert {c["original"] for c in q["review"][0]["candidates"]} == {"/O/b1.JPG", "/O/b2.JPG"}
    assert [r["keeper"] for r in q["unmatched"]] == ["/K/lost.jpg"]
    assert main(["review"]) == 0
    text = capsys.readouterr().out
    assert "REVIEW" in text and "UNMATCHED" in text and "fluxcull link" in text
    assert main(["link", "/K/burst.jpg", "/O/b2.JPG"]) == 0
    assert "linked /K/burst.jpg -> /O/b2.JPG" in capsys.readouterr().out
    assert main(["unlink", str(cat["k3"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["keeper"] == "/K/lost.jpg"
    assert main(["review", "--json"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert q == {"review": [], "unmatched": []}
    score = conn.execute("SELECT keeper_score FROM photos WHERE id = ?", (cat["o3"],)).fetchone()[0]
    assert score == 1.0
    assert main(["match", "--all", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["manual"] == 2 and s["linked"] == {"manual": 1, "timestamp": 1} and s["manual_no_original"] == 1


def test_errors_name_the_problem(cat, capsys):
    assert main(["link", "/K/nowhere.jpg", "/O/b1.JPG"]) == 2
    assert "/K/nowhere.jpg" in capsys.readouterr().err
    assert main(["link", "/O/b1.JPG", "/K/burst.jpg"]) == 2  # swapped
    assert "not in the keeper archive" in capsys.readouterr().err
