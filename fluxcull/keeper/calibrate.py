"""Turning raw ranker scores into keeper probabilities that mean what the bands say.

Raw scores of different models (fold models, the final model) live on different scales, so a raw
score is first mapped to a rank: the fraction of the model's own training photos it scores lower
(quantiles stored with the model). Measuring against the training photos, never against a mix of
seen and unseen ones, keeps ranks comparable between a fold model (whose held-out photos calibrate)
and the final model (whose new photos are scored); a calibrator fitted on held-out photos then maps that rank
to P(keeper): isotonic regression (pool-adjacent-violators) when there are enough held-out keepers,
Platt scaling (a logistic curve on logit rank) otherwise.

A scorer whose raw score is a log-odds (the boosted trees: `RAW_SCALE_KINDS`) is calibrated on that
raw score instead: a held-out photo's raw score means the same in a fold model and in the final one,
while its rank does not. Each model memorises its own training keepers at the very top, so new
keepers land in a narrow band of ranks just below them, and where that band sits moves between a
fold model and the final model (the final model's inbox keepers came out under-confident). The
curve fitted on raw scores is then written out over the final model's quantiles as a table of
(rank, probability), so scoring still goes through the rank. Reliability tables and the expected
calibration error (ECE) measure how well the probabilities match what happened.

A keeper archive is incomplete: photographers leave photos they would keep unexported. Its labels
say "exported", and a curve fitted on them says so too, short of "would keep" by the share left out
everywhere. On raw scores the curve is therefore fitted as p(exported) = c * sigmoid(a x + b)
(`lapse_fit`): c, the export rate, is how far the exports of the best-scored photos fall short of
all of them, under a prior that takes the archive as complete unless its labels say otherwise. The
score is the keeper curve, sigmoid(a x + b) (isotonic: the exported rate divided by c); the held-out
ECE of `evaluate` compares c x the score with the exports, which is what the archive can check.
"""

from __future__ import annotations

import numpy as np

MIN_POSITIVES_ISOTONIC = 100
# Scorers calibrated on their raw score (a log-odds), not on its rank. 28 kept taste-benchmark
# libraries (seeds 1-7, 101-107, 201-207, 301-307), ECE against the taste's intent: per inbox 0.056 on
# ranks, 0.053 on raw scores (paired difference -0.003, standard error 0.0025: better on 13, worse
# on 15, within an inbox's noise); pooled over each set of libraries 0.038 -> 0.032, 0.043 -> 0.034,
# 0.040 -> 0.039. The pairwise rankers' raw scores have no fixed scale between fits: ranks for them
RAW_SCALE_KINDS = ("gbt",)
# Prior on the export rate c: Beta(4, 1), density c^3 on [MIN_EXPORT_RATE, 1], most likely 1 (a complete
# archive). On 28 simulated photographers (benchmarks.taste_build: 15% of the worthy scenes never
# exported) the estimate averaged 0.92 (0.54-1.00); fitted on labels with nothing left out, 0.99
# (0.87-1.00). Without the prior the estimate was unbiased (0.80 against a true 0.79) but spread
# 0.47-1.00 on libraries of 30-50 keepers.
EXPORT_PRIOR = (4.0, 1.0)
MIN_EXPORT_RATE = 0.5
LAPSE_BINS = 4000
# quantile grid, denser towards the top where keepers live
QUANTILE_GRID = 1.0 - (1.0 - np.linspace(0.0, 1.0, 2001)) ** 3


def score_quantiles(raw: np.ndarray) -> np.ndarray:
    raw = np.asarray(raw, np.float64)
    raw = raw[np.isfinite(raw)]
    if len(raw) == 0:
        return np.zeros(len(QUANTILE_GRID))
    return np.quantile(raw, QUANTILE_GRID)


def to_rank(raw: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Corpus rank in [0, 1] of raw scores, from the stored quantiles (ties share a rank)."""
    uq, grid = _quantile_knots(quantiles)  # strictly increasing for interpolation
    if len(uq) == 1:
        return np.where(np.asarray(raw) > uq[0], 1.0, np.where(np.asarray(raw) < uq[0], 0.0, 0.5))
    return np.interp(np.asarray(raw, np.float64), uq, grid, left=0.0, right=1.0)


def _sigmoid(z):
    """1 / (1 + exp(-z)) without overflow for any z: exp only ever sees -|z| (underflow to 0 is the
    right limit), and the negative side keeps its full relative precision (e.g. 4.2e-18 at -40)."""
    z = np.asarray(z, np.float64)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class Calibrator:
    """rank in [0, 1] -> probability, fitted on held-out (rank, label) pairs, or on held-out raw scores
    (`fit_raw`). `method`: how it was fitted; `params`: Platt's (slope, intercept), or knots (x;
    probability) that are interpolated. `on_raw`: x is a raw score itself, not a rank (Platt then
    reads it as it is, not its logit); such a curve is only ever written out as a table over ranks."""

    def __init__(self, method: str, params: np.ndarray, on_raw: bool = False, export_rate: float = 1.0):
        self.method = method
        self.params = np.asarray(params, np.float64)
        self.on_raw = on_raw
        self.export_rate = float(export_rate)  # c: exports = c x the probability (1: not estimated)

    @classmethod
    def fit(cls, x: np.ndarray, label: np.ndarray, method: str | None = None, on_raw: bool = False) -> "Calibrator":
        x = np.asarray(x, np.float64)
        label = np.asarray(label, np.float64)
        method = _method(label, method)
        if on_raw:  # raw scores: the keeper curve under the archive's export rate (module docstring)
            a, b, c = lapse_fit(x, label)
            if method == "isotonic":
                kx, ky = isotonic_fit(x, label, lo=float(x.min()), hi=float(x.max()))
                return cls("isotonic", np.stack([kx, np.minimum(ky / c, 1.0)]), True, c)
            return cls("platt", np.array([a, b]), True, c)
        if method == "isotonic":
            return cls("isotonic", np.stack(isotonic_fit(x, label)), on_raw)
        return cls("platt", platt_fit(_logit(x), label), on_raw)

    @classmethod
    def fit_raw(cls, raw: np.ndarray, label: np.ndarray, quantiles: np.ndarray,
                method: str | None = None) -> "Calibrator":
        """Fitted on held-out raw scores, written out as a table over the ranks of the scoring model
        whose training-photo `quantiles` these are (the table's knots: its distinct quantiles)."""
        curve = cls.fit(raw, label, method, on_raw=True)
        uq, grid = _quantile_knots(quantiles)
        return cls(curve.method, np.stack([grid, curve(uq)]), export_rate=curve.export_rate)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.params.ndim == 2 and self.params.shape[0] == 2:  # a table of knots (x, probability)
            return np.interp(x, self.params[0], self.params[1])
        a, b = self.params
        with np.errstate(over="ignore"):  # an extreme slope saturates to 0 / 1, no warning
            return _sigmoid(a * (x if self.on_raw else _logit(x)) + b)

    def to_array(self) -> np.ndarray:
        if self.on_raw:
            raise ValueError("a curve over raw scores is saved as its table over ranks (Calibrator.fit_raw)")
        if self.params.ndim == 2:  # knots
            return self.params
        return self.params.reshape(1, 2)

    @classmethod
    def from_array(cls, arr: np.ndarray) -> "Calibrator":
        arr = np.asarray(arr, np.float64)
        return cls("platt", arr[0]) if arr.shape[0] == 1 else cls("knots", arr)


def _method(label: np.ndarray, method: str | None) -> str:
    if method is None:
        return "isotonic" if int(np.asarray(label).sum()) >= MIN_POSITIVES_ISOTONIC else "platt"
    if method not in ("isotonic", "platt"):
        raise ValueError(f"unknown calibration method {method!r}")
    return method


def _quantile_knots(quantiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct quantile values, the rank `to_rank` gives each): where quantiles tie, the middle of
    the grid span they cover."""
    q = np.asarray(quantiles, np.float64)
    uq, first = np.unique(q, return_index=True)
    last = np.r_[first[1:] - 1, len(q) - 1]
    return uq, (QUANTILE_GRID[first] + QUANTILE_GRID[last]) / 2


def equal_count_bins(x: np.ndarray, y: np.ndarray, max_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean x, sum of y, count) of at most `max_bins` equal-count bins of x in ascending order; with
    no more points than that, every point its own bin."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    if len(xs) <= max_bins:
        return xs, ys, np.ones(len(xs))
    edges = np.linspace(0, len(xs), max_bins + 1).astype(np.int64)
    wts = np.diff(edges).astype(np.float64)
    return np.add.reduceat(xs, edges[:-1]) / wts, np.add.reduceat(ys, edges[:-1]), wts


def unexported_share(export_rate) -> float | None:
    """The share of keepers an archive left unexported, to tell the photographer; None when it is
    not worth a word (an estimate of 1, or none)."""
    if export_rate is None or not np.isfinite(export_rate) or export_rate >= 0.995:
        return None
    return 1.0 - float(export_rate)


def isotonic_fit(x: np.ndarray, y: np.ndarray, max_blocks: int = 2000, lo: float = 0.0,
                 hi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Non-decreasing fit of y on x (pool adjacent violators); returns interpolation knots, anchored
    flat at lo and hi (the ends of x's range)."""
    # pre-bin equal-count so PAV runs on at most max_blocks points (keeps it fast on 400k photos)
    xs, sums_y, wts = equal_count_bins(x, y, max_blocks)
    ys = sums_y / wts
    val, wgt, xsum = [], [], []
    for xi, yi, wi in zip(xs, ys, wts):
        val.append(yi)
        wgt.append(wi)
        xsum.append(xi * wi)
        while len(val) > 1 and val[-2] > val[-1]:
            w2 = wgt[-2] + wgt[-1]
            v2 = (val[-2] * wgt[-2] + val[-1] * wgt[-1]) / w2
            x2 = xsum[-2] + xsum[-1]
            val[-2:], wgt[-2:], xsum[-2:] = [v2], [w2], [x2]
    kx = np.array(xsum) / np.array(wgt)
    ky = np.array(val)
    # anchor the ends so extrapolation stays flat
    kx = np.r_[lo, kx, hi]
    ky = np.r_[ky[0], ky, ky[-1]]
    kx, idx = np.unique(kx, return_index=True)
    return kx, ky[idx]


def platt_fit(z: np.ndarray, y: np.ndarray, iters: int = 100, ridge: float = 1e-3) -> np.ndarray:
    """Logistic regression p = sigmoid(a z + b) with Platt's target smoothing, by Newton's method
    with a backtracking line search (never diverges) and a small ridge on the slope."""
    z = np.asarray(z, np.float64)
    y = np.asarray(y, np.float64)
    npos, nneg = y.sum(), len(y) - y.sum()
    t = np.where(y > 0.5, (npos + 1) / (npos + 2), 1 / (nneg + 2))

    def loss(a, b):
        u = a * z + b
        # -[t log s(u) + (1-t) log(1-s(u))], stably
        return float(np.sum(np.logaddexp(0, u) - t * u) + ridge * a * a)

    a, b = 1.0, float(_logit(np.array([max(npos, 1) / max(len(y), 1)]))[0])
    cur = loss(a, b)
    for _ in range(iters):
        p = _sigmoid(a * z + b)
        g = np.array([np.sum((p - t) * z) + 2 * ridge * a, np.sum(p - t)])
        wv = p * (1 - p) + 1e-12
        h = np.array([[np.sum(wv * z * z) + 2 * ridge, np.sum(wv * z)], [np.sum(wv * z), np.sum(wv)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        lam = 1.0
        while lam > 1e-6:
            na, nb = a - lam * step[0], b - lam * step[1]
            new = loss(na, nb)
            if new <= cur:
                break
            lam /= 2
        else:
            break
        a, b = na, nb
        if abs(cur - new) < 1e-10 * max(1.0, abs(cur)):
            cur = new
            break
        cur = new
    return np.array([a, b])


def lapse_fit(x: np.ndarray, y: np.ndarray, prior: tuple[float, float] = EXPORT_PRIOR,
              ridge: float = 1e-3) -> tuple[float, float, float]:
    """(a, b, c) of p(y) = c * sigmoid(a x + b), c in [MIN_EXPORT_RATE, 1], by maximum a posteriori
    with a Beta `prior` on c and a small ridge on the slope (L-BFGS-B, exact gradient). Without
    positives or negatives: Platt's fit and c = 1."""
    from scipy.optimize import minimize

    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if y.sum() == 0 or y.sum() == len(y):
        a0, b0 = platt_fit(x, y)
        return float(a0), float(b0), 1.0
    # Above LAPSE_BINS photos the likelihood is read over equal-count bins of x (their mean score,
    # their keepers and photos): a 400,000-photo library fits in the time of a 4,000-photo one
    x, pos, tot = equal_count_bins(x, y, LAPSE_BINS)
    neg = tot - pos
    a0, b0 = platt_fit(x, pos / tot)
    al, be = prior

    def f(t):
        a, b, c = t
        u = a * x + b
        s, sn = _sigmoid(u), _sigmoid(-u)
        q = np.maximum((1.0 - c) + c * sn, 1e-300)  # 1 - c s without cancellation when s is near 1
        with np.errstate(divide="ignore"):
            loss = -np.sum(pos * (np.log(c) - np.logaddexp(0, -u)) + neg * np.log(q))
        loss += ridge * a * a - (al - 1) * np.log(c) - (be - 1) * np.log(max(1.0 - c, 1e-300))
        du = -(pos * sn - neg * c * s * sn / q)  # d loss / d u
        dc = -np.sum(pos / c - neg * s / q) - (al - 1) / c + (be - 1) / max(1.0 - c, 1e-300)
        return loss, np.array([np.sum(du * x) + 2 * ridge * a, np.sum(du), dc])

    best = None
    for c0 in (0.97, 0.8):  # the fit is not convex in (a, b, c): two starts, the better one
        r = minimize(f, np.array([a0, b0, c0]), jac=True, method="L-BFGS-B",
                     bounds=[(None, None), (None, None), (MIN_EXPORT_RATE, 1.0)])
        if best is None or r.fun < best.fun:
            best = r
    a, b, c = best.x
    return float(a), float(b), float(c)


def reliability_table(prob: np.ndarray, label: np.ndarray, n_bins: int = 10) -> list[dict]:
    """Equal-width bins of predicted probability: count, mean predicted, observed keeper rate."""
    prob = np.asarray(prob, np.float64)
    label = np.asarray(label, np.float64)
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(prob, edges[1:-1], right=False), 0, n_bins - 1)
    out = []
    for i in range(n_bins):
        m = idx == i
        n = int(m.sum())
        out.append({
            "bin": f"{edges[i]:.1f}-{edges[i + 1]:.1f}", "count": n,
            "mean_predicted": float(prob[m].mean()) if n else None,
            "observed_rate": float(label[m].mean()) if n else None,
        })
    return out


def expected_calibration_error(prob: np.ndarray, label: np.ndarray, n_bins: int = 10) -> float:
    prob = np.asarray(prob, np.float64)
    label = np.asarray(label, np.float64)
    if len(prob) == 0:
        return float("nan")
    table = reliability_table(prob, label, n_bins)
    return float(sum(r["count"] * abs(r["mean_predicted"] - r["observed_rate"]) for r in table if r["count"]) / len(prob))


def cross_calibrated(raw: np.ndarray, label: np.ndarray, group: np.ndarray, quantiles: np.ndarray | None = None,
                     seed: int = 0, method: str | None = None, on_raw: bool = False,
                     exported: bool = False) -> np.ndarray:
    """Honest held-out probabilities: groups (sessions) split in two halves, each half calibrated by
    a calibrator fitted on the other half (`on_raw`: fitted on `raw` itself, as for RAW_SCALE_KINDS).
    `exported`: the probability of an export (the calibrator's export rate x its probability), what
    the labels record."""
    x = np.asarray(raw, np.float64) if on_raw else (to_rank(raw, quantiles) if quantiles is not None
                                                     else _empirical_rank(raw))
    rng = np.random.default_rng(seed)
    ug = np.unique(group)
    in_a = np.isin(group, rng.permutation(ug)[: len(ug) // 2])
    out = np.full(len(raw), np.nan)
    for fit_mask, apply_mask in ((in_a, ~in_a), (~in_a, in_a)):
        if apply_mask.any():
            if fit_mask.sum() == 0 or label[fit_mask].sum() == 0:
                out[apply_mask] = label[fit_mask].mean() if fit_mask.any() else 0.0
                continue
            cal = Calibrator.fit(x[fit_mask], label[fit_mask], method, on_raw)
            out[apply_mask] = cal(x[apply_mask]) * (cal.export_rate if exported else 1.0)
    return out


def _empirical_rank(raw: np.ndarray) -> np.ndarray:
    raw = np.asarray(raw, np.float64)
    order = np.argsort(raw, kind="stable")
    r = np.empty(len(raw))
    r[order] = np.arange(len(raw))
    # ties share their mean rank
    _, inv, counts = np.unique(raw, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=r)
    return (sums[inv] / counts[inv]) / max(len(raw) - 1, 1)
