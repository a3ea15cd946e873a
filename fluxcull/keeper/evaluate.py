"""Honest evaluation of the keeper model on this photographer's own data, with baselines.

Two splits (spec section 9: taste drifts):
- `random_by_session`: sessions dealt into K folds; every fold is scored by a model trained on the
  others (out-of-fold scores for every labelled photo). Above `HUGE` labelled photos, two folds of
  which one is tested: a held-out half of the sessions, scored by a model trained on the other half;
- `by_time`: trained on the older sessions, tested on the newest 20% of sessions.
Metrics on held-out photos: ROC AUC, average precision, pairwise accuracy on held-out same-session
(keeper, non-keeper) pairs, recall of keepers in the top 10% / 20% of scores, and the expected
calibration error of calibrated probabilities (each half of the held-out sessions calibrated on the
other half). Baselines in the same run: random, sharpness only, exposure only, the centroid score,
and the pairwise model(s).
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from fluxcull.jobs import Progress
from fluxcull.keeper import calibrate, cores
from fluxcull.keeper.dataset import NEG, POS, UNLABELLED, find_feature
from fluxcull.keeper.metrics import (average_precision, pairwise_accuracy, recall_at,
                                  roc_auc)
from fluxcull.keeper.choice import AUTO_CANDIDATES, choose_method, selection_metric  # noqa: F401 (re-exported)
from fluxcull.keeper.pairs import PairConfig, build_pairs
from fluxcull.keeper.ranker import fit_centroid, fit_pairwise, raw_scores_at, raw_scores_chunked
from fluxcull.keeper.recency import training_weights

METRICS = ("roc_auc", "average_precision", "pairwise_accuracy", "recall_top10", "recall_top20", "ece")
SHARPNESS_NAMES = ("sharpness", "laplacian_var", "lap_var", "focus", "sharp", "acutance")
EXPOSURE_NAMES = ("exposure", "brightness", "mean_luma", "luma_mean", "luminance", "luma", "mean_brightness")
TIME_HOLDOUT = 0.2
DEFAULT_FOLDS = 5
LARGE = 100_000     # labelled photos above which ...
LARGE_FOLDS = 3     # ... the random-by-session split uses this many folds (each fold's test part is large anyway)
# and above which one held-out half of the sessions: its model still learns from over 125,000 photos
# and is tested on as many; a second fold (the other half) measured nothing new and cost a third of
# the evaluation (benchmarks.bench_model at 400,000 photos)
HUGE = 250_000
# A held-out photo's score is its rank among the scores of the fold model's own training photos.
# Above this many training photos the rank is read against this many of them, drawn at random: the
# rest need not be scored at all (at 400,000 photos that halves the rows each fold model scores).
# The order inside a fold is unchanged; on the 100,000-photo library of benchmarks.bench_model no
# held-out rank moved by more than 0.0025 against the rank among all the training photos.
QUANTILE_SAMPLE = 50_000


# -- metrics ------------------------------------------------------------------------------------------
def metric_row(score: np.ndarray, label: np.ndarray, group: np.ndarray, prob: np.ndarray | None) -> dict:
    pa, npairs = pairwise_accuracy(score, label, group)
    return {
        "roc_auc": roc_auc(score, label),
        "average_precision": average_precision(score, label),
        "pairwise_accuracy": pa,
        "recall_top10": recall_at(score, label, 0.10),
        "recall_top20": recall_at(score, label, 0.20),
        "ece": calibrate.expected_calibration_error(prob, label) if prob is not None else float("nan"),
        "n_test": int(len(label)),
        "n_keepers": int((np.asarray(label) == 1).sum()),
        "n_pairs": npairs,
    }


# -- fitting one model on a training mask -----------------------------------------------------------
def fit_model(prep, kind: str, train: np.ndarray, *, seed: int = 0, cfg: PairConfig | None = None,
              preferences: list[tuple[int, int]] = (), cancel=None, device: str | None = None) -> tuple[dict, dict]:
    """Fit a scorer of `kind` on the photos where `train` is true; returns (arrays, info)."""
    c = prep.corpus
    k = prep.transform.n_components
    weight = training_weights(c.weight, c.time, train, prep.recency_half_life_months)  # stars x recency
    if kind == "gbt":
        from fluxcull.keeper import gbt

        cfg = cfg or PairConfig()
        cols = gbt.columns(k, prep.x.shape[1])
        ok = train | (c.label == UNLABELLED)  # as for the pairwise scorers: choices between unlabelled photos teach
        return gbt.fit(prep.x, cols, n_components=k, label=c.label, reject=c.reject, decided_keep=c.decided_keep, session=c.session,
                       train=train, preferences=[p for p in preferences if ok[p[0]] and ok[p[1]]],
                       reject_weight=cfg.reject, decided_weight=cfg.decided,
                       seed=seed, cancel=cancel, weight=weight, burst=prep.burst,
                       column_names=prep.transform.column_names())
    if kind == "centroid":
        pos = train & (c.label == POS)
        if not pos.any():
            raise ValueError("no keepers to build a centroid from")
        return fit_centroid(prep.x[pos], k), {"keepers": int(pos.sum())}
    pairs = build_pairs(label=c.label, reject=c.reject, decided_keep=c.decided_keep, session=c.session,
                        time=c.time, emb=prep.x[:, :k], train=train, preferences=preferences,
                        # unlabelled photos are never tested on, so choices between them always teach
                        preference_ok=train | (c.label == UNLABELLED), cfg=cfg, seed=seed, weight=weight)
    arrays, info = fit_pairwise(prep.x, pairs.a, pairs.b, pairs.w, kind=kind, seed=seed, cancel=cancel, device=device)
    info["pair_kinds"] = pairs.counts()
    return arrays, info


def preference_positions(conn: sqlite3.Connection, corpus) -> list[tuple[int, int]]:
    from fluxcull.catalog.decisions import active_preferences

    prefs = active_preferences(conn)
    if not prefs:
        return []
    arr = np.asarray(prefs, np.int64)
    pa, pb = corpus.index_of(arr[:, 0]), corpus.index_of(arr[:, 1])
    ok = (pa >= 0) & (pb >= 0)
    return list(zip(pa[ok].tolist(), pb[ok].tolist()))


# -- splits -------------------------------------------------------------------------------------------
def session_folds(corpus, k: int, seed: int) -> tuple[np.ndarray, dict]:
    """Fold number per photo (-1: unlabelled, never tested). Sessions with keepers are dealt out
    first so every fold gets some; if keepers sit in too few sessions, photos are dealt instead."""
    lab = corpus.label >= 0
    rng = np.random.default_rng(seed)
    fold = np.full(len(corpus), -1, np.int64)
    pos_sessions = np.unique(corpus.session[lab & (corpus.label == POS)])
    all_sessions = np.unique(corpus.session[lab])
    if len(pos_sessions) >= 2:
        k = int(min(k, len(pos_sessions)))
        other = np.setdiff1d(all_sessions, pos_sessions)
        assign = {}
        for arr in (rng.permutation(pos_sessions), rng.permutation(other)):
            offset = int(rng.integers(0, k))
            for i, s in enumerate(arr):
                assign[int(s)] = (i + offset) % k
        sess = corpus.session[lab]
        fold[lab] = np.fromiter((assign[int(s)] for s in sess), np.int64, len(sess))
        return fold, {"folds": k, "grouped_by_session": True}
    k = int(min(k, max(int((corpus.label == POS).sum()), 2)))
    idx = np.flatnonzero(lab)
    fold[idx] = rng.permutation(len(idx)) % k
    return fold, {"folds": k, "grouped_by_session": False}


def time_split(corpus) -> tuple[np.ndarray, np.ndarray, dict]:
    """(train mask, test mask): test = the newest 20% of sessions holding labelled photos."""
    lab = corpus.label >= 0
    sess = corpus.session[lab]
    tm = np.where(np.isfinite(corpus.time[lab]), corpus.time[lab], -np.inf)
    us, inv = np.unique(sess, return_inverse=True)
    start = np.full(len(us), np.inf)
    np.minimum.at(start, inv, tm)
    n_test = max(1, int(round(TIME_HOLDOUT * len(us))))
    newest = us[np.argsort(start, kind="stable")[-n_test:]]
    test = lab & np.isin(corpus.session, newest)
    train = lab & ~test
    return train, test, {"test_sessions": int(n_test), "sessions": int(len(us))}


# -- one evaluation run ---------------------------------------------------------------------------------
BASELINES = ("random", "sharpness", "exposure")


def methods_for(kind: str) -> list[str]:
    """Rows of an evaluation: the baselines, then the scorers (`auto`: every candidate)."""
    out = [*BASELINES, "centroid", "linear"]
    for m in (AUTO_CANDIDATES if kind == "auto" else (kind,)):
        if m not in out:
            out.append(m)
    return out


def _baseline_scores(prep, method: str, train: np.ndarray, test_idx: np.ndarray, seed: int) -> np.ndarray | None:
    c = prep.corpus
    if method == "random":
        # one random score per photo for the whole run (a fresh draw per fold would repeat one pattern)
        return np.random.default_rng(seed + 7919).random(len(c))[test_idx]
    names = prep.feature_names
    j = find_feature(names, *(SHARPNESS_NAMES if method == "sharpness" else EXPOSURE_NAMES))
    if j is None:
        return None
    f = prep.x[:, prep.transform.n_components + j]  # standardised, NaN imputed
    pos = train & (c.label == POS)
    neg = train & (c.label == NEG)
    if method == "sharpness":
        sign = 1.0
        if pos.any() and neg.any() and f[pos].mean() < f[neg].mean():
            sign = -1.0  # direction learned on the training part
        return sign * f[test_idx]
    target = float(np.median(f[pos])) if pos.any() else 0.0  # exposure: closeness to the keepers' typical exposure
    return -np.abs(f[test_idx] - target)


def evaluate(prep, conn: sqlite3.Connection, **kw) -> dict:
    """Run both splits for every method (see evaluate_steps); returns the result."""
    from fluxcull.jobs import run_job

    return run_job(evaluate_steps(prep, conn, **kw))


def evaluate_steps(prep, conn: sqlite3.Connection, *, kind: str = "linear", seed: int = 0, folds: int = DEFAULT_FOLDS,
                   cfg: PairConfig | None = None, cancel=None, device: str | None = None,
                   extra_methods: tuple[str, ...] = ()):
    """Run both splits for every method, yielding Progress; returns {splits, table, oof_rank, ...}.

    `kind` is a scorer, or `auto` for every candidate (AUTO_CANDIDATES). `oof_ranks` and `oof_raw`
    hold, per method, the out-of-fold corpus ranks and raw scores of every labelled photo of the
    random-by-session split: what the final model's calibrator is fitted on (calibrate.RAW_SCALE_KINDS
    on the raw scores, the others on the ranks).
    """
    c = prep.corpus
    prefs = preference_positions(conn, c)
    methods = methods_for(kind)
    for m in extra_methods:
        if m not in methods:
            methods.append(m)
    lab = c.label >= 0
    n_pos = int((c.label == POS).sum())
    if n_pos < 2 or int((c.label == NEG).sum()) < 2:
        raise ValueError(
            f"need at least 2 keepers and 2 non-keepers with embeddings to evaluate (have {n_pos} keepers): "
            "link the keeper archive (`fluxcull match`) or mark keeps (`fluxcull decide --keep`)")
    result: dict = {"splits": {}, "methods": methods, "model": kind, "keepers": n_pos}
    if int(lab.sum()) > LARGE:
        folds = min(folds, LARGE_FOLDS if int(lab.sum()) <= HUGE else 2)
    fold, fold_info = session_folds(c, folds, seed)
    k = fold_info["folds"]
    tested = 1 if int(lab.sum()) > HUGE else k
    if tested < k:
        fold_info["tested_folds"] = tested
    steps = tested + 1
    step = 0
    # one step per held-out test (k folds of sessions, then the newest sessions): the bar and the
    # words count the same thing
    yield Progress("evaluate", 0, steps, f"{steps} held-out tests: "
                   + (f"{k} folds of sessions" if tested == k else "a held-out half of the sessions")
                   + ", then the newest sessions")

    # the held-out tests: the folds of sessions, then the newest sessions (by time)
    tr_time, te_time, tinfo = time_split(c)
    tests = [(lab & (fold != f) & (fold >= 0), np.flatnonzero(fold == f)) for f in range(tested)]
    y_time = (c.label[te_time] == POS).astype(np.int8)
    time_ok = bool(tr_time.any() and (c.label[tr_time] == POS).any() and y_time.any())
    if time_ok:
        tests.append((tr_time, np.flatnonzero(te_time)))
    else:
        tinfo["skipped"] = "no keepers in the older or in the newest sessions"
    scored = [None] * len(tests)
    # each test fits its own models: on a large library (cores.PARALLEL_FROM labelled photos) two run
    # at once, LightGBM leaving the interpreter while it grows trees; below that an evaluation takes
    # seconds and one core stays free for the window. Results land in their test's slot, so the
    # order of finishing changes nothing
    with ThreadPoolExecutor(max_workers=cores.workers_for(int(lab.sum()))) as pool:
        running = {pool.submit(_held_out_test, prep, methods, train, test_idx, seed, cfg, prefs, cancel, device): i
                   for i, (train, test_idx) in enumerate(tests)}
        try:
            for done in as_completed(running):
                i = running[done]
                scored[i] = done.result()
                step += 1
                what = f"sessions fold {i + 1} of {k}" if i < tested else "the newest sessions"
                yield Progress("evaluate", step, steps, f"test {step} of {steps}: {what}")
        except BaseException:
            for fut in running:
                fut.cancel()
            raise

    # random by session: out-of-fold ranks per method
    oof_rank = {m: np.full(len(c), np.nan) for m in methods}
    oof_raw = {m: np.full(len(c), np.nan) for m in methods}
    fold_aucs = {m: [] for m in methods}  # (AUC within the fold, its keepers)
    for f in range(tested):
        test_idx = tests[f][1]
        for m, (rank, raw) in scored[f].items():
            oof_rank[m][test_idx], oof_raw[m][test_idx] = rank, raw
            y_f = c.label[test_idx] == POS
            if y_f.any() and not y_f.all():
                fold_aucs[m].append((roc_auc(rank, y_f.astype(np.int8)), int(y_f.sum())))
    test_idx = np.flatnonzero((fold >= 0) & (fold < tested))
    rows = {}
    for m in methods:
        s = oof_rank[m][test_idx]
        if np.isnan(s).all():
            continue
        y = (c.label[test_idx] == POS).astype(np.int8)
        prob = _held_out_probabilities(m, s, oof_raw[m][test_idx], y, c.session[test_idx], seed)
        rows[m] = metric_row(s, y, c.session[test_idx], prob)
        if fold_aucs[m]:
            a = np.array(fold_aucs[m], np.float64)
            rows[m]["fold_auc"] = float((a[:, 0] * a[:, 1]).sum() / a[:, 1].sum())
        if m not in BASELINES:
            rows[m]["reliability"] = calibrate.reliability_table(prob, y)
    result["splits"]["random_by_session"] = {"info": fold_info, "rows": rows}

    # by time
    rows = {}
    if time_ok:
        test_idx = tests[-1][1]
        for m, (s, raw) in scored[-1].items():
            prob = _held_out_probabilities(m, s, raw, y_time, c.session[test_idx], seed)
            rows[m] = metric_row(s, y_time, c.session[test_idx], prob)
    else:
        step += 1
        yield Progress("evaluate", step, steps, f"test {step} of {steps}: the newest sessions (skipped)")
    result["splits"]["by_time"] = {"info": tinfo, "rows": rows}
    if kind == "auto":
        result["model"], result["choice"] = choose_method(result, [m for m in AUTO_CANDIDATES if m in methods])
    result["table"] = metrics_table(result)
    result["oof_ranks"] = oof_rank
    result["oof_raw"] = oof_raw
    return result


def _held_out_probabilities(method: str, rank, raw, label, session, seed: int) -> np.ndarray:
    """Each half of the held-out sessions calibrated on the other half, as the final model is calibrated;
    as probabilities of an export (what the labels record: calibrate's module docstring)."""
    on_raw = method in calibrate.RAW_SCALE_KINDS
    return calibrate.cross_calibrated(raw if on_raw else rank, label, session, seed=seed, on_raw=on_raw,
                                      exported=True)


def _held_out_test(prep, methods, train, test_idx, seed, cfg, prefs, cancel, device) -> dict:
    """{method: (held-out ranks, held-out raw scores)} of one held-out test, every method fitted on `train`."""
    out = {}
    for m in methods:
        if cancel is not None:
            cancel.check()
        scored = _method_test_scores(prep, m, train, test_idx, seed, cfg, prefs, cancel, device)
        if scored is not None:
            out[m] = scored
    return out


def _method_test_scores(prep, m, train, test_idx, seed, cfg, prefs, cancel, device):
    """(held-out ranks, held-out raw scores) of method m fitted on `train`; None where it cannot score."""
    if m in BASELINES:
        s = _baseline_scores(prep, m, train, test_idx, seed)
        return None if s is None else (s, s)
    arrays, _ = fit_model(prep, m, train, seed=seed, cfg=cfg, preferences=prefs, cancel=cancel, device=device)
    k = prep.transform.n_components
    train_idx = np.flatnonzero(train)
    if len(train_idx) <= QUANTILE_SAMPLE:
        raw_all = raw_scores_chunked(m, arrays, prep.x, k, prep.burst, cancel=cancel)
        q = calibrate.score_quantiles(raw_all[train])  # ranks relative to the model's own training photos
        return calibrate.to_rank(raw_all[test_idx], q), raw_all[test_idx]
    sample = np.sort(np.random.default_rng(seed + 303).choice(train_idx, QUANTILE_SAMPLE, replace=False))
    raw = raw_scores_at(m, arrays, prep.x, k, np.r_[sample, test_idx], prep.burst, cancel=cancel)
    q = calibrate.score_quantiles(raw[:len(sample)])
    return calibrate.to_rank(raw[len(sample):], q), raw[len(sample):]


def metrics_table(result: dict) -> list[dict]:
    """Flat rows (split, method, metrics...) for printing and storing."""
    out = []
    for split, data in result["splits"].items():
        for m, row in data["rows"].items():
            r = {"split": split, "method": m + (" *" if m == result["model"] else "")}
            r.update({k: row[k] for k in (*METRICS, "n_test", "n_keepers")})
            out.append(r)
    return out


def format_table(table: list[dict]) -> str:
    """A plain-text table of the metrics rows."""
    cols = ("split", "method", *METRICS, "n_test", "n_keepers")
    heads = ("split", "method", "AUC", "AP", "pair acc", "rec@10%", "rec@20%", "ECE", "n", "keepers")
    cells = [heads]
    for r in table:
        cells.append(tuple(_fmt(r.get(c)) for c in cols))
    widths = [max(len(row[i]) for row in cells) for i in range(len(heads))]
    lines = ["  ".join(v.ljust(widths[i]) if i < 2 else v.rjust(widths[i]) for i, v in enumerate(row)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def primary_metric(metrics: dict, method: str | None = None) -> float | None:
    """The number versions are compared on (selection_metric) for the run's model, or for another
    method evaluated in the same run."""
    try:
        model = method or metrics["model"]
    except (KeyError, TypeError):
        return None
    return selection_metric(metrics, model)
