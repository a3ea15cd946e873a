"""What a trained keeper model is worth, in sentences a photographer reads first.

From a training or evaluation summary: how many of the keepers in the newest sessions the model
puts in its top fifth, which method was chosen and why, and, while there are few keepers, why
scores stay low (the calibrated probability of being a keeper is honestly low when the model has
seen few keepers, not a fault).
"""

from __future__ import annotations

METHOD_LABELS = {
    "gbt": "gradient-boosted trees", "linear": "pairwise linear ranker", "mlp": "pairwise neural ranker",
    "centroid": "keeper centroid",
}
FEW_KEEPERS = 50


def _row(table: list[dict], split: str, method: str) -> dict | None:
    for r in table or []:
        if r.get("split") == split and r.get("method", "").rstrip(" *") == method:
            return r
    return None


def quality_sentences(kind: str, table: list[dict], positives: int, choice: str | None = None) -> list[str]:
    out = []
    for split, where in (("by_time", "in the newest sessions"), ("random_by_session", "in sessions it did not see")):
        r = _row(table, split, kind)
        if r and r.get("recall_top20") is not None and r.get("n_keepers"):
            tens = round(10 * r["recall_top20"])
            out.append(f"Of your keepers {where}, the model puts {tens} in 10 in its top 20%.")
            break
    if positives < FEW_KEEPERS:
        out.append(f"You have {positives} keepers: scores stay low until there are more. That is honest, not broken: "
                   "with few examples the model is rarely sure a photo is a keeper.")
    label = METHOD_LABELS.get(kind, kind)
    out.append(f"Method: {label}" + (", chosen by testing each method on sessions it had not seen." if choice
                                      else "."))
    return out
