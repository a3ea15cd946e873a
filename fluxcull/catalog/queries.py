"""Read queries shared by the CLI and the GUI: photo listings, counts, sessions.

Sort and filter columns come from whitelists; every value is a bound parameter. A RAW+JPEG pair
(fluxcull.ingest.pairs) is one photo unit: listings and counts leave out its RAW file (the
secondary, `pair_of` set) unless a query asks for every file (`PhotoQuery.files`). A query may show
stacks collapsed (`PhotoQuery.stacks`): one row per stack, its top frame (STACK_TOP_ORDER) among the
frames the filters select, decided in SQL by the ids query itself.
"""

from __future__ import annotations

import sqlite3
import json
from dataclasses import dataclass, field, replace
from typing import Any

# score bands and decision values are declared once, in fluxcull.catalog.scores (re-exported here)
from fluxcull.catalog.ratings import COLOR_LABELS, MAX_STARS
from fluxcull.catalog.scores import BANDS, DECISION_FILTERS, band_of, kept_or_confirmed_sql  # noqa: F401

ROLES = ("originals", "keepers", "inbox")
ANY_LABEL = "any"  # the label filter's "any colour label"
LABEL_FILTERS = (*COLOR_LABELS, ANY_LABEL)

# sort name -> ORDER BY clause (each backed by an index)
SORTS = {
    "time": "capture_time IS NULL, capture_time, id",
    "time_desc": "capture_time IS NULL, capture_time DESC, id DESC",
    "score": "keeper_score IS NULL, keeper_score DESC, id",
    "score_asc": "keeper_score IS NULL, keeper_score ASC, id",
    "path": "path, id",
    "id": "id",
}

PHOTO_FIELDS = (
    "id", "path", "role", "size", "mtime_ns", "sha256", "format", "width", "height", "orientation",
    "taken_at", "taken_offset", "capture_time", "time_source", "camera_make", "camera_model", "lens",
    "focal_length", "focal_length_35mm", "aperture", "shutter", "iso", "subject_distance",
    "gps_lat", "gps_lon", "gps_alt", "original_filename", "session_id", "thumb_key", "thumb_source",
    "status", "error", "keeper_score", "decision", "decided_at", "added_at", "updated_at", "base_score", "failure",
    "pair_of",
    "rating", "color_label",
    "stack_id", "stack_size", "stack_position",
)
UNITS_SQL = "pair_of IS NULL"  # a photo unit: not the RAW file of a RAW+JPEG pair (the grid's partial indexes)

# how a stack's frames rank: its top frame (the one a collapsed stack shows, the one "keep the best"
# keeps) is the first; NULL scores sort last (the order of the index photos_stacked)
STACK_TOP_ORDER = "keeper_score DESC, id"
STACK_VIEWS = ("all", "collapsed")  # every photo / one row per stack of two or more frames


@dataclass
class PhotoQuery:
    role: str | None = None
    session_id: int | None = None
    decision: str | None = None
    band: str | None = None
    status: str | None = "ok"
    min_rating: int | None = None   # at least this many stars (1-5)
    label: str | None = None        # this colour label (LABEL_FILTERS: a colour, or any)
    sort: str = "time"
    files: bool = False  # every file: the RAW of a RAW+JPEG pair too (it has no session of its own)
    extra: dict[str, Any] = field(default_factory=dict)
    stacks: str = "all"               # STACK_VIEWS: every frame, or each stack collapsed into its top frame
    toggled: tuple[int, ...] = ()     # stacks shown the other way: whole while collapsed, collapsed while not

    def where(self) -> tuple[str, list[Any]]:
        """The filters (every photo they select, stacks or not: what counts and exports see)."""
        clauses, params = self.clauses()
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def clauses(self) -> tuple[list[str], list[Any]]:
        """The filters as separate conditions on unqualified columns, and their parameters."""
        clauses, params = [], []
        if not self.files:
            clauses.append(UNITS_SQL)
        if self.role is not None:
            if self.role not in ROLES:
                raise ValueError(f"unknown role {self.role!r}: expected one of {', '.join(ROLES)}")
            clauses.append("role = ?")
            params.append(self.role)
        if self.session_id is not None:
            if self.files:  # a pair's RAW file is in its JPEG's session
                clauses.append("(session_id = ? OR pair_of IN (SELECT id FROM photos WHERE session_id = ?))")
                params.append(int(self.session_id))
            else:
                clauses.append("session_id = ?")
            params.append(int(self.session_id))
        if self.decision is not None:
            if self.decision not in DECISION_FILTERS:
                raise ValueError(f"unknown decision filter {self.decision!r}")
            clauses.append("decision = ?")
            params.append(self.decision)
        if self.band is not None:
            if self.band not in BANDS:
                raise ValueError(f"unknown score band {self.band!r}: expected one of {', '.join(BANDS)}")
            clauses.append(BANDS[self.band])
        if self.status is not None:
            clauses.append("status = ?")
            params.append(self.status)
        if self.min_rating is not None:
            if isinstance(self.min_rating, bool) or not isinstance(self.min_rating, int) or \
                    not 1 <= self.min_rating <= MAX_STARS:
                raise ValueError(f"minimum stars must be a whole number from 1 to {MAX_STARS}, not {self.min_rating!r}")
            clauses.append("rating > 0 AND rating >= ?")  # "rating > 0": the partial index photos_rated
            params.append(self.min_rating)
        if self.label is not None:
            if self.label not in LABEL_FILTERS:
                raise ValueError(f"unknown colour label {self.label!r}: expected one of {', '.join(LABEL_FILTERS)}")
            if self.label == ANY_LABEL:
                clauses.append("color_label IS NOT NULL")
            else:
                clauses.append("color_label = ?")
                params.append(self.label)
        return clauses, params

    def collapsed(self) -> bool:
        """Whether stacks are shown collapsed (but for the toggled ones)."""
        if self.stacks not in STACK_VIEWS:
            raise ValueError(f"unknown stack view {self.stacks!r}: expected one of {', '.join(STACK_VIEWS)}")
        return self.stacks == "collapsed"

    def collapses(self, stack_id: int | None) -> bool:
        """Whether the stack `stack_id` (of two or more frames) shows as one row, its top frame."""
        return stack_id is not None and self.collapsed() != (stack_id in self.toggled)

    def visible(self) -> tuple[str, list[Any]]:
        """The WHERE clause of the rows the grid shows: the filters and, of each collapsed stack (two
        frames or more), only its top frame among the frames the filters select. The top frame is
        found by a correlated subquery on the index photos_stacked, so a first page of a 400,000-photo
        catalog costs one index step per row it reads."""
        where, params = self.where()
        collapsed = self.collapsed()
        if not collapsed and not self.toggled:
            return where, params
        clauses, inner = self.clauses()
        top = ("SELECT q.id FROM photos AS q INDEXED BY photos_stacked WHERE q.stack_id = photos.stack_id"
               " AND q.stack_size > 1" + "".join(f" AND {c}" for c in clauses) +
               f" ORDER BY {', '.join('q.' + t for t in STACK_TOP_ORDER.split(', '))} LIMIT 1")
        whole = "IN" if collapsed else "NOT IN"  # the stacks shown whole
        shown = (f"(stack_size IS NULL OR stack_size < 2 OR stack_id {whole} (SELECT value FROM json_each(?))"
                 f" OR id = ({top}))")
        return (where + " AND " if where else " WHERE ") + shown, params + [self._toggled()] + inner

    def _toggled(self) -> str:
        return json.dumps(sorted({int(i) for i in self.toggled}))

    def order_by(self) -> str:
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}: expected one of {', '.join(SORTS)}")
        return SORTS[self.sort]


def photo_ids(conn: sqlite3.Connection, q: PhotoQuery, limit: int | None = None) -> list[int]:
    """The ordered ids a query shows (what the grid model holds; stacks collapsed where asked), the
    first `limit` of them where given."""
    where, params = _stacked(conn, q).visible()
    sql = f"SELECT id FROM photos{where} ORDER BY {q.order_by()}"
    if limit is not None:
        sql += " LIMIT ?"
        params = params + [int(limit)]
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples: 400,000 ids read twice as fast as through sqlite3.Row
    return [r[0] for r in cur.execute(sql, params)]


def count_visible(conn: sqlite3.Connection, q: PhotoQuery) -> int:
    """How many rows `photo_ids` gives, counted without listing them: stacks collapsed, the photos
    the filters select less the frames of collapsed stacks, plus one per such stack."""
    q = _stacked(conn, q)
    where, params = q.where()
    n = int(conn.execute(f"SELECT COUNT(*) FROM photos{where}", params).fetchone()[0])
    collapsed = q.collapsed()
    if not collapsed and not q.toggled:
        return n
    clauses, params = q.clauses()
    # the frames of collapsed stacks alone, from the partial index (a session's few from the session index)
    hint = "" if q.session_id is not None else " INDEXED BY photos_stacked"
    folded = "NOT IN" if collapsed else "IN"
    frames, stacks = conn.execute(
        f"SELECT COALESCE(SUM(k), 0), COUNT(*) FROM (SELECT COUNT(*) AS k FROM photos{hint} WHERE stack_size > 1"
        f" AND stack_id {folded} (SELECT value FROM json_each(?))" + "".join(f" AND {c}" for c in clauses) +
        " GROUP BY stack_id)", [q._toggled()] + params).fetchone()
    return n - int(frames) + int(stacks)


def _stacked(conn: sqlite3.Connection, q: PhotoQuery) -> PhotoQuery:
    """`q`, or, in a catalog without a stack of two frames, `q` showing every photo (one index probe
    spares the collapsing clause, which reads each row's stack, on a library never stacked)."""
    if not (q.collapsed() or q.toggled):
        return q
    if conn.execute("SELECT 1 FROM photos INDEXED BY photos_stacked WHERE stack_size > 1 LIMIT 1").fetchone():
        return q
    return replace(q, stacks="all", toggled=())


def list_photos(conn: sqlite3.Connection, q: PhotoQuery, limit: int | None = None, offset: int = 0) -> list[dict]:
    where, params = q.where()
    sql = f"SELECT * FROM photos{where} ORDER BY {q.order_by()}"
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"  # LIMIT -1: no limit, only the offset
        params += [int(limit) if limit is not None else -1, int(offset)]
    return [dict(r) for r in conn.execute(sql, params)]


def photos_by_ids(conn: sqlite3.Connection, ids: list[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        sql = "SELECT * FROM photos WHERE id IN (%s)" % ",".join("?" * len(chunk))
        for r in conn.execute(sql, chunk):
            out[r["id"]] = dict(r)
    return out


def photo_sha256s(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str | None]:
    """photo id -> the SHA-256 of its bytes now, for the given photos (one query: a batch's worth)."""
    return dict(conn.execute("SELECT id, sha256 FROM photos WHERE id IN (%s)" % ",".join("?" * len(ids)), ids).fetchall())


def resolve_photo(conn: sqlite3.Connection, ref: str) -> int:
    """A photo id from an id or a path (absolute or relative to the current folder)."""
    from pathlib import Path

    from fluxcull.validate import parse_id

    pid = parse_id(ref)  # ASCII digits within SQLite's range: Unicode digits or huge numbers are no id
    if pid is not None:
        row = conn.execute("SELECT id FROM photos WHERE id = ?", (pid,)).fetchone()
        if row:
            return row[0]
    for candidate in (ref, str(Path(ref).expanduser().absolute()), str(Path(ref).expanduser().resolve())):
        row = conn.execute("SELECT id FROM photos WHERE path = ?", (candidate,)).fetchone()
        if row:
            return row[0]
    raise KeyError(f"{ref}: not in the catalog (give a photo id or the path it was ingested from)")


def status_counts(conn: sqlite3.Connection) -> dict:
    # photo_counts (migrations 0005, 0012) is kept exact by triggers: no scan of the photos table.
    # A RAW+JPEG pair counts once (as its JPEG); `raw_jpeg_pairs` says how many RAW files that leaves out.
    by_role: dict[str, dict[str, int]] = {r: {"ok": 0, "error": 0, "missing": 0, "total": 0} for r in ROLES}
    decisions = {d: 0 for d in DECISION_FILTERS}
    scored = pairs = 0
    for role, status, decision, is_scored, secondary, n in conn.execute(
        "SELECT role, status, decision, scored, secondary, n FROM photo_counts WHERE n != 0"
    ):
        if secondary:
            pairs += n
            continue
        by_role[role][status] += n
        by_role[role]["total"] += n
        decisions[decision] += n
        scored += n if is_scored else 0
    sessions = {r: 0 for r in ROLES}
    for r in conn.execute("SELECT role, COUNT(*) FROM sessions GROUP BY role"):
        sessions[r[0]] = r[1]
    errors = [
        {"id": r[0], "path": r[1], "role": r[2], "error": r[3]}
        for r in conn.execute("SELECT id, path, role, error FROM photos WHERE status = 'error' ORDER BY path")
    ]
    return {
        "photos": sum(v["total"] for v in by_role.values()),
        "by_role": by_role,
        "decisions": decisions,
        "sessions": sessions,
        "scored": scored,
        "raw_jpeg_pairs": pairs,
        "errors": errors,
    }


def problem_files(conn: sqlite3.Connection, role: str | None = None, limit: int | None = None) -> list[dict]:
    """Files that failed to ingest (status 'error'): id, path, role, error, updated_at; newest first."""
    q = PhotoQuery(role=role, status="error")
    where, params = q.where()
    sql = f"SELECT id, path, role, error, updated_at FROM photos{where} ORDER BY updated_at DESC, path"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [dict(r) for r in conn.execute(sql, params)]


def problem_count(conn: sqlite3.Connection, role: str | None = None) -> int:
    """How many files failed to ingest (the running counts: no scan)."""
    sql, params = "SELECT COALESCE(SUM(n), 0) FROM photo_counts WHERE status = 'error' AND secondary = 0", []
    if role is not None:
        sql += " AND role = ?"
        params.append(role)
    return int(conn.execute(sql, params).fetchone()[0])


def embeddings_by_backbone(conn: sqlite3.Connection) -> dict[str, int]:
    """How many photos each backbone has embedded (backbone id -> count)."""
    return dict(conn.execute("SELECT backbone_id, COUNT(*) FROM embedding_rows GROUP BY backbone_id").fetchall())


def place_label(session: dict) -> str:
    """A session's place: its name where one is known, else its GPS centroid, else empty."""
    if session.get("place"):
        return str(session["place"])
    lat, lon = session.get("gps_lat"), session.get("gps_lon")
    if lat is None or lon is None:
        return ""
    return f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'} {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"


def list_sessions(conn: sqlite3.Connection, role: str | None = None) -> list[dict]:
    """Sessions with photo count, keeper density (share of photos kept or linked as keepers)."""
    params: list[Any] = []
    where = ""
    if role is not None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        where = " WHERE s.role = ?"
        params.append(role)
    rows = conn.execute(
        "SELECT s.*, "
        f" (SELECT COUNT(*) FROM photos p WHERE p.session_id = s.id AND {kept_or_confirmed_sql('p.')})"
        "   AS keepers,"
        " (SELECT AVG(p.keeper_score) FROM photos p WHERE p.session_id = s.id) AS mean_score"
        f" FROM sessions s{where} ORDER BY s.role, s.start_time",
        params,
    ).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        d["keeper_density"] = (d["keepers"] / d["photo_count"]) if d["photo_count"] else 0.0
        out.append(d)
    return out
