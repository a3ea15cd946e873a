"""Model inputs for the whole corpus: labels (dataset), embeddings projected, features and context
inputs standardised.

`prepare` reads the corpus once: embeddings stream from the memory-mapped store in chunks and are
projected straight away, so memory stays at n x (components + inputs) float32 (about 0.6 GB for
400,000 photos), never the full float32 embedding matrix. Bursts (fluxcull.keeper.bursts) and the
context inputs (fluxcull.keeper.context) are computed from the catalog as it is now, every time.
"""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from fluxcull.catalog.model_reads import PHOTO_ROW_METADATA, photo_rows
from fluxcull.embedding.store import current_store
from fluxcull.keeper import cores, score_cache
from fluxcull.keeper.bursts import BurstRule, find_bursts
from fluxcull.keeper.context import compute_context, input_spec, tolerances
from fluxcull.keeper.dataset import Corpus, load_corpus, load_features, read_embeddings
from fluxcull.keeper.projection_cache import ProjectionCache
from fluxcull.keeper.recency import half_life_months
from fluxcull.keeper.ranker import InputTransform

PCA_SAMPLE = 20_000


@dataclass
class Prepared:
    corpus: Corpus
    x: np.ndarray            # float32 (n x dim) model inputs
    feats: np.ndarray        # float32 (n x len(feature_names)) raw inputs: features + context (NaN missing)
    burst: np.ndarray        # int64 burst id per photo (photo id of its first frame)
    transform: InputTransform
    backbone_id: str
    feature_names: list[str]
    feature_schema: str
    store: object
    timings: dict | None = None   # seconds: load (corpus + features), project, bursts, context, standardise
    adjacent: np.ndarray | None = None  # float32 (n x 2) cosines of each photo's embedding to the two positions before
    photos: np.ndarray | None = None    # the library's photo_rows as read (a whole-library pass), else None
    recency_half_life_months: float = 0.0  # training.recency_half_life_months (fluxcull.keeper.recency; 0 off)
    row_keys: np.ndarray | None = None  # checksums of the rows of x (fluxcull.keeper.score_cache), once computed

    def input_keys(self) -> np.ndarray:
        """score_cache.row_keys(x), computed once for everything that keys on these inputs."""
        if self.row_keys is None:
            self.row_keys = score_cache.row_keys(self.x)
        return self.row_keys


def embeddings_reader(store, rows: np.ndarray):
    """positions -> L2-normalised float32 embeddings of those corpus positions."""
    def read(positions):
        positions = np.asarray(positions, np.int64)
        if len(positions) == 0:
            return np.zeros((0, store.matrix().shape[1]), np.float32)
        return next(read_embeddings(store, rows[positions], chunk=len(positions)))[1]
    return read


def prepare(lib, conn: sqlite3.Connection, *, seed: int = 0, transform: InputTransform | None = None,
            cancel=None, progress=None, sessions_of=None, cache: ProjectionCache | None = None,
            store=None, reuse: tuple[InputTransform, ProjectionCache] | None = None) -> Prepared:
    """Inputs of every trainable/scorable photo; with `sessions_of` (photo ids), only of the photos in
    the sessions of those photos (context inputs depend on nothing else). With `cache` (the
    projection saved with the model whose `transform` this is), unchanged embeddings are not read.
    When fitting (no `transform`), `reuse` is the active model's transform and projection cache: a
    retrain on the same photos draws the same sample and fits the very same projection, and then
    reads the cache instead of every embedding. The projection and the bursts are computed on a second
    thread while the features are read (so `progress` may be called from that thread)."""
    t0 = time.perf_counter()
    timings = {}
    store = store or current_store(lib, conn)
    names, schema = input_spec()
    photos = photo_rows(conn) if sessions_of is None else None
    corpus = load_corpus(conn, store, sessions_of=sessions_of, photos=photos)
    n = len(corpus)
    rule = BurstRule.from_settings(conn)
    fit_inputs = transform is None

    def appearance():
        """The projection (fitted first when fitting), the embeddings' adjacent cosines and the
        bursts: numpy on the embedding store, no catalog query, so it runs beside the features' read."""
        tr, use = transform, cache
        if fit_inputs:
            rng = np.random.default_rng(seed)
            take = np.sort(rng.choice(n, size=min(n, PCA_SAMPLE), replace=False)) if n else np.zeros(0, np.int64)
            sample = next(read_embeddings(store, corpus.rows[take], chunk=max(len(take), 1)), (0, None))[1]
            if sample is None or len(sample) < 2:
                raise ValueError(f"{n} embedded originals/inbox photos: too few to train a keeper model "
                                 "(ingest the photos, then run `fluxcull embed`)")
            tr = InputTransform.fit_projection(sample)
            if reuse is not None and reuse[1] is not None and reuse[0].same_projection(tr):
                use = reuse[1]
        t = time.perf_counter()
        k = tr.n_components
        # x's own memory, its rows k wide for now (widen_rows spreads them to x's width once that is
        # known): the projection is never copied into a separate array
        buf = np.empty(n * (k + 2 * len(names)), np.float32)
        z, adjacent, reused = _project(store, corpus, tr, use, cancel, progress, out=buf[:n * k].reshape(n, k))
        t_burst = time.perf_counter()
        burst = find_bursts(corpus.ids, corpus.session, corpus.time, embeddings_reader(store, corpus.rows),
                            rule=rule, adjacent=adjacent)
        return tr, buf, z, adjacent, burst, {"project_s": t_burst - t, "projection_reused": reused,
                                        "bursts_s": time.perf_counter() - t_burst}

    with ThreadPoolExecutor(max_workers=cores.workers_for(n)) as pool:
        side = pool.submit(appearance)
        meta = photos[:, PHOTO_ROW_METADATA] if photos is not None else None
        feats, orientation = load_features(conn, corpus.ids, meta, with_orientation=True)
        del meta
        nf = feats.shape[1]
        inputs = np.empty((n, len(names)), np.float32)  # features then context inputs, filled in place
        inputs[:, :nf] = feats
        del feats
        t1 = time.perf_counter()
        transform, buf, z, adjacent, burst, parts = side.result()
    t2 = time.perf_counter()
    timings["load_s"] = t1 - t0
    timings.update(parts)
    timings["waited_s"] = t2 - t1  # for the projection and bursts, after the features were read
    k = transform.n_components
    feats = inputs[:, :nf]
    if fit_inputs:  # the burst ranks' tolerances: from the training photos, then saved with the model
        transform.a["ctx_tolerance"] = tolerances(feats)
    compute_context(corpus.session, burst, corpus.time, feats, z, orientation,
                    tolerance=transform.a.get("ctx_tolerance"), out=inputs[:, nf:])
    del orientation
    t4 = time.perf_counter()
    timings["context_s"] = t4 - t2
    if fit_inputs:
        transform.fit_features(inputs, names)
    del z
    x = widen_rows(buf, n, k, transform.dim)  # dim <= k + 2 x inputs: each input and its missing indicator
    for s in range(0, n, 65536):
        transform.features(inputs[s:s + 65536], out=x[s:s + 65536, k:])
    timings["standardise_s"] = time.perf_counter() - t4
    return Prepared(corpus=corpus, x=x, feats=inputs, burst=burst, transform=transform,
                    backbone_id=store.backbone_id, feature_names=names, feature_schema=schema, store=store,
                    timings={k: round(v, 3) for k, v in timings.items()}, adjacent=adjacent,
                    photos=photos, recency_half_life_months=half_life_months(conn))


def widen_rows(buf: np.ndarray, n: int, k: int, dim: int, step: int = 16384) -> np.ndarray:
    """The n rows of k values at the start of `buf` moved, in place, to the first k columns of n rows
    of `dim` values (dim >= k); returns those rows (n x dim, the rest of each row not yet written).
    Back to front, a block of rows at a time: a block's new place never reaches a row not yet moved,
    and numpy copies a block through a temporary where its old and new places overlap. A second
    array and a copy would cost a fresh allocation of hundreds of MB, paid in page faults."""
    if len(buf) < n * dim or dim < k:
        raise ValueError(f"{len(buf)} values cannot hold {n} rows of {dim} (from {k})")
    for b in range(n, 0, -step):
        a = max(0, b - step)
        buf[a * dim:b * dim].reshape(b - a, dim)[:, :k] = buf[a * k:b * k].reshape(b - a, k)
    return buf[:n * dim].reshape(n, dim)


def _project(store, corpus: Corpus, transform: InputTransform, cache: ProjectionCache | None, cancel, progress,
             out: np.ndarray | None = None):
    """(z float32 n x k, adjacent float32 n x 2, photos reused from the cache): the embedding
    projection of every corpus photo (into `out` when given) and the cosines of its embedding to the
    previous position's and to the one before that (the bursts' inputs); unchanged photos from the
    cache, the rest projected from the store."""
    n, k = len(corpus), transform.n_components
    z = np.empty((n, k), np.float32) if out is None else out
    adjacent = np.full((n, 2), np.nan, np.float32)
    at = cache.lookup(corpus.ids, corpus.keys) if cache is not None and cache.n_components == k else None
    hit = at >= 0 if at is not None else np.zeros(n, bool)
    if not hit.any() or hit.sum() < n // 2:  # mostly new: one streaming pass is cheaper than gathers
        tail = None  # the last two rows before this block
        for start, block in read_embeddings(store, corpus.rows):
            if cancel is not None:
                cancel.check()
            end = start + len(block)
            z[start:end] = transform.project(block)
            edge = block[:2] if tail is None else np.concatenate([tail, block[:2]])
            k = len(edge) - len(block[:2])  # rows of the tail in `edge`
            for d in (1, 2):
                adjacent[start + d:end, d - 1] = np.einsum("ij,ij->i", block[d:], block[:-d])
                j = np.arange(max(d - k, 0), min(d, len(block)))  # first rows, whose row d before is in the tail
                adjacent[start + j, d - 1] = np.einsum("ij,ij->i", edge[k + j], edge[k + j - d])
            tail = (block if len(block) >= 2 else edge)[-2:].copy()
            if progress is not None:
                progress(end, n)
        return z, adjacent, 0
    for s in range(0, n, 65536):  # memory-mapped rows, gathered in order
        sl = slice(s, s + 65536)
        h = np.flatnonzero(hit[sl]) + s
        if len(h) and h[-1] - h[0] == len(h) - 1 and at[h[-1]] - at[h[0]] == len(h) - 1:
            z[h[0]:h[-1] + 1] = cache.z[at[h[0]]:at[h[-1]] + 1]  # a run of the file: one copy
        else:
            z[h] = cache.z[at[h]]
    prev_ok = np.r_[False, hit[1:] & hit[:-1]]
    prev_ok[1:] &= cache.prev[np.maximum(at[1:], 0)] == corpus.ids[:-1]
    # the photo two before is the cached one where the photo before is too (a cache written before
    # the second column has none: those cosines are read)
    two_ok = np.r_[False, prev_ok[1:] & prev_ok[:-1]] & (cache.adjacent.ndim == 2)
    cached = cache.adjacent if cache.adjacent.ndim == 2 else cache.adjacent[:, None]
    adjacent[prev_ok, 0] = cached[at[prev_ok], 0]
    adjacent[two_ok, 1] = cached[at[two_ok], -1]
    miss = np.flatnonzero(~hit)
    for start, block in read_embeddings(store, corpus.rows[miss]):
        if cancel is not None:
            cancel.check()
        z[miss[start:start + len(block)]] = transform.project(block)
    read = embeddings_reader(store, corpus.rows)
    for d, ok in ((1, prev_ok), (2, two_ok)):
        todo = np.flatnonzero(~ok[d:]) + d  # positions whose cosine to the one d before is not known
        for s in range(0, len(todo), 32768):
            t = todo[s:s + 32768]
            adjacent[t, d - 1] = np.einsum("ij,ij->i", read(t), read(t - d))
    if progress is not None:
        progress(n, n)
    return z, adjacent, int(hit.sum())
