"""Issue drafts in the catalog (tables `drafts`, `draft_items`; fluxcull.insights.draft proposes
them): store a proposal, list, read, approve. A draft is only ever a proposal until `approve`."""

from __future__ import annotations

import json
import sqlite3

from fluxcull.catalog.db import transaction

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def add_draft(conn: sqlite3.Connection, items: list[tuple[int, float]], params: dict) -> int:
    """Store a proposed draft of (photo_id, score) in order (position 1..n); returns its id.
    Opens its own transaction."""
    with transaction(conn):
        cur = conn.execute("INSERT INTO drafts(status, size, params) VALUES ('proposed', ?, ?)",
                           (len(items), json.dumps(params, sort_keys=True)))
        draft_id = cur.lastrowid
        conn.executemany("INSERT INTO draft_items(draft_id, position, photo_id, score) VALUES (?, ?, ?, ?)",
                         [(draft_id, pos, int(pid), float(score)) for pos, (pid, score) in enumerate(items, 1)])
    return int(draft_id)


def list_drafts(conn: sqlite3.Connection) -> list[dict]:
    """Every draft, newest first: id, status, size, params, created_at, approved_at."""
    rows = conn.execute("SELECT id, status, size, params, created_at, approved_at FROM drafts ORDER BY id DESC")
    return [{"id": r[0], "status": r[1], "size": r[2], "params": json.loads(r[3] or "{}"), "created_at": r[4],
             "approved_at": r[5]} for r in rows]


def draft(conn: sqlite3.Connection, draft_id: int) -> dict | None:
    """One draft with its items (position, photo_id, score, path, capture_time, taken_at, session_id,
    place, gps_lat, gps_lon, thumb_key), or None."""
    found = [d for d in (conn.execute(
        "SELECT id, status, size, params, created_at, approved_at FROM drafts WHERE id = ?", (draft_id,)))]
    if not found:
        return None
    r = found[0]
    out = {"id": r[0], "status": r[1], "size": r[2], "params": json.loads(r[3] or "{}"), "created_at": r[4],
           "approved_at": r[5]}
    cols = ("position", "photo_id", "score", "path", "capture_time", "taken_at", "session_id", "place",
            "gps_lat", "gps_lon", "thumb_key", "keeper_score")
    out["items"] = [dict(zip(cols, row)) for row in conn.execute(
        "SELECT i.position, i.photo_id, i.score, p.path, p.capture_time, p.taken_at, p.session_id, s.place,"
        " p.gps_lat, p.gps_lon, p.thumb_key, p.keeper_score FROM draft_items i JOIN photos p ON p.id = i.photo_id"
        " LEFT JOIN sessions s ON s.id = p.session_id WHERE i.draft_id = ? ORDER BY i.position", (draft_id,))]
    return out


def approve(conn: sqlite3.Connection, draft_id: int) -> bool:
    """Mark a proposed draft approved (now); False when it was approved already. Own transaction."""
    with transaction(conn):
        cur = conn.execute(f"UPDATE drafts SET status = 'approved', approved_at = {_NOW}"
                           " WHERE id = ? AND status = 'proposed'", (draft_id,))
    return cur.rowcount > 0


def approved_photo_ids(conn: sqlite3.Connection) -> set[int]:
    """The photos in approved drafts (what --exclude-used leaves out)."""
    return {r[0] for r in conn.execute(
        "SELECT DISTINCT i.photo_id FROM draft_items i JOIN drafts d ON d.id = i.draft_id WHERE d.status = 'approved'")}
