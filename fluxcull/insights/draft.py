"""Issue drafts: N photos the keeper model proposes for an issue; the photographer approves.

Candidates: ok originals and inbox photos scoring at least `min_score` (default 0.8, "highly probable
keeper"; confirmed keepers and kept photos score 1.0), not marked reject, with an embedding, in the
chosen dates and sessions; with `exclude_used`, not in an approved draft.

Selection (diversity): greedy maximal marginal relevance (MMR) over L2-normalised embeddings. Each
step takes the candidate with the highest

    relevance * keeper_score - (1 - relevance) * (largest cosine similarity to a photo already chosen)

among those still allowed, where a candidate is not allowed when
- a photo of its burst is chosen already (fluxcull.keeper.bursts.find_bursts, the one definition,
  computed over the candidate's whole session),
- its session holds `draft.per_session` chosen photos already (setting, default 4), or
- its cosine similarity to a chosen photo is above `max_similarity` (default 0.8).
`relevance` and `max_similarity` come from the setting `draft.rule` (JSON, DraftRule).

Order (the sequence the photographer sees): keeper score decides which photos are in, chronology
decides their order: by capture time (unknown last), ties by higher score, then photo id.

When fewer than N candidates exist, or fewer than N survive the diversity rules, nothing is stored
and the result says how many are missing.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

import numpy as np

from fluxcull.catalog import drafts as store_drafts
from fluxcull.catalog import embedding_index, insight_reads, settings
from fluxcull.errors import InvalidValue
from fluxcull.keeper.bursts import BurstRule, find_bursts
from fluxcull.keeper.dataset import read_embeddings

RULE_KEY = "draft.rule"
PER_SESSION_KEY = "draft.per_session"


@dataclass
class DraftRule:
    max_similarity: float = 0.8  # no two chosen photos more alike than this (cosine)
    relevance: float = 0.7       # MMR's lambda: 1 = keeper score alone, 0 = diversity alone

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection) -> "DraftRule":
        return settings.numbers_into(conn, RULE_KEY, cls(), non_negative=True)


def parse_date(text: str | None, *, end: bool = False) -> float | None:
    """YYYY-MM-DD as capture-time seconds (wall clock read as UTC, like photos.capture_time); an end
    date is inclusive (the seconds of the next midnight)."""
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{text!r} is not a date: expected YYYY-MM-DD") from None
    t = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()
    return t + 86400.0 if end else t


def mmr_select(scores: np.ndarray, emb: np.ndarray, groups: np.ndarray, size: int, per_group: int,
               rule: DraftRule, burst_of) -> list[int]:
    """Positions chosen by greedy MMR (see the module docstring). scores (n,), emb (n x d) normalised,
    groups (n,) session groups; burst_of(position) -> burst id (asked only of photos about to be chosen)."""
    n = len(scores)
    lam = float(min(max(rule.relevance, 0.0), 1.0))
    maxsim = np.zeros(n, np.float32)
    alive = np.ones(n, bool)
    chosen: list[int] = []
    per: dict[int, int] = {}
    bursts: set[int] = set()
    base = lam * np.asarray(scores, np.float64)
    while len(chosen) < size and alive.any():
        value = np.where(alive, base - (1.0 - lam) * maxsim, -np.inf)
        i = int(np.argmax(value))
        alive[i] = False
        g = int(groups[i])
        if per.get(g, 0) >= per_group:
            alive[groups == g] = False
            continue
        b = burst_of(i)
        if b in bursts:
            continue
        chosen.append(i)
        bursts.add(b)
        per[g] = per.get(g, 0) + 1
        sims = emb @ emb[i]
        np.maximum(maxsim, sims, out=maxsim)
        alive &= sims <= rule.max_similarity
    return chosen


def sequence(times: np.ndarray, scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The documented order: capture time (unknown last), then higher score, then id."""
    t = np.where(np.isfinite(times), times, np.inf)
    return np.lexsort((ids, -scores, t))


def stored_rows(conn, store, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(which of ids have an embedding, their store rows in the order of ids)."""
    rows_of = embedding_index.row_map(conn, store.backbone_id, ids.tolist())
    known = np.fromiter(rows_of.keys(), np.int64, len(rows_of))
    rows = np.fromiter(rows_of.values(), np.int64, len(rows_of))
    order = np.argsort(known)
    known, rows = known[order], rows[order]
    pos = np.clip(np.searchsorted(known, ids), 0, max(len(known) - 1, 0))
    has = (known[pos] == ids) if len(known) else np.zeros(len(ids), bool)
    return has, rows[pos[has]]


def unit_embeddings(conn, store, ids) -> np.ndarray:
    """L2-normalised embeddings of ids, in their order (float32 n x dim); NaN rows where none is stored."""
    ids = np.asarray(ids, np.int64)
    out = np.full((len(ids), store.dim), np.nan, np.float32)
    has, rows = stored_rows(conn, store, ids)
    if has.any():
        out[has] = np.concatenate([b for _, b in read_embeddings(store, rows)])
    return out


def session_groups(sess: np.ndarray, times: np.ndarray) -> np.ndarray:
    """What draft.per_session caps: the session, else (no session) the capture day."""
    day = np.floor(np.nan_to_num(times, nan=0.0) / 86400.0)
    return np.where(np.isfinite(sess), np.nan_to_num(sess), -(day + 1)).astype(np.int64)


class SessionBursts:
    """Burst ids of candidates: find_bursts over the photo's session, worked out from the frames
    just before the photo in capture order (a burst id depends on nothing after it), so a draft
    reads a few frames per photo it asks about rather than its whole session."""

    def __init__(self, conn, store):
        self.conn, self.store = conn, store
        self.rule = BurstRule.from_settings(conn)
        self.known: dict[int, int] = {}  # photo id -> burst id

    def burst(self, photo_id: int, session: float, capture_time: float) -> int:
        pid = int(photo_id)
        if not (np.isfinite(session) and np.isfinite(capture_time)):
            return pid  # no session or no capture time: a burst of its own
        if pid not in self.known:
            self._resolve(pid, int(session), float(capture_time))
        return self.known.get(pid, pid)

    def _resolve(self, pid: int, s: int, t: float) -> None:
        """find_bursts over ever longer runs of frames ending at the photo (and the one frame after
        it, which may bridge the photo into the burst before), until its burst starts after the run's
        second frame (or the run is the session's beginning): a burst is decided by frames at most two
        apart, so the ids found for such frames are the whole session's."""
        count = 8
        after = insight_reads.frame_after(self.conn, s, t, pid, self.store.backbone_id)
        while True:
            run = insight_reads.frames_before(self.conn, s, t, pid, count, self.store.backbone_id)
            ids = run[:, 0].astype(np.int64)
            if not len(ids) or ids[-1] != pid:
                return  # not a photo the session's bursts count: a burst of its own
            both = np.concatenate([run, after])
            burst = find_bursts(both[:, 0].astype(np.int64), np.zeros(len(both), np.int64), both[:, 1],
                                self._unit(both[:, 2]), rule=self.rule)[:len(ids)]
            if len(ids) < count or not np.isin(burst[-1], ids[:2]):
                break
            count *= 4
        exact = ~np.isin(burst, ids[:2]) | (len(ids) < count)  # the run is the session's beginning: all
        self.known.update(zip(ids[exact].tolist(), burst[exact].tolist()))

    def _unit(self, rows: np.ndarray):
        """embeddings_at for find_bursts over these store rows (NaN: none stored, zeros)."""
        has = np.isfinite(rows)
        emb = np.zeros((len(rows), self.store.dim), np.float32)
        if has.any():
            emb[has] = np.nan_to_num(np.concatenate(
                [b for _, b in read_embeddings(self.store, rows[has].astype(np.int64))]))
        return lambda at: emb[at]


def propose(conn: sqlite3.Connection, store, *, size: int = store_drafts.DRAFT_SIZE,
            min_score: float = store_drafts.STRONG_SCORE, start: float | None = None,
            end: float | None = None, sessions: list[int] | None = None, exclude_used: bool = False,
            save: bool = True) -> dict:
    """Propose (and with `save`, store) a draft of `size` photos. Returns {"draft": id or None,
    "items": [...] in order, "candidates": n, "missing": how many short (0 when proposed), ...}."""
    if size < 1:
        raise InvalidValue("--size must be at least 1")
    rule = DraftRule.from_settings(conn)
    per_session = int(settings.get(conn, PER_SESSION_KEY))
    cand = insight_reads.draft_candidates(conn, min_score, start=start, end=end, sessions=sessions,
                                          backbone_id=store.backbone_id)
    if exclude_used and len(cand):
        cand = cand[~np.isin(cand[:, 0], np.fromiter(store_drafts.approved_photo_ids(conn), np.int64))]
    has = np.isfinite(cand[:, 4])
    cand = cand[has]
    ids, rows = cand[:, 0].astype(np.int64), cand[:, 4].astype(np.int64)
    params = {"size": size, "min_score": min_score, "start": start, "end": end, "sessions": sessions or None,
              "exclude_used": exclude_used, "per_session": per_session, "max_similarity": rule.max_similarity,
              "relevance": rule.relevance}
    result = {"draft": None, "items": [], "candidates": int(len(ids)), "without_embedding": int((~has).sum()),
              "size": size, "params": params}
    if len(ids) < size:
        result.update(missing=size - len(ids), reason=f"{len(ids)} photos score {min_score:g} or more; {size} needed")
        return result
    emb = next(read_embeddings(store, rows, chunk=len(rows)))[1]  # one block: no copy to join blocks
    sess, times, scores = cand[:, 1], cand[:, 2], cand[:, 3]
    groups = session_groups(sess, times)
    bursts = SessionBursts(conn, store)
    chosen = np.array(mmr_select(scores, emb, groups, size, per_session, rule,
                                 lambda i: bursts.burst(int(ids[i]), sess[i], times[i])), np.int64)
    if len(chosen) < size:
        result.update(missing=size - len(chosen),
                      reason=f"{len(ids)} candidates, but only {len(chosen)} remain after one per burst, "
                             f"{per_session} per session and similarity at most {rule.max_similarity:g}")
        return result
    chosen = chosen[sequence(times[chosen], scores[chosen], ids[chosen])]
    items = [(int(ids[i]), float(scores[i])) for i in chosen]
    if save:
        result["draft"] = store_drafts.add_draft(conn, items, params)
    result["items"] = [{"position": k, "photo_id": pid, "score": sc, "capture_time": _num(times[i]),
                        "session_id": _int(sess[i]), "burst": bursts.burst(pid, sess[i], times[i])}
                       for k, ((pid, sc), i) in enumerate(zip(items, chosen), 1)]
    result["missing"] = 0
    return result


def _num(v) -> float | None:
    return float(v) if np.isfinite(v) else None


def _int(v) -> int | None:
    return int(v) if np.isfinite(v) else None
