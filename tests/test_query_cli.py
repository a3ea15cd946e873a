"""`fluxcull status`, `photos`, `sessions`: JSON and tables over an ingested library."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fluxcull.cli import main
from tests.ingest_helpers import T0, make_shoot


@pytest.fixture
def ingested(library, tmp_path, capsys):
    make_shoot(tmp_path / "o" / "day1", 3, start=T0)
    make_shoot(tmp_path / "o" / "day2", 2, start=T0 + dt.timedelta(days=1), seed0=10)
    (tmp_path / "o" / "bad.jpg").write_text("nope")
    make_shoot(tmp_path / "k", 2, seed0=20)
    assert main(["ingest", str(tmp_path / "o"), "--role", "originals", "--workers", "1"]) == 1
    assert main(["ingest", str(tmp_path / "k"), "--role", "keepers", "--workers", "1"]) == 0
    capsys.readouterr()
    c = library.connect()
    c.execute("UPDATE photos SET keeper_score = 0.1 * id WHERE status = 'ok'")
    c.close()
    return library


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_status_json(ingested, capsys):
    s = _json(capsys, ["status", "--json"])
    assert s["by_role"]["originals"] == {"ok": 5, "error": 1, "missing": 0, "total": 6}
    assert s["by_role"]["keepers"]["ok"] == 2
    assert s["sessions"] == {"originals": 2, "keepers": 1, "inbox": 0}
    assert [e["path"].endswith("bad.jpg") for e in s["errors"]] == [True]


def test_photos_json_filters_and_sorts(ingested, capsys):
    rows = _json(capsys, ["photos", "--json"])
    assert len(rows) == 7
    times = [r["capture_time"] for r in rows]
    assert times == sorted(times)
    assert {"taken_at", "camera_model", "sha256", "gps_lat", "original_filename", "keeper_score"} <= set(rows[0])
    orig = _json(capsys, ["photos", "--json", "--role", "originals", "--sort", "score", "--limit", "3"])
    assert len(orig) == 3 and all(r["role"] == "originals" for r in orig)
    scores = [r["keeper_score"] for r in orig]
    assert scores == sorted(scores, reverse=True)
    sessions = _json(capsys, ["sessions", "--json"])
    day2 = [x for x in sessions if x["role"] == "originals" and x["photo_count"] == 2][0]
    in_day2 = _json(capsys, ["photos", "--json", "--session", str(day2["id"])])
    assert len(in_day2) == 2 and {r["session_id"] for r in in_day2} == {day2["id"]}
    errs = _json(capsys, ["photos", "--json", "--status", "error"])
    assert len(errs) == 1 and errs[0]["status"] == "error"


def test_sessions_json(ingested, capsys):
    sessions = _json(capsys, ["sessions", "--json", "--role", "originals"])
    assert [x["photo_count"] for x in sessions] == [3, 2]
    assert sessions[0]["start_at"] == "2023-04-01T09:00:00" and sessions[0]["gps_lat"] is not None


def test_tables(ingested, capsys):
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "originals" in out and "bad.jpg" in out
    assert main(["photos", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "(2 rows)" in out and "R000" in out
    assert main(["sessions"]) == 0
    assert "(3 rows)" in capsys.readouterr().out


def test_bad_arguments(ingested, capsys):
    with pytest.raises(SystemExit):
        main(["photos", "--sort", "colour"])
    with pytest.raises(SystemExit) as exc:  # validated while parsing: usage error, exit 2
        main(["photos", "--limit", "-1"])
    assert exc.value.code == 2


def test_status_counts_stay_exact_through_every_kind_of_write(ingested):
    """photo_counts (kept by triggers) always equals counting the photos table."""
    from fluxcull.catalog import transaction
    from fluxcull.catalog.decisions import decide
    from fluxcull.catalog.queries import status_counts

    c = ingested.connect()

    def direct():
        by = {}
        for role, status, n in c.execute("SELECT role, status, COUNT(*) FROM photos GROUP BY 1, 2"):
            by[(role, status)] = n
        dec = dict(c.execute("SELECT decision, COUNT(*) FROM photos GROUP BY 1").fetchall())
        scored = c.execute("SELECT COUNT(*) FROM photos WHERE keeper_score IS NOT NULL").fetchone()[0]
        return by, dec, scored

    def via_counts():
        s = status_counts(c)
        by = {(r, st): v[st] for r, v in s["by_role"].items() for st in ("ok", "error", "missing") if v[st]}
        return by, {k: v for k, v in s["decisions"].items() if v}, s["scored"]

    assert via_counts() == direct()
    ids = [r[0] for r in c.execute("SELECT id FROM photos ORDER BY id")]
    decide(c, ids[:2], "keep", "test")
    decide(c, ids[2:3], "reject", "test")
    with transaction(c):
        c.execute("UPDATE photos SET keeper_score = NULL WHERE id = ?", (ids[0],))
        c.execute("UPDATE photos SET status = 'missing' WHERE id = ?", (ids[1],))
        c.execute("UPDATE photos SET role = 'inbox' WHERE id = ?", (ids[3],))
        c.execute("DELETE FROM decision_events WHERE 0")
    assert via_counts() == direct()
    c.close()
