"""What ingest reads from and writes to the catalog: the photos it already knows under a folder,
the photos table rows it adds, updates, moves and marks missing, and the sessions it regroups.

The rules (which row a record updates, what counts as moved, how photos group into sessions) live
in fluxcull.ingest; these are the statements they run. Writes are called inside the caller's
`transaction(conn)` unless a function says it opens its own.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any, Iterable

from fluxcull.catalog.db import transaction

# the photos columns a processed ingest record fills, in the order `ingest_values` gives them
INGEST_COLUMNS = (
    "size", "mtime_ns", "sha256", "format", "width", "height", "orientation", "taken_at", "taken_offset",
    "capture_time", "time_source", "camera_make", "camera_model", "lens", "focal_length",
    "focal_length_35mm", "aperture", "shutter", "iso", "subject_distance", "gps_lat", "gps_lon", "gps_alt",
    "original_filename", "thumb_key", "thumb_source", "status", "error",
)
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_INSERT = (f"INSERT INTO photos ({', '.join(('path', 'role') + INGEST_COLUMNS)})"
           f" VALUES ({', '.join('?' * (len(INGEST_COLUMNS) + 2))})")
_UPDATE = (f"UPDATE photos SET role = ?, {', '.join(f'{c} = ?' for c in INGEST_COLUMNS)}, updated_at = {_NOW}"
           " WHERE id = ?")


def under_root(root: str) -> tuple[str, tuple]:
    """SQL condition, and its parameters, for photos at the path `root` or anywhere below it."""
    prefix = root.rstrip(os.sep) + os.sep
    return "(path = ? OR substr(path, 1, ?) = ?)", (root, len(prefix), prefix)


def ingest_values(rec: dict[str, Any]) -> list[Any]:
    """The INGEST_COLUMNS values of a processed record (None where it has none)."""
    return [rec.get(c) for c in INGEST_COLUMNS]


# -- reads -----------------------------------------------------------------------------------------
def known_rows_under(conn: sqlite3.Connection, root: str) -> Iterable[sqlite3.Row]:
    """Rows (id, path, role, size, mtime_ns, status, error) of the photos at or below `root`."""
    cond, params = under_root(root)
    return conn.execute(f"SELECT id, path, role, size, mtime_ns, status, error FROM photos WHERE {cond}", params)


def present_rows_under(conn: sqlite3.Connection, root: str) -> list[sqlite3.Row]:
    """Rows (id, path) of the photos at or below `root` not marked missing."""
    cond, params = under_root(root)
    return conn.execute(f"SELECT id, path FROM photos WHERE status != 'missing' AND {cond}", params).fetchall()


def photo_at_path(conn: sqlite3.Connection, path: str) -> sqlite3.Row | None:
    """(id, status, sha256, role) of the photo at `path`, None where there is none."""
    return conn.execute("SELECT id, status, sha256, role FROM photos WHERE path = ?", (path,)).fetchone()


def same_content_rows(conn: sqlite3.Connection, role: str, sha256: str) -> list[sqlite3.Row]:
    """(id, path, status, error) of `role`'s photos with these bytes, those marked missing first, then by id."""
    return conn.execute(
        "SELECT id, path, status, error FROM photos WHERE sha256 = ? AND role = ? ORDER BY status = 'missing' DESC, id",
        (sha256, role),
    ).fetchall()


def session_candidates(conn: sqlite3.Connection, role: str) -> list[sqlite3.Row]:
    """(id, capture_time, gps_lat, gps_lon, session_id) of `role`'s ok photo units with a capture time,
    in capture-time order (then id). The RAW file of a RAW+JPEG pair is no member of its own: the
    pair is in its JPEG's session, counted once."""
    return conn.execute(
        "SELECT id, capture_time, gps_lat, gps_lon, session_id FROM photos "
        "WHERE role = ? AND status = 'ok' AND capture_time IS NOT NULL AND pair_of IS NULL ORDER BY capture_time, id",
        (role,),
    ).fetchall()


def session_ids(conn: sqlite3.Connection, role: str) -> set[int]:
    return {r[0] for r in conn.execute("SELECT id FROM sessions WHERE role = ?", (role,))}


# -- photo writes (inside the caller's transaction) ------------------------------------------------
def insert_photo(conn: sqlite3.Connection, path: str, role: str, rec: dict[str, Any]) -> int:
    """A new photo row from a processed record; returns its id."""
    return int(conn.execute(_INSERT, [path, role] + ingest_values(rec)).lastrowid)


def update_photo(conn: sqlite3.Connection, photo_id: int, role: str, rec: dict[str, Any]) -> None:
    """Every INGEST_COLUMNS value and the role of a photo, from a processed record."""
    conn.execute(_UPDATE, [role] + ingest_values(rec) + [photo_id])


def mark_failed(conn: sqlite3.Connection, photo_id: int, role: str, error: str, size, mtime_ns) -> None:
    """A photo that now fails: its status, error, size, mtime and role change, its metadata stays."""
    conn.execute(
        f"UPDATE photos SET status = 'error', error = ?, size = ?, mtime_ns = ?, role = ?, updated_at = {_NOW} "
        "WHERE id = ?",
        (error, size, mtime_ns, role, photo_id),
    )


def move_photo(conn: sqlite3.Connection, photo_id: int, path: str) -> None:
    conn.execute(f"UPDATE photos SET path = ?, updated_at = {_NOW} WHERE id = ?", (path, photo_id))


def set_roles(conn: sqlite3.Connection, relabel: list[tuple[str, int]]) -> None:
    """(role, photo id) pairs: photos that now belong to another role, in one transaction."""
    with transaction(conn):
        conn.executemany("UPDATE photos SET role = ? WHERE id = ?", relabel)


def mark_missing(conn: sqlite3.Connection, photo_ids: list[int]) -> None:
    """Photos whose files are gone: status 'missing', out of their session (data kept), in one transaction."""
    with transaction(conn):
        conn.executemany(
            f"UPDATE photos SET status = 'missing', error = 'file not found at its path (moved or deleted)', "
            f"session_id = NULL, updated_at = {_NOW} WHERE id = ?",
            [(i,) for i in photo_ids],
        )


# -- session writes (inside the caller's transaction) ----------------------------------------------
def insert_session(conn: sqlite3.Connection, role: str, values: tuple) -> int:
    """A new session of `role` from (start_time, end_time, start_at, end_at, photo_count, gps_lat,
    gps_lon); returns its id."""
    return conn.execute(
        "INSERT INTO sessions (role, start_time, end_time, start_at, end_at, photo_count, gps_lat, gps_lon) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (role,) + tuple(values),
    ).lastrowid


def update_session(conn: sqlite3.Connection, session_id: int, values: tuple) -> None:
    """A session's (start_time, end_time, start_at, end_at, photo_count, gps_lat, gps_lon)."""
    conn.execute(
        "UPDATE sessions SET start_time = ?, end_time = ?, start_at = ?, end_at = ?, photo_count = ?, "
        "gps_lat = ?, gps_lon = ? WHERE id = ?", tuple(values) + (session_id,),
    )


def assign_sessions(conn: sqlite3.Connection, assignments: list[tuple[int, int]]) -> None:
    """(session id, photo id) pairs."""
    conn.executemany("UPDATE photos SET session_id = ? WHERE id = ?", assignments)


def drop_sessions(conn: sqlite3.Connection, stale: Iterable[int]) -> None:
    """Sessions no group claimed: their photos leave them, then they are deleted."""
    stale = [(s,) for s in stale]
    conn.executemany("UPDATE photos SET session_id = NULL WHERE session_id = ?", stale)
    conn.executemany("DELETE FROM sessions WHERE id = ?", stale)


def clear_ungrouped_sessions(conn: sqlite3.Connection, role: str) -> None:
    """Photos of `role` that left the grouping (errors, missing, no capture time, the RAW file of a
    RAW+JPEG pair) drop their session."""
    conn.execute(
        "UPDATE photos SET session_id = NULL WHERE role = ? AND session_id IS NOT NULL "
        "AND (status != 'ok' OR capture_time IS NULL OR pair_of IS NOT NULL)", (role,),
    )
