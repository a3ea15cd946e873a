"""Photos and the library's folders: what becomes of the rows of a folder that is no longer one.

When the INBOX folder changes (Library settings), the photos of the old folder that lie under none of
the library's folders now are detached: status 'missing' with the reason `OUTSIDE_REASON` (their
decisions, scores and links kept). Ingesting the new folder then re-points a detached row to a
byte-identical file found there (fluxcull.ingest.records: same SHA-256, same role) instead of adding
the photo twice; setting the old folder back brings the rest back.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Iterable

from fluxcull.catalog.db import transaction

OUTSIDE_REASON = "outside the library's folders"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep)
    return path == folder or path.startswith(folder + os.sep)


def detach_outside(conn: sqlite3.Connection, role: str, old_folder: str, folders: Iterable[str], reason: str) -> int:
    """Rows of `role` under `old_folder` that lie under none of `folders` (the library's folders
    now): status 'missing', error `reason` (which starts with OUTSIDE_REASON), out of their session.
    Returns how many."""
    if not reason.startswith(OUTSIDE_REASON):
        raise ValueError(f"a detached photo's reason starts with {OUTSIDE_REASON!r}")
    old = str(old_folder).rstrip(os.sep)
    prefix = old + os.sep
    keep = [str(f) for f in folders if f]
    with transaction(conn):
        rows = conn.execute(
            "SELECT id, path FROM photos WHERE role = ? AND status != 'missing'"
            " AND (path = ? OR substr(path, 1, ?) = ?)", (role, old, len(prefix), prefix)).fetchall()
        gone = [(reason, r[0]) for r in rows if not any(_under(r[1], f) for f in keep)]
        conn.executemany(f"UPDATE photos SET status = 'missing', error = ?, session_id = NULL, updated_at = {_NOW}"
                         " WHERE id = ?", gone)
    return len(gone)
