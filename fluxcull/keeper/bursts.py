"""Bursts: runs of frames of one scene, shot seconds apart. The one definition fluxcull uses.

Within a session, photos are taken in capture-time order; a photo joins the burst of the photo
before it when both
- were taken at most `gap_seconds` apart, and
- look alike: the cosine similarity of their (L2-normalised) embeddings is at least `min_similarity`.
Anything else starts a new burst; a photo without a capture time is a burst of its own. A burst is
named by the photo id of its first frame, so its id survives re-computation as long as that frame
does. The keeper model's context inputs (fluxcull.keeper.context) describe each photo against its
burst; the grid's stacks are meant to use the same function.

The thresholds live in the setting `bursts` (JSON, e.g. {"gap_seconds": 10, "min_similarity": 0.7};
declared with their defaults and bounds in fluxcull.catalog.settings, edited in Library settings).
They were chosen on the shared real bursts and the taste benchmark: frames of one scene (including
misfocused, shaken, badly exposed or slightly recomposed frames) score 0.6-0.95 with the default
EfficientNet-Lite0 embeddings; unrelated photos score about 0.35.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from fluxcull.catalog import settings

SETTING_KEY = "bursts"
DEFAULTS = settings.BY_KEY[SETTING_KEY].defaults()


@dataclass
class BurstRule:
    gap_seconds: float = DEFAULTS["gap_seconds"]
    min_similarity: float = DEFAULTS["min_similarity"]

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection) -> "BurstRule":
        return settings.numbers_into(conn, SETTING_KEY, cls(), non_negative=True)


def time_order(session: np.ndarray, time: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions sorted by session, then capture time (unknown last), then photo id."""
    t = np.where(np.isfinite(time), time, np.inf)
    return np.lexsort((ids, t, session))


def find_bursts(ids: np.ndarray, session: np.ndarray, time: np.ndarray, embeddings_at, *,
                rule: BurstRule | None = None, adjacent: np.ndarray | None = None, chunk: int = 32768) -> np.ndarray:
    """Burst id (photo id of the burst's first frame) for every position.

    embeddings_at(positions) -> L2-normalised embeddings (len(positions) x d) of those positions.
    adjacent (optional): cosine similarity of each position's embedding to the previous position's;
    used wherever capture-time order follows position order (the usual case), saving the reads.
    """
    rule = rule or BurstRule()
    ids = np.asarray(ids, np.int64)
    n = len(ids)
    out = ids.copy()
    if n == 0:
        return out
    order = time_order(session, time, ids)
    s_sorted, t_sorted = np.asarray(session)[order], np.asarray(time, np.float64)[order]
    with np.errstate(invalid="ignore"):
        near = (s_sorted[1:] == s_sorted[:-1]) & (t_sorted[1:] - t_sorted[:-1] <= rule.gap_seconds)
    near &= np.isfinite(t_sorted[1:]) & np.isfinite(t_sorted[:-1])
    cand = np.flatnonzero(near) + 1          # sorted positions that may join the one before
    prev, cur = order[cand - 1], order[cand]  # their corpus positions
    sims = np.full(len(cand), np.nan, np.float32)
    if adjacent is not None:
        fwd = cur == prev + 1
        sims[fwd] = adjacent[cur[fwd]]
        bwd = prev == cur + 1
        sims[bwd] = adjacent[prev[bwd]]
    rest = np.flatnonzero(np.isnan(sims))
    for s in range(0, len(rest), chunk):
        r = rest[s:s + chunk]
        ea = np.asarray(embeddings_at(prev[r]), np.float32)
        eb = np.asarray(embeddings_at(cur[r]), np.float32)
        sims[r] = np.einsum("ij,ij->i", ea, eb)
    joins = np.zeros(n, bool)  # sorted position i joins the burst of i - 1
    joins[cand] = sims >= rule.min_similarity
    starts = np.flatnonzero(~joins)
    run = np.cumsum(~joins) - 1
    out[order] = ids[order][starts][run]
    return out
