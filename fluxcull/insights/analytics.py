"""Session analytics: which sessions, places, times and gear produced keepers.

Counted: ok originals and inbox photos (keeper-archive files are their originals' copies). A keeper
is a photo marked keep or a confirmed keeper (catalog.scores.kept_or_confirmed_sql: a rejected
confirmed keeper is none). Per group: photos, keepers, keeper density (keepers / photos) with its
Wilson 95% interval (honest for small groups; `small` marks those under SMALL photos), and the
mean keeper score of the photos with a score.

Groupings (capture time is the wall clock where the photo was taken):
session; place (the session's place, `fluxcull analytics --places`); hour of day; weekday; month;
season (meteorological: Dec-Feb winter ..., flipped where the session's latitude is south of the
equator); year; focal (35 mm equivalent, else the focal length, rounded to whole mm); camera
(make and model). Photos without the value fall in the group "unknown".
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np

from fluxcull.catalog import insight_reads
from fluxcull.errors import InvalidValue

DIMENSIONS = ("session", "place", "hour", "weekday", "month", "season", "year", "focal", "camera")
SMALL = 30
Z95 = 1.959964
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
SEASONS = ("winter", "spring", "summer", "autumn")
UNKNOWN = "unknown"


def wilson(k, n, z: float = Z95):
    """Wilson score interval of k successes in n trials (arrays or numbers); (nan, nan) for n = 0."""
    k, n = np.asarray(k, np.float64), np.asarray(n, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


class Data:
    """The photos added up by SQL once over (session, hour of capture, focal length, camera), the
    finest grouping every dimension is a union of; each dimension then groups those rows with numpy
    (bincount weighted by their photo counts). Nothing per photo crosses into Python."""

    def __init__(self, conn: sqlite3.Connection):
        num, cams = insight_reads.analytics_groups(conn)
        self.sessions = {r[0]: r for r in insight_reads.session_rows(conn)}
        t = num[:, 1]
        self.known = np.isfinite(t)
        self.secs = np.where(self.known, t, 0.0).astype(np.int64)
        self.day = self.secs // 86400
        self.months = self.secs.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)  # since 1970-01
        sid = num[:, 0]
        self.has_session = np.isfinite(sid)
        self.sid = np.where(self.has_session, sid, -1).astype(np.int64)
        self.focal = num[:, 2]
        self.photos, self.keepers = num[:, 3].astype(np.int64), num[:, 4]
        self.score_sum, self.scored = num[:, 5], num[:, 6]
        self.cameras = np.array(cams, dtype=object)
        # the sessions once: unique session ids (-1: none) and each row's index into them
        self.sid_uniq, self.sid_index = np.unique(self.sid, return_inverse=True)

    def keys(self, by: str) -> tuple[np.ndarray, list]:
        """(code per photo, label per code); code -1 for unknown."""
        known = self.known
        if by == "hour":
            return np.where(known, (self.secs // 3600) % 24, -1), [f"{h:02d}" for h in range(24)]
        if by == "weekday":
            return np.where(known, (self.day + 3) % 7, -1), list(WEEKDAYS)   # 1970-01-01 was a Thursday
        if by == "month":
            return np.where(known, self.months % 12, -1), list(MONTHS)
        if by == "year":
            years = self.months // 12 + 1970
            lo = int(years[known].min()) if known.any() else 0
            return np.where(known, years - lo, -1), [str(lo + i) for i in range(int(years[known].max() - lo + 1)
                                                                               if known.any() else 0)]
        if by == "season":
            lat = self._per_session(5, np.nan)[self.sid_index]
            south = np.nan_to_num(lat, nan=1.0) < 0
            season = ((self.months % 12 + 1) % 12) // 3        # Dec-Feb 0, Mar-May 1, ...
            season = np.where(south, (season + 2) % 4, season)
            return np.where(known, season, -1), list(SEASONS)
        if by == "session":
            has = self.sid_uniq >= 0
            labels = self.sid_uniq[has].tolist()
            code = np.arange(len(self.sid_uniq)) - int((~has).sum())   # the none group (-1) sorts first
            return np.where(has, code, -1)[self.sid_index], labels
        if by == "place":
            places = self._per_session(4, "")
            labels = sorted(set(places.tolist()) - {""})
            code = np.searchsorted(np.array(labels, dtype=object), places) if labels else np.zeros(len(places), int)
            return np.where(places == "", -1, code)[self.sid_index], labels
        if by == "focal":
            f = np.round(self.focal)
            ok = np.isfinite(f) & (f > 0)
            labels = np.unique(f[ok])
            code = np.searchsorted(labels, np.where(ok, f, 0))
            return np.where(ok, code, -1), [f"{int(x)} mm" for x in labels]
        if by == "camera":
            labels = sorted(set(self.cameras.tolist()) - {""})
            code = np.searchsorted(np.array(labels, dtype=object), self.cameras) if labels else np.zeros(len(self.cameras), int)
            return np.where(self.cameras == "", -1, code), labels
        raise InvalidValue(f"--by {by}: expected one of {', '.join(DIMENSIONS)}")

    def _per_session(self, col: int, blank) -> np.ndarray:
        """A sessions column for each of sid_uniq (`blank` where the session has no value or none)."""
        vals = [self.sessions[s][col] if s in self.sessions and self.sessions[s][col] is not None else blank
                for s in self.sid_uniq.tolist()]
        return np.array(vals, dtype=np.float64 if isinstance(blank, float) else object)


def group(data: Data, by: str) -> dict:
    code, labels = data.keys(by)
    k = len(labels) + 1                       # the last bin: unknown
    code = np.where(code < 0, k - 1, code)
    photos = np.bincount(code, weights=data.photos, minlength=k).round().astype(np.int64)
    keepers = np.bincount(code, weights=data.keepers, minlength=k).round().astype(np.int64)
    sums = np.bincount(code, weights=data.score_sum, minlength=k)
    counted = np.bincount(code, weights=data.scored, minlength=k)
    lo, hi = wilson(keepers, photos)
    groups = []
    for i in range(k):
        if photos[i] == 0:
            continue
        label = labels[i] if i < k - 1 else UNKNOWN
        g = {"key": label, "photos": int(photos[i]), "keepers": int(keepers[i]),
             "density": float(keepers[i] / photos[i]), "low": float(lo[i]), "high": float(hi[i]),
             "mean_score": float(sums[i] / counted[i]) if counted[i] else None, "small": bool(photos[i] < SMALL)}
        if by == "session" and i < k - 1:
            r = data.sessions.get(label)
            if r is not None:
                g.update(start_at=r[3], place=r[4], hours=float((r[2] - r[1]) / 3600.0))
        groups.append(g)
    if by in ("place", "camera"):
        groups.sort(key=lambda g: (g["key"] == UNKNOWN, -g["keepers"], -g["photos"], str(g["key"])))
    total, total_scored = int(photos.sum()), float(counted.sum())
    totals = {"photos": total, "keepers": int(keepers.sum()),
              "density": float(keepers.sum() / total) if total else None,
              "mean_score": float(sums.sum() / total_scored) if total_scored else None}
    return {"by": by, "totals": totals, "groups": groups}


def analytics(conn: sqlite3.Connection, by: str = "session") -> dict:
    if by not in DIMENSIONS:
        raise InvalidValue(f"--by {by}: expected one of {', '.join(DIMENSIONS)}")
    return group(Data(conn), by)


def fmt_interval(g: dict) -> str:
    if math.isnan(g["low"]):
        return ""
    return f"[{g['low']:.2f}-{g['high']:.2f}]"
