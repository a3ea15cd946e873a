"""The write stage: ingest records into the photos table (main process, one transaction a batch).

Rules: a path already in the catalog is updated in place (decisions, scores, links kept); a new
path whose SHA-256 matches a row of the same role whose file is gone, or a row detached when its
folder stopped being one of the library's (fluxcull.catalog.folders: a byte-identical copy in the new
INBOX folder), is that photo moved or renamed (the row's path is updated); anything else is added. A photo that was fine before and now
fails keeps its metadata, thumbnail and decisions; only its status and error change. The XMP marks
read with a record are stored with its row (fluxcull.ingest.xmp_marks).
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from fluxcull.catalog import ingest_store as store
from fluxcull.catalog import transaction
from fluxcull.catalog.folders import OUTSIDE_REASON
from fluxcull.ingest import xmp_marks

# Errors about reaching the file (not its content): retried on every run even when size and
# mtime did not change, since fixing them (permissions, a link target) does not touch the file.
ACCESS_ERROR_PREFIXES = ("permission denied", "broken symbolic link", "symbolic link loop", "cannot read",
                         "file not found", "not a regular file")


def is_access_error(error: str | None) -> bool:
    return bool(error) and error.startswith(ACCESS_ERROR_PREFIXES)


def write_batch(conn: sqlite3.Connection, role: str, records: list[dict[str, Any]], counts: dict) -> None:
    """Store a batch of processed records in one transaction (each gets its row's 'photo_id'); update
    `counts`."""
    with transaction(conn):
        for rec in records:
            _write_one(conn, role, rec, counts)


def write_xmp_only(conn: sqlite3.Connection, reads: list[tuple[int, dict]]) -> None:
    """Store the XMP read for unchanged photos, (photo id, XMP record) each, in one transaction."""
    with transaction(conn):
        for photo_id, xmp in reads:
            xmp_marks.store_record(conn, photo_id, xmp)


def _write_one(conn: sqlite3.Connection, role: str, rec: dict, counts: dict) -> None:
    photo_id = rec["photo_id"] = _write_photo(conn, role, rec, counts)
    xmp_marks.store_record(conn, photo_id, rec.get("xmp"))


def _write_photo(conn: sqlite3.Connection, role: str, rec: dict, counts: dict) -> int:
    existing = store.photo_at_path(conn, rec["path"])
    if existing is not None:
        counts.setdefault("roles", set()).add(existing["role"])
        if rec["status"] == "error" and existing["status"] == "ok" and existing["sha256"]:
            # keep the good metadata; say what is wrong now
            store.mark_failed(conn, existing["id"], role, rec["error"], rec["size"], rec["mtime_ns"])
        else:
            store.update_photo(conn, existing["id"], role, rec)
        counts["updated"] += 1
        return existing["id"]
    if rec.get("sha256"):
        moved = _moved_from(conn, role, rec["sha256"], rec["path"])
        if moved is not None:
            store.move_photo(conn, moved, rec["path"])
            store.update_photo(conn, moved, role, rec)
            counts["moved"] += 1
            counts["updated"] += 1
            return moved
    counts["added"] += 1
    return store.insert_photo(conn, rec["path"], role, rec)


def _moved_from(conn: sqlite3.Connection, role: str, sha256: str, new_path: str) -> int | None:
    rows = store.same_content_rows(conn, role, sha256)
    for r in rows:
        detached = r["status"] == "missing" and (r["error"] or "").startswith(OUTSIDE_REASON)
        if r["path"] != new_path and (detached or not os.path.lexists(r["path"])):
            return r["id"]
    return None


def mark_missing(conn: sqlite3.Connection, roots: list[str], seen: set[str]) -> int:
    """Rows under the scanned folders whose files are gone: status 'missing' (data kept)."""
    gone = []
    for root in roots:
        rows = store.present_rows_under(conn, root)
        gone += [r["id"] for r in rows if r["path"] not in seen and not os.path.lexists(r["path"])]
    if gone:
        store.mark_missing(conn, gone)
    return len(gone)
