"""The taste benchmark's photographer builder (benchmarks/taste_build.py) stays sound: folders,
ground truth and EXIF of one tiny photographer, and the same library from the same seed. No
embedding, no training: the benchmark itself (python -m benchmarks taste) does that."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from PIL import Image

from benchmarks import taste_build as tb
from benchmarks import taste_images as ti
from benchmarks.taste_metrics import all_metrics, auc_interval, average_precision, recall_at, roc_auc


@pytest.fixture(scope="module")
def photographer(tmp_path_factory):
    if len(ti.available_sources()) < 8:
        pytest.skip(f"real source photographs not found ({ti.SHARED_PHOTOS} and scikit-image's samples)")
    root = tmp_path_factory.mktemp("taste") / "composition"
    truth = tb.build(root, "composition", n_sessions=4, scenes=(2, 2), seed=3)
    return root, truth


def test_folders_and_ground_truth(photographer):
    root, truth = photographer
    assert json.loads((root / "truth.json").read_text())["taste"] == "composition"
    photos = truth["photos"]
    for p in photos:
        assert (root / p["path"]).is_file()
        assert p["path"].startswith("INBOX/" if p["role"] == "inbox" else "ORIGINALS/")
    sessions = truth["sessions"]
    assert [s["inbox"] for s in sessions] == [False, False, True, True]  # newest 25% (at least 2): inbox
    assert [s["date"] for s in sessions] == sorted(s["date"] for s in sessions)
    for part in (False, True):  # each part holds a worthy and an unworthy session
        assert sorted(s["worthy_scenes"] > 0 for s in sessions if s["inbox"] == part) == [False, True]
    inbox = [p for p in photos if p["role"] == "inbox"]
    assert any(p["keep"] for p in inbox) and not any(p["decision"] for p in inbox)
    scenes: dict = {}
    for p in photos:
        scenes.setdefault((p["session"], p["scene"]), []).append(p)
    for frames in scenes.values():
        kinds = [f["kind"] for f in frames]
        assert kinds.count("clean") == 1 and "recompose" in kinds and 3 <= len(frames) <= 5
        assert sum(f["keep"] for f in frames) <= 1
        assert all(f["kind"] == "recompose" for f in frames if f["keep"])  # this taste keeps the tighter frame
        rejected = [f for f in frames if f["decision"] == "reject"]
        assert not rejected or (len(rejected) == len(frames) - 1 and not any(f["keep"] for f in rejected))
    originals = {p["path"]: p for p in photos}
    for k in truth["keepers"]:
        assert (root / k["path"]).is_file() and originals[k["original"]]["keep"]
        assert originals[k["original"]]["role"] == "originals"
        siblings = scenes[(originals[k["original"]]["session"], originals[k["original"]]["scene"])]
        assert all(f["decision"] == "reject" for f in siblings if f["path"] != k["original"])


def test_exif_and_frames(photographer):
    from fluxcull.media.exif import read_metadata

    root, truth = photographer
    sizes = set()
    times = []
    for p in truth["photos"]:
        path = root / p["path"]
        meta = read_metadata(path.read_bytes(), path)
        assert meta["taken_at"] and meta["gps_lat"] and meta["gps_lon"] and meta["camera_model"]
        times.append((p["session"], p["scene"], meta["capture_time"]))
        with Image.open(path) as im:
            sizes.add(tuple(sorted(im.size)))
    assert sizes == {(ti.LONG_SIDE * 2 // 3, ti.LONG_SIDE)}  # every frame the same size, either orientation
    for (s1, c1, t1), (s2, c2, t2) in zip(times, times[1:]):
        if (s1, c1) == (s2, c2):
            assert 0 < t2 - t1 < 4  # a burst: seconds apart
        elif s1 == s2:
            assert 60 <= t2 - t1 <= 20 * 60  # scenes of a walk: minutes apart
        else:
            assert t2 - t1 > 2 * 86400  # sessions: other days
    for k in truth["keepers"]:
        meta = read_metadata((root / k["path"]).read_bytes(), root / k["path"])
        with Image.open(root / k["path"]) as im:
            assert max(im.size) < ti.LONG_SIDE
        assert (meta["taken_at"] is None) == k["stripped"]


def test_same_seed_same_library():
    sources = [(f"/nowhere/{i}.jpg", "nature" if i % 2 else "built") for i in range(10)]
    a = tb.plan("temporal", 8, (3, 4), 5, sources)
    assert a == tb.plan("temporal", 8, (3, 4), 5, sources)
    assert a != tb.plan("temporal", 8, (3, 4), 6, sources)
    for s in a:  # this taste keeps golden-hour walks only, and has both kinds in each part
        assert all(sc["worthy"] == (ti.golden(s["hour"]) > 0.3) for sc in s["scenes"])
    assert {ti.golden(s["hour"]) > 0.3 for s in a if s["inbox"]} == {True, False}
    assert dt.date.fromisoformat(a[-1]["date"]) > dt.date.fromisoformat(a[0]["date"])


def test_seed_base_builds_other_photographers(monkeypatch, tmp_path):
    from benchmarks import taste

    seen = []

    class Built(Exception):
        pass

    def record(name, root, size, seed):
        seen.append((name, seed))
        raise Built  # the first photographer's seed is all this test wants

    monkeypatch.setattr(taste, "run_photographer", record)
    for args in ([], ["--seed-base", "200"], ["--seed-base", "300", "--only", "technical"]):
        with pytest.raises(Built):
            taste.main([*args, "--out", str(tmp_path)])
    assert seen == [("tonal-fog", 1), ("tonal-fog", 201), ("technical", 307)]


def test_metrics_count_ties_fairly():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], bool)
    const = np.full(10, 0.3)
    assert roc_auc(y, const) == 0.5 and recall_at(y, const) == pytest.approx(0.1)
    assert average_precision(y, const) == pytest.approx(0.2)
    perfect = y.astype(float)
    m = all_metrics(y, perfect, np.array([0] * 5 + [1] * 5))
    assert m["auc"] == 1.0 and m["pairwise"] == 1.0 and m["ap"] == 1.0 and m["recall@10%"] == 0.5
    assert m["ece"] == 0.0
    assert auc_interval(y, perfect, np.arange(10)) == (1.0, 1.0)


def test_calibration_diagnostics_read_noise_and_review():
    from benchmarks.taste_metrics import calibration_diagnostics, ece

    rng = np.random.default_rng(5)
    # seven inboxes of 120 photos, labels drawn from the probabilities: perfectly calibrated
    inboxes = []
    for _ in range(7):
        p = np.clip(rng.beta(0.4, 3.0, 120), 0.005, 0.995)
        inboxes.append((rng.random(120) < p, p))
    d = calibration_diagnostics(inboxes, keep_rate=1.0, draws=200)
    per = np.mean([ece(y, p) for y, p in inboxes])
    assert 0.5 * d["ece_floor"] < per < 2.0 * d["ece_floor"]  # the per-inbox ECE is the sampling floor
    assert d["ece_pooled"] < per  # pooling 840 photos removes most of it
    assert d["ece_review"] == d["ece_pooled"]  # a keep rate of 1: intent and review agree
    # a model calibrated on reviewed labels (85% of intended keepers kept) reads pessimistic
    # against intent and right against the review
    y = rng.random(5000) < 0.3
    p = np.where(y, 0.85, 0.0)
    d = calibration_diagnostics([(y, p)], keep_rate=0.85, draws=10)
    assert d["ece_pooled"] > 0.04 and d["ece_review"] < 1e-9
    assert calibration_diagnostics([], 0.85) == {"ece_pooled": None, "ece_review": None, "ece_floor": None}


def test_ece_per_taste_pools_the_photographers_of_one_taste():
    from benchmarks.taste_metrics import calibration_diagnostics, ece

    rng = np.random.default_rng(8)
    inboxes, tastes = [], []
    for taste, shift in (("fog", 0.0), ("mono", 0.2)):  # mono's probabilities 0.2 too low throughout
        for _ in range(2):
            p = np.clip(rng.beta(0.4, 3.0, 120), 0.005, 0.7)
            inboxes.append((rng.random(120) < p + shift, p))
            tastes.append(taste)
    d = calibration_diagnostics(inboxes, keep_rate=1.0, draws=20, tastes=tastes)
    fog = ece(np.concatenate([y for y, _ in inboxes[:2]]), np.concatenate([p for _, p in inboxes[:2]]))
    mono = ece(np.concatenate([y for y, _ in inboxes[2:]]), np.concatenate([p for _, p in inboxes[2:]]))
    assert d["ece_taste"] == pytest.approx((fog + mono) / 2, abs=1e-4)
    assert d["ece_taste_worst"] == pytest.approx(mono, abs=1e-4) and mono > 0.1 > 2 * fog
    assert 0.5 * d["ece_taste_floor"] < fog < 2.0 * d["ece_taste_floor"]  # fog is calibrated: its floor
    # one photographer per taste: the per-photographer ECE itself
    one = calibration_diagnostics(inboxes[1:3], keep_rate=1.0, draws=5, tastes=tastes[1:3])
    assert one["ece_taste"] == pytest.approx(np.mean([ece(y, p) for y, p in inboxes[1:3]]), abs=1e-4)
    assert calibration_diagnostics([], 0.85, tastes=[])["ece_taste"] is None
