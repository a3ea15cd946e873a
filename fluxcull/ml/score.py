"""Keeper scores in photos.keeper_score (spec section 6), from the active model.

Per photo, first rule that applies:
1. marked reject -> 0.0; marked keep -> 1.0 (the photographer's own decision);
2. a confirmed keeper (original linked from the keeper archive) or a keeper-archive file -> 1.0;
3. unreadable (status 'error') -> 0.0;
4. a definitive technical failure, from the features: a blank or near-black frame, or wildly
   blurred -> 0.0 (thresholds in the setting `model.failures`, JSON);
5. otherwise the model's calibrated probability, kept inside [0.005, 0.995] (the ends are reserved
   for rules 1-4), or NULL while the photo has no embedding yet.
Missing files (status 'missing') keep whatever score they had.

Scoring runs in numpy on the saved arrays (no torch); it refuses a model trained on another
backbone or feature schema than the library's current ones.

Scores are written in batches of a few thousand photos, each its own short transaction, so a
keep/reject committed by the GUI meanwhile waits milliseconds, not the whole write. Rule 1 is
applied inside the UPDATE itself (on photos.decision as it is at that moment), so a decision made
while scoring runs is never overwritten by the score computed before it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

import numpy as np

from fluxcull.catalog import transaction
from fluxcull.catalog.keepers import confirmed_keeper_ids
from fluxcull.jobs import CancelToken, Job, Progress
from fluxcull.ml import calibrate
from fluxcull.ml.dataset import find_feature
from fluxcull.ml.models_store import ModelMismatch, SavedModel, load_version
from fluxcull.ml.ranker import InputTransform, params_from_saved, raw_scores

MODEL_MIN, MODEL_MAX = 0.005, 0.995
FAILURE_SETTING = "model.failures"
# Photos per write transaction. Each batch rewrites index pages scattered all over the score indexes,
# so the cost of a commit hardly shrinks with the batch: at 400,000 photos 20,000 rows hold the write
# lock ~0.3-0.5 s for the same total time as one transaction, 5,000 rows ~0.15-0.4 s for twice the total.
WRITE_BATCH = 20_000
WRITE_PAUSE_MIN = 0.002   # seconds the write lock stays free between batches, at least ...
WRITE_PAUSE_SHARE = 0.25  # ... or this share of the time the last batch held it


@dataclass
class FailureRules:
    blank_range: float = 0.03        # dynamic_range below: a blank frame (lens cap, flat white/black)
    black_brightness: float = 0.03   # brightness below: near-black
    black_shadows: float = 0.95      # shadows_clipped above: near-black
    blur_edge: float = 0.045         # sharpness_edge below AND ...
    blur_laplacian: float = 0.35     # ... sharpness_laplacian below: wildly blurred

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection) -> "FailureRules":
        rules = cls()
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (FAILURE_SETTING,)).fetchone()
        if row:
            for k, v in json.loads(row[0]).items():
                if not hasattr(rules, k):
                    raise ValueError(f"setting {FAILURE_SETTING}: unknown key {k!r}")
                setattr(rules, k, float(v))
        return rules


def technical_failures(names: list[str], feats: np.ndarray, rules: FailureRules | None = None) -> np.ndarray:
    """Reason code per photo: '' (none), 'blank', 'black' or 'blurred'."""
    rules = rules or FailureRules()
    feats = np.asarray(feats, np.float32)
    out = np.full(len(feats), "", dtype="<U7")

    def col(*cands):
        j = find_feature(names, *cands)
        return feats[:, j] if j is not None else np.full(len(feats), np.nan, np.float32)

    with np.errstate(invalid="ignore"):
        dr = col("dynamic_range")
        br = col("brightness")
        sh = col("shadows_clipped")
        se = col("sharpness_edge")
        sl = col("sharpness_laplacian")
        blurred = (se < rules.blur_edge) & (sl < rules.blur_laplacian)
        black = (br < rules.black_brightness) | (sh > rules.black_shadows)
        blank = dr < rules.blank_range
    out[blurred] = "blurred"
    out[black] = "black"
    out[blank] = "blank"
    return out


class ScoringModel:
    """A saved model ready to score: input transform, scorer, corpus quantiles, calibrator."""

    def __init__(self, saved: SavedModel):
        self.saved = saved
        self.kind = saved.kind
        self.feature_names = list(saved.meta["feature_names"])
        self.transform = InputTransform.from_arrays(saved.arrays, self.feature_names)
        self.params = params_from_saved(saved.kind, saved.arrays, saved.texts)
        self.quantiles = saved.arrays["quantiles"]
        self.calibrator = calibrate.Calibrator.from_array(saved.arrays["calibrator"])

    def raw(self, x: np.ndarray) -> np.ndarray:
        return raw_scores(self.kind, self.params, x, self.transform.n_components)

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        p = self.calibrator(calibrate.to_rank(raw, self.quantiles))
        return np.clip(p, MODEL_MIN, MODEL_MAX)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return self.calibrated(self.raw(x))

    def check_compatible(self, backbone_id: str, input_schema: str) -> None:
        s = self.saved
        if s.backbone_id != backbone_id:
            raise ModelMismatch(
                f"keeper model v{s.id} was trained on {s.backbone_id} embeddings but the library's embeddings "
                f"are {backbone_id}: retrain with `fluxcull train` (or switch the backbone back)")
        if s.feature_schema != input_schema:
            old_feats, _, old_ctx = s.feature_schema.partition("+")
            new_feats, _, new_ctx = input_schema.partition("+")
            if old_feats != new_feats:
                raise ModelMismatch(
                    f"keeper model v{s.id} was trained on feature schema {old_feats} but this fluxcull computes "
                    f"{new_feats}: re-run `fluxcull embed` to refresh features, then `fluxcull train`")
            raise ModelMismatch(
                f"keeper model v{s.id} was trained on context inputs {old_ctx or '(none)'} but this fluxcull "
                f"computes {new_ctx}: retrain with `fluxcull train`")


def load_scoring_model(lib, conn: sqlite3.Connection, version_id: int | None = None) -> ScoringModel:
    return ScoringModel(load_version(lib, conn, version_id))


def compute_scores(lib, conn: sqlite3.Connection, model: ScoringModel, *, cancel=None, progress=None,
                   prep=None, sessions_of=None) -> dict:
    """Scores for every photo (ids ascending), as arrays:

    'scores' (NaN = NULL) and 'leave' (bool: keep the stored score) by all the rules, 'reasons';
    'base' and 'base_leave': the same by rules 2-5 only, what `write_scores` stores for a photo
    without a keep/reject decision at write time (rule 1 is applied there, in SQL).
    With `sessions_of` (photo ids): only those photos and the photos of their sessions (a new
    inbox batch: context inputs depend on the session alone, so the rest keep their scores).
    """
    from fluxcull.ml.context import input_spec
    from fluxcull.ml.dataset import open_store
    from fluxcull.ml.inputs import prepare

    names, schema = input_spec()
    if prep is None:
        model.check_compatible(open_store(lib, conn).backbone_id, schema)
        prep = prepare(lib, conn, transform=model.transform, cancel=cancel, progress=progress, sessions_of=sessions_of)
    model.check_compatible(prep.backbone_id, prep.feature_schema)
    corpus, feats = prep.corpus, prep.feats
    prob = np.empty(len(corpus), np.float64)
    for s in range(0, len(prob), 65536):
        if cancel is not None:
            cancel.check()
        prob[s:s + 65536] = model.probability(prep.x[s:s + 65536])
    fail = technical_failures(names, feats, FailureRules.from_settings(conn))

    rows = conn.execute("SELECT id, role, status, decision FROM photos ORDER BY id").fetchall()
    if sessions_of is not None:
        wanted = set(int(i) for i in sessions_of) | set(corpus.ids.tolist())
        rows = [r for r in rows if r[0] in wanted]
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), np.int64, n)
    role = np.array([r[1] for r in rows], "<U9") if n else np.zeros(0, "<U9")
    status = np.array([r[2] for r in rows], "<U7") if n else np.zeros(0, "<U7")
    dec = np.array([r[3] for r in rows], "<U6") if n else np.zeros(0, "<U6")
    scores = np.full(n, np.nan)
    reasons = np.full(n, "unscored", dtype="<U16")
    pos = np.searchsorted(ids, corpus.ids)
    scores[pos] = prob
    reasons[pos] = "model"
    f = fail != ""
    scores[pos[f]] = 0.0
    reasons[pos[f]] = np.char.add("failure:", fail[f])
    err = status == "error"
    scores[err], reasons[err] = 0.0, "unreadable"
    conf = np.isin(ids, np.fromiter(confirmed_keeper_ids(conn), np.int64)) | (role == "keepers")
    conf &= status != "error"
    scores[conf], reasons[conf] = 1.0, np.where(role[conf] == "keepers", "keeper_archive", "confirmed_keeper")
    base, base_leave = scores.copy(), (status == "missing") & (reasons == "unscored")
    scores[dec == "keep"], reasons[dec == "keep"] = 1.0, "decided_keep"
    scores[dec == "reject"], reasons[dec == "reject"] = 0.0, "decided_reject"
    leave = (status == "missing") & (reasons == "unscored")
    return {"ids": ids, "scores": scores, "leave": leave, "reasons": reasons, "base": base, "base_leave": base_leave}


def _fill_temp(conn: sqlite3.Connection, rows: list) -> None:
    """Load the new values into the temporary table in one transaction that touches only the temp
    database (a plain BEGIN, not IMMEDIATE: other connections keep writing the catalog meanwhile)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        conn.execute("DELETE FROM temp.fluxcull_new_scores")
        conn.executemany("INSERT INTO temp.fluxcull_new_scores(id, s, leave) VALUES (?, ?, ?)", rows)
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    if own:
        conn.execute("COMMIT")


# Rule 1 at write time, on the row being updated: the decision as it is when this batch commits.
_NEW_SCORE = ("(CASE photos.decision WHEN 'keep' THEN 1.0 WHEN 'reject' THEN 0.0"
              " ELSE (CASE WHEN n.leave THEN photos.keeper_score ELSE n.s END) END)")
_UPDATE_BATCH = (
    f"UPDATE photos SET keeper_score = {_NEW_SCORE} FROM temp.fluxcull_new_scores n"
    " WHERE photos.id = n.id AND n.id BETWEEN ? AND ?"  # the id range keeps it a rowid search, not a scan
    f" AND ((photos.keeper_score IS NULL) != ({_NEW_SCORE} IS NULL)"
    f" OR abs(photos.keeper_score - {_NEW_SCORE}) > 2e-6)")  # float noise between scoring paths is no change


def write_scores(conn: sqlite3.Connection, ids: np.ndarray, scores: np.ndarray, leave: np.ndarray, *,
                 cancel: CancelToken | None = None, batch: int | None = None) -> Job:
    """Store scores (NaN -> NULL; `leave`: keep the stored one) touching only rows whose value changes;
    a job: yields Progress after each batch, returns the number of rows changed.

    Photos marked keep / reject at the moment their batch is written get 1.0 / 0.0 whatever
    `scores` says (pass the scores by rules 2-5, `compute_scores`'s 'base'). The values go to a
    temporary table first (no lock on the catalog), then into photos with one UPDATE ... FROM per
    batch of ids, each in its own transaction; between batches the write lock stays free for a short
    pause so a writer waiting in SQLite's busy handler gets in. A cancelled write leaves the batches
    already committed (each photo's score is whole; the rest keep their previous scores).
    `batch`: photos per transaction (default WRITE_BATCH).
    """
    batch = int(batch or WRITE_BATCH)
    ids = np.asarray(ids, np.int64)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    vals = np.round(np.asarray(scores, np.float64)[order], 6)
    left = np.asarray(leave, bool)[order]
    rows = [(pid, None if v != v else v, int(lv)) for pid, v, lv in zip(ids.tolist(), vals.tolist(), left.tolist())]
    total = len(rows)
    conn.execute("PRAGMA cache_size = -131072")  # 128 MB page cache for this connection's bulk update
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS fluxcull_new_scores(id INTEGER PRIMARY KEY, s REAL, leave INTEGER)")
    changed = 0
    try:
        _fill_temp(conn, rows)
        start = 0
        while start < total:
            if cancel is not None:
                cancel.check()
            end = min(start + batch, total)
            t0 = time.perf_counter()
            with transaction(conn):
                changed += conn.execute(_UPDATE_BATCH, (rows[start][0], rows[end - 1][0])).rowcount
            held = time.perf_counter() - t0
            start = end
            yield Progress("score", end, total, "writing scores")
            if end < total:
                time.sleep(max(WRITE_PAUSE_MIN, WRITE_PAUSE_SHARE * held))
    finally:
        conn.execute("DELETE FROM temp.fluxcull_new_scores")
    return int(changed)


def band_counts(conn: sqlite3.Connection) -> dict:
    from fluxcull.catalog.queries import BANDS

    sums = ", ".join(f"COALESCE(SUM({cond}), 0)" for cond in BANDS.values())
    return dict(zip(BANDS, conn.execute(f"SELECT {sums} FROM photos").fetchone()))


def run_scoring(lib, conn: sqlite3.Connection, model: ScoringModel, cancel=None, prep=None,
                sessions_of=None) -> Job:
    """Score and store; yields Progress; returns the summary."""
    yield Progress("score", 0, None, "reading embeddings")
    res = compute_scores(lib, conn, model, cancel=cancel, prep=prep, sessions_of=sessions_of)
    if cancel is not None:
        cancel.check()
    yield Progress("score", 0, len(res["ids"]), "writing scores")
    changed = yield from write_scores(conn, res["ids"], res["base"], res["base_leave"], cancel=cancel)
    reasons, counts = np.unique(res["reasons"], return_counts=True)
    return {
        "version": model.saved.id, "kind": model.kind, "photos": int(len(res["ids"])), "changed": changed,
        "by_reason": {str(r): int(c) for r, c in zip(reasons, counts)}, "bands": band_counts(conn),
    }


def score_job(lib, *, cancel: CancelToken | None = None, sessions_of=None) -> Job:
    """Score every photo with the active keeper model and store photos.keeper_score; with
    `sessions_of` (photo ids, e.g. a new inbox batch) only those and the photos of their sessions."""
    conn = lib.connect()
    try:
        model = load_scoring_model(lib, conn)
        return (yield from run_scoring(lib, conn, model, cancel=cancel, sessions_of=sessions_of))
    finally:
        conn.close()


__all__ = ["score_job", "compute_scores", "write_scores", "technical_failures", "FailureRules", "ScoringModel",
           "load_scoring_model", "ModelMismatch"]
