"""Technical and metadata features of a photo: one float32 vector, NaN where a value is unknown.

numpy only (no torch). This module is the public entry: the names and schema of the whole vector,
and its storage. Technical features come from the pixels (`pixel_features`), computed in the same
decode pass as the embedding on a fixed-size image (long side `FEATURE_SIZE` px, the size of the
ingest thumbnails), so they are comparable across cameras and resolutions. Metadata features come
from the catalog (`metadata_features`). `photo_features.vector` stores the whole vector (schema
`FEATURE_SCHEMA`, with the SHA-256 of the bytes measured); `load_features` returns the stored
technical part and recomputes the metadata part from the catalog, so later ingests (which can grow
or split sessions) are always reflected.

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
| 13 | tilt_degrees | how far the dominant straight lines lean from level: the strongest peak within 10 degrees of horizontal/vertical of the edge-orientation histogram (strong edges, folded to +-45 degrees) | 0 (level) .. 10 |
| 14 | line_strength | how much of the strong-edge energy lies along that peak, over a flat histogram (low: no straight lines, tilt_degrees means little) | 1 .. ~20 |
| 15 | sharpness_reblur | blur that the scene's detail does not mask: over the strongest 2% of gradients, the mean of the gradient over the gradient after one more 3x3 box blur | ~1 (soft) .. ~3 (crisp) |
| 16 | hour_sin | sin(2 pi hour / 24), local capture time; NaN without an EXIF time | -1 .. 1 |
| 17 | hour_cos | cos(2 pi hour / 24) | -1 .. 1 |
| 18 | season_sin | sin(2 pi day-of-year / 365.25), shifted half a year south of the equator | -1 .. 1 |
| 19 | season_cos | cos(2 pi day-of-year / 365.25), idem (1 = midwinter) | -1 .. 1 |
| 20 | focal_35mm | focal length, 35 mm equivalent | mm |
| 21 | aperture | f-number | e.g. 2.8 |
| 22 | shutter_log2 | log2(exposure time in s) | -13 (1/8000) .. 5 |
| 23 | iso_log2 | log2(ISO) | 6.6 (100) .. |
| 24 | subject_distance_log10 | log10(focus / subject distance in m), clipped to [-2, 3] | |
| 25-27 | gps_x, gps_y, gps_z | GPS position on the unit sphere (continuous, no wrap-around at +-180) | -1 .. 1 |
| 28 | gps_cell | location cluster: the 4-character geohash cell (~39 x 20 km) as a 20-bit integer; photos in the same cell share it | 0 .. 1048575 |
| 29 | session_position | rank of the photo in its session by capture time, 0 (first) .. 1 (last); 0.5 alone | 0 .. 1 |
| 30 | session_length_log2 | log2(number of photos in the session) | 0 .. |
| 31 | megapixels_log2 | log2(width x height / 1e6) of the original | |

Stored after these, not a model input: the orientation signature (`ORIENTATION_NAMES`, 16 values:
the real and imaginary parts of harmonics 1-8 of the gradient-orientation distribution), from which
the keeper model's context inputs measure how far a frame is rotated against the rest of its burst
(`load_features(..., with_orientation=True)`). fx2 added it; fx3 added `sharpness_reblur`. A library's vectors of an older schema are measured
again by `embed` (pixels only: the embeddings are kept).
"""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np

from fluxcull.catalog import features_store
from fluxcull.catalog.queries import photo_sha256s

# the two halves of the vector live in their own modules; re-exported here, the public entry
from fluxcull.embedding.metadata_features import (METADATA_NAMES, as_ids, geohash_cell,  # noqa: F401
                                                  geohash_string, metadata_features)
from fluxcull.embedding.pixel_features import (FEATURE_SIZE, N_MEASURED, N_ORIENT, N_TECH,  # noqa: F401
                                               ORIENTATION_HARMONICS, ORIENTATION_NAMES, TECHNICAL_NAMES, feature_image,
                                               level_lines, measured_features, technical_features)

FEATURE_NAMES = TECHNICAL_NAMES + METADATA_NAMES
# the stored vector: the features, then the orientation signature
STORED_NAMES = FEATURE_NAMES + ORIENTATION_NAMES
_N_FEAT = len(FEATURE_NAMES)
_STORED_BYTES = 4 * len(STORED_NAMES)
FEATURE_SCHEMA = "fx3-" + hashlib.sha1(",".join(STORED_NAMES).encode()).hexdigest()[:10]


# -- storage ---------------------------------------------------------------------------------
def store_features(conn: sqlite3.Connection, photo_ids, technical: np.ndarray,
                   source_sha256: list[str | None] | None = None) -> None:
    """Write full vectors (measured rows given: MEASURED_NAMES, or TECHNICAL_NAMES alone with no
    orientation signature; metadata from the catalog) in one transaction, recording the SHA-256 of the
    bytes they were measured on (default: the photo's current one)."""
    ids = [int(p) for p in photo_ids]
    if not ids:
        return
    measured = np.asarray(technical, np.float32).reshape(len(ids), -1)
    if measured.shape[1] not in (N_TECH, N_MEASURED):
        raise ValueError(f"measured features have {measured.shape[1]} columns, not {N_TECH} or {N_MEASURED}")
    orient = (measured[:, N_TECH:] if measured.shape[1] == N_MEASURED
              else np.full((len(ids), N_ORIENT), np.nan, np.float32))
    full = np.concatenate([measured[:, :N_TECH], metadata_features(conn, ids), orient], axis=1).astype(np.float32)
    if source_sha256 is None:
        shas = photo_sha256s(conn, ids)
        source_sha256 = [shas.get(pid) for pid in ids]
    features_store.put_feature_vectors(conn, FEATURE_SCHEMA,
                                       ((pid, full[i].tobytes(), source_sha256[i]) for i, pid in enumerate(ids)))


def missing_feature_ids(conn: sqlite3.Connection, role: str | None = None) -> list[int]:
    """Photos (status ok) without features of the current schema for their current bytes."""
    return features_store.missing_feature_ids(conn, FEATURE_SCHEMA, role)


def _stored_columns(conn: sqlite3.Connection, photo_ids, columns: slice) -> np.ndarray:
    """The stored vectors' `columns` (of STORED_NAMES; float32) for photos, in order; NaN where none
    are stored under the current schema. Read-only where it is a view of the vectors as read (every
    photo has one and the ids are sorted and distinct: a whole-library pass)."""
    ids = as_ids(photo_ids)
    uids, inv = np.unique(ids, return_inverse=True)
    width = len(range(*columns.indices(len(STORED_NAMES))))
    rows = features_store.feature_vector_rows(conn, uids, FEATURE_SCHEMA)
    pid = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    blobs = [r[1] for r in rows]
    del rows
    good = np.fromiter((len(v) if isinstance(v, bytes) else -1 for v in blobs), np.int64, len(blobs)) == _STORED_BYTES
    if not good.all():  # values of another kind or size: those photos stay NaN
        pid, blobs = pid[good], [v for v, ok in zip(blobs, good.tolist()) if ok]
    vecs = np.frombuffer(b"".join(blobs), np.float32).reshape(len(pid), len(STORED_NAMES))
    del blobs
    if len(pid) == len(uids) and np.array_equal(pid, uids):  # every photo, in id order: nothing to place
        out = vecs[:, columns]
    else:
        out = np.full((len(uids), width), np.nan, np.float32)
        at = np.searchsorted(uids, pid)
        ok = (at < len(uids)) & (uids[np.minimum(at, len(uids) - 1)] == pid)
        out[at[ok]] = vecs[ok, columns]
    return out if np.array_equal(uids, ids) else out[inv.ravel()]  # sorted distinct ids: in their order already


def load_features(conn: sqlite3.Connection, photo_ids, metadata_rows: np.ndarray | None = None,
                  with_orientation: bool = False):
    """Features of photos in the given order: float32 (n x len(FEATURE_NAMES)), NaN = missing; with
    `with_orientation`, (features, orientation signatures n x N_ORIENT) from the same read.

    Technical values come from photo_features (NaN where not computed yet or computed under an
    older schema); metadata values are computed from the catalog as it is now (`metadata_rows`: the
    metadata columns of every photo, when a whole-library pass has just read them).
    """
    ids = as_ids(photo_ids)
    stored = _stored_columns(conn, ids, slice(None))
    feats = np.concatenate([stored[:, :N_TECH], metadata_features(conn, ids, every=metadata_rows)], axis=1)
    return (feats, np.ascontiguousarray(stored[:, _N_FEAT:])) if with_orientation else feats


def refresh_metadata(conn: sqlite3.Connection, role: str | None = None, chunk: int = 50_000) -> int:
    """Bring the metadata part of the stored vectors (of `role`'s photos) up to the catalog as it is
    now: what a vector stored while an ingest was still running holds before the ingest groups the
    sessions. Only the vectors that change are written; returns how many. (Readers never see the
    difference, `load_features` recomputes that part; this keeps the stored vectors the same as
    those `embed` writes after the ingest has finished.)"""
    ids = features_store.featured_photo_ids(conn, FEATURE_SCHEMA, role)
    changed = 0
    for i in range(0, len(ids), chunk):
        uids = np.asarray(ids[i:i + chunk], np.int64)
        rows = features_store.feature_vector_rows(conn, uids, FEATURE_SCHEMA)
        stored = {r[0]: r[1] for r in rows if isinstance(r[1], bytes) and len(r[1]) == _STORED_BYTES}
        have = np.asarray([p for p in uids.tolist() if p in stored], np.int64)
        if not len(have):
            continue
        old = np.frombuffer(b"".join(stored[p] for p in have.tolist()), np.float32).reshape(len(have), -1)
        new = np.concatenate([old[:, :N_TECH], metadata_features(conn, have), old[:, _N_FEAT:]],
                             axis=1).astype(np.float32)
        todo = [(int(p), new[j].tobytes()) for j, p in enumerate(have.tolist()) if new[j].tobytes() != stored[p]]
        if todo:
            features_store.replace_vectors(conn, FEATURE_SCHEMA, todo)
            changed += len(todo)
    return changed
