"""Which keeper-model method to activate: chosen on held-out evidence, the simpler one on a tie.

Every candidate method is evaluated in the same run (fluxcull.ml.evaluate); `choose_method` takes
the simplest candidate whose selection metric is within a margin of the best. The selection metric
is the held-out ROC AUC on the by-time split (the newest sessions, as the inbox will be), pooled with
the random-by-session split while the newest sessions hold few keepers (see `selection_metric`).
"""

from __future__ import annotations

import numpy as np

# The methods `train` chooses among by default, simplest first (see choose_method).
AUTO_CANDIDATES = ("linear", "gbt")
SIMPLICITY = ("linear", "centroid", "gbt", "mlp")
CHOICE_MARGIN = 0.01        # AUC within which the simpler method wins ...
CHOICE_MARGIN_FEW = 0.02    # ... or this, when the held-out sessions hold fewer than FEW_KEEPERS keepers
FEW_KEEPERS = 30


def selection_metric(metrics: dict, method: str) -> float | None:
    """The number methods and versions are chosen on: held-out ROC AUC on the by-time split (the
    newest sessions, as the inbox will be). While the newest sessions hold fewer than FEW_KEEPERS
    keepers that number is mostly noise, so it is pooled with the random-by-session split's AUC,
    each weighted by its held-out keepers; without a by-time row, the latter alone. The
    random-by-session AUC used here is the mean of the AUCs within each fold (weighted by the fold's
    keepers), not the AUC of all folds' scores pooled: scores of different fold models are not on
    one scale, and pooling them penalises models that fit their training photos closely (trees)
    although each fold orders its own photos well."""
    vals = []
    for split in ("by_time", "random_by_session"):
        try:
            row = metrics["splits"][split]["rows"][method]
        except (KeyError, TypeError):
            continue
        v = row.get("fold_auc", row.get("roc_auc")) if split == "random_by_session" else row.get("roc_auc")
        if v is not None and np.isfinite(v):
            vals.append((float(v), int(row.get("n_keepers") or 0)))
    if not vals:
        return None
    if len(vals) == 1 or vals[0][1] >= FEW_KEEPERS:
        return vals[0][0]
    (a, na), (b, nb) = vals
    return (a * na + b * nb) / max(na + nb, 1)


def choose_method(metrics: dict, candidates=AUTO_CANDIDATES) -> tuple[str, str]:
    """(method, why): the simplest candidate whose selection metric is within the margin of the best.

    The margin is CHOICE_MARGIN AUC, CHOICE_MARGIN_FEW when the held-out sessions hold few keepers
    (with a handful of keepers a small difference is noise, and the simpler method is the safer bet)."""
    vals = {m: selection_metric(metrics, m) for m in candidates}
    vals = {m: v for m, v in vals.items() if v is not None}
    if not vals:
        return "linear", "no method could be evaluated (too few keepers in held-out sessions): linear by default"
    rows_t = metrics.get("splits", {}).get("by_time", {}).get("rows") or {}
    split = "by_time" if rows_t else "random_by_session"
    n_keep = max((r.get("n_keepers") or 0) for r in metrics["splits"][split]["rows"].values())
    margin = CHOICE_MARGIN if n_keep >= FEW_KEEPERS else CHOICE_MARGIN_FEW
    if rows_t and n_keep >= FEW_KEEPERS:
        name = "newest sessions (by time)"
    elif rows_t:
        name = "newest sessions pooled with held-out random sessions"
    else:
        name = "held-out random sessions"
    best_m = max(vals, key=lambda m: vals[m])
    best = vals[best_m]
    order = sorted(vals, key=lambda m: SIMPLICITY.index(m) if m in SIMPLICITY else len(SIMPLICITY))
    chosen = next(m for m in order if vals[m] >= best - margin)
    listing = ", ".join(f"{m} {vals[m]:.3f}" for m in order)
    if chosen == best_m:
        why = f"best held-out AUC on the {name}: {listing}"
    else:
        why = (f"simplest method within {margin:.2f} AUC of the best ({best_m}) on the {name}, "
               f"{n_keep} held-out keepers: {listing}")
    return chosen, why


