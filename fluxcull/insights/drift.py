"""Taste drift: what the recent decisions prefer, against what the archive's older decisions prefer.

Labels are the keeper model's (fluxcull.keeper.dataset.load_corpus: keepers are confirmed keepers,
photos marked keep and starred ones; non-keepers are rejects and the other originals, and inbox
photos of sessions being culled), dated by capture time. The recent window is the last
`drift.recent_months` months (setting, default 12) before the newest labelled photo, not before
today, so a library not added to for a while still has one; the archive is everything older.

Per stored feature (fluxcull.embedding.features, the table the keeper model reads; `gps_cell` is a
place code, not a quantity, and is left out), in each window: how well the feature alone separates
keepers from the others, as the ROC AUC (the chance that a keeper has the higher value; 0.5 no
preference, above: keepers have more of it, below: less) and the standardised mean difference
(Cohen's d, pooled standard deviation), with the sample counts and both groups' means. The change
is recent minus archive; `z` is the change of AUC over its standard error (Hanley and McNeil's for
each window), so |z| >= 2 is unlikely from sampling alone (30 features are compared: one of them
may pass by chance). Features whose preference moved most come first.

Motifs (catalog motif_store, as `fluxcull motifs` stored them; members are keepers): each motif's
share of a window's keepers, recent against archive, with a two-proportion z.

With fewer than MIN_KEEPERS keepers or MIN_KEEPERS non-keepers in a window, no effect size is
computed and the answer says so (`status` not_enough_recent / not_enough_archive).
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np

from fluxcull.catalog import motif_store
from fluxcull.catalog.settings import get
from fluxcull.keeper.dataset import POS, load_corpus, load_features
from fluxcull.keeper.metrics import roc_auc
from fluxcull.keeper.recency import MONTH_S

SETTING = "drift.recent_months"
MIN_KEEPERS = 20     # keepers, and non-keepers, a window needs before effect sizes mean anything
MIN_VALUES = 10      # known values of a feature per group and window
LEFT_OUT = ("gps_cell",)
CLEAR_Z = 2.0


def _date(t: float) -> str:
    return str(np.datetime64(int(t), "s").astype("datetime64[D]"))


def auc_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley and McNeil's (1982) standard error of an AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def cohens_d(a: np.ndarray, b: np.ndarray) -> float | None:
    """(mean a - mean b) / pooled standard deviation; None where both groups are constant and differ."""
    na, nb = len(a), len(b)
    pooled = math.sqrt(((na - 1) * float(a.var(ddof=1)) + (nb - 1) * float(b.var(ddof=1))) / (na + nb - 2))
    diff = float(a.mean() - b.mean())
    if pooled == 0:
        return 0.0 if diff == 0 else None
    return diff / pooled


def effect(values: np.ndarray, keeper: np.ndarray) -> dict:
    """A feature's keeper-vs-others effect in one window (NaN values left out)."""
    ok = np.isfinite(values)
    k, o = values[ok & keeper].astype(np.float64), values[ok & ~keeper].astype(np.float64)
    out = {"keepers": int(len(k)), "others": int(len(o)), "auc": None, "auc_se": None, "d": None,
           "keeper_mean": float(k.mean()) if len(k) else None, "other_mean": float(o.mean()) if len(o) else None}
    if len(k) >= MIN_VALUES and len(o) >= MIN_VALUES:
        a = roc_auc(np.r_[k, o], np.r_[np.ones(len(k), np.int8), np.zeros(len(o), np.int8)])
        out.update(auc=a, auc_se=auc_se(a, len(k), len(o)), d=cohens_d(k, o))
    return out


def _motifs(conn: sqlite3.Connection, ids: np.ndarray, keeper: np.ndarray, recent: np.ndarray,
            archive: np.ndarray) -> list[dict]:
    out = []
    n_r, n_a = int((keeper & recent).sum()), int((keeper & archive).sum())
    for m in motif_store.motifs(conn):
        member = np.isin(ids, np.asarray(m["members"], np.int64)) & keeper
        r, a = int((member & recent).sum()), int((member & archive).sum())
        pr, pa = r / n_r if n_r else None, a / n_a if n_a else None
        z = None
        if n_r and n_a:
            p = (r + a) / (n_r + n_a)
            se = math.sqrt(p * (1 - p) * (1 / n_r + 1 / n_a))
            z = (pr - pa) / se if se > 0 else None
        out.append({"id": m["id"], "name": m["name"], "recent": {"members": r, "keepers": n_r, "share": pr},
                    "archive": {"members": a, "keepers": n_a, "share": pa},
                    "change": pr - pa if pr is not None and pa is not None else None, "z": z,
                    "clear": z is not None and abs(z) >= CLEAR_Z})
    out.sort(key=lambda m: (m["change"] is None, -abs(m["change"] or 0.0), m["id"]))
    return out


def drift(conn: sqlite3.Connection, store, *, months: int | None = None, min_keepers: int = MIN_KEEPERS) -> dict:
    """Taste drift of the library (see the module docstring for every field's meaning)."""
    from fluxcull.embedding.features import FEATURE_NAMES

    months = int(months or get(conn, SETTING))
    corpus = load_corpus(conn, store)
    labelled = corpus.label >= 0
    dated = labelled & np.isfinite(corpus.time)
    res: dict = {"recent_months": months, "min_keepers": min_keepers, "window": None,
                 "counts": {"undated": int((labelled & ~dated).sum())}, "features": [], "motifs": []}
    if not dated.any():
        res.update(status="no_decisions", message=(
            "no decided photos with a capture time and an embedding yet: nothing to compare (embed the photos, "
            "then link the keeper archive or keep and reject)"))
        return res
    ids, t = corpus.ids[dated], corpus.time[dated]
    keeper = corpus.label[dated] == POS
    end = float(t.max())
    start = end - months * MONTH_S
    recent, archive = t >= start, t < start
    res["window"] = {"recent_from": _date(start), "recent_to": _date(end),
                     "archive_from": _date(t.min()) if archive.any() else None,
                     "archive_to": _date(t[archive].max()) if archive.any() else None}
    for name, w in (("recent", recent), ("archive", archive)):
        res["counts"][name] = {"keepers": int((keeper & w).sum()), "others": int((~keeper & w).sum())}
    for name, status in (("recent", "not_enough_recent"), ("archive", "not_enough_archive")):
        c = res["counts"][name]
        if c["keepers"] < min_keepers or c["others"] < min_keepers:
            what = "recent decisions" if name == "recent" else "older decisions in the archive"
            span = f"the last {months} month{'s' * (months != 1)}" if name == "recent" else "before them"
            res.update(status=status, message=(
                f"not enough {what} to compare tastes: {c['keepers']} keepers and {c['others']} others in {span} "
                f"(needs {min_keepers} of each)"))
            return res
    res.update(status="ok", message=None)
    feats = load_features(conn, ids)
    rows = []
    for j, fname in enumerate(FEATURE_NAMES):
        if fname in LEFT_OUT:
            continue
        er, ea = effect(feats[recent, j], keeper[recent]), effect(feats[archive, j], keeper[archive])
        row = {"feature": fname, "recent": er, "archive": ea, "change_auc": None, "change_d": None, "z": None,
               "clear": False}
        if er["auc"] is not None and ea["auc"] is not None:
            row["change_auc"] = er["auc"] - ea["auc"]
            if er["d"] is not None and ea["d"] is not None:
                row["change_d"] = er["d"] - ea["d"]
            se = math.hypot(er["auc_se"], ea["auc_se"])
            row["z"] = row["change_auc"] / se if se > 0 else None
            row["clear"] = row["z"] is not None and abs(row["z"]) >= CLEAR_Z
        rows.append(row)
    rows.sort(key=lambda r: (r["change_auc"] is None, -abs(r["change_auc"] or 0.0), r["feature"]))
    res["features"] = rows
    res["motifs"] = _motifs(conn, ids, keeper, recent, archive)
    return res


# -- the table, as `fluxcull analytics --drift` prints it and the Analytics window shows it ---------------
FEATURE_HEADS = ("feature", "recent AUC", "archive AUC", "change", "z", "recent d", "archive d",
                 "recent n", "archive n", "keepers against the other photos")
NO_PREFERENCE = 0.03   # an AUC this close to 0.5 is said as no preference
MOTIF_HEADS = ("motif", "recent share", "archive share", "change", "z", "recent members", "archive members")


def _num(v, fmt: str = "{:.3f}", signed: bool = False) -> str:
    if v is None:
        return "-"
    return ("{:+" + fmt[2:]).format(v) if signed else fmt.format(v)


def in_words(row: dict) -> str:
    """'recent keepers darker, archive keepers brighter' (than the other photos of their time)."""
    from fluxcull.keeper.explain_words import ADJECTIVES

    up, down = ADJECTIVES.get(row["feature"], ("higher", "lower"))[:2]

    def side(when, auc):
        if auc is None:
            return f"{when}: too few values"
        return f"{when}: no preference" if abs(auc - 0.5) < NO_PREFERENCE else f"{when} keepers {up if auc > 0.5 else down}"

    r, a = row["recent"]["auc"], row["archive"]["auc"]
    return "too few values" if r is None and a is None else f"{side('recent', r)}, {side('archive', a)}"


def feature_cells(row: dict) -> list[str]:
    r, a = row["recent"], row["archive"]
    return [row["feature"], _num(r["auc"]), _num(a["auc"]), _num(row["change_auc"], signed=True),
            _num(row["z"], "{:.1f}", signed=True), _num(r["d"], "{:.2f}", signed=True),
            _num(a["d"], "{:.2f}", signed=True), f"{r['keepers']}/{r['others']}", f"{a['keepers']}/{a['others']}",
            in_words(row)]


def motif_cells(m: dict) -> list[str]:
    name = f"{m['id']} {m['name']}" if m["name"] else str(m["id"])
    return [name, _num(m["recent"]["share"]), _num(m["archive"]["share"]), _num(m["change"], signed=True),
            _num(m["z"], "{:.1f}", signed=True), str(m["recent"]["members"]), str(m["archive"]["members"])]


def summary(res: dict) -> str:
    """The comparison in one sentence (or why there is none)."""
    if res["status"] != "ok":
        return res["message"][:1].upper() + res["message"][1:]
    c, w = res["counts"], res["window"]
    moved = [r for r in res["features"] if r["clear"]]
    lead = (f"Recent {res['recent_months']} months ({w['recent_from']} to {w['recent_to']}): "
            f"{c['recent']['keepers']} keepers, {c['recent']['others']} others; archive ({w['archive_from']} to "
            f"{w['archive_to']}): {c['archive']['keepers']} keepers, {c['archive']['others']} others.")
    if not moved:
        return lead + " No feature's preference moved clearly (|z| >= 2)."
    words = [f"{r['feature']} (now {'higher' if r['change_auc'] > 0 else 'lower'})" for r in moved[:3]]
    return lead + (f" Preference moved most for {', '.join(words)}: recent keepers against recent others, "
                   "compared with the archive's keepers against its others.")
