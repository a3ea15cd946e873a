"""Keeper scores in photos.keeper_score (README, "The keeper model"), from the active model.

Per photo, first rule that applies:
1. marked reject -> 0.0; marked keep -> 1.0 (the photographer's own decision);
2. a confirmed keeper (original linked from the keeper archive) or a keeper-archive file -> 1.0;
3. unreadable (status 'error') -> 0.0;
4. a definitive technical failure, from the features: a blank or near-black frame, or wildly
   blurred -> 0.0 (thresholds in the setting `model.failures`, JSON); a dark frame with small bright
   points (a star field, lights at night) is no failure;
5. otherwise the model's calibrated probability, kept inside [0.005, 0.995] (the ends are reserved
   for rules 1-4), or NULL while the photo has no embedding yet. Probabilities beyond those limits
   are squeezed, in the order of the photos' corpus ranks, into [0.001, 0.005) and (0.995, 0.999]
   rather than clipped: a clip ties the bottom of a library (often most of it) and a sort by score
   could no longer order it.
Missing files (status 'missing') keep whatever score they had.

Scoring runs in numpy on the saved arrays (no torch); it refuses a model trained on another
backbone or feature schema than the library's current ones.

Scores are stored by `fluxcull.catalog.score_writes.write_scores` (batched short transactions;
rule 1 applied inside the UPDATE on photos.decision as it is at that moment, so a decision made
while scoring runs is never overwritten by the score computed before it).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from fluxcull.catalog import settings
from fluxcull.catalog.keepers import confirmed_keeper_ids
from fluxcull.catalog.model_reads import DECISIONS, ROLES, STATUSES, role_photo_ids, scoring_rows
# the one writer of photos.keeper_score lives in the catalog; imported here for the scoring job
from fluxcull.catalog.score_writes import band_counts, write_scores  # noqa: F401
from fluxcull.jobs import CancelToken, Job, Progress
from fluxcull.keeper import calibrate, projection_cache, score_cache
from fluxcull.keeper.dataset import find_feature
from fluxcull.keeper.models_store import ModelDamaged, ModelMismatch, SavedModel, load_version
from fluxcull.keeper.ranker import (InputTransform, burst_scores, params_from_saved, raw_scores, raw_scores_at,
                                    raw_scores_chunked)

MODEL_MIN, MODEL_MAX = 0.005, 0.995
MODEL_FLOOR, MODEL_CEIL = 0.001, 0.999  # the margins beyond MIN / MAX that keep the order of the tails
FAILURE_SETTING = "model.failures"


@dataclass
class FailureRules:
    blank_range: float = 0.03        # dynamic_range below: a blank frame (lens cap, flat white/black)
    black_brightness: float = 0.03   # brightness below: near-black
    black_shadows: float = 0.95      # shadows_clipped above: near-black
    blur_edge: float = 0.045         # sharpness_edge below AND ...
    blur_laplacian: float = 0.35     # ... sharpness_laplacian below: wildly blurred
    points_edge: float = 5.0         # a dark frame with sharpness_edge above (fine points, no coarse edges) ...
    points_clipped: float = 1e-4     # ... or highlights_clipped above (lights) is meant dark: no failure

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection) -> "FailureRules":
        return settings.numbers_into(conn, FAILURE_SETTING, cls())


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
        hl = col("highlights_clipped")
        blurred = (se < rules.blur_edge) & (sl < rules.blur_laplacian)
        dark = (br < rules.black_brightness) | (sh > rules.black_shadows)
        meant = dark & ((se > rules.points_edge) | (hl > rules.points_clipped))  # stars, lights at night
        black = dark & ~meant
        blank = (dr < rules.blank_range) & ~meant
    out[blurred] = "blurred"
    out[black] = "black"
    out[blank] = "blank"
    return out


def tail_ranks(calibrator, points: int = 20001) -> tuple[float, float]:
    """(r_low, r_high): the corpus ranks up to which the calibrator's probability stays below
    MODEL_MIN, and from which it exceeds MODEL_MAX (0 and 1 where it never does)."""
    grid = np.linspace(0.0, 1.0, points)
    p = calibrator(grid)
    low, high = grid[p < MODEL_MIN], grid[p > MODEL_MAX]
    return (float(low.max()) if len(low) else 0.0), (float(high.min()) if len(high) else 1.0)


def squeeze_tails(p: np.ndarray, rank: np.ndarray, r_low: float, r_high: float) -> np.ndarray:
    """p inside [MODEL_MIN, MODEL_MAX]; beyond those limits, the photo's rank placed linearly in
    [MODEL_FLOOR, MODEL_MIN) or (MODEL_MAX, MODEL_CEIL], so the tails keep their order."""
    p = np.asarray(p, np.float64)
    rank = np.asarray(rank, np.float64)
    out = np.clip(p, MODEL_MIN, MODEL_MAX)
    lo, hi = p < MODEL_MIN, p > MODEL_MAX
    if lo.any():
        f = np.clip(rank[lo] / max(r_low, 1e-12), 0.0, 1.0)
        out[lo] = MODEL_FLOOR + (MODEL_MIN - MODEL_FLOOR) * np.minimum(f, 1.0 - 1e-9)
    if hi.any():
        f = np.clip((1.0 - rank[hi]) / max(1.0 - r_high, 1e-12), 0.0, 1.0)
        out[hi] = MODEL_CEIL - (MODEL_CEIL - MODEL_MAX) * np.minimum(f, 1.0 - 1e-9)
    return out


class ScoringModel:
    """A saved model ready to score: input transform, scorer, corpus quantiles, calibrator."""

    def __init__(self, saved: SavedModel):
        self.saved = saved
        self.kind = saved.kind
        self.feature_names = list(saved.meta["feature_names"])
        self.transform = InputTransform.from_arrays(saved.arrays, self.feature_names)
        try:
            self.params = params_from_saved(saved.kind, saved.arrays, saved.texts)
        except Exception as exc:  # a damaged tree file: LightGBM's own parse error
            raise ModelDamaged(f"model version {saved.id}: unreadable model in {saved.path}: {exc}") from exc
        self.quantiles = saved.arrays["quantiles"]
        self.calibrator = calibrate.Calibrator.from_array(saved.arrays["calibrator"])
        self._tails = None
        self._raw_cache = None  # the version's score_cache.RawScoreCache, False where it has none

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Each photo's own part of the raw score (add `burst_part` for the whole score)."""
        return raw_scores(self.kind, self.params, x, self.transform.n_components)

    def burst_part(self, x: np.ndarray, burst: np.ndarray) -> np.ndarray:
        """The part that depends on the burst-mates (x: every frame of each burst in `burst`)."""
        return burst_scores(self.kind, self.params, x, burst)

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        rank = calibrate.to_rank(raw, self.quantiles)
        if self._tails is None:
            self._tails = tail_ranks(self.calibrator)
        return squeeze_tails(self.calibrator(rank), rank, *self._tails)

    def own_raw(self, x: np.ndarray, cancel=None, row_keys=None) -> np.ndarray:
        """`raw` of every row of x: from the version's raw score cache where a photo's inputs are those
        it was computed on (fluxcull.keeper.score_cache), predicted for the others. `row_keys`: a
        function giving score_cache.row_keys(x) where the caller keeps them (Prepared.input_keys)."""
        if self._raw_cache is None:
            self._raw_cache = score_cache.load(self.saved.path) or False
        k = self.transform.n_components
        if self._raw_cache:
            hit, out = self._raw_cache.lookup(row_keys() if row_keys else score_cache.row_keys(x))
            miss = np.flatnonzero(~hit)
            if len(miss) < len(x):
                if len(miss):
                    out[miss] = raw_scores_at(self.kind, self.params, x, k, miss, cancel=cancel)
                return out
        return raw_scores_chunked(self.kind, self.params, x, k, cancel=cancel)

    def probability(self, x: np.ndarray, burst: np.ndarray, cancel=None, row_keys=None) -> np.ndarray:
        """Keeper probabilities of the photos x, every frame of each of their bursts among them."""
        return self.calibrated(self.own_raw(x, cancel, row_keys) + self.burst_part(x, burst))

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
    without a keep/reject decision at write time (rule 1 is applied there, in SQL); 'stored': the
    rows as the catalog held them when read here (a whole-library pass), else None.
    With `sessions_of` (photo ids): only those photos and the photos of their sessions (a new
    inbox batch: context inputs depend on the session alone, so the rest keep their scores).
    """
    from fluxcull.embedding.store import current_store
    from fluxcull.keeper.context import input_spec
    from fluxcull.keeper.inputs import prepare

    names, schema = input_spec()
    fresh = None  # the photo rows read with the corpus just now, if it was read here
    if prep is None:
        store = current_store(lib, conn)
        model.check_compatible(store.backbone_id, schema)
        prep = prepare(lib, conn, transform=model.transform, cancel=cancel, progress=progress, sessions_of=sessions_of,
                       cache=projection_cache.load(model.saved.path), store=store)
        fresh = prep.photos
    model.check_compatible(prep.backbone_id, prep.feature_schema)
    corpus, feats = prep.corpus, prep.feats
    prob = model.probability(prep.x, prep.burst, cancel=cancel, row_keys=prep.input_keys)
    fail = technical_failures(names, feats, FailureRules.from_settings(conn))

    stored = None
    if fresh is not None and sessions_of is None:
        rows = fresh[:, :4]
        stored = fresh[:, [0, 3, 6, 7, 8]]
    else:  # a preparation from earlier (a training run): decisions and statuses as they are now
        rows = scoring_rows(conn, None if sessions_of is None else [*sessions_of, *corpus.ids.tolist()])
    n = len(rows)
    ids = rows[:, 0].astype(np.int64)
    code = rows[:, 1:].astype(np.int64)  # -1 (a value none of these) never matches below
    role = np.array([*ROLES, ""], "<U9")[code[:, 0]]
    status = np.array([*STATUSES, ""], "<U7")[code[:, 1]]
    dec = np.array([*DECISIONS, ""], "<U6")[code[:, 2]]
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
    base, base_leave, base_reasons = scores.copy(), (status == "missing") & (reasons == "unscored"), reasons.copy()
    scores[dec == "keep"], reasons[dec == "keep"] = 1.0, "decided_keep"
    scores[dec == "reject"], reasons[dec == "reject"] = 0.0, "decided_reject"
    leave = (status == "missing") & (reasons == "unscored")
    return {"ids": ids, "scores": scores, "leave": leave, "reasons": reasons, "base": base, "base_leave": base_leave,
            "base_reasons": base_reasons, "stored": stored}


def run_scoring(lib, conn: sqlite3.Connection, model: ScoringModel, cancel=None, prep=None,
                sessions_of=None) -> Job:
    """Score and store; yields Progress; returns the summary."""
    yield Progress("score", 0, None, "reading embeddings")
    res = compute_scores(lib, conn, model, cancel=cancel, prep=prep, sessions_of=sessions_of)
    if cancel is not None:
        cancel.check()
    yield Progress("score", 0, len(res["ids"]), "writing scores")
    changed = yield from write_scores(conn, res["ids"], res["base"], res["base_leave"], cancel=cancel,
                                      reasons=res["base_reasons"], stored=res["stored"])
    reasons, counts = np.unique(res["reasons"], return_counts=True)
    return {
        "version": model.saved.id, "kind": model.kind, "photos": int(len(res["ids"])), "changed": changed,
        "by_reason": {str(r): int(c) for r, c in zip(reasons, counts)}, "bands": band_counts(conn),
    }


def score_job(lib, *, cancel: CancelToken | None = None, sessions_of=None, role: str | None = None) -> Job:
    """Score every photo with the active keeper model and store photos.keeper_score; with
    `sessions_of` (photo ids, e.g. a new inbox batch) only those and the photos of their sessions;
    with `role` (e.g. 'inbox' after new photos arrived) the sessions of that role's photos."""
    conn = lib.connect()
    try:
        model = load_scoring_model(lib, conn)
        if role is not None:
            sessions_of = role_photo_ids(conn, role)
        return (yield from run_scoring(lib, conn, model, cancel=cancel, sessions_of=sessions_of))
    finally:
        conn.close()


__all__ = ["score_job", "compute_scores", "write_scores", "technical_failures", "FailureRules", "ScoringModel",
           "load_scoring_model", "ModelMismatch"]
