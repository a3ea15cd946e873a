"""The own raw scores saved with the active model: scoring predicts only the photos whose inputs
changed, gives exactly the scores it gives without the cache, and falls back when the cache is
gone or damaged."""

from __future__ import annotations

import numpy as np
import pytest

import modelgen
from fluxcull.jobs import run_job
from fluxcull.keeper import score as score_mod
from fluxcull.keeper import score_cache
from fluxcull.keeper.score import compute_scores, load_scoring_model
from fluxcull.keeper.train import train_job


@pytest.fixture
def trained(tmp_path):
    t = modelgen.trained(tmp_path, model_kind="gbt")
    yield t
    t["conn"].close()


@pytest.fixture
def predicted(monkeypatch):
    """How many rows the scoring model predicted (rather than read from the cache)."""
    rows = []
    real_all, real_at = score_mod.raw_scores_chunked, score_mod.raw_scores_at

    def all_rows(kind, p, x, *a, **kw):
        rows.append(len(x))
        return real_all(kind, p, x, *a, **kw)

    def some_rows(kind, p, x, k, at, *a, **kw):
        rows.append(len(at))
        return real_at(kind, p, x, k, at, *a, **kw)

    monkeypatch.setattr(score_mod, "raw_scores_chunked", all_rows)
    monkeypatch.setattr(score_mod, "raw_scores_at", some_rows)
    return rows


def _without_cache(lib, conn):
    model = load_scoring_model(lib, conn)
    model._raw_cache = score_cache.RawScoreCache(np.zeros(0, np.uint64), np.zeros(0))
    return compute_scores(lib, conn, model)


def test_row_keys_tell_rows_apart_and_are_stable():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 37)).astype(np.float32)
    keys = score_cache.row_keys(x)
    assert len(np.unique(keys)) == len(x)
    np.testing.assert_array_equal(keys, score_cache.row_keys(x.copy()))
    y = x.copy()
    y[7, 30] = np.nextafter(y[7, 30], np.float32(np.inf))  # one bit of one input
    changed = score_cache.row_keys(y) != keys
    assert changed.tolist() == [i == 7 for i in range(len(x))]
    nan = x.copy()
    nan[3, 0] = np.nan
    assert score_cache.row_keys(nan)[3] != keys[3]


def test_scoring_after_training_predicts_nothing_and_scores_as_without_the_cache(trained, predicted):
    lib, conn, g = trained["lib"], trained["conn"], trained["g"]
    model = load_scoring_model(lib, conn)
    cache = score_cache.load(model.saved.path)
    assert cache is not None and len(cache.keys) == len(g["ids"])
    cached = compute_scores(lib, conn, model)
    assert predicted == []
    fresh = _without_cache(lib, conn)
    assert predicted == [len(g["ids"])]
    np.testing.assert_array_equal(cached["scores"], fresh["scores"])


def test_photos_whose_inputs_changed_are_predicted_again(trained, predicted):
    lib, conn, g = trained["lib"], trained["conn"], trained["g"]
    victim = int(g["ids"][10])
    g["store"].write([victim], (g["emb"][10] * -1.0 + 0.5).astype(np.float16)[None])  # re-embedded
    cached = compute_scores(lib, conn, load_scoring_model(lib, conn))
    # the photo itself and the photos whose context it is part of (its session's centroid moved)
    assert len(predicted) == 1 and 1 <= predicted[0] < len(g["ids"])
    np.testing.assert_array_equal(cached["scores"], _without_cache(lib, conn)["scores"])


def test_a_missing_or_damaged_cache_only_costs_time(trained):
    lib, conn = trained["lib"], trained["conn"]
    want = _without_cache(lib, conn)["scores"]
    folder = load_scoring_model(lib, conn).saved.path / score_cache.FOLDER
    (folder / "keys.npy").write_bytes(b"not an array")
    assert score_cache.load(folder.parent) is None
    np.testing.assert_array_equal(compute_scores(lib, conn, load_scoring_model(lib, conn))["scores"], want)


def test_only_the_active_version_keeps_a_cache(trained):
    lib, conn = trained["lib"], trained["conn"]
    first = load_scoring_model(lib, conn).saved.path
    run_job(train_job(lib, seed=1, force=True, model_kind="gbt"))
    second = load_scoring_model(lib, conn).saved.path
    assert second != first
    assert (second / score_cache.FOLDER).is_dir() and not (first / score_cache.FOLDER).exists()
