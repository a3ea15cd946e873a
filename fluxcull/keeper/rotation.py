"""The rotation of a frame against the rest of its burst, from the orientation signatures of the
features (fluxcull.embedding.features.ORIENTATION_NAMES): the context input `rotation_vs_burst`
(fluxcull.keeper.context). A horizon tilted in one frame of a burst is the near-miss of the level
ones."""

from __future__ import annotations

import numpy as np

from fluxcull.embedding.features import ORIENTATION_HARMONICS
from fluxcull.keeper.groups import Groups, median_and_rank

ROTATION_NEIGHBOURS = 8
_ROTATION_STEP = 0.5  # degrees between the correlation's samples, refined by a parabola
_ROTATION_GRID = np.radians(np.arange(-12.0, 12.0 + _ROTATION_STEP / 2, _ROTATION_STEP))
_STEER_ANGLES = 2 * np.arange(1, ORIENTATION_HARMONICS + 1)[:, None] * _ROTATION_GRID[None, :]
_STEER_COS, _STEER_SIN = np.cos(_STEER_ANGLES).astype(np.float32), np.sin(_STEER_ANGLES).astype(np.float32)


def relative_rotation(a: np.ndarray, b: np.ndarray, signed: bool = False) -> np.ndarray:
    """Degrees by which the frames with orientation signatures a are rotated against those with b,
    row by row (NaN where either is missing): the rotation within +-12 degrees that best aligns the
    two orientation distributions (their cross-correlation, from the harmonics, on a half-degree grid
    refined by a parabola). Absolute unless `signed` (then relative_rotation(b, a) = -relative_rotation(a, b))."""
    deg = np.full(len(a), np.nan)
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    a, b = a[ok], b[ok]
    k = ORIENTATION_HARMONICS
    ar, ai, br, bi = a[:, :k], a[:, k:], b[:, :k], b[:, k:]
    # rotating by t multiplies harmonic h by exp(-2iht): the correlation at t is
    # Re sum_h a_h conj(b_h) exp(2iht) = sum_h re_h cos(2ht) - im_h sin(2ht)
    re, im = ar * br + ai * bi, ai * br - ar * bi
    corr = re @ _STEER_COS - im @ _STEER_SIN
    g = len(_ROTATION_GRID)
    j = np.argmax(corr, axis=1)
    jj = np.clip(j, 1, g - 2)
    rows = np.arange(len(j))
    y0, y1, y2 = corr[rows, jj - 1], corr[rows, jj], corr[rows, jj + 1]
    denom = y0 - 2.0 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where((j == jj) & (denom < 0), np.clip(0.5 * (y0 - y2) / denom, -0.5, 0.5), 0.0)
    deg[ok] = np.degrees(_ROTATION_GRID[j]) + off * _ROTATION_STEP
    return deg if signed else np.abs(deg)


def rotation_vs_burst(by_burst: Groups, orientation: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Per photo: how far (degrees) it is rotated against its burst's consensus; NaN alone or without
    a signature. Each frame's own angle is the median of its signed rotations against its nearest
    frames in the burst (up to ROTATION_NEIGHBOURS before and after in capture order), the consensus
    the median of those angles over the burst. Against the consensus, not against each neighbour: in a
    burst of three with one crooked frame the straight ones' median of (4, 0) degrees would be 2, the
    crooked one's 4; against the consensus they read 0 and 6."""
    n = len(orientation)
    order, gid = by_burst.order, by_burst.gid
    g_sorted = gid[order]
    vals = np.full((n, 2 * ROTATION_NEIGHBOURS), np.nan, np.float32)
    for d in range(1, ROTATION_NEIGHBOURS + 1):
        i = np.flatnonzero(g_sorted[d:] == g_sorted[:-d]) if n > d else np.zeros(0, np.int64)
        if not len(i):
            break  # no burst has more than d frames
        first, second = order[i], order[i + d]
        for s in range(0, len(i), chunk):
            rot = relative_rotation(orientation[first[s:s + chunk]], orientation[second[s:s + chunk]], signed=True)
            vals[first[s:s + chunk], d - 1] = rot
            vals[second[s:s + chunk], ROTATION_NEIGHBOURS + d - 1] = -rot
    angle = np.full(n, np.nan, np.float32)
    have = np.isfinite(vals).any(axis=1)
    if have.any():
        angle[have] = np.nanmedian(vals[have], axis=1)
    consensus, _ = median_and_rank(by_burst, angle.astype(np.float64))
    return np.abs(angle - consensus).astype(np.float32)
