"""What the keeper model reads from the catalog: its corpus, the photos a scoring pass covers, the
sessions a batch of photos belongs to. Plain rows; the model turns them into arrays."""

from __future__ import annotations

import json
import sqlite3

import numpy as np

from fluxcull.catalog.db import plain_cursor
from fluxcull.catalog.features_store import METADATA_COLUMNS, METADATA_SELECT
from fluxcull.catalog.scores import FAILURE_WORDS

_IDS = "SELECT value FROM json_each(?)"  # a list of ids bound as one JSON parameter


def _ids_param(ids) -> str:
    return json.dumps(sorted({int(i) for i in ids}))


def session_ids_of(conn: sqlite3.Connection, photo_ids) -> set:
    """The session ids (None for photos without one) of the given photos."""
    return {r[0] for r in conn.execute(f"SELECT DISTINCT session_id FROM photos WHERE id IN ({_IDS})",
                                       (_ids_param(photo_ids),))}


ROLES = ("originals", "inbox", "keepers")   # role codes of the array reads: the index in this tuple
STATUSES = ("ok", "error", "missing")
DECISIONS = ("none", "keep", "reject")
FAILURES = tuple(FAILURE_WORDS)  # photos.failure codes (NULL: -1)
PHOTO_ROW_WIDTH = 9 + len(METADATA_COLUMNS) - 1
PHOTO_ROW_METADATA = [0, *range(9, PHOTO_ROW_WIDTH)]  # photo_rows columns that make METADATA_COLUMNS


def _code(column: str, values: tuple[str, ...]) -> str:
    """SQL giving the index of column's value in `values` (-1 for anything else)."""
    return "CASE " + column + "".join(f" WHEN '{v}' THEN {i}" for i, v in enumerate(values)) + " ELSE -1 END"


def _array(rows: list[tuple], width: int) -> np.ndarray:
    """Rows of numbers (NULL -> NaN) as one float64 array: one C-level conversion, no per-column loops."""
    return np.array(rows, np.float64).reshape(-1, width)


def corpus_rows(conn: sqlite3.Connection, sessions=None) -> np.ndarray:
    """float64 (n x 5): id, role code (ROLES), session_id (NaN: none), capture_time (NaN: unknown),
    decision code (DECISIONS) of every ok original and inbox photo, by id; with `sessions`
    (session ids), only the photos of those sessions."""
    cols = f"id, {_code('role', ROLES)}, session_id, capture_time, {_code('decision', DECISIONS)}"
    if sessions is None:  # most photos qualify: a scan in id order beats the index and a sort
        sql = f"SELECT {cols} FROM photos WHERE +status = 'ok' AND +role IN ('originals', 'inbox') ORDER BY id"
        return _array(plain_cursor(conn).execute(sql).fetchall(), 5)
    sql = (f"SELECT {cols} FROM photos WHERE status = 'ok' AND role IN ('originals', 'inbox')"
           f" AND session_id IN ({_IDS}) ORDER BY id")
    return _array(plain_cursor(conn).execute(sql, (_ids_param(sessions),)).fetchall(), 5)


def rated_photos(conn: sqlite3.Connection) -> np.ndarray:
    """int64 (n x 2): id and stars (1-5) of every photo with stars, by id (the partial index photos_rated)."""
    rows = plain_cursor(conn).execute("SELECT id, rating FROM photos WHERE rating > 0 ORDER BY id").fetchall()
    return np.array(rows, np.int64).reshape(-1, 2)


def photo_rows(conn: sqlite3.Connection) -> np.ndarray:
    """float64 (n x PHOTO_ROW_WIDTH), by id, every photo: id, role code, status code, decision code,
    session_id (NaN: none), capture_time (NaN: unknown), keeper_score, base_score (NaN: NULL), failure
    code (FAILURES; -1 none), then features_store.METADATA_COLUMNS after the id (time_source as 1 /
    0). What a whole-library scoring pass reads (its corpus, the metadata features, its scoring rows
    and the stored scores it need not write again) in one scan."""
    cols = (f"id, {_code('role', ROLES)}, {_code('status', STATUSES)}, {_code('decision', DECISIONS)},"
            f" session_id, capture_time, keeper_score, base_score, {_code('failure', FAILURES)},"
            f" {METADATA_SELECT.partition(', ')[2]}")
    return _array(plain_cursor(conn).execute(f"SELECT {cols} FROM photos ORDER BY id").fetchall(), PHOTO_ROW_WIDTH)


def scoring_rows(conn: sqlite3.Connection, photo_ids=None) -> np.ndarray:
    """float64 (n x 4): id, role code (ROLES), status code (STATUSES), decision code (DECISIONS) of
    every photo (or of the given ones), by id."""
    cols = f"id, {_code('role', ROLES)}, {_code('status', STATUSES)}, {_code('decision', DECISIONS)}"
    if photo_ids is None:
        return _array(plain_cursor(conn).execute(f"SELECT {cols} FROM photos ORDER BY id").fetchall(), 4)
    return _array(plain_cursor(conn).execute(f"SELECT {cols} FROM photos WHERE id IN ({_IDS}) ORDER BY id",
                               (_ids_param(photo_ids),)).fetchall(), 4)


def role_photo_ids(conn: sqlite3.Connection, role: str) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM photos WHERE role = ? ORDER BY id", (role,))]
