"""What the compare view and the explanations read from the catalog: undecided photos whose scores
lie in a band, and the photos marked keep. Plain rows and id sets; the keeper model ranks them."""

from __future__ import annotations

import sqlite3

_UNDECIDED_SCORED = (
    "SELECT id, session_id, keeper_score FROM photos WHERE status = 'ok' AND role IN ('originals', 'inbox')"
    " AND decision = 'none' AND session_id IS NOT NULL AND keeper_score > 0.0 AND keeper_score < 1.0"
)


def undecided_scored_rows(conn: sqlite3.Connection, lo: float, hi: float,
                          session_id: int | None = None) -> list[tuple]:
    """(id, session_id, keeper_score) of the undecided ok originals and inbox photos that have a session
    and a score strictly between 0 and 1, within [lo, hi]; of one session when `session_id` is given."""
    sql = _UNDECIDED_SCORED
    params: list = []
    if session_id is not None:
        sql += " AND session_id = ?"
        params.append(int(session_id))
    return conn.execute(sql + " AND keeper_score >= ? AND keeper_score <= ?", params + [lo, hi]).fetchall()


def kept_photo_ids(conn: sqlite3.Connection) -> set[int]:
    """The originals and inbox photos marked keep (a RAW+JPEG pair once, as its JPEG)."""
    return {r[0] for r in conn.execute(
        "SELECT id FROM photos WHERE decision = 'keep' AND role IN ('originals', 'inbox') AND pair_of IS NULL")}
