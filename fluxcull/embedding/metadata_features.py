"""Metadata features of a photo, from its catalog row and its session (the table in
fluxcull.embedding.features, rows 15-30): capture hour and season, exposure, focus distance, GPS
position and cell, place in its session, megapixels. NaN where a value is unknown.

numpy only. `metadata_features` computes them for many photos at once with a few bulk catalog reads
(catalog/features_store.py) and array operations, bit-identical to `_metadata_row`, the per-photo
reference definition. The stored feature vector holds them too, but `features.load_features`
computes them again from the catalog as it is now, so later ingests (which can grow or split
sessions) are always reflected.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3

import numpy as np

from fluxcull.catalog import features_store

METADATA_NAMES = [
    "hour_sin", "hour_cos", "season_sin", "season_cos", "focal_35mm", "aperture", "shutter_log2", "iso_log2",
    "subject_distance_log10", "gps_x", "gps_y", "gps_z", "gps_cell", "session_position", "session_length_log2",
    "megapixels_log2",
]

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


_EPOCH = dt.datetime(1970, 1, 1)
_DAY = 86400.0
# capture times whose date datetime can represent (years 1 .. 9999), with a day's margin
_CT_MIN, _CT_MAX = -62135596800.0 + _DAY, 253402300800.0 - _DAY


def _day_of_year(ct: float) -> int | None:
    """Day of the year (1 .. 366) of a capture time; None where no date represents it."""
    try:
        return (_EPOCH + dt.timedelta(seconds=ct)).timetuple().tm_yday
    except (OverflowError, ValueError):
        return None


def _metadata_row(row, position: float, session_len: int | None) -> np.ndarray:
    """The metadata features of one photo (a mapping of the catalog columns in _META_KEYS), given its
    position in its session and the session's length (None: no session). This is the reference
    definition; `metadata_features` computes the same values for many photos at once."""
    out = np.full(len(METADATA_NAMES), np.nan, np.float32)
    lat, lon = row["gps_lat"], row["gps_lon"]
    has_gps = lat is not None and lon is not None and not (lat == 0 and lon == 0)
    ct = row["capture_time"]
    if ct is not None and row["time_source"] == "exif":
        hour = (ct % 86400.0) / 3600.0
        out[0], out[1] = math.sin(2 * math.pi * hour / 24), math.cos(2 * math.pi * hour / 24)
        doy = _day_of_year(ct)
        if doy is not None:
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


_META_KEYS = features_store.METADATA_COLUMNS  # time_source read as 1 ('exif') / 0: every value a number or NULL
_COL = {k: i for i, k in enumerate(_META_KEYS)}
_INTEGER_COLUMNS = {"id", "time_source", "iso", "session_id", "width", "height"}
# values that go through sin/cos/log: numpy's float64 versions may differ from libm's in the last
# bits, so where such a value lies this close to a float32 rounding boundary the photo is computed
# by _metadata_row instead, which makes the result bit-identical to it
_TRANSCENDENTAL = (0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 15)
_TIE_MARGIN = 2.0 ** -40


def as_ids(photo_ids) -> np.ndarray:
    if isinstance(photo_ids, np.ndarray):
        return photo_ids.astype(np.int64).ravel()
    return np.array([int(p) for p in photo_ids], np.int64)


def _session_ranks(conn: sqlite3.Connection, session_ids: np.ndarray, every: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every member of the given sessions: (photo ids sorted, position 0..1 by capture time, session length).
    `every`: the metadata rows of every photo of the library, when already read (no query then)."""
    if every is None:
        members = features_store.session_members(conn, np.unique(session_ids).tolist())
    else:  # the catalog's order: session, then capture time (NULL first), then id
        sess, ct, pid = every[:, _COL["session_id"]], every[:, _COL["capture_time"]], every[:, _COL["id"]]
        inside = np.isin(sess, np.unique(session_ids))
        order = np.lexsort((pid[inside], np.where(np.isnan(ct[inside]), -np.inf, ct[inside]), sess[inside]))
        members = np.stack([sess[inside][order], pid[inside][order]], axis=1).astype(np.int64)
    sid, pid = members[:, 0], members[:, 1]
    m = len(pid)
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]]) if m else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, m])
    length = np.repeat(lengths, lengths)
    k = np.arange(m) - np.repeat(starts, lengths)
    pos = np.full(m, 0.5)
    many = length > 1
    pos[many] = k[many] / (length[many] - 1)
    order = np.argsort(pid, kind="stable")
    return pid[order], pos[order], length[order]


def _geohash_cells(lat: np.ndarray, lon: np.ndarray, chars: int = 4) -> np.ndarray:
    """geohash_cell for arrays (same bisection, same float operations)."""
    n = len(lat)
    lat_lo, lat_hi = np.full(n, -90.0), np.full(n, 90.0)
    lon_lo, lon_hi = np.full(n, -180.0), np.full(n, 180.0)
    value = np.zeros(n, np.int64)
    for i in range(chars * 5):
        if i % 2 == 0:
            mid = (lon_lo + lon_hi) / 2
            bit = lon >= mid
            lon_lo, lon_hi = np.where(bit, mid, lon_lo), np.where(bit, lon_hi, mid)
        else:
            mid = (lat_lo + lat_hi) / 2
            bit = lat >= mid
            lat_lo, lat_hi = np.where(bit, mid, lat_lo), np.where(bit, lat_hi, mid)
        value = (value << 1) | bit
    return value


def _days_of_year(ct: np.ndarray) -> np.ndarray:
    """_day_of_year for an array of capture times (float, NaN where there is no date)."""
    doy = np.full(len(ct), np.nan)
    with np.errstate(invalid="ignore"):
        inside = (ct >= _CT_MIN) & (ct <= _CT_MAX)
    days = np.floor(ct[inside] / _DAY)
    into = ct[inside] - days * _DAY
    # timedelta rounds to the microsecond: within a millisecond of midnight ask datetime itself
    exact = (into > 1e-3) & (into < _DAY - 1e-3)
    d = days[exact].astype(np.int64).astype("datetime64[D]")
    idx = np.flatnonzero(inside)
    doy[idx[exact]] = (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) + 1
    for j in np.r_[idx[~exact], np.flatnonzero(~inside & ~np.isnan(ct))]:
        v = _day_of_year(float(ct[j]))
        doy[j] = np.nan if v is None else v
    return doy


def _metadata_block(conn: sqlite3.Connection, uids: np.ndarray, every: np.ndarray | None = None) -> np.ndarray:
    """The metadata features of the sorted unique ids `uids` (rows of unknown ids stay NaN); `every`:
    see `metadata_features`."""
    out = np.full((len(uids), len(METADATA_NAMES)), np.nan, np.float32)
    if every is None:
        rows = features_store.metadata_rows(conn, uids)
        if not rows:
            return out
        raw = np.array(rows, np.float64)  # NULL -> NaN
    else:
        raw = rows = np.asarray(every, np.float64)
        if not len(raw):
            return out
    at = np.searchsorted(uids, raw[:, 0])
    wanted = (at < len(uids)) & (uids[np.minimum(at, len(uids) - 1)] == raw[:, 0])
    src = np.flatnonzero(wanted)  # index into rows
    at = at[wanted]
    sub = raw if len(src) == len(raw) else raw[src]
    c = {k: sub[:, i] for k, i in _COL.items()}
    n = len(src)
    m = np.full((n, len(METADATA_NAMES)), np.nan)  # float64, cast once at the end
    lat, lon = c["gps_lat"], c["gps_lon"]
    with np.errstate(invalid="ignore"):
        has_gps = ~np.isnan(lat) & ~np.isnan(lon) & ~((lat == 0) & (lon == 0))
        ct = c["capture_time"]
        timed = ~np.isnan(ct) & (c["time_source"] == 1)
        hour = np.mod(ct[timed], 86400.0) / 3600.0
        m[timed, 0] = np.sin(2 * math.pi * hour / 24)
        m[timed, 1] = np.cos(2 * math.pi * hour / 24)
        doy = np.full(n, np.nan)
        doy[timed] = _days_of_year(ct[timed])
        dated = ~np.isnan(doy)
        south = has_gps & (lat < 0)
        ang = 2 * math.pi * (doy[dated] - 1) / 365.25 + np.where(south[dated], math.pi, 0.0)
        m[dated, 2], m[dated, 3] = np.sin(ang), np.cos(ang)
        for j, key in ((4, "focal_length_35mm"), (5, "aperture")):
            ok = c[key] > 0
            m[ok, j] = c[key][ok]
        for j, key in ((6, "shutter"), (7, "iso")):
            ok = c[key] > 0
            m[ok, j] = np.log2(c[key][ok])
        d = c["subject_distance"]
        ok = d > 0
        m[ok, 8] = np.minimum(np.maximum(np.log10(d[ok]), -2.0), 3.0)
        la, lo = lat[has_gps] * (math.pi / 180.0), lon[has_gps] * (math.pi / 180.0)  # == math.radians
        m[has_gps, 9], m[has_gps, 10], m[has_gps, 11] = np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)
        m[has_gps, 12] = _geohash_cells(lat[has_gps], lon[has_gps])
        w, h = c["width"], c["height"]
        ok = (w > 0) & (h > 0)
        m[ok, 15] = np.log2(w[ok] * h[ok] / 1e6)
    # position in the session and its length
    sess = c["session_id"]
    in_sess = ~np.isnan(sess)
    spid, spos, slen = _session_ranks(conn, sess[in_sess].astype(np.int64), every=raw if every is not None else None)
    pos = np.full(n, np.nan)
    length = np.zeros(n, np.int64)
    if len(spid):
        ids = c["id"].astype(np.int64)
        k = np.minimum(np.searchsorted(spid, ids), len(spid) - 1)
        found = spid[k] == ids
        pos[found], length[found] = spos[k[found]], slen[k[found]]
    ranked = length > 0
    m[ranked, 13] = pos[ranked]
    lens, inv = np.unique(length[ranked], return_inverse=True)
    m[ranked, 14] = np.array([math.log2(int(v)) for v in lens], np.float64)[inv]  # exact: libm, few distinct
    # float32, and the libm value for the few photos where numpy's last bits could change the rounding
    block = m.astype(np.float32)
    t = m[:, _TRANSCENDENTAL]
    with np.errstate(invalid="ignore", over="ignore"):
        tie = ((t * (1 - _TIE_MARGIN)).astype(np.float32) != (t * (1 + _TIE_MARGIN)).astype(np.float32))
    for j in np.flatnonzero((tie & ~np.isnan(t)).any(axis=1)):
        r = rows[src[j]]
        if every is not None:  # a float row: NaN was NULL, ids and counts were integers
            r = tuple(None if v != v else (int(v) if k in _INTEGER_COLUMNS else float(v)) for k, v in zip(_META_KEYS, r))
        row = dict(zip(_META_KEYS, r))
        row["time_source"] = "exif" if r[_COL["time_source"]] else None
        block[j] = _metadata_row(row, float(pos[j]), int(length[j]) or None)
    out[at] = block
    return out


def metadata_features(conn: sqlite3.Connection, photo_ids, every: np.ndarray | None = None) -> np.ndarray:
    """The metadata features (METADATA_NAMES) of photos, in order; unknown ids give NaN rows.

    Vectorised over all photos: a few bulk queries and array operations; the values are
    bit-identical to `_metadata_row` photo by photo. `every`: float64 rows of
    features_store.METADATA_COLUMNS (NULL as NaN) of every photo of the library, when a whole-library
    pass has read them already; then no query is made."""
    ids = as_ids(photo_ids)
    uids, inv = np.unique(ids, return_inverse=True)
    return _metadata_block(conn, uids, every)[inv.ravel()]
