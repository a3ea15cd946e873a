"""Embedding similarity for matching: pairwise checks and nearest neighbours among the originals.

numpy only. Vectors are read from the EmbeddingStore's float16 memory map in chunks and turned
into float32 one chunk at a time, so the whole originals matrix (400,000 x 1280 is 1 GB as float16)
is never held at once.

Nearest neighbours: an exact chunked search when the work is small. For large libraries, a coarse
pass in a 64-d principal subspace of the originals (100 MB for 400,000 photos) keeps, per keeper,
every original above a coarse similarity and each chunk's best (at most `coarse_k`), and the exact
cosine similarity re-ranks those. Near-duplicates (the only ones that can make a match, > 0.98)
stay far above the coarse threshold; the per-chunk bests give unmatched keepers their closest
candidates.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK_ROWS = 16384
QUERY_BATCH = 2048
# exact search when keepers x originals x dim stays under this many multiply-adds
EXACT_WORK_LIMIT = 2.5e11
# below this many originals the search is always exact
TWO_STAGE_MIN = 4096


def available_store(lib, conn: sqlite3.Connection):
    """The current EmbeddingStore (fluxcull.embedding.store.current_store), or None with the reason where
    there is none."""
    from fluxcull.catalog.embedding_index import active_backbone_id
    from fluxcull.embedding.store import current_store

    if active_backbone_id(conn) is None:
        return None, "no embeddings stored (run `fluxcull embed`)"

    try:
        store = current_store(lib, conn)
    except (LookupError, ValueError) as exc:
        return None, f"no embeddings: {exc}"
    if store.count() == 0:
        return None, f"no embeddings stored for backbone {store.backbone_id} (run `fluxcull embed`)"
    return store, None


def _normalise(x: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if not inplace:
        x = x.copy()
    n = np.sqrt(np.einsum("ij,ij->i", x, x))
    n[n == 0] = 1.0
    x /= n[:, None]
    return x


@dataclass
class Vectors:
    """Photo id -> row of one EmbeddingStore, read from its float16 row file."""

    ids: np.ndarray   # sorted photo ids
    rows: np.ndarray  # matching rows
    mat: np.ndarray   # memmap rows x dim (float16), for scattered reads
    dim: int
    path: object = None  # the row file, for reading runs of rows without mapping them

    @classmethod
    def from_store(cls, store) -> "Vectors":
        ids, rows = store.ids_and_rows()
        return cls(ids=ids, rows=rows, mat=store.matrix(), dim=store.dim, path=getattr(store, "path", None))

    def rows_of(self, photo_ids) -> np.ndarray:
        """Rows of the photos, -1 where a photo has no embedding."""
        q = np.asarray(list(photo_ids), dtype=np.int64)
        if len(self.ids) == 0 or len(q) == 0:
            return np.full(len(q), -1, np.int64)
        pos = np.searchsorted(self.ids, q)
        pos = np.minimum(pos, len(self.ids) - 1)
        hit = self.ids[pos] == q
        return np.where(hit, self.rows[pos], -1)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """float32 copies (not normalised) of sorted rows: one file read when they are dense."""
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        if self.path is not None and r1 - r0 <= 2 * len(rows):
            block = np.fromfile(self.path, dtype=np.float16, count=(r1 - r0) * self.dim,
                                offset=r0 * self.dim * 2).reshape(r1 - r0, self.dim)
            if r1 - r0 != len(rows):
                block = block[rows - r0]
            return block.astype(np.float32)
        return np.asarray(self.mat[rows], dtype=np.float32)

    def _read_scattered(self, rows: np.ndarray) -> np.ndarray:
        """float16 rows (sorted, unique) read with preadv, rows close together in one read: nothing
        is memory-mapped, so the process does not grow by the pages of a 1 GB file it only samples."""
        if self.path is None:
            return np.asarray(self.mat[rows])
        out = np.empty((len(rows), self.dim), np.float16)
        rb = self.dim * 2
        cuts = np.nonzero(np.diff(rows) > 16)[0] + 1
        starts = np.concatenate([[0], cuts]).tolist()
        ends = np.concatenate([cuts, [len(rows)]]).tolist()
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for s0, e0 in zip(starts, ends):
                r0, r1 = int(rows[s0]), int(rows[e0 - 1]) + 1
                if r1 - r0 == e0 - s0:  # a run of consecutive rows: read straight into place
                    view = out[s0:e0]
                else:
                    view = np.empty((r1 - r0, self.dim), np.float16)
                if os.preadv(fd, [memoryview(view.reshape(-1).view(np.uint8))], r0 * rb) != (r1 - r0) * rb:
                    raise OSError(f"{self.path}: embedding rows {r0}-{r1} lie beyond the end of the file")
                if view.base is not out:
                    out[s0:e0] = view[rows[s0:e0] - r0]
        finally:
            os.close(fd)
        return out

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """Unit float32 vectors for rows (all >= 0), in the given order."""
        if len(rows) == 0:
            return np.zeros((0, self.dim), np.float32)
        uniq, inv = np.unique(rows, return_inverse=True)
        out = np.empty((len(uniq), self.dim), np.float32)
        for i in range(0, len(uniq), CHUNK_ROWS):
            out[i : i + CHUNK_ROWS] = self._read_scattered(uniq[i : i + CHUNK_ROWS])
        _normalise(out, inplace=True)
        return out if len(uniq) == len(rows) and np.array_equal(uniq, rows) else out[inv]


def pair_similarities(vec: Vectors, a_ids: list[int], b_ids: list[int]) -> np.ndarray:
    """Cosine similarity of each (a, b) pair; NaN where either has no embedding.

    Each distinct vector is read once: the a side whole (keepers), the b side in row order.
    """
    out = np.full(len(a_ids), np.nan, np.float32)
    if not len(a_ids):
        return out
    ra, rb = vec.rows_of(a_ids), vec.rows_of(b_ids)
    ok = np.nonzero((ra >= 0) & (rb >= 0))[0]
    if not len(ok):
        return out
    ok = ok[np.argsort(rb[ok], kind="stable")]
    for a0 in range(0, len(ok), 262144):  # bounds the a side's float32 copy
        part = ok[a0 : a0 + 262144]
        ua, ia = np.unique(ra[part], return_inverse=True)
        va = vec.gather(ua)
        for i in range(0, len(part), 16384):
            sel = part[i : i + 16384]
            ub, ib = np.unique(rb[sel], return_inverse=True)
            out[sel] = np.einsum("ij,ij->i", va[ia[i : i + 16384]], vec.gather(ub)[ib])
    return out


class _TopK:
    """Running best k (value, column) per query row, merged chunk by chunk.

    The first columns seen fill every row with argpartition; after that only the entries above a
    row's current k-th best are extracted (few, once the thresholds have risen) and merged.
    """

    INIT_COLS = 512

    def __init__(self, nq: int, k: int):
        self.k = k
        self.val = np.full((nq, k), -np.inf, np.float32)
        self.idx = np.full((nq, k), -1, np.int64)
        self.filled = False

    def push(self, scores: np.ndarray, offset: int) -> None:
        if not self.filled:
            init = max(self.k, self.INIT_COLS)
            head = scores[:, :init]
            c = head.shape[1]
            if c > self.k:
                part = np.argpartition(head, c - self.k, axis=1)[:, c - self.k:]
            else:
                part = np.broadcast_to(np.arange(c), head.shape)
            v = np.take_along_axis(head, part, axis=1)
            o = np.argsort(-v, axis=1, kind="stable")
            self.val[:, :c] = np.take_along_axis(v, o, axis=1)[:, : self.k]
            self.idx[:, :c] = (np.take_along_axis(part, o, axis=1) + offset)[:, : self.k]
            self.filled = c >= self.k
            scores, offset = scores[:, c:], offset + c
            if scores.shape[1] == 0:
                return
        thr = self.val[:, -1]
        active = np.nonzero(scores.max(axis=1) > thr)[0]
        if len(active) == 0:
            return
        s = scores if len(active) == len(scores) else scores[active]
        r, col = np.nonzero(s > thr[active, None])
        k = self.k
        rows = np.concatenate([np.repeat(np.arange(len(active)), k), r])
        vals = np.concatenate([self.val[active].ravel(), s[r, col]])
        cols = np.concatenate([self.idx[active].ravel(), col.astype(np.int64) + offset])
        o = np.lexsort((-vals, rows))
        rows, vals, cols = rows[o], vals[o], cols[o]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
        keep = rank < k
        self.val[active[rows[keep]], rank[keep]] = vals[keep]
        self.idx[active[rows[keep]], rank[keep]] = cols[keep]


def _chunks(vec: Vectors, rows: np.ndarray, *, normalise: bool = True):
    """(offset, float32 block) over sorted rows, CHUNK_ROWS at a time."""
    for start in range(0, len(rows), CHUNK_ROWS):
        block = vec.read(rows[start : start + CHUNK_ROWS])
        yield start, (_normalise(block, inplace=True) if normalise else block)


def _stream_topk(queries: np.ndarray, chunks, n: int, k: int, cancel=None) -> tuple[np.ndarray, np.ndarray]:
    """Top k (columns, scores) of queries against a stream of (offset, unit vectors) chunks."""
    batches = [_TopK(len(queries[q0 : q0 + QUERY_BATCH]), k) for q0 in range(0, len(queries), QUERY_BATCH)]
    for offset, block in chunks:
        if cancel is not None:
            cancel.check()
        for b, top in enumerate(batches):
            q0 = b * QUERY_BATCH
            top.push(queries[q0 : q0 + QUERY_BATCH] @ block.T, offset)
    if not batches:
        return np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
    return np.concatenate([t.idx for t in batches]), np.concatenate([t.val for t in batches])


def _principal_basis(vec: Vectors, rows: np.ndarray, dim_out: int, seed: int = 0) -> np.ndarray:
    """An orthonormal basis (dim x dim_out) of the top principal subspace (uncentred) of a sample
    of the originals, by subspace iteration (a few small matrix products, no full eigensolver)."""
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(rows), size=min(len(rows), 8192), replace=False))
    x = vec.gather(rows[take])
    cov = x.T @ x
    q = rng.normal(size=(vec.dim, dim_out))
    cov = cov.astype(np.float64)
    for _ in range(6):
        q = cov @ q
        # orthonormalise through the small Gram matrix (Cholesky QR, twice for accuracy)
        for _twice in range(2):
            q = q @ np.linalg.inv(np.linalg.cholesky(q.T @ q + 1e-12 * np.eye(dim_out)).T)
    return np.ascontiguousarray(q.astype(np.float32))


def _coarse_candidates(qp: np.ndarray, proj: np.ndarray, *, tau: float, cap: int,
                       cancel=None) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (query, column) pairs from the projected vectors: every column above `tau` and
    each chunk's best column, at most `cap` per query (best coarse scores first).

    Only a max-reduction and a comparison per score: no per-row partial sort of the full matrix.
    """
    nq, n = len(qp), len(proj)
    rs, cs, vs = [], [], []
    for s0 in range(0, n, CHUNK_ROWS):
        if cancel is not None:
            cancel.check()
        block = proj[s0 : s0 + CHUNK_ROWS]
        for q0 in range(0, nq, QUERY_BATCH):
            sc = qp[q0 : q0 + QUERY_BATCH] @ block.T
            am = sc.argmax(axis=1)
            idx = np.arange(len(sc))
            mv = sc[idx, am]
            rs.append(idx + q0)
            cs.append(am + s0)
            vs.append(mv)
            rows = np.nonzero(mv > tau)[0]
            if len(rows):
                sub = sc[rows]
                r, c = np.nonzero(sub > tau)
                rs.append(rows[r] + q0)
                cs.append(c + s0)
                vs.append(sub[r, c])
    r = np.concatenate(rs)
    c = np.concatenate(cs).astype(np.int64)
    v = np.concatenate(vs)
    o = np.lexsort((c, -v, r))
    r, c, v = r[o], c[o], v[o]
    dup = np.zeros(len(r), bool)
    dup[1:] = (r[1:] == r[:-1]) & (c[1:] == c[:-1])  # a chunk's best that was also a hit
    r, c = r[~dup], c[~dup]
    rank = np.arange(len(r)) - np.searchsorted(r, r)
    keep = rank < cap
    return r[keep], c[keep]


def _projection(vec: Vectors, crows: np.ndarray, cids: np.ndarray, dim: int, cache_dir, cache_key: str | None,
                cancel=None) -> tuple[np.ndarray, np.ndarray]:
    """(basis, unit projected originals), from the cache when the same embeddings were projected
    before (the cache is keyed on the embeddings' fingerprint and the exact rows searched)."""
    path = key = None
    if cache_dir is not None and cache_key:
        digest = hashlib.blake2b(crows.tobytes() + cids.tobytes(), digest_size=16).hexdigest()
        key = f"{cache_key}|{digest}|{dim}|{vec.dim}"
        path = Path(cache_dir) / f"projection-{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"]) == key and z["proj"].shape == (len(crows), dim):
                    return z["basis"].astype(np.float32), z["proj"].astype(np.float32)
        except (OSError, KeyError, ValueError):
            pass  # no cache yet, or a damaged one: compute it again
    basis = _principal_basis(vec, crows, dim)
    proj = np.empty((len(crows), dim), np.float32)
    for start, block in _chunks(vec, crows, normalise=False):  # the projection is normalised after
        if cancel is not None:
            cancel.check()
        proj[start : start + len(block)] = block @ basis
    _normalise(proj, inplace=True)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            for old in path.parent.glob("projection-*.npz"):  # one cache per library is enough
                old.unlink(missing_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, key=np.array(key), basis=basis, proj=proj.astype(np.float16))
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time
    return basis, proj


def nearest(vec: Vectors, query_ids: list[int], cand_ids: np.ndarray, k: int = 5, *,
            coarse_dim: int = 64, coarse_k: int = 16, coarse_tau: float = 0.7, cache_dir=None,
            cache_key: str | None = None, cancel=None) -> dict[int, list[tuple[int, float]]]:
    """The k most similar candidates (photo id, cosine similarity) for each query photo with an embedding.

    `cand_ids`: the photos to search (the originals); those without an embedding are left out.
    `cache_dir` / `cache_key` (a fingerprint of the stored embeddings): where the projected
    originals of the two-stage search are kept between runs.
    """
    qrows = vec.rows_of(query_ids)
    qsel = np.nonzero(qrows >= 0)[0]
    crows_all = vec.rows_of(cand_ids)
    have = crows_all >= 0
    cids = np.asarray(cand_ids, dtype=np.int64)[have]
    crows = crows_all[have]
    if len(qsel) == 0 or len(cids) == 0:
        return {}
    order = np.argsort(crows)  # read the row file front to back
    cids, crows = cids[order], crows[order]
    queries = vec.gather(qrows[qsel])
    nq, n = len(queries), len(crows)
    k = min(k, n)
    dim = min(coarse_dim, vec.dim)
    cached = False
    if cache_dir is not None and cache_key and n >= TWO_STAGE_MIN:
        cached = any(Path(cache_dir).glob("projection-*.npz"))
    if n < TWO_STAGE_MIN or (nq * n * vec.dim <= EXACT_WORK_LIMIT and not cached):
        cols, sims = _stream_topk(queries, _chunks(vec, crows), n, k, cancel)
    else:
        basis, proj = _projection(vec, crows, cids, dim, cache_dir, cache_key, cancel)
        qp = _normalise(queries @ basis)
        qr, qc = _coarse_candidates(qp, proj, tau=coarse_tau, cap=coarse_k, cancel=cancel)
        del proj
        # exact cosine of every candidate pair, then the best k per query
        exact = np.empty(len(qr), np.float32)
        for p0 in range(0, len(qr), 16384):
            sl = slice(p0, p0 + 16384)
            exact[sl] = np.einsum("ij,ij->i", vec.gather(crows[qc[sl]]), queries[qr[sl]])
        o = np.lexsort((-exact, qr))
        qr, qc, exact = qr[o], qc[o], exact[o]
        rank = np.arange(len(qr)) - np.searchsorted(qr, qr)
        keep = rank < k
        cols = np.full((nq, k), -1, np.int64)
        sims = np.full((nq, k), -np.inf, np.float32)
        cols[qr[keep], rank[keep]] = qc[keep]
        sims[qr[keep], rank[keep]] = exact[keep]
    out: dict[int, list[tuple[int, float]]] = {}
    for qi, pid in enumerate(np.asarray(query_ids)[qsel].tolist()):
        out[int(pid)] = [(int(cids[c]), float(s)) for c, s in zip(cols[qi], sims[qi]) if c >= 0]
    return out
