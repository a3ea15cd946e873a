"""A sequence suggestion in words (fluxcull.insights.sequence scores it): each transition's reasons,
the terms of its score added up, and a one-line summary."""

from __future__ import annotations

import numpy as np

STEADY_TONE = 0.05  # a brightness step below this reads as tonal continuity
TONE_JUMP = 0.25    # at or above this, a jump
SCENE_CHANGE = 0.3  # cosine below this: a change of scene


def span(seconds: float) -> str:
    s = abs(float(seconds))
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.0f} h"
    return f"{s / 86400:.0f} days"


def _motif(p, m: int) -> str:
    name = p.motif_names.get(int(m))
    return f"'{name}'" if name else f"#{int(m)}"


def reasons(p, o: np.ndarray, k: int, rule) -> list[str]:
    """Why the step from o[k] to o[k + 1] reads as it does, in words."""
    a, b = int(o[k]), int(o[k + 1])
    out = []
    if p.known[a] and p.known[b]:
        s = float(p.sim[a, b])
        before = float(p.sim[o[k - 1], a]) if k > 0 and p.known[o[k - 1]] else None
        if s >= rule.near_duplicate:
            out.append(f"near-duplicates side by side (similarity {s:.2f})")
        elif s >= rule.similar:
            out.append(f"a similar look (similarity {s:.2f})")
        elif s < SCENE_CHANGE and before is not None and before >= rule.similar:
            out.append("a change of scene after two similar frames")
        elif s < SCENE_CHANGE:
            out.append("a change of scene")
        else:
            out.append(f"a related look (similarity {s:.2f})")
    if p.motif[a] >= 0 and p.motif[a] == p.motif[b]:
        out.append(f"the motif {_motif(p, p.motif[a])} twice in a row")
    elif p.motif[a] >= 0 and p.motif[b] >= 0:
        out.append(f"from motif {_motif(p, p.motif[a])} to motif {_motif(p, p.motif[b])}")
    if np.isfinite(p.bright[a]) and np.isfinite(p.bright[b]):
        step = float(p.bright[b] - p.bright[a])
        if abs(step) < STEADY_TONE:
            out.append("tonal continuity")
        else:
            word = "darker" if step < 0 else "brighter"
            out.append(f"tonal {'jump: much' if abs(step) >= TONE_JUMP else 'step:'} {word} ({step:+.2f})")
    gap = p.times[b] - p.times[a] if np.isfinite(p.times[a]) and np.isfinite(p.times[b]) else None
    if p.rank[b] < p.rank[a]:
        out.append(f"a step back in time ({span(gap)} earlier)" if gap is not None else "a step back in time")
    elif np.isfinite(p.session[a]) and np.isfinite(p.session[b]) and p.session[a] != p.session[b]:
        out.append(f"a new session ({span(gap)} later)" if gap is not None else "a new session")
    return out


def describe(p, o: np.ndarray, values: np.ndarray, rule, mode: str) -> dict:
    """terms (near_duplicates, likeness, same_motif, tone, back_in_time, back_to_session, ends), transitions
    [{position, from, to, value, similarity, brightness_step, seconds, reasons}], notes, summary."""
    a, b = o[:-1], o[1:]
    both = p.known[a] & p.known[b]
    step = p.bright[b] - p.bright[a]
    ends = float(np.nan_to_num(p.scores[o[0]]) + np.nan_to_num(p.scores[o[-1]])) if len(o) > 1 else 0.0
    terms = {"near_duplicates": int((both & (p.sim[a, b] >= rule.near_duplicate)).sum()),
             "likeness": round(float(np.maximum(p.sim[a, b], 0.0).sum()), 4),
             "same_motif": int(((p.motif[a] == p.motif[b]) & (p.motif[a] >= 0)).sum()),
             "tone": round(float(np.nan_to_num(np.abs(step)).sum()), 4),
             "back_in_time": int(np.maximum(p.rank[a] - p.rank[b], 0).sum()),
             "back_to_session": int(((p.rank[b] < p.rank[a]) & (p.session[a] != p.session[b])
                                     & np.isfinite(p.session[a]) & np.isfinite(p.session[b])).sum()),
             "ends": round(ends, 4)}
    transitions = []
    for k in range(len(o) - 1):
        i, j = int(o[k]), int(o[k + 1])
        transitions.append({
            "position": k + 1, "from": int(p.ids[i]), "to": int(p.ids[j]), "value": round(float(values[i, j]), 4),
            "similarity": round(float(p.sim[i, j]), 4) if both[k] else None,
            "brightness_step": round(float(step[k]), 4) if np.isfinite(step[k]) else None,
            "seconds": float(p.times[j] - p.times[i]) if np.isfinite(p.times[i]) and np.isfinite(p.times[j]) else None,
            "reasons": reasons(p, o, k, rule)})
    notes = []
    if mode == "chronological":
        notes.append("in the order the photos were taken")
    elif mode == "flow":
        back = int((p.rank[o[1:]] < p.rank[o[:-1]]).sum())
        notes.append(f"time order, with {back} step{'s' * (back != 1)} back for variety and tone")
    elif mode == "bookends" and len(o) > 1:
        notes.append(f"opens and closes with the two strongest photos (scores {_score(p, o[0])} and "
                     f"{_score(p, o[-1])})")
    if terms["near_duplicates"]:
        notes.append(f"{terms['near_duplicates']} near-duplicate pair{'s' * (terms['near_duplicates'] != 1)} "
                     "side by side")
    else:
        notes.append("no near-duplicates side by side")
    changes = sum(1 for t in transitions if any(r.startswith("a change of scene") for r in t["reasons"]))
    jumps = sum(1 for t in transitions if any(r.startswith("tonal jump") for r in t["reasons"]))
    notes.append(f"{changes} change{'s' * (changes != 1)} of scene, {jumps} tonal jump{'s' * (jumps != 1)}")
    return {"terms": terms, "transitions": transitions, "notes": notes, "summary": "; ".join(notes)}


def _score(p, i) -> str:
    s = p.scores[int(i)]
    return f"{s:.2f}" if np.isfinite(s) else "unknown"
