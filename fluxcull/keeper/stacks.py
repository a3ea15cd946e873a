"""Stacks: the bursts the keeper model's context inputs see, stored for the grid, `fluxcull stacks`
and `fluxcull photos --json`.

A stack is a burst of fluxcull.keeper.bursts, computed by the same `find_bursts`, with the library's
`bursts` setting, over the same photos and session groups (fluxcull.keeper.dataset.load_corpus:
readable originals and inbox photos with an embedding) and the same embeddings
(fluxcull.keeper.inputs.embeddings_reader) as the model's inputs: there is no second burst
definition. Each photo gets its stack id (the burst id: the photo id of the first frame), the
stack's size and its position in capture order (fluxcull.catalog.stacks_store).

Stacks are kept current incrementally: a session group's stacks are stored with a signature of
what they were computed from (its photos, their capture times, their embeddings' store rows and
checksums, the burst rule and its definition number), and only the groups whose signature changed
are computed again, so an inbox walk that arrives costs its own session. `rebuild` computes every
group again. Bursts never cross a session group, so computing some groups gives what computing all
would give them.
"""

from __future__ import annotations

import hashlib
import struct
import time

import numpy as np

from fluxcull.catalog import embedding_index, stacks_store
from fluxcull.catalog.model_reads import role_photo_ids
from fluxcull.jobs import CancelToken, Job, Progress
from fluxcull.joblock import locked
from fluxcull.keeper.bursts import DEFINITION, BurstRule, find_bursts, time_order

VERSION = 1           # of this computation: a change here makes every group's signature change
CHUNK_PHOTOS = 40_000  # photos computed and written per step (whole session groups)


def stacks_job(lib, *, rebuild: bool = False, role: str | None = None, cancel: CancelToken | None = None) -> Job:
    """Bring the stored stacks up to date (every group again with `rebuild`), holding the library's job
    lock; with `role` (e.g. 'inbox' after new photos arrived), only the sessions of that role's
    photos are looked at. Summary: {photos, groups, computed_groups, written, cleared, stacked_photos,
    stacks, rule, seconds}: photos in the model's corpus looked at, their session groups, groups
    computed, photos whose stack changed, photos left without one, photos in stacks of two or more
    frames and how many such stacks (in the whole library)."""
    cancel = cancel or CancelToken()
    return locked(lib, _stacks_job(lib, rebuild, role, cancel), cancel=cancel)


def _stacks_job(lib, rebuild: bool, role: str | None, cancel: CancelToken) -> Job:
    from fluxcull.embedding.store import current_store
    from fluxcull.keeper.dataset import load_corpus
    from fluxcull.keeper.inputs import embeddings_reader

    t0 = time.perf_counter()
    conn = lib.connect()
    try:
        yield Progress("stacks", 0, None, "reading the catalog")
        rule = BurstRule.from_settings(conn)
        summary = {"photos": 0, "groups": 0, "computed_groups": 0, "written": 0, "cleared": 0,
                   "rule": {"gap_seconds": rule.gap_seconds, "min_similarity": rule.min_similarity}}
        old = stacks_store.group_signatures(conn)
        before = stacks_store.stored(conn)
        if embedding_index.active_backbone_id(conn) is None:  # nothing embedded: nothing is stacked
            stacks_store.write(conn, [], clear=before[:, 0].tolist(), drop_groups=list(old))
            summary["cleared"] = len(before)
            return _finish(conn, summary, t0)
        store = current_store(lib, conn)
        if role is None:
            corpus = load_corpus(conn, store)
        else:  # the sessions of that role's photos (bursts never cross a session)
            corpus = load_corpus(conn, store, sessions_of=role_photo_ids(conn, role))
        groups, sigs = signatures(corpus.ids, corpus.session, corpus.time, corpus.keys, rule)
        todo = groups if rebuild else groups[[old.get(int(g)) != int(s) for g, s in zip(groups, sigs)]]
        sig_of = dict(zip(groups.tolist(), sigs.tolist()))
        summary.update(photos=len(corpus), groups=len(groups), computed_groups=len(todo))
        if role is None:  # groups gone, and photos stacked once and out of the corpus now
            gone, left = sorted(set(old) - set(groups.tolist())), np.setdiff1d(before[:, 0], corpus.ids)
        else:  # of the sessions looked at only
            mine = np.isin(before[:, 4], groups[groups > 0])
            gone, left = [], np.setdiff1d(before[mine, 0], corpus.ids)
        stacks_store.write(conn, [], clear=left.tolist(), drop_groups=gone)
        summary["cleared"] = len(left)
        at = np.flatnonzero(np.isin(corpus.session, todo))
        at = at[np.argsort(corpus.session[at], kind="stable")]  # whole groups together, by id within
        ids, sess, tm = corpus.ids[at], corpus.session[at], corpus.time[at]
        read = embeddings_reader(store, corpus.rows[at])
        yield Progress("stacks", 0, len(at), f"{len(todo)} of {len(groups)} session groups to compute")
        for lo, hi in _group_chunks(sess):
            cancel.check()
            part = slice(lo, hi)
            burst = find_bursts(ids[part], sess[part], tm[part],
                                lambda pos, lo=lo: read(np.asarray(pos, np.int64) + lo), rule=rule)
            rows = _changed(stack_rows(ids[part], sess[part], tm[part], burst), before[:, :4])
            stacks_store.write(conn, rows.tolist(), groups=[(g, sig_of[g]) for g in np.unique(sess[part]).tolist()])
            summary["written"] += len(rows)
            yield Progress("stacks", hi, len(at), "stacking bursts")
        return _finish(conn, summary, t0)
    finally:
        conn.close()


def _finish(conn, summary: dict, t0: float) -> dict:
    summary["stacked_photos"], summary["stacks"] = stacks_store.stacked_count(conn)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


def stack_rows(ids: np.ndarray, session: np.ndarray, times: np.ndarray, burst: np.ndarray) -> np.ndarray:
    """int64 (n x 4), by capture order: photo id, stack id (the burst), stack size, position (1..) in
    capture order, from find_bursts' burst ids (bursts are runs of the capture order)."""
    ids = np.asarray(ids, np.int64)
    if not len(ids):
        return np.zeros((0, 4), np.int64)
    order = time_order(np.asarray(session), np.asarray(times, np.float64), ids)
    b = np.asarray(burst, np.int64)[order]
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    sizes = np.diff(np.r_[starts, len(b)])
    run = np.repeat(np.arange(len(starts)), sizes)
    position = np.arange(len(b)) - starts[run] + 1
    return np.stack([ids[order], b, sizes[run], position], axis=1)


def _changed(rows: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The rows whose stored stack differs (or that have none stored)."""
    if not len(rows) or not len(before):
        return rows
    at = np.clip(np.searchsorted(before[:, 0], rows[:, 0]), 0, len(before) - 1)
    same = (before[at, 0] == rows[:, 0]) & (before[at, 1:] == rows[:, 1:]).all(axis=1)
    return rows[~same]


def _group_chunks(session: np.ndarray):
    """(lo, hi) slices of about CHUNK_PHOTOS photos each, never splitting a session group (`session`
    holds each group's photos together)."""
    if not len(session):
        return
    bounds = np.flatnonzero(np.r_[True, session[1:] != session[:-1], True])
    lo = 0
    for b in bounds[1:]:
        if b - lo >= CHUNK_PHOTOS or b == len(session):
            yield lo, int(b)
            lo = int(b)


# -- what a group's stacks were computed from --------------------------------------------------------------
def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise on uint64 (wrapping)."""
    x = np.asarray(x, np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def rule_hash(rule: BurstRule) -> int:
    digest = hashlib.blake2b(struct.pack("<iidd", VERSION, DEFINITION, rule.gap_seconds, rule.min_similarity),
                             digest_size=8)
    return int.from_bytes(digest.digest(), "little")


def signatures(ids, session, times, keys, rule: BurstRule) -> tuple[np.ndarray, np.ndarray]:
    """(session groups, sorted; int64 signature of each): an order-free hash of the group's photo ids,
    capture times and embedding keys (store row and checksum), with the burst rule."""
    ids = np.asarray(ids, np.int64)
    if not len(ids):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    t = np.asarray(times, np.float64)
    tbits = np.where(np.isfinite(t), t, -1.0).view(np.uint64)
    with np.errstate(over="ignore"):
        h = _mix(ids.view(np.uint64) ^ _mix(tbits ^ _mix(np.asarray(keys, np.int64).view(np.uint64))))
        order = np.argsort(session, kind="stable")
        g = np.asarray(session, np.int64)[order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        sums = np.add.reduceat(h[order], starts)
        counts = np.diff(np.r_[starts, len(g)]).astype(np.uint64)
        sig = _mix(sums ^ _mix(counts ^ np.uint64(rule_hash(rule))))
    return g[starts], sig.view(np.int64)
