"""Rules written once: the score bands' SQL and Python predicate agree, decisions map one way,
settings parse, validate and store through their declarations, the catalog API's typed records."""

from __future__ import annotations

import pytest

from fluxcull.catalog import Catalog, transaction
from fluxcull.catalog import settings as st
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.catalog.scores import (BAND_DEFS, BANDS, DECISION_VALUES, band_of, decision_score_sql, decision_value,
                                     display_band, score_text)

EDGES = [None, 0.0, 0.004, 0.4999, 0.5, 0.79999, 0.8, 0.95, 0.999999, 1.0]


def test_band_sql_and_python_predicate_agree_on_every_edge(conn):
    with transaction(conn):
        for i, s in enumerate(EDGES):
            conn.execute("INSERT INTO photos(path, role, size, mtime_ns, keeper_score) VALUES (?, 'originals', 1, 1, ?)",
                         (f"/p/{i}.jpg", s))
    for b in BAND_DEFS:
        in_sql = {r[0] for r in conn.execute(f"SELECT keeper_score FROM photos WHERE {BANDS[b.name]}")}
        in_py = {s for s in EDGES if band_of(s) == b.name}
        assert in_sql == in_py, b.name
    assert [band_of(s) for s in (None, 0.2, 0.5, 0.8, 1.0)] == ["unscored", "low", "uncertain", "high", "confirmed"]
    assert BANDS["high"] == "keeper_score >= 0.8 AND keeper_score < 1.0"  # the indexes' shape


def test_confirmed_else_band_and_the_decision_mapping():
    assert display_band(0.3, confirmed=True) == "confirmed"
    assert display_band(1.0, confirmed=False) == "confirmed"
    assert display_band(0.3, confirmed=False) == "low"
    assert DECISION_VALUES == {"keep": "keep", "reject": "reject", "clear": "none"}
    assert decision_value("clear") == "none"
    with pytest.raises(ValueError, match="unknown decision"):
        decision_value("maybe")
    assert decision_score_sql("d", "x") == "(CASE d WHEN 'keep' THEN 1.0 WHEN 'reject' THEN 0.0 ELSE x END)"


def test_a_score_reads_0_or_1_only_where_a_rule_set_it():
    from fluxcull.keeper.score import MODEL_CEIL, MODEL_FLOOR, MODEL_MAX, MODEL_MIN

    assert [score_text(s) for s in (0.0, 1.0, 0.3, 0.5, 0.99, None)] == ["0.00", "1.00", "0.30", "0.50", "0.99", "—"]
    # the model's scores, squeezed tails included, never read as a reject / failure or a keep
    for s in (MODEL_FLOOR, 0.003, 0.004999, MODEL_MIN - 1e-9):
        assert score_text(s) == "<0.01", s
    for s in (MODEL_CEIL, 0.9951, MODEL_MAX + 1e-9):
        assert score_text(s) == ">0.99", s
    assert score_text(MODEL_MAX) == "0.99" and score_text(0.0051) == "0.01"
    assert score_text(None, missing="no score") == "no score"


def test_settings_are_typed_validated_and_stored_through_their_declarations(conn, tmp_path):
    cat = Catalog(conn)
    assert cat.setting("model.kind") == "auto"
    assert st.declared("model.kind").choices == ("auto", "linear", "mlp", "centroid", "gbt")
    assert cat.setting("worker_threads") == 0 and cat.setting("model.pairs") == {}
    cat.set_setting("worker_threads", 4)
    assert cat.setting("worker_threads") == 4
    assert conn.execute("SELECT value FROM settings WHERE key = 'worker_threads'").fetchone()[0] == "4"
    with pytest.raises(ValueError, match="at most 64"):
        cat.set_setting("worker_threads", 100)
    with pytest.raises(ValueError, match="not one of"):
        cat.set_setting("model.kind", "forest")
    with pytest.raises(ValueError, match="not a folder"):
        cat.set_setting("originals_dir", str(tmp_path / "nowhere"))
    cat.set_setting("model.failures", {"blur_edge": 0.05})
    assert cat.setting("model.failures") == {"blur_edge": 0.05}
    with pytest.raises(KeyError, match="unknown setting"):
        cat.setting("no.such")
    cat.set_setting("inbox_dir", str(tmp_path))
    assert cat.inbox_folder() == tmp_path.resolve() and cat.folders()["inbox"] == str(tmp_path.resolve())


def test_catalog_api_pages_counts_and_sources(conn):
    cat = Catalog(conn)
    with transaction(conn):
        sid = conn.execute("INSERT INTO sessions(role, start_time, end_time, start_at, end_at, photo_count)"
                           " VALUES ('originals', 0, 9, '2024-01-01T10:00:00', '2024-01-01T11:00:00', 3)").lastrowid
        for i in range(3):
            conn.execute("INSERT INTO photos(path, role, size, mtime_ns, capture_time, session_id, keeper_score)"
                         " VALUES (?, 'originals', 1, 1, ?, ?, ?)", (f"/p/{i}.jpg", i, sid, [None, 0.9, 1.0][i]))
    q = PhotoQuery(sort="score")
    ids = cat.photo_ids(q)
    assert cat.photo_ids(q, limit=2) == ids[:2] and cat.count_photos(q) == 3
    recs = cat.grid_records(ids)
    assert recs[ids[0]]["keeper_score"] == 1.0 and set(recs[ids[0]]) >= {"id", "path", "thumb_key", "decision"}
    cat.decide([ids[1]], "keep", "test")
    assert cat.decision_counts(q) == {"keep": 1, "reject": 0, "none": 2, "scored": 2, "keepers": 2}
    src = cat.source_list()
    assert src["counts"]["originals"] == (3, 2)  # kept or confirmed
    assert src["sessions"][0]["keepers"] == 2 and cat.session(sid)["photo_count"] == 3
    assert cat.ids_by_paths(["/p/2.jpg", "/nowhere", "/p/0.jpg"]) == [ids[0], ids[2]]
    assert cat.decisions_made_by("test") == 1
    assert [u["kind"] for u in cat.undo(5, "test")] == ["keep"]
