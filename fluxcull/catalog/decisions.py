"""Keep / reject / clear, undo, and pairwise preferences: each a row change plus a log event.

Every function commits its own transaction (or joins the caller's), so a decision is on disk the
moment the call returns.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable

from fluxcull.catalog.db import transaction
from fluxcull.catalog.scores import decision_value


def decide(conn: sqlite3.Connection, photo_ids: Iterable[int], kind: str, source: str) -> list[int]:
    """Set the decision of photos (kind: keep, reject or clear); return the ids that changed."""
    new = decision_value(kind)
    changed = []
    with transaction(conn):
        for pid in photo_ids:
            row = conn.execute("SELECT decision FROM photos WHERE id = ?", (pid,)).fetchone()
            if row is None:
                raise KeyError(f"no photo with id {pid}")
            conn.execute(
                "INSERT INTO decision_events(photo_id, kind, previous, source) VALUES (?, ?, ?, ?)",
                (pid, kind, row[0], source),
            )
            if row[0] != new:
                changed.append(pid)
            conn.execute(
                "UPDATE photos SET decision = ?, decided_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'),"
                " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
                (new, pid),
            )
    return changed


def undo_last(conn: sqlite3.Connection, source: str, *, sources: Iterable[str] | None = None) -> dict | None:
    """Undo the most recent keep/reject/clear/prefer not already undone.

    Returns {"event_id", "photo_id", "kind", "restored"} or None when there is nothing to undo.
    With `sources`, only events from those sources are considered (the GUI undoes its own clicks).
    """
    with transaction(conn):
        undone = {
            int(r[0])
            for r in conn.execute("SELECT detail FROM decision_events WHERE kind = 'undo' AND detail IS NOT NULL")
        }
        params: list = []
        where = "kind IN ('keep', 'reject', 'clear', 'prefer')"
        if sources is not None:
            srcs = list(sources)
            where += " AND source IN (%s)" % ",".join("?" * len(srcs))
            params += srcs
        for ev in conn.execute(f"SELECT * FROM decision_events WHERE {where} ORDER BY id DESC", params):
            if ev["id"] in undone:
                continue
            restored = None
            if ev["kind"] != "prefer":
                restored = ev["previous"] or "none"
                conn.execute(
                    "UPDATE photos SET decision = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')"
                    " WHERE id = ?",
                    (restored, ev["photo_id"]),
                )
            conn.execute(
                "INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, source, detail)"
                " VALUES (?, 'undo', ?, ?, ?, ?)",
                (ev["photo_id"], ev["other_photo_id"], ev["kind"], source, str(ev["id"])),
            )
            return {"event_id": ev["id"], "photo_id": ev["photo_id"], "kind": ev["kind"], "restored": restored}
    return None


def prefer(conn: sqlite3.Connection, winner: int, loser: int, source: str) -> int:
    """Record that `winner` was chosen over `loser` in a side-by-side comparison."""
    if winner == loser:
        raise ValueError("a photo cannot be preferred over itself")
    with transaction(conn):
        for pid in (winner, loser):
            if conn.execute("SELECT 1 FROM photos WHERE id = ?", (pid,)).fetchone() is None:
                raise KeyError(f"no photo with id {pid}")
        cur = conn.execute(
            "INSERT INTO decision_events(photo_id, kind, other_photo_id, source) VALUES (?, 'prefer', ?, ?)",
            (winner, loser, source),
        )
        return int(cur.lastrowid)


def active_preferences(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """All (winner, loser) pairs recorded and not undone, oldest first."""
    undone = {
        int(r[0]) for r in conn.execute("SELECT detail FROM decision_events WHERE kind = 'undo' AND detail IS NOT NULL")
    }
    return [
        (r["photo_id"], r["other_photo_id"])
        for r in conn.execute("SELECT id, photo_id, other_photo_id FROM decision_events WHERE kind = 'prefer' ORDER BY id")
        if r["id"] not in undone
    ]
