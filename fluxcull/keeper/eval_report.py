"""What `fluxcull eval` reports: the evaluation (fluxcull.keeper.evaluate) run on the library's
current data, nothing saved, beside the metrics stored with the version in use."""

from __future__ import annotations

from fluxcull.keeper.evaluate import evaluate, format_table
from fluxcull.keeper.inputs import prepare
from fluxcull.keeper.models_store import active_version_id, jsonable, version_row
from fluxcull.keeper.pairs import PairConfig
from fluxcull.keeper.quality_words import quality_sentences


def eval_report(lib, *, kind: str | None = None, seed: int | None = None, cancel=None,
                recency_half_life_months: int | None = None) -> dict:
    """Evaluate on the library's current data (nothing saved); with the active model's kind and seed
    unless given, and the recency weighting of the setting unless `recency_half_life_months` is given
    (0: off). Includes the metrics stored with the active version for comparison."""
    conn = lib.connect()
    try:
        active = active_version_id(conn)
        stored = version_row(conn, active) if active is not None else None
        if kind is None:
            kind = "auto"
        if seed is None:
            seed = int(stored["training"].get("seed", 0)) if stored else 0
        prep = prepare(lib, conn, seed=seed, cancel=cancel)
        if recency_half_life_months is not None:
            prep.recency_half_life_months = recency_half_life_months
        res = evaluate(prep, conn, kind=kind, seed=seed, cfg=PairConfig.from_settings(conn), cancel=cancel)
        res.pop("oof_ranks", None)
        res.pop("oof_raw", None)
        res["data"] = prep.corpus.summary()
        res["backbone_id"] = prep.backbone_id
        res["feature_schema"] = prep.feature_schema
        res["seed"] = seed
        res["recency_half_life_months"] = prep.recency_half_life_months
        res["active_version"] = ({"id": stored["id"], "kind": stored["kind"], "created_at": stored["created_at"],
                                  "table": stored["metrics"].get("table")} if stored else None)
        res["text"] = format_table(res["table"])
        res["in_words"] = quality_sentences(res["model"], res["table"], res["data"]["positives"], res.get("choice"))
        return jsonable(res)
    finally:
        conn.close()
