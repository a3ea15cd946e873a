"""Inbox metrics of the taste benchmark: ROC AUC, same-session pairwise accuracy, average precision,
recall in the top 10%, expected calibration error. Ties count half (AUC, pairwise) or as one
threshold (AP, recall@10%), so a scorer gains nothing from constant or coarse scores."""

from __future__ import annotations

import math

import numpy as np


def rankdata(a) -> np.ndarray:
    """1-based ranks, tied values sharing their mean rank."""
    a = np.asarray(a, float)
    order = np.argsort(a, kind="stable")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(1, len(a) + 1)
    _, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    return (sums / counts)[inv]


def roc_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    y = np.asarray(y, bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return None
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def pairwise(y: np.ndarray, s: np.ndarray, groups: np.ndarray) -> float | None:
    """Over every (keeper, non-keeper) pair of the same session: how often the keeper scores higher."""
    y, s, groups = np.asarray(y, bool), np.asarray(s, float), np.asarray(groups)
    wins = pairs = 0.0
    for g in np.unique(groups):
        m = groups == g
        pos, neg = s[m & y], s[m & ~y]
        if len(pos) and len(neg):
            d = pos[:, None] - neg[None, :]
            wins += float((d > 0).sum() + 0.5 * (d == 0).sum())
            pairs += d.size
    return wins / pairs if pairs else None


def average_precision(y: np.ndarray, s: np.ndarray) -> float | None:
    y, s = np.asarray(y, bool), np.asarray(s, float)
    if not y.any():
        return None
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    last = np.r_[np.nonzero(np.diff(ss))[0], len(ss) - 1]  # the end of each group of tied scores
    tp = np.cumsum(ys)[last]
    fp = (last + 1) - tp
    precision, recall = tp / (tp + fp), tp / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def recall_at(y: np.ndarray, s: np.ndarray, frac: float = 0.10) -> float | None:
    """Share of the keepers among the top `frac` of photos by score; a tie group straddling the cut
    counts in proportion to the places left."""
    y, s = np.asarray(y, bool), np.asarray(s, float)
    if not y.any():
        return None
    k = max(1, math.ceil(frac * len(s)))
    cut = np.sort(s)[::-1][k - 1]
    above = s > cut
    tied = s == cut
    room = k - int(above.sum())
    hits = float(y[above].sum()) + (room / tied.sum()) * float(y[tied].sum())
    return hits / float(y.sum())


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error with equal-width bins on [0, 1]."""
    y, p = np.asarray(y, float), np.clip(np.asarray(p, float), 0, 1)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() * abs(y[m].mean() - p[m].mean())
    return float(total / len(y))


def auc_interval(y, s, clusters, reps: int = 300, seed: int = 0) -> tuple[float, float] | None:
    """90% bootstrap interval of the ROC AUC, resampling whole scenes (a burst's frames go together)."""
    y, s, clusters = np.asarray(y, bool), np.asarray(s, float), np.asarray(clusters)
    ids = list(dict.fromkeys(clusters.tolist()))
    members = [np.nonzero(clusters == c)[0] for c in ids]
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(reps):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(ids), len(ids))])
        a = roc_auc(y[idx], s[idx])
        if a is not None:
            aucs.append(a)
    if len(aucs) < reps // 2:
        return None
    lo, hi = np.percentile(aucs, [5, 95])
    return round(float(lo), 3), round(float(hi), 3)


def burst_diagnostics(y, s, scenes, kinds) -> dict:
    """Which part of the taste a scorer gets: scene_auc = worthy scenes (those with a keeper) against
    the others, each scene scored by its best frame; burst_top1 = share of worthy scenes whose kept
    frame scores strictly highest in its burst; lost_to = the kinds of frame that beat it otherwise."""
    y, s, scenes, kinds = np.asarray(y, bool), np.asarray(s, float), np.asarray(scenes), np.asarray(kinds)
    best, worthy, top1, lost = [], [], [], {}
    for sc in dict.fromkeys(scenes.tolist()):
        m = scenes == sc
        best.append(s[m].max())
        worthy.append(bool(y[m].any()))
        if y[m].any():
            k = s[m & y].max()
            others = s[m & ~y]
            won = bool((others < k).all())
            top1.append(won)
            if not won:
                w = kinds[m & ~y][int(np.argmax(others))]
                lost[str(w)] = lost.get(str(w), 0) + 1
    auc = roc_auc(np.array(worthy), np.array(best))
    return {"scene_auc": round(auc, 4) if auc is not None else None,
            "burst_top1": round(float(np.mean(top1)), 4) if top1 else None, "lost_to": lost}


def all_metrics(y, s, groups, probabilities: bool = True) -> dict:
    y = np.asarray(y, bool)
    s = np.asarray(s, float)
    out = {"auc": roc_auc(y, s), "pairwise": pairwise(y, s, groups), "ap": average_precision(y, s),
           "recall@10%": recall_at(y, s), "ece": ece(y, s) if probabilities else None}
    return {k: (round(float(v), 4) if v is not None else None) for k, v in out.items()}


def calibration_diagnostics(inboxes: list[tuple[np.ndarray, np.ndarray]], keep_rate: float,
                            draws: int = 400, seed: int = 0, tastes: list[str] | None = None) -> dict:
    """How to read the per-photographer ECE, from (truth, probability) of each photographer's inbox:

    ece_pooled: ECE of all inboxes together (hundreds of photos instead of ~120);
    ece_review: pooled ECE against the review as the simulated photographer practises it, not the
      taste's intent: a worthy scene gets its keeper with probability `keep_rate`, so each intended
      keeper counts as keep_rate of a keeper (the labels the model was trained on carry that noise);
    ece_floor: the mean per-photographer ECE a perfectly calibrated model with these very
      probabilities would show, from `draws` labellings drawn from the probabilities themselves (the
      sampling noise of ~120 photos in ten bins);
    ece_taste, ece_taste_worst, ece_taste_floor (with `tastes`, each inbox's taste): the ECE of each
      taste's inboxes together (several photographers of one taste: `--seeds`), its mean over tastes,
      the worst taste, and the mean a perfectly calibrated model would show on inboxes that size. With
      one photographer per taste it is the per-photographer ECE."""
    if not inboxes:
        return {"ece_pooled": None, "ece_review": None, "ece_floor": None} | (
            {"ece_taste": None, "ece_taste_worst": None, "ece_taste_floor": None} if tastes is not None else {})
    probs = [np.clip(np.asarray(q, float), 0, 1) for _, q in inboxes]
    y = np.concatenate([np.asarray(t, float) for t, _ in inboxes])
    p = np.concatenate(probs)
    rng = np.random.default_rng(seed)
    floor = [np.mean([ece(rng.random(len(q)) < q, q) for _ in range(draws)]) for q in probs]
    out = {"ece_pooled": round(ece(y, p), 4), "ece_review": round(ece(y * keep_rate, p), 4),
           "ece_floor": round(float(np.mean(floor)), 4)}
    if tastes is not None:
        per, per_floor = [], []
        for taste in dict.fromkeys(tastes):
            mine = [i for i, k in enumerate(tastes) if k == taste]
            q = np.concatenate([probs[i] for i in mine])
            per.append(ece(np.concatenate([np.asarray(inboxes[i][0], float) for i in mine]), q))
            per_floor.append(np.mean([ece(rng.random(len(q)) < q, q) for _ in range(draws)]))
        out |= {"ece_taste": round(float(np.mean(per)), 4), "ece_taste_worst": round(float(max(per)), 4),
                "ece_taste_floor": round(float(np.mean(per_floor)), 4)}
    return out
