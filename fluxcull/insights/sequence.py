"""Sequencing assistance: orders for a draft's photos, each with its score and its reasons in words.

Inputs, per photo of the draft: keeper score (the photo's current one, else the one it had when
proposed), capture time, L2-normalised embedding (fluxcull.insights.draft.unit_embeddings; none: no
likeness known), brightness (the stored pixel feature, fluxcull.embedding.features; none: no tone
known) and stored motif (fluxcull.catalog.motif_store; most draft photos have none). Time order is
the draft's own (fluxcull.insights.draft.sequence: capture time, undated last, then score, then id).

Objective (higher is better), the same for every suggestion so that their scores compare:

    score = sum over neighbours a -> b of value(a, b) + ends * (score of the first + score of the last)
    value(a, b) = - duplicate    * [cos(a, b) >= near_duplicate]     near-duplicates side by side
                  - likeness     * max(cos(a, b), 0)                 variety of visual content
                  - motif        * [a and b of the same motif]       alternating motifs
                  - tone         * |brightness(b) - brightness(a)|   tonal continuity
                  - back_in_time * max(0, rank(a) - rank(b))         chronology as the backbone
                  - back_to_session * [b of an earlier session than a]  ... and its days and places

where rank is the place in time order (a step back of three places costs three times one place).
The weights and thresholds are SequenceRule's (defaults below; the JSON setting `sequence.rule`
overrides them). Modes build an order; the objective scores it:
- `chronological`: time order, as it is.
- `flow`: time order reshaped by the flow terms. Greedy from the start: the next photo is one of the
  first `window` photos left in time order (further only when none of those may follow), the one
  with the best value(previous, it) - back_in_time * (photos left that were taken before it); a
  photo may not follow one of its near-duplicate group (photos linked by a chain of near-duplicate
  pairs) unless no order could avoid it, which a counting rule decides exactly (`arrangeable`). Then,
  for drafts of up to POLISH_MAX photos, moves of one photo to another place are made while one
  raises the sum of the transition values and adds no near-duplicate neighbours (the best first;
  the ends term is bookends' and plays no part in flow's choice).
- `bookends`: the two highest-scoring photos open and close (the earlier-taken opens; among equal
  scores the earliest and the latest taken), and the photos between them follow as in `flow`.

Deterministic: ties go to the earlier photo in time order. Each transition carries its reasons in
words ("a change of scene after two similar frames", "tonal step: darker (-0.12)").
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass

import numpy as np

from fluxcull.catalog import drafts as store_drafts
from fluxcull.catalog import motif_store, settings
from fluxcull.errors import InvalidValue, NotFound
from fluxcull.insights import sequence_words
from fluxcull.insights.draft import sequence as time_order
from fluxcull.insights.draft import unit_embeddings

MODES = ("chronological", "flow", "bookends")
RULE_KEY = "sequence.rule"
POLISH_MAX = 500  # drafts larger than this are not polished (n^2 moves scored per round)


@dataclass
class SequenceRule:
    near_duplicate: float = 0.9  # cosine at or above which two photos are near-duplicates
    similar: float = 0.6         # cosine at or above which two photos are called similar (in words)
    duplicate: float = 1.0       # weight: a near-duplicate pair side by side
    likeness: float = 0.3        # weight x cosine of neighbours
    motif: float = 0.3           # weight: neighbours of the same motif
    tone: float = 1.0            # weight x brightness step (0..1)
    back_in_time: float = 0.1    # weight x places a step goes back in time order
    back_to_session: float = 0.3  # weight: a step back into an earlier session (another day, another place)
    ends: float = 0.5            # weight x (score of the first photo + score of the last)
    window: float = 5            # flow: the next photo is among the first `window` left in time order

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection) -> "SequenceRule":
        return settings.numbers_into(conn, RULE_KEY, cls(), non_negative=True)


@dataclass
class Photos:
    """A draft's photos as arrays, in the draft's current order."""
    ids: np.ndarray      # int64 (n,)
    scores: np.ndarray   # float64 (n,), NaN unknown
    times: np.ndarray    # float64 (n,), NaN unknown
    rank: np.ndarray     # int64 (n,): place in time order
    sim: np.ndarray      # float64 (n x n) cosine; 0 where an embedding is missing
    known: np.ndarray    # bool (n,): has an embedding
    bright: np.ndarray   # float64 (n,), NaN unknown
    motif: np.ndarray    # int64 (n,), -1 none
    session: np.ndarray  # float64 (n,), NaN none
    group: np.ndarray    # int64 (n,): near-duplicate group (connected components of cos >= near_duplicate)
    motif_names: dict


def near_duplicate_groups(sim: np.ndarray, known: np.ndarray, threshold: float) -> np.ndarray:
    """Connected components of the pairs with cosine >= threshold (photos without an embedding alone)."""
    n = len(sim)
    parent = np.arange(n)

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = (sim >= threshold) & known[:, None] & known[None, :]
    for a, b in zip(*np.nonzero(np.triu(close, 1))):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n)], np.int64)


def arrangeable(counts: dict[int, int], first: int | None, last: int | None, *, check_all: bool = False) -> bool:
    """Whether photos with these group counts can be put between a fixed first and last group
    (None: no photo fixed there) with no two of one group side by side. Exact: with L places in
    all and n_k photos of group k (the fixed ends included), no group may hold more than ceil(L/2);
    a group holding (L+1)/2 of an odd L must hold both ends, one holding L/2 of an even L one end.
    Groups of one photo cannot break the rule beyond 6 places, so only larger ones are checked
    there unless `check_all`."""
    m = sum(counts.values())
    size = m + (first is not None) + (last is not None)
    keys = set(counts) if check_all or size <= 6 else {k for k, c in counts.items() if c > 1}
    for k in keys | ({first, last} - {None}):
        n_k = counts.get(k, 0) + (first == k) + (last == k)
        if 2 * n_k > size + 1:
            return False
        both = (first is None or first == k) and (last is None or last == k)
        either = first is None or first == k or last is None or last == k
        if size % 2 and 2 * n_k == size + 1 and not both:
            return False
        if size % 2 == 0 and 2 * n_k == size and not either:
            return False
    return True


def transition_values(p: Photos, rule: SequenceRule) -> np.ndarray:
    """value(a, b) for every ordered pair (n x n), as in the module docstring."""
    dup = (p.sim >= rule.near_duplicate) & p.known[:, None] & p.known[None, :]
    same_motif = (p.motif[:, None] == p.motif[None, :]) & (p.motif[:, None] >= 0)
    step = np.nan_to_num(np.abs(p.bright[None, :] - p.bright[:, None]), nan=0.0)
    back = np.maximum(p.rank[:, None] - p.rank[None, :], 0)
    back_session = (back > 0) & (p.session[:, None] != p.session[None, :]) & np.isfinite(p.session)[:, None] \
        & np.isfinite(p.session)[None, :]
    return -(rule.duplicate * dup + rule.likeness * np.maximum(p.sim, 0.0) + rule.motif * same_motif
             + rule.tone * step + rule.back_in_time * back + rule.back_to_session * back_session)


def total(order: np.ndarray, values: np.ndarray, p: Photos, rule: SequenceRule) -> float:
    ends = np.nan_to_num(p.scores[order[0]]) + np.nan_to_num(p.scores[order[-1]]) if len(order) > 1 else 0.0
    return float(values[order[:-1], order[1:]].sum() + rule.ends * ends)


def _adjacent_groups(order: np.ndarray, group: np.ndarray) -> int:
    return int((group[order[:-1]] == group[order[1:]]).sum())


def _greedy(p: Photos, values: np.ndarray, rule: SequenceRule, start: int | None, end: int | None,
            middle: list[int]) -> list[int]:
    """The flow's greedy pass over `middle` (positions, time order) between fixed `start` and `end`."""
    left = sorted(middle, key=lambda i: p.rank[i])
    counts: dict[int, int] = {}
    for i in left:
        counts[int(p.group[i])] = counts.get(int(p.group[i]), 0) + 1
    end_group = None if end is None else int(p.group[end])
    window = max(1, int(rule.window))
    out, prev = [], start
    while left:
        def allowed(j):
            g = int(p.group[left[j]])
            if prev is not None and g == int(p.group[prev]):
                return False
            counts[g] -= 1
            ok = arrangeable({k: c for k, c in counts.items() if c}, g, end_group)
            counts[g] += 1
            return ok

        pool = [j for j in range(min(window, len(left))) if allowed(j)]
        if not pool:
            pool = [j for j in range(window, len(left)) if allowed(j)]
        if not pool:  # no order avoids near-duplicate neighbours now: at least not this pair
            pool = [j for j in range(len(left)) if prev is None or p.group[left[j]] != p.group[prev]]
            pool = pool or list(range(len(left)))

        def merit(j):
            v = 0.0 if prev is None else values[prev, left[j]]
            return v - rule.back_in_time * j

        best = max(pool, key=lambda j: (merit(j), -j))
        i = left.pop(best)
        counts[int(p.group[i])] -= 1
        out.append(i)
        prev = i
    return out


def _polish(order: list[int], p: Photos, values: np.ndarray, rule: SequenceRule, fixed_ends: bool,
            ends: float) -> list[int]:
    """Moves of one photo to another place while one raises the score and adds no near-duplicate
    neighbours; the best move first, ties to the earliest. Each photo's moves are scored at once:
    the order without it, plus what inserting it at each place adds."""
    n = len(order)
    if n < 3 or n > POLISH_MAX:
        return order
    cur = np.array(order, np.int64)
    same = (p.group[:, None] == p.group[None, :]).astype(np.int64)
    strength = ends * np.nan_to_num(p.scores)
    best = values[cur[:-1], cur[1:]].sum() + strength[cur[0]] + strength[cur[-1]]
    dups = _adjacent_groups(cur, p.group)
    lo, hi = (1, n - 1) if fixed_ends else (0, n)
    for _ in range(2 * n):
        found = None
        for i in range(lo, hi):
            x, r = cur[i], np.delete(cur, i)

            def inserted(m):  # what x adds at each place 0..n-1 of r, by the pair matrix m
                add = np.empty(n, m.dtype)
                add[0], add[-1] = m[x, r[0]], m[r[-1], x]
                add[1:-1] = m[r[:-1], x] + m[x, r[1:]] - m[r[:-1], r[1:]]
                return add

            score = values[r[:-1], r[1:]].sum() + inserted(values)
            score += np.where(np.arange(n) == 0, strength[x], strength[r[0]])
            score += np.where(np.arange(n) == n - 1, strength[x], strength[r[-1]])
            ok = same[r[:-1], r[1:]].sum() + inserted(same) <= dups
            ok[i] = False
            ok[:lo], ok[hi:] = False, False
            gain = np.where(ok, score, -np.inf)
            j = int(np.argmax(gain))
            if gain[j] > best + 1e-9 and (found is None or gain[j] > found[0] + 1e-12):
                found = (float(gain[j]), np.insert(r, j, x))
        if found is None:
            break
        best, cur = found
        dups = _adjacent_groups(cur, p.group)
    return cur.tolist()


def arrange(p: Photos, mode: str, rule: SequenceRule) -> list[int]:
    """Positions (into p's arrays) in the order `mode` proposes."""
    if mode not in MODES:
        raise InvalidValue(f"--mode {mode}: expected one of {', '.join(MODES)}")
    chron = sorted(range(len(p.ids)), key=lambda i: p.rank[i])
    if mode == "chronological" or len(chron) < 2:
        return chron
    values = transition_values(p, rule)
    if mode == "flow":
        return _polish(_greedy(p, values, rule, None, None, chron), p, values, rule, False, 0.0)
    score = np.nan_to_num(p.scores, nan=-1.0)
    best = min(chron, key=lambda i: (-score[i], p.rank[i]))  # ties: the earliest opens
    second = min((i for i in chron if i != best), key=lambda i: (-score[i], -p.rank[i]))  # ties: the latest
    first, last = sorted((best, second), key=lambda i: p.rank[i])
    middle = [i for i in chron if i not in (first, last)]
    order = [first, *_greedy(p, values, rule, first, last, middle), last]
    return _polish(order, p, values, rule, True, rule.ends)


def load_photos(conn: sqlite3.Connection, store, d: dict, rule: SequenceRule) -> Photos:
    """A stored draft's photos as arrays (catalog reads, the embedding store, the stored features)."""
    from fluxcull.embedding.features import FEATURE_NAMES, load_features

    items = d["items"]
    ids = np.array([it["photo_id"] for it in items], np.int64)
    scores = np.array([it["keeper_score"] if it.get("keeper_score") is not None else
                       (it["score"] if it.get("score") is not None else np.nan) for it in items], np.float64)
    times = np.array([np.nan if it.get("capture_time") is None else it["capture_time"] for it in items], np.float64)
    rank = np.empty(len(ids), np.int64)
    rank[time_order(times, np.nan_to_num(scores, nan=-1.0), ids)] = np.arange(len(ids))
    emb = unit_embeddings(conn, store, ids) if store is not None else np.full((len(ids), 1), np.nan, np.float32)
    known = np.isfinite(emb).all(axis=1)
    e = np.where(known[:, None], emb, 0.0).astype(np.float64)
    sim = e @ e.T
    bright = load_features(conn, ids)[:, FEATURE_NAMES.index("brightness")].astype(np.float64) if len(ids) else \
        np.zeros(0)
    motif_of, names = {}, {}
    for m in motif_store.motifs(conn):
        names[m["id"]] = m["name"]
        for pid in m["members"]:
            motif_of.setdefault(pid, m["id"])
    motif = np.array([motif_of.get(int(i), -1) for i in ids], np.int64)
    session = np.array([np.nan if it.get("session_id") is None else it["session_id"] for it in items], np.float64)
    group = near_duplicate_groups(sim, known, rule.near_duplicate)
    return Photos(ids, scores, times, rank, sim, known, bright, motif, session, group, names)


def evaluate(p: Photos, order: list[int], rule: SequenceRule, mode: str, current: list[int] | None = None) -> dict:
    """One suggestion: order (photo ids), score, its terms, transitions with reasons, a summary."""
    o = np.array(order, np.int64)
    values = transition_values(p, rule)
    out = {"mode": mode, "order": [int(p.ids[i]) for i in o], "score": round(total(o, values, p, rule), 4),
           "moved": 0 if current is None else int(sum(a != b for a, b in zip(order, current)))}
    out.update(sequence_words.describe(p, o, values, rule, mode))
    return out


def suggest(conn: sqlite3.Connection, store, draft_id: int, modes: list[str] | None = None) -> dict:
    """Sequence suggestions for a stored draft: {draft, status, current (its order, scored alike),
    suggestions: [one per mode], rule}."""
    d = store_drafts.draft(conn, int(draft_id))
    if d is None:
        raise NotFound(f"no draft {draft_id}: `fluxcull drafts` lists them")
    rule = SequenceRule.from_settings(conn)
    p = load_photos(conn, store, d, rule)
    here = list(range(len(p.ids)))
    return {"draft": d["id"], "status": d["status"], "current": evaluate(p, here, rule, "current"),
            "suggestions": [evaluate(p, arrange(p, m, rule), rule, m, here) for m in (modes or MODES)],
            "rule": asdict(rule)}


def apply(conn: sqlite3.Connection, store, draft_id: int, mode: str) -> dict:
    """Compute `mode`'s suggestion and write its order into the draft (a proposed one; recorded in
    its history as 'sequenced'). Returns the suggestion with `changed`."""
    res = suggest(conn, store, draft_id, [mode])
    s = res["suggestions"][0]
    s["changed"] = store_drafts.set_order(conn, int(draft_id), s["order"], kind="sequenced", mode=mode,
                                          score=s["score"])
    return {**res, "applied": s}
