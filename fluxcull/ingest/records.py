"""The write stage: ingest records into the photos table (main process, one transaction a batch).

Rules: a path already in the catalog is updated in place (decisions, scores, links kept); a new
path whose SHA-256 matches a row of the same role whose file is gone, or a row detached when its
folder stopped being one of the library's (fluxcull.catalog.folders: a byte-identical copy in the new
INBOX folder), is that photo moved or renamed (the row's path is updated); anything else is added. A photo that was fine before and now
fails keeps its metadata, thumbnail and decisions; only its status and error change.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from fluxcull.catalog import transaction
from fluxcull.catalog.folders import OUTSIDE_REASON

INGEST_COLUMNS = (
    "size", "mtime_ns", "sha256", "format", "width", "height", "orientation", "taken_at", "taken_offset",
    "capture_time", "time_source", "camera_make", "camera_model", "lens", "focal_length",
    "focal_length_35mm", "aperture", "shutter", "iso", "subject_distance", "gps_lat", "gps_lon", "gps_alt",
    "original_filename", "thumb_key", "thumb_source", "status", "error",
)
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

# Errors about reaching the file (not its content): retried on every run even when size and
# mtime did not change, since fixing them (permissions, a link target) does not touch the file.
ACCESS_ERROR_PREFIXES = ("permission denied", "broken symbolic link", "symbolic link loop", "cannot read",
                         "file not found", "not a regular file")


def is_access_error(error: str | None) -> bool:
    return bool(error) and error.startswith(ACCESS_ERROR_PREFIXES)


def under_root(root: str) -> tuple[str, tuple]:
    """SQL condition, and its parameters, for photos at the path `root` or anywhere below it."""
    prefix = root.rstrip(os.sep) + os.sep
    return "(path = ? OR substr(path, 1, ?) = ?)", (root, len(prefix), prefix)


def _values(rec: dict[str, Any], columns=INGEST_COLUMNS) -> list[Any]:
    return [rec.get(c) for c in columns]


def write_batch(conn: sqlite3.Connection, role: str, records: list[dict[str, Any]], counts: dict) -> None:
    """Store a batch of processed records in one transaction; update `counts`."""
    with transaction(conn):
        for rec in records:
            _write_one(conn, role, rec, counts)


def _write_one(conn: sqlite3.Connection, role: str, rec: dict, counts: dict) -> None:
    existing = conn.execute("SELECT id, status, sha256, role FROM photos WHERE path = ?", (rec["path"],)).fetchone()
    if existing is not None:
        counts.setdefault("roles", set()).add(existing["role"])
        if rec["status"] == "error" and existing["status"] == "ok" and existing["sha256"]:
            # keep the good metadata; say what is wrong now
            conn.execute(
                f"UPDATE photos SET status = 'error', error = ?, size = ?, mtime_ns = ?, role = ?, updated_at = {_NOW} "
                "WHERE id = ?",
                (rec["error"], rec["size"], rec["mtime_ns"], role, existing["id"]),
            )
        else:
            _update(conn, existing["id"], role, rec)
        counts["updated"] += 1
        return
    if rec.get("sha256"):
        moved = _moved_from(conn, role, rec["sha256"], rec["path"])
        if moved is not None:
            conn.execute(f"UPDATE photos SET path = ?, updated_at = {_NOW} WHERE id = ?", (rec["path"], moved))
            _update(conn, moved, role, rec)
            counts["moved"] += 1
            counts["updated"] += 1
            return
    cols = ("path", "role") + INGEST_COLUMNS
    conn.execute(
        f"INSERT INTO photos ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [rec["path"], role] + _values(rec),
    )
    counts["added"] += 1


def _update(conn: sqlite3.Connection, photo_id: int, role: str, rec: dict) -> None:
    sets = ", ".join(f"{c} = ?" for c in INGEST_COLUMNS)
    conn.execute(
        f"UPDATE photos SET role = ?, {sets}, updated_at = {_NOW} WHERE id = ?",
        [role] + _values(rec) + [photo_id],
    )


def _moved_from(conn: sqlite3.Connection, role: str, sha256: str, new_path: str) -> int | None:
    rows = conn.execute(
        "SELECT id, path, status, error FROM photos WHERE sha256 = ? AND role = ? ORDER BY status = 'missing' DESC, id",
        (sha256, role),
    ).fetchall()
    for r in rows:
        detached = r["status"] == "missing" and (r["error"] or "").startswith(OUTSIDE_REASON)
        if r["path"] != new_path and (detached or not os.path.lexists(r["path"])):
            return r["id"]
    return None


def mark_missing(conn: sqlite3.Connection, roots: list[str], seen: set[str]) -> int:
    """Rows under the scanned folders whose files are gone: status 'missing' (data kept)."""
    gone = []
    for root in roots:
        cond, params = under_root(root)
        rows = conn.execute(f"SELECT id, path FROM photos WHERE status != 'missing' AND {cond}", params).fetchall()
        gone += [r["id"] for r in rows if r["path"] not in seen and not os.path.lexists(r["path"])]
    if gone:
        with transaction(conn):
            conn.executemany(
                f"UPDATE photos SET status = 'missing', error = 'file not found at its path (moved or deleted)', "
                f"session_id = NULL, updated_at = {_NOW} WHERE id = ?",
                [(i,) for i in gone],
            )
    return len(gone)
