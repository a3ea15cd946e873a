"""Why a photo has its keeper score: the rule or model behind it, the nearest keepers, and the inputs
that moved the model's score most.

Contributions are measured against an average photo of the corpus (model inputs are centred):
weight x input for the linear model, gradient x input for the MLP and the centroid score, SHAP
values for the gradient-boosted trees, to which the burst choice adds each input's pull against the
frame's burst-mates (fluxcull.keeper.burst_choice). The strongest ones are also said in words
(fluxcull.keeper.explain_words: "sharpest of its 5-frame burst", "darker than the rest of this session"). All the
embedding's components are summed into one "appearance" entry; each technical/metadata feature
(with its missing-value indicator) is one entry.
"""

from __future__ import annotations

import numpy as np

from fluxcull.catalog.keeper_reads import kept_photo_ids
from fluxcull.catalog.keepers import confirmed_keeper_ids
from fluxcull.catalog.queries import band_of, photos_by_ids
from fluxcull.keeper.explain_words import in_words
from fluxcull.keeper.ranker import burst_contributions, input_contributions

TOP_FEATURES = 10
NEAREST = 5


def explain(lib, photo_id: int) -> dict:
    from fluxcull.embedding.store import current_store
    from fluxcull.keeper import calibrate
    from fluxcull.keeper.context import input_spec
    from fluxcull.keeper.inputs import embeddings_reader, prepare
    from fluxcull.keeper.score import FailureRules, load_scoring_model, technical_failures

    conn = lib.connect()
    try:
        photo = photos_by_ids(conn, [int(photo_id)]).get(int(photo_id))
        if photo is None:
            raise KeyError(f"no photo with id {photo_id}")
        out: dict = {
            "id": photo["id"], "path": photo["path"], "role": photo["role"], "status": photo["status"],
            "decision": photo["decision"], "score": photo["keeper_score"], "band": band_of(photo["keeper_score"]),
        }
        model = load_scoring_model(lib, conn)
        store = current_store(lib, conn)
        names, schema = input_spec()
        model.check_compatible(store.backbone_id, schema)
        out["model"] = {"version": model.saved.id, "kind": model.kind, "backbone_id": model.saved.backbone_id,
                        "created_at": model.saved.created_at}
        confirmed = confirmed_keeper_ids(conn)
        prep = prepare(lib, conn, transform=model.transform, sessions_of=[photo["id"]])
        at = int(prep.corpus.index_of([photo["id"]])[0])
        if at < 0:
            out["reason"] = _reason(photo, photo["id"] in confirmed, "")
            out["model_score"] = None
            out["note"] = ("no embedding yet: run `fluxcull embed`" if photo["role"] != "keepers"
                           else "keeper-archive files are not scored by the model")
            return out
        feats = prep.feats[at:at + 1]
        failure = technical_failures(names, feats, FailureRules.from_settings(conn))[0]
        out["reason"] = _reason(photo, photo["id"] in confirmed, failure)
        out["features"] = {n: (None if not np.isfinite(v) else float(v)) for n, v in zip(names, feats[0])}
        x = prep.x[at:at + 1]
        mates = np.flatnonzero(prep.burst == prep.burst[at])
        me = int(np.searchsorted(mates, at))  # its place among its burst's frames
        raw = model.raw(x) + model.burst_part(prep.x[mates], prep.burst[mates])[me]
        rank = calibrate.to_rank(raw, model.quantiles)
        out["model_score"] = float(model.calibrated(raw)[0])
        out["model_band"] = band_of(out["model_score"])
        out["corpus_rank"] = float(rank[0])
        frames = prep.corpus.ids[prep.burst == prep.burst[at]]
        out["burst"] = {"id": int(prep.burst[at]), "size": int(len(frames)), "photo_ids": [int(i) for i in frames]}
        emb = embeddings_reader(store, prep.corpus.rows)([at])[0]  # L2-normalised, as prepare read it
        out["nearest_keepers"] = _nearest_keepers(conn, store, emb, photo["id"], confirmed)
        out["contributions"] = _contributions(model, x[0], names, feats[0],
                                              burst_contributions(model.kind, model.params, prep.x[mates], me))
        out["in_words"] = in_words(out["contributions"], out["features"], out["burst"]["size"])
        return out
    finally:
        conn.close()


def _reason(photo: dict, confirmed: bool, failure: str) -> str:
    if photo["decision"] == "reject":
        return "marked reject"
    if photo["decision"] == "keep":
        return "marked keep"
    if photo["status"] == "error":
        return "unreadable file"
    if photo["role"] == "keepers":
        return "in the keeper archive"
    if confirmed:
        return "confirmed keeper (linked from the keeper archive)"
    if failure:
        return {"blank": "technical failure: blank frame", "black": "technical failure: near-black frame",
                "blurred": "technical failure: wildly blurred"}[failure]
    return "keeper model"


def _nearest_keepers(conn, store, emb: np.ndarray, photo_id: int, confirmed: set[int]) -> list[dict]:
    keep_ids = set(confirmed) | kept_photo_ids(conn)
    keep_ids.discard(photo_id)
    have, _rows = store.ids_and_rows()
    ids = np.intersect1d(np.fromiter(keep_ids, np.int64, len(keep_ids)), have)
    if len(ids) == 0:
        return []
    sims = np.empty(len(ids), np.float32)
    for s in range(0, len(ids), 8192):
        m = store.get(ids[s:s + 8192])
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        sims[s:s + 8192] = m @ emb
    top = np.argsort(-sims, kind="stable")[:NEAREST]
    info = photos_by_ids(conn, [int(i) for i in ids[top]])
    return [{"id": int(ids[i]), "path": info[int(ids[i])]["path"], "similarity": float(sims[i])} for i in top]


def _contributions(model, x: np.ndarray, names: list[str], raw_feats: np.ndarray, in_burst: np.ndarray) -> list[dict]:
    contrib = input_contributions(model.kind, model.params, x, model.transform.n_components) + in_burst
    k = model.transform.n_components
    entries = [{"input": "appearance (embedding)", "contribution": float(contrib[:k].sum()), "value": None}]
    per = np.array(contrib[k:k + len(names)], np.float64)
    for jj, j in enumerate(model.transform.a["feat_missing_cols"]):
        per[j] += contrib[k + len(names) + jj]
    for j, n in enumerate(names):
        if per[j] != 0.0:
            v = raw_feats[j]
            entries.append({"input": n, "contribution": float(per[j]), "value": None if not np.isfinite(v) else float(v)})
    entries.sort(key=lambda e: -abs(e["contribution"]))
    for e in entries:
        e["direction"] = "towards keeper" if e["contribution"] > 0 else "away from keeper"
    return entries[:TOP_FEATURES]
