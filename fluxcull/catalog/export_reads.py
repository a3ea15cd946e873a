"""What an export reads from the catalog: the photos it carries out, with their decision, score and
session, and where the photographer's photos live (so an export never writes among them).

Plain rows; fluxcull.interop turns them into XMP sidecars and exported files.
"""

from __future__ import annotations

import os
import sqlite3

from fluxcull.catalog.queries import PhotoQuery

EXPORT_COLUMNS = ("id", "path", "role", "size", "mtime_ns", "sha256", "taken_at", "capture_time", "session_id",
                  "keeper_score", "decision", "status", "rating", "color_label")


def export_rows(conn: sqlite3.Connection, query: PhotoQuery, decisions: tuple[str, ...] | None = None,
                min_score: float | None = None, marked: bool = False) -> list[dict]:
    """The photos a query selects (of these stored decisions, or with `marked` also those with stars or
    a colour label; scored at least `min_score`), ordered by id, each with EXPORT_COLUMNS, `linked` (the
    original of an accepted keeper link: a confirmed keeper) and `session_start_at` (its session's
    first capture time, camera clock)."""
    where, params = query.where(conn)
    clauses = [where[len(" WHERE "):]] if where else []
    if decisions is not None:
        either = " OR rating > 0 OR color_label IS NOT NULL" if marked else ""
        clauses.append("(decision IN (%s)%s)" % (",".join("?" * len(decisions)), either))
        params += list(decisions)
    if min_score is not None:
        clauses.append("keeper_score >= ?")
        params.append(float(min_score))
    cols = ", ".join(f"p.{c}" for c in EXPORT_COLUMNS)
    inner = f"SELECT * FROM photos WHERE {' AND '.join(clauses)}" if clauses else "SELECT * FROM photos"
    sql = (f"SELECT {cols}, EXISTS (SELECT 1 FROM keeper_links k WHERE k.original_id = p.id AND k.needs_review = 0),"
           f" s.start_at FROM ({inner}) AS p LEFT JOIN sessions s ON s.id = p.session_id")
    out = []
    for r in conn.execute(sql + " ORDER BY p.id", params):
        d = dict(zip(EXPORT_COLUMNS, r))
        d["linked"] = bool(r[len(EXPORT_COLUMNS)])
        d["session_start_at"] = r[len(EXPORT_COLUMNS) + 1]
        out.append(d)
    return out


def role_roots(conn: sqlite3.Connection) -> dict[str, str]:
    """Per role, the deepest folder holding every photo of that role (from the lowest and the highest
    path: their common prefix is every path's). Roles without photos are left out."""
    out = {}
    for role, lo, hi in conn.execute("SELECT role, MIN(path), MAX(path) FROM photos GROUP BY role"):
        common = os.path.commonpath([os.path.dirname(lo), os.path.dirname(hi)])
        out[role] = common
    return out


def has_photos_under(conn: sqlite3.Connection, folder: str) -> bool:
    """Whether a catalogued photo (any role or status) lies in `folder` or below it."""
    prefix = folder.rstrip(os.sep) + os.sep
    return conn.execute("SELECT 1 FROM photos WHERE path >= ? AND path < ? LIMIT 1",
                        (prefix, prefix[:-1] + chr(ord(os.sep) + 1))).fetchone() is not None
