"""Scores and states that are always current: a keep / reject / clear / undo imposes or restores the
score at once (no re-score), a confirmed keeper is only an archive-linked photo, technical failures
carry their reason, dark photos with bright points are no failure, failed files can be listed."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from fluxcull.catalog import Catalog, transaction
from fluxcull.catalog.keeper_links import link, unlink
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.catalog.score_writes import write_scores
from fluxcull.catalog import scores
from fluxcull.jobs import run_job


def _photos(conn, scores, role="originals"):
    with transaction(conn):
        return [conn.execute("INSERT INTO photos(path, role, size, mtime_ns, keeper_score, base_score)"
                             " VALUES (?, ?, 1, 1, ?, ?)", (f"/{role}/{i}.jpg", role, s, s)).lastrowid
                for i, s in enumerate(scores)]


def _score(conn, pid):
    return conn.execute("SELECT keeper_score FROM photos WHERE id = ?", (pid,)).fetchone()[0]


def test_a_decision_imposes_its_score_at_once_and_clear_or_undo_restores_it(conn):
    cat = Catalog(conn)
    a, b = _photos(conn, [0.42, 0.91])
    cat.decide([a], "reject", "gui")
    assert _score(conn, a) == 0.0
    cat.decide([a], "keep", "gui")
    assert _score(conn, a) == 1.0
    cat.decide([a], "clear", "gui")
    assert _score(conn, a) == pytest.approx(0.42)
    cat.decide([b], "reject", "gui")
    assert _score(conn, b) == 0.0
    cat.undo(1, "gui")
    assert _score(conn, b) == pytest.approx(0.91)
    # a re-score while a photo is decided keeps the decision's score and renews the photo's own
    cat.decide([b], "keep", "gui")
    run_job(write_scores(conn, np.array([a, b]), np.array([0.3, 0.6]), np.zeros(2, bool)))
    assert _score(conn, b) == 1.0 and _score(conn, a) == pytest.approx(0.3)
    cat.undo(1, "gui")
    assert _score(conn, b) == pytest.approx(0.6)


def test_rejecting_a_confirmed_keeper_scores_it_zero_and_undo_gives_its_star_back(conn):
    cat = Catalog(conn)
    (orig,) = _photos(conn, [None])
    (keeper,) = _photos(conn, [1.0], role="keepers")
    link(conn, keeper, orig, source="test")
    assert _score(conn, orig) == 1.0
    q = PhotoQuery(role="originals")
    assert cat.decision_counts(q)["keepers"] == 1
    cat.decide([orig], "reject", "gui")
    assert _score(conn, orig) == 0.0 and cat.decision_counts(q)["keepers"] == 0
    rec = cat.photo(orig)
    assert scores.keeper_state(rec, linked=True) == "rejected_keeper"
    cat.undo(1, "gui")
    assert _score(conn, orig) == 1.0 and cat.decision_counts(q)["keepers"] == 1
    assert scores.keeper_state(cat.photo(orig), linked=True) == "confirmed"
    # a link made or removed while the photo is rejected leaves the decision's score
    cat.decide([orig], "reject", "gui")
    unlink(conn, keeper, source="test")
    assert _score(conn, orig) == 0.0
    link(conn, keeper, orig, source="test")
    assert _score(conn, orig) == 0.0
    cat.decide([orig], "clear", "gui")
    assert _score(conn, orig) == 1.0


def test_kept_is_not_confirmed_and_the_states_read_in_words():
    from fluxcull.catalog.scores import STATE_LABELS, apply_decision, failure_text, keeper_state

    kept = {"decision": "keep", "keeper_score": 1.0, "role": "originals"}
    assert keeper_state(kept, linked=False) == "kept" and STATE_LABELS["kept"].startswith("Kept")
    assert keeper_state(kept, linked=True) == "confirmed"
    assert STATE_LABELS["confirmed"].startswith("Confirmed keeper") and "Confirmed" not in STATE_LABELS["kept"]
    black = {"decision": "none", "keeper_score": 0.0, "failure": "black", "role": "inbox"}
    assert keeper_state(black, linked=False) == "failure"
    assert failure_text(black) == "technical failure: near-black frame"
    assert keeper_state({"decision": "none", "keeper_score": 0.2}, linked=False) == "low"
    rec = {"decision": "none", "keeper_score": 0.7}
    apply_decision(rec, "reject")
    assert rec["keeper_score"] == 0.0 and rec["base_score"] == 0.7
    apply_decision(rec, "none")
    assert rec["keeper_score"] == 0.7 and rec["decision"] == "none"


def test_the_scorer_stores_the_reason_of_a_technical_failure(conn):
    a, b, c = _photos(conn, [None, None, None])
    reasons = np.array(["failure:black", "model", "unreadable"])
    run_job(write_scores(conn, np.array([a, b, c]), np.array([0.0, 0.5, 0.0]), np.zeros(3, bool), reasons=reasons))
    got = dict(conn.execute("SELECT id, failure FROM photos"))
    assert got == {a: "black", b: None, c: None}
    run_job(write_scores(conn, np.array([a]), np.array([0.4]), np.zeros(1, bool), reasons=np.array(["model"])))
    assert conn.execute("SELECT failure FROM photos WHERE id = ?", (a,)).fetchone()[0] is None


def _jpeg(img: Image.Image) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def star_field(n: int = 300, size=(768, 512), seed: int = 1) -> Image.Image:
    """Black sky with `n` small bright dots (1-2 px stars), a little sensor noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    sky = np.full((h, w), 4.0) + rng.normal(0, 2.0, (h, w))
    for _ in range(n):
        x, y, s = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(1, 3))
        sky[y:y + s, x:x + s] = rng.uniform(120, 255)
    img = Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8)).convert("RGB")
    return _jpeg(img.filter(ImageFilter.GaussianBlur(0.6)))


def test_a_star_field_is_no_failure_but_a_black_or_underexposed_frame_is():
    from photogen import scene

    from fluxcull.embedding.features import FEATURE_NAMES, N_TECH, technical_features
    from fluxcull.keeper.score import FailureRules, technical_failures

    rng = np.random.default_rng(3)
    frames = {
        "stars": star_field(),
        "stars_dense": star_field(600, seed=2),
        "lights": None,
        "black": _jpeg(Image.new("RGB", (768, 512), (0, 0, 0))),
        "black_noise": _jpeg(Image.fromarray(np.clip(rng.normal(3, 3, (512, 768, 3)), 0, 255).astype(np.uint8))),
        "underexposed": _jpeg(scene(3, (768, 512), gain=0.04)),
    }
    night = np.asarray(scene(5, (768, 512), gain=0.05)).copy()
    for _ in range(15):  # street lights
        x, y = int(rng.integers(0, 760)), int(rng.integers(0, 500))
        night[y:y + 4, x:x + 4] = 255
    frames["lights"] = _jpeg(Image.fromarray(night))
    feats = np.full((len(frames), len(FEATURE_NAMES)), np.nan, np.float32)
    for i, img in enumerate(frames.values()):
        feats[i, :N_TECH] = technical_features(img)
    got = dict(zip(frames, technical_failures(FEATURE_NAMES, feats, FailureRules()).tolist()))
    assert {k: v for k, v in got.items() if v} == {"black": "blank", "black_noise": "blank", "underexposed": "blank"}
    # a flat white frame is still blank, bright as it is
    feats[0, :N_TECH] = technical_features(_jpeg(Image.new("RGB", (768, 512), (255, 255, 255))))
    assert technical_failures(FEATURE_NAMES, feats[:1], FailureRules()).tolist() == ["blank"]


def test_failed_files_are_listed_with_their_reasons(conn):
    cat = Catalog(conn)
    with transaction(conn):
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns, status, error)"
                     " VALUES ('/inbox/bad.jpg', 'inbox', 0, 1, 'error', 'empty file (0 bytes)')")
        conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/inbox/good.jpg', 'inbox', 1, 1)")
    assert cat.problem_count() == 1 and cat.problem_count("originals") == 0
    (p,) = cat.problems()
    assert p["path"] == "/inbox/bad.jpg" and p["error"] == "empty file (0 bytes)" and p["role"] == "inbox"
    assert cat.photo_ids(PhotoQuery(status="error")) == [p["id"]]


def test_scores_beyond_the_limits_keep_their_order_instead_of_tying():
    """A steep calibration sends most of a library below 0.005: clipped, the bottom would tie and a
    sort by score could not order it. Squeezed, it stays in corpus-rank order inside [0.001, 0.005)."""
    from fluxcull.keeper import calibrate
    from fluxcull.keeper.score import MODEL_FLOOR, MODEL_MAX, MODEL_MIN, squeeze_tails, tail_ranks

    steep = calibrate.Calibrator("platt", np.array([6.0, 1.0]))  # p = sigmoid(6 logit(rank) + 1)
    rank = np.linspace(0.0, 1.0, 1001)
    p = steep(rank)
    assert (p < MODEL_MIN).sum() > 200 and (p > MODEL_MAX).sum() > 10  # both tails are wide
    r_low, r_high = tail_ranks(steep)
    out = squeeze_tails(p, rank, r_low, r_high)
    assert np.all(np.diff(out) > 0)  # strictly in rank order: no ties
    assert out.min() >= MODEL_FLOOR and out.max() < 1.0 and out.min() > 0.0  # 0 and 1 stay for decisions
    middle = (p >= MODEL_MIN) & (p <= MODEL_MAX)
    np.testing.assert_array_equal(out[middle], p[middle])  # calibrated probabilities untouched
    assert np.all(out[p < MODEL_MIN] < MODEL_MIN) and np.all(out[p > MODEL_MAX] > MODEL_MAX)
