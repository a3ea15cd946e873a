"""Which originals are confirmed keepers: those with an accepted (not in review) keeper link."""

from __future__ import annotations

import sqlite3


def confirmed_keeper_ids(conn: sqlite3.Connection) -> set[int]:
    return {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT original_id FROM keeper_links WHERE original_id IS NOT NULL AND needs_review = 0"
        )
    }
