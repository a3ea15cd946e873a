"""Nearest-neighbour search over stored embeddings: exact and two-stage paths agree with brute force."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fluxcull.catalog import transaction
from fluxcull.embedding.store import EmbeddingStore
from fluxcull.matching import similarity as S


@pytest.fixture
def stored(library, conn):
    rng = np.random.default_rng(3)
    n, dim = 3000, 48
    with transaction(conn):
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, sha256) VALUES (?, ?, 'originals', 1, 1, ?)",
            [(i + 1, f"/o/{i}.jpg", f"s{i}") for i in range(n)],
        )
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    store = EmbeddingStore(conn, library.embeddings_dir, "bb", dim)
    # written in shuffled order so rows and ids differ
    order = rng.permutation(n)
    for i in range(0, n, 700):
        sel = order[i : i + 700]
        store.write([int(s) + 1 for s in sel], x[sel])
    # queries: noisy copies of some originals, plus pure noise
    q_src = rng.choice(n, 60, replace=False)
    q = x[q_src] + rng.normal(scale=0.05, size=(60, dim)).astype(np.float32)
    with transaction(conn):
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, sha256) VALUES (?, ?, 'keepers', 1, 1, ?)",
            [(10001 + j, f"/k/{j}.jpg", f"k{j}") for j in range(60)],
        )
    store.write([10001 + j for j in range(60)], q)
    return store, x, q_src


def _brute(store, x, qids, cand):
    v = S.Vectors.from_store(store)
    qv = v.gather(v.rows_of(qids))
    cv = v.gather(v.rows_of(cand))
    sims = qv @ cv.T
    order = np.argsort(-sims, axis=1)[:, :5]
    return [[int(cand[c]) for c in row] for row in order]


@pytest.mark.parametrize("two_stage", [False, True])
def test_nearest_matches_brute_force(stored, monkeypatch, two_stage):
    store, x, q_src = stored
    if two_stage:
        monkeypatch.setattr(S, "EXACT_WORK_LIMIT", 0)
        monkeypatch.setattr(S, "TWO_STAGE_MIN", 0)
    monkeypatch.setattr(S, "CHUNK_ROWS", 512)  # many chunks
    vec = S.Vectors.from_store(store)
    qids = [10001 + j for j in range(60)]
    cand = np.arange(1, 3001)
    got = S.nearest(vec, qids, cand, k=5, coarse_dim=24, coarse_k=40)
    want = _brute(store, x, qids, cand)
    for j, qid in enumerate(qids):
        ids = [o for o, _ in got[qid]]
        assert ids[0] == int(q_src[j]) + 1  # the noisy copy finds its source
        if not two_stage:
            assert ids == want[j]
        sims = [s for _, s in got[qid]]
        assert sims == sorted(sims, reverse=True)


def test_nearest_skips_photos_without_embeddings(stored):
    store, x, q_src = stored
    vec = S.Vectors.from_store(store)
    got = S.nearest(vec, [10001, 99999], np.array([1, 2, 3, 88888]), k=5)
    assert set(got) == {10001} and len(got[10001]) == 3


def test_pair_similarities_nan_where_missing(stored):
    store, x, _ = stored
    vec = S.Vectors.from_store(store)
    sims = S.pair_similarities(vec, [1, 1, 5], [1, 2, 77777])
    assert sims[0] == pytest.approx(1.0, abs=1e-3)
    assert sims[1] == pytest.approx(float(x[0] @ x[1]), abs=2e-3)
    assert np.isnan(sims[2])


def test_topk_merge_is_exact_across_chunks():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(50, 16)).astype(np.float32)
    x = rng.normal(size=(5000, 16)).astype(np.float32)
    idx, val = S._stream_topk(q, ((s, x[s : s + 700]) for s in range(0, 5000, 700)), 5000, 7)
    full = q @ x.T
    ref = np.argsort(-full, axis=1)[:, :7]
    assert (idx == ref).all()


def test_matching_does_not_import_torch_or_qt(stored, library):
    code = (
        "import sys\n"
        "from fluxcull.library import Library\n"
        "from fluxcull.jobs import run_job\n"
        "from fluxcull.matching import match_job\n"
        f"run_job(match_job(Library.open({str(library.root)!r})))\n"
        "bad = [m for m in ('torch', 'PySide6', 'torchvision') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "assert 'fluxcull.embedding.store' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_projection_cache_is_reused_and_keyed_on_the_embeddings(stored, monkeypatch, tmp_path):
    store, x, q_src = stored
    monkeypatch.setattr(S, "TWO_STAGE_MIN", 0)
    vec = S.Vectors.from_store(store)
    qids = [10001 + j for j in range(10)]
    cand = np.arange(1, 3001)
    cache = tmp_path / "cache"
    calls = []
    real = S._principal_basis
    monkeypatch.setattr(S, "_principal_basis", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    monkeypatch.setattr(S, "EXACT_WORK_LIMIT", 0)  # a large search: two-stage, which fills the cache
    first = S.nearest(vec, qids, cand, k=3, coarse_dim=24, cache_dir=cache, cache_key="emb-v1")
    assert len(calls) == 1 and len(list(cache.glob("projection-*.npz"))) == 1
    # a later run with few keepers uses the two-stage search too, from the cache
    monkeypatch.setattr(S, "EXACT_WORK_LIMIT", 1e12)
    again = S.nearest(vec, qids, cand, k=3, coarse_dim=24, cache_dir=cache, cache_key="emb-v1")
    assert len(calls) == 1
    assert [[o for o, _ in again[q]] for q in qids] == [[o for o, _ in first[q]] for q in qids]
    for q in qids:
        np.testing.assert_allclose([s for _, s in again[q]], [s for _, s in first[q]], atol=1e-6)
    # new embeddings (another fingerprint) or other originals: projected again, one file kept
    S.nearest(vec, qids, cand, k=3, coarse_dim=24, cache_dir=cache, cache_key="emb-v2")
    S.nearest(vec, qids, cand[:-5], k=3, coarse_dim=24, cache_dir=cache, cache_key="emb-v2")
    assert len(calls) == 3 and len(list(cache.glob("projection-*.npz"))) == 1
