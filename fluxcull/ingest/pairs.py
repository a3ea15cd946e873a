"""RAW+JPEG pairs: which files of an ingested folder are one photo, kept current at every ingest.

Two files pair when all of these hold:
- same folder and same role (originals or inbox: each keeper-archive export is matched on its own);
- same name stem, case-insensitively (`IMG_0001.CR2` and `img_0001.jpg`);
- one is a camera RAW (every RAW format fluxcull ingests, DNG included: fluxcull.media.formats) and
  the other a JPEG, else a HEIF; a stem carrying two RAWs, or two JPEGs (two HEIFs where there is no
  JPEG), is ambiguous and pairs nothing;
- both were read (status ok: a file that fails stays a problem to see, not half of a pair);
- their EXIF capture times lie within TIME_TOLERANCE_S. Where either file has no EXIF capture
  time (its file time stands in), the folder and the stem decide alone.

The JPEG (or HEIF) is the primary: what the camera rendered, what the grid shows and the model
embeds (a RAW sometimes decodes only in part). The RAW is the secondary: `photos.pair_of` points at
the primary (fluxcull.catalog.raw_jpeg_pairs says what that implies).

`update_pairs` runs at the end of every ingest over the folders it scanned, pairing new twins and
parting files that no longer pair (one gone missing or failing, a renamed file, a changed capture
time). The setting `ingest.raw_jpeg_pairs` = off parts every pair of the folders ingested next.
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from typing import Iterable

from fluxcull.catalog import raw_jpeg_pairs as store
from fluxcull.catalog.settings import get as get_setting
from fluxcull.media import formats

SETTING_KEY = "ingest.raw_jpeg_pairs"
# A camera writes the same DateTimeOriginal into both files; its sub-seconds, or a JPEG the camera
# rendered a moment later, may differ by a fraction of a second. Two frames of a burst that share a
# stem cannot happen (the camera numbers every frame).
TIME_TOLERANCE_S = 2.0
PAIRED_ROLES = ("originals", "inbox")


_RAW = formats.RAW_EXTENSIONS
_RENDERED = formats.JPEG_EXTENSIONS | formats.HEIF_EXTENSIONS


def find_pairs(rows: Iterable[tuple]) -> dict[int, int]:
    """secondary (RAW) id -> primary (JPEG or HEIF) id of the pairs among `rows`, tuples that start
    with (id, path, role, status, capture_time, time_source), by the rules above."""
    raws: dict[tuple, list] = defaultdict(list)
    rendered = []
    for r in rows:
        if r[3] != "ok" or r[2] not in PAIRED_ROLES:
            continue
        folder, _, name = r[1].rpartition(os.sep)
        stem, dot, ext = name.rpartition(".")
        if not dot:
            continue
        ext = "." + ext.lower()
        key = (r[2], folder, stem.casefold())
        if ext in _RAW:
            raws[key].append(r)
        elif ext in _RENDERED:
            rendered.append((key, ext in formats.JPEG_EXTENSIONS, r))
    jpegs: dict[tuple, list] = defaultdict(list)
    heifs: dict[tuple, list] = defaultdict(list)
    for key, is_jpeg, r in rendered:
        if key in raws:
            (jpegs if is_jpeg else heifs)[key].append(r)
    pairs = {}
    for key, group in raws.items():
        primaries = jpegs.get(key) or heifs.get(key) or []
        if len(group) != 1 or len(primaries) != 1:
            continue
        raw, primary = group[0], primaries[0]
        t_raw, t_primary = _exif_time(raw), _exif_time(primary)
        if t_raw is not None and t_primary is not None and abs(t_raw - t_primary) > TIME_TOLERANCE_S:
            continue
        pairs[raw[0]] = primary[0]
    return pairs


def _exif_time(row: tuple) -> float | None:
    return row[4] if row[5] == "exif" else None


def pairing_enabled(conn: sqlite3.Connection) -> bool:
    return get_setting(conn, SETTING_KEY) != "off"


def update_pairs(conn: sqlite3.Connection, roots: Iterable[str]) -> int:
    """Pair and part the files at or below the ingested `roots` (a file: the photos of its folder);
    returns how many pairs lie there now."""
    folders = sorted({r if os.path.isdir(r) else os.path.dirname(r) for r in roots})
    enabled = pairing_enabled(conn)
    joined, parted = [], []
    for folder in _outermost(folders):
        rows = store.pair_rows_under(conn, folder)
        wanted = find_pairs(rows) if enabled else {}
        current = {r[0]: r[6] for r in rows if r[6] is not None}
        joined += [(s, p) for s, p in wanted.items() if current.get(s) != p]
        parted += [s for s in current if s not in wanted]
    store.set_pairs(conn, joined, parted)
    return store.count_pairs(conn, folders)


def _outermost(folders: list[str]) -> list[str]:
    """The folders that lie inside none of the others (each photo is read once)."""
    out: list[str] = []
    for f in sorted(folders):
        if not any(f == o or f.startswith(o.rstrip(os.sep) + os.sep) for o in out):
            out.append(f)
    return out
