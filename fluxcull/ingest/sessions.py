"""Shooting sessions (walks): a role's photos grouped by gaps in capture time.

A gap longer than `gap_hours` (default 2) starts a new session. Each session has start, end,
count and a GPS centroid where its photos have GPS. Recomputed after every ingest; a session keeps
its id while most of its photos stay together, so references to it survive re-grouping.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections import Counter

from fluxcull.catalog import ingest_store as store
from fluxcull.catalog import transaction

DEFAULT_GAP_HOURS = 2.0


def group_times(times: list[float], gap_seconds: float) -> list[tuple[int, int]]:
    """Index ranges [start, end) of sorted `times` split where consecutive times differ by > gap."""
    groups, start = [], 0
    for i in range(1, len(times)):
        if times[i] - times[i - 1] > gap_seconds:
            groups.append((start, i))
            start = i
    if times:
        groups.append((start, len(times)))
    return groups


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _centroid(points: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    if not points:
        return None, None
    lat = sum(p[0] for p in points) / len(points)
    x = sum(math.cos(math.radians(p[1])) for p in points)
    y = sum(math.sin(math.radians(p[1])) for p in points)
    return round(lat, 7), round(math.degrees(math.atan2(y, x)), 7)


def recompute_sessions(conn: sqlite3.Connection, role: str, gap_hours: float = DEFAULT_GAP_HOURS) -> int:
    """Regroup `role`'s photos (status ok) into sessions; return the number of sessions."""
    if gap_hours <= 0:
        raise ValueError("the session gap must be a positive number of hours")
    rows = store.session_candidates(conn, role)
    groups = group_times([r["capture_time"] for r in rows], gap_hours * 3600.0)
    with transaction(conn):
        old_ids = store.session_ids(conn, role)
        claimed: set[int] = set()
        assignments: list[tuple[int, int]] = []  # (session_id, photo_id) that change
        for a, b in groups:
            members = rows[a:b]
            votes = Counter(r["session_id"] for r in members if r["session_id"] in old_ids)
            sid = next((s for s, _ in votes.most_common() if s not in claimed), None)
            start, end = members[0]["capture_time"], members[-1]["capture_time"]
            lat, lon = _centroid([(r["gps_lat"], r["gps_lon"]) for r in members
                                  if r["gps_lat"] is not None and r["gps_lon"] is not None])
            values = (start, end, _iso(start), _iso(end), len(members), lat, lon)
            if sid is None:
                sid = store.insert_session(conn, role, values)
            else:
                store.update_session(conn, sid, values)
            claimed.add(sid)
            assignments += [(sid, r["id"]) for r in members if r["session_id"] != sid]
        store.assign_sessions(conn, assignments)
        stale = old_ids - claimed
        if stale:
            store.drop_sessions(conn, stale)
        # photos that left the grouping (errors, missing) drop their session
        store.clear_ungrouped_sessions(conn, role)
    return len(groups)
