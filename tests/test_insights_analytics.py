"""Rediscovery leaves out every photo a person decided on or the archive links; analytics add up to
the catalog's counts, places come from offline reverse geocoding, and every plot is a PNG."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import insightgen
from fluxcull.cli import main
from fluxcull.insights.analytics import DIMENSIONS, Data, wilson
from fluxcull.insights.plots import PLOTS, motif_years, plot_png


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        return code, out


def test_rediscover_excludes_decided_and_linked(library, conn, capsys):
    g = insightgen.build(library, conn, sessions=4)
    strong = g["ids"][g["score"] >= 0.8]
    kept, linked, rejected, cleared, preferred = (int(x) for x in strong[:5])
    insightgen.keep(conn, [kept])
    insightgen.link(conn, [linked])
    conn.execute("UPDATE photos SET decision = 'reject' WHERE id = ?", (rejected,))
    conn.execute("INSERT INTO decision_events(photo_id, kind, source) VALUES (?, 'reject', 'test')", (rejected,))
    # decided then cleared: looked at, so not a rediscovery
    conn.execute("INSERT INTO decision_events(photo_id, kind, source) VALUES (?, 'keep', 'test')", (cleared,))
    conn.execute("INSERT INTO decision_events(photo_id, kind, source) VALUES (?, 'clear', 'test')", (cleared,))
    conn.execute("INSERT INTO decision_events(photo_id, kind, other_photo_id, source) VALUES (?, 'prefer', ?, 'test')",
                 (int(g["ids"][0]), preferred))
    conn.commit()
    code, r = _run(capsys, "rediscover", "--json")
    assert code == 0
    found = [p["id"] for s in r["sessions"] for p in s["photos"]]
    assert set(found) == set(strong[5:].tolist()) - {int(g["ids"][0])}
    assert r["photos"] == len(found)
    best = [s["best"] for s in r["sessions"]]
    assert best == sorted(best, reverse=True)
    for s in r["sessions"]:
        scores = [p["score"] for p in s["photos"]]
        assert scores == sorted(scores, reverse=True) and s["best"] == scores[0]
        assert len({conn.execute("SELECT session_id FROM photos WHERE id = ?", (p["id"],)).fetchone()[0]
                    for p in s["photos"]}) == 1
    code, text = _run(capsys, "rediscover", "--min-score", "0.99")
    assert code == 0 and "never decided on" in text
    # the find filter rediscover=yes is the same rule: exactly these photos, in a session too
    code, listed = _run(capsys, "photos", "--where", "rediscover=yes", "--json")
    assert code == 0 and {p["id"] for p in listed} == set(found)
    first = r["sessions"][0]
    code, listed = _run(capsys, "photos", "--session", str(first["session_id"]), "--where",
                        "rediscover=yes and score>=0.9", "--json")
    assert {p["id"] for p in listed} == {p["id"] for p in first["photos"] if p["score"] >= 0.9}
    code, err = _run(capsys, "photos", "--where", "rediscover=no")
    assert code == 2


def test_analytics_totals_match_the_catalog(library, conn, capsys, tmp_path):
    g = insightgen.build(library, conn)
    insightgen.keep(conn, g["ids"][::7])
    insightgen.link(conn, g["ids"][3::11])
    conn.execute("UPDATE photos SET decision = 'reject', keeper_score = 0.0 WHERE id = ?", (int(g["ids"][3]),))
    conn.commit()
    photos = conn.execute("SELECT COUNT(*) FROM photos WHERE status = 'ok' AND role IN ('originals', 'inbox')"
                          ).fetchone()[0]
    keepers = conn.execute("SELECT COUNT(*) FROM photos WHERE status = 'ok' AND role IN ('originals', 'inbox')"
                           " AND (decision = 'keep' OR keeper_score >= 1.0)").fetchone()[0]
    mean = conn.execute("SELECT AVG(keeper_score) FROM photos WHERE role = 'originals'").fetchone()[0]
    per_session = dict(conn.execute(
        "SELECT session_id, SUM(decision = 'keep' OR keeper_score >= 1.0) FROM photos WHERE role = 'originals'"
        " GROUP BY session_id").fetchall())
    for by in DIMENSIONS:
        code, a = _run(capsys, "analytics", "--by", by, "--json")
        assert code == 0, by
        assert a["totals"]["photos"] == photos and a["totals"]["keepers"] == keepers
        assert abs(a["totals"]["mean_score"] - mean) < 1e-9
        assert sum(x["photos"] for x in a["groups"]) == photos, by
        assert sum(x["keepers"] for x in a["groups"]) == keepers, by
        for x in a["groups"]:
            assert x["low"] <= x["density"] <= x["high"]
    code, a = _run(capsys, "analytics", "--by", "session", "--json")
    assert {x["key"]: x["keepers"] for x in a["groups"]} == per_session
    assert len(a["groups"]) == 8 and all(x["photos"] == 30 for x in a["groups"])
    code, a = _run(capsys, "analytics", "--by", "camera", "--json")
    assert {x["key"] for x in a["groups"]} == {"RICOH IMAGING GR III", "FUJIFILM X100V"}
    code, a = _run(capsys, "analytics", "--by", "focal", "--json")
    assert [x["key"] for x in a["groups"]] == ["28 mm", "35 mm"]
    code, a = _run(capsys, "analytics", "--by", "hour", "--json")
    assert all(len(x["key"]) == 2 for x in a["groups"])
    code, text = _run(capsys, "analytics", "--by", "weekday")
    assert code == 0 and "95% interval" in text


def test_places_and_plots(library, conn, capsys, tmp_path):
    insightgen.build(library, conn)
    code, a = _run(capsys, "analytics", "--by", "place", "--places", "--plots", str(tmp_path / "plots"), "--json")
    assert code == 0 and a["places"]["placed"] == 8
    places = {x["key"] for x in a["groups"]}
    assert len(places) == 4 and any("London" in p or "Westminster" in p for p in places)
    assert any("Paris" in p for p in places) and any("Japan" in p for p in places)
    season = _run(capsys, "analytics", "--by", "season", "--json")[1]
    assert {x["key"] for x in season["groups"]} <= {"winter", "spring", "summer", "autumn"}
    assert [p.rsplit("/", 1)[-1] for p in a["plots"]] == [name for name, _ in PLOTS.values()]
    for p in a["plots"]:
        with Image.open(p) as im:
            im.load()
            assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100
    # a second --places changes nothing that is set
    code, a = _run(capsys, "analytics", "--by", "place", "--places", "--json")
    assert a["places"]["placed"] == 0


def test_motif_frequency_is_each_motifs_share_of_a_years_keepers(library, conn):
    import datetime as dt

    from fluxcull.catalog import motif_store

    g = insightgen.build(library, conn, sessions=12, spacing_days=60.0)   # two years
    insightgen.keep(conn, g["ids"][::4])
    kept = g["ids"][::4]
    year = np.array([dt.datetime.fromtimestamp(int(t), dt.timezone.utc).year for t in g["times"][::4]])
    motif_store.replace(conn, [(None, kept[:20].tolist(), kept[:3].tolist()), (None, kept[-8:].tolist(), [])])
    years, motifs = motif_years(conn, Data(conn))
    assert years == [str(y) for y in sorted(set(year.tolist()))]
    big, small = motifs
    assert (big["size"], small["size"]) == (20, 8)
    for m, members in ((big, year[:20]), (small, year[-8:])):
        counts = [int((members == int(y)).sum()) for y in years]
        assert m["members"] == counts
        assert m["share"] == pytest.approx([c / int((year == int(y)).sum()) for c, y in zip(counts, years)])
    png = plot_png(conn, "motifs", width=6, height=3, dpi=50)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KeyError, match="no plot 'nope'"):
        plot_png(conn, "nope")


def test_wilson_interval():
    lo, hi = wilson(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(0.2775, abs=1e-3)
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert np.isnan(wilson(0, 0)[0])


def _reference(conn, by):
    """The documented groupings, one photo at a time in plain Python (what analytics.group must equal)."""
    import datetime as dt

    from fluxcull.insights.analytics import MONTHS, SEASONS, UNKNOWN, WEEKDAYS
    sess = {r[0]: r for r in conn.execute("SELECT id, place, gps_lat FROM sessions")}
    out: dict = {}
    for sid, t, score, keeper, focal, cam in conn.execute(
            "SELECT session_id, capture_time, keeper_score, (decision = 'keep' OR keeper_score >= 1.0),"
            " COALESCE(focal_length_35mm, focal_length), TRIM(COALESCE(camera_make, '') || ' ' ||"
            " COALESCE(camera_model, '')) FROM photos WHERE status = 'ok' AND role IN ('originals', 'inbox')"):
        d = dt.datetime.fromtimestamp(int(t), dt.timezone.utc) if t is not None else None
        lat = sess[sid][2] if sid in sess and sess[sid][2] is not None else None
        season = None if d is None else (d.month % 12) // 3
        if season is not None and lat is not None and lat < 0:
            season = (season + 2) % 4
        key = {"session": sid, "place": (sess[sid][1] or None) if sid in sess else None,
               "hour": d and f"{d.hour:02d}", "weekday": d and WEEKDAYS[d.weekday()],
               "month": d and MONTHS[d.month - 1], "season": None if season is None else SEASONS[season],
               "year": d and str(d.year), "focal": f"{int(round(focal))} mm" if focal and round(focal) > 0 else None,
               "camera": cam or None}[by]
        g = out.setdefault(UNKNOWN if key is None else key, [0, 0, 0.0, 0])
        g[0] += 1
        g[1] += int(keeper or 0)  # no score and not marked keep: not a keeper
        if score is not None:
            g[2] += score
            g[3] += 1
    return out


def test_analytics_equal_a_plain_reference(library, conn):
    """One SQL GROUP BY, then numpy (bincount) per dimension, against the reference, for every
    dimension, with places, a capture time before 1970, photos without a session or a capture time, an inbox photo and a missing score."""
    from fluxcull.insights import analytics

    g = insightgen.build(library, conn)
    insightgen.keep(conn, g["ids"][::5])
    sids = [r[0] for r in conn.execute("SELECT id FROM sessions ORDER BY id")]
    conn.executemany("UPDATE sessions SET place = ? WHERE id = ?",
                     [("Zürich", sids[0]), ("Ålesund", sids[1]), ("Sydney", sids[3]), ("Zürich", sids[5])])
    conn.execute("UPDATE sessions SET gps_lat = NULL WHERE id = ?", (sids[2],))
    ids = [int(i) for i in g["ids"]]
    conn.execute("UPDATE photos SET session_id = NULL WHERE id IN (?, ?)", (ids[1], ids[40]))
    conn.execute("UPDATE photos SET capture_time = NULL WHERE id = ?", (ids[2],))
    conn.execute("UPDATE photos SET capture_time = -1000.5 WHERE id = ?", (ids[5],))   # 1969-12-31 23:43
    conn.execute("UPDATE photos SET keeper_score = NULL, camera_make = NULL WHERE id = ?", (ids[3],))
    conn.execute("UPDATE photos SET role = 'inbox', focal_length_35mm = NULL, focal_length = 50.4 WHERE id = ?",
                 (ids[4],))
    conn.commit()
    data = analytics.Data(conn)
    for by in analytics.DIMENSIONS:
        ref = _reference(conn, by)
        got = analytics.group(data, by)["groups"]
        assert {x["key"] for x in got} == set(ref), by
        for x in got:
            n, k, s, c = ref[x["key"]]
            assert (x["photos"], x["keepers"]) == (n, k), (by, x["key"])
            assert x["mean_score"] == pytest.approx(s / c if c else None), (by, x["key"])
        keys = [x["key"] for x in got]
        assert analytics.UNKNOWN not in keys[:-1], by   # unknown comes last
