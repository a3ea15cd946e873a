"""Technical and metadata features of a photo: one float32 vector, NaN where a value is unknown.

numpy only (no torch). Technical features come from the pixels, computed in the same decode pass
as the embedding on a fixed-size image (long side `FEATURE_SIZE` px, the size of the ingest
thumbnails), so they are comparable across cameras and resolutions. Metadata features come from
the catalog. `photo_features.vector` stores the whole vector (schema `FEATURE_SCHEMA`, with the SHA-256 of the
bytes measured);
`load_features` returns the stored technical part and recomputes the metadata part from the
catalog, so later ingests (which can grow or split sessions) are always reflected.

| # | name | meaning | range / unit |
| --- | --- | --- | --- |
| 0 | sharpness_laplacian | log10(1 + variance of the 3x3 Laplacian) of the luminance | ~0 (blurred) .. 4 (crisp) |
| 1 | sharpness_edge | noise-robust sharpness: 99th-percentile gradient on the 2x2-binned luminance over the same on the 8x8-binned one (per pixel) | ~1 (blurred) .. 3 (crisp) |
| 2 | brightness | mean luminance (Rec. 601) | 0 .. 1 |
| 3 | highlights_clipped | fraction of pixels with a channel >= 250 | 0 .. 1 |
| 4 | shadows_clipped | fraction of pixels with luminance <= 5 | 0 .. 1 |
| 5 | contrast_rms | standard deviation of luminance | 0 .. 0.5 |
| 6 | dynamic_range | 99th minus 1st percentile of luminance | 0 .. 1 |
| 7 | haze | flat light / fog: mean of the 16x16-block minimum of the darkest channel (dark-channel prior) | 0 (clear) .. 1 |
| 8 | colorfulness | Hasler-Suesstrunk colourfulness M / 100 | 0 .. ~1.5 |
| 9 | saturation | mean HSV saturation | 0 .. 1 |
| 10 | monochrome | 1 when the photo has no real colour (99th percentile of max-min channel < 12/255), else 0 | 0 / 1 |
| 11 | noise_sigma | Immerkaer noise estimate on the flattest half of the luminance, in 8-bit levels at feature scale | 0 .. ~20 |
| 12 | aspect_log2 | log2(width / height) as displayed (orientation applied) | 0.58 = 3:2 landscape |
| 13 | hour_sin | sin(2 pi hour / 24), local capture time; NaN without an EXIF time | -1 .. 1 |
| 14 | hour_cos | cos(2 pi hour / 24) | -1 .. 1 |
| 15 | season_sin | sin(2 pi day-of-year / 365.25), shifted half a year south of the equator | -1 .. 1 |
| 16 | season_cos | cos(2 pi day-of-year / 365.25), idem (1 = midwinter) | -1 .. 1 |
| 17 | focal_35mm | focal length, 35 mm equivalent | mm |
| 18 | aperture | f-number | e.g. 2.8 |
| 19 | shutter_log2 | log2(exposure time in s) | -13 (1/8000) .. 5 |
| 20 | iso_log2 | log2(ISO) | 6.6 (100) .. |
| 21 | subject_distance_log10 | log10(focus / subject distance in m), clipped to [-2, 3] | |
| 22-24 | gps_x, gps_y, gps_z | GPS position on the unit sphere (continuous, no wrap-around at +-180) | -1 .. 1 |
| 25 | gps_cell | location cluster: the 4-character geohash cell (~39 x 20 km) as a 20-bit integer; photos in the same cell share it | 0 .. 1048575 |
| 26 | session_position | rank of the photo in its session by capture time, 0 (first) .. 1 (last); 0.5 alone | 0 .. 1 |
| 27 | session_length_log2 | log2(number of photos in the session) | 0 .. |
| 28 | megapixels_log2 | log2(width x height / 1e6) of the original | |
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3

import numpy as np

TECHNICAL_NAMES = [
    "sharpness_laplacian", "sharpness_edge", "brightness", "highlights_clipped", "shadows_clipped",
    "contrast_rms", "dynamic_range", "haze", "colorfulness", "saturation", "monochrome", "noise_sigma",
    "aspect_log2",
]
METADATA_NAMES = [
    "hour_sin", "hour_cos", "season_sin", "season_cos", "focal_35mm", "aperture", "shutter_log2", "iso_log2",
    "subject_distance_log10", "gps_x", "gps_y", "gps_z", "gps_cell", "session_position", "session_length_log2",
    "megapixels_log2",
]
FEATURE_NAMES = TECHNICAL_NAMES + METADATA_NAMES
FEATURE_SCHEMA = "fx1-" + hashlib.sha1(",".join(FEATURE_NAMES).encode()).hexdigest()[:10]
N_TECH = len(TECHNICAL_NAMES)
FEATURE_SIZE = 512  # long side of the image the technical features are measured on


# -- technical -------------------------------------------------------------------------------
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
    img = feature_image(img)
    w, h = img.size
    out = np.full(N_TECH, np.nan, np.float32)
    out[12] = math.log2(w / h)
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
    return out


# -- metadata --------------------------------------------------------------------------------
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_cell(lat: float, lon: float, chars: int = 4) -> int:
    """The geohash cell of (lat, lon) with `chars` characters, as an integer (5 bits a char)."""
    lat_lo, lat_hi, lon_lo, lon_hi = -90.0, 90.0, -180.0, 180.0
    value = 0
    for i in range(chars * 5):
        if i % 2 == 0:
            mid = (lon_lo + lon_hi) / 2
            bit = lon >= mid
            lon_lo, lon_hi = (mid, lon_hi) if bit else (lon_lo, mid)
        else:
            mid = (lat_lo + lat_hi) / 2
            bit = lat >= mid
            lat_lo, lat_hi = (mid, lat_hi) if bit else (lat_lo, mid)
        value = (value << 1) | int(bit)
    return value


def geohash_string(cell: int, chars: int = 4) -> str:
    return "".join(_BASE32[(cell >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


def _f(v) -> float:
    return float(v) if v is not None else math.nan


def _metadata_row(row, position: float, session_len: int | None) -> np.ndarray:
    out = np.full(len(METADATA_NAMES), np.nan, np.float32)
    lat, lon = row["gps_lat"], row["gps_lon"]
    has_gps = lat is not None and lon is not None and not (lat == 0 and lon == 0)
    ct = row["capture_time"]
    if ct is not None and row["time_source"] == "exif":
        hour = (ct % 86400.0) / 3600.0
        out[0], out[1] = math.sin(2 * math.pi * hour / 24), math.cos(2 * math.pi * hour / 24)
        doy = (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=ct)).timetuple().tm_yday
        ang = 2 * math.pi * (doy - 1) / 365.25 + (math.pi if has_gps and lat < 0 else 0.0)
        out[2], out[3] = math.sin(ang), math.cos(ang)
    out[4] = _f(row["focal_length_35mm"]) if (row["focal_length_35mm"] or 0) > 0 else math.nan
    out[5] = _f(row["aperture"]) if (row["aperture"] or 0) > 0 else math.nan
    out[6] = math.log2(row["shutter"]) if (row["shutter"] or 0) > 0 else math.nan
    out[7] = math.log2(row["iso"]) if (row["iso"] or 0) > 0 else math.nan
    d = row["subject_distance"]
    out[8] = min(max(math.log10(d), -2.0), 3.0) if d is not None and d > 0 else math.nan
    if has_gps:
        la, lo = math.radians(lat), math.radians(lon)
        out[9], out[10], out[11] = math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)
        out[12] = geohash_cell(lat, lon)
    if session_len:
        out[13] = position
        out[14] = math.log2(session_len)
    w, h = row["width"], row["height"]
    if w and h and w > 0 and h > 0:
        out[15] = math.log2(w * h / 1e6)
    return out


_META_COLS = ("id, capture_time, time_source, focal_length_35mm, aperture, shutter, iso, subject_distance,"
              " gps_lat, gps_lon, session_id, width, height")


def metadata_features(conn: sqlite3.Connection, photo_ids) -> np.ndarray:
    """The metadata features (METADATA_NAMES) of photos, in order; unknown ids give NaN rows."""
    ids = [int(p) for p in photo_ids]
    out = np.full((len(ids), len(METADATA_NAMES)), np.nan, np.float32)
    rows = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        q = f"SELECT {_META_COLS} FROM photos WHERE id IN ({','.join('?' * len(chunk))})"
        for r in conn.execute(q, chunk):
            rows[r[0]] = r
    sessions = sorted({r[10] for r in rows.values() if r[10] is not None})
    rank: dict[int, tuple[float, int]] = {}
    for i in range(0, len(sessions), 500):
        chunk = sessions[i:i + 500]
        cur = conn.execute(
            f"SELECT session_id, id FROM photos WHERE session_id IN ({','.join('?' * len(chunk))})"
            " ORDER BY session_id, capture_time, id", chunk)
        members: dict[int, list[int]] = {}
        for sid, pid in cur:
            members.setdefault(sid, []).append(pid)
        for sid, pids in members.items():
            n = len(pids)
            for k, pid in enumerate(pids):
                rank[pid] = (k / (n - 1) if n > 1 else 0.5, n)
    for i, pid in enumerate(ids):
        r = rows.get(pid)
        if r is None:
            continue
        keys = ("id", "capture_time", "time_source", "focal_length_35mm", "aperture", "shutter", "iso",
                "subject_distance", "gps_lat", "gps_lon", "session_id", "width", "height")
        d = dict(zip(keys, tuple(r)))
        pos, n = rank.get(pid, (math.nan, None))
        out[i] = _metadata_row(d, pos, n)
    return out


# -- storage ---------------------------------------------------------------------------------
def store_features(conn: sqlite3.Connection, photo_ids, technical: np.ndarray,
                   source_sha256: list[str | None] | None = None) -> None:
    """Write full vectors (technical rows given, metadata from the catalog) in one transaction,
    recording the SHA-256 of the bytes they were measured on (default: the photo's current one)."""
    from fluxcull.catalog import transaction

    ids = [int(p) for p in photo_ids]
    if not ids:
        return
    tech = np.asarray(technical, np.float32).reshape(len(ids), N_TECH)
    full = np.concatenate([tech, metadata_features(conn, ids)], axis=1).astype(np.float32)
    if source_sha256 is None:
        shas = dict(conn.execute(f"SELECT id, sha256 FROM photos WHERE id IN ({','.join('?' * len(ids))})", ids))
        source_sha256 = [shas.get(pid) for pid in ids]
    with transaction(conn):
        conn.executemany(
            "INSERT INTO photo_features(photo_id, schema, vector, source_sha256) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(photo_id) DO UPDATE SET schema = excluded.schema, vector = excluded.vector,"
            " source_sha256 = excluded.source_sha256, computed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            [(pid, FEATURE_SCHEMA, full[i].tobytes(), source_sha256[i]) for i, pid in enumerate(ids)],
        )


def missing_feature_ids(conn: sqlite3.Connection, role: str | None = None) -> list[int]:
    """Photos (status ok) without features of the current schema for their current bytes."""
    sql = ("SELECT p.id FROM photos p LEFT JOIN photo_features f ON f.photo_id = p.id"
           " WHERE p.status = 'ok' AND (f.photo_id IS NULL OR f.schema IS NOT ?"
           " OR f.source_sha256 IS NOT p.sha256)")
    params: list = [FEATURE_SCHEMA]
    if role:
        sql += " AND p.role = ?"
        params.append(role)
    return [r[0] for r in conn.execute(sql + " ORDER BY p.id", params)]


def load_features(conn: sqlite3.Connection, photo_ids) -> np.ndarray:
    """Features of photos in the given order: float32 (n x len(FEATURE_NAMES)), NaN = missing.

    Technical values come from photo_features (NaN where not computed yet or computed under an
    older schema); metadata values are computed from the catalog as it is now.
    """
    ids = [int(p) for p in photo_ids]
    tech = np.full((len(ids), N_TECH), np.nan, np.float32)
    pos = {pid: i for i, pid in enumerate(ids)}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        q = f"SELECT photo_id, vector FROM photo_features WHERE schema = ? AND photo_id IN ({','.join('?' * len(chunk))})"
        for pid, blob in conn.execute(q, [FEATURE_SCHEMA, *chunk]):
            vec = np.frombuffer(blob, np.float32)
            if vec.shape[0] == len(FEATURE_NAMES):
                tech[pos[pid]] = vec[:N_TECH]
    return np.concatenate([tech, metadata_features(conn, ids)], axis=1)
