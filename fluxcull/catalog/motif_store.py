"""Motifs in the catalog (tables `motifs`, `motif_members`; fluxcull.insights.motifs clusters them):
read the stored motifs, replace them after a re-clustering (ids kept where the caller matched
them), store their keeper rates, name one; `MEMBER_SQL`, the `motif=ID` find filter's condition."""

from __future__ import annotations

import sqlite3

from fluxcull.catalog.db import transaction

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
# a photo of the motif (bound: the motif id), on the unqualified columns of `photos` (PhotoQuery.motif)
MEMBER_SQL = "id IN (SELECT photo_id FROM motif_members WHERE motif_id = ?)"


def members(conn: sqlite3.Connection) -> dict[int, set[int]]:
    """motif id -> its member photo ids."""
    out: dict[int, set[int]] = {m: set() for (m,) in conn.execute("SELECT id FROM motifs")}
    for m, p in conn.execute("SELECT motif_id, photo_id FROM motif_members"):
        out.setdefault(m, set()).add(p)
    return out


def motifs(conn: sqlite3.Connection) -> list[dict]:
    """Every stored motif: id, name, members (photo ids), medoids (photo ids, most typical first),
    assigned (originals assigned to it when it was clustered; None before migration 0021's columns were
    filled) and assigned_keepers (the keepers among them)."""
    out = {r[0]: {"id": r[0], "name": r[1], "members": [], "medoids": [], "assigned": r[2], "assigned_keepers": r[3]}
           for r in conn.execute("SELECT id, name, assigned, assigned_keepers FROM motifs ORDER BY id")}
    for m, p, med in conn.execute("SELECT motif_id, photo_id, medoid FROM motif_members ORDER BY motif_id, photo_id"):
        out[m]["members"].append(p)
        if med:
            out[m]["medoids"].append((med, p))
    for m in out.values():
        m["medoids"] = [p for _, p in sorted(m["medoids"])]
    return list(out.values())


def replace(conn: sqlite3.Connection, clusters: list[tuple[int | None, list[int], list[int]]]) -> list[int]:
    """Store the motifs of a clustering: (existing id to keep or None for a new motif, member photo
    ids, medoid photo ids). Motifs not kept are deleted. Returns the ids, in order. One transaction."""
    keep = {c[0] for c in clusters if c[0] is not None}
    ids = []
    with transaction(conn):
        for (old,) in conn.execute("SELECT id FROM motifs").fetchall():
            if old not in keep:
                conn.execute("DELETE FROM motifs WHERE id = ?", (old,))
        conn.execute("DELETE FROM motif_members")
        for old, mem, medoids in clusters:
            if old is None:
                old = conn.execute("INSERT INTO motifs DEFAULT VALUES").lastrowid
            else:
                conn.execute(f"UPDATE motifs SET updated_at = {_NOW} WHERE id = ?", (old,))
            rank = {int(p): k for k, p in enumerate(medoids, 1)}
            conn.executemany("INSERT INTO motif_members(motif_id, photo_id, medoid) VALUES (?, ?, ?)",
                             [(old, int(p), rank.get(int(p), 0)) for p in mem])
            ids.append(int(old))
    return ids


def set_rates(conn: sqlite3.Connection, rates: list[tuple[int, int, int]]) -> None:
    """Store (motif id, originals assigned, keepers among them) of a clustering. One transaction."""
    with transaction(conn):
        conn.executemany("UPDATE motifs SET assigned = ?, assigned_keepers = ? WHERE id = ?",
                         [(int(n), int(k), int(m)) for m, n, k in rates])


def rename(conn: sqlite3.Connection, motif_id: int, name: str | None) -> bool:
    """Name a motif (None or '' clears it); False when there is no such motif. Own transaction."""
    with transaction(conn):
        cur = conn.execute(f"UPDATE motifs SET name = ?, updated_at = {_NOW} WHERE id = ?",
                           (name or None, int(motif_id)))
    return cur.rowcount > 0
