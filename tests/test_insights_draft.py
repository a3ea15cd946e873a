"""Issue drafts: N strong photos, one per burst, none too alike, in capture order; stored as a
proposal, approved only when asked, exported as a contact-sheet PDF, a CSV and files."""

from __future__ import annotations

import csv
import json
import re

import numpy as np

import insightgen
from fluxcull.cli import main
from fluxcull.keeper.bursts import find_bursts


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        return code, out


def _pdf_pages(path) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def test_draft_is_diverse_ordered_approved_and_exported(library, conn, capsys, tmp_path):
    g = insightgen.build(library, conn)
    code, d = _run(capsys, "draft", "--size", "14", "--json")
    assert code == 0 and d["draft"] == 1 and d["missing"] == 0 and len(d["items"]) == 14
    chosen = np.array([it["photo_id"] for it in d["items"]])
    pos = np.searchsorted(g["ids"], chosen)
    assert (g["score"][pos] >= 0.8).all()
    # one frame per burst, by the one burst definition over every photo
    unit = g["emb"] / np.linalg.norm(g["emb"], axis=1, keepdims=True)
    bursts = find_bursts(g["ids"], g["sess"], g["times"], lambda p: unit[p])
    assert len(set(bursts[pos])) == 14
    assert len(set(g["burst"][pos])) == 14   # the planted bursts agree
    # no pair above the similarity threshold (0.8): at most one photo of each recurring motif
    sims = unit[pos] @ unit[pos].T
    assert sims[~np.eye(14, dtype=bool)].max() <= 0.8
    assert all((g["motif"][pos] == m).sum() <= 1 for m in range(3))
    # at most draft.per_session (4) per session
    assert np.bincount(g["sess"][pos]).max() <= 4
    # in capture order
    assert list(np.diff(g["times"][pos]) >= 0) == [True] * 13
    assert [it["position"] for it in d["items"]] == list(range(1, 15))

    code, ls = _run(capsys, "drafts", "--json")
    assert code == 0 and [(x["id"], x["status"], x["size"]) for x in ls] == [(1, "proposed", 14)]
    assert [tuple(r) for r in conn.execute("SELECT photo_id FROM draft_items WHERE draft_id = 1 ORDER BY position")] == \
        [(int(i),) for i in chosen]

    code, a = _run(capsys, "draft-approve", "1", "--json")
    assert code == 0 and a["status"] == "approved" and a["changed"] and a["approved_at"]

    pdf = tmp_path / "sheet.pdf"
    code, e = _run(capsys, "draft-export", "1", "--pdf", str(pdf), "--json")
    assert code == 0 and e["pages"] == 2 and _pdf_pages(pdf) == 2   # 12 cells a page
    sheet = tmp_path / "draft.csv"
    code, e = _run(capsys, "draft-export", "1", "--csv", str(sheet), "--json")
    rows = list(csv.DictReader(sheet.open()))
    assert code == 0 and [int(r["photo_id"]) for r in rows] == chosen.tolist()
    assert rows[0]["date"].startswith("20") and float(rows[0]["score"]) >= 0.8

    # a second draft leaving out the photos of the approved one
    code, d2 = _run(capsys, "draft", "--size", "10", "--exclude-used", "--json")
    assert code == 0 and not set(it["photo_id"] for it in d2["items"]) & set(chosen.tolist())
    code, ls = _run(capsys, "drafts", "--json")
    assert [(x["id"], x["status"]) for x in ls] == [(2, "proposed"), (1, "approved")]


def test_draft_says_how_many_are_missing(library, conn, capsys):
    insightgen.build(library, conn, sessions=2)
    code, d = _run(capsys, "draft", "--min-score", "0.95", "--json")
    assert code == 1 and d["draft"] is None and d["missing"] == 36 - d["candidates"] > 0
    # enough candidates, too few distinct ones (one per burst, 4 per session)
    code, d = _run(capsys, "draft", "--size", "20", "--min-score", "0.3", "--json")
    assert code == 1 and d["draft"] is None and d["candidates"] >= 20 and d["missing"] == 20 - 8
    assert conn.execute("SELECT COUNT(*) FROM drafts").fetchone()[0] == 0
    code, text = _run(capsys, "draft", "--size", "20", "--min-score", "0.3")
    assert code == 1 and "12 photos missing" in text


def test_draft_dates_sessions_and_files(library, conn, capsys, tmp_path):
    g = insightgen.build(library, conn)
    code, d = _run(capsys, "draft", "--size", "3", "--session", str(g["sids"][2]), "--json")
    assert code == 0 and {it["session_id"] for it in d["items"]} == {int(g["sids"][2])}
    import datetime as dt

    day = dt.datetime.fromtimestamp(g["times"][g["sess"] == 5][0], dt.timezone.utc).date().isoformat()
    code, d = _run(capsys, "draft", "--size", "2", "--from", day, "--to", day, "--json")
    assert code == 0 and {it["session_id"] for it in d["items"]} == {int(g["sids"][5])}
    code = main(["draft", "--from", "2020-13-01"])
    assert code == 2 and "not a date" in capsys.readouterr().err
    src = tmp_path / "photos"
    src.mkdir()
    for it in d["items"]:
        p = src / f"{it['photo_id']}.jpg"
        p.write_bytes(b"jpeg")
        conn.execute("UPDATE photos SET path = ? WHERE id = ?", (str(p), it["photo_id"]))
    conn.commit()
    dest = tmp_path / "issue"
    code, e = _run(capsys, "draft-export", str(d["draft"]), "--dest", str(dest), "--mode", "symlink", "--json")
    assert code == 0 and e["written"] == 2
    names = sorted(x.name for x in dest.iterdir())
    assert names == [f"{k:02d}_{it['photo_id']}.jpg" for k, it in enumerate(d["items"], 1)]
    assert all((dest / n).is_symlink() for n in names)
    code, e = _run(capsys, "draft-export", "99", "--csv", str(tmp_path / "x.csv"))
    assert code == 2


def test_a_candidates_burst_reads_one_range_of_the_session_index(library, conn):
    """A draft works out a candidate's burst from the frames before it in its session: one range of
    photos_session_time read backwards, not a scan of every ok original (nor a sort)."""
    from fluxcull.catalog import insight_reads

    g = insightgen.build(library, conn, sessions=2)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    run = insight_reads.frames_before(conn, int(g["sids"][1]), g["times"][40], int(g["ids"][40]), 8,
                                      insightgen.BACKBONE)
    conn.set_trace_callback(None)
    assert run[:, 0].tolist() == g["ids"][33:41].tolist() and (run[:, 2] >= 0).all()
    select = [q for q in seen if q.lstrip().upper().startswith("SELECT")][-1]
    plans = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + select)]
    assert any("photos_session_time" in p for p in plans) and not any("TEMP B-TREE" in p for p in plans), plans
    # and the one frame after it (which may bridge it into the burst before): the same index, forwards
    seen.clear()
    conn.set_trace_callback(seen.append)
    after = insight_reads.frame_after(conn, int(g["sids"][1]), g["times"][40], int(g["ids"][40]), insightgen.BACKBONE)
    conn.set_trace_callback(None)
    assert after[:, 0].tolist() == [g["ids"][41]]
    select = [q for q in seen if q.lstrip().upper().startswith("SELECT")][-1]
    plans = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + select)]
    assert any("photos_session_time" in p for p in plans) and not any("TEMP B-TREE" in p for p in plans), plans


def test_draft_candidates_come_from_one_index(library, conn):
    """The strong photos of a large library are one range of a covering index (migration 0020), not
    rows scattered over the whole photos table."""
    from fluxcull.catalog import insight_reads

    g = insightgen.build(library, conn, sessions=2)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    cand = insight_reads.draft_candidates(conn, 0.8)
    conn.set_trace_callback(None)
    assert sorted(cand[:, 0].tolist()) == sorted(g["ids"][g["score"] >= 0.8].tolist())
    select = [q for q in seen if q.lstrip().upper().startswith("SELECT")][-1]
    plans = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + select)]
    assert any("COVERING INDEX photos_role_score_cover" in p for p in plans), plans


def _long_bursts(library, conn):
    """Sessions of 12-frame bursts (longer than the run of frames a burst is first looked for in),
    with one photo that has no capture time and one without an embedding."""
    g = insightgen.build(library, conn, sessions=4, bursts_per_session=6, frames=12)
    conn.execute("UPDATE photos SET capture_time = NULL WHERE id = ?", (int(g["ids"][30]),))
    conn.execute("DELETE FROM embedding_rows WHERE photo_id = ?", (int(g["ids"][50]),))
    conn.commit()
    return g


def test_session_bursts_are_find_bursts_over_the_whole_session(library, conn):
    from fluxcull.embedding.store import current_store
    from fluxcull.insights.draft import SessionBursts

    g = _long_bursts(library, conn)
    store = current_store(library, conn)
    unit = g["emb"] / np.linalg.norm(g["emb"], axis=1, keepdims=True)
    unit[50] = 0.0  # no embedding stored: alike to nothing
    times = g["times"].copy()
    times[30] = np.nan
    expected = find_bursts(g["ids"], g["sess"], times, lambda p: unit[p])
    assert 1 < len(set(expected)) < len(expected) and np.bincount(np.unique(expected, return_inverse=True)[1]).max() == 12
    assert expected[49] == expected[50] == expected[51]  # no embedding: alike to nothing, bridged by its neighbours
    bursts = SessionBursts(conn, store)
    order = np.random.default_rng(3).permutation(len(g["ids"]))  # asked in any order, answers alike
    got = {int(g["ids"][i]): bursts.burst(int(g["ids"][i]), float(g["sids"][g["sess"][i]]), times[i]) for i in order}
    assert [got[int(p)] for p in g["ids"]] == expected.tolist()
    assert bursts.burst(int(g["ids"][5]), np.nan, times[5]) == int(g["ids"][5])  # no session: a burst of its own


def test_the_same_library_gets_the_same_draft(library, conn, capsys):
    """The draft proposed on a fixed library, pinned: reading less or computing faster must not
    change what the photographer is shown."""
    _long_bursts(library, conn)
    code, d = _run(capsys, "draft", "--size", "10", "--min-score", "0.5", "--json")
    assert code == 0 and d["candidates"] == 207
    assert [(it["photo_id"], it["burst"]) for it in d["items"]] == [
        (11, 1), (70, 61), (88, 85), (132, 121), (138, 133), (194, 193), (211, 205), (233, 229), (249, 241), (283, 277)]
