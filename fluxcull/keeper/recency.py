"""Recency weighting of training: recent decisions count more (the setting
`training.recency_half_life_months`, declared in fluxcull.catalog.settings; 0, the default, is off).

A photo's weight is multiplied by 2 ** (-age / half_life), its age being how long before the newest
training photo it was taken (months of 365.2425 / 12 days). The factors are then scaled so that
their mean over the training photos is 1: the model sees as much weight in all as without recency
(its regularisation keeps its strength), only shifted towards the recent photos; and the newest
training photo, not today's date, is the reference, so a library not shot in for a year, or the
older part of the by-time split, is weighted the same way. A photo without a capture time gets the
mean factor (1): it can be neither favoured nor held back by a date it does not have.

Every method trained on pairs or rows takes it (fluxcull.keeper.evaluate.fit_model), so both
evaluation splits measure it like anything else; the centroid has no weights.
"""

from __future__ import annotations

import numpy as np

SETTING = "training.recency_half_life_months"
MONTH_S = 365.2425 / 12 * 86400.0


def half_life_months(conn) -> int:
    """The library's setting (0: off)."""
    from fluxcull.catalog.settings import get

    return int(get(conn, SETTING) or 0)


def recency_factors(time: np.ndarray, train: np.ndarray, half_life_months: float) -> np.ndarray:
    """float32 factor per photo (1.0 everywhere when off or when no training photo has a date),
    mean 1 over the photos where `train` is true."""
    time = np.asarray(time, np.float64)
    train = np.asarray(train, bool)
    out = np.ones(len(time), np.float32)
    dated = np.isfinite(time)
    if not half_life_months or half_life_months <= 0 or not (train & dated).any():
        return out
    newest = float(time[train & dated].max())
    age = np.maximum(newest - time[dated], 0.0) / MONTH_S   # photos after it (not trained on) count as newest
    f = np.exp2(-age / float(half_life_months))
    out[dated] = (f / f[train[dated]].mean()).astype(np.float32)   # mean 1 over the dated training photos
    return out


def training_weights(weight: np.ndarray, time: np.ndarray, train: np.ndarray,
                     half_life_months: float) -> np.ndarray:
    """The corpus weights (stars) times the recency factors; the very array given when off, so a
    library without the setting trains bit for bit as before."""
    if not half_life_months:
        return weight
    return (np.asarray(weight, np.float32) * recency_factors(time, train, half_life_months)).astype(np.float32)
