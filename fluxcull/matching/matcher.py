"""match_job: link the keeper archive to the originals, incrementally, as one cancellable job.

Per run: the keepers to (re)match are those never matched, whose bytes changed since, whose
automatic link lost its original, or (once the originals or their embeddings changed) those left
in review or unmatched and those linked without a content check (no embeddings then); `redo_all`
redoes every automatic result. Manual decisions are never
touched. Everything a run decides is written in one transaction at its end.
"""

from __future__ import annotations

import json
import sqlite3
import time

import numpy as np

from fluxcull.catalog.match_store import (MatchResult, corpus_signature, keepers_with_embeddings, match_state,
                                          write_match_results)
from fluxcull.jobs import CancelToken, Job, Progress
from fluxcull.matching.candidates import OriginalsIndex, PhotoMeta, load_keepers
from fluxcull.matching.decide import SIM_MATCH, Evidence, Outcome, decide
from fluxcull.catalog.keeper_links import match_summary
from fluxcull.matching.similarity import Vectors, available_store, nearest, pair_similarities

NEAREST_K = 5


def _embeddings_part(sig: str | None) -> str | None:
    parts = (sig or "").split("|")
    return parts[1] if len(parts) > 1 else None


def _corpus_part(sig: str | None) -> str:
    return "|".join((sig or "").split("|")[:2])


def _to_redo(conn: sqlite3.Connection, keepers: list[PhotoMeta], sig: str, redo_all: bool,
             has_emb: set[int]) -> tuple[list[PhotoMeta], int]:
    """Keepers to match again. A state's corpus_sig is the corpus signature then, plus whether the
    keeper itself had an embedding ("...|1" or "...|0")."""
    # automatic links made without comparing content (`unchecked`): checked again once embeddings come
    state, links, unchecked = match_state(conn)
    todo, manual = [], 0
    for k in keepers:
        if links.get(k.id) == 1:
            manual += 1
            continue
        s = state.get(k.id)
        if redo_all or s is None or s[0] == "manual" or s[1] != k.sha256:
            todo.append(k)
            continue
        gained_embedding = (s[2] or "").endswith("|0") and k.id in has_emb
        if ((s[0] in ("review", "unmatched") and (_corpus_part(s[2]) != sig or gained_embedding))
                or (k.id in unchecked and (_embeddings_part(s[2]) != _embeddings_part(sig) or gained_embedding))
                or (s[0] == "linked" and k.id not in links)):
            todo.append(k)
    return todo, manual


def _decide_all(todo: list[PhotoMeta], index: OriginalsIndex, vec: Vectors | None, note: str | None,
                keeper_emb: set[int], cancel: CancelToken | None, sig: str = "", cache_dir=None) -> Job:
    metas = {}
    pairs_k, pairs_o = [], []
    for n, k in enumerate(todo):
        if cancel is not None and n % 2000 == 0:
            cancel.check()
        m = index.lookup(k)
        metas[k.id] = m
        for oid in m.all_ids():
            pairs_k.append(k.id)
            pairs_o.append(oid)
    yield Progress("match", len(todo) // 3, len(todo), "compared metadata")
    sims: dict[int, dict[int, float]] = {k.id: {} for k in todo}
    has_emb = {k.id: vec is not None and k.id in keeper_emb for k in todo}
    if vec is not None:
        vals = pair_similarities(vec, pairs_k, pairs_o)
        for kid, oid, s in zip(pairs_k, pairs_o, vals.tolist()):
            if s == s:  # not NaN
                sims[kid][oid] = s
    outcomes: dict[int, Outcome] = {}
    evidence: dict[int, Evidence] = {}
    need_search = []
    for k in todo:
        note_k = note if vec is None else (None if has_emb[k.id] else "this keeper has no embedding yet")
        ev = Evidence(meta=metas[k.id], sims=sims[k.id], keeper_has_embedding=has_emb[k.id], similarity_note=note_k)
        out = decide(ev)
        evidence[k.id] = ev
        outcomes[k.id] = out
        # a search can only add near-duplicates: not needed where the metadata already found one
        known = list(sims[k.id].values())
        if out.status != "linked" and vec is not None and has_emb[k.id] and not (known and max(known) > SIM_MATCH):
            need_search.append(k.id)
    searched = 0
    if need_search:
        yield Progress("match", len(todo) // 2, len(todo), f"searching similar originals for {len(need_search)}")
        orig_ids = np.fromiter(index.meta.keys(), dtype=np.int64, count=len(index.meta))
        near = nearest(vec, need_search, orig_ids, k=NEAREST_K, cancel=cancel, cache_dir=cache_dir,
                       cache_key=_embeddings_part(sig))
        searched = len(need_search)
        for kid in need_search:
            ev = evidence[kid]
            ev.nearest = near.get(kid, [])
            for oid, s in ev.nearest:
                ev.sims.setdefault(oid, s)
            outcomes[kid] = decide(ev)
    return outcomes, searched


def _write(conn: sqlite3.Connection, todo: list[PhotoMeta], outcomes: dict[int, Outcome], sig: str,
           has_emb: set[int]) -> int:
    results = []
    for k in todo:
        out = outcomes[k.id]
        results.append(MatchResult(
            k.id, k.sha256, out.original_id, out.method, json.dumps(out.evidence, sort_keys=True), out.similarity,
            bool(out.needs_review), out.status, f"{sig}|{int(k.id in has_emb)}", out.reason or None,
            json.dumps(out.candidates)))
    return write_match_results(conn, results)


def match_job(lib, *, redo_all: bool = False, cancel: CancelToken | None = None) -> Job:
    """Match the keeper archive to the originals; returns the summary (see match_summary)."""
    t0 = time.perf_counter()
    conn = lib.connect()
    try:
        yield Progress("match", 0, None, "loading keepers")
        store, note = available_store(lib, conn)
        backbone_id = store.backbone_id if store is not None else None
        sig = corpus_signature(conn, backbone_id)
        keepers = load_keepers(conn)
        has_emb = keepers_with_embeddings(conn, backbone_id)
        todo, manual = _to_redo(conn, keepers, sig, redo_all, has_emb)
        searched = 0
        if todo:
            yield Progress("match", 0, len(todo), f"loading originals for {len(todo)} keepers")
            index = OriginalsIndex.load(conn, cancel)
            vec = Vectors.from_store(store) if store is not None else None
            outcomes, searched = yield from _decide_all(todo, index, vec, note, has_emb, cancel, sig,
                                                        lib.cache_dir / "matching")
            if cancel is not None:
                cancel.check()
            yield Progress("match", len(todo), len(todo), "writing")
            _write(conn, todo, outcomes, sig, has_emb)
        summary = match_summary(conn)
        summary.update({
            "processed": len(todo),
            "unchanged": len(keepers) - len(todo) - manual,
            "manual": manual,
            "similarity": "used" if store is not None else f"skipped: {note}",
            "similarity_searched": searched,
            "backbone": store.backbone_id if store is not None else None,
            "seconds": round(time.perf_counter() - t0, 3),
        })
        return summary
    finally:
        conn.close()
