"""The embedding stores' index in the catalog: the backbones (table `backbones`) and, per backbone,
which row of its vector file holds which photo's embedding (table `embedding_rows`: row, the
SHA-256 of the bytes embedded, the CRC-32 of the stored vector). Also what `embed` reads of the
photos it works on.

The vectors themselves, and the rules (row allocation, checks, the verified stamp), live in
fluxcull.embedding.store. Writes run inside the caller's `transaction(conn)` unless a function says it
opens its own: the store allocates rows and writes vectors inside one write transaction.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable

from fluxcull.catalog.db import plain_cursor, transaction
from fluxcull.catalog.settings import read_text

_CHUNK = 500  # ids per IN (...) query
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def _marks(n: int) -> str:
    return ",".join("?" * n)


# -- backbones -------------------------------------------------------------------------------------
def backbone_dim(conn: sqlite3.Connection, backbone_id: str) -> int | None:
    """The vector width a backbone is stored with; None for a backbone with no store."""
    row = conn.execute("SELECT dim FROM backbones WHERE id = ?", (backbone_id,)).fetchone()
    return None if row is None else row[0]


def add_backbone(conn: sqlite3.Connection, backbone_id: str, name: str, version: str, dim: int,
                 input_policy: str) -> None:
    """Record a backbone (in its own transaction; nothing changes when it is recorded already)."""
    with transaction(conn):
        conn.execute(
            "INSERT OR IGNORE INTO backbones(id, name, version, dim, input) VALUES (?, ?, ?, ?, ?)",
            (backbone_id, name, version, dim, input_policy),
        )


def backbone_ids(conn: sqlite3.Connection) -> list[str]:
    """Every backbone with a store, by id."""
    return [r[0] for r in conn.execute("SELECT id FROM backbones ORDER BY id").fetchall()]


def active_backbone_id(conn: sqlite3.Connection) -> str | None:
    """The backbone chosen in the library settings, else the one with most stored embeddings."""
    chosen = read_text(conn, "backbone")
    if chosen is not None:
        return chosen
    row = conn.execute(
        "SELECT backbone_id FROM embedding_rows GROUP BY backbone_id ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None


# -- the index: reads ------------------------------------------------------------------------------
def row_count(conn: sqlite3.Connection, backbone_id: str) -> int:
    return conn.execute("SELECT COUNT(*) FROM embedding_rows WHERE backbone_id = ?", (backbone_id,)).fetchone()[0]


def ids_and_rows(conn: sqlite3.Connection, backbone_id: str, *, checksums: bool = False) -> list[tuple]:
    """Every (photo_id, row) of a backbone, by photo id; with `checksums`, (photo_id, row, checksum)
    with -1 where none was recorded (stored before checksums)."""
    cols = "photo_id, row" + (", COALESCE(checksum, -1)" if checksums else "")
    return plain_cursor(conn).execute(
        f"SELECT {cols} FROM embedding_rows WHERE backbone_id = ? ORDER BY photo_id", (backbone_id,)
    ).fetchall()


def index_rows(conn: sqlite3.Connection, backbone_id: str) -> list[tuple[int, int, int | None]]:
    """Every (photo_id, row, checksum) of a backbone, by row (checksum None: stored before checksums)."""
    return conn.execute(
        "SELECT photo_id, row, checksum FROM embedding_rows WHERE backbone_id = ? ORDER BY row", (backbone_id,)
    ).fetchall()


def index_state(conn: sqlite3.Connection, backbone_id: str) -> tuple:
    """(row count, last row, checksum sum, newest write) of a backbone's index: changes whenever it does."""
    return tuple(conn.execute(
        "SELECT COUNT(*), MAX(row), SUM(checksum), MAX(created_at) FROM embedding_rows WHERE backbone_id = ?",
        (backbone_id,),
    ).fetchone())


def rows_of(conn: sqlite3.Connection, backbone_id: str, photo_ids: list[int]) -> dict[int, tuple[int, int | None]]:
    """photo id -> (row, checksum) of the given photos that have one (one query: a write's photos)."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        f"SELECT photo_id, row, checksum FROM embedding_rows WHERE backbone_id = ? AND photo_id IN ({_marks(len(photo_ids))})",
        [backbone_id, *photo_ids])}


def row_map(conn: sqlite3.Connection, backbone_id: str, photo_ids: list[int]) -> dict[int, int]:
    """photo id -> row of the given photos that have one."""
    out: dict[int, int] = {}
    for i in range(0, len(photo_ids), _CHUNK):
        chunk = photo_ids[i:i + _CHUNK]
        out.update(conn.execute(
            f"SELECT photo_id, row FROM embedding_rows WHERE backbone_id = ? AND photo_id IN ({_marks(len(chunk))})",
            [backbone_id, *chunk],
        ).fetchall())
    return out


def next_row(conn: sqlite3.Connection, backbone_id: str) -> int:
    """The row after the last indexed one (0 for an empty store)."""
    return conn.execute(
        "SELECT COALESCE(MAX(row) + 1, 0) FROM embedding_rows WHERE backbone_id = ?", (backbone_id,)
    ).fetchone()[0]


def rows_without_checksum(conn: sqlite3.Connection, backbone_id: str, below_row: int) -> list[tuple[int, int]]:
    """(photo_id, row) of the rows stored before checksums whose row lies before `below_row`."""
    return conn.execute(
        "SELECT photo_id, row FROM embedding_rows WHERE backbone_id = ? AND checksum IS NULL AND row < ?",
        (backbone_id, below_row),
    ).fetchall()


def photos_without_embedding(conn: sqlite3.Connection, backbone_id: str, role: str | None = None) -> set[int]:
    """Photos (status ok, of `role` if given) with no index row, or one for other bytes than theirs now."""
    sql = (
        "SELECT p.id FROM photos p LEFT JOIN embedding_rows e"
        " ON e.photo_id = p.id AND e.backbone_id = ?"
        " WHERE p.status = 'ok' AND (e.photo_id IS NULL OR e.source_sha256 IS NOT p.sha256)"
    )
    params: list = [backbone_id]
    if role:
        sql += " AND p.role = ?"
        params.append(role)
    return {r[0] for r in conn.execute(sql, params)}


# -- the index: writes (inside the caller's transaction) -------------------------------------------
def put_rows(conn: sqlite3.Connection, backbone_id: str,
             rows: Iterable[tuple[int, int, str | None, int]]) -> None:
    """Index (photo_id, row, source_sha256, checksum) rows, replacing a photo's earlier row."""
    conn.executemany(
        "INSERT INTO embedding_rows(backbone_id, photo_id, row, source_sha256, checksum) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(backbone_id, photo_id) DO UPDATE SET row = excluded.row,"
        " source_sha256 = excluded.source_sha256, checksum = excluded.checksum,"
        f" created_at = {_NOW}",
        [(backbone_id, pid, r, sha, c) for pid, r, sha, c in rows],
    )


def drop_rows(conn: sqlite3.Connection, backbone_id: str, photo_ids: list[int]) -> None:
    """Remove the given photos' index rows (their vectors are computed again by the next embed)."""
    for i in range(0, len(photo_ids), _CHUNK):
        chunk = photo_ids[i:i + _CHUNK]
        conn.execute(f"DELETE FROM embedding_rows WHERE backbone_id = ? AND photo_id IN ({_marks(len(chunk))})",
                     [backbone_id, *chunk])


def set_checksums(conn: sqlite3.Connection, backbone_id: str, sums: Iterable[tuple[int, int]]) -> None:
    """(checksum, photo_id) pairs: record the checksums of rows stored before checksums."""
    conn.executemany("UPDATE embedding_rows SET checksum = ? WHERE backbone_id = ? AND photo_id = ?",
                     [(c, backbone_id, pid) for c, pid in sums])


# -- the photos embed works on ---------------------------------------------------------------------
def ok_photo_ids(conn: sqlite3.Connection, photo_ids: list[int], role: str | None = None) -> list[int]:
    """Those of the given photos whose status is ok (and of `role` when given)."""
    out = []
    for i in range(0, len(photo_ids), _CHUNK):
        chunk = photo_ids[i:i + _CHUNK]
        sql = f"SELECT id FROM photos WHERE status = 'ok' AND id IN ({_marks(len(chunk))})"
        params = list(chunk)
        if role:
            sql += " AND role = ?"
            params.append(role)
        out += [r[0] for r in conn.execute(sql, params)]
    return out


def count_ok_photos(conn: sqlite3.Connection, role: str | None = None) -> int:
    """Photos with status ok (of `role` when given)."""
    return conn.execute(
        "SELECT COUNT(*) FROM photos WHERE status = 'ok'" + (" AND role = ?" if role else ""),
        (role,) if role else (),
    ).fetchone()[0]


def photo_sources(conn: sqlite3.Connection, photo_ids: list[int]) -> dict[int, tuple[str, str | None, str | None]]:
    """photo id -> (path, thumb_key, sha256) of the given photos that exist."""
    rows: dict[int, tuple] = {}
    for i in range(0, len(photo_ids), _CHUNK):
        chunk = photo_ids[i:i + _CHUNK]
        for r in conn.execute(f"SELECT id, path, thumb_key, sha256 FROM photos WHERE id IN ({_marks(len(chunk))})",
                              chunk):
            rows[r[0]] = (r[1], r[2], r[3])
    return rows
