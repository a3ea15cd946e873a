"""The keeper model's parts: metrics against brute force, calibration, training pairs, the compare
view's next pair, the scoring rules, and model versions."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import modelgen
from fluxcull.catalog import transaction
from fluxcull.catalog.decisions import prefer
from fluxcull.keeper import calibrate
from fluxcull.keeper import evaluate as ev
from fluxcull.keeper.pairs import KINDS, PairConfig, build_pairs, next_informative_pair


# -- metrics --------------------------------------------------------------------------------------------
def _brute_auc(s, y):
    pos, neg = s[y == 1], s[y == 0]
    return np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg])


def test_metrics_match_brute_force_definitions():
    rng = np.random.default_rng(0)
    s = np.round(rng.normal(size=80), 1)  # ties on purpose
    y = (rng.random(80) < 0.3).astype(int)
    g = rng.integers(0, 5, 80)
    assert ev.roc_auc(s, y) == pytest.approx(_brute_auc(s, y))
    # pairwise accuracy: only pairs within a group
    pairs = [(i, j) for i, j in itertools.product(range(80), range(80)) if y[i] == 1 and y[j] == 0 and g[i] == g[j]]
    want = np.mean([1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0 for i, j in pairs])
    acc, n = ev.pairwise_accuracy(s, y, g)
    assert n == len(pairs) and acc == pytest.approx(want)
    # average precision of a perfect ranking is 1; of the worst ranking it is low
    perfect = y + rng.random(80) * 0.1
    assert ev.average_precision(perfect, y) == pytest.approx(1.0)
    assert ev.average_precision(-perfect, y) < 0.4
    # recall at the top 10%: 8 photos, keepers among them / all keepers
    top = np.argsort(-s, kind="stable")[:8]
    assert ev.recall_at(s, y, 0.10) == pytest.approx(y[top].sum() / y.sum())
    assert np.isnan(ev.roc_auc(s, np.zeros(80)))


def test_isotonic_and_platt_calibration_recover_true_probabilities():
    rng = np.random.default_rng(1)
    rank = rng.random(40000)
    true_p = 0.02 + 0.9 * rank**4  # keepers concentrate at the top ranks
    y = (rng.random(40000) < true_p).astype(float)
    for method in ("isotonic", "platt"):
        cal = calibrate.Calibrator.fit(rank, y, method)
        grid = np.linspace(0.05, 0.95, 10)
        got = cal(grid)
        assert np.all(np.diff(got) >= -1e-12), method  # monotone
        tol = 0.05 if method == "isotonic" else 0.12
        assert np.abs(got - (0.02 + 0.9 * grid**4)).max() < tol, (method, got)
        again = calibrate.Calibrator.from_array(cal.to_array())
        np.testing.assert_allclose(again(grid), got)
    fresh_rank = rng.random(20000)
    fresh_y = (rng.random(20000) < 0.02 + 0.9 * fresh_rank**4).astype(float)
    cal = calibrate.Calibrator.fit(rank, y)
    assert calibrate.expected_calibration_error(cal(fresh_rank), fresh_y) < 0.02
    # a constant, wrong prediction is badly calibrated
    assert calibrate.expected_calibration_error(np.full(20000, 0.6), fresh_y) > 0.3
    table = calibrate.reliability_table(cal(fresh_rank), fresh_y)
    assert sum(r["count"] for r in table) == 20000


def test_ranks_are_measured_against_stored_quantiles():
    raw = np.arange(1000, dtype=float)
    q = calibrate.score_quantiles(raw)
    r = calibrate.to_rank(np.array([-5.0, 0.0, 500.0, 999.0, 2000.0]), q)
    assert r[0] == 0.0 and r[-1] == 1.0
    assert r[2] == pytest.approx(0.5, abs=0.01)
    assert np.all(np.diff(r) >= 0)


# -- pairs ----------------------------------------------------------------------------------------------
def _toy(n=400, sessions=8, keep=0.08, seed=0):
    rng = np.random.default_rng(seed)
    session = np.sort(rng.integers(0, sessions, n))
    label = (rng.random(n) < keep).astype(np.int8)
    label[rng.random(n) < 0.1] = -1
    reject = (label == 0) & (rng.random(n) < 0.05)
    time = session * 86400.0 * 10 + np.arange(n)
    emb = rng.normal(size=(n, 8)).astype(np.float32)
    return dict(label=label, reject=reject, decided_keep=np.zeros(n, bool), session=session, time=time, emb=emb)


def test_pairs_put_a_keeper_first_and_favour_hard_same_session_pairs():
    d = _toy()
    train = np.ones(len(d["label"]), bool)
    train[:50] = False
    p = build_pairs(**d, train=train, seed=0)
    lab = d["label"]
    assert train[p.a].all() and train[p.b].all()
    nonpref = p.kind != KINDS.index("preference")
    assert (lab[p.a[nonpref]] == 1).all() and (lab[p.b[nonpref]] == 0).all()
    counts = p.counts()
    assert counts["close"] > 0 and counts["session"] > 0 and counts["time"] > 0 and counts["random"] > 0
    assert counts["reject"] > 0
    same = d["session"][p.a] == d["session"][p.b]
    assert same[p.kind == KINDS.index("close")].all() and same[p.kind == KINDS.index("session")].all()
    # close pairs are the visually closest non-keepers of the session
    e = d["emb"] / np.linalg.norm(d["emb"], axis=1, keepdims=True)
    close = p.kind == KINDS.index("close")
    sim_close = np.mean(np.sum(e[p.a[close]] * e[p.b[close]], axis=1))
    sess = p.kind == KINDS.index("session")
    sim_sess = np.mean(np.sum(e[p.a[sess]] * e[p.b[sess]], axis=1))
    assert sim_close > sim_sess + 0.2
    cfg = PairConfig()
    w = dict(zip(KINDS, (cfg.close, cfg.session, cfg.time, cfg.random, cfg.reject, cfg.preference)))
    for i, k in enumerate(KINDS):
        assert np.allclose(p.w[p.kind == i], w[k])
    # rejects (near-misses) are paired with keepers, as the loser
    rej = p.kind == KINDS.index("reject")
    assert d["reject"][p.b[rej]].all()


def test_pairs_scale_from_cold_start_and_respect_settings(conn):
    d = _toy(n=3000, sessions=20, keep=0.01)
    train = np.ones(3000, bool)
    n_pos = int((d["label"] == 1).sum())
    p = build_pairs(**d, train=train, seed=0)
    per_keeper = np.bincount(p.a, minlength=3000)[d["label"] == 1]
    assert per_keeper.min() >= PairConfig().min_per_keeper and n_pos < 60
    # settings change the weights; unknown keys are refused
    with transaction(conn):
        conn.execute("INSERT INTO settings(key, value) VALUES ('model.pairs', '{\"close\": 5, \"target_pairs\": 1000}')")
    cfg = PairConfig.from_settings(conn)
    assert cfg.close == 5.0 and cfg.target_pairs == 1000
    with transaction(conn):
        conn.execute("UPDATE settings SET value = '{\"closeness\": 1}' WHERE key = 'model.pairs'")
    with pytest.raises(ValueError, match="closeness"):
        PairConfig.from_settings(conn)
    # explicit preferences become pairs
    p = build_pairs(**d, train=train, preferences=[(5, 6), (7, 8)], seed=0)
    pr = p.kind == KINDS.index("preference")
    assert sorted(zip(p.a[pr].tolist(), p.b[pr].tolist())) == [(5, 6), (7, 8)]


# -- the compare view ------------------------------------------------------------------------------------
def _scored_photos(conn, scores_by_session):
    ids = []
    with transaction(conn):
        for s, scores in enumerate(scores_by_session):
            sid = conn.execute("INSERT INTO sessions(role, start_time, end_time, start_at, end_at)"
                               " VALUES ('inbox', 0, 1, '', '')").lastrowid
            for j, sc in enumerate(scores):
                ids.append(conn.execute(
                    "INSERT INTO photos(path, role, size, mtime_ns, session_id, keeper_score) VALUES (?, 'inbox', 1, 1, ?, ?)",
                    (f"/i/{s}/{j}.jpg", sid, sc)).lastrowid)
    return ids


def test_next_informative_pair_is_same_session_close_and_uncertain(conn):
    ids = _scored_photos(conn, [[0.1, 0.12, 0.9, 1.0], [0.48, 0.53, 0.2, 0.0], [0.51]])
    a, b = next_informative_pair(conn)
    assert {a, b} == {ids[4], ids[5]}  # 0.48 and 0.53: close, around 0.5, same session
    prefer(conn, ids[5], ids[4], "compare")
    a, b = next_informative_pair(conn)
    assert {a, b} != {ids[4], ids[5]}
    sess = conn.execute("SELECT session_id FROM photos WHERE id = ?", (a,)).fetchone()[0]
    assert sess == conn.execute("SELECT session_id FROM photos WHERE id = ?", (b,)).fetchone()[0]
    # restricted to one session; the lone photo's session has no pair
    s1 = conn.execute("SELECT session_id FROM photos WHERE id = ?", (ids[0],)).fetchone()[0]
    a, b = next_informative_pair(conn, session_id=s1)
    assert {a, b} == {ids[0], ids[1]}  # 0.9 is far from 0.5; the confirmed 1.0 is never asked
    s3 = conn.execute("SELECT session_id FROM photos WHERE id = ?", (ids[-1],)).fetchone()[0]
    assert next_informative_pair(conn, session_id=s3) is None


# -- scoring rules and model versions -----------------------------------------------------------------------
def test_scoring_rules_decisions_failures_errors_and_unembedded(library, conn):
    from fluxcull.catalog.decisions import decide
    from fluxcull.embedding.features import N_TECH
    from fluxcull.jobs import run_job
    from fluxcull.keeper.train import train_job

    g = modelgen.build(library, conn, n=300, sessions=6, seed=9)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    others = g["ids"][~g["keeper"]]
    black, blurred, kept, rejected, broken = (int(x) for x in others[:5])
    tech = np.full((2, N_TECH), np.nan, np.float32)
    tech[:, 6] = 0.5
    tech[0, 2], tech[0, 4] = 0.01, 0.99  # near-black
    tech[1, 0], tech[1, 1], tech[1, 2] = 0.2, 0.03, 0.5  # wildly blurred
    modelgen.write_features(conn, [black, blurred], tech)
    decide(conn, [kept], "keep", "test")
    decide(conn, [rejected], "reject", "test")
    with transaction(conn):
        conn.execute("UPDATE photos SET status = 'error', error = 'truncated' WHERE id = ?", (broken,))
        new = conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/inbox/new.jpg', 'inbox', 1, 1)").lastrowid
    s = run_job(train_job(library, seed=0))
    got = dict(conn.execute("SELECT id, keeper_score FROM photos").fetchall())
    assert got[black] == 0.0 and got[blurred] == 0.0 and got[rejected] == 0.0 and got[broken] == 0.0
    assert got[kept] == 1.0 and got[new] is None
    rest = [got[int(i)] for i in others[5:]]
    assert all(0.0 < v < 1.0 for v in rest)
    reasons = s["scoring"]["by_reason"]
    assert reasons["failure:black"] == 1 and reasons["failure:blurred"] == 1 and reasons["unreadable"] == 1
    assert reasons["decided_keep"] == 1 and reasons["decided_reject"] == 1 and reasons["unscored"] == 1
    # scoring only the sessions of a few photos (a new inbox batch) gives exactly the full run's scores
    from fluxcull.keeper.score import compute_scores, load_scoring_model

    m = load_scoring_model(library, conn)
    full = compute_scores(library, conn, m)
    some = [int(i) for i in others[5:8]]
    part = compute_scores(library, conn, m, sessions_of=some)
    assert set(some) <= set(part["ids"].tolist()) and 0 < len(part["ids"]) < len(full["ids"])
    at = np.searchsorted(full["ids"], part["ids"])
    np.testing.assert_allclose(part["scores"], full["scores"][at], rtol=0, atol=1e-6)  # stored to 6 decimals
    assert (part["reasons"] == full["reasons"][at]).all()


def test_activation_is_atomic_and_versions_load_without_pickle(library, conn):
    from fluxcull.keeper.models_store import SavedModel, activate_version, list_versions, load_version, save_version

    ids = []
    for i in range(3):
        m = SavedModel(kind="linear", backbone_id="b", feature_schema="f", arrays={"m_w": np.arange(3.0) + i},
                       meta={"feature_names": []}, metrics={"x": float("nan")})
        ids.append(save_version(library, conn, m, activate=(i == 0)))
    assert [v["id"] for v in list_versions(conn) if v["active"]] == [ids[0]]
    activate_version(conn, ids[2])
    assert [v["id"] for v in list_versions(conn) if v["active"]] == [ids[2]]
    with pytest.raises(KeyError):
        activate_version(conn, 999)
    assert [v["id"] for v in list_versions(conn) if v["active"]] == [ids[2]]
    with pytest.raises(Exception):  # the catalog itself refuses two active versions
        with transaction(conn):
            conn.execute("UPDATE model_versions SET active = 1")
    loaded = load_version(library, conn)
    np.testing.assert_array_equal(loaded.arrays["m_w"], np.arange(3.0) + 2)
    assert loaded.metrics == {"x": None}  # NaN stored as JSON null
    # an object array in the file is refused, never unpickled
    np.savez(loaded.path / "model.npz", m_w=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="unreadable model files"):
        load_version(library, conn)


def test_calibration_on_raw_scores_survives_a_final_model_that_memorises_its_keepers_harder():
    """A boosted model's raw score is a log-odds on new photos, whichever model gives it, while each
    model memorises its own training keepers at the top, by how much differing between models.
    Ranks among the training photos then mean different things in a fold model and the final model;
    raw scores do not."""
    rng = np.random.default_rng(3)

    def photos(n):
        logit = rng.normal(-3.2, 1.6, n)
        return logit, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)

    def model(memorise, train_logit, train_y):
        raw_train = train_logit + rng.normal(0, 0.3, len(train_logit)) + memorise * train_y
        return lambda logit: logit + rng.normal(0, 0.3, len(logit)), calibrate.score_quantiles(raw_train)

    held_logit, held_y = photos(6000)      # out of fold, scored by fold models
    new_logit, new_y = photos(6000)        # the inbox, scored by the final model
    fold, fold_q = model(0.5, *photos(24000))
    final, final_q = model(4.0, *photos(30000))
    held_raw, new_raw = fold(held_logit), final(new_logit)
    by_rank = calibrate.Calibrator.fit(calibrate.to_rank(held_raw, fold_q), held_y, "platt")
    by_raw = calibrate.Calibrator.fit_raw(held_raw, held_y, final_q, "platt")
    new_rank = calibrate.to_rank(new_raw, final_q)
    ece_raw = calibrate.expected_calibration_error(by_raw(new_rank), new_y)
    ece_rank = calibrate.expected_calibration_error(by_rank(new_rank), new_y)
    assert ece_raw < 0.015 and ece_rank > 2 * ece_raw, (ece_raw, ece_rank)
    # the table over the final model's quantiles is the curve fitted on raw scores, read through ranks
    inside = (new_raw > final_q[0]) & (new_raw < final_q[-1])
    curve = calibrate.Calibrator.fit(held_raw, held_y, "platt", on_raw=True)
    np.testing.assert_allclose(by_raw(new_rank[inside]), curve(new_raw[inside]), atol=2e-3)
    assert by_raw.method == "platt" and calibrate.Calibrator.from_array(by_raw.to_array())(0.97) == by_raw(0.97)
    iso = calibrate.Calibrator.fit_raw(held_raw, held_y, final_q, "isotonic")
    assert np.all(np.diff(iso(np.linspace(0, 1, 200))) >= 0)
    assert calibrate.expected_calibration_error(iso(new_rank), new_y) < 0.03


def test_calibration_on_raw_scores_reads_the_keepers_an_archive_left_unexported():
    """Labels from an archive that exports 80% of what the photographer would keep: the curve on raw
    scores estimates that rate and gives the probability of a keeper, not of an export."""
    rng = np.random.default_rng(11)

    def photos(n, rate):
        logit = rng.normal(-3.0, 2.2, n)
        keep = rng.random(n) < 1 / (1 + np.exp(-logit))
        return logit + rng.normal(0, 0.2, n), keep.astype(float), (keep & (rng.random(n) < rate)).astype(float)

    raw, _, exported = photos(20000, 0.8)
    new_raw, new_keep, new_exported = photos(20000, 0.8)
    for method, tol in (("platt", 0.02), ("isotonic", 0.03)):
        cal = calibrate.Calibrator.fit(raw, exported, method, on_raw=True)
        assert abs(cal.export_rate - 0.8) < 0.06, (method, cal.export_rate)
        p = cal(new_raw)
        assert p.max() <= 1.0
        assert calibrate.expected_calibration_error(p, new_keep) < tol
        assert calibrate.expected_calibration_error(p * cal.export_rate, new_exported) < tol
    # the plain curve on exports reads short of the keepers: what the export rate mends
    a, b = calibrate.platt_fit(raw, exported)
    plain = 1 / (1 + np.exp(-(a * new_raw + b)))
    assert calibrate.expected_calibration_error(plain, new_keep) > 0.015
    assert calibrate.Calibrator.fit(raw, exported, "platt", on_raw=True)(new_raw).sum() > 1.15 * plain.sum()
    # an archive with every keeper exported: the rate stays near 1 and so do the probabilities
    raw1, keep1, _ = photos(20000, 1.0)
    cal1 = calibrate.Calibrator.fit(raw1, keep1, "platt", on_raw=True)
    assert cal1.export_rate > 0.95
    assert calibrate.expected_calibration_error(cal1(new_raw), new_keep) < 0.02
    # the held-out probabilities of `evaluate` are those of an export, c x the keeper probability
    group = np.arange(len(raw)) % 50
    keeper_p = calibrate.cross_calibrated(raw, exported, group, on_raw=True)
    export_p = calibrate.cross_calibrated(raw, exported, group, on_raw=True, exported=True)
    ratio = export_p[keeper_p > 0.1] / keeper_p[keeper_p > 0.1]
    assert 0.7 < ratio.min() <= ratio.max() < 0.9
    assert calibrate.expected_calibration_error(export_p, exported) < 0.02
    # with no positives or no negatives the fit does not estimate a rate
    assert calibrate.lapse_fit(raw[:50], np.zeros(50))[2] == 1.0


def test_platt_scaling_stays_finite_on_separable_or_tiny_data():
    rank = np.r_[np.linspace(0, 0.8, 50), np.linspace(0.9, 1.0, 5)]
    y = np.r_[np.zeros(50), np.ones(5)]  # perfectly separated: plain Newton runs off to infinity
    cal = calibrate.Calibrator.fit(rank, y, "platt")
    assert np.isfinite(cal.params).all() and np.abs(cal.params).max() < 100
    p = cal(np.array([0.1, 0.5, 0.95]))
    assert p[0] < p[1] < p[2] and p[2] > 0.5 > p[0]


def test_the_pairwise_optimiser_updates_as_torch_adamw_under_one_cycle_bit_for_bit():
    torch = pytest.importorskip("torch")
    from fluxcull.keeper.one_cycle import AdamWOneCycle

    def trained(ours: bool, total: int):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(12, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        x, y = torch.randn(64, 12), torch.randn(64)
        if ours:
            opt = AdamWOneCycle(model.parameters(), max_lr=0.01, weight_decay=1e-4, total_steps=total, pct_start=0.1)
        else:
            opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=1e-4)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=total, pct_start=0.1)
        for _ in range(total):
            loss = ((model(x).squeeze(1) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if not ours:
                sched.step()
        return [p.detach() for p in model.parameters()]

    for total in (5, 57, 300):  # a schedule shorter than its warm-up, and longer ones
        assert all(torch.equal(a, b) for a, b in zip(trained(True, total), trained(False, total)))


def test_fitting_the_pairwise_ranker_does_not_load_torch_dynamo():
    pytest.importorskip("torch")
    code = ("import sys, numpy as np\n"
            "from fluxcull.keeper.ranker import fit_pairwise\n"
            "rng = np.random.default_rng(0); x = rng.normal(size=(200, 8)).astype(np.float32)\n"
            "a, b = rng.integers(0, 200, 300), rng.integers(0, 200, 300)\n"
            "fit_pairwise(x, a, b, np.ones(300), kind='linear', seed=0)\n"
            "print('torch._dynamo' in sys.modules, 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]
