"""Metadata candidates: which originals share a keeper's capture time, camera file name or bytes.

`OriginalsIndex.load(conn)` reads every original once into three look-up tables (whole capture
second, file-name key, SHA-256); `lookup(keeper)` then answers per keeper without touching SQL.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from fluxcull.catalog.match_store import keeper_meta_rows, original_meta_batches
from fluxcull.matching.names import camera_stems, norm_model, parse_taken, stem_key, subsec_compatible

# A camera file name confirmed by date: the two capture times lie within this many hours (time
# zone fixes and clock corrections move a keeper's time by hours; cameras reuse a number only
# after 10,000 frames, which takes days at the least).
DATE_WINDOW_HOURS = 36.0

@dataclass
class PhotoMeta:
    id: int
    path: str
    sha256: str | None
    second: str | None
    subsec: str | None
    capture_time: float | None  # only when it came from EXIF
    model: str | None
    original_filename: str | None

    @classmethod
    def from_row(cls, r) -> "PhotoMeta":
        taken = parse_taken(r[3])
        return cls(
            id=r[0], path=r[1], sha256=r[2] or None,
            second=taken[0] if taken else None, subsec=taken[1] if taken else None,
            capture_time=r[4] if (r[4] is not None and (r[5] in (None, "exif")) and taken) else None,
            model=norm_model(r[6]), original_filename=r[7],
        )


@dataclass
class MetaCandidates:
    """What the catalog's metadata says about one keeper."""

    timestamp: list[int] = field(default_factory=list)   # same second, compatible subsec and model
    timestamp_same_second: int = 0                        # originals at that second before filtering
    filename: list[int] = field(default_factory=list)    # camera file name matches
    filename_key: str | None = None
    date_delta_h: dict[int, float] = field(default_factory=dict)  # filename candidate -> |hours apart|
    sha256: list[int] = field(default_factory=list)
    sha_of: dict[int, str | None] = field(default_factory=dict)  # timestamp candidate -> its sha256

    def all_ids(self) -> list[int]:
        return list(dict.fromkeys(self.timestamp + self.filename + self.sha256))


class OriginalsIndex:
    def __init__(self) -> None:
        self.by_second: dict[str, list[int]] = defaultdict(list)
        self.by_stem: dict[str, list[int]] = defaultdict(list)
        self.by_sha: dict[str, list[int]] = defaultdict(list)
        self.meta: dict[int, tuple] = {}  # id -> (subsec, model, capture time, sha256)
        self.count = 0

    @classmethod
    def load(cls, conn: sqlite3.Connection, cancel=None) -> "OriginalsIndex":
        idx = cls()
        for rows in original_meta_batches(conn):
            if cancel is not None:
                cancel.check()
            idx._add_rows(rows)
        return idx

    def _add_rows(self, rows) -> None:
        """Index many catalog rows at once, without a PhotoMeta per row (400,000 of them)."""
        by_second, by_stem, by_sha, meta = self.by_second, self.by_stem, self.by_sha, self.meta
        for pid, path, sha, taken_at, capture, source, model, ofn in rows:
            taken = parse_taken(taken_at)
            if taken:
                by_second[taken[0]].append(pid)
                meta[pid] = (taken[1], norm_model(model), capture if source in (None, "exif") else None, sha or None)
            else:
                meta[pid] = (None, norm_model(model), None, sha or None)
            k1 = stem_key(path)
            if k1:
                by_stem[k1].append(pid)
            if ofn:
                k2 = stem_key(ofn)
                if k2 and k2 != k1:
                    by_stem[k2].append(pid)
            if sha:
                by_sha[sha].append(pid)
        self.count += len(rows)

    def lookup(self, k: PhotoMeta) -> MetaCandidates:
        c = MetaCandidates()
        if k.second:
            same = self.by_second.get(k.second, [])
            c.timestamp_same_second = len(same)
            for oid in same:
                subsec, model = self.meta[oid][:2]
                if not subsec_compatible(k.subsec, subsec):
                    continue
                if k.model and model and k.model != model:
                    continue
                c.timestamp.append(oid)
        names = camera_stems(k.path)
        if k.original_filename:
            names = camera_stems(k.original_filename) + names
        for key in names:  # longest (most specific) name that any original carries wins
            hits = self.by_stem.get(key)
            if hits:
                c.filename = list(hits)
                c.filename_key = key
                break
        if k.capture_time is not None:
            for oid in c.filename:
                t = self.meta[oid][2]
                if t is not None:
                    c.date_delta_h[oid] = abs(t - k.capture_time) / 3600.0
        if k.sha256:
            c.sha256 = list(self.by_sha.get(k.sha256, []))
        for oid in c.timestamp:
            c.sha_of[oid] = self.meta[oid][3]
        return c


def load_keepers(conn: sqlite3.Connection) -> list[PhotoMeta]:
    """Keeper-archive photos (status ok), in id order."""
    return [PhotoMeta.from_row(r) for r in keeper_meta_rows(conn)]
