"""Rediscovery: originals the keeper model scores as probable keepers that nobody ever looked at
twice — never kept, never linked from the keeper archive, never decided on (no keep, reject,
clear or prefer in the decision log) — grouped by session, the session with the best photo first,
each session's photos best first. A list to review, nothing more: it decides nothing."""

from __future__ import annotations

import sqlite3

from fluxcull.catalog import insight_reads


def rediscover(conn: sqlite3.Connection, min_score: float = insight_reads.REDISCOVER_MIN_SCORE) -> dict:
    rows = insight_reads.rediscovery_rows(conn, min_score)
    sessions: dict = {}
    for pid, path, sid, t, score, start_at, place in rows:
        s = sessions.setdefault(sid, {"session_id": sid, "start_at": start_at, "place": place, "best": score,
                                      "photos": []})
        s["photos"].append({"id": pid, "path": path, "score": score, "capture_time": t})
    groups = sorted(sessions.values(), key=lambda s: (-s["best"], -len(s["photos"]),
                                                      s["session_id"] if s["session_id"] is not None else 1 << 62))
    for s in groups:
        s["count"] = len(s["photos"])
    return {"min_score": min_score, "photos": len(rows), "sessions": groups}
