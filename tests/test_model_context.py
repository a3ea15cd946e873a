"""Context inputs, bursts, the gradient-boosted scorer and the automatic method choice."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from PIL import ImageFilter

import modelgen
from photogen import write_jpeg
from fluxcull.jobs import run_job
from fluxcull.embedding.features import N_TECH


# -- group statistics and bursts (no catalog) --------------------------------------------------------
def test_median_and_rank_within_groups_share_ties_and_skip_missing():
    from fluxcull.keeper.context import Groups, median_and_rank

    g = np.array([5, 5, 5, 5, 9, 9, 7])
    v = np.array([3.0, 1.0, 3.0, np.nan, 2.0, 4.0, 8.0])
    med, rank = median_and_rank(Groups(g), v)
    np.testing.assert_allclose(med, [3, 3, 3, 3, 3, 3, 8])
    np.testing.assert_allclose(rank[:3], [0.75, 0.0, 0.75])  # the two 3.0s share ranks 1 and 2 of 0..2
    assert np.isnan(rank[3])  # missing stays missing
    np.testing.assert_allclose(rank[4:], [0.0, 1.0, 0.5])  # a group of one sits in the middle


def test_group_then_value_order_is_the_one_sort_of_both_keys():
    from fluxcull.keeper.groups import group_value_order, value_ranks

    rng = np.random.default_rng(6)
    for n, groups in ((1, 1), (50, 3), (5000, 200_000), (5000, 2 ** 33)):  # one pass, two passes, a plain sort
        g = rng.integers(0, groups, n)
        v = rng.choice([0.1, 0.2, np.nan, 0.3, -1.0], n)  # ties and missing values
        r = value_ranks(v)
        np.testing.assert_array_equal(group_value_order(g, r), np.argsort(g * n + r, kind="stable"))
    # value ranks: ties by position, missing last, float32 values (the radix path) as float64 ones
    for v in (rng.normal(size=3000).astype(np.float32).astype(np.float64), rng.normal(size=3000)):
        v[::7], v[1::11], v[2::13], v[3::17], v[4::19] = np.nan, -0.0, 0.0, -np.inf, np.float32(-1e-40)
        want = np.empty(len(v), np.int64)
        want[np.argsort(np.where(np.isfinite(v), v, np.inf), kind="stable")] = np.arange(len(v))
        np.testing.assert_array_equal(value_ranks(v), want)


def test_bursts_need_both_a_short_gap_and_a_similar_look():
    from fluxcull.keeper.bursts import BurstRule, find_bursts

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 16))
    near = lambda v: v + rng.normal(0, 0.1, 16)  # noqa: E731
    emb = np.stack([near(a), near(a), near(a), near(b), near(b), near(a), near(a)])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    ids = np.array([10, 11, 12, 13, 14, 15, 16])
    session = np.array([1, 1, 1, 1, 1, 1, 2])
    time = np.array([0.0, 2.0, 4.0, 6.0, 8.0, 300.0, 302.0])
    burst = find_bursts(ids, session, time, lambda pos: emb[pos], rule=BurstRule(gap_seconds=10, min_similarity=0.8),
                        chunk=3)  # chunks smaller than the data: neighbours across chunk edges still compared
    # 10-12 one scene; 13-14 another scene seconds later; 15 the first scene again but 5 minutes on;
    # 16 in another session
    assert burst.tolist() == [10, 10, 10, 13, 13, 15, 16]
    unknown = find_bursts(ids[:2], session[:2], np.array([np.nan, 1.0]), lambda pos: emb[pos])
    assert unknown.tolist() == [10, 11]


def test_one_odd_frame_does_not_split_a_burst():
    from fluxcull.keeper.bursts import BurstRule, find_bursts

    rng = np.random.default_rng(1)
    a, b, x, y = rng.normal(size=(4, 16))
    near = lambda v: v + rng.normal(0, 0.1, 16)  # noqa: E731
    rule = BurstRule(gap_seconds=10, min_similarity=0.8)

    def bursts(vectors, times, session=None):
        emb = np.stack(vectors)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        ids = np.arange(10, 10 + len(emb))
        session = np.ones(len(emb), np.int64) if session is None else np.asarray(session)
        return find_bursts(ids, session, np.asarray(times, float), lambda pos: emb[pos], rule=rule).tolist()

    # a blown frame (x) inside a burst goes with it; an odd last frame (x) stays alone, and so does
    # a new scene (b) after it
    assert bursts([near(a), near(a), x, near(a), near(a), x, b], [0, 2, 4, 6, 8, 10, 12]) == \
        [10, 10, 10, 10, 10, 15, 16]
    # two odd frames in a row are a break, not a bridge
    assert bursts([near(a), near(a), x, y, near(a)], [0, 2, 4, 6, 8]) == [10, 10, 12, 13, 14]
    # the frames either side of the odd one must be within the gap of each other, and in one session
    assert bursts([near(a), x, near(a)], [0, 6, 12]) == [10, 11, 12]
    assert bursts([near(a), x, near(a)], [0, 2, 4], session=[1, 1, 2]) == [10, 11, 12]
    # what the neighbours alone decide is unchanged: alike neighbours join, the bridge adds to it
    assert bursts([near(a), near(a), near(a)], [0, 2, 4]) == [10, 10, 10]


def test_context_inputs_describe_each_photo_against_its_burst_and_session():
    from fluxcull.keeper.context import CONTEXT_NAMES, compute_context
    from fluxcull.embedding.features import FEATURE_NAMES

    n = 6
    feats = np.full((n, len(FEATURE_NAMES)), np.nan, np.float32)
    feats[:, 0] = [1.0, 3.0, 2.0, 2.5, 0.5, 2.0]  # sharpness
    feats[:, 2] = [0.5, 0.5, 0.5, 0.2, 0.8, 0.5]  # brightness
    session = np.array([1, 1, 1, 1, 1, 2])
    burst = np.array([1, 1, 1, 4, 4, 6])
    time = np.arange(n, dtype=float)
    z = np.random.default_rng(1).normal(size=(n, 8)).astype(np.float32)
    ctx = compute_context(session, burst, time, feats, z)
    col = {name: ctx[:, j] for j, name in enumerate(CONTEXT_NAMES)}
    np.testing.assert_allclose(col["sharpness_laplacian_rank_burst"][:5], [0, 1, 0.5, 1, 0], atol=1e-3)
    np.testing.assert_allclose(col["sharpness_laplacian_vs_session"][:5], [-1, 1, 0, 0.5, -1.5])
    np.testing.assert_allclose(col["brightness_vs_burst"][3:5], [-0.3, 0.3], atol=1e-6)
    np.testing.assert_allclose(col["burst_size_log2"], np.log2([3, 3, 3, 2, 2, 1]))
    np.testing.assert_allclose(col["burst_position"], [0, 0.5, 1, 0, 1, 0.5])
    np.testing.assert_allclose(col["bursts_in_session_log2"], [1, 1, 1, 1, 1, 0])
    assert col["burst_typical"].sum() == 3  # one most typical frame per burst
    assert col["burst_typical"][3] != col["burst_typical"][4]  # two frames: equally typical only by a tie
    assert col["burst_sim"][5] == pytest.approx(1.0)  # alone: it is its own centroid
    assert np.isnan(col["haze_vs_session"]).all()  # a missing feature stays missing


def test_centroid_similarities_match_their_definition_whatever_the_order_of_the_photos():
    """session_sim and burst_sim against the plain definition (cosine to the group's mean), with
    sessions and bursts interleaved in position order, a zero row, and z a strided view."""
    from fluxcull.keeper.context import _centroid_sims
    from fluxcull.keeper.groups import Groups

    rng = np.random.default_rng(4)
    n = 500
    session = rng.integers(0, 7, n)
    burst = session * 100 + rng.integers(0, 40, n)  # bursts inside sessions, scattered over positions
    wide = rng.normal(size=(n, 20)).astype(np.float32)
    wide[17] = 0.0
    z = wide[:, 3:15]
    got_s, got_b = _centroid_sims(Groups(session), Groups(burst), z, step=64)

    def cos(a, b):
        return float(a @ b) / max(np.linalg.norm(a), 1e-9) / max(np.linalg.norm(b), 1e-9)

    for i in range(n):
        s_mean = z[session == session[i]].sum(axis=0)
        assert got_s[i] == pytest.approx(cos(z[i], s_mean), abs=1e-5)
        mates = burst == burst[i]
        want = cos(z[i], z[mates].sum(axis=0)) if mates.sum() > 1 else float(i != 17)
        assert got_b[i] == pytest.approx(want, abs=1e-5)


def test_rows_are_widened_in_place_to_the_model_inputs_width():
    from fluxcull.keeper.inputs import widen_rows

    rng = np.random.default_rng(5)
    n, k, dim = 1000, 6, 9
    z = rng.normal(size=(n, k)).astype(np.float32)
    buf = np.empty(n * (k + 5), np.float32)
    buf[:n * k] = z.ravel()
    x = widen_rows(buf, n, k, dim, step=37)  # blocks whose old and new places overlap
    assert x.shape == (n, dim) and x.flags.c_contiguous and np.shares_memory(x, buf)
    np.testing.assert_array_equal(x[:, :k], z)
    with pytest.raises(ValueError):
        widen_rows(buf, n, k, k + 6)  # more than the buffer holds


def test_near_duplicate_frames_read_as_tied_in_their_burst_and_a_soft_one_as_last():
    """A recomposed frame as sharp as the clean one to the third digit is no "sharper frame of the
    burst"; a misfocused frame is still clearly the softest. The tolerance comes with the model, so a
    burst scored alone reads as it did in training."""
    from fluxcull.keeper.context import CONTEXT_NAMES, compute_context, tolerances
    from fluxcull.embedding.features import FEATURE_NAMES

    rng = np.random.default_rng(2)
    n = 40
    feats = np.full((n, len(FEATURE_NAMES)), np.nan, np.float32)
    feats[:, 0] = rng.uniform(1.0, 3.0, n)  # a library's spread of sharpness
    feats[:3, 0] = [2.541, 2.544, 2.05]  # clean, recomposed, misfocused
    burst = np.r_[[1, 1, 1], np.arange(10, 10 + n - 3)]
    session = np.ones(n, np.int64)
    col = CONTEXT_NAMES.index("sharpness_laplacian_rank_burst")
    tol = tolerances(feats)
    rank = compute_context(session, burst, np.arange(n, dtype=float), feats, None, tolerance=tol)[:3, col]
    assert abs(rank[0] - rank[1]) < 0.1 and min(rank[:2]) > 0.7  # nearly tied, both above the soft one
    assert rank[2] < 0.01
    # scored alone (an inbox burst), with the model's tolerance: the same inputs
    alone = compute_context(session[:3], burst[:3], np.arange(3, dtype=float), feats[:3], None, tolerance=tol)
    np.testing.assert_allclose(alone[:, col], rank, rtol=1e-6)
    # hard ranks, as before cx6, read the noise as a full step
    from fluxcull.keeper.context import Groups, median_and_rank
    assert median_and_rank(Groups(burst[:3]), feats[:3, 0].astype(float))[1][:2].tolist() == [0.5, 1.0]


def test_derived_inputs_do_not_rise_with_exposure_where_the_raw_measures_do(shared_photos):
    """A frame shot darker or brighter is no sharper and no punchier: the Laplacian variance and the
    luminance spread move with the gain, sharpness_per_contrast and contrast_per_brightness stay
    (short of clipping), so a near-miss exposure cannot win a burst on them."""
    from PIL import ImageEnhance

    from fluxcull.embedding.features import FEATURE_NAMES, N_TECH, technical_features
    from fluxcull.keeper.context import DERIVED_NAMES, derived_inputs
    from test_model_real import _sources

    (photo,) = _sources(shared_photos, 1)
    rows = np.full((3, len(FEATURE_NAMES)), np.nan)
    for i, gain in enumerate((1.0, 0.6, 0.8)):
        rows[i, :N_TECH] = technical_features(ImageEnhance.Brightness(photo).enhance(gain))
    d = derived_inputs(rows)
    raw = {k: rows[:, FEATURE_NAMES.index(k)] for k in ("sharpness_laplacian", "contrast_rms")}
    for j, (name, measure) in enumerate(zip(DERIVED_NAMES, ("sharpness_laplacian", "contrast_rms"))):
        moved_raw = abs(raw[measure][1] - raw[measure][0]) / abs(raw[measure][0])
        moved = abs(d[1, j] - d[0, j]) / abs(d[0, j])
        assert moved < 0.25 * moved_raw, (name, moved, moved_raw)
    assert np.isnan(derived_inputs(np.full((1, len(FEATURE_NAMES)), np.nan))).all()


def test_exposure_against_the_burst_reads_the_same_on_a_dark_scene_as_on_a_bright_one(shared_photos):
    """A frame shot at 0.6x the exposure of its burst: brightness_vs_burst says so loudly on a bright
    scene and barely on a dark one; exposure_log2_vs_burst reads about log2(0.6) on both, and in the
    model's burst choice it is a scale-free exposure error."""
    from PIL import ImageEnhance

    from fluxcull.embedding.features import FEATURE_NAMES, N_TECH, technical_features
    from fluxcull.keeper.context import CONTEXT_NAMES, compute_context
    from test_model_real import _sources

    (photo,) = _sources(shared_photos, 1)
    rows, burst = [], []
    for b, key in enumerate((1.0, 0.3)):  # the scene as shot, and the same scene in a low key
        scene = ImageEnhance.Brightness(photo).enhance(key)
        for gain in (1.0, 1.0, 0.6):  # two frames as metered, one under
            row = np.full(len(FEATURE_NAMES), np.nan)
            row[:N_TECH] = technical_features(ImageEnhance.Brightness(scene).enhance(gain))
            rows.append(row)
            burst.append(b)
    feats = np.array(rows, np.float32)
    ctx = compute_context(np.zeros(6), np.array(burst), np.arange(6, dtype=float), feats, None)
    col = {name: ctx[:, j] for j, name in enumerate(CONTEXT_NAMES)}
    stops = col["exposure_log2_vs_burst"][[2, 5]]
    np.testing.assert_allclose(stops, np.log2(0.6), atol=0.12)
    linear = col["brightness_vs_burst"][[2, 5]]
    assert abs(linear[1]) < 0.5 * abs(linear[0])  # the same mistake, a third the size on the dark scene
    assert col["exposure_log2_rank_burst"][2] < 0.1 and col["exposure_log2_rank_burst"][5] < 0.1


def _window(img, k: float, dx: float = 0.0, size=(600, 400)):
    """The centre k of img (moved dx of its width), scaled to `size`: one hand-held frame."""
    from PIL import Image

    w, h = img.size
    cw, ch = w * k, h * k
    x0 = (w - cw) / 2 + dx * w
    return img.resize(size, Image.Resampling.BICUBIC, box=(x0, (h - ch) / 2, x0 + cw, (h + ch) / 2))


def test_relative_rotation_reads_the_angle_between_two_frames_of_a_scene_without_a_horizon():
    """A texture of six waves at random angles (no dominant line for tilt_degrees): the orientation
    signatures of two frames still give the rotation between them, to about half a degree."""
    from PIL import Image

    from fluxcull.embedding.features import measured_features
    from fluxcull.keeper.context import relative_rotation

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:1000, 0:1400].astype(np.float32)
    g = np.full(xx.shape, 128.0, np.float32)
    for a, period, phase in zip(rng.uniform(0, np.pi, 6), rng.uniform(20, 70, 6), rng.uniform(0, 6.3, 6)):
        g += 18 * np.sin((xx * np.cos(a) + yy * np.sin(a)) * (2 * np.pi / period) + phase)
    img = Image.fromarray(np.clip(g, 0, 255).astype(np.uint8)).convert("RGB")
    sig = lambda im: measured_features(im)[N_TECH:][None]  # noqa: E731
    level = sig(_window(img, 0.6))
    for degrees in (0.0, 1.5, 3.0, -4.5):
        turned = sig(_window(img.rotate(degrees, resample=Image.Resampling.BICUBIC), 0.6))
        assert relative_rotation(turned, level)[0] == pytest.approx(abs(degrees), abs=0.6), degrees
    assert np.isnan(relative_rotation(np.full_like(level, np.nan), level)[0])


def test_the_crooked_frame_of_a_real_burst_is_the_one_rotated_against_its_neighbours(shared_photos):
    """Real photos, bursts of five frames (clean, blurred, dark, moved, and one turned 4 degrees then
    cropped level, as a crooked shot is): `rotation_vs_burst` puts the crooked frame above the clean
    one in every burst, where the level-line estimate (tilt_degrees) misses some."""
    from PIL import Image, ImageEnhance

    from fluxcull.embedding.features import FEATURE_NAMES, measured_features
    from fluxcull.keeper.context import CONTEXT_NAMES, compute_context
    from test_model_real import _sources

    for src in _sources(shared_photos, 8):
        frames = [_window(src, 0.8), _window(src, 0.8).filter(ImageFilter.GaussianBlur(2.0)),
                  ImageEnhance.Brightness(_window(src, 0.8, 0.02)).enhance(0.6), _window(src, 0.8, -0.03),
                  _window(src.rotate(4.0, resample=Image.Resampling.BICUBIC), 0.72)]
        m = np.stack([measured_features(f) for f in frames])
        feats = np.full((len(m), len(FEATURE_NAMES)), np.nan, np.float32)
        feats[:, :N_TECH] = m[:, :N_TECH]
        one = np.ones(len(m))
        ctx = compute_context(one, one, np.arange(len(m), dtype=float), feats, None, m[:, N_TECH:])
        rot = ctx[:, CONTEXT_NAMES.index("rotation_vs_burst")]
        assert rot[4] > rot[0] and rot[4] > 2.0, rot
        alone = compute_context(one[:1], one[:1], np.zeros(1), feats[:1], None, m[:1, N_TECH:])
        assert np.isnan(alone[0, CONTEXT_NAMES.index("rotation_vs_burst")])  # nothing to compare with
        no_signature = compute_context(one, one, np.arange(len(m), dtype=float), feats, None, None)
        assert np.isnan(no_signature[:, CONTEXT_NAMES.index("rotation_vs_burst")]).all()


# -- real photos through ingest and embed ---------------------------------------------------------------
@pytest.mark.slow
def test_context_inputs_on_a_real_burst_put_the_sharp_frame_first(shared_photos, library, tmp_path):
    from fluxcull.ingest import ingest_job
    from fluxcull.keeper.context import CONTEXT_NAMES
    from fluxcull.embedding.embed import embed_job
    from fluxcull.keeper.explain_words import in_words
    from fluxcull.keeper.inputs import prepare
    from fluxcull.embedding.features import FEATURE_NAMES

    from test_model_real import _sources

    scene, other1, other2 = _sources(shared_photos, 3)
    start = dt.datetime(2024, 5, 4, 9, 0, 0)
    folder = tmp_path / "walk"
    frames = {"sharp": scene}
    for j, radius in enumerate((1.2, 2.0, 3.0)):
        frames[f"soft{j}"] = scene.filter(ImageFilter.GaussianBlur(radius))
    order = ["soft0", "sharp", "soft1", "soft2"]  # the sharp frame is not first in time
    paths = {name: write_jpeg(folder / f"R{i:04d}.JPG", frames[name], taken=start + dt.timedelta(seconds=2 * i))
             for i, name in enumerate(order)}
    paths["other1"] = write_jpeg(folder / "R0100.JPG", other1, taken=start + dt.timedelta(minutes=3))
    paths["other2"] = write_jpeg(folder / "R0101.JPG", other2, taken=start + dt.timedelta(minutes=6))
    run_job(ingest_job(library, [folder], "originals"))
    assert not run_job(embed_job(library))["errors"]
    conn = library.connect()
    try:
        prep = prepare(library, conn)
        ids = dict(conn.execute("SELECT path, id FROM photos").fetchall())
        at = {name: int(prep.corpus.index_of([ids[str(p)]])[0]) for name, p in paths.items()}
        bursts = {name: int(prep.burst[i]) for name, i in at.items()}
        assert len({bursts[n] for n in order}) == 1, bursts  # one burst of four frames
        assert bursts["other1"] != bursts["sharp"] and bursts["other2"] not in (bursts["sharp"], bursts["other1"])
        names = FEATURE_NAMES + CONTEXT_NAMES
        col = {n: prep.feats[:, j] for j, n in enumerate(names)}
        rank = {n: col["sharpness_laplacian_rank_burst"][at[n]] for n in order}
        assert rank["sharp"] > 0.99 and max(rank[n] for n in order if n != "sharp") < rank["sharp"] - 0.3, rank
        assert col["sharpness_laplacian_vs_burst"][at["sharp"]] > 0
        assert col["burst_size_log2"][at["sharp"]] == 2.0
        values = {n: float(col[n][at["sharp"]]) for n in names}
        words = in_words([{"input": "sharpness_laplacian_rank_burst", "contribution": 0.8}], values, 4)
        assert words[0] == {"text": "sharpest of its 4-frame burst", "effect": "for", "contribution": 0.8}
    finally:
        conn.close()


# -- the gradient-boosted scorer and the method choice ---------------------------------------------------
def _band_taste(lib, conn, seed=0, n=700, sessions=14):
    """A taste no line can draw: keepers are sharp photos of middling brightness (not too dark, not
    too bright), the best of each session."""
    g = modelgen.build(lib, conn, n=n, sessions=sessions, seed=seed, signal=0.0)
    rng = np.random.default_rng(seed + 1)
    bright = rng.uniform(0.05, 0.95, n)
    sharp = rng.uniform(1.0, 3.5, n)
    utility = -np.abs(bright - 0.5) * 4 + (sharp - 2.25) * 0.8 + rng.normal(0, 0.1, n)
    keeper = np.zeros(n, bool)
    for s in range(sessions):
        idx = np.flatnonzero(g["sess"] == s)
        keeper[idx[np.argsort(-utility[idx])[:max(1, len(idx) // 12)]]] = True
    tech = np.full((n, N_TECH), np.nan, np.float32)
    tech[:, 0], tech[:, 1], tech[:, 2], tech[:, 4], tech[:, 6] = sharp, 0.05 + 0.05 * sharp, bright, 0.0, 0.6
    modelgen.write_features(conn, g["ids"], tech)
    modelgen.link_keepers(conn, g["ids"][keeper])
    return g


def test_method_choice_prefers_trees_when_the_taste_is_not_a_line(library, conn):
    from fluxcull.keeper.train import train_job

    _band_taste(library, conn)
    s = run_job(train_job(library, seed=0, score=False))
    rows = {(r["split"], r["method"].rstrip(" *")): r for r in s["metrics_table"]}
    assert s["kind"] == "gbt", s["table_text"]
    assert rows[("by_time", "gbt")]["roc_auc"] > rows[("by_time", "linear")]["roc_auc"] + 0.02, s["table_text"]
    assert "best held-out AUC" in s["choice"]
    assert any(r["method"] == "gbt *" for r in s["metrics_table"])


def test_method_choice_prefers_trees_within_the_margin_and_the_simplest_with_few_keepers():
    from fluxcull.keeper.evaluate import choose_method

    def metrics(lin, gbt, held_out, keepers):
        rows = {"linear": {"roc_auc": lin, "n_keepers": held_out}, "gbt": {"roc_auc": gbt, "n_keepers": held_out},
                "random": {"roc_auc": 0.5, "n_keepers": held_out}}
        return {"splits": {"by_time": {"rows": rows}, "random_by_session": {"rows": rows}}, "keepers": keepers}

    assert choose_method(metrics(0.80, 0.90, 200, 900))[0] == "gbt"
    assert choose_method(metrics(0.95, 0.90, 200, 900))[0] == "linear"  # clearly better: it wins
    kind, why = choose_method(metrics(0.905, 0.90, 200, 900))
    assert kind == "gbt" and "better by more than 0.01" in why  # within the margin: the trees stay
    assert choose_method(metrics(0.94, 0.90, 8, 60))[0] == "gbt"  # 8 held-out keepers: 0.04 is noise
    assert choose_method(metrics(0.96, 0.90, 8, 60))[0] == "linear"
    kind, why = choose_method(metrics(0.88, 0.90, 3, 6))  # 6 keepers: the simplest within the margin
    assert kind == "linear" and "6 keepers" in why
    assert choose_method(metrics(0.88, 0.90, 3, 12))[0] == "gbt"  # from 8 keepers: trees first


def test_gradient_boosted_model_round_trips_without_pickle(library, conn):
    from fluxcull.keeper.models_store import load_version
    from fluxcull.keeper.score import compute_scores, load_scoring_model
    from fluxcull.keeper.train import train_job

    _band_taste(library, conn, seed=3, n=500, sessions=10)
    s = run_job(train_job(library, seed=0, model_kind="gbt"))
    saved = load_version(library, conn, s["version"])
    files = sorted(p.name for p in saved.path.iterdir())
    assert files == ["booster.txt", "model.json", "model.npz", "projection", "raw_scores"]
    for cache in ("projection", "raw_scores"):  # the scoring caches: plain arrays too
        for part in (saved.path / cache).iterdir():
            assert np.load(part, allow_pickle=False).dtype != object
    assert saved.texts["booster"].startswith("tree\n")  # LightGBM's own text format
    with np.load(saved.path / "model.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    stored = dict(conn.execute("SELECT id, keeper_score FROM photos").fetchall())
    again = compute_scores(library, conn, load_scoring_model(library, conn))  # a fresh load from disk
    for pid, v in zip(again["ids"].tolist(), again["scores"].tolist()):
        assert stored[pid] is None if v != v else stored[pid] == pytest.approx(v, abs=1e-6)
    # a damaged tree file is refused with a reason, not half-loaded
    (saved.path / "booster.txt").write_text("tree\nnot a model\n")
    with pytest.raises(Exception):
        load_scoring_model(library, conn, s["version"])


def test_a_model_from_another_context_schema_is_refused_with_a_clear_message(library, conn):
    from fluxcull.catalog import transaction
    from fluxcull.keeper.models_store import ModelMismatch
    from fluxcull.keeper.score import score_job
    from fluxcull.keeper.train import train_job

    g = modelgen.build(library, conn, n=300, sessions=8, seed=4)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    s = run_job(train_job(library, seed=0, model_kind="linear", score=False))
    feats, _, _ctx = conn.execute("SELECT feature_schema FROM model_versions WHERE id = ?",
                                  (s["version"],)).fetchone()[0].partition("+")
    with transaction(conn):  # as a model trained by an older fluxcull, before this context table
        conn.execute("UPDATE model_versions SET feature_schema = ? WHERE id = ?", (feats + "+cx0-old", s["version"]))
    with pytest.raises(ModelMismatch, match=r"context inputs cx0-old .* retrain with `fluxcull train`"):
        run_job(score_job(library))
    with transaction(conn):
        conn.execute("UPDATE model_versions SET feature_schema = ? WHERE id = ?", ("fx0-old", s["version"]))
    with pytest.raises(ModelMismatch, match="feature schema fx0-old .* re-run `fluxcull embed`"):
        run_job(score_job(library))


def test_a_model_with_nan_weights_is_refused_not_used(library, conn, capsys):
    from fluxcull.cli import main
    from fluxcull.keeper.models_store import ModelDamaged, load_version
    from fluxcull.keeper.score import score_job
    from fluxcull.keeper.train import train_job

    g = modelgen.build(library, conn, n=300, sessions=8, seed=6)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    s = run_job(train_job(library, seed=0, model_kind="linear"))
    before = dict(conn.execute("SELECT id, keeper_score FROM photos").fetchall())
    saved = load_version(library, conn, s["version"])
    arrays = dict(saved.arrays)
    arrays["m_w"] = np.full_like(arrays["m_w"], np.nan)
    np.savez(saved.path / "model.npz", **arrays)
    with pytest.raises(ModelDamaged, match="NaN or infinite"):
        run_job(score_job(library))
    assert main(["score"]) == 2
    assert "NaN or infinite" in capsys.readouterr().err
    assert dict(conn.execute("SELECT id, keeper_score FROM photos").fetchall()) == before  # nothing overwritten


def test_an_explanation_reads_as_sentences():
    from fluxcull.keeper.explain_words import explanation_lines, in_words

    values = {"brightness_vs_session": -0.2, "sharpness_laplacian_rank_burst": 1.0, "hour_sin": 0.5}
    contrib = [{"input": "sharpness_laplacian_rank_burst", "contribution": 0.9},
               {"input": "brightness_vs_session", "contribution": -0.4},
               {"input": "appearance (embedding)", "contribution": 0.3},
               {"input": "hour_sin", "contribution": 0.1}]
    words = in_words(contrib, values, 5)
    assert [w["text"] for w in words] == ["sharpest of its 5-frame burst", "darker than the rest of this session",
                                          "looks like your keepers", "the time of day"]
    report = {"score": 0.62, "band": "uncertain", "reason": "keeper model", "model_score": 0.62, "corpus_rank": 0.97,
              "in_words": words, "burst": {"size": 5}, "nearest_keepers": [{"path": "/k/R0001.jpg", "similarity": 0.91}]}
    text = "\n".join(explanation_lines(report))
    assert "Keeper score 0.62 (uncertain): keeper model." in text
    assert "For keeping it: sharpest of its 5-frame burst; looks like your keepers; the time of day." in text
    assert "Against: darker than the rest of this session." in text
    assert "{" not in text and "_" not in text.replace("R0001", "")  # no raw keys or JSON
    crooked = in_words([{"input": "rotation_vs_burst", "contribution": -0.5},
                        {"input": "tilt_degrees_rank_burst", "contribution": -0.2}],
                       {"rotation_vs_burst": 4.2, "tilt_degrees_rank_burst": 1.0}, 4)
    assert [w["text"] for w in crooked] == ["turned 4\N{DEGREE SIGN} against the rest of its burst",
                                            "most crooked of its 4-frame burst"]
    assert in_words([{"input": "rotation_vs_burst", "contribution": 0.3}], {"rotation_vs_burst": 0.4}, 4)[0]["text"] \
        == "level with the rest of its burst"
    assert in_words([{"input": "rotation_vs_burst", "contribution": -0.3}], {"rotation_vs_burst": 0.4}, 4) == []
