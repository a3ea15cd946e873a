"""The one writer of photos.keeper_score: model scores in batches, and the 1.0 a confirmed keeper
link gives its original.

Model scores are written in batches of a few thousand photos, each its own short transaction, so a
keep/reject committed by the GUI meanwhile waits milliseconds, not the whole write. Score rule 1 (a
decision imposes its score) is applied inside the UPDATE itself, on photos.decision as it is at
that moment, so a decision made while scoring runs is never overwritten by the score computed
before it; the score by rules 2-5 is kept beside it (base_score: what a clear or an undo restores)
with the reason of a technical failure (failure). The rules themselves are declared in
`fluxcull.catalog.scores`.

The RAW file of a RAW+JPEG pair (`photos.pair_of`) is never scored on its own: it gets its JPEG's
score, base score and failure (`copy_pair_scores`), after every write of scores and links.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Iterable

from fluxcull.catalog.db import transaction
from fluxcull.catalog.scores import (BANDS, BASE_SCORE_SQL, CONFIRMED_SCORE, DECISION_SCORES, FAILURE_WORDS,
                                     decision_score_sql)
from fluxcull.jobs import CancelToken, Job, Progress

if TYPE_CHECKING:  # numpy is imported when scores are written, not when the GUI starts
    import numpy as np

# Photos per write transaction. Each batch rewrites index pages scattered all over the score indexes,
# so the cost of a commit hardly shrinks with the batch: at 400,000 photos 20,000 rows hold the write
# lock ~0.3-0.5 s for the same total time as one transaction, 5,000 rows ~0.15-0.4 s for twice the total.
WRITE_BATCH = 20_000
WRITE_PAUSE_MIN = 0.002   # seconds the write lock stays free between batches, at least ...
WRITE_PAUSE_SHARE = 0.25  # ... or this share of the time the last batch held it, ...
# ... but no longer than this: a writer waiting in SQLite's busy handler tries again at least every
# 100 ms, so 150 ms free always let it in; a longer pause only delayed the scores (on a slow day a
# 20,000-row batch held the lock 1.5 s, and its 0.4 s pauses added ~7 s to writing 400,000 scores)
WRITE_PAUSE_MAX = 0.15


def pause_after(held: float) -> float:
    """Seconds to leave the write lock free after a batch that held it `held` seconds."""
    return min(WRITE_PAUSE_MAX, max(WRITE_PAUSE_MIN, WRITE_PAUSE_SHARE * held))

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def _fill_temp(conn: sqlite3.Connection, rows: list) -> None:
    """Load the new values into the temporary table in one transaction that touches only the temp
    database (a plain BEGIN, not IMMEDIATE: other connections keep writing the catalog meanwhile)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        conn.execute("DELETE FROM temp.fluxcull_new_scores")
        conn.executemany("INSERT INTO temp.fluxcull_new_scores(id, s, leave, f) VALUES (?, ?, ?, ?)", rows)
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    if own:
        conn.execute("COMMIT")


# Rule 1 at write time, on the row being updated: the decision as it is when this batch commits.
_NEW_BASE = ("(CASE WHEN n.leave THEN (CASE WHEN photos.decision = 'none' THEN photos.keeper_score"
             " ELSE photos.base_score END) ELSE n.s END)")
_NEW_SCORE = decision_score_sql("photos.decision", "(CASE WHEN n.leave THEN photos.keeper_score ELSE n.s END)")
_NEW_FAILURE = "(CASE WHEN n.leave THEN photos.failure ELSE n.f END)"


def _differs(column: str, new: str) -> str:
    return f"(({column} IS NULL) != ({new} IS NULL) OR abs({column} - {new}) > 2e-6)"


_UPDATE_BATCH = (
    f"UPDATE photos SET keeper_score = {_NEW_SCORE}, base_score = {_NEW_BASE}, failure = {_NEW_FAILURE}"
    " FROM temp.fluxcull_new_scores n"
    " WHERE photos.id = n.id AND n.id BETWEEN ? AND ?"  # the id range keeps it a rowid search, not a scan
    # float noise between scoring paths is no change
    f" AND ({_differs('photos.keeper_score', _NEW_SCORE)} OR {_differs('photos.base_score', _NEW_BASE)}"
    f" OR photos.failure IS NOT {_NEW_FAILURE})")


def failure_codes(reasons) -> list[str | None]:
    """photos.failure of each photo from the scorer's reasons ('failure:black' -> 'black', else None)."""
    return [r[8:] if r.startswith("failure:") and r[8:] in FAILURE_WORDS else None for r in map(str, reasons)]


def unchanged_rows(ids: np.ndarray, scores: np.ndarray, leave: np.ndarray, fails: list[str | None],
                   stored: np.ndarray) -> np.ndarray:
    """bool per photo: its stored row already holds what this write would store, so the write can
    skip it. `stored` (n x 5, as `model_reads.photo_rows` columns 0, 3, 6, 7, 8 give them): id,
    decision code, keeper_score, base_score, failure code. Only a row whose base score, failure and
    decided score all agree is skipped; a decision made after `stored` was read keeps its row right
    by itself (a keep / reject sets keeper_score, base_score stays), so skipping stays safe."""
    import numpy as np

    from fluxcull.catalog.model_reads import DECISIONS, FAILURES

    n = len(ids)
    st = np.asarray(stored, np.float64)
    if st.shape != (n, 5) or not np.array_equal(st[:, 0].astype(np.int64), ids):
        return np.zeros(n, bool)
    code = {f: i for i, f in enumerate(FAILURES)}
    new_fail = np.array([-1 if f is None else code.get(f, -2) for f in fails], np.float64)
    decided = np.full(n, np.nan)
    decided[:] = scores
    for d, v in DECISION_SCORES.items():
        decided[st[:, 1] == DECISIONS.index(d)] = v

    def same(a, b):
        with np.errstate(invalid="ignore"):
            return (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= 2e-6)

    return ~leave & same(st[:, 3], scores) & same(st[:, 2], decided) & (st[:, 4] == new_fail)


def write_scores(conn: sqlite3.Connection, ids: np.ndarray, scores: np.ndarray, leave: np.ndarray, *,
                 cancel: CancelToken | None = None, batch: int | None = None, reasons=None,
                 stored: np.ndarray | None = None) -> Job:
    """Store scores (NaN -> NULL; `leave`: keep the stored one) touching only rows whose value changes;
    a job: yields Progress after each batch, returns the number of rows changed.
    `reasons`: the rule behind each score by rules 2-5 ('failure:black', 'model', ...); the reason of
    a technical failure is stored in photos.failure (without `reasons`, none is).

    Photos marked keep / reject at the moment their batch is written get 1.0 / 0.0 whatever
    `scores` says (pass the scores by rules 2-5, `compute_scores`'s 'base'). The values go to a
    temporary table first (no lock on the catalog), then into photos with one UPDATE ... FROM per
    batch of ids, each in its own transaction; between batches the write lock stays free for a short
    pause so a writer waiting in SQLite's busy handler gets in. A cancelled write leaves the batches
    already committed (each photo's score is whole; the rest keep their previous scores).
    `batch`: photos per transaction (default WRITE_BATCH). `stored`: the rows as read before scoring
    (`unchanged_rows`); photos whose stored values already agree are not sent to SQLite at all.
    """
    import numpy as np

    batch = int(batch or WRITE_BATCH)
    ids = np.asarray(ids, np.int64)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    vals = np.round(np.asarray(scores, np.float64)[order], 6)
    left = np.asarray(leave, bool)[order]
    fails = failure_codes(np.asarray(reasons)[order]) if reasons is not None else [None] * len(ids)
    own = ~np.isin(ids, np.fromiter(secondary_ids(conn), np.int64))  # a pair's RAW: its JPEG's score, below
    if not own.all():
        ids, vals, left, order = ids[own], vals[own], left[own], order[own]
        fails = [f for f, o in zip(fails, own.tolist()) if o]
    if stored is not None:
        todo = ~unchanged_rows(ids, vals, left, fails, np.asarray(stored)[order])
        ids, vals, left = ids[todo], vals[todo], left[todo]
        fails = [f for f, t in zip(fails, todo.tolist()) if t]
    rows = [(pid, None if v != v else v, int(lv), f)
            for pid, v, lv, f in zip(ids.tolist(), vals.tolist(), left.tolist(), fails)]
    total = len(rows)
    conn.execute("PRAGMA cache_size = -131072")  # 128 MB page cache for this connection's bulk update
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS fluxcull_new_scores(id INTEGER PRIMARY KEY, s REAL, leave INTEGER,"
                 " f TEXT)")
    changed = 0
    try:
        _fill_temp(conn, rows)
        start = 0
        while start < total:
            if cancel is not None:
                cancel.check()
            end = min(start + batch, total)
            t0 = time.perf_counter()
            with transaction(conn):
                changed += conn.execute(_UPDATE_BATCH, (rows[start][0], rows[end - 1][0])).rowcount
            held = time.perf_counter() - t0
            start = end
            yield Progress("score", end, total, "writing scores")
            if end < total:
                time.sleep(pause_after(held))
    finally:
        conn.execute("DELETE FROM temp.fluxcull_new_scores")
    with transaction(conn):
        changed += copy_pair_scores(conn)
    return int(changed)


def band_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Photos per keeper-score band (every status; a RAW+JPEG pair once)."""
    sums = ", ".join(f"COALESCE(SUM({cond}), 0)" for cond in BANDS.values())
    return dict(zip(BANDS, conn.execute(f"SELECT {sums} FROM photos WHERE pair_of IS NULL").fetchone()))


def sync_confirmed_scores(conn: sqlite3.Connection, original_ids: Iterable[int | None]) -> None:
    """Give originals with a confirmed link the score 1.0 by rule 2 (base_score; keeper_score too
    unless a keep / reject decides it); take it back where the last link went (a 1.0 only the link
    gave: unscored until the keeper model scores it again). Joins the caller's transaction."""
    ids = sorted({int(i) for i in original_ids if i is not None})
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        confirmed = (f"SELECT original_id FROM keeper_links WHERE needs_review = 0"
                     f" AND original_id IN ({marks})")
        linked = decision_score_sql("decision", str(CONFIRMED_SCORE))
        conn.execute(
            f"UPDATE photos SET base_score = {CONFIRMED_SCORE}, keeper_score = {linked}, updated_at = {_NOW}"
            f" WHERE id IN ({confirmed}) AND (base_score IS NOT {CONFIRMED_SCORE} OR keeper_score IS NOT {linked})",
            chunk,
        )
        conn.execute(
            f"UPDATE photos SET base_score = NULL, keeper_score = {decision_score_sql('decision', 'NULL')},"
            f" updated_at = {_NOW}"
            f" WHERE id IN ({marks}) AND {BASE_SCORE_SQL} >= {CONFIRMED_SCORE} AND role != 'keepers'"
            f" AND id NOT IN ({confirmed})",
            chunk + chunk,
        )
        copy_pair_scores(conn, chunk)


def secondary_ids(conn: sqlite3.Connection) -> list[int]:
    """The RAW files of RAW+JPEG pairs, by id (read from the partial index photos_pair_of)."""
    return sorted(r[0] for r in conn.execute("SELECT id FROM photos WHERE pair_of IS NOT NULL"))


# the primary's score by rules 2-5 (fluxcull.catalog.scores.BASE_SCORE_SQL, on the primary `p`)
_PRIMARY_BASE = "(CASE WHEN p.decision = 'none' THEN p.keeper_score ELSE p.base_score END)"
_PAIR_SCORE = decision_score_sql("photos.decision", _PRIMARY_BASE)


def copy_pair_scores(conn: sqlite3.Connection, primary_ids: Iterable[int] | None = None) -> int:
    """Give the RAW file of each RAW+JPEG pair (of these primaries; None: every pair) its JPEG's
    score by rules 2-5, failure and so keeper score; returns the rows changed. Joins the caller's
    transaction."""
    sql = (f"UPDATE photos SET base_score = {_PRIMARY_BASE}, keeper_score = {_PAIR_SCORE}, failure = p.failure"
           " FROM photos AS p WHERE photos.pair_of = p.id"
           f" AND (photos.base_score IS NOT {_PRIMARY_BASE} OR photos.keeper_score IS NOT {_PAIR_SCORE}"
           " OR photos.failure IS NOT p.failure)")
    if primary_ids is None:
        return conn.execute(sql).rowcount
    ids = sorted({int(i) for i in primary_ids})
    changed = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        changed += conn.execute(sql + f" AND photos.pair_of IN ({','.join('?' * len(chunk))})", chunk).rowcount
    return changed
