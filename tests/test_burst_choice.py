"""The burst choice (fluxcull.keeper.burst_choice): which frame of a burst the photographer keeps."""

import numpy as np
import pytest

from fluxcull.keeper import burst_choice

NAMES = ["appearance_pc1", "sharpness_vs_burst", "brightness_vs_burst", "rotation_vs_burst", "burst_typical",
         "sharpness", "sharpness_vs_burst_missing"]


def _bursts(n_bursts: int, seed: int, size: int = 4):
    """Bursts of `size` frames: one clean frame and near-misses, each off along one axis (softer,
    darker or brighter, rotated); `burst_typical` marks a random frame, right only by chance."""
    rng = np.random.default_rng(seed)
    rows, label, burst = [], [], []
    for b in range(n_bursts):
        scene = rng.normal(size=2)  # what the scene looks like: the same for every frame
        for f in range(size):
            sharp, bright, rot = rng.normal(0, 0.1, 3)
            if f == 1:
                sharp -= 1.0
            elif f == 2:
                bright += rng.choice([-1.0, 1.0])
            elif f == 3:
                rot += 1.0
            rows.append([scene[0], sharp, bright, abs(rot), 0.0, scene[1], 0.0])
            label.append(1 if f == 0 else 0)
            burst.append(1000 + b)
        rows[-1 - int(rng.integers(0, size))][4] = 1.0
    return np.asarray(rows, np.float32), np.asarray(label, np.int8), np.asarray(burst, np.int64)


def test_choice_reads_each_near_miss_kind_and_picks_the_clean_frame_of_new_bursts():
    x, label, burst = _bursts(40, seed=1)
    p = burst_choice.fit(x, NAMES, label, burst, np.ones(len(x), bool))
    use, size = burst_choice.columns(NAMES)
    assert [NAMES[j] for j in use] == ["sharpness_vs_burst", "brightness_vs_burst", "rotation_vs_burst", "burst_typical"]
    assert [NAMES[j] for j in size] == ["sharpness_vs_burst", "brightness_vs_burst", "rotation_vs_burst"]
    w = dict(zip([NAMES[j] for j in use] + ["|" + NAMES[j] + "|" for j in size], p["w"]))
    assert w["sharpness_vs_burst"] > 0.5 and w["rotation_vs_burst"] + w["|rotation_vs_burst|"] < -0.5
    assert w["|brightness_vs_burst|"] < -0.5  # too dark and too bright both lose
    assert abs(w["burst_typical"]) < 0.5  # a marker right by chance teaches little
    assert p["pairs"] == 40 * 3

    new_x, new_label, new_burst = _bursts(30, seed=2)
    share = burst_choice.log_share(p, new_x, new_burst)
    picked = [int(np.argmax(share[new_burst == b])) for b in np.unique(new_burst)]
    assert np.mean(np.asarray(picked) == 0) >= 0.9  # the clean frame is the first of each burst


def test_log_share_is_a_share_of_each_burst_and_zero_alone():
    x, label, burst = _bursts(12, seed=3)
    p = burst_choice.fit(x, NAMES, label, burst, np.ones(len(x), bool))
    alone_x = x[:2]
    x2 = np.r_[x, alone_x]
    burst2 = np.r_[burst, [1, 2]]  # two photos alone in their bursts
    share = burst_choice.log_share(p, x2, burst2)
    assert share[-2:] == pytest.approx([0.0, 0.0])
    for b in np.unique(burst):
        assert np.exp(share[burst2 == b]).sum() == pytest.approx(1.0)
    perm = np.random.default_rng(0).permutation(len(x2))  # row order does not matter
    assert burst_choice.log_share(p, x2[perm], burst2[perm]) == pytest.approx(share[perm])


def test_only_bursts_with_a_keeper_and_a_non_keeper_and_same_burst_choices_teach():
    label = np.array([1, 0, 0, -1, 0, 0, 1, 1], np.int8)
    burst = np.array([5, 5, 5, 5, 7, 7, 9, 9])
    train = np.ones(8, bool)
    a, b = burst_choice.choice_pairs(label, burst, train)
    assert sorted(zip(a.tolist(), b.tolist())) == [(0, 1), (0, 2)]  # the unlabelled frame 3 is no loser
    a, b = burst_choice.choice_pairs(label, burst, train, preferences=[(5, 4), (3, 6)])
    assert sorted(zip(a.tolist(), b.tolist())) == [(0, 1), (0, 2), (5, 4)]  # (3, 6): two bursts apart
    train[0] = False  # a held-out keeper teaches nothing
    assert len(burst_choice.choice_pairs(label, burst, train)[0]) == 0
    x = np.zeros((8, len(NAMES)), np.float32)
    assert burst_choice.fit(x, NAMES, label, burst, train) is None


def test_contributions_say_which_input_set_a_frame_apart_from_its_burst():
    x, label, burst = _bursts(30, seed=4)
    p = burst_choice.fit(x, NAMES, label, burst, np.ones(len(x), bool))
    mates = x[burst == burst[0]]
    s = burst_choice.choice_scores(p, mates)
    share = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    for i in range(len(mates)):
        c = burst_choice.contributions(p, mates, i)
        assert c.sum() == pytest.approx(s[i] - share @ s, abs=1e-5)
        assert c[NAMES.index("appearance_pc1")] == 0.0 and c[NAMES.index("sharpness")] == 0.0
    softer = burst_choice.contributions(p, mates, 1)  # the softer frame: sharpness pulled it down most
    assert np.argmin(softer) == NAMES.index("sharpness_vs_burst")
    crooked = burst_choice.contributions(p, mates, 3)
    assert np.argmin(crooked) == NAMES.index("rotation_vs_burst")
