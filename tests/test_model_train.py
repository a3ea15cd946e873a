"""The keeper model end to end on synthetic libraries with a planted taste: it learns, beats the
baselines, is calibrated on photos it never saw, follows new decisions, is deterministic, and
refuses embeddings it was not trained on."""

from __future__ import annotations

import json

import numpy as np
import pytest

import modelgen
from fluxcull.catalog import transaction
from fluxcull.catalog.decisions import decide
from fluxcull.jobs import run_job
from fluxcull.keeper import evaluate as ev
from fluxcull.keeper.models_store import ModelMismatch, list_versions, load_version
from fluxcull.keeper.score import score_job
from fluxcull.keeper.train import train_job
from fluxcull.library import Library


def _scores(conn, ids):
    got = dict(conn.execute("SELECT id, keeper_score FROM photos").fetchall())
    return np.array([np.nan if got[int(i)] is None else got[int(i)] for i in ids])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Originals with linked keepers (taste: a hidden direction + sharpness) and an unreviewed inbox
    of the same photographer, trained once."""
    lib = Library.open(tmp_path_factory.mktemp("lib"))
    conn = lib.connect()
    orig = modelgen.build(lib, conn, n=1500, sessions=30, seed=1)
    inbox = modelgen.build(lib, conn, n=800, sessions=16, seed=2, taste_seed=1, role="inbox", start=1.75e9)
    modelgen.link_keepers(conn, orig["ids"][orig["keeper"]])
    summary = run_job(train_job(lib, seed=0))
    yield {"lib": lib, "conn": conn, "orig": orig, "inbox": inbox, "summary": summary}
    conn.close()


def _row(summary, split, method):
    return next(r for r in summary["metrics_table"] if r["split"] == split and r["method"].rstrip(" *") == method)


def test_model_beats_random_and_single_feature_baselines_on_held_out_sessions(trained):
    s = trained["summary"]
    assert s["activated"] and s["version"] == s["active_version"]
    for split in ("random_by_session", "by_time"):
        model = _row(s, split, "linear")
        for base, margin in (("random", 0.25), ("sharpness", 0.08), ("exposure", 0.25), ("centroid", 0.03)):
            b = _row(s, split, base)
            assert model["roc_auc"] >= b["roc_auc"] + margin, (split, base, model, b)
            assert model["pairwise_accuracy"] >= b["pairwise_accuracy"] + margin / 2, (split, base)
        assert model["recall_top20"] > 0.6
    # the table is stored with the version
    stored = list_versions(trained["conn"])[-1]
    assert stored["metrics"]["table"] == s["metrics_table"]
    assert "random_by_session" in ev.format_table(s["metrics_table"])


def test_scores_on_unseen_inbox_are_calibrated_and_in_the_spec_bands(trained):
    conn, inbox, orig = trained["conn"], trained["inbox"], trained["orig"]
    p = _scores(conn, inbox["ids"])
    y = inbox["keeper"]
    assert np.isfinite(p).all() and (p > 0).all() and (p < 1).all()
    assert ev.roc_auc(p, y) > 0.85
    # calibrated: predicted probabilities match the keeper rate of photos the model never saw
    from fluxcull.keeper.calibrate import expected_calibration_error

    assert expected_calibration_error(p, y) < 0.06
    assert abs(p.mean() - y.mean()) < 0.04
    high = p >= 0.5
    assert y[high].mean() > 0.5 > y[~high].mean()
    # confirmed keepers 1.0, keeper-archive files 1.0
    assert (_scores(conn, orig["ids"][orig["keeper"]]) == 1.0).all()
    n_arch = conn.execute("SELECT COUNT(*) FROM photos WHERE role = 'keepers' AND keeper_score = 1.0").fetchone()[0]
    assert n_arch == orig["keeper"].sum()
    cal = trained["summary"]["calibration"]
    assert cal["ece"] < 0.05 and len(cal["reliability"]) == 10


def test_retraining_after_new_decisions_moves_scores_the_right_way(tmp_path):
    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=900, sessions=18, seed=5)
    inbox = modelgen.build(lib, conn, n=400, sessions=8, seed=6, taste_seed=5, role="inbox", start=1.75e9)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    run_job(train_job(lib, seed=0))
    # the photographer's taste shifts: photos along a new direction get kept, their opposites rejected
    rng = np.random.default_rng(0)
    v = rng.normal(size=g["emb"].shape[1])
    v -= (v @ g["taste"]) * g["taste"]
    v /= np.linalg.norm(v)
    along = g["emb"] @ v
    cand = np.flatnonzero(~g["keeper"])
    order = cand[np.argsort(-along[cand])]
    keep_idx, reject_idx = order[:60], order[-60:]
    watch = inbox["emb"] @ v
    up = inbox["ids"][np.argsort(-watch)[:40]]
    down = inbox["ids"][np.argsort(watch)[:40]]
    before_up, before_down = _scores(conn, up), _scores(conn, down)
    rank_before = _inbox_rank(conn, inbox["ids"], down)
    decide(conn, g["ids"][keep_idx].tolist(), "keep", "test")
    decide(conn, g["ids"][reject_idx].tolist(), "reject", "test")
    s = run_job(train_job(lib, seed=0, force=True))
    assert s["activated"] and s["data"]["decided_keep"] == 60 and s["data"]["decided_reject"] == 60
    after_up, after_down = _scores(conn, up), _scores(conn, down)
    assert np.median(after_up) > np.median(before_up) * 1.5
    # the opposite photos sink among the inbox (their probabilities sit near the floor, 0.01-0.05,
    # where a retrain's recalibration moves every photo: their rank in the inbox is what says it)
    assert _inbox_rank(conn, inbox["ids"], down) < rank_before - 0.1
    assert (_scores(conn, g["ids"][keep_idx]) == 1.0).all()
    assert (_scores(conn, g["ids"][reject_idx]) == 0.0).all()
    conn.close()


def _inbox_rank(conn, inbox_ids, ids) -> float:
    """Mean share of the inbox scored below each of `ids`."""
    every = _scores(conn, inbox_ids)
    return float(np.mean([(every < v).mean() for v in _scores(conn, ids)]))


def test_training_is_deterministic_for_a_seed(tmp_path):
    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=400, sessions=10, seed=3)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    for kind in ("linear", "gbt"):
        a = run_job(train_job(lib, seed=7, score=False, model_kind=kind))
        b = run_job(train_job(lib, seed=7, score=False, model_kind=kind))
        c = run_job(train_job(lib, seed=8, score=False, model_kind=kind))
        ma, mb, mc = (load_version(lib, conn, x["version"]) for x in (a, b, c))
        for k in ma.arrays:
            np.testing.assert_array_equal(ma.arrays[k], mb.arrays[k], err_msg=k)
        assert ma.texts == mb.texts
        assert a["metrics_table"] == b["metrics_table"]
        if kind == "linear":
            assert not np.array_equal(ma.arrays["m_w"], mc.arrays["m_w"])
        else:
            assert ma.texts["booster"] != mc.texts["booster"]
    conn.close()


def test_scoring_refuses_a_model_trained_on_other_embeddings_or_features(trained, tmp_path):
    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=300, sessions=8, seed=4)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    run_job(train_job(lib, seed=0))
    # the library switches to another backbone (its embeddings now the active ones)
    from fluxcull.embedding.store import EmbeddingStore

    other = EmbeddingStore(conn, lib.embeddings_dir, "other-net@2", 16)
    other.write(g["ids"].tolist(), np.ones((len(g["ids"]), 16), np.float32))
    lib.set_setting(conn, "backbone", "other-net@2")
    before = _scores(conn, g["ids"])
    with pytest.raises(ModelMismatch, match="synthetic@1.*other-net@2"):
        run_job(score_job(lib))
    np.testing.assert_array_equal(_scores(conn, g["ids"]), before)  # nothing overwritten
    # back on the right backbone, but the model's feature schema is an old one
    lib.set_setting(conn, "backbone", modelgen.BACKBONE)
    with transaction(conn):
        conn.execute("UPDATE model_versions SET feature_schema = 'fx0-old'")
    with pytest.raises(ModelMismatch, match="feature schema fx0-old"):
        run_job(score_job(lib))
    conn.close()


def test_a_worse_model_is_saved_but_not_activated_unless_forced(trained):
    lib, conn = trained["lib"], trained["conn"]
    s = run_job(train_job(lib, model_kind="centroid", seed=0))
    assert not s["activated"] and "worse" in s["reason"]
    assert s["previous_metrics"]["table"] == trained["summary"]["metrics_table"]
    actives = [v["id"] for v in list_versions(conn) if v["active"]]
    assert actives == [trained["summary"]["version"]]
    f = run_job(train_job(lib, model_kind="centroid", seed=0, force=True, score=False))
    assert f["activated"]
    assert [v["id"] for v in list_versions(conn) if v["active"]] == [f["version"]]
    # back to the pairwise model for the other tests of this module
    from fluxcull.keeper.models_store import activate_version

    activate_version(conn, trained["summary"]["version"])


def test_model_files_are_plain_arrays_and_json(trained):
    lib, conn = trained["lib"], trained["conn"]
    m = load_version(lib, conn)
    with np.load(m.path / "model.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    desc = json.loads((m.path / "model.json").read_text())
    assert desc["backbone_id"] == modelgen.BACKBONE and desc["kind"] in ("linear", "gbt")
    assert desc["training"]["data"]["positives"] == trained["orig"]["keeper"].sum()


def test_explain_names_the_rule_the_nearest_keepers_and_the_inputs(trained):
    from fluxcull.keeper.explain import explain

    lib, inbox, orig = trained["lib"], trained["inbox"], trained["orig"]
    pid = int(inbox["ids"][np.argmax(inbox["utility"])])
    r = explain(lib, pid)
    assert r["reason"] == "keeper model" and r["band"] in ("high", "uncertain", "low")
    assert abs(r["model_score"] - r["score"]) < 1e-5
    assert len(r["nearest_keepers"]) == 5
    keeper_ids = set(orig["ids"][orig["keeper"]].tolist())
    assert all(k["id"] in keeper_ids for k in r["nearest_keepers"])
    sims = [k["similarity"] for k in r["nearest_keepers"]]
    assert sims == sorted(sims, reverse=True)
    inputs = [c["input"] for c in r["contributions"]]
    assert "appearance (embedding)" in inputs and "sharpness_laplacian" in inputs
    kept = explain(lib, int(orig["ids"][orig["keeper"]][0]))
    assert kept["score"] == 1.0 and kept["band"] == "confirmed" and "confirmed keeper" in kept["reason"]


def test_cold_start_with_thirty_keepers_among_thousands(tmp_path):
    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=3000, sessions=30, seed=11, keep_rate=0.01)
    assert g["keeper"].sum() == 30
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    s = run_job(train_job(lib, seed=0))
    assert s["activated"] and s["data"]["positives"] == 30
    assert s["calibration"]["method"] == "platt"  # too few held-out keepers for isotonic
    assert _row(s, "random_by_session", "linear")["roc_auc"] > _row(s, "random_by_session", "random")["roc_auc"] + 0.2
    p = _scores(conn, g["ids"][~g["keeper"]])
    assert np.isfinite(p).all() and 0.0 < p.min() and p.max() < 1.0
    # probabilities stay near the 1% keeper rate on average: no inflated bands from a cold start
    assert p.mean() < 0.05
    conn.close()


def test_clear_errors_without_keepers_or_embeddings(tmp_path):
    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    with pytest.raises(LookupError, match="fluxcull train"):
        run_job(score_job(lib))
    with pytest.raises(ValueError, match="fluxcull embed"):
        run_job(train_job(lib))
    g = modelgen.build(lib, conn, n=100, sessions=4, seed=12)
    with pytest.raises(ValueError, match="keepers"):
        run_job(train_job(lib))
    assert conn.execute("SELECT COUNT(*) FROM model_versions").fetchone()[0] == 0
    conn.close()


@pytest.mark.parametrize("kind", ["linear", "gbt"])
def test_side_by_side_choices_between_unlabelled_photos_are_learned(tmp_path, kind):
    from fluxcull.catalog.decisions import prefer
    from fluxcull.keeper.inputs import prepare
    from fluxcull.keeper.score import load_scoring_model

    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=600, sessions=12, seed=21)
    inbox = modelgen.build(lib, conn, n=200, sessions=4, seed=22, taste_seed=21, role="inbox", start=1.75e9)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])

    def gaps(pairs):
        m = load_scoring_model(lib, conn)
        prep = prepare(lib, conn, transform=m.transform)
        raw = m.raw(prep.x)
        pos = prep.corpus.index_of(np.asarray(pairs).ravel()).reshape(-1, 2)
        return raw[pos[:, 0]] - raw[pos[:, 1]]

    run_job(train_job(lib, seed=0, score=False, model_kind=kind))
    # the photographer picks, in 15 same-session comparisons, the photo the model ranks lower
    rng = np.random.default_rng(0)
    pairs = []
    for s in range(4):
        idx = np.flatnonzero(inbox["sess"] == s)
        for _ in range(4 if s else 3):
            a, b = rng.choice(idx, 2, replace=False)
            pairs.append((int(inbox["ids"][a]), int(inbox["ids"][b])))
    before = gaps(pairs)
    pairs = [(a, b) if gap < 0 else (b, a) for (a, b), gap in zip(pairs, before)]
    before = gaps(pairs)
    for w, l in pairs:
        prefer(conn, w, l, "compare")
    s = run_job(train_job(lib, seed=0, score=False, force=True, model_kind=kind))
    if kind == "linear":
        assert s["fit"]["pair_kinds"]["preference"] == len(pairs)
    else:
        assert s["fit"]["preferences"] == len(pairs)
    after = gaps(pairs)
    assert (after > before).mean() >= 0.8 and np.median(after - before) > 0
    conn.close()


def _tiny_library(tmp_path, seed):
    """About ten keepers, and one photo alone in a session of its own; trained once."""
    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=120, sessions=8, keep_rate=0.08, seed=seed)
    lone = int(modelgen.build(lib, conn, n=1, sessions=1, seed=100 + seed, start=1.7e9)["ids"][0])
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    first = run_job(train_job(lib, seed=0))
    assert first["data"]["positives"] < 20  # a handful of keepers

    def lone_rank():
        """(fraction of the free originals scoring below the lone photo, its score)"""
        free = np.array([r[0] for r in conn.execute(
            "SELECT keeper_score FROM photos WHERE role = 'originals' AND decision = 'none' AND id NOT IN"
            " (SELECT original_id FROM keeper_links)")])
        score = float(_scores(conn, [lone])[0])
        return float((free < score).mean()), score

    pick = np.random.default_rng(seed).choice(np.flatnonzero(~g["keeper"]), 5, replace=False)
    return lib, conn, g, first, lone_rank, pick


def _two_keeps_three_rejects(lib, conn, g, pick):
    decide(conn, g["ids"][pick[:2]].tolist(), "keep", "test")
    decide(conn, g["ids"][pick[2:]].tolist(), "reject", "test")
    again = run_job(train_job(lib, seed=0))
    # the decisions themselves are in the scores at once, whatever the model
    assert (_scores(conn, g["ids"][pick[:2]]) == 1.0).all() and (_scores(conn, g["ids"][pick[2:]]) == 0.0).all()
    return again


def test_a_photo_alone_in_its_session_is_not_put_at_the_top(tmp_path):
    """Issue finding 4: after 2 keeps, 3 rejects and a retrain, an unrelated photo alone in its
    session went to the top (0.995, its top input the session's length)."""
    lib, conn, g, first, lone_rank, pick = _tiny_library(tmp_path, seed=0)
    # it has nothing to be typical of: no top rank and no keeper's score from that. (With ten keepers
    # the free photos' scores nearly tie: 0.078 median, 0.081 at the 90th percentile, so a rank
    # bound tighter than the top twentieth reads noise.)
    rank, score = lone_rank()
    assert rank < 0.95 and score < 0.5
    _two_keeps_three_rejects(lib, conn, g, pick)
    rank, score = lone_rank()
    assert rank < 0.95 and score < 0.5
    conn.close()


def test_explain_reads_a_photo_alone_in_its_session(tmp_path):
    """Explaining a photo that is its session's only one prepared a corpus of one photo, which took
    the path for a mostly cached projection without a cache (AttributeError on None)."""
    from fluxcull.keeper.explain import explain

    lib, conn, g, first, lone_rank, pick = _tiny_library(tmp_path, seed=0)
    lone = conn.execute("SELECT id FROM photos WHERE role = 'originals' AND session_id IN (SELECT session_id"
                        " FROM photos GROUP BY session_id HAVING COUNT(*) = 1)").fetchone()[0]
    r = explain(lib, int(lone))
    assert r["score"] == pytest.approx(_scores(conn, [lone])[0], abs=1e-6)
    conn.close()


def test_a_tiny_data_retrain_without_a_real_improvement_keeps_the_model_in_use(tmp_path):
    """Issue finding 4: the guard said "not worse (0.828 vs 0.828)" and activated a retrain on five
    new decisions (here a worse one: 0.647 against 0.678 was within the few-keepers margin)."""
    lib, conn, g, first, lone_rank, pick = _tiny_library(tmp_path, seed=1)
    second = _two_keeps_three_rejects(lib, conn, g, pick)
    assert not second["activated"] and second["active_version"] == first["version"]
    assert "must be clearly better" in second["reason"] and f"kept v{first['version']}" in second["reason"]
    conn.close()


def test_a_huge_library_is_evaluated_on_one_held_out_half_of_its_sessions(tmp_path, monkeypatch):
    """Above evaluate.HUGE labelled photos the random-by-session split tests one of two folds: one
    model fewer per method, still tested on half the sessions, and the calibrator is fitted on them."""
    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=900, sessions=18, seed=5)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    monkeypatch.setattr(ev, "LARGE", 100)
    monkeypatch.setattr(ev, "HUGE", 500)
    fits = []
    real_fit = ev.fit_model
    monkeypatch.setattr(ev, "fit_model", lambda prep, kind, train, **kw: fits.append((kind, int(train.sum())))
                        or real_fit(prep, kind, train, **kw))
    steps = []
    s = run_job(train_job(lib, model_kind="gbt", seed=0),
                on_progress=lambda p: steps.append(p) if p.stage == "evaluate" else None)
    split = s["metrics_table"]
    row = _row(s, "random_by_session", "gbt")
    assert 300 < row["n_test"] < 600 and row["n_keepers"] > 5  # about half of the ~900 labelled photos
    held_out = [n for kind, n in fits if kind == "gbt"]
    assert len(held_out) == 2  # one for the held-out half of the sessions, one for the newest sessions
    assert held_out[0] == pytest.approx(900 - row["n_test"], abs=5)
    assert steps[0].total == 2 and "a held-out half of the sessions" in steps[0].message
    assert s["activated"] and s["calibration"]["reliability"] and split
    got = _scores(conn, g["ids"])
    assert np.isfinite(got).all()
    conn.close()


def test_a_large_library_runs_its_held_out_tests_two_at_a_time_with_the_same_result(tmp_path, monkeypatch):
    """From cores.PARALLEL_FROM labelled photos the held-out tests run in two threads: the same
    tables and out-of-fold scores as one at a time, every method fitted in both threads, and a
    cancel in the middle stops the evaluation instead of leaving it waiting."""
    import threading

    from fluxcull.jobs import CancelToken, Cancelled
    from fluxcull.keeper import cores
    from fluxcull.keeper.inputs import prepare
    from fluxcull.keeper.pairs import PairConfig

    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = modelgen.build(lib, conn, n=600, sessions=12, seed=7)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    prep = prepare(lib, conn, seed=0)
    threads = set()
    real_fit = ev.fit_model
    monkeypatch.setattr(ev, "fit_model", lambda prep, kind, train, **kw: threads.add(threading.get_ident())
                        or real_fit(prep, kind, train, **kw))

    def run(parallel_from, cancel=None):
        threads.clear()
        monkeypatch.setattr(cores, "PARALLEL_FROM", parallel_from)
        monkeypatch.setattr(cores, "WORKERS", 2)
        return ev.evaluate(prep, conn, kind="auto", seed=0, folds=4, cfg=PairConfig(), cancel=cancel)

    one = run(10**9)
    assert len(threads) == 1
    two = run(0)
    assert len(threads) == 2
    assert two["table"] == one["table"] and two["model"] == one["model"]
    for m in one["oof_raw"]:
        assert np.array_equal(one["oof_raw"][m], two["oof_raw"][m], equal_nan=True), m
        assert np.array_equal(one["oof_ranks"][m], two["oof_ranks"][m], equal_nan=True), m

    token = CancelToken()
    monkeypatch.setattr(ev, "fit_model", lambda prep, kind, train, **kw: token.cancel()
                        or real_fit(prep, kind, train, **kw))
    with pytest.raises(Cancelled):
        run(0, cancel=token)
    conn.close()
