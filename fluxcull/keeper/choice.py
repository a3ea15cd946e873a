"""Which keeper-model method to activate: chosen on held-out evidence, with a default on a tie.

Every candidate method is evaluated in the same run (fluxcull.keeper.evaluate). The selection metric
is the held-out ROC AUC on the by-time split (the newest sessions, as the inbox will be), pooled with
the random-by-session split while the newest sessions hold few keepers (see `selection_metric`).

`choose_method` walks the candidates in an order of preference and takes the first whose metric is
within a margin of the best:
- with fewer than MIN_KEEPERS_FOR_TREES keepers, the simplest first (linear, then trees): a handful of
  keepers cannot support trees, and the simpler method is the safer bet. The line was 20 keepers;
  on the quick taste benchmark (8-16 keepers per photographer) that rule chose linear for 6 of 7
  photographers although the trees ranked 6 of those 7 inboxes better (mean AUC 0.87 against 0.74),
  and on small synthetic libraries (11 keepers) the evaluation itself preferred the trees by more
  than the margin in 5 of 6, so the line is now 8;
- from then on the gradient-boosted trees first: on the taste benchmark's held-out inboxes they beat
  the linear ranker on every simulated photographer (mean AUC 0.93 against 0.85), while the
  evaluation on a few dozen keepers sometimes said the opposite by a few hundredths (its noise), so
  the linear ranker replaces them only when it is better by more than the margin.
The margin is the noise of an AUC measured on the held-out keepers: CHOICE_MARGIN with at least
FEW_KEEPERS of them, CHOICE_MARGIN_FEW below.
"""

from __future__ import annotations

import numpy as np

# The methods `train` chooses among by default, simplest first (see choose_method).
AUTO_CANDIDATES = ("linear", "gbt")
SIMPLICITY = ("linear", "centroid", "gbt", "mlp")   # preference with few keepers
PREFERENCE = ("gbt", "linear", "mlp", "centroid")   # preference from MIN_KEEPERS_FOR_TREES keepers on
MIN_KEEPERS_FOR_TREES = 8
# below this many keepers a retrain must be better by CHOICE_MARGIN to replace the model in use
# (fluxcull.keeper.train): a handful of new decisions moves a small model by noise
FEW_KEEPERS_TO_REPLACE = 20
CHOICE_MARGIN = 0.01        # AUC within which the preferred method stays ...
CHOICE_MARGIN_FEW = 0.05    # ... or this, when the held-out sessions hold fewer than FEW_KEEPERS keepers
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


def choice_margin(metrics: dict) -> float:
    """The AUC margin of the choice for these metrics (CHOICE_MARGIN, or CHOICE_MARGIN_FEW with few
    held-out keepers)."""
    rows_t = metrics.get("splits", {}).get("by_time", {}).get("rows") or {}
    rows = rows_t or metrics.get("splits", {}).get("random_by_session", {}).get("rows") or {}
    n_keep = max(((r.get("n_keepers") or 0) for r in rows.values()), default=0)
    return CHOICE_MARGIN if n_keep >= FEW_KEEPERS else CHOICE_MARGIN_FEW


def choose_method(metrics: dict, candidates=AUTO_CANDIDATES) -> tuple[str, str]:
    """(method, why): the first candidate, in the order of preference, whose selection metric is
    within the margin of the best (see the module's docstring)."""
    vals = {m: selection_metric(metrics, m) for m in candidates}
    vals = {m: v for m, v in vals.items() if v is not None}
    if not vals:
        return "linear", "no method could be evaluated (too few keepers in held-out sessions): linear by default"
    rows_t = metrics.get("splits", {}).get("by_time", {}).get("rows") or {}
    split = "by_time" if rows_t else "random_by_session"
    n_keep = max((r.get("n_keepers") or 0) for r in metrics["splits"][split]["rows"].values())
    margin = choice_margin(metrics)
    if rows_t and n_keep >= FEW_KEEPERS:
        name = "newest sessions (by time)"
    elif rows_t:
        name = "newest sessions pooled with held-out random sessions"
    else:
        name = "held-out random sessions"
    keepers = metrics.get("keepers")
    few = keepers is not None and keepers < MIN_KEEPERS_FOR_TREES
    pref = SIMPLICITY if few else PREFERENCE
    best_m = max(vals, key=lambda m: vals[m])
    best = vals[best_m]
    order = sorted(vals, key=lambda m: pref.index(m) if m in pref else len(pref))
    chosen = next(m for m in order if vals[m] >= best - margin)
    listing = ", ".join(f"{m} {vals[m]:.3f}" for m in order)
    if chosen == best_m:
        why = f"best held-out AUC on the {name}: {listing}"
    elif few:
        why = (f"{keepers} keepers: the simplest method within {margin:.2f} AUC of the best ({best_m}) on the "
               f"{name}: {listing}")
    else:
        why = (f"trees unless another method is better by more than {margin:.2f} AUC ({n_keep} held-out keepers) "
               f"on the {name}: {listing}")
    return chosen, why
