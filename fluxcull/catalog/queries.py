"""Read queries shared by the CLI and the GUI: photo listings, counts, sessions.

Sort and filter columns come from whitelists; every value is a bound parameter. A RAW+JPEG pair
(fluxcull.ingest.pairs) is one photo unit: listings and counts leave out its RAW file (the
secondary, `pair_of` set) unless a query asks for every file (`PhotoQuery.files`). The find filters
(text, camera, lens, capture dates, score range, file type, stars, colour label, stack size, motif,
rediscovery) are
declared, with their `--where` names and filter-bar words, in fluxcull.catalog.filters; their SQL is
written here, in `PhotoQuery.where`.
A query may ask for stacks collapsed (`PhotoQuery.stacks`): one row per stack, its top frame
(STACK_TOP_ORDER) among the frames the filters select, decided in SQL by the grid's ids query
(fluxcull.catalog.stack_queries).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

# score bands and decision values are declared once, in fluxcull.catalog.scores (re-exported here)
from fluxcull.catalog.ratings import COLOR_LABELS, MAX_STARS, NO_LABEL
from fluxcull.catalog.scores import BANDS, DECISION_FILTERS, band_of, kept_or_confirmed_sql  # noqa: F401
from fluxcull.catalog.insight_reads import REDISCOVER_MIN_SCORE, REDISCOVER_SQL
from fluxcull.catalog.motif_store import MEMBER_SQL
from fluxcull.catalog.text_match import NAME_SQL, TEXT_SQL, camera_clause, lens_clause, like_pattern

ROLES = ("originals", "keepers", "inbox")
ANY_LABEL = "any"  # the label filter's "any colour label" (NO_LABEL, "none": without one)
LABEL_FILTERS = (*COLOR_LABELS, ANY_LABEL, NO_LABEL)
MAX_STACK = 1_000_000  # the stack-size filter's highest value (a time-lapse can make a long burst)

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


# the formats that are not camera RAW (fluxcull.media.formats.format_name: every other is a RAW extension)
NOT_RAW_FORMATS = ("jpeg", "png", "tiff", "heif")
FILE_TYPES = ("raw",) + NOT_RAW_FORMATS

def iso_seconds(text: str) -> float:
    """Seconds of an ISO date or date-time on the camera's clock, as capture_time counts them (the wall
    clock read as UTC); ValueError when it is no date."""
    import calendar  # (and locale): only when a date is filtered on

    when = dt.datetime.fromisoformat(str(text))
    if when.tzinfo is not None:
        raise ValueError(f"{text!r}: a capture time is the camera's clock, without a time zone")
    return float(calendar.timegm(when.timetuple()))


def _whole(what: str, value, low: int, high: int) -> int | None:
    """A whole-number filter value checked to lie in low..high (None: not filtered)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    return value


@dataclass
class PhotoQuery:
    role: str | None = None
    session_id: int | None = None
    decision: str | None = None
    band: str | None = None
    status: str | None = "ok"
    min_rating: int | None = None   # at least this many stars (0-5; 0: every photo)
    rating_below: int | None = None  # fewer stars than this (0-6; 1: no stars)
    label: str | None = None        # this colour label (LABEL_FILTERS: a colour, any, or none)
    sort: str = "time"
    files: bool = False  # every file: the RAW of a RAW+JPEG pair too (it has no session of its own)
    extra: dict[str, Any] = field(default_factory=dict)
    # the find filters (declared in fluxcull.catalog.filters); None: not filtered
    text: str | None = None           # in the path, camera or lens (contains, case-insensitive)
    name: str | None = None           # in the file name or the camera's own file name
    camera: str | None = None         # in "make model"
    lens: str | None = None
    taken_from: str | None = None     # capture time at or after this ISO date / date-time (camera clock)
    taken_before: str | None = None   # capture time before this one
    score_min: float | None = None    # keeper score at least this
    score_below: float | None = None  # keeper score below this
    file_type: str | None = None      # one of FILE_TYPES
    stack_min: int | None = None      # in a stack of at least this many frames (2: every stacked photo)
    stack_below: int | None = None    # in a stack of fewer frames than this (2: photos alone); a photo
                                      # with no stack (not embedded yet) matches neither
    motif: int | None = None          # a member of this stored motif (fluxcull.catalog.motif_store)
    rediscover: str | None = None     # "yes": proposed by rediscovery (insight_reads.REDISCOVER_SQL)
    stacks: str = "all"               # STACK_VIEWS: every frame, or each stack collapsed into its top frame
    toggled: tuple[int, ...] = ()     # stacks shown the other way: whole while collapsed, collapsed while not

    def where(self, conn: sqlite3.Connection | None = None) -> tuple[str, list[Any]]:
        """The WHERE clause and its parameters: the filters (every photo they select, stacks or not:
        what counts and exports see); with `conn`, a camera or lens filter is bound as the list of
        matching values (read from the catalog's small cameras and lenses tables: see camera_clause)."""
        clauses, params = self.clauses(conn)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def clauses(self, conn: sqlite3.Connection | None = None) -> tuple[list[str], list[Any]]:
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
        self._mark_clauses(clauses, params)
        self._find_clauses(conn, clauses, params)
        return clauses, params

    def _mark_clauses(self, clauses: list[str], params: list[Any]) -> None:
        """Stars and colour label."""
        low, below = _whole("minimum stars", self.min_rating, 0, MAX_STARS), \
            _whole("stars below", self.rating_below, 0, MAX_STARS + 1)
        if low:  # 0 stars or more: every photo
            clauses.append("rating > 0 AND rating >= ?")  # "rating > 0": the partial index photos_rated
            params.append(low)
        if below is not None:
            clauses.append("rating < ?")
            params.append(below)
        if self.label is not None:
            if self.label not in LABEL_FILTERS:
                raise ValueError(f"unknown colour label {self.label!r}: expected one of {', '.join(LABEL_FILTERS)}")
            if self.label in (ANY_LABEL, NO_LABEL):
                clauses.append("color_label IS NOT NULL" if self.label == ANY_LABEL else "color_label IS NULL")
            else:
                clauses.append("color_label = ?")
                params.append(self.label)

    def _stack_clauses(self, clauses: list[str], params: list[Any]) -> None:
        low = _whole("smallest stack", self.stack_min, 1, MAX_STACK)
        below = _whole("stack size below", self.stack_below, 1, MAX_STACK + 1)
        if low is not None:
            # a bound of 2 or more is said with "stack_size > 1" too: the partial index photos_stacked
            clauses.append("stack_size > 1 AND stack_size >= ?" if low > 1 else "stack_size >= ?")
            params.append(low)
        if below is not None:
            clauses.append("stack_size < ?")
            params.append(below)

    def _find_clauses(self, conn, clauses: list[str], params: list[Any]) -> None:
        for value, sql, n in ((self.text, TEXT_SQL, 5), (self.name, NAME_SQL, 3)):
            if value is not None:
                clauses.append(sql)
                params.extend([like_pattern(value)] * n)
        for value, clause in ((self.camera, camera_clause), (self.lens, lens_clause)):
            if value is not None:
                sql, values = clause(conn, value)
                clauses.append(sql)
                params.extend(values)
        for value, sql in ((self.taken_from, "capture_time >= ?"), (self.taken_before, "capture_time < ?")):
            if value is not None:
                clauses.append(sql)
                params.append(iso_seconds(value))
        for value, sql in ((self.score_min, "keeper_score >= ?"), (self.score_below, "keeper_score < ?")):
            if value is not None:
                clauses.append(sql)
                params.append(float(value))
        if self.file_type is not None:
            if self.file_type not in FILE_TYPES:
                raise ValueError(f"unknown file type {self.file_type!r}: expected one of {', '.join(FILE_TYPES)}")
            if self.file_type == "raw":
                clauses.append("format NOT IN (%s)" % ", ".join("?" * len(NOT_RAW_FORMATS)))
                params.extend(NOT_RAW_FORMATS)
            else:
                clauses.append("format = ?")
                params.append(self.file_type)
        self._stack_clauses(clauses, params)
        if self.motif is not None:
            clauses.append(MEMBER_SQL)
            params.append(_whole("motif", self.motif, 1, 2**63 - 1))
        if self.rediscover is not None:
            if self.rediscover != "yes":
                raise ValueError(f"rediscover is 'yes', not {self.rediscover!r}")
            clauses.append(REDISCOVER_SQL)
            params.append(REDISCOVER_MIN_SCORE)

    def collapsed(self) -> bool:
        """Whether stacks are shown collapsed (but for the toggled ones)."""
        if self.stacks not in STACK_VIEWS:
            raise ValueError(f"unknown stack view {self.stacks!r}: expected one of {', '.join(STACK_VIEWS)}")
        return self.stacks == "collapsed"

    def collapses(self, stack_id: int | None) -> bool:
        """Whether the stack `stack_id` (of two or more frames) shows as one row, its top frame."""
        return stack_id is not None and self.collapsed() != (stack_id in self.toggled)

    def toggled_json(self) -> str:
        """The toggled stacks as one JSON parameter (bound to json_each)."""
        return json.dumps(sorted({int(i) for i in self.toggled}))

    def order_by(self) -> str:
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}: expected one of {', '.join(SORTS)}")
        return SORTS[self.sort]


def photo_ids(conn: sqlite3.Connection, q: PhotoQuery) -> list[int]:
    """The ordered ids of every photo a query's filters select (stacks not collapsed: the grid's ids
    query, stacks collapsed where it asks, is fluxcull.catalog.stack_queries.photo_ids)."""
    where, params = q.where(conn)
    return [r[0] for r in conn.execute(f"SELECT id FROM photos{where} ORDER BY {q.order_by()}", params)]


def list_photos(conn: sqlite3.Connection, q: PhotoQuery, limit: int | None = None, offset: int = 0) -> list[dict]:
    where, params = q.where(conn)
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
    where, params = q.where(conn)
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
