"""Context inputs: each photo described against the rest of its session and of its burst.

A near-miss is only "near" next to its neighbours: the shaken frame of a burst is sharp enough in
absolute terms and still loses to the frame shot a second later. The photographer's thresholds are
relative to what else was shot (spec section 4), so the keeper model sees, besides the absolute
features (fluxcull.embedding.features), these inputs (NaN where the feature itself is missing):

| name | meaning | range |
| --- | --- | --- |
| `sharpness_per_contrast` | sharpness_laplacian - 2 log10(255 contrast_rms): sharpness that exposure does not raise | log10 |
| `contrast_per_brightness` | contrast_rms / brightness: tonal punch that exposure does not change | 0 .. ~2 |
| `exposure_log2` | log2 of brightness: against the burst, the log2 brightness ratio (a frame shot over or under reads the same whatever the scene's key) | -8 .. 0 |
| `<f>_vs_session` | the technical feature f minus its median over the photo's session | feature units |
| `<f>_rank_session` | percentile rank of f within the session (ties share; 0.5 when alone) | 0 .. 1 |
| `<f>_vs_burst` | f minus its median over the photo's burst (fluxcull.keeper.bursts) | feature units |
| `<f>_rank_burst` | soft percentile rank of f within the burst: the mean, over its burst-mates, of logistic((f - f_mate) / tolerance_f) | 0 .. 1 |
| `burst_size_log2` | log2(frames in the photo's burst) | 0 .. |
| `burst_position` | capture-time rank in the burst, 0 first .. 1 last; 0.5 alone | 0 .. 1 |
| `bursts_in_session_log2` | log2(number of bursts in the session) | 0 .. |
| `session_sim` | cosine similarity of the photo to its session's centroid (appearance) | -1 .. 1 |
| `burst_sim` | cosine similarity to its burst's centroid | -1 .. 1 |
| `burst_typical` | 1 for the burst's most typical frame (highest `burst_sim`), else 0 | 0 / 1 |
| `rotation_vs_burst` | how far the frame is rotated against its burst's consensus: its own angle is the median of its signed rotations against its nearest frames in the burst (up to `ROTATION_NEIGHBOURS` before and after, fluxcull.keeper.rotation; the rotation between two frames' orientation signatures), the consensus the median of those angles over the burst; NaN alone | degrees, 0 .. 24 |

for every technical feature f of fluxcull.embedding.features (sharpness, brightness, clipping, contrast,
haze, colour, noise, aspect) and the three derived ones above. The session is the catalog session (a walk: photos less than the
session gap apart), or the capture day for photos without one. Centroids are taken in the keeper
model's embedding projection (its first `CENTROID_COMPONENTS` principal components).

For a photo alone in its session the session columns (`<f>_vs_session`, `<f>_rank_session`,
`session_sim`) are missing (NaN): with nothing to compare it with it is neither typical nor unusual,
and a model must not read it as the perfectly typical frame of a walk (cx2; cx1 gave 0, 0.5 and 1). cx3
added the two exposure-independent measures.

Context inputs are recomputed from the catalog whenever a model is trained or photos are scored,
so they always reflect the sessions and bursts as they are now (a growing inbox session, a
regrouped session). `CONTEXT_SCHEMA` versions this table: a model trained on another version is
refused as for a feature-schema change.

cx4 added `rotation_vs_burst`: a crooked frame of a burst shows as the one rotated against the others
even where the scene has no straight line for `tilt_degrees` to read (a horizon in fog, foliage).
cx5 measures it against the burst's consensus angle instead of as the median rotation against the
neighbours: in the monochrome taste library the kept frames read 0.41 degrees (median) instead of
1.34, the crooked ones 4.9 instead of 4.5.

cx6 ranks within a burst softly. The frames of a burst are near-duplicates: a recomposed or tilted
frame is as sharp and as colourful as the clean one to the third digit, and a hard rank turned those
noise-level differences into "softest" and "most colourful of its burst", inputs the trees learned
spurious rules from (a crisp keeper of the blur-threshold photographer scored 0.01 as "softest of its
3-frame burst", 2.541 against 2.544). Two frames closer than the feature's tolerance now count as
nearly tied; a misfocused frame is still far below. tolerance_f = `TIE_SHARE` x the interquartile range
of f over the training photos, saved with the model (`tolerances`). Bursts of more than
`SOFT_RANK_MAX` frames keep the hard rank (ties share). On the taste benchmark's 14 kept
photographers (seeds 1-7 and 101-107, `train --model gbt --force`), mean inbox AUC / same-session
pairwise / AP: hard ranks 0.969 / 0.969 / 0.818; TIE_SHARE 0.02: 0.966 / 0.968 / 0.805; 0.05: 0.970 /
0.970 / 0.827; 0.1: 0.971 / 0.970 / 0.828; 0.2: 0.970 / 0.972 / 0.817. The blur-threshold
photographer (seed 7) went 0.899 / 0.900 -> 0.937 / 0.950 at 0.1; the monochrome one 0.922 / 0.897 ->
0.921 / 0.868 (its misses are frames of other scenes, not burst choices).

cx7 added `exposure_log2`. The taste benchmark's exposure near-misses are the scene times a gain of
0.5-0.66 or 1.35-1.65, as a camera's are: `brightness_vs_burst` read them as 0.03 on a dark scene and
0.3 on a bright one, and the burst choice, linear in it, let dark scenes' wrong exposures win. On 28
kept photographers (seeds 1-7, 101-107, 201-207, 301-307; `train --model gbt --force`), paired, cx6 ->
cx7: mean inbox AUC 0.9717 -> 0.9735 (better on 16, worse on 7), AP 0.836 -> 0.846, burst top-1 0.911
-> 0.917 (2 better, none worse; seed 206's walk in the right town 0.71 -> 0.79), same-session pairwise
0.9729 -> 0.9730, ECE 0.052 -> 0.053 (15 better, 13 worse).

cx8 adds no input: the bursts they compare with changed (fluxcull.keeper.bursts, definition 2: one
odd frame no longer splits a burst; the figures are there). Burst membership is what every
`_burst` column means, so a model trained on the old bursts is refused like any other schema change.
"""

from __future__ import annotations

import hashlib
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from fluxcull.embedding.features import FEATURE_NAMES, FEATURE_SCHEMA, TECHNICAL_NAMES
from fluxcull.keeper import cores
from fluxcull.keeper.bursts import DEFINITION as BURST_DEFINITION
from fluxcull.keeper.groups import Groups, median_and_rank, value_ranks
from fluxcull.keeper.rotation import relative_rotation, rotation_vs_burst  # noqa: F401 (relative_rotation: part of this API)

CENTROID_COMPONENTS = 256
TIE_SHARE = 0.1      # a burst-rank tolerance, as a share of the feature's interquartile range
SOFT_RANK_MAX = 64    # frames in a burst up to which its ranks are soft (pairs: the size squared)
TOLERANCE_SAMPLE = 50_000  # photos the tolerances are measured on, at most about
# measures derived from the stored features: two that exposure does not move (a frame shot brighter
# has a higher Laplacian variance and standard deviation without being sharper or more contrasty), and
# brightness on a log scale, where a wrong exposure is a ratio
DERIVED_NAMES = ["sharpness_per_contrast", "contrast_per_brightness", "exposure_log2"]
_RELATIVE_OF = TECHNICAL_NAMES + DERIVED_NAMES
_RELATIVE = [f"{f}_{kind}_{grp}" for f in _RELATIVE_OF for grp in ("session", "burst") for kind in ("vs", "rank")]
CONTEXT_NAMES = DERIVED_NAMES + _RELATIVE + ["burst_size_log2", "burst_position", "bursts_in_session_log2",
                                             "session_sim", "burst_sim", "burst_typical", "rotation_vs_burst"]
# the burst definition is part of what the burst columns mean (cx8: fluxcull.keeper.bursts.DEFINITION 2)
CONTEXT_SCHEMA = f"cx8-b{BURST_DEFINITION}-" + hashlib.sha1(",".join(CONTEXT_NAMES).encode()).hexdigest()[:10]
_SESSION_COLUMNS = np.array([i for i, name in enumerate(CONTEXT_NAMES)
                             if name.endswith("_session") or name == "session_sim"], np.int64)
INPUT_NAMES = list(FEATURE_NAMES) + CONTEXT_NAMES
INPUT_SCHEMA = f"{FEATURE_SCHEMA}+{CONTEXT_SCHEMA}"


def derived_inputs(feats: np.ndarray) -> np.ndarray:
    """float64 (n x len(DERIVED_NAMES)) from the absolute features (NaN where an operand is missing):
    sharpness_per_contrast = sharpness_laplacian - 2 log10(255 contrast_rms), the Laplacian's spread
    against the luminance's (a brighter or punchier copy of a frame is not sharper);
    contrast_per_brightness = contrast_rms / brightness, the coefficient of variation of luminance (the
    same scene shot a stop over or under keeps it, short of clipping); exposure_log2 = log2 brightness
    (floored at 1/255), whose difference from the burst's is a ratio: a frame 1.5x too bright is as
    far off on a dark scene as on a bright one, where brightness_vs_burst reads 0.03 and 0.3."""
    f = np.asarray(feats)
    sharp, bright, contrast = (np.asarray(f[:, FEATURE_NAMES.index(k)], np.float64)
                               for k in ("sharpness_laplacian", "brightness", "contrast_rms"))
    out = np.empty((len(f), len(DERIVED_NAMES)))
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, 0] = sharp - 2.0 * np.log10(np.maximum(255.0 * contrast, 0.5))
        out[:, 1] = contrast / np.maximum(bright, 0.02)
        out[:, 2] = np.log2(np.maximum(bright, 1.0 / 255.0))
    return out


def input_spec() -> tuple[list[str], str]:
    """(names, schema) of every per-photo input the keeper model reads: features + context."""
    return list(INPUT_NAMES), INPUT_SCHEMA


def tolerances(feats: np.ndarray) -> np.ndarray:
    """float64 per relative feature (TECHNICAL_NAMES + DERIVED_NAMES): TIE_SHARE x its interquartile
    range over these photos (1 where it has no spread), the burst ranks' tolerance."""
    f = np.asarray(feats)
    f = f[::max(1, len(f) // TOLERANCE_SAMPLE)]  # evenly spaced rows: a spread needs no more
    cols = np.concatenate([np.asarray(f[:, :len(TECHNICAL_NAMES)], np.float64), derived_inputs(f)], axis=1)
    with warnings.catch_warnings():  # a column with no value at all: NaN, tolerance 1
        warnings.simplefilter("ignore", RuntimeWarning)
        q1, q3 = np.nanquantile(np.where(np.isfinite(cols), cols, np.nan), [0.25, 0.75], axis=0)
    return np.where(q3 > q1, TIE_SHARE * (q3 - q1), 1.0)


def mate_pairs(groups: Groups) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): every pair of positions a < b in the same group of 2 to SOFT_RANK_MAX members, each
    pair once (what `soft_ranks` compares; the same for every feature)."""
    sizes = groups.sizes
    gid_sorted = groups.gid[groups.order]
    sel = np.flatnonzero((sizes[gid_sorted] >= 2) & (sizes[gid_sorted] <= SOFT_RANK_MAX))
    if len(sel) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    g = gid_sorted[sel]
    m = sizes[g]
    # every (member, mate) of these groups in sorted positions, then each unordered pair once
    first = np.repeat(np.cumsum(m) - m, m)
    member = np.repeat(sel, m)
    mate = np.repeat(groups.starts[g], m) + (np.arange(int(m.sum())) - first)
    keep = member < mate
    return groups.order[member[keep]], groups.order[mate[keep]]


def soft_ranks(pairs: tuple[np.ndarray, np.ndarray], values: np.ndarray, tolerance: float,
               hard: np.ndarray) -> np.ndarray:
    """Per position: the mean over its group-mates (with a value) of logistic((v - v_mate) /
    tolerance), over `pairs` (`mate_pairs`); `hard` (median_and_rank's rank) for groups larger than
    SOFT_RANK_MAX, missing values and photos without a mate (NaN, 0.5)."""
    v = np.asarray(values, np.float64)
    out = np.array(hard, np.float64)
    a, b = pairs
    ok = np.isfinite(v[a]) & np.isfinite(v[b])
    a, b = a[ok], b[ok]
    if len(a) == 0:
        return out
    with np.errstate(over="ignore"):
        share = 1.0 / (1.0 + np.exp(-(v[a] - v[b]) / tolerance))  # a's win over b; b's is 1 - share
    n = len(v)
    total = np.bincount(a, weights=share, minlength=n) + np.bincount(b, weights=1.0 - share, minlength=n)
    count = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    has = count > 0
    out[has] = total[has] / count[has]
    return out


SIM_STEP = 16384  # rows per step of the cosine pass: its temporaries stay small (a large temporary is
# paid for again in page faults every time it is allocated)


def _group_sums(gid: np.ndarray, n_groups: int, z: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """float32 (n_groups x k): the sum of the rows of z in each group (gid: the group of each of
    `rows`, every row of z when None), as one sparse product (a group-membership matrix times z: no
    copy of z's rows; 0.02 s for 400,000 x 256)."""
    from scipy import sparse

    n = len(z)
    rows = np.arange(n) if rows is None else np.asarray(rows, np.int64)
    member = sparse.csr_matrix((np.ones(len(rows), np.float32), (np.asarray(gid, np.int64), rows)),
                               shape=(n_groups, n))
    return np.asarray(member @ np.asarray(z, np.float32), np.float32)


def _norms(a: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", a, a))


def _centroid_sims(by_session: "Groups", by_burst: "Groups", z: np.ndarray, step: int = SIM_STEP):
    """Cosine similarity of each row of z to its session's and to its burst's mean row.

    A frame alone in its burst is its burst's mean (similarity 1, or 0 for a zero row): only the
    bursts of two frames or more are summed. Each sum adds its rows in position order (the same bits
    whatever else is selected), and no row of z is copied. Bursts are keyed on their own
    (find_bursts never joins frames of two sessions)."""
    n = len(z)
    s_sums = _group_sums(by_session.gid, len(by_session.starts), z)
    multi = by_burst.sizes > 1
    b_row = np.cumsum(multi) - 1  # each burst of two frames or more: its row of b_sums
    b_at = np.where(multi[by_burst.gid], b_row[by_burst.gid], -1)
    in_burst = np.flatnonzero(b_at >= 0)
    b_sums = _group_sums(b_at[in_burst], int(multi.sum()), z, rows=in_burst)
    for sums in (b_sums, s_sums):
        sums /= np.maximum(_norms(sums), 1e-9)[:, None]
    out_s = np.empty(n, np.float32)
    out_b = np.empty(n, np.float32)
    for s in range(0, n, step):
        zz = np.asarray(z[s:s + step], np.float32)
        norm = np.maximum(_norms(zz), 1e-9)
        out_s[s:s + step] = np.einsum("ij,ij->i", zz, s_sums[by_session.gid[s:s + step]]) / norm
        sim = (norm > 1e-9).astype(np.float32)
        at = b_at[s:s + step]
        m = np.flatnonzero(at >= 0)
        sim[m] = np.einsum("ij,ij->i", zz[m], b_sums[at[m]]) / norm[m]
        out_b[s:s + step] = sim
    return out_s, out_b


def compute_context(session: np.ndarray, burst: np.ndarray, time: np.ndarray, feats: np.ndarray,
                    z: np.ndarray | None, orientation: np.ndarray | None = None,
                    tolerance: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """float32 (n x len(CONTEXT_NAMES)) context inputs.

    session, burst: group keys per photo; time: capture time (NaN unknown); feats: the absolute
    features (n x len(FEATURE_NAMES), NaN missing); z: appearance vectors (n x k, e.g. the model's
    embedding projection), or None (the appearance inputs are then NaN); orientation: the photos'
    orientation signatures (fluxcull.embedding.features.ORIENTATION_NAMES), or None (rotation NaN);
    tolerance: the burst ranks' tolerances (`tolerances`, as saved with a model), or None to take
    them from these photos; out: where to write them (n x len(CONTEXT_NAMES) float32, e.g. columns of
    a wider array), else a new array.
    """
    n = len(session)
    out = np.empty((n, len(CONTEXT_NAMES)), np.float32) if out is None else out
    if n == 0:
        return out
    t = np.where(np.isfinite(time), time, np.inf)
    by_session = Groups(session)
    by_burst = Groups(burst, secondary=t)
    derived = derived_inputs(feats)
    out[:, :len(DERIVED_NAMES)] = derived
    bases = len(TECHNICAL_NAMES)

    tol = tolerances(feats) if tolerance is None else np.asarray(tolerance, np.float64)
    pairs = mate_pairs(by_burst)

    def relative(j):
        f = np.asarray(feats[:, j], np.float64) if j < bases else derived[:, j - bases]
        ranks = value_ranks(f)
        s_med, s_rank = median_and_rank(by_session, f, ranks)
        b_med, b_rank = median_and_rank(by_burst, f, ranks)
        return [(f - s_med, s_rank), (f - b_med, soft_ranks(pairs, f, tol[j], b_rank))]

    # numpy's sorts and products release the GIL: on two threads the appearance and rotation passes
    # run beside the features' ranks (same results, written in order)
    col = len(DERIVED_NAMES)
    with ThreadPoolExecutor(max_workers=cores.workers_for(n)) as pool:
        sims = pool.submit(_centroid_sims, by_session, by_burst, z[:, :CENTROID_COMPONENTS]) \
            if z is not None and len(z) else None
        rotation = pool.submit(rotation_vs_burst, by_burst, np.asarray(orientation, np.float32)) \
            if orientation is not None and len(orientation) else None
        for both in pool.map(relative, range(len(_RELATIVE_OF))):
            for diff, rank in both:
                out[:, col] = diff
                out[:, col + 1] = rank
                col += 2
        bsize = by_burst.size_of()
        out[:, col] = np.log2(bsize)
        # position in the burst by time: the burst groups are ordered by (burst, time)
        pos_sorted = np.arange(n) - by_burst.starts[by_burst.gid[by_burst.order]]
        pos = np.empty(n, np.float64)
        pos[by_burst.order] = pos_sorted
        out[:, col + 1] = np.where(bsize > 1, pos / np.maximum(bsize - 1, 1), 0.5)
        # number of distinct bursts per session
        pair = Groups(session, secondary=burst)
        first_of_burst = np.r_[True, (np.asarray(burst)[pair.order][1:] != np.asarray(burst)[pair.order][:-1])
                               | (np.asarray(session)[pair.order][1:] != np.asarray(session)[pair.order][:-1])]
        nb_sorted = np.add.reduceat(first_of_burst.astype(np.int64), pair.starts)
        out[:, col + 2] = np.log2(nb_sorted[pair.gid])
        if sims is not None:
            ssim, bsim = sims.result()
            out[:, col + 3] = ssim
            out[:, col + 4] = bsim
            best = np.full(len(by_burst.starts), -np.inf, np.float32)
            np.maximum.at(best, by_burst.gid, bsim)
            out[:, col + 5] = (bsim >= best[by_burst.gid]).astype(np.float32)
        else:
            out[:, col + 3:col + 6] = np.nan
        out[:, col + 6] = rotation.result() if rotation is not None else np.nan
    # alone in its session: nothing to compare with. Missing, not "exactly typical": a photo no
    # other photo was shot near would otherwise look like the most typical frame of a walk
    alone = by_session.size_of() == 1
    out[np.ix_(alone, _SESSION_COLUMNS)] = np.nan
    return out
