"""Ranking metrics on held-out photos: ROC AUC, average precision, same-session pairwise accuracy,
recall in the top fraction. Ties count half everywhere (average ranks)."""

from __future__ import annotations

import math

import numpy as np


def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], len(xs)]
    r = np.empty(len(x))
    mean_rank = (starts + ends + 1) / 2.0  # mean of (start+1 .. end)
    r[order] = np.repeat(mean_rank, ends - starts)
    return r


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    label = np.asarray(label) == 1
    npos, nneg = int(label.sum()), int((~label).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    r = average_ranks(score)
    return float((r[label].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def average_precision(score: np.ndarray, label: np.ndarray) -> float:
    label = np.asarray(label) == 1
    npos = int(label.sum())
    if npos == 0:
        return float("nan")
    order = np.argsort(-np.asarray(score, np.float64), kind="stable")
    hits = label[order]
    cum = np.cumsum(hits)
    prec = cum / np.arange(1, len(hits) + 1)
    return float(prec[hits].sum() / npos)


def pairwise_accuracy(score: np.ndarray, label: np.ndarray, group: np.ndarray) -> tuple[float, int]:
    """Fraction of same-group (keeper, non-keeper) pairs ordered right (ties count half); and the pair count."""
    score = np.asarray(score, np.float64)
    label = np.asarray(label) == 1
    order = np.argsort(group, kind="stable")
    g = np.asarray(group)[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(g)]
    won, total = 0.0, 0
    for s, e in zip(starts, ends):
        idx = order[s:e]
        lab = label[idx]
        npos = int(lab.sum())
        nneg = len(idx) - npos
        if npos == 0 or nneg == 0:
            continue
        r = average_ranks(score[idx])
        won += r[lab].sum() - npos * (npos + 1) / 2
        total += npos * nneg
    return (float(won / total) if total else float("nan")), int(total)


def recall_at(score: np.ndarray, label: np.ndarray, frac: float) -> float:
    label = np.asarray(label) == 1
    npos = int(label.sum())
    if npos == 0:
        return float("nan")
    k = int(math.ceil(frac * len(label)))
    top = np.argsort(-np.asarray(score, np.float64), kind="stable")[:k]
    return float(label[top].sum() / npos)
