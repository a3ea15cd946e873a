"""What a trained keeper model is worth, in sentences a photographer reads first.

From a training or evaluation summary: how many of the keepers in the newest sessions the model
puts in its top fifth, which method was chosen and why, and, while there are few keepers, why
scores stay low (the calibrated probability of being a keeper is honestly low when the model has
seen few keepers, not a fault). Then the methods side by side in a small table with plain column
names (`method_rows`, `methods_text`: the active one first and marked, the baselines last), and
every number behind it in `details_text` (plain tables, no raw report). The GUI's model panel, the
retrain result and `fluxcull eval` / `train` all say it with these functions.
"""

from __future__ import annotations

import math

from fluxcull.keeper.calibrate import unexported_share

METHOD_LABELS = {
    "gbt": "gradient-boosted trees", "linear": "pairwise linear ranker", "mlp": "pairwise neural ranker",
    "centroid": "keeper centroid",
}
BASELINE_LABELS = {
    "random": "random guess (baseline)", "sharpness": "sharpness alone (baseline)",
    "exposure": "exposure alone (baseline)", "centroid": "likeness to your keepers (baseline)",
}
SPLIT_WORDS = {"by_time": "the newest sessions, held out", "random_by_session": "sessions held out at random"}
FEW_KEEPERS = 50
COLUMNS = ("Method", "Ranking (AUC)", "Better of two in a session", "Keepers in its top 20%")
DETAIL_COLUMNS = (("roc_auc", "AUC"), ("average_precision", "Avg precision"), ("pairwise_accuracy", "Better of two"),
                  ("recall_top10", "Top 10%"), ("recall_top20", "Top 20%"), ("ece", "Calibration error"),
                  ("n_test", "Photos"), ("n_keepers", "Keepers"))


def _method(r: dict) -> str:
    return str(r.get("method", "")).rstrip(" *")


def _row(table: list[dict], split: str, method: str) -> dict | None:
    for r in table or []:
        if r.get("split") == split and _method(r) == method:
            return r
    return None


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def quality_sentences(kind: str, table: list[dict], positives: int, choice: str | None = None) -> list[str]:
    out = []
    for split, where in (("by_time", "in the newest sessions"), ("random_by_session", "in sessions it did not see")):
        r = _row(table, split, kind)
        if r and _num(r.get("recall_top20")) is not None and r.get("n_keepers"):
            n = int(r["n_keepers"])
            if n < 10:  # "7 in 10" of 3 keepers would claim more than was measured
                out.append(f"Of your {n} keepers {where}, the model puts {round(n * r['recall_top20'])} in its top 20%.")
            else:
                out.append(f"Of your keepers {where}, the model puts {round(10 * r['recall_top20'])} in 10 in its "
                           "top 20%.")
            break
    if positives < FEW_KEEPERS:
        out.append(f"You have {positives} keepers: scores stay low until there are more. That is honest, not broken: "
                   "with few examples the model is rarely sure a photo is a keeper, so most scores are red "
                   "(below 0.5). Keep (P) and reject (X) a few sessions, then retrain.")
    else:
        out.append("Red (below 0.5) means probably not a keeper: most frames of a shoot are not, so most scores are "
                   "red. Amber (0.5–0.8) is where your review matters most.")
    label = METHOD_LABELS.get(kind, kind)
    out.append(f"Method: {label}" + (", chosen by testing each method on sessions it had not seen." if choice
                                      else "."))
    return out


def shown_split(table: list[dict], kind: str) -> str:
    """The split the small table shows: the newest sessions when the active method was tested there."""
    return "by_time" if _row(table, "by_time", kind) is not None else "random_by_session"


def method_rows(table: list[dict], kind: str) -> list[dict]:
    """The methods of one split (shown_split): {method, label, auc, pairwise, top20, active, baseline};
    the active method first, then the other methods, then the baselines, each by AUC."""
    split = shown_split(table, kind)
    rows = []
    for r in table or []:
        if r.get("split") != split:
            continue
        m = _method(r)
        active = m == kind
        baseline = m in BASELINE_LABELS and not active
        label = BASELINE_LABELS[m] if baseline else METHOD_LABELS.get(m, m)
        rows.append({"method": m, "label": label + (" — in use" if active else ""), "auc": _num(r.get("roc_auc")),
                     "pairwise": _num(r.get("pairwise_accuracy")), "top20": _num(r.get("recall_top20")),
                     "active": active, "baseline": baseline})
    rows.sort(key=lambda x: (not x["active"], x["baseline"], -(x["auc"] if x["auc"] is not None else -1.0)))
    return rows


def cells(row: dict) -> tuple[str, str, str, str]:
    """A method row as the table's four texts."""
    def pct(v):
        return "–" if v is None else f"{round(100 * v)}%"
    return (row["label"], "–" if row["auc"] is None else f"{row['auc']:.2f}", pct(row["pairwise"]), pct(row["top20"]))


def _text_table(heads, rows) -> str:
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]
    lines = ["  ".join(str(v).ljust(widths[i]) if i == 0 else str(v).rjust(widths[i]) for i, v in enumerate(r))
             for r in [heads, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def methods_text(table: list[dict], kind: str) -> str:
    """The small table as text (the command line's), with the split it was tested on."""
    split = shown_split(table, kind)
    head = f"Tested on {SPLIT_WORDS[split]}:"
    return head + "\n" + _text_table(COLUMNS, [cells(r) for r in method_rows(table, kind)])


def _detail(v) -> str:
    n = _num(v)
    if n is None:
        return "–"
    return str(int(n)) if isinstance(v, int) else f"{n:.3f}"


def details_text(table: list[dict], kind: str, *, choice: str | None = None, extra: list[str] = ()) -> str:
    """Every number, per split, in plain tables; then how the method was chosen and any extra lines."""
    parts = []
    for split in ("by_time", "random_by_session"):
        rows = sorted((r for r in table or [] if r.get("split") == split),
                      key=lambda r: (_method(r) != kind, _method(r) in BASELINE_LABELS))
        if not rows:
            continue
        body = [((BASELINE_LABELS.get(_method(r)) if _method(r) in BASELINE_LABELS and _method(r) != kind
                  else METHOD_LABELS.get(_method(r), _method(r))) + (" (in use)" if _method(r) == kind else ""),
                 *(_detail(r.get(k)) for k, _ in DETAIL_COLUMNS)) for r in rows]
        parts.append(f"Tested on {SPLIT_WORDS.get(split, split)}:\n"
                     + _text_table(("Method", *(h for _, h in DETAIL_COLUMNS)), body))
    if choice:
        parts.append(f"How the method was chosen: {choice}.")
    parts += [x for x in extra if x]
    parts.append("AUC: how well the scores rank keepers above the rest (0.5 is chance, 1 is perfect). Better of two: "
                 "how often the keeper of a session scores above a non-keeper of the same session. Top 20%: the "
                 "share of your keepers found in the fifth of the photos it scores highest. Calibration error: how far "
                 "the scores are from the real share of keepers.")
    return "\n\n".join(parts)


def _verdict(s: dict) -> str:
    """A retrain's outcome in a sentence: which version is in use now, and why."""
    v, prev = s.get("version"), s.get("previous_version")
    new = _num((s.get("primary_metric") or {}).get("value"))
    old = _num((s.get("previous_metrics") or {}).get("primary_on_current_data"))
    auc = f" (AUC {new:.2f} against {old:.2f})" if new is not None and old is not None else ""
    if s.get("activated", True):
        if prev is None:
            return f"Model v{v} is in use now: the grid shows its scores."
        return f"Model v{v} is in use now: it ranks your photos at least as well as v{prev} did on the same photos{auc}."
    if "must be clearly better" in (s.get("reason") or ""):
        keepers = (s.get("data") or {}).get("positives")
        with_n = f"With {keepers} keepers" if keepers is not None else "With few keepers"
        return (f"Model v{v} was not put in use: {with_n} a retrain must rank your photos "
                f"clearly better than v{prev} to replace it{auc}, so v{prev} stays. Your keeps and rejects already "
                "set their own photos' scores.")
    if new is not None and old is not None and f"{new:.2f}" == f"{old:.2f}":
        auc = f" (AUC {new:.3f} against {old:.3f})"
    return (f"Model v{v} was not put in use: it ranked your photos worse than v{prev} on the same photos{auc}, "
            f"so v{prev} stays.")


def panel(s: dict) -> dict:
    """The model panel from an evaluation report (`eval_report`) or a training summary (`train_job`):
    {sentences, tested_on, columns, rows: [{cells, active, baseline}], details}."""
    table = s.get("metrics_table") or s.get("table") or []
    trained = "metrics_table" in s
    active = (s.get("active_version") or {}) if not trained else {}
    kind = s.get("kind") if trained else (active.get("kind") or s.get("model"))
    data = s.get("data") or {}
    sentences = quality_sentences(kind, table, int(data.get("positives") or 0), s.get("choice") if trained else None)
    extra = []
    if trained:
        sentences.insert(0, _verdict(s))
        scoring = s.get("scoring") or {}
        if isinstance(scoring, dict) and scoring.get("error"):
            sentences.append(f"The photos were not re-scored: {scoring['error']}")
        if s.get("reason"):
            extra.append(f"Why it is (or is not) in use: {s['reason']}.")
        cal = s.get("calibration") or {}
        if cal.get("method"):
            extra.append(f"Scores calibrated with the {cal['method']} method on photos the model had not seen"
                         + (f" (calibration error {cal['ece']:.3f})." if _num(cal.get("ece")) is not None else "."))
            left = unexported_share(_num(cal.get("export_rate")))
            if left is not None:
                extra.append(f"About {left:.0%} of the photos you would keep seem never to have "
                             "been exported to the keeper archive; the scores count them as keepers.")
    else:
        if active:
            sentences.insert(0, f"In use: model v{active.get('id')} ({METHOD_LABELS.get(kind, kind)}), trained "
                                f"{str(active.get('created_at') or '')[:16].replace('T', ' ')}; tested again on "
                                "today's photos.")
        if s.get("model") and s.get("model") != kind:
            sentences.append(f"A retrain now would choose the {METHOD_LABELS.get(s['model'], s['model'])}.")
    if data:
        extra.append(f"Learned from {data.get('photos', 0)} photos: {data.get('positives', 0)} keepers "
                     f"({data.get('confirmed_keepers', 0)} from your keeper archive, {data.get('decided_keep', 0)} "
                     f"marked keep) and {data.get('decided_reject', 0)} rejects.")
    rows = method_rows(table, kind)
    return {"sentences": sentences, "tested_on": f"Tested on {SPLIT_WORDS[shown_split(table, kind)]}:",
            "columns": list(COLUMNS),
            "rows": [{"cells": list(cells(r)), "active": r["active"], "baseline": r["baseline"]} for r in rows],
            "table_text": _text_table(COLUMNS, [cells(r) for r in rows]),
            "details": details_text(table, kind, choice=s.get("choice"), extra=extra)}
