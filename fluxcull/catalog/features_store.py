"""What the photo features read from and write to the catalog: the photos' metadata columns (read
in bulk, as plain tuples, for 400,000 photos at a time), the members of their sessions, and the
stored feature vectors (table `photo_features`).

The features themselves (names, schema, storage) live in fluxcull.embedding.features, the metadata
arithmetic in fluxcull.embedding.metadata_features; these are the statements they run. Bulk reads
take sorted unique id arrays and use a plain-tuple cursor (several times cheaper than sqlite3.Row):
one range query where the ids are dense, IN batches otherwise.
"""

from __future__ import annotations

import itertools
import sqlite3
from typing import Iterable

import numpy as np

from fluxcull.catalog.db import plain_cursor, transaction

# the metadata columns the features are computed from, in the order metadata_rows gives them
METADATA_COLUMNS = ("id", "capture_time", "time_source", "focal_length_35mm", "aperture", "shutter", "iso",
                    "subject_distance", "gps_lat", "gps_lon", "session_id", "width", "height")
# the same columns, with time_source read as 1 ('exif') / 0 so that every value is a number or NULL
METADATA_SELECT = ", ".join("(time_source IS 'exif')" if k == "time_source" else k for k in METADATA_COLUMNS)
_CHUNK = 500  # ids per IN (...) query


def _rows_by_id(conn: sqlite3.Connection, sql: str, key: str, uids: np.ndarray, params=()) -> list[tuple]:
    """Rows of `sql` (whose WHERE clause ends with a `{where}` placeholder) for the sorted unique ids
    `uids`, tested on column `key`: one range query where the ids are dense, IN batches otherwise.
    Rows of ids not asked for may come back too (the range query); callers match on the id."""
    cur = plain_cursor(conn)
    n = len(uids)
    if n == 0:
        return []
    if n >= 2000 and 2 * n >= int(uids[-1]) - int(uids[0]) + 1:
        return cur.execute(sql.format(where=f"{key} BETWEEN ? AND ?"), [*params, int(uids[0]), int(uids[-1])]).fetchall()
    rows: list[tuple] = []
    for i in range(0, n, _CHUNK):
        chunk = uids[i:i + _CHUNK].tolist()
        rows += cur.execute(sql.format(where=f"{key} IN ({','.join('?' * len(chunk))})"), [*params, *chunk]).fetchall()
    return rows


def metadata_rows(conn: sqlite3.Connection, uids: np.ndarray) -> list[tuple]:
    """Plain tuples of METADATA_COLUMNS (time_source as 1 for 'exif', else 0; NULL as None) for the
    sorted unique photo ids `uids`; rows of other ids may come back too (match on the id)."""
    return _rows_by_id(conn, f"SELECT {METADATA_SELECT} FROM photos WHERE {{where}}", "id", uids)


def feature_vector_rows(conn: sqlite3.Connection, uids: np.ndarray, schema: str) -> list[tuple]:
    """(photo_id, vector bytes) stored under `schema` for the sorted unique photo ids `uids`; rows of
    other ids may come back too (match on the id)."""
    return _rows_by_id(conn, "SELECT photo_id, vector FROM photo_features WHERE schema = ? AND {where}",
                       "photo_id", uids, (schema,))


def session_members(conn: sqlite3.Connection, session_ids: list[int]) -> np.ndarray:
    """Every photo of the given sessions as int64 rows (session_id, photo_id), by session, then capture
    time, then id."""
    cur = plain_cursor(conn)
    parts = []
    for i in range(0, len(session_ids), _CHUNK):
        chunk = session_ids[i:i + _CHUNK]
        cur.execute(f"SELECT session_id, id FROM photos WHERE session_id IN ({','.join('?' * len(chunk))})"
                    " ORDER BY session_id, capture_time, id", chunk)
        parts.append(np.fromiter(itertools.chain.from_iterable(cur), np.int64).reshape(-1, 2))
    return np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)


def missing_feature_ids(conn: sqlite3.Connection, schema: str, role: str | None = None) -> list[int]:
    """Photos (status ok, of `role` if given) without features of `schema` for their current bytes, by id."""
    sql = ("SELECT p.id FROM photos p LEFT JOIN photo_features f ON f.photo_id = p.id"
           " WHERE p.status = 'ok' AND (f.photo_id IS NULL OR f.schema IS NOT ?"
           " OR f.source_sha256 IS NOT p.sha256)")
    params: list = [schema]
    if role:
        sql += " AND p.role = ?"
        params.append(role)
    return [r[0] for r in conn.execute(sql + " ORDER BY p.id", params)]


def put_feature_vectors(conn: sqlite3.Connection, schema: str,
                        rows: Iterable[tuple[int, bytes, str | None]]) -> None:
    """Store (photo_id, vector bytes, source_sha256) rows under `schema`, replacing what a photo had,
    in one transaction."""
    with transaction(conn):
        conn.executemany(
            "INSERT INTO photo_features(photo_id, schema, vector, source_sha256) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(photo_id) DO UPDATE SET schema = excluded.schema, vector = excluded.vector,"
            " source_sha256 = excluded.source_sha256, computed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            [(pid, schema, vec, sha) for pid, vec, sha in rows],
        )


def featured_photo_ids(conn: sqlite3.Connection, schema: str, role: str | None = None) -> list[int]:
    """Photos (of `role` if given) with a feature vector stored under `schema`, by id."""
    sql = "SELECT f.photo_id FROM photo_features f JOIN photos p ON p.id = f.photo_id WHERE f.schema = ?"
    params: list = [schema]
    if role:
        sql += " AND p.role = ?"
        params.append(role)
    return [r[0] for r in plain_cursor(conn).execute(sql + " ORDER BY f.photo_id", params)]


def replace_vectors(conn: sqlite3.Connection, schema: str, rows: Iterable[tuple[int, bytes]]) -> None:
    """Replace the stored vector bytes of (photo_id, vector bytes) rows under `schema` (their source
    and time of measurement unchanged), in one transaction."""
    with transaction(conn):
        conn.executemany("UPDATE photo_features SET vector = ? WHERE photo_id = ? AND schema = ?",
                         [(vec, pid, schema) for pid, vec in rows])
