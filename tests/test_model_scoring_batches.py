"""Scores are written in short batches: other writers get in between them, a decision made while
scoring runs wins over the score computed before it, cancelling keeps the catalog whole; and the
calibration curves stay finite and warning-free on extreme inputs."""

from __future__ import annotations

import sqlite3
import warnings

import numpy as np
import pytest

import modelgen
from fluxcull.catalog import transaction
from fluxcull.catalog import score_writes
from fluxcull.catalog.db import connect
from fluxcull.catalog.decisions import decide
from fluxcull.jobs import CancelToken, Cancelled, run_job
from fluxcull.keeper import calibrate
from fluxcull.keeper.score import score_job, write_scores
from fluxcull.keeper.train import train_job
from fluxcull.library import Library

BATCH = 40


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    lib = Library.open(tmp_path_factory.mktemp("lib"))
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=300, sessions=6, seed=5)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    run_job(train_job(lib, seed=0))
    yield {"lib": lib, "conn": conn, "g": g}
    conn.close()


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(score_writes, "WRITE_BATCH", BATCH)
    monkeypatch.setattr(score_writes, "WRITE_PAUSE_MIN", 0.0)


def _scores(conn) -> dict:
    return dict(conn.execute("SELECT id, keeper_score FROM photos").fetchall())


def _until_mid_write(job):
    """Drive a scoring job by hand until it has committed some batches but not all of them."""
    for p in job:
        if p.message == "writing scores" and p.total and 0 < p.done < p.total:
            return p
    raise AssertionError("scoring never paused between two write batches")


def _model_scored_late_photos(trained, k):
    """Undecided originals with a model score (strictly inside (0, 1)) among the last ids, so in a
    batch that is written after the first pause."""
    conn, g = trained["conn"], trained["g"]
    got = _scores(conn)
    dec = dict(conn.execute("SELECT id, decision FROM photos").fetchall())
    cands = [int(i) for i in g["ids"][~g["keeper"]][::-1]
             if dec[int(i)] == "none" and got[int(i)] is not None and 0.0 < got[int(i)] < 1.0]
    assert len(cands) >= k
    return cands[:k]


def test_decisions_made_between_batches_win_over_the_scores_computed_before(trained, small_batches):
    lib, conn = trained["lib"], trained["conn"]
    kept, rejected, cleared = _model_scored_late_photos(trained, 3)
    decide(conn, [cleared], "keep", "test")
    run_job(score_job(lib))
    assert _scores(conn)[cleared] == 1.0
    model_before = {pid: _scores(conn)[pid] for pid in (kept, rejected)}
    with transaction(conn):  # stored scores that differ (an older model's): every row is written again
        conn.execute("UPDATE photos SET base_score = base_score * 0.5 + 0.25,"
                     " keeper_score = CASE decision WHEN 'none' THEN keeper_score * 0.5 + 0.25 ELSE keeper_score END"
                     " WHERE base_score IS NOT NULL")

    job = score_job(lib)
    p = _until_mid_write(job)
    order = sorted(_scores(conn))
    assert min(order.index(i) for i in (kept, rejected, cleared)) >= p.done  # their batch comes after the pause
    other = lib.connect()
    try:  # the GUI's writer, on its own connection, between two batches
        decide(other, [kept], "keep", "gui")
        decide(other, [rejected], "reject", "gui")
        decide(other, [cleared], "clear", "gui")
    finally:
        other.close()
    now = _scores(conn)  # a decision's score is current at once, before any scoring
    assert now[kept] == 1.0 and now[rejected] == 0.0 and 0.0 < now[cleared] < 1.0
    run_job(job)

    got = _scores(conn)
    assert got[kept] == 1.0 and got[rejected] == 0.0  # not the model scores computed before the clicks
    assert model_before[kept] not in (0.0, 1.0)
    assert 0.0 < got[cleared] < 1.0  # the decision is gone: the model score, no longer the old 1.0
    # the next full scoring agrees with what the batches wrote
    assert run_job(score_job(lib))["changed"] == 0
    decide(conn, [kept, rejected], "clear", "test")
    run_job(score_job(lib))


def test_another_connection_writes_while_scoring_is_between_batches(trained, small_batches):
    lib, conn = trained["lib"], trained["conn"]
    (pid,) = _model_scored_late_photos(trained, 1)
    with transaction(conn):
        conn.execute("UPDATE photos SET keeper_score = NULL")
    total = len(_scores(conn))

    job = score_job(lib)
    _until_mid_write(job)
    # no busy wait at all: this fails at once with "database is locked" if scoring held the lock
    other = connect(lib.catalog_path, timeout=0)
    try:
        decide(other, [pid], "reject", "gui")
        lib.set_setting(other, "probe", "written between batches")
        # the batches before the pause are committed and visible to other connections
        written = other.execute("SELECT COUNT(keeper_score) FROM photos").fetchone()[0]
        assert 0 < written < total
    finally:
        other.close()
    run_job(job)
    got = _scores(conn)
    assert got[pid] == 0.0 and sum(v is not None for v in got.values()) == total
    assert lib.get_setting(conn, "probe") == "written between batches"
    decide(conn, [pid], "clear", "test")
    run_job(score_job(lib))


def test_cancel_between_batches_keeps_what_was_committed_and_a_rerun_completes(trained, small_batches):
    lib, conn = trained["lib"], trained["conn"]
    with transaction(conn):
        conn.execute("UPDATE photos SET keeper_score = NULL")
    total = len(_scores(conn))
    token = CancelToken()
    job = score_job(lib, cancel=token)
    _until_mid_write(job)
    token.cancel()
    with pytest.raises(Cancelled):
        run_job(job)
    partial = sum(v is not None for v in _scores(conn).values())
    assert 0 < partial < total
    assert not conn.in_transaction
    summary = run_job(score_job(lib))
    assert summary["changed"] > 0 and summary["photos"] == total
    assert run_job(score_job(lib))["changed"] == 0


def test_write_scores_applies_the_decision_at_write_time_and_leaves_what_it_must(conn):
    with transaction(conn):
        ids = [conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES (?, 'originals', 1, 1)",
                            (f"/o/{i}.jpg",)).lastrowid for i in range(7)]
        conn.execute("UPDATE photos SET keeper_score = 0.42 WHERE id IN (?, ?)", (ids[5], ids[6]))
    decide(conn, [ids[0]], "keep", "test")
    decide(conn, [ids[1], ids[5]], "reject", "test")
    scores = np.array([0.3, 0.7, 0.25, np.nan, 0.9, np.nan, np.nan])
    leave = np.array([False, False, False, False, False, True, True])
    job = write_scores(conn, np.array(ids), scores, leave, batch=3)
    progress = []
    while True:
        try:
            progress.append(next(job))
        except StopIteration as stop:
            changed = stop.value
            break
    assert [(p.done, p.total) for p in progress] == [(3, 7), (6, 7), (7, 7)]
    got = [_scores(conn)[i] for i in ids]
    # keep / reject -> 1 / 0; NaN -> NULL; a left photo keeps its score unless decided
    assert got == [1.0, 0.0, 0.25, None, 0.9, 0.0, 0.42]
    assert changed == 5
    assert not conn.in_transaction
    assert conn.execute("SELECT COUNT(*) FROM temp.fluxcull_new_scores").fetchone()[0] == 0
    assert run_job(write_scores(conn, np.array(ids), scores, leave)) == 0  # nothing left to change


# -- calibration on extreme inputs --------------------------------------------------------------------------
def test_sigmoid_is_warning_free_with_the_right_limits_and_unchanged_in_the_normal_range():
    z = np.array([-np.inf, -1e308, -1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4, 1e308, np.inf])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s = calibrate._sigmoid(z)
    np.testing.assert_array_equal(s[[0, 1, 2, 3]], 0.0)
    assert s[5] == 0.5 and np.all(s[7:] == 1.0)
    assert s[4] == pytest.approx(np.exp(-40.0), rel=1e-12) and 1.0 - s[6] < 1e-16
    normal = np.linspace(-30, 30, 6001)
    np.testing.assert_allclose(calibrate._sigmoid(normal), 1.0 / (1.0 + np.exp(-normal)), rtol=1e-15, atol=1e-16)
    assert np.isnan(calibrate._sigmoid(np.array([np.nan])))[0]


def test_platt_calibration_is_warning_free_on_extreme_ranks_slopes_and_separated_data():
    rank = np.array([-5.0, 0.0, 1e-300, 0.5, 1 - 1e-16, 1.0, 7.0, np.inf, -np.inf])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        steep = calibrate.Calibrator("platt", np.array([1e308, 0.0]))(rank)
        fit = calibrate.Calibrator.fit(np.r_[np.zeros(40), np.ones(4)], np.r_[np.zeros(40), np.ones(4)], "platt")
        p = fit(rank)
    np.testing.assert_array_equal(steep[[0, 1, 2, 8]], 0.0)
    np.testing.assert_array_equal(steep[[4, 5, 6, 7]], 1.0)
    assert steep[3] == 0.5
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert p[1] < 0.5 < p[5] and np.all(np.diff(p[[1, 3, 5]]) > 0)
    assert np.isfinite(fit.params).all()


def test_rows_the_catalog_already_holds_are_skipped_and_the_result_is_the_same_as_writing_all(library):
    """A whole-library pass passes the rows it read (`stored`): the write sends only the photos whose
    stored base score, failure or decided score differ, and ends in exactly the catalog an unfiltered
    write gives, decisions, failures, NULLs and left photos included."""
    from fluxcull.catalog.model_reads import photo_rows

    states = []
    for filtered in (False, True):
        c = library.connect() if not states else Library.open(library.root.parent / "again").connect()
        with transaction(c):
            ids = [c.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES (?, 'originals', 1, 1)",
                             (f"/o/{i}.jpg",)).lastrowid for i in range(60)]
        r = np.random.default_rng(3)
        old = np.round(r.uniform(0, 1, 60), 6)
        old[r.random(60) < 0.2] = np.nan
        old_reasons = np.where(r.random(60) < 0.15, "failure:black", "model")
        run_job(write_scores(c, np.array(ids), old, np.zeros(60, bool), reasons=old_reasons))
        dec = r.choice(["none", "keep", "reject"], 60, p=[0.6, 0.2, 0.2])
        decide(c, [i for i, d in zip(ids, dec) if d == "keep"], "keep", "test")
        decide(c, [i for i, d in zip(ids, dec) if d == "reject"], "reject", "test")
        new = old.copy()
        moved = r.random(60) < 0.4
        new[moved] = np.round(r.uniform(0, 1, moved.sum()), 6)
        new[r.random(60) < 0.1] = np.nan
        new_reasons = np.where(r.random(60) < 0.15, "failure:black", old_reasons)
        leave = r.random(60) < 0.1
        stored = photo_rows(c)[:, [0, 3, 6, 7, 8]] if filtered else None
        changed = run_job(write_scores(c, np.array(ids), new, leave, reasons=new_reasons, stored=stored))
        states.append((changed, c.execute("SELECT keeper_score, base_score, failure, decision FROM photos"
                                          " ORDER BY id").fetchall()))
        if filtered:  # written once, every row that is not left now agrees and would be skipped
            same = score_writes.unchanged_rows(np.array(ids), np.round(new, 6), leave,
                                               score_writes.failure_codes(new_reasons),
                                               photo_rows(c)[:, [0, 3, 6, 7, 8]])
            assert (same == ~leave).all()
        c.close()
    assert states[0] == states[1]
    assert 0 < states[0][0] < 60


def test_the_pause_between_batches_is_a_share_of_the_hold_up_to_the_busy_handlers_retry():
    """A short batch leaves the lock free for a quarter of its hold; a long one for 150 ms, longer
    than SQLite's busy handler ever sleeps between two tries (100 ms), so a waiting writer gets in."""
    assert score_writes.pause_after(0.0) == score_writes.WRITE_PAUSE_MIN
    assert score_writes.pause_after(0.2) == pytest.approx(0.05)
    assert score_writes.pause_after(2.0) == score_writes.WRITE_PAUSE_MAX > 0.1
