"""The keeper model's versions in the catalog (table `model_versions`): one row per saved version
(kind, backbone, feature schema, folder name under the library's models/, metrics and training
summary as JSON), and which one is active.

The files of a version, and decoding its row, live in fluxcull.keeper.models_store. `insert_version`
and `set_active` run inside the caller's `transaction(conn)`.
"""

from __future__ import annotations

import sqlite3


def insert_version(conn: sqlite3.Connection, kind: str, backbone_id: str, feature_schema: str, path: str,
                   metrics_json: str, training_json: str) -> int:
    """Add a version's row (inactive); returns its id."""
    cur = conn.execute(
        "INSERT INTO model_versions(kind, backbone_id, feature_schema, path, metrics, training)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (kind, backbone_id, feature_schema, path, metrics_json, training_json),
    )
    return int(cur.lastrowid)


def version_exists(conn: sqlite3.Connection, version_id: int) -> bool:
    return conn.execute("SELECT 1 FROM model_versions WHERE id = ?", (version_id,)).fetchone() is not None


def set_active(conn: sqlite3.Connection, version_id: int) -> None:
    """Make `version_id` the only active version (two statements: run inside one transaction)."""
    conn.execute("UPDATE model_versions SET active = 0 WHERE active = 1 AND id != ?", (version_id,))
    conn.execute(
        "UPDATE model_versions SET active = 1, activated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')"
        " WHERE id = ?",
        (version_id,),
    )


def active_version_id(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT id FROM model_versions WHERE active = 1").fetchone()
    return int(row[0]) if row else None


def version_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every version's row, by id (metrics and training still JSON text)."""
    return conn.execute("SELECT * FROM model_versions ORDER BY id").fetchall()


def version_row(conn: sqlite3.Connection, version_id: int) -> sqlite3.Row | None:
    """One version's row (metrics and training still JSON text); None where there is none."""
    return conn.execute("SELECT * FROM model_versions WHERE id = ?", (version_id,)).fetchone()
