"""Imported marks: the culling marks read from XMP at ingest (table imported_marks), and the reads
`fluxcull import-marks` and the trainer need about decisions that came from them.

A photo has at most one sidecar row and one embedded row (an embedded row says its packet was looked
for, with or without marks). Its marks (`effective`) are the sidecar's
when it has a sidecar that was read without a warning, else the embedded packet's: a readable sidecar
wins outright, field by field it is what the editor wrote last. A rating of 0 and digiKam labels of 0
mean "none" (as in XMP), so a photo whose marks say nothing has no marks.

Writes run inside the caller's transaction (ingest writes them with the photo's row).
"""

from __future__ import annotations

import json
import sqlite3

IMPORT_SOURCE = "import"   # decision_events.source of the decisions `fluxcull import-marks` makes
MARK_FIELDS = ("rating", "pick", "label", "color_label", "pick_label", "keywords")
_IDS = "SELECT value FROM json_each(?)"
_HAS_MARKS = ("(COALESCE(m.rating, 0) != 0 OR m.pick IS NOT NULL OR COALESCE(m.label, '') != ''"
              " OR COALESCE(m.color_label, 0) != 0 OR COALESCE(m.pick_label, 0) != 0 OR m.keywords != '[]')")
_EFFECTIVE = (
    "((m.origin = 'sidecar' AND m.warning IS NULL) OR (m.origin = 'embedded' AND NOT EXISTS ("
    "SELECT 1 FROM imported_marks s WHERE s.photo_id = m.photo_id AND s.origin = 'sidecar' AND s.warning IS NULL)))"
)
# the latest keep / reject / clear of each photo that no undo took back
_LIVE = (
    "WITH undone(id) AS (SELECT CAST(detail AS INTEGER) FROM decision_events WHERE kind = 'undo' AND detail IS NOT NULL),"
    " last(id) AS (SELECT MAX(id) FROM decision_events WHERE kind IN ('keep', 'reject', 'clear')"
    " AND id NOT IN (SELECT id FROM undone) GROUP BY photo_id)"
)


# -- writes (inside the caller's transaction) ----------------------------------------------------------
def put(conn: sqlite3.Connection, photo_id: int, origin: str, source: str, marks: dict | None, *,
        size: int | None = None, mtime_ns: int | None = None, warning: str | None = None) -> None:
    """Replace the photo's `origin` row ('sidecar' or 'embedded') with these marks (None: none read)."""
    m = marks or {}
    conn.execute(
        "INSERT OR REPLACE INTO imported_marks (photo_id, origin, source, size, mtime_ns, rating, pick, label,"
        " color_label, pick_label, keywords, warning) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (photo_id, origin, source, size, mtime_ns, m.get("rating"), m.get("pick"), m.get("label"),
         m.get("color_label"), m.get("pick_label"), json.dumps(list(m.get("keywords") or []), ensure_ascii=False),
         warning),
    )


def drop(conn: sqlite3.Connection, photo_id: int, origin: str) -> None:
    conn.execute("DELETE FROM imported_marks WHERE photo_id = ? AND origin = ?", (photo_id, origin))


# -- reads ---------------------------------------------------------------------------------------------
def xmp_states_under(conn: sqlite3.Connection, condition: str, params: tuple) -> tuple[dict[str, tuple], set[str]]:
    """For the photos matching `condition` on photos (e.g. fluxcull.catalog.ingest_store.under_root):
    photo path -> (sidecar path, size, mtime_ns) as recorded when its sidecar was last read, and the
    paths of the photos whose embedded packet was looked for."""
    sidecars, embedded = {}, set()
    rows = conn.execute("SELECT p.path, m.origin, m.source, m.size, m.mtime_ns FROM imported_marks m"
                        f" JOIN photos p ON p.id = m.photo_id WHERE {condition}", params)
    for path, origin, source, size, mtime_ns in rows:
        if origin == "sidecar":
            sidecars[path] = (source, size, mtime_ns)
        else:
            embedded.add(path)
    return sidecars, embedded


def _available(conn: sqlite3.Connection) -> bool:
    """Whether the catalog has the table (a catalog opened read-only may predate it)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'imported_marks'").fetchone() \
        is not None


def _record(r: sqlite3.Row) -> dict:
    out = {k: r[k] for k in MARK_FIELDS}
    out["keywords"] = json.loads(r["keywords"] or "[]")
    out["source"] = r["source"]
    return out


def effective(conn: sqlite3.Connection, photo_ids) -> dict[int, dict]:
    """photo id -> its marks {rating, pick, label, color_label, pick_label, keywords, source}, for the
    given photos that have any."""
    ids = sorted({int(i) for i in photo_ids})
    if not ids or not _available(conn):
        return {}
    sql = (f"SELECT m.* FROM imported_marks m WHERE m.photo_id IN ({_IDS}) AND {_EFFECTIVE} AND {_HAS_MARKS}")
    return {r["photo_id"]: _record(r) for r in conn.execute(sql, (json.dumps(ids),))}


def marked_photos(conn: sqlite3.Connection) -> list[dict]:
    """Every ok photo with marks: its marks, id, path and current decision, by id."""
    if not _available(conn):
        return []
    sql = ("SELECT m.*, p.path, p.decision FROM imported_marks m JOIN photos p ON p.id = m.photo_id"
           f" WHERE p.status = 'ok' AND {_EFFECTIVE} AND {_HAS_MARKS} ORDER BY m.photo_id")
    out = []
    for r in conn.execute(sql):
        rec = _record(r)
        rec.update(photo_id=r["photo_id"], path=r["path"], decision=r["decision"])
        out.append(rec)
    return out


def live_decisions(conn: sqlite3.Connection) -> dict[int, dict]:
    """photo id -> {kind, source, event_id, batch} of its latest keep / reject / clear not undone."""
    sql = f"{_LIVE} SELECT e.photo_id, e.kind, e.source, e.id, e.batch FROM decision_events e JOIN last ON e.id = last.id"
    return {r[0]: {"kind": r[1], "source": r[2], "event_id": r[3], "batch": r[4]} for r in conn.execute(sql)}


def import_decided_ids(conn: sqlite3.Connection) -> set[int]:
    """The photos whose decision now is one `fluxcull import-marks` made (not undone, not changed since)."""
    sql = (f"{_LIVE} SELECT e.photo_id FROM decision_events e JOIN last ON e.id = last.id"
           " JOIN photos p ON p.id = e.photo_id WHERE e.source = ? AND p.decision = e.kind")
    return {r[0] for r in conn.execute(sql, (IMPORT_SOURCE,))}


def refused_sidecars(conn: sqlite3.Connection, limit: int = 50) -> tuple[int, list[dict]]:
    """(how many, the newest `limit`) sidecars ingest read but refused: photo path, sidecar, warning."""
    if not _available(conn):
        return 0, []
    n = conn.execute("SELECT COUNT(*) FROM imported_marks WHERE warning IS NOT NULL").fetchone()[0]
    rows = conn.execute(
        "SELECT p.path, m.source, m.warning FROM imported_marks m JOIN photos p ON p.id = m.photo_id"
        " WHERE m.warning IS NOT NULL ORDER BY m.read_at DESC, p.path LIMIT ?", (int(limit),)).fetchall()
    return int(n), [{"path": r[0], "sidecar": r[1], "warning": r[2]} for r in rows]
