"""Alternatives for a photo of a draft: the photos that could take its place (the Drafts view's swap).

Candidates are the draft's own (fluxcull.insights.draft): photos scoring at least the draft's
`min_score`, not rejected, with an embedding, in its dates and sessions (and outside approved drafts
where it was proposed with `exclude_used`), not in the draft. The draft's diversity rules hold
against the photos that stay: a candidate is left out when it is more alike than `max_similarity`
to one of them, of the burst of one of them, or of a session that holds `draft.per_session` of them
already. The rest are ranked like the draft's own choice, with likeness to the photo replaced in
place of diversity:

    relevance * keeper_score + (1 - relevance) * cosine(candidate, the photo replaced)

so another frame of its burst, or a photo of the same scene, comes first; ties by photo id.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from fluxcull.catalog import drafts as store_drafts
from fluxcull.catalog import insight_reads, settings
from fluxcull.errors import NotFound
from fluxcull.insights.draft import (PER_SESSION_KEY, DraftRule, SessionBursts, session_groups,
                                     unit_embeddings)


def alternatives(conn: sqlite3.Connection, store, draft_id: int, photo_id: int, *, count: int = 6) -> list[dict]:
    """Up to `count` photos that could replace `photo_id` in the draft, best first: {photo_id, score,
    similarity, capture_time, session_id, path, thumb_key, place, reason}."""
    d = store_drafts.draft(conn, int(draft_id))
    if d is None:
        raise NotFound(f"no draft {draft_id}: `fluxcull drafts` lists them")
    items = {it["photo_id"]: it for it in d["items"]}
    if int(photo_id) not in items:
        raise NotFound(f"photo {photo_id} is not in draft {draft_id}")
    params, rule = d["params"], DraftRule.from_settings(conn)
    per_session = int(settings.get(conn, PER_SESSION_KEY))
    cand = insight_reads.draft_candidates(conn, float(params.get("min_score", 0.8)), start=params.get("start"),
                                          end=params.get("end"), sessions=params.get("sessions"))
    skip = set(items)
    if params.get("exclude_used"):
        skip |= store_drafts.approved_photo_ids(conn)
    cand = cand[~np.isin(cand[:, 0], np.fromiter(skip, np.int64, len(skip)))]
    ids = cand[:, 0].astype(np.int64)
    emb = unit_embeddings(conn, store, ids)
    known = np.isfinite(emb).all(axis=1)
    cand, ids, emb = cand[known], ids[known], emb[known]
    if not len(ids):
        return []
    stay = [pid for pid in items if pid != int(photo_id)]
    stay_emb = unit_embeddings(conn, store, stay) if stay else np.zeros((0, emb.shape[1]), np.float32)
    stay_emb = stay_emb[np.isfinite(stay_emb).all(axis=1)]
    allowed = ((emb @ stay_emb.T).max(axis=1) <= rule.max_similarity) if len(stay_emb) else np.ones(len(ids), bool)
    stay_t = np.array([_num(items[p]["capture_time"]) for p in stay], np.float64)
    stay_s = np.array([_num(items[p]["session_id"]) for p in stay], np.float64)
    taken = dict(zip(*np.unique(session_groups(stay_s, stay_t), return_counts=True)))
    groups = session_groups(cand[:, 1], cand[:, 2])
    allowed &= np.array([taken.get(g, 0) < per_session for g in groups], bool)
    target = unit_embeddings(conn, store, [int(photo_id)])[0]
    like = np.nan_to_num(emb @ np.nan_to_num(target)) if np.isfinite(target).all() else np.zeros(len(ids))
    lam = float(min(max(rule.relevance, 0.0), 1.0))
    value = lam * cand[:, 3] + (1.0 - lam) * like
    bursts = SessionBursts(conn, store)
    mine = bursts.burst(int(photo_id), _num(items[int(photo_id)]["session_id"]),
                        _num(items[int(photo_id)]["capture_time"]))
    theirs = {bursts.burst(p, s, t) for p, s, t in zip(stay, stay_s, stay_t)}
    out = []
    for i in np.lexsort((ids, -value)):
        if not allowed[i]:
            continue
        b = bursts.burst(int(ids[i]), cand[i, 1], cand[i, 2])
        if b in theirs:
            continue
        out.append((i, b == mine))
        if len(out) >= count:
            break
    captions = insight_reads.photo_captions(conn, [int(ids[i]) for i, _ in out])
    result = []
    for i, same in out:
        path, t, _taken, sess, score, place, thumb = captions[int(ids[i])]
        reason = ("another frame of its burst" if same else
                  f"a similar photo (similarity {like[i]:.2f})" if like[i] >= 0.5 else "another candidate")
        result.append({"photo_id": int(ids[i]), "score": float(cand[i, 3]), "similarity": round(float(like[i]), 4),
                       "capture_time": t, "session_id": sess, "path": path, "thumb_key": thumb, "place": place,
                       "reason": reason})
    return result


def _num(v) -> float:
    return np.nan if v is None else float(v)
