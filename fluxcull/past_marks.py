"""Past culling marks as training signal: which imported marks (read from XMP at ingest, see
fluxcull.catalog.marks) become which fluxcull decisions, for `fluxcull import-marks`.

The rules (`Rules`, from the command's options):
- reject (a near-miss to the keeper model): xmp:Rating -1, a pick flag 'rejected' (xmpDM:pick -1) or
  digiKam's PickLabel 1 (Rejected); not with `--rejects-as ignore`;
- keep: a pick flag 'picked' (xmpDM:pick 1, xmpDM:good), digiKam's PickLabel 3 (Accepted) and, with
  `--min-stars N`, a rating of N stars or more;
- marks saying both (a picked photo rated -1) decide nothing and are listed as conflicting; colour
  labels, keywords and ratings below N decide nothing (their meaning is the photographer's own).

A person's decision is never overridden: a photo whose latest decision not undone was made in fluxcull
by a person (a keep, a reject or a clear) is skipped and listed. A photo an earlier import decided
takes the marks' decision if it changed since (an edited sidecar), else is left as it is. One run's
decisions are one batch in the decision log (source 'import'): `fluxcull undo` takes them back at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from fluxcull.catalog import Catalog
from fluxcull.catalog.marks import IMPORT_SOURCE
from fluxcull.media.xmp import DIGIKAM_PICK_ACCEPTED, DIGIKAM_PICK_REJECTED, PICKED, REJECTED


@dataclass(frozen=True)
class Rules:
    min_stars: int | None = None   # a rating of this many stars or more is a keep (None: ratings decide no keep)
    rejects: bool = True           # rejects become reject decisions (near-misses); False: ignored

    def to_dict(self) -> dict:
        return {"rejects_as": "near-miss" if self.rejects else "ignore", "min_stars": self.min_stars,
                "stars_as": "keep" if self.min_stars is not None else None}


def verdict(marks: dict, rules: Rules) -> tuple[str | None, str]:
    """('keep' | 'reject' | 'conflict' | None, why in words) for one photo's imported marks."""
    rejected, kept = [], []
    rating, pick, pick_label = marks.get("rating"), marks.get("pick"), marks.get("pick_label")
    if rating == -1:
        rejected.append("rated -1 (rejected)")
    if pick == REJECTED:
        rejected.append("flagged rejected")
    if pick_label == DIGIKAM_PICK_REJECTED:
        rejected.append("digiKam pick label Rejected")
    if pick == PICKED:
        kept.append("flagged picked")
    if pick_label == DIGIKAM_PICK_ACCEPTED:
        kept.append("digiKam pick label Accepted")
    if rules.min_stars is not None and rating is not None and rating >= rules.min_stars:
        kept.append(f"{rating} star{'s' if rating != 1 else ''} (at least {rules.min_stars})")
    if rejected and kept:
        return "conflict", " but ".join(("; ".join(kept), "; ".join(rejected)))
    if rejected:
        return ("reject" if rules.rejects else None), "; ".join(rejected)
    if kept:
        return "keep", "; ".join(kept)
    return None, ""


def plan(catalog: Catalog, rules: Rules) -> dict:
    """What an import would do, photo by photo; nothing is written."""
    live = catalog.live_decisions()
    out: dict = {"photos_with_marks": 0, "decide": [], "already": 0, "no_rule": 0, "skipped": [], "conflicting": []}
    for m in catalog.marked_photos():
        out["photos_with_marks"] += 1
        kind, why = verdict(m, rules)
        item = {"photo_id": m["photo_id"], "path": m["path"], "source": m["source"]}
        if kind is None:
            out["no_rule"] += 1
            continue
        if kind == "conflict":
            out["conflicting"].append({**item, "reason": f"the marks say both: {why}"})
            continue
        last = live.get(m["photo_id"])
        if (last is not None and last["source"] != IMPORT_SOURCE) or (last is None and m["decision"] != "none"):
            done = "cleared its decision" if last is not None and last["kind"] == "clear" else f"decided {m['decision']}"
            by = f" ({last['source']})" if last is not None else ""
            out["skipped"].append({**item, "decision": m["decision"], "would_be": kind,
                                   "reason": f"you {done} in fluxcull{by}: a person's decision is never overridden"})
            continue
        if last is not None and last["kind"] == kind and m["decision"] == kind:
            out["already"] += 1
            continue
        out["decide"].append({**item, "decision": kind, "why": why})
    return out


def import_marks(catalog: Catalog, rules: Rules, *, dry_run: bool = False) -> dict:
    """Turn imported marks into decisions (one batch) unless `dry_run`; the summary:
    {dry_run, rules, photos_with_marks, keep, reject, already, no_rule, skipped: [...], conflicting: [...],
     decided: [{photo_id, path, source, decision, why}], batch}."""
    p = plan(catalog, rules)
    decided = p.pop("decide")
    batch = None
    if not dry_run:
        batch = catalog.decide_batch([(d["photo_id"], d["decision"], d["why"]) for d in decided], IMPORT_SOURCE)
    return {"dry_run": dry_run, "rules": rules.to_dict(), **p,
            "keep": sum(d["decision"] == "keep" for d in decided),
            "reject": sum(d["decision"] == "reject" for d in decided),
            "decided": decided, "batch": batch}
