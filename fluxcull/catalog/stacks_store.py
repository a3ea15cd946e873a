"""Stacks in the catalog: the bursts of fluxcull.keeper.bursts kept per photo (photos.stack_id,
stack_size, stack_position; migration 0018) with what each session group's stacks were computed from
(stack_groups), and the reads of `fluxcull stacks`, the grid's stack keys and the survey view.

The one writer is `write`, called by fluxcull.keeper.stacks (the stacks job); the frames of a stack
are ranked by queries.STACK_TOP_ORDER, the order a collapsed grid shows its top frame by.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Iterable

from fluxcull.catalog.db import transaction
from fluxcull.catalog.queries import STACK_TOP_ORDER

_IDS = "SELECT value FROM json_each(?)"


def _ids_param(ids: Iterable[int]) -> str:
    return json.dumps(sorted({int(i) for i in ids}))


if TYPE_CHECKING:
    import numpy as np


def stored(conn: sqlite3.Connection) -> "np.ndarray":
    """int64 (n x 5), by id: id, stack_id, stack_size, stack_position, session_id (-1: none) of every
    photo with a stack."""
    rows = conn.execute("SELECT id, stack_id, stack_size, stack_position, COALESCE(session_id, -1) FROM photos"
                        " WHERE stack_id IS NOT NULL ORDER BY id").fetchall()
    import numpy as np  # here: the window starts without numpy

    return np.array(rows, np.int64).reshape(-1, 5)


def group_signatures(conn: sqlite3.Connection) -> dict[int, int]:
    """Session group -> the signature its stacks were computed from."""
    return dict(conn.execute("SELECT group_id, signature FROM stack_groups").fetchall())


def write(conn: sqlite3.Connection, rows: Iterable[tuple[int, int, int, int]], clear: Iterable[int] = (),
          groups: Iterable[tuple[int, int]] = (), drop_groups: Iterable[int] = ()) -> None:
    """In one transaction: (photo id, stack id, size, position) rows, photos left without a stack
    (`clear`), the signatures of the groups these rows complete and the groups gone (`drop_groups`)."""
    with transaction(conn):
        conn.executemany("UPDATE photos SET stack_id = ?2, stack_size = ?3, stack_position = ?4 WHERE id = ?1",
                         ((int(a), int(b), int(c), int(d)) for a, b, c, d in rows))
        clear = list(clear)
        if clear:
            conn.execute("UPDATE photos SET stack_id = NULL, stack_size = NULL, stack_position = NULL"
                         f" WHERE id IN ({_IDS})", (_ids_param(clear),))
        drop = list(drop_groups)
        if drop:
            conn.execute(f"DELETE FROM stack_groups WHERE group_id IN ({_IDS})", (_ids_param(drop),))
        conn.executemany("INSERT INTO stack_groups(group_id, signature) VALUES (?, ?)"
                         " ON CONFLICT(group_id) DO UPDATE SET signature = excluded.signature",
                         ((int(g), int(s)) for g, s in groups))


def member_ids(conn: sqlite3.Connection, stack_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(stack id, photo id) of the frames of these stacks, by stack, best first (STACK_TOP_ORDER)."""
    return [tuple(r) for r in conn.execute(f"SELECT stack_id, id FROM photos WHERE stack_id IN ({_IDS})"
                                           f" ORDER BY stack_id, {STACK_TOP_ORDER}", (_ids_param(stack_ids),))]


def stack_of(conn: sqlite3.Connection, photo_ids: Iterable[int]) -> dict[int, int | None]:
    """Photo id -> its stack id (None: no stack), for the given photos."""
    return dict(conn.execute(f"SELECT id, stack_id FROM photos WHERE id IN ({_IDS})",
                             (_ids_param(photo_ids),)).fetchall())


def listing(conn: sqlite3.Connection, session_id: int | None = None) -> list[dict]:
    """Every stack of two or more frames (of one session), in capture order: stack_id, session_id,
    size, best (its top frame), taken_at (its first frame's), frames [{id, path, position,
    keeper_score, decision, status}] in capture order."""
    sql = ("SELECT id, path, stack_id, stack_size, stack_position, session_id, keeper_score, decision, status,"
           " taken_at, capture_time FROM photos WHERE stack_size > 1")
    params: list = []
    if session_id is not None:
        sql += " AND session_id = ?"
        params.append(int(session_id))
    stacks: dict[int, dict] = {}
    for r in conn.execute(sql + f" ORDER BY stack_id, {STACK_TOP_ORDER}", params):
        s = stacks.get(r["stack_id"])
        if s is None:  # the first row of a stack is its top frame
            s = stacks[r["stack_id"]] = {"stack_id": r["stack_id"], "session_id": r["session_id"],
                                         "size": r["stack_size"], "best": r["id"], "frames": []}
        s["frames"].append({"id": r["id"], "path": r["path"], "position": r["stack_position"],
                            "keeper_score": r["keeper_score"], "decision": r["decision"], "status": r["status"],
                            "taken_at": r["taken_at"], "capture_time": r["capture_time"]})
    out = []
    for s in stacks.values():
        s["frames"].sort(key=lambda f: f["position"] or 0)
        first = s["frames"][0]
        s["taken_at"] = first.pop("taken_at")
        start = first.pop("capture_time")
        for f in s["frames"][1:]:
            f.pop("taken_at")
            f.pop("capture_time")
        out.append((start is None, start or 0.0, s["stack_id"], s))
    out.sort(key=lambda t: t[:3])
    return [t[3] for t in out]


def stacked_count(conn: sqlite3.Connection) -> tuple[int, int]:
    """(photos in stacks of two or more frames, such stacks), from the index photos_stacked."""
    n, stacks = conn.execute("SELECT COUNT(*), COUNT(DISTINCT stack_id) FROM photos INDEXED BY photos_stacked"
                             " WHERE stack_size > 1").fetchone()
    return int(n), int(stacks)
