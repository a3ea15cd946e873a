"""RAW+JPEG pairs in the catalog: the rows pairing reads, the `photos.pair_of` links it writes (with
what a new pair brings along), and the reads of pairs the CLI shows.

The rule that decides which files pair (folder, stem, formats, capture time) lives in
fluxcull.ingest.pairs; these are the statements. The RAW file of a pair (the secondary) points at
its JPEG or HEIF (the primary), which stands for the pair everywhere: the RAW is hidden from the
grid and the counts, belongs to no session of its own, takes its JPEG's decisions
(fluxcull.catalog.decisions) and score (fluxcull.catalog.score_writes.copy_pair_scores).
"""

from __future__ import annotations

import sqlite3
from typing import Iterable

from fluxcull.catalog.db import plain_cursor, transaction
from fluxcull.catalog.decisions import align_pair
from fluxcull.catalog.ingest_store import under_root
from fluxcull.catalog.score_writes import copy_pair_scores, secondary_ids, sync_confirmed_scores

__all__ = ["pair_rows_under", "set_pairs", "pairs_of", "secondary_ids", "count_pairs", "unit_of"]

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def pair_rows_under(conn: sqlite3.Connection, root: str) -> list[tuple]:
    """Plain tuples (id, path, role, status, capture_time, time_source, pair_of) of every photo at or
    below `root` (tuples: several times cheaper than sqlite3.Row for a whole library)."""
    cond, params = under_root(root)
    return plain_cursor(conn).execute(
        f"SELECT id, path, role, status, capture_time, time_source, pair_of FROM photos WHERE {cond}", params
    ).fetchall()


def set_pairs(conn: sqlite3.Connection, joined: Iterable[tuple[int, int]], parted: Iterable[int]) -> None:
    """Store new pairs, as (secondary, primary), and part the secondaries `parted`, in one transaction.

    A new pair brings along: the RAW leaves its session (the pair is in its JPEG's); keeper links to
    the RAW now link to the pair's JPEG (the photo unit); files decided apart get one decision
    (`align_pair`); the RAW takes its JPEG's score. A parted RAW keeps its decision and score until
    the next scoring pass and rejoins a session when sessions are regrouped.
    """
    joined, parted = list(joined), list(parted)
    if not joined and not parted:
        return
    with transaction(conn):
        conn.executemany(f"UPDATE photos SET pair_of = NULL, updated_at = {_NOW} WHERE id = ?",
                         [(s,) for s in parted])
        conn.executemany(f"UPDATE photos SET pair_of = ?, session_id = NULL, updated_at = {_NOW} WHERE id = ?",
                         [(p, s) for s, p in joined])
        relinked: set[int] = set()
        for sec, prim in joined:
            if conn.execute("UPDATE keeper_links SET original_id = ? WHERE original_id = ?", (prim, sec)).rowcount:
                relinked.update((sec, prim))
            align_pair(conn, prim, sec)
        if relinked:
            sync_confirmed_scores(conn, relinked)
        copy_pair_scores(conn, [p for _, p in joined])


def count_pairs(conn: sqlite3.Connection, roots: Iterable[str]) -> int:
    """How many RAW+JPEG pairs have their RAW file at or below any of `roots`."""
    ids: set[int] = set()
    for root in roots:
        cond, params = under_root(root)
        ids.update(r[0] for r in conn.execute(f"SELECT id FROM photos WHERE pair_of IS NOT NULL AND {cond}", params))
    return len(ids)


def pairs_of(conn: sqlite3.Connection, photo_ids: Iterable[int]) -> dict[int, dict]:
    """For each of these photos that belongs to a pair (either file): {raw, jpeg, raw_id, jpeg_id}
    (`jpeg` is the pair's JPEG or HEIF: the primary)."""
    ids = sorted({int(i) for i in photo_ids})
    out: dict[int, dict] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT s.id, s.path, p.id, p.path FROM photos s JOIN photos p ON p.id = s.pair_of"
            f" WHERE s.id IN ({marks}) OR s.pair_of IN ({marks})", chunk + chunk,
        ).fetchall()
        for sid, spath, pid, ppath in rows:
            pair = {"raw": spath, "jpeg": ppath, "raw_id": sid, "jpeg_id": pid}
            out[sid] = out[pid] = pair
    return {i: out[i] for i in ids if i in out}


def unit_of(conn: sqlite3.Connection, photo_id: int) -> int:
    """The photo that stands for `photo_id`: its JPEG where it is the RAW file of a pair, else itself."""
    row = conn.execute("SELECT pair_of FROM photos WHERE id = ?", (int(photo_id),)).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else int(photo_id)
