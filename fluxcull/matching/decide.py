"""The matching rules: from one keeper's evidence to a link, a review item, or "unmatched".

Order (README, "Linking the keeper archive"): capture time, camera file name, SHA-256, image similarity. Each method
either decides, passes to the next, or leaves a doubt that sends the keeper to review:

1. Capture time (DateTimeOriginal to the second, sub-seconds and camera model where both sides
   have them). One original: linked, unless its bytes, a confirmed camera file name or its content
   say otherwise. Several (a burst within a second, two cameras): never picked silently; the
   camera file name, the SHA-256 or a clear similarity margin picks one, else review.
2. Camera file name (`R0001234` in the keeper's name or its PreservedFileName) against the
   originals' file names. Numbers recur every 10,000 frames, so a name counts only when confirmed
   by the capture date (within DATE_WINDOW_HOURS) or the content (similarity >= SIM_CONFIRM); a
   name alone makes a link proposed for review.
3. SHA-256: identical bytes are definitive, whatever the name or metadata say.
4. Similarity: the nearest original above SIM_MATCH is a match; below SIM_SURE, or with a
   runner-up within SIM_MARGIN (near-identical frames), it is proposed for review.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fluxcull.matching.candidates import DATE_WINDOW_HOURS, MetaCandidates

SIM_MATCH = 0.98      # similarity above which a nearest neighbour is a match (README)
SIM_SURE = 0.99       # below this a similarity match needs a person's review (README)
SIM_MARGIN = 0.01     # best must beat the runner-up by this much, else the frames are too alike
SIM_CONFIRM = 0.90    # content agreeing with a camera file name or a shared capture time
SIM_CONTRADICT = 0.60  # content so different that a metadata match is doubted

METHODS = ("timestamp", "filename", "sha256", "similarity")


@dataclass
class Outcome:
    status: str                     # linked | review | unmatched
    original_id: int | None = None  # the link (also for a link proposed for review)
    method: str | None = None
    needs_review: bool = False
    similarity: float | None = None
    reason: str = ""
    evidence: dict = field(default_factory=dict)
    candidates: list[dict] = field(default_factory=list)


@dataclass
class Evidence:
    meta: MetaCandidates
    sims: dict[int, float]                      # candidate original -> cosine similarity (known ones)
    keeper_has_embedding: bool
    nearest: list[tuple[int, float]] | None = None   # None: not searched (yet)
    similarity_note: str | None = None          # why similarity could not be used

    def sim(self, oid: int) -> float | None:
        s = self.sims.get(oid)
        return None if s is None or math.isnan(s) else float(s)


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def candidate_list(ev: Evidence, limit: int = 5) -> list[dict]:
    """Every original considered, with what speaks for it, best first (at most `limit`)."""
    ids = ev.meta.all_ids()
    if ev.nearest:
        ids += [oid for oid, _ in ev.nearest if oid not in ids]
    sha, ts, fn = set(ev.meta.sha256), set(ev.meta.timestamp), set(ev.meta.filename)

    def key(oid):
        s = ev.sim(oid)
        return (-(3 if oid in sha else 0) - (oid in ts) - (oid in fn), -(s if s is not None else -2.0), oid)

    rows = []
    for oid in sorted(ids, key=key)[:limit]:
        signals = [name for name, group in (("sha256", sha), ("timestamp", ts), ("filename", fn)) if oid in group]
        d = ev.meta.date_delta_h.get(oid)
        rows.append({"original_id": oid, "similarity": _r(ev.sim(oid)), "signals": signals,
                     "date_delta_h": None if d is None else round(d, 2)})
    return rows


def _by_similarity(ev: Evidence, ids: list[int]) -> tuple[int | None, float | None, float | None]:
    """Best id by similarity among ids, its similarity and the runner-up's (None where unknown)."""
    known = sorted(((ev.sim(i), i) for i in ids if ev.sim(i) is not None), reverse=True)
    if len(known) < len(ids) or not known:
        return None, None, None
    best_s, best = known[0]
    runner = known[1][0] if len(known) > 1 else None
    return best, best_s, runner


def _collapse_identical(ids: list[int], sha_of: dict[int, str | None]) -> list[int]:
    """Byte-identical originals (same SHA-256) are one photo: keep the first of each."""
    seen: dict[str, int] = {}
    out = []
    for i in sorted(ids):
        sha = sha_of.get(i)
        if sha is None:
            out.append(i)
        elif sha not in seen:
            seen[sha] = i
            out.append(i)
    return out


def decide(ev: Evidence) -> Outcome:
    m = ev.meta
    doubts: list[str] = []
    evidence: dict = {}
    if ev.similarity_note:
        evidence["similarity_skipped"] = ev.similarity_note

    def link(oid: int, method: str, *, review: bool = False, reason: str = "", **extra) -> Outcome:
        s = ev.sim(oid)
        e = dict(evidence)
        e.update({k: v for k, v in extra.items() if v is not None})
        if s is not None:
            e["similarity"] = _r(s)
        if oid in m.sha256:
            e["sha256_match"] = True
        if oid in m.timestamp:
            e["timestamp_candidates"] = len(m.timestamp)
        if oid in m.filename:
            e["filename"] = m.filename_key
            if oid in m.date_delta_h:
                e["date_delta_h"] = round(m.date_delta_h[oid], 2)
        if ts_contradicted:
            if s is not None and s >= SIM_CONFIRM:
                e["overruled"] = e.get("overruled", []) + ts_contradicted
            else:
                doubts.extend(ts_contradicted)
                ts_contradicted.clear()
        if doubts:
            e["doubts"] = list(doubts)
            review = True
            reason = reason or "; ".join(doubts)
        if review and reason:
            e["review_reason"] = reason
        return Outcome(status="review" if review else "linked", original_id=oid, method=method,
                       needs_review=review, similarity=_r(s), reason=reason if review else "",
                       evidence=e, candidates=candidate_list(ev))

    # -- 3 first as a guard: identical bytes are definitive and outrank everything -------------
    sha_pick = None
    if m.sha256:
        pool = m.sha256
        narrowed = [i for i in pool if i in m.timestamp] or [i for i in pool if i in m.filename] or pool
        sha_pick = min(narrowed)
        if len(pool) > 1:
            evidence["identical_originals"] = sorted(pool)

    # -- 1 capture time ------------------------------------------------------------------------
    ts_pick = None
    ts_contradicted: list[str] = []  # a doubt, unless the content confirms another original
    ts = _collapse_identical(m.timestamp, m.sha_of)
    if len(ts) < len(m.timestamp):
        evidence["identical_originals"] = sorted(m.timestamp)
    if len(ts) == 1:
        c = ts[0]
        s = ev.sim(c)
        if sha_pick is not None and sha_pick != c:
            doubts.append(f"capture time points at original {c}, identical bytes at {sha_pick}")
        elif s is not None and s < SIM_CONTRADICT:
            ts_contradicted.append(f"capture time matches original {c} but the content differs (similarity {s:.3f})")
        else:
            ts_pick = c
    elif len(ts) > 1:
        evidence["timestamp_shared_by"] = len(ts)
        inter = [i for i in m.timestamp if i == sha_pick]
        fn_in = [i for i in ts if i in m.filename]
        if inter:
            pass  # decided by the bytes below
        elif (sha_pick is None and len(fn_in) == 1
              and not (ev.sim(fn_in[0]) is not None and ev.sim(fn_in[0]) < SIM_CONTRADICT)):
            return link(fn_in[0], "filename", resolved_by="filename")
        else:
            best, bs, runner = _by_similarity(ev, ts)
            if best is not None and bs >= SIM_CONFIRM and (runner is None or bs - runner >= SIM_MARGIN):
                sure = bs >= SIM_SURE
                return link(best, "timestamp", review=not sure,
                            reason="" if sure else f"capture time shared by {len(ts)} originals; "
                            f"best similarity {bs:.3f} is below {SIM_SURE}",
                            resolved_by="similarity", runner_up=_r(runner))
            if sha_pick is None:
                doubts.append(
                    f"capture time shared by {len(ts)} originals"
                    + ("" if best is None else f" that look alike (best similarity {bs:.3f}"
                       + ("" if runner is None else f", runner-up {runner:.3f}") + ")")
                )

    # -- 2 camera file name --------------------------------------------------------------------
    fn_confirmed: list[int] = []
    fn_open: list[int] = []
    fn_rejected = 0
    for oid in m.filename:
        d = m.date_delta_h.get(oid)
        s = ev.sim(oid)
        if (d is not None and d > DATE_WINDOW_HOURS) or (s is not None and s < SIM_CONTRADICT):
            fn_rejected += 1  # the number was reused: a different frame
            continue
        if (d is not None and d <= DATE_WINDOW_HOURS) or (s is not None and s >= SIM_CONFIRM):
            fn_confirmed.append(oid)
        else:
            fn_open.append(oid)
    if len(fn_confirmed) > 1:
        best, bs, runner = _by_similarity(ev, fn_confirmed)
        fn_confirmed = [best] if best is not None and (runner is None or bs - runner >= SIM_MARGIN) else fn_confirmed
    fn_pick = fn_confirmed[0] if len(fn_confirmed) == 1 else None
    if len(fn_confirmed) > 1 and sha_pick is None:
        doubts.append(f"camera file name {m.filename_key!r} carried by {len(fn_confirmed)} originals")

    if ts_pick is not None:
        if fn_pick is not None and fn_pick != ts_pick and sha_pick is None:
            doubts.append(f"capture time points at original {ts_pick}, camera file name at {fn_pick}")
            s_ts, s_fn = ev.sim(ts_pick), ev.sim(fn_pick)
            if s_ts is not None and s_fn is not None and s_fn > s_ts:  # propose the one that looks more alike
                return link(fn_pick, "filename", review=True, reason=doubts[-1])
            return link(ts_pick, "timestamp", review=True, reason=doubts[-1])
        return link(ts_pick, "timestamp")
    if sha_pick is not None:
        method = "filename" if fn_pick == sha_pick else "sha256"
        if doubts:  # identical bytes settle what the metadata left open
            evidence["overruled"] = list(doubts)
            doubts.clear()
        return link(sha_pick, method)
    if fn_pick is not None:
        return link(fn_pick, "filename")

    # -- 4 similarity ----------------------------------------------------------------------------
    near = ev.nearest or []
    if near:
        best, bs = near[0]
        runner = near[1][1] if len(near) > 1 else None
        evidence["nearest"] = [{"original_id": o, "similarity": _r(s)} for o, s in near[:3]]
        if bs > SIM_MATCH:
            reasons = []
            if bs < SIM_SURE:
                reasons.append(f"similarity {bs:.3f} is below {SIM_SURE}")
            if runner is not None and bs - runner < SIM_MARGIN:
                reasons.append(f"original {near[1][0]} is almost as similar ({runner:.3f}): near-identical frames")
            if fn_open and best not in fn_open:
                reasons.append(f"camera file name {m.filename_key!r} points elsewhere")
            return link(best, "similarity", review=bool(reasons), reason="; ".join(reasons),
                        runner_up=_r(runner))

    if len(fn_open) == 1:
        reason = (f"only the camera file name {m.filename_key!r} matches; camera numbers recur, "
                  "and neither the date nor the content could confirm it")
        return link(fn_open[0], "filename", review=True, reason=reason)
    if len(fn_open) > 1:
        doubts.append(f"camera file name {m.filename_key!r} carried by {len(fn_open)} originals, none confirmed")

    cands = candidate_list(ev)
    doubts += ts_contradicted
    if doubts:
        evidence["doubts"] = doubts
        return Outcome(status="review", reason="; ".join(doubts), evidence=evidence, candidates=cands)
    if fn_rejected:
        evidence["filename_rejected"] = (f"camera file name {m.filename_key!r} is carried by {fn_rejected} "
                                         "original(s) of another date or content (numbers recur)")
    if near:
        reason = f"no original similar enough (best similarity {near[0][1]:.3f}, a match needs > {SIM_MATCH})"
    elif not ev.keeper_has_embedding:
        reason = "no capture time, camera file name or identical bytes match, and no embedding to compare"
        if ev.similarity_note:
            reason += f" ({ev.similarity_note})"
    else:
        reason = "no capture time, camera file name or identical bytes match, and no similar original"
    if fn_rejected:
        reason += "; " + evidence["filename_rejected"]
    return Outcome(status="unmatched", reason=reason, evidence=evidence, candidates=cands)
