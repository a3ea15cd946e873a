"""What `fluxcull doctor` asks of the catalog file itself: SQLite's integrity check and the schema
version it is at (the embedding index's checks and repairs are in catalog/embedding_index.py)."""

from __future__ import annotations

import sqlite3


def integrity_check(conn: sqlite3.Connection) -> list[str]:
    """`PRAGMA integrity_check`'s lines: ['ok'] for a sound catalog, else what is wrong."""
    return [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version the catalog is at (its PRAGMA user_version: the last migration applied)."""
    return conn.execute("PRAGMA user_version").fetchone()[0]
