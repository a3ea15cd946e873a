"""The gradient-boosted keeper scorer (LightGBM): trees over absolute + context inputs.

Inputs: the per-photo inputs of the model (absolute features, context inputs relative to the
session and burst, missing indicators; fluxcull.keeper.context), the first `GBT_COMPONENTS`
components of the embedding projection (columns of the shared input matrix), and three "likeness"
inputs: the cosine of the photo's appearance (all components) to the centroid of the training
keepers and of the training non-keepers, and their difference (what a subject taste looks like;
trees split poorly on many embedding components). The two centroids are saved with the model.

Objective, after the burst choice, in two stages on one booster:
0. the burst choice (fluxcull.keeper.burst_choice): a conditional logit over each burst's frames,
   fitted first on the training bursts; CHOICE_WEIGHT x each frame's log share of its burst is the
   starting score of stage 1 and a term of every raw score (`burst_term`). The trees then learn
   what the choice leaves: which scenes and sessions are worth a keeper at all;
1. binary log-loss over labelled photos: keepers against everything else, near-misses (rejects)
   weighted `PairConfig.reject`, keepers marked keep weighted `PairConfig.decided`, each row also
   by the photo's weight from its stars (`weight`, fluxcull.keeper.stars). This carries the
   cross-session signal (a keeper session against an unworthy one) and, through the context inputs,
   the within-session one;
2. a LambdaRank continuation (the trees of stage 1 as the starting score, without the choice's term:
   LightGBM starts a continuation from the earlier trees alone) over query groups that are
   the sessions holding both a keeper and a non-keeper, plus every explicit side-by-side choice as a
   two-photo query: it sharpens the order inside a session, where a near-miss must lose to its
   keeper, without undoing the cross-session scale.
Large corpora are subsampled for stage 1 (every keeper and near-miss kept, implicit negatives drawn
at a rate that keeps `MAX_ROWS` rows, reweighted by the inverse rate).

The booster is saved in LightGBM's own text format (never pickled) beside the model's arrays.
Deterministic for a seed (LightGBM's deterministic mode, fixed thread count).
"""

from __future__ import annotations

import sys

import numpy as np

from fluxcull.keeper import burst_choice, cores

# 16, not 32: the trees memorise scenes through the embedding components (with tens of keepers a
# component can single out one training walk), and appearance as a whole reaches them through the
# likeness inputs anyway. Taste benchmark, retrained with `train --model gbt --force` on the same
# libraries, mean inbox AUC / same-session pairwise for 32, 16 and 8 components: full libraries
# 0.941/0.935, 0.949/0.945, 0.953/0.946 (the blur-threshold photographer 0.891 -> 0.936 AUC at 16);
# the quick ones (12 walks each, noisier) 0.849/0.847, 0.844/0.860, 0.857/0.866. Fewer than 16 left
# less of a subject taste's detail to the trees for little more gain
GBT_COMPONENTS = 16
# The burst choice's weight in the raw score (log-odds per unit of log share). Taste benchmark, 14
# full libraries (seeds 1-7 and 101-107), mean inbox AUC / same-session pairwise / burst top-1: no
# choice 0.948 / 0.944 / 0.87; added to the finished trees' score 0.955 / 0.963; as the trees'
# starting score, weight 1: 0.964 / 0.964 / 0.92, weight 2: 0.964 / 0.969 / 0.92. On the quick
# libraries (12 walks each, few keepers) 0.837 / 0.859 without, 0.911 / 0.935 at 1, 0.928 / 0.944 at 2
CHOICE_WEIGHT = 2.0
MAX_ROWS = 40_000
ROUNDS = 200
RANK_ROUNDS = 60
# Training runs on one thread: boosting rounds are short, and on a machine whose cores are shared
# (the GUI, an import) OpenMP threads waiting on each other made a 60,000-row fit 2x slower than one
# thread (measured on 2 cores); it also makes the trees independent of the core count.
BAG_LARGE = 20_000  # rows from which each round sees half of them (bagging 0.5, else 0.8)


def _lightgbm():
    """lightgbm, imported without its scikit-learn estimator wrappers unless scikit-learn is loaded
    already: fluxcull uses only lightgbm's own Booster, and lightgbm's optional import of
    scikit-learn costs about 0.7 s on every command that scores (a third of the CLI's start-up).
    A later `import sklearn` elsewhere works as usual."""
    if "lightgbm" in sys.modules:
        return sys.modules["lightgbm"]
    hide = "sklearn" not in sys.modules
    if hide:
        sys.modules["sklearn"] = None  # makes lightgbm.compat's `from sklearn import ...` an ImportError
    try:
        import lightgbm
    finally:
        if hide and sys.modules.get("sklearn", 0) is None:
            del sys.modules["sklearn"]
    return lightgbm


def _norms(z: np.ndarray) -> np.ndarray:
    """Row lengths, at least 1e-9 (a zero row divides to zero, not NaN)."""
    return np.maximum(np.sqrt(np.einsum("ij,ij->i", z, z)), 1e-9)


def _unit(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float32)
    return z / _norms(z)[:, None]


def likeness_centroids(z: np.ndarray, label: np.ndarray, session: np.ndarray, train: np.ndarray,
                       chunk: int = 65536):
    """Sums of the unit appearance vectors of the training keepers and non-keepers: (pos_sum, neg_sum,
    per-session keeper sums, per-session non-keeper sums, each row's session index into those).
    Per session, not per row: at 400,000 photos two per-row copies took 0.8 GB (and the two held-out
    tests of a large library fit at once); the unit vectors are made a block at a time for the same
    reason (np.add.at adds them in the same order either way)."""
    d = z.shape[1]
    keys, inv = np.unique(session, return_inverse=True)
    sums = []
    for which in (train & (label == 1), train & (label == 0)):
        total = np.zeros((len(keys), d), np.float32)
        rows = np.flatnonzero(which)
        for s in range(0, len(rows), chunk):
            r = rows[s:s + chunk]
            np.add.at(total, inv[r], _unit(z[r]))
        sums.append(total)
    sp, sn = sums
    return sp.sum(axis=0), sn.sum(axis=0), sp, sn, inv


def likeness(z: np.ndarray, pos_sum: np.ndarray, neg_sum: np.ndarray, own_pos=None, own_neg=None) -> np.ndarray:
    """(n x 3): cosine to the keepers' centroid, to the non-keepers' centroid, and their difference.
    For training photos the photo's own session is left out of both centroids (own_pos, own_neg), so
    a keeper is never compared with itself or its burst neighbours: the trees see on their training
    photos what they will see on new ones."""
    if own_pos is None and own_neg is None:  # scoring: one centroid for every row, normalised once
        z = np.asarray(z, np.float32)
        both = np.stack([_unit(pos_sum[None, :])[0], _unit(neg_sum[None, :])[0]], axis=1)
        ab = (z @ both) / _norms(z)[:, None]
        a, b = ab[:, 0], ab[:, 1]
    else:
        u = _unit(z)
        cp = pos_sum[None, :] - (own_pos if own_pos is not None else 0.0)
        cn = neg_sum[None, :] - (own_neg if own_neg is not None else 0.0)
        a = np.einsum("ij,ij->i", u, _unit(np.broadcast_to(cp, u.shape)))
        b = np.einsum("ij,ij->i", u, _unit(np.broadcast_to(cn, u.shape)))
    return np.stack([a, b, a - b], axis=1).astype(np.float32)


def columns(n_components: int, dim: int) -> np.ndarray:
    """Input-matrix columns the trees read: the first embedding components, then every per-photo input."""
    return np.r_[np.arange(min(GBT_COMPONENTS, n_components)), np.arange(n_components, dim)].astype(np.int64)


def _params(seed: int, n_pos: int, objective: str, rows: int) -> dict:
    return {
        "objective": objective, "learning_rate": 0.07, "num_leaves": 15,
        "min_data_in_leaf": int(np.clip(n_pos // 2, 3, 20)), "min_sum_hessian_in_leaf": 1e-3,
        "feature_fraction": 0.8, "bagging_fraction": 0.8 if rows < BAG_LARGE else 0.5, "bagging_freq": 1,
        "lambda_l2": 1.0,
        # extremely randomised split thresholds: with tens of keepers, exact thresholds fit the few
        # training sessions' values (e.g. "this much highlight clipping is punchy"); random ones average
        # over the range. On two sets of simulated photographers (benchmarks.taste_build, 7 tastes each,
        # seeds 1-7 and 101-107), mean inbox AUC 0.942 -> 0.946 (4 training seeds) and 0.929 -> 0.943,
        # same-session pairwise 0.925 -> 0.938 and 0.917 -> 0.937
        "extra_trees": True,
        "max_bin": 63, "deterministic": True, "force_col_wise": True, "seed": int(seed),
        "num_threads": 1,
        "verbosity": -1,
    }


def training_rows(label: np.ndarray, reject: np.ndarray, decided_keep: np.ndarray, train: np.ndarray, *,
                  reject_weight: float, decided_weight: float, seed: int, max_rows: int = MAX_ROWS,
                  weight: np.ndarray | None = None):
    """(positions, targets, weights) of the stage-1 rows (`weight`: a per-photo factor, from stars)."""
    rng = np.random.default_rng(seed + 101)
    pos = np.flatnonzero(train & (label == 1))
    rej = np.flatnonzero(train & (label == 0) & reject)
    imp = np.flatnonzero(train & (label == 0) & ~reject)
    room = max(max_rows - len(pos) - len(rej), 1)
    rate = min(1.0, room / max(len(imp), 1))
    if rate < 1.0:
        imp = np.sort(rng.choice(imp, size=room, replace=False))
    idx = np.r_[pos, rej, imp].astype(np.int64)
    y = np.r_[np.ones(len(pos)), np.zeros(len(rej) + len(imp))]
    w = np.r_[np.where(decided_keep[pos], decided_weight, 1.0), np.full(len(rej), reject_weight),
              np.full(len(imp), 1.0 / rate)]
    if weight is not None:
        w = w * weight[idx]
    order = np.argsort(idx, kind="stable")
    return idx[order], y[order], w[order].astype(np.float64)


def rank_queries(label: np.ndarray, session: np.ndarray, train: np.ndarray,
                 preferences: list[tuple[int, int]], max_per_session: int = 64, seed: int = 0):
    """(positions, relevance, group sizes) for the LambdaRank stage: sessions with a keeper and a
    non-keeper (at most `max_per_session` photos each: every keeper, non-keepers drawn), then each
    side-by-side choice as a query of two."""
    rng = np.random.default_rng(seed + 202)
    lab = train & (label >= 0)
    idx_all = np.flatnonzero(lab)
    order = idx_all[np.argsort(session[idx_all], kind="stable")]
    ss = session[order]
    starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]]) if len(ss) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(ss)]
    parts, rel, groups = [], [], []
    for s, e in zip(starts, ends):
        members = order[s:e]
        y = label[members] == 1
        if not y.any() or y.all():
            continue
        neg = members[~y]
        if len(members) > max_per_session:
            neg = rng.choice(neg, size=max(max_per_session - int(y.sum()), 1), replace=False)
        m = np.r_[members[y], neg]
        parts.append(m)
        rel.append(np.r_[np.ones(int(y.sum())), np.zeros(len(neg))])
        groups.append(len(m))
    for a, b in preferences:
        parts.append(np.array([a, b], np.int64))
        rel.append(np.array([1.0, 0.0]))
        groups.append(2)
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    return np.concatenate(parts).astype(np.int64), np.concatenate(rel), np.asarray(groups, np.int64)


def fit(x: np.ndarray, cols: np.ndarray, *, n_components: int, label, reject, decided_keep, session, train,
        preferences=(), reject_weight: float = 3.0, decided_weight: float = 1.5, seed: int = 0, cancel=None,
        weight: np.ndarray | None = None, burst: np.ndarray | None = None, column_names: list[str] | None = None):
    """Fit the booster and the burst choice; returns ({'cols', 'booster', 'k', 'pos_sum', 'neg_sum',
    'choice'}, info)."""
    lgb = _lightgbm()
    choice = None
    if burst is not None and column_names is not None:
        choice = burst_choice.fit(x, column_names, label, burst, train, preferences, seed=seed)
    start = None if choice is None else CHOICE_WEIGHT * burst_choice.log_share(choice, x, burst)

    idx, y, w = training_rows(label, reject, decided_keep, train, reject_weight=reject_weight,
                              decided_weight=decided_weight, seed=seed, weight=weight)
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        raise ValueError("no training rows of both kinds: need at least one keeper and one non-keeper")

    def check(_env):
        if cancel is not None:
            cancel.check()

    k = int(n_components)
    pos_sum, neg_sum, session_pos, session_neg, session_of = likeness_centroids(x[:, :k], label, session, train)

    def rows(at):
        like = likeness(x[at, :k], pos_sum, neg_sum, session_pos[session_of[at]], session_neg[session_of[at]])
        return np.ascontiguousarray(np.concatenate([x[at][:, cols], like], axis=1))

    data = lgb.Dataset(rows(idx), label=y, weight=w, free_raw_data=True, params={"max_bin": 63, "verbosity": -1},
                       init_score=None if start is None else start[idx])
    booster = lgb.train(_params(seed, n_pos, "binary", len(idx)), data, num_boost_round=ROUNDS, callbacks=[check])
    info = {"rows": int(len(idx)), "keepers": n_pos, "rounds": ROUNDS, "columns": int(len(cols))}
    q_idx, rel, groups = rank_queries(label, session, train, list(preferences), seed=seed)
    if len(groups) and RANK_ROUNDS:
        qdata = lgb.Dataset(rows(q_idx), label=rel, group=groups,
                            params={"max_bin": 63, "verbosity": -1})
        # continued from stage 1: its trees give the starting score and stay in the booster
        booster = lgb.train({**_params(seed, n_pos, "lambdarank", len(q_idx)), "learning_rate": 0.03}, qdata,
                            num_boost_round=RANK_ROUNDS, init_model=booster, callbacks=[check])
        info.update({"rank_queries": int(len(groups)), "rank_rounds": RANK_ROUNDS})
    info["preferences"] = int(len(preferences))
    info["choice_pairs"] = 0 if choice is None else int(choice["pairs"])
    return {"cols": np.asarray(cols, np.int64), "booster": booster, "k": int(k),
            "pos_sum": pos_sum.astype(np.float32), "neg_sum": neg_sum.astype(np.float32), "choice": choice}, info


def _matrix(p: dict, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The trees' input rows of x: its `cols`, then the likeness columns; into `out` (len(x) rows of
    len(cols) + 3, contiguous) when given."""
    k = int(p["k"])  # a plain int (from_text and fit make it one)
    cols = p["cols"]
    out = np.empty((len(x), len(cols) + 3), np.float32) if out is None else out
    np.take(x, cols, axis=1, out=out[:, :len(cols)], mode="clip")  # cols are valid: "clip" writes straight into out
    out[:, len(cols):] = likeness(x[:, :k], p["pos_sum"], p["neg_sum"])
    return out


def burst_term(p: dict, x: np.ndarray, burst: np.ndarray) -> np.ndarray:
    """The burst choice's part of the raw score: CHOICE_WEIGHT x each frame's log share of its burst."""
    if p.get("choice") is None:
        return np.zeros(len(x))
    return CHOICE_WEIGHT * burst_choice.log_share(p["choice"], x, burst)


def predict(p: dict, x: np.ndarray, chunk: int = 65536) -> np.ndarray:
    out = np.empty(len(x), np.float64)
    buf = np.empty((min(chunk, len(x)), len(p["cols"]) + 3), np.float32)  # one block's rows, reused
    for s in range(0, len(x), chunk):
        block = _matrix(p, x[s:s + chunk], out=buf[:min(chunk, len(x) - s)])
        out[s:s + chunk] = p["booster"].predict(block, raw_score=True, num_threads=cores.workers_for(len(x)))
    return out


def contributions(p: dict, x_row: np.ndarray, dim: int) -> np.ndarray:
    """Per input-matrix column contribution (SHAP values from LightGBM) for one row."""
    c = p["booster"].predict(_matrix(p, np.asarray(x_row, np.float32)[None, :]), pred_contrib=True,
                             num_threads=1)[0]
    out = np.zeros(dim, np.float64)
    out[p["cols"]] = c[:len(p["cols"])]
    k = int(p["k"])  # likeness to the keepers is appearance: spread over the embedding columns
    out[:k] += c[len(p["cols"]):-1].sum() / k
    return out


def burst_contributions(p: dict, mates: np.ndarray, i: int) -> np.ndarray:
    """Per input-matrix column contribution of the burst choice's term to frame i of `mates`."""
    if p.get("choice") is None or len(mates) < 2:
        return np.zeros(mates.shape[1])
    return CHOICE_WEIGHT * burst_choice.contributions(p["choice"], mates, i)


def to_text(p: dict) -> str:
    return p["booster"].model_to_string()


def from_text(text: str, arrays: dict) -> dict:
    lgb = _lightgbm()

    return {"cols": np.asarray(arrays["cols"], np.int64), "booster": lgb.Booster(model_str=text),
            "k": int(np.asarray(arrays["k"]).reshape(-1)[0]), "pos_sum": arrays["pos_sum"],
            "neg_sum": arrays["neg_sum"],
            "choice": None if "choice_w" not in arrays else {
                "use": np.asarray(arrays["choice_use"], np.int64), "size": np.asarray(arrays["choice_size"], np.int64),
                "w": np.asarray(arrays["choice_w"], np.float64)}}
