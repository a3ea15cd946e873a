"""Positions grouped by a key (a session, a burst): each group's members in one sort, and per
position the median of a value over its group and its percentile rank there. What the context
inputs (fluxcull.keeper.context) and the burst choice (fluxcull.keeper.burst_choice) are built on."""

from __future__ import annotations

import numpy as np


class Groups:
    """Positions grouped by a key: a sort order, each group's start and each position's group."""

    def __init__(self, keys: np.ndarray, secondary: np.ndarray | None = None):
        keys = np.asarray(keys)
        self.order = np.lexsort((secondary, keys)) if secondary is not None else np.argsort(keys, kind="stable")
        ks = keys[self.order]
        flag = np.r_[True, ks[1:] != ks[:-1]] if len(ks) else np.zeros(0, bool)
        self.starts = np.flatnonzero(flag)
        self.sizes = np.diff(np.r_[self.starts, len(ks)])
        gid_sorted = np.cumsum(flag) - 1
        self.gid = np.empty(len(ks), np.int64)
        self.gid[self.order] = gid_sorted

    def size_of(self) -> np.ndarray:
        return self.sizes[self.gid]


def _stable_order32(key: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """The positions `order` (every position when None) stably sorted by their unsigned 32-bit keys
    `key[order]`: two radix passes of 16 bits (numpy's stable sort of uint16 is a counting sort),
    the second skipped where every key fits in 16 bits."""
    key = np.asarray(key, np.uint32)
    if order is not None:
        key = key[order]
    o = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    if key.max(initial=0) >= 2 ** 16:
        o = o[np.argsort((key[o] >> 16).astype(np.uint16), kind="stable")]
    return o if order is None else order[o]


def value_ranks(values: np.ndarray) -> np.ndarray:
    """int64 position of each value in ascending order (missing values last; ties by position).
    Values that are all float32 (the stored features) are ordered by two radix passes over their
    bits, in under half the time of a comparison sort; others by that sort."""
    v = np.asarray(values, np.float64)
    key = np.where(np.isfinite(v), v, np.inf)
    k32 = key.astype(np.float32)
    if len(v) > 1024 and np.array_equal(k32, key):
        bits = (k32 + np.float32(0.0)).view(np.uint32)  # + 0: -0.0 is +0.0, a tie as it compares
        by_value = _stable_order32(np.where(bits >> 31, ~bits, bits | np.uint32(0x80000000)))  # float order
    else:
        by_value = np.argsort(key, kind="stable")
    out = np.empty(len(v), np.int64)
    out[by_value] = np.arange(len(v))
    return out


def group_value_order(g: np.ndarray, value_rank: np.ndarray) -> np.ndarray:
    """Positions sorted by group id g, then by value (value_rank: `value_ranks`, a permutation):
    np.argsort(g * n + value_rank), whose keys are distinct. Made by stable radix sorts of the group
    ids taken in value order, 16 bits at a time (one or two passes for up to 2^32 groups), several
    times faster than a comparison sort of the n keys; every feature of every photo takes two."""
    n = len(g)
    g = np.asarray(g, np.int64)
    if n == 0 or g.min() < 0 or g.max() >= 2 ** 32:
        return np.argsort(g * n + value_rank)
    order = np.empty(n, np.int64)
    order[value_rank] = np.arange(n)  # positions in value order
    return _stable_order32(g, order)


def median_and_rank(groups: Groups, values: np.ndarray, ranks: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per position: the median of `values` over its group, and its percentile rank in the group
    (ties share their mean rank; 0.5 alone). NaN values are left out and get NaN. `ranks`: the
    values' `value_ranks`, when already known (one sort serves every grouping)."""
    v = np.asarray(values, np.float64)
    n = len(v)
    med, rank = np.full(n, np.nan), np.full(n, np.nan)
    if n == 0:
        return med, rank
    valid = np.isfinite(v)
    g = groups.gid
    value_rank = value_ranks(v) if ranks is None else ranks
    order = group_value_order(g, value_rank)
    gs, vs, ok = g[order], v[order], valid[order]
    new_group = np.r_[True, gs[1:] != gs[:-1]]
    gstart = np.flatnonzero(new_group)
    gidx = np.cumsum(new_group) - 1
    count = np.add.reduceat(ok.astype(np.int64), gstart)
    pos_in = np.arange(n) - gstart[gidx]
    new_run = new_group | ~ok | np.r_[True, vs[1:] != vs[:-1]]
    run_start = np.flatnonzero(new_run)
    run_id = np.cumsum(new_run) - 1
    run_len = np.diff(np.r_[run_start, n])
    avg = pos_in[run_start][run_id] + (run_len[run_id] - 1) / 2.0
    c = count[gidx]
    r = np.where(c > 1, avg / np.maximum(c - 1, 1), 0.5)
    r[~ok] = np.nan
    lo = np.minimum(gstart + (count - 1) // 2, n - 1)
    hi = np.minimum(gstart + count // 2, n - 1)
    m = np.where(count > 0, (vs[lo] + vs[hi]) / 2.0, np.nan)
    med[order] = m[gidx]
    rank[order] = r
    return med, rank
