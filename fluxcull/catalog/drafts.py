"""Issue drafts in the catalog (tables `drafts`, `draft_items`, `draft_events`; fluxcull.insights.draft
proposes them): store a proposal, list, read, edit, approve, re-open, and the history of each.

A draft is only ever a proposal until `approve`. Only a proposed draft is edited (`set_order`,
`remove_photo`, `swap_photo`); an approved one is re-opened first (`reopen`: the photographer's
explicit word, like the approval). Every change is one transaction that also appends its event to
`draft_events` (kinds in migration 0019), so a draft's history says how it came to be.
"""

from __future__ import annotations

import json
import sqlite3

from fluxcull.catalog.db import transaction
from fluxcull.catalog.scores import band
from fluxcull.errors import InvalidValue, NotFound

DRAFT_SIZE = 36  # photos in a proposed draft, unless asked otherwise
STRONG_SCORE = band("high").low  # the lowest keeper score of a draft's candidate: a probable keeper
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_DRAFT_COLUMNS = "id, status, size, params, created_at, approved_at"


def _record(r) -> dict:
    return {"id": r[0], "status": r[1], "size": r[2], "params": json.loads(r[3] or "{}"), "created_at": r[4],
            "approved_at": r[5]}


def _event(conn: sqlite3.Connection, draft_id: int, kind: str, **detail) -> None:
    conn.execute("INSERT INTO draft_events(draft_id, kind, detail) VALUES (?, ?, ?)",
                 (int(draft_id), kind, json.dumps(detail, sort_keys=True)))


def add_draft(conn: sqlite3.Connection, items: list[tuple[int, float]], params: dict) -> int:
    """Store a proposed draft of (photo_id, score) in order (position 1..n); returns its id.
    Opens its own transaction."""
    with transaction(conn):
        cur = conn.execute("INSERT INTO drafts(status, size, params) VALUES ('proposed', ?, ?)",
                           (len(items), json.dumps(params, sort_keys=True)))
        draft_id = cur.lastrowid
        conn.executemany("INSERT INTO draft_items(draft_id, position, photo_id, score) VALUES (?, ?, ?, ?)",
                         [(draft_id, pos, int(pid), float(score)) for pos, (pid, score) in enumerate(items, 1)])
        _event(conn, draft_id, "proposed", order=[int(pid) for pid, _ in items])
    return int(draft_id)


def list_drafts(conn: sqlite3.Connection) -> list[dict]:
    """Every draft, newest first: id, status, size, params, created_at, approved_at."""
    return [_record(r) for r in conn.execute(f"SELECT {_DRAFT_COLUMNS} FROM drafts ORDER BY id DESC")]


def draft(conn: sqlite3.Connection, draft_id: int) -> dict | None:
    """One draft with its items (position, photo_id, score, path, capture_time, taken_at, session_id,
    place, gps_lat, gps_lon, thumb_key, keeper_score), or None."""
    found = conn.execute(f"SELECT {_DRAFT_COLUMNS} FROM drafts WHERE id = ?", (int(draft_id),)).fetchone()
    if found is None:
        return None
    out = _record(found)
    cols = ("position", "photo_id", "score", "path", "capture_time", "taken_at", "session_id", "place",
            "gps_lat", "gps_lon", "thumb_key", "keeper_score")
    out["items"] = [dict(zip(cols, row)) for row in conn.execute(
        "SELECT i.position, i.photo_id, i.score, p.path, p.capture_time, p.taken_at, p.session_id, s.place,"
        " p.gps_lat, p.gps_lon, p.thumb_key, p.keeper_score FROM draft_items i JOIN photos p ON p.id = i.photo_id"
        " LEFT JOIN sessions s ON s.id = p.session_id WHERE i.draft_id = ? ORDER BY i.position", (int(draft_id),))]
    return out


def order(conn: sqlite3.Connection, draft_id: int) -> list[int]:
    """The draft's photo ids, position 1 first."""
    return [r[0] for r in conn.execute("SELECT photo_id FROM draft_items WHERE draft_id = ? ORDER BY position",
                                       (int(draft_id),))]


def _editable(conn: sqlite3.Connection, draft_id: int) -> list[int]:
    """The order of a proposed draft (inside the caller's transaction); refuses an approved one."""
    row = conn.execute("SELECT status FROM drafts WHERE id = ?", (int(draft_id),)).fetchone()
    if row is None:
        raise NotFound(f"no draft {draft_id}: `fluxcull drafts` lists them")
    if row[0] != "proposed":
        raise InvalidValue(f"draft {draft_id} is approved: re-open it first (`fluxcull draft-reopen {draft_id}`) "
                           "to change it")
    return order(conn, draft_id)


def _write_order(conn: sqlite3.Connection, draft_id: int, photo_ids: list[int]) -> None:
    """Positions 1..n in the order given (moved past the end first: (draft_id, position) is the key)."""
    conn.execute("UPDATE draft_items SET position = position + (SELECT MAX(position) FROM draft_items"
                 " WHERE draft_id = ?) WHERE draft_id = ?", (int(draft_id), int(draft_id)))
    conn.executemany("UPDATE draft_items SET position = ? WHERE draft_id = ? AND photo_id = ?",
                     [(pos, int(draft_id), int(pid)) for pos, pid in enumerate(photo_ids, 1)])
    conn.execute("UPDATE drafts SET size = ? WHERE id = ?", (len(photo_ids), int(draft_id)))


def set_order(conn: sqlite3.Connection, draft_id: int, photo_ids: list[int], *, kind: str = "reordered",
              **detail) -> bool:
    """Put a proposed draft's photos in this order (the same photos, each once); `kind` 'reordered'
    (by hand) or 'sequenced' (a suggestion applied; `detail` says which). False when the order is
    the draft's already (nothing recorded). Own transaction."""
    if kind not in ("reordered", "sequenced"):
        raise ValueError(f"set_order records 'reordered' or 'sequenced', not {kind!r}")
    new = [int(p) for p in photo_ids]
    with transaction(conn):
        before = _editable(conn, draft_id)
        if sorted(new) != sorted(before) or len(set(new)) != len(new):
            raise InvalidValue(f"draft {draft_id}: a new order must hold its {len(before)} photos, each once")
        if new == before:
            return False
        _write_order(conn, draft_id, new)
        _event(conn, draft_id, kind, before=before, order=new, **detail)
    return True


def remove_photo(conn: sqlite3.Connection, draft_id: int, photo_id: int) -> list[int]:
    """Take a photo out of a proposed draft (the ones after it move up); returns the new order.
    A draft keeps at least one photo. Own transaction."""
    with transaction(conn):
        before = _editable(conn, draft_id)
        if int(photo_id) not in before:
            raise NotFound(f"photo {photo_id} is not in draft {draft_id}")
        if len(before) == 1:
            raise InvalidValue(f"draft {draft_id} keeps at least one photo")
        conn.execute("DELETE FROM draft_items WHERE draft_id = ? AND photo_id = ?", (int(draft_id), int(photo_id)))
        new = [p for p in before if p != int(photo_id)]
        _write_order(conn, draft_id, new)
        _event(conn, draft_id, "removed", photo_id=int(photo_id), position=before.index(int(photo_id)) + 1, order=new)
    return new


def swap_photo(conn: sqlite3.Connection, draft_id: int, photo_id: int, by: int, score: float | None) -> list[int]:
    """Put photo `by` (with its keeper `score`) in `photo_id`'s place in a proposed draft; returns the
    new order. `by` must not be in the draft already. Own transaction."""
    with transaction(conn):
        before = _editable(conn, draft_id)
        if int(photo_id) not in before:
            raise NotFound(f"photo {photo_id} is not in draft {draft_id}")
        if int(by) in before:
            raise InvalidValue(f"photo {by} is in draft {draft_id} already")
        if conn.execute("SELECT 1 FROM photos WHERE id = ?", (int(by),)).fetchone() is None:
            raise NotFound(f"no photo {by}")
        conn.execute("UPDATE draft_items SET photo_id = ?, score = ? WHERE draft_id = ? AND photo_id = ?",
                     (int(by), None if score is None else float(score), int(draft_id), int(photo_id)))
        pos = before.index(int(photo_id))
        _event(conn, draft_id, "swapped", photo_id=int(photo_id), by=int(by), position=pos + 1)
        before[pos] = int(by)
    return before


def approve(conn: sqlite3.Connection, draft_id: int) -> bool:
    """Mark a proposed draft approved (now); False when it was approved already. Own transaction."""
    with transaction(conn):
        cur = conn.execute(f"UPDATE drafts SET status = 'approved', approved_at = {_NOW}"
                           " WHERE id = ? AND status = 'proposed'", (int(draft_id),))
        if cur.rowcount:
            _event(conn, draft_id, "approved")
    return cur.rowcount > 0


def reopen(conn: sqlite3.Connection, draft_id: int) -> bool:
    """Make an approved draft a proposal again, so that it can be edited (and approved again); False
    when it was a proposal already. Own transaction."""
    with transaction(conn):
        row = conn.execute("SELECT status, approved_at FROM drafts WHERE id = ?", (int(draft_id),)).fetchone()
        if row is None:
            raise NotFound(f"no draft {draft_id}: `fluxcull drafts` lists them")
        if row[0] != "approved":
            return False
        conn.execute("UPDATE drafts SET status = 'proposed', approved_at = NULL WHERE id = ?", (int(draft_id),))
        _event(conn, draft_id, "reopened", approved_at=row[1])
    return True


def history(conn: sqlite3.Connection, draft_id: int) -> list[dict]:
    """The draft's events, oldest first: {kind, at, detail}."""
    return [{"kind": r[0], "at": r[1], "detail": json.loads(r[2] or "{}")} for r in conn.execute(
        "SELECT kind, at, detail FROM draft_events WHERE draft_id = ? ORDER BY id", (int(draft_id),))]


def approved_photo_ids(conn: sqlite3.Connection) -> set[int]:
    """The photos in approved drafts (what --exclude-used leaves out)."""
    return {r[0] for r in conn.execute(
        "SELECT DISTINCT i.photo_id FROM draft_items i JOIN drafts d ON d.id = i.draft_id WHERE d.status = 'approved'")}
