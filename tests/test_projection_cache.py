"""The projection saved with the active model: scoring reuses it for unchanged embeddings only, gives
the same scores as projecting every embedding, and falls back when the cache is gone or damaged."""

from __future__ import annotations

import numpy as np
import pytest

import modelgen
from fluxcull.jobs import run_job
from fluxcull.keeper import projection_cache
from fluxcull.keeper.inputs import prepare
from fluxcull.keeper.score import compute_scores, load_scoring_model
from fluxcull.keeper.train import train_job


@pytest.fixture
def trained(tmp_path):
    t = modelgen.trained(tmp_path)
    yield t
    t["conn"].close()


def _fresh(lib, conn, model):
    """Scores computed with every embedding projected from the store (no cache)."""
    prep = prepare(lib, conn, transform=model.transform, cache=None)
    assert prep.timings["projection_reused"] == 0
    return compute_scores(lib, conn, model, prep=prep)


def test_scoring_reuses_the_projection_and_scores_exactly_as_without_it(trained):
    lib, conn, g = trained["lib"], trained["conn"], trained["g"]
    model = load_scoring_model(lib, conn)
    cache = projection_cache.load(model.saved.path)
    assert cache is not None and len(cache.ids) == len(g["ids"])
    prep = prepare(lib, conn, transform=model.transform, cache=cache)
    assert prep.timings["projection_reused"] == len(g["ids"])
    cached = compute_scores(lib, conn, model, prep=prep)
    fresh = _fresh(lib, conn, model)
    assert np.array_equal(cached["ids"], fresh["ids"])
    np.testing.assert_array_equal(cached["scores"], fresh["scores"])
    np.testing.assert_array_equal(prep.adjacent[1:], _fresh_prep_adjacent(lib, conn, model)[1:])


def _fresh_prep_adjacent(lib, conn, model):
    return prepare(lib, conn, transform=model.transform, cache=None).adjacent


def test_a_photo_with_a_new_embedding_is_projected_again(trained):
    lib, conn, g = trained["lib"], trained["conn"], trained["g"]
    model = load_scoring_model(lib, conn)
    victim = int(g["ids"][10])
    new_vec = (g["emb"][10] * -1.0 + 0.5).astype(np.float16)
    g["store"].write([victim], new_vec[None])  # re-embedded: a new row, a new checksum
    prep = prepare(lib, conn, transform=model.transform, cache=projection_cache.load(model.saved.path))
    assert prep.timings["projection_reused"] == len(g["ids"]) - 1
    at = int(np.searchsorted(prep.corpus.ids, victim))
    v = new_vec.astype(np.float32)
    v /= np.linalg.norm(v)
    np.testing.assert_allclose(prep.x[at, :model.transform.n_components], model.transform.project(v[None])[0],
                               rtol=1e-5, atol=1e-5)
    fresh = _fresh(lib, conn, model)
    np.testing.assert_array_equal(compute_scores(lib, conn, model, prep=prep)["scores"], fresh["scores"])
    # its cosines to the photos before it and theirs to it (up to two after) are computed again
    np.testing.assert_array_equal(prep.adjacent[1:], _fresh_prep_adjacent(lib, conn, model)[1:])


def test_the_cosines_to_the_two_photos_before_are_those_of_the_embeddings(trained, monkeypatch):
    """Streamed in blocks (of 3 here, so every way a block boundary falls is crossed), from the cache,
    or from a cache written before the second column: the same cosines as the embeddings give."""
    from fluxcull.keeper import inputs
    from fluxcull.keeper.dataset import read_embeddings

    lib, conn = trained["lib"], trained["conn"]
    model = load_scoring_model(lib, conn)
    monkeypatch.setattr(inputs, "read_embeddings", lambda store, rows, chunk=3: read_embeddings(store, rows, chunk=3))
    streamed = prepare(lib, conn, transform=model.transform, cache=None)
    monkeypatch.undo()
    unit = np.concatenate([b for _, b in read_embeddings(streamed.store, streamed.corpus.rows)])
    assert streamed.adjacent.shape == (len(unit), 2) and np.isnan(streamed.adjacent[0]).all()
    np.testing.assert_allclose(streamed.adjacent[1:, 0], np.einsum("ij,ij->i", unit[1:], unit[:-1]), atol=1e-6)
    assert np.isnan(streamed.adjacent[1, 1])
    np.testing.assert_allclose(streamed.adjacent[2:, 1], np.einsum("ij,ij->i", unit[2:], unit[:-2]), atol=1e-6)
    cache = projection_cache.load(model.saved.path)
    assert cache.adjacent.shape == (len(unit), 2)
    np.testing.assert_array_equal(prepare(lib, conn, transform=model.transform, cache=cache).adjacent[1:],
                                  _fresh_prep_adjacent(lib, conn, model)[1:])
    old = projection_cache.ProjectionCache(cache.ids, cache.keys, cache.z, np.asarray(cache.adjacent[:, 0]), cache.prev)
    from_old = prepare(lib, conn, transform=model.transform, cache=old)
    assert from_old.timings["projection_reused"] == len(unit)
    np.testing.assert_array_equal(from_old.adjacent[1:], _fresh_prep_adjacent(lib, conn, model)[1:])


def test_a_missing_or_damaged_cache_only_costs_time(trained):
    lib, conn = trained["lib"], trained["conn"]
    model = load_scoring_model(lib, conn)
    want = _fresh(lib, conn, model)["scores"]
    (model.saved.path / projection_cache.FOLDER / "z.npy").write_bytes(b"not an array")
    assert projection_cache.load(model.saved.path) is None
    np.testing.assert_array_equal(compute_scores(lib, conn, load_scoring_model(lib, conn))["scores"], want)


def test_only_the_active_version_keeps_a_cache(trained):
    lib, conn = trained["lib"], trained["conn"]
    first = load_scoring_model(lib, conn).saved.path
    run_job(train_job(lib, seed=1, force=True))
    second = load_scoring_model(lib, conn).saved.path
    assert second != first
    assert (second / projection_cache.FOLDER).is_dir() and not (first / projection_cache.FOLDER).exists()


def test_a_retrain_on_the_same_photos_reads_the_projection_and_trains_the_same_model(trained):
    from fluxcull.keeper.train import active_projection

    lib, conn, g = trained["lib"], trained["conn"], trained["g"]
    reuse = active_projection(lib, conn)
    assert reuse is not None and reuse[1] is not None
    reused = prepare(lib, conn, seed=0, reuse=reuse)
    fresh = prepare(lib, conn, seed=0)
    assert reused.timings["projection_reused"] == len(g["ids"]) and fresh.timings["projection_reused"] == 0
    np.testing.assert_array_equal(reused.x, fresh.x)
    np.testing.assert_array_equal(reused.adjacent[1:], fresh.adjacent[1:])
    s = run_job(train_job(lib, seed=0, force=True))
    assert s["timings"]["prepare"]["projection_reused"] == len(g["ids"])
    # a re-embedded photo moves the principal components: another projection, every photo projected afresh
    g["store"].write([int(g["ids"][3])], (g["emb"][3] * -1.0 + 0.5).astype(np.float16)[None])
    moved = prepare(lib, conn, seed=0, reuse=active_projection(lib, conn))
    assert moved.timings["projection_reused"] == 0
    np.testing.assert_array_equal(moved.x, prepare(lib, conn, seed=0).x)
