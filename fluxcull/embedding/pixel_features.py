"""Technical features measured on a photo's pixels (the table is in fluxcull.embedding.features), at a
fixed size (long side FEATURE_SIZE px, the size of the ingest thumbnails) so they are comparable
across cameras and resolutions. numpy and Pillow only."""

from __future__ import annotations

import math

import numpy as np

TECHNICAL_NAMES = [
    "sharpness_laplacian", "sharpness_edge", "brightness", "highlights_clipped", "shadows_clipped",
    "contrast_rms", "dynamic_range", "haze", "colorfulness", "saturation", "monochrome", "noise_sigma",
    "aspect_log2", "tilt_degrees", "line_strength", "sharpness_reblur",
]
N_TECH = len(TECHNICAL_NAMES)
# the orientation signature: the first harmonics of the edge-orientation distribution (orientation
# modulo 180 degrees, weighted by gradient magnitude). Not a model input: two frames' signatures tell
# how far one is rotated against the other (fluxcull.keeper.context), which an absolute tilt estimate
# cannot do for scenes without straight lines
ORIENTATION_HARMONICS = 8
ORIENTATION_NAMES = ([f"orient_re{k}" for k in range(1, ORIENTATION_HARMONICS + 1)]
                     + [f"orient_im{k}" for k in range(1, ORIENTATION_HARMONICS + 1)])
N_ORIENT = len(ORIENTATION_NAMES)
MEASURED_NAMES = TECHNICAL_NAMES + ORIENTATION_NAMES  # what one pass over the pixels measures
N_MEASURED = len(MEASURED_NAMES)
FEATURE_SIZE = 512  # long side of the image the technical features are measured on


def feature_image(img):
    """The PIL image scaled so its long side is FEATURE_SIZE (down only), RGB."""
    from PIL import Image

    if img.mode != "RGB":
        img = img.convert("RGB")
    w, h = img.size
    if max(w, h) > FEATURE_SIZE:
        s = FEATURE_SIZE / max(w, h)
        img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return img


def _bin(a: np.ndarray, k: int) -> np.ndarray:
    h, w = (a.shape[0] // k) * k, (a.shape[1] // k) * k
    return a[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))


def _grad(a: np.ndarray) -> np.ndarray:
    gx = a[1:-1, 2:] - a[1:-1, :-2]
    gy = a[2:, 1:-1] - a[:-2, 1:-1]
    return np.sqrt(gx * gx + gy * gy)


def _hist_percentiles(hist: np.ndarray, qs) -> list[float]:
    cdf = np.cumsum(hist) / max(int(hist.sum()), 1)
    return [float(np.searchsorted(cdf, q / 100.0)) for q in qs]


def technical_features(img) -> np.ndarray:
    """The technical features (TECHNICAL_NAMES) of a PIL image (any size; measured at FEATURE_SIZE)."""
    return measured_features(img)[:N_TECH]


def measured_features(img) -> np.ndarray:
    """float32 MEASURED_NAMES: the technical features, then the orientation signature, of a PIL image
    (any size; measured at FEATURE_SIZE), in one pass."""
    img = feature_image(img)
    w, h = img.size
    out = np.full(N_MEASURED, np.nan, np.float32)
    out[TECHNICAL_NAMES.index("aspect_log2")] = math.log2(w / h)
    if min(w, h) < 16:
        return out
    rgb8 = np.asarray(img)
    y8 = np.asarray(img.convert("L"))  # Rec. 601 luma, in C
    y = y8.astype(np.float32)
    # sharpness: Laplacian variance (sensitive to noise as well as detail)
    lap = y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - 4.0 * y[1:-1, 1:-1]
    out[0] = math.log10(1.0 + float(lap.var()))
    # robust sharpness: strong-edge gradient at fine scale (2x2 bins average the noise away) over
    # the same at coarse scale (8x8 bins, per-pixel); blur lowers it, noise and exposure barely do
    fine = float(np.percentile(_grad(_bin(y, 2))[::2, ::2], 99))
    coarse = float(np.percentile(_grad(_bin(y, 8)), 99)) / 4.0
    out[1] = fine / (coarse + 1.0)
    # exposure and contrast (percentiles from the 256-bin histogram)
    hist = np.bincount(y8.ravel(), minlength=256)
    n = y8.size
    out[2] = float(hist @ np.arange(256)) / n / 255.0
    mx = rgb8.max(axis=2)
    mn = rgb8.min(axis=2)
    out[3] = float(np.count_nonzero(mx >= 250)) / n
    out[4] = float(hist[:6].sum()) / n
    out[5] = float(y.std()) / 255.0
    p1, p99 = _hist_percentiles(hist, (1, 99))
    out[6] = (p99 - p1) / 255.0
    # haze: dark channel prior over 16x16 blocks
    bh, bw = h // 16, w // 16
    out[7] = float(mn[:bh * 16, :bw * 16].reshape(bh, 16, bw, 16).min(axis=(1, 3)).mean()) / 255.0
    # colour
    rgb = rgb8[::2, ::2].astype(np.float32)  # colour statistics on every other pixel
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    out[8] = (math.hypot(float(rg.std()), float(yb.std())) + 0.3 * math.hypot(float(rg.mean()), float(yb.mean()))) / 100.0
    chroma = mx.astype(np.int16) - mn
    out[9] = float((chroma / np.maximum(mx, 1).astype(np.float32)).mean())
    chist = np.bincount(chroma.ravel(), minlength=256)
    out[10] = 1.0 if _hist_percentiles(chist, (99,))[0] < 12.0 else 0.0
    # noise: Immerkaer's operator on the flatter half of the image
    m = (y[:-2, :-2] + y[:-2, 2:] + y[2:, :-2] + y[2:, 2:]) - 2.0 * (
        y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:]) + 4.0 * y[1:-1, 1:-1]
    alap = np.abs(lap)
    flat = alap <= np.percentile(alap[::3, ::3], 50)
    out[11] = float(math.sqrt(math.pi / 2.0) / 6.0 * np.abs(m[flat]).mean()) if flat.any() else np.nan
    out[15] = reblur_sharpness(y)
    gx, gy, mag = _binned_gradients(y)
    if gx is not None:
        out[13], out[14] = _level_from(gx, gy, mag)
        out[N_TECH:] = _orientation_from(gx, gy, mag)
    return out


REBLUR_EDGES = 98  # percentile of the gradient magnitude from which an edge counts as one of the strongest


def reblur_sharpness(y: np.ndarray) -> float:
    """How much one more 3x3 box blur weakens the strongest edges: the mean, over the pixels whose
    gradient is in the top 2%, of |grad y| / (|grad box3(y)| + 1). A crisp edge loses most of its
    gradient to the blur (~2-3), an edge that is already soft hardly any (~1). Being a ratio on the
    photo's own edges, it reads the blur of the capture rather than how much detail the scene holds,
    which the Laplacian variance mixes in (a soft frame of a detailed scene can out-score a crisp frame
    of a plain one)."""
    box = (y[:-2, :-2] + y[:-2, 1:-1] + y[:-2, 2:] + y[1:-1, :-2] + y[1:-1, 1:-1] + y[1:-1, 2:]
           + y[2:, :-2] + y[2:, 1:-1] + y[2:, 2:]) * np.float32(1.0 / 9.0)
    g = _grad(y)[1:-1, 1:-1]
    gb = _grad(box)
    strong = g >= np.percentile(g[::2, ::2], REBLUR_EDGES)
    if np.count_nonzero(strong) < 20:
        return math.nan
    return float((g[strong] / (gb[strong] + 1.0)).mean())


_LEVEL_KERNEL = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)  # 1 degree sigma at 0.5 degree bins
_LEVEL_CENTERS = np.linspace(-44.75, 44.75, 180)


def _binned_gradients(y: np.ndarray):
    """(gx, gy, magnitude) of the 2x2-binned luminance, or (None, None, None) when it is too small."""
    yb = _bin(y, 2)
    if min(yb.shape) < 8:
        return None, None, None
    gx = yb[1:-1, 2:] - yb[1:-1, :-2]
    gy = yb[2:, 1:-1] - yb[:-2, 1:-1]
    return gx, gy, np.hypot(gx, gy)


def level_lines(y: np.ndarray) -> tuple[float, float]:
    """(tilt_degrees, line_strength) of a luminance image: a crooked horizon or leaning verticals move
    the peak of the strong edges' orientations away from 0 (horizontal/vertical, folded together)."""
    gx, gy, mag = _binned_gradients(y)
    if gx is None:
        return math.nan, math.nan
    return _level_from(gx, gy, mag)


def _orientation_from(gx: np.ndarray, gy: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Harmonics k = 1..ORIENTATION_HARMONICS of the orientation distribution of the stronger half of
    the gradients: sum(w exp(-2ik angle)) / sum(w). Rotating the image by t multiplies harmonic k by
    exp(-2ikt), so two frames' signatures give their relative rotation whatever the scene."""
    out = np.full(N_ORIENT, np.nan, np.float32)
    m = mag > max(float(np.percentile(mag[::2, ::2], 50)), 1.0)
    w = mag[m]
    if len(w) < 50:
        return out
    # exp(-2i angle) = ((gx - i gy) / |g|)^2; w exp(-2ik angle) for every k by repeated products
    unit = (gx[m] - 1j * gy[m]).astype(np.complex64) / w
    e1 = unit * unit
    total = float(w.sum(dtype=np.float64))
    p = w.astype(np.complex64)
    for k in range(ORIENTATION_HARMONICS):
        p *= e1
        c = p.sum(dtype=np.complex128) / total
        out[k], out[ORIENTATION_HARMONICS + k] = c.real, c.imag
    return out


def _level_from(gx: np.ndarray, gy: np.ndarray, mag: np.ndarray) -> tuple[float, float]:
    strong = mag > max(float(np.percentile(mag, 90)), 8.0)
    if np.count_nonzero(strong) < 50:
        return math.nan, math.nan
    ang = np.degrees(np.arctan2(gy[strong], gx[strong]))
    fold = (ang + 45.0) % 90.0 - 45.0
    hist, _ = np.histogram(fold, bins=180, range=(-45.0, 45.0), weights=mag[strong])
    smooth = np.convolve(np.r_[hist[-6:], hist, hist[:6]], _LEVEL_KERNEL, mode="same")[6:-6]
    near = np.abs(_LEVEL_CENTERS) <= 10.0
    j = int(np.argmax(np.where(near, smooth, -1.0)))
    return abs(float(_LEVEL_CENTERS[j])), float(smooth[j] / max(float(smooth.mean()), 1e-9))
