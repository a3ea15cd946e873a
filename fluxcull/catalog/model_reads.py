"""What the keeper model reads from the catalog: its corpus, the photos a scoring pass covers, the
sessions a batch of photos belongs to. Plain rows; the model turns them into arrays."""

from __future__ import annotations

import json
import sqlite3

_IDS = "SELECT value FROM json_each(?)"  # a list of ids bound as one JSON parameter


def _ids_param(ids) -> str:
    return json.dumps(sorted({int(i) for i in ids}))


def session_ids_of(conn: sqlite3.Connection, photo_ids) -> set:
    """The session ids (None for photos without one) of the given photos."""
    return {r[0] for r in conn.execute(f"SELECT DISTINCT session_id FROM photos WHERE id IN ({_IDS})",
                                       (_ids_param(photo_ids),))}


def corpus_rows(conn: sqlite3.Connection, sessions=None) -> list[tuple]:
    """(id, role, session_id, capture_time, decision) of every ok original and inbox photo, by id;
    with `sessions` (session ids), only the photos of those sessions."""
    sql = ("SELECT id, role, session_id, capture_time, decision FROM photos"
           " WHERE status = 'ok' AND role IN ('originals', 'inbox')")
    params: list = []
    if sessions is not None:
        sql += f" AND session_id IN ({_IDS})"
        params.append(_ids_param(sessions))
    return conn.execute(sql + " ORDER BY id", params).fetchall()


def embedding_index(conn: sqlite3.Connection, backbone_id: str) -> list[tuple]:
    """(photo_id, row, checksum, -1 when none was recorded) of every stored vector of a backbone,
    by photo id."""
    return conn.execute("SELECT photo_id, row, COALESCE(checksum, -1) FROM embedding_rows WHERE backbone_id = ?"
                        " ORDER BY photo_id", (backbone_id,)).fetchall()


def scoring_rows(conn: sqlite3.Connection, photo_ids=None) -> list[tuple]:
    """(id, role, status, decision) of every photo (or of the given ones), by id."""
    if photo_ids is None:
        return conn.execute("SELECT id, role, status, decision FROM photos ORDER BY id").fetchall()
    return conn.execute(f"SELECT id, role, status, decision FROM photos WHERE id IN ({_IDS}) ORDER BY id",
                        (_ids_param(photo_ids),)).fetchall()


def role_photo_ids(conn: sqlite3.Connection, role: str) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM photos WHERE role = ? ORDER BY id", (role,))]
