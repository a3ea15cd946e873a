"""Bursts: runs of frames of one scene, shot seconds apart. The one definition fluxcull uses.

Within a session, photos are taken in capture-time order; a photo joins the burst of the photo
before it when both
- were taken at most `gap_seconds` apart, and
- look alike: the cosine similarity of their (L2-normalised) embeddings is at least `min_similarity`.
One odd frame does not split a burst: a photo that looks like the photo two before it (both within
`gap_seconds`) joins that one's burst, and the frame between them (a blown exposure, a frame of the
ground, a misfire) goes with them. Anything else starts a new burst; a photo without a capture time
is a burst of its own. A burst is named by the photo id of its first frame, so its id survives
re-computation as long as that frame does. The keeper model's context inputs
(fluxcull.keeper.context) describe each photo against its burst; the grid's stacks use the same
function (fluxcull.keeper.stacks). `DEFINITION` numbers this rule: the stacks' signatures and the
context schema change with it.

Why the bridge (definition 2): a nearly white scene's overexposed frame, or a dark one's
underexposed frame, is no longer like its neighbours, and without it the burst split in two there,
each half comparing its frames with the wrong mates. On the taste benchmark's 28 kept photographers
(seeds 1-7, 101-107, 201-207, 301-307; `train --model gbt --force`), 7 changed; paired,
mean inbox same-session pairwise 0.9730 -> 0.9756 (4 better, 3 worse), burst top-1 0.917 -> 0.922,
AUC 0.9735 -> 0.9744, ECE 0.0526 -> 0.0524; the photographer of seed 206 (a walk with a white
scene) 0.923 -> 0.973.

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

DEFINITION = 2  # of the rule above (1: neighbours only; 2: one odd frame bridged)
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
    adjacent (optional): cosine similarity of each position's embedding to the previous position's
    (n), or that and the cosine to the position two before (n x 2); used wherever capture-time order
    follows position order (the usual case), saving the reads.
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
    cos = None if adjacent is None else np.asarray(adjacent).reshape(n, -1)  # columns: 1 and 2 back
    sims = _known(prev, cur, None if cos is None else cos[:, 0], 1, len(cand))
    rest = np.flatnonzero(np.isnan(sims))
    for s in range(0, len(rest), chunk):
        r = rest[s:s + chunk]
        ea = np.asarray(embeddings_at(prev[r]), np.float32)
        eb = np.asarray(embeddings_at(cur[r]), np.float32)
        sims[r] = np.einsum("ij,ij->i", ea, eb)
    joins = np.zeros(n, bool)  # sorted position i joins the burst of i - 1
    joins[cand] = sims >= rule.min_similarity
    _bridge(joins, order, s_sorted, t_sorted, embeddings_at, rule, chunk,
            cos[:, 1] if cos is not None and cos.shape[1] > 1 else None)
    starts = np.flatnonzero(~joins)
    run = np.cumsum(~joins) - 1
    out[order] = ids[order][starts][run]
    return out


def _bridge(joins: np.ndarray, order: np.ndarray, s_sorted: np.ndarray, t_sorted: np.ndarray, embeddings_at,
            rule: BurstRule, chunk: int, two_back: np.ndarray | None) -> None:
    """Sorted position i joins i - 2 (and i - 1 goes with them) where the two look alike within the gap
    and the chain broke between them: one odd frame inside a burst."""
    if len(joins) < 3:
        return
    with np.errstate(invalid="ignore"):
        near = (s_sorted[2:] == s_sorted[:-2]) & (t_sorted[2:] - t_sorted[:-2] <= rule.gap_seconds)
    near &= np.isfinite(t_sorted[2:]) & np.isfinite(t_sorted[:-2])
    cand = np.flatnonzero(near) + 2
    cand = cand[~joins[cand] | ~joins[cand - 1]]
    prev, cur = order[cand - 2], order[cand]
    sims = _known(prev, cur, two_back, 2, len(cand))
    rest = np.flatnonzero(np.isnan(sims))
    for s in range(0, len(rest), chunk):
        r = rest[s:s + chunk]
        sims[r] = np.einsum("ij,ij->i", np.asarray(embeddings_at(prev[r]), np.float32),
                            np.asarray(embeddings_at(cur[r]), np.float32))
    ok = cand[sims >= rule.min_similarity]
    joins[ok] = True
    joins[ok - 1] = True


def _known(prev: np.ndarray, cur: np.ndarray, cosines: np.ndarray | None, d: int, n: int) -> np.ndarray:
    """Cosines of the pairs (prev, cur) that `cosines` (of each corpus position to the one d before it)
    holds: where the two are d corpus positions apart, either way round; NaN elsewhere."""
    sims = np.full(n, np.nan, np.float32)
    if cosines is not None:
        fwd = cur == prev + d
        sims[fwd] = cosines[cur[fwd]]
        bwd = prev == cur + d
        sims[bwd] = cosines[prev[bwd]]
    return sims
