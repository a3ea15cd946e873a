"""What fluxcull.insights reads from the catalog: draft candidates and the frames before them,
rediscovery candidates, session analytics' rows (one SQL GROUP BY), sessions to place. Plain arrays
and rows; the rules (what a keeper is, the groupings, the diversity) stay in fluxcull.insights."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from fluxcull.catalog.scores import kept_or_confirmed_sql

_IDS = "SELECT value FROM json_each(?)"
_EMBEDDING_ROW = " LEFT JOIN embedding_rows e ON e.backbone_id = ? AND e.photo_id = p.id"
_SCOPE = "status = 'ok' AND role IN ('originals', 'inbox')"  # the photos insights count (not archive files)


if TYPE_CHECKING:
    import numpy as np


def _array(rows, width: int) -> "np.ndarray":
    import numpy as np  # here, not at import: the window starts without numpy (first paint)

    return np.array(rows, np.float64).reshape(-1, width)


def draft_candidates(conn: sqlite3.Connection, min_score: float, *, start: float | None = None,
                     end: float | None = None, sessions: list[int] | None = None,
                     backbone_id: str | None = None) -> np.ndarray:
    """float64 (n x 4): id, session_id (NaN none), capture_time (NaN unknown), keeper_score of ok
    originals and inbox photos scoring at least min_score and not marked reject, in [start, end)
    of capture time when given, in the given sessions when given; by score, best first, then id.
    With `backbone_id`, a fifth column: the photo's row in that backbone's embedding store (NaN none)."""
    sql = (f"SELECT p.id, p.session_id, p.capture_time, p.keeper_score{', e.row' if backbone_id else ''}"
           f" FROM photos p{_EMBEDDING_ROW if backbone_id else ''}"
           " WHERE p.status = 'ok' AND p.role IN ('originals', 'inbox')"
           " AND p.keeper_score >= ? AND p.decision != 'reject'")
    params: list = ([backbone_id] if backbone_id else []) + [float(min_score)]
    if start is not None:
        sql += " AND p.capture_time >= ?"
        params.append(float(start))
    if end is not None:
        sql += " AND p.capture_time < ?"
        params.append(float(end))
    if sessions:
        sql += f" AND p.session_id IN ({_IDS})"
        params.append(json.dumps(sorted(int(s) for s in sessions)))
    return _array(conn.execute(sql + " ORDER BY p.keeper_score DESC, p.id", params).fetchall(),
                  5 if backbone_id else 4)


def frames_before(conn: sqlite3.Connection, session_id: int, capture_time: float, photo_id: int, count: int,
                  backbone_id: str) -> np.ndarray:
    """float64 (n x 3): id, capture_time, row in the backbone's embedding store (NaN none) of the
    last `count` ok originals and inbox photos of the session up to and including the given photo in
    capture order (time, then id; photos of unknown time come after every other), in that order:
    the frames whose bursts the photo's burst may continue."""
    rows = conn.execute(
        # one range of photos_session_time, read backwards from the photo
        f"SELECT p.id, p.capture_time, e.row FROM photos p{_EMBEDDING_ROW}"
        " WHERE p.session_id = ? AND (p.capture_time, p.id) <= (?, ?)"
        " AND +p.status = 'ok' AND +p.role IN ('originals', 'inbox')"
        " ORDER BY p.capture_time DESC, p.id DESC LIMIT ?",
        (backbone_id, int(session_id), float(capture_time), int(photo_id), int(count))).fetchall()
    return _array(rows[::-1], 3)


def frame_after(conn: sqlite3.Connection, session_id: int, capture_time: float, photo_id: int,
                backbone_id: str) -> np.ndarray:
    """The frame after the given photo in the order of `frames_before` (0 or 1 rows of the same
    columns): a burst may take in an odd frame on the strength of the frame after it."""
    rows = conn.execute(
        f"SELECT p.id, p.capture_time, e.row FROM photos p{_EMBEDDING_ROW}"
        " WHERE p.session_id = ? AND (p.capture_time, p.id) > (?, ?)"
        " AND +p.status = 'ok' AND +p.role IN ('originals', 'inbox')"
        " ORDER BY p.capture_time, p.id LIMIT 1",
        (backbone_id, int(session_id), float(capture_time), int(photo_id))).fetchall()
    return _array(rows, 3)


REDISCOVER_MIN_SCORE = 0.8  # the score from which an unreviewed original is proposed (`rediscover --min-score`)

# The rediscovery rule, on the unqualified columns of `photos` (PhotoQuery's `rediscover` filter uses it
# too, also inside queries that alias the table): an ok original, decision none, scoring at least the
# bound parameter and below 1.0 (1.0: confirmed by the keeper archive), linked from no keeper (confirmed
# or in review), with no keep, reject, clear or prefer in the decision log, as either photo of a preference.
REDISCOVER_SQL = (
    "(role = 'originals' AND status = 'ok' AND decision = 'none' AND keeper_score >= ? AND keeper_score < 1.0"
    " AND id NOT IN (SELECT original_id FROM keeper_links WHERE original_id IS NOT NULL)"
    " AND id NOT IN (SELECT photo_id FROM decision_events WHERE kind IN ('keep', 'reject', 'clear', 'prefer'))"
    " AND id NOT IN (SELECT other_photo_id FROM decision_events WHERE kind = 'prefer'"
    " AND other_photo_id IS NOT NULL))")


def rediscovery_rows(conn: sqlite3.Connection, min_score: float) -> list[tuple]:
    """(id, path, session_id, capture_time, keeper_score, start_at, place) of the originals REDISCOVER_SQL
    proposes at min_score; best first."""
    return conn.execute(
        "SELECT p.id, p.path, p.session_id, p.capture_time, p.keeper_score, s.start_at, s.place"
        f" FROM (SELECT * FROM photos WHERE {REDISCOVER_SQL}) p LEFT JOIN sessions s ON s.id = p.session_id"
        " ORDER BY p.keeper_score DESC, p.id", (float(min_score),)).fetchall()


ANALYTICS_COLUMNS = ("session_id", "hour", "focal_35mm", "photos", "keepers", "score_sum", "scored")


def analytics_groups(conn: sqlite3.Connection) -> tuple[np.ndarray, list[str]]:
    """The ok originals and inbox photos added up in one SQL GROUP BY over everything analytics
    groups by: (float64 n x 7: session_id (NaN none), hour (capture-time seconds floored to the hour,
    as seconds; NaN unknown), focal length in 35 mm terms (else the focal length; NaN), photos,
    keepers (marked keep or confirmed keeper, scores.kept_or_confirmed_sql), sum of keeper scores,
    photos with a score; camera (make and model, '' none) per row)."""
    hour = "((CAST(capture_time AS INTEGER) - ((CAST(capture_time AS INTEGER) % 3600) + 3600) % 3600))"
    rows = conn.execute(
        f"SELECT session_id, CASE WHEN capture_time IS NULL THEN NULL ELSE {hour} END AS h,"
        " COALESCE(focal_length_35mm, focal_length) AS f,"
        " TRIM(COALESCE(camera_make, '') || ' ' || COALESCE(camera_model, '')) AS c,"
        f" COUNT(*), SUM(COALESCE({kept_or_confirmed_sql()}, 0)), TOTAL(keeper_score), COUNT(keeper_score)"
        f" FROM photos WHERE {_SCOPE} GROUP BY session_id, h, f, c").fetchall()
    cameras = [r[3] or "" for r in rows]
    return _array([r[:3] + r[4:] for r in rows], 7), cameras


def session_rows(conn: sqlite3.Connection) -> list[tuple]:
    """(id, start_time, end_time, start_at, place, gps_lat, gps_lon, role) of every session."""
    return conn.execute(
        "SELECT id, start_time, end_time, start_at, place, gps_lat, gps_lon, role FROM sessions ORDER BY id").fetchall()


def set_places(conn: sqlite3.Connection, places: list[tuple[int, str | None]]) -> None:
    """Store sessions' places (session id, place text or None). One transaction."""
    from fluxcull.catalog.db import transaction

    with transaction(conn):
        conn.executemany("UPDATE sessions SET place = ? WHERE id = ?", [(p, int(s)) for s, p in places])


def photo_captions(conn: sqlite3.Connection, photo_ids) -> dict[int, tuple]:
    """photo id -> (path, capture_time, taken_at, session_id, keeper_score, place, thumb_key)."""
    return {r[0]: tuple(r)[1:] for r in conn.execute(
        "SELECT p.id, p.path, p.capture_time, p.taken_at, p.session_id, p.keeper_score, s.place, p.thumb_key"
        f" FROM photos p LEFT JOIN sessions s ON s.id = p.session_id WHERE p.id IN ({_IDS})",
        (json.dumps(sorted({int(i) for i in photo_ids})),))}
