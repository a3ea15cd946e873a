"""The grid's ids query: the photos a query's filters select with stacks collapsed where it asks
(`PhotoQuery.stacks`, `toggled`): of each collapsed stack (two frames or more) only its top frame
among the frames the filters select (fluxcull.catalog.queries.STACK_TOP_ORDER), decided in SQL by a
correlated subquery on the partial index photos_stacked (migration 0018), and the row count without
listing the rows. What `Catalog.photo_ids` and `count_photos` run."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

from fluxcull.catalog.db import plain_cursor
from fluxcull.catalog.queries import STACK_TOP_ORDER, UNITS_SQL, PhotoQuery


def visible(conn: sqlite3.Connection, q: PhotoQuery) -> tuple[str, list[Any]]:
    """The WHERE clause of the rows the grid shows: the filters and, of each collapsed stack (two
    frames or more), only its top frame among the frames the filters select. The top frame is
    found by a correlated subquery on the index photos_stacked, so a first page of a 400,000-photo
    catalog costs one index step per row it reads."""
    where, params = q.where(conn)
    collapsed = q.collapsed()
    if not collapsed and not q.toggled:
        return where, params
    clauses, inner = q.clauses(conn)
    top = ("SELECT q.id FROM photos AS q INDEXED BY photos_stacked WHERE q.stack_id = photos.stack_id"
           " AND q.stack_size > 1" + "".join(f" AND {c}" for c in clauses) +
           f" ORDER BY {', '.join('q.' + t for t in STACK_TOP_ORDER.split(', '))} LIMIT 1")
    whole = "IN" if collapsed else "NOT IN"  # the stacks shown whole
    shown = (f"(stack_size IS NULL OR stack_size < 2 OR stack_id {whole} (SELECT value FROM json_each(?))"
             f" OR id = ({top}))")
    return (where + " AND " if where else " WHERE ") + shown, params + [q.toggled_json()] + inner


def photo_ids(conn: sqlite3.Connection, q: PhotoQuery, limit: int | None = None) -> list[int]:
    """The ordered ids a query shows (what the grid model holds; stacks collapsed where asked), the
    first `limit` of them where given."""
    where, params = visible(conn, _stacked(conn, q))
    sql = f"SELECT id FROM photos{where} ORDER BY {q.order_by()}"
    if limit is not None:
        sql += " LIMIT ?"
        params = params + [int(limit)]
    return [r[0] for r in plain_cursor(conn).execute(sql, params)]


def count_visible(conn: sqlite3.Connection, q: PhotoQuery) -> int:
    """How many rows `photo_ids` gives, counted without listing them: stacks collapsed, the photos
    the filters select less the frames of collapsed stacks, plus one per such stack."""
    q = _stacked(conn, q)
    clauses, params = q.clauses(conn)
    # the units condition (no parameter) last: SQLite then counts on a partial grid index from
    # `status = ?` instead of scanning the table (400,000 photos: about 60 ms against 190)
    clauses = [c for c in clauses if c != UNITS_SQL] + [c for c in clauses if c == UNITS_SQL]
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    n = int(conn.execute(f"SELECT COUNT(*) FROM photos{where}", params).fetchone()[0])
    collapsed = q.collapsed()
    if not collapsed and not q.toggled:
        return n
    clauses, params = q.clauses(conn)
    # the frames of collapsed stacks alone, from the partial index (a session's few from the session index)
    hint = "" if q.session_id is not None else " INDEXED BY photos_stacked"
    folded = "NOT IN" if collapsed else "IN"
    frames, stacks = conn.execute(
        f"SELECT COALESCE(SUM(k), 0), COUNT(*) FROM (SELECT COUNT(*) AS k FROM photos{hint} WHERE stack_size > 1"
        f" AND stack_id {folded} (SELECT value FROM json_each(?))" + "".join(f" AND {c}" for c in clauses) +
        " GROUP BY stack_id)", [q.toggled_json()] + params).fetchone()
    return n - int(frames) + int(stacks)


def _stacked(conn: sqlite3.Connection, q: PhotoQuery) -> PhotoQuery:
    """`q`, or, in a catalog without a stack of two frames, `q` showing every photo (one index probe
    spares the collapsing clause, which reads each row's stack, on a library never stacked)."""
    if not (q.collapsed() or q.toggled):
        return q
    if conn.execute("SELECT 1 FROM photos INDEXED BY photos_stacked WHERE stack_size > 1 LIMIT 1").fetchone():
        return q
    return replace(q, stacks="all", toggled=())
