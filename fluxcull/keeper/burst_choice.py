"""Which frame of a burst the photographer keeps: a conditional logit over each burst's frames.

A burst (fluxcull.keeper.bursts) is one moment shot several times; the photographer keeps the frame
without the near-miss's fault (misfocus, shake, a wrong exposure, a crooked horizon, a cut-off
subject). The choice model scores each frame by a linear function s = w . x of its burst-relative
inputs: the `_vs_burst` and `_rank_burst` columns of the model's input matrix, `burst_sim`,
`burst_typical`, `rotation_vs_burst` (fluxcull.keeper.context), and the size of each `_vs_burst`
deviation (a frame too dark and one too bright both lose: a linear score needs |x| to say so). Its
output is the frame's log share of its burst, s_i - log sum_k exp(s_k): 0 for a photo alone, below 0
for a frame its burst-mates outshine.

Fitted on the training bursts that hold a keeper and a non-keeper: logistic regression on the
differences keeper - other over every such pair in a burst (the conditional logit's pairwise form),
L2-penalised, by Newton's method; deterministic, no randomness. With tens of keepers, trees separate
their training near-misses through whichever inputs split first (`burst_typical`, a sharpness rank)
and leave the rest unused: a crooked frame that happens to be its burst's most typical one then wins
its burst. A linear model over all the burst inputs at once weighs them together and generalises
from few bursts.
"""

from __future__ import annotations

import numpy as np

from fluxcull.keeper.groups import Groups

L2 = 1.0
NEWTON_STEPS = 25
MAX_PAIRS = 200_000  # pairs drawn beyond this (a large corpus: tens of thousands of decided bursts)


def columns(column_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(columns read as they are, columns whose size is read too) of the model's input matrix."""
    use, size = [], []
    for j, name in enumerate(column_names):
        if name.endswith("_missing"):
            continue
        if name.endswith("_vs_burst") or name.endswith("_rank_burst") or name in (
                "burst_sim", "burst_typical", "rotation_vs_burst"):
            use.append(j)
            if name.endswith("_vs_burst"):
                size.append(j)
    return np.asarray(use, np.int64), np.asarray(size, np.int64)


def _design(x: np.ndarray, use: np.ndarray, size: np.ndarray) -> np.ndarray:
    return np.concatenate([x[:, use], np.abs(x[:, size])], axis=1).astype(np.float64)


def choice_pairs(label: np.ndarray, burst: np.ndarray, train: np.ndarray, preferences=(),
                 max_pairs: int = MAX_PAIRS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(chosen positions, other positions): every keeper against every non-keeper of its burst, over
    the training bursts that hold both (labelled photos only), then each side-by-side choice
    (preferences: (winner, loser) positions) between two frames of one burst."""
    burst = np.asarray(burst)
    same = [(a, b) for a, b in preferences if burst[a] == burst[b]]
    pref_a = np.asarray([a for a, _ in same], np.int64)
    pref_b = np.asarray([b for _, b in same], np.int64)
    lab = np.flatnonzero(train & (label >= 0))
    groups = Groups(burst[lab])
    pos = (label[lab] == 1)[groups.order]
    members = lab[groups.order]
    n_pos = np.add.reduceat(pos.astype(np.int64), groups.starts) if len(lab) else np.zeros(0, np.int64)
    pa, pb = [], []
    # only the bursts with a keeper and a non-keeper teach a choice (a few per keeper)
    for g in np.flatnonzero((n_pos > 0) & (n_pos < groups.sizes)):
        s, e = groups.starts[g], groups.starts[g] + groups.sizes[g]
        k, o = members[s:e][pos[s:e]], members[s:e][~pos[s:e]]
        pa.append(np.repeat(k, len(o)))
        pb.append(np.tile(o, len(k)))
    a = np.concatenate(pa) if pa else np.zeros(0, np.int64)
    b = np.concatenate(pb) if pb else np.zeros(0, np.int64)
    if len(a) > max_pairs:
        pick = np.sort(np.random.default_rng(seed + 303).choice(len(a), size=max_pairs, replace=False))
        a, b = a[pick], b[pick]
    return np.r_[a, pref_a].astype(np.int64), np.r_[b, pref_b].astype(np.int64)


def fit(x: np.ndarray, column_names: list[str], label: np.ndarray, burst: np.ndarray, train: np.ndarray,
        preferences=(), l2: float = L2, seed: int = 0) -> dict | None:
    """{'use', 'size', 'w', 'pairs'}, or None where no training burst holds both a keeper and a
    non-keeper and no side-by-side choice was made inside a burst."""
    use, size = columns(column_names)
    a, b = choice_pairs(label, burst, train, preferences, seed=seed)
    if not len(a) or not len(use):
        return None
    d = _design(x[a], use, size) - _design(x[b], use, size)
    # the loss is that of each difference with target 1 and its negation with target 0 (no intercept:
    # which side of a pair comes first must not matter): 2 sum -log sigmoid(d.w) + l2/2 |w|^2
    w = np.zeros(d.shape[1])
    eye = l2 * np.eye(d.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(d @ w, -30, 30)))  # P(the keeper beats the other frame)
        grad = 2.0 * (d.T @ (p - 1.0)) + l2 * w
        hess = 2.0 * (d * (p * (1.0 - p))[:, None]).T @ d + eye
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return {"use": use, "size": size, "w": w.astype(np.float64), "pairs": int(len(a))}


def choice_scores(p: dict, x: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """w . inputs per row (in row blocks: gathering a few columns of a wide matrix at once is slow)."""
    use, size = p["use"], p["size"]
    w_use, w_size = p["w"][:len(use)].astype(np.float32), p["w"][len(use):].astype(np.float32)
    out = np.empty(len(x), np.float64)
    for s in range(0, len(x), chunk):
        block = x[s:s + chunk]
        out[s:s + chunk] = block[:, use] @ w_use + np.abs(block[:, size]) @ w_size
    return out


def log_share(p: dict, x: np.ndarray, burst: np.ndarray) -> np.ndarray:
    """Each frame's log share of its burst under the choice model (0 alone in its burst)."""
    s = choice_scores(p, x)
    if not len(s):
        return s
    groups = Groups(burst)
    ss = s[groups.order]
    top = np.maximum.reduceat(ss, groups.starts)[groups.gid]
    total = np.add.reduceat(np.exp(ss - top[groups.order]), groups.starts)[groups.gid]
    return s - top - np.log(total)


def contributions(p: dict, mates: np.ndarray, i: int) -> np.ndarray:
    """Per input-matrix column, what moved frame i's choice score away from its burst's (the share-
    weighted mean over `mates`, every frame of the burst): w_j (input_ij - sum_k share_k input_kj);
    they add up to s_i minus the burst's mean score."""
    use, size = p["use"], p["size"]
    design = _design(np.asarray(mates, np.float32), use, size)
    s = design @ p["w"]
    share = np.exp(s - s.max())
    share /= share.sum()
    per = p["w"] * (design[i] - share @ design)
    out = np.zeros(mates.shape[1], np.float64)
    np.add.at(out, np.r_[use, size], per)
    return out
