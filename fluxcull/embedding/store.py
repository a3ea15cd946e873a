"""EmbeddingStore: float16 vectors in a memory-mapped file per backbone, indexed in the catalog.

Concurrency: rows are allocated inside the catalog's write transaction (BEGIN IMMEDIATE), and the
vectors are written and fsynced into the file before that transaction commits. Two writers (two
`embed` runs, the GUI's inbox watcher and the CLI) therefore never pick the same row: the second
waits for the first's commit and then sees its rows.

Crash safety: a vector is written and fsynced into its row first; only then is its row committed to
`embedding_rows`. A crash in between leaves an unindexed row that the next writer reuses. A photo
that gets a new vector gets a new row (its old, still valid vector stays until the commit), unless
its old row is damaged, which is then rewritten in place.

Integrity: each index row records the CRC-32 of its vector's bytes. `check()` compares the file
with the index (its size, then every row's checksum); `missing_photo_ids` treats a damaged row as
missing (so `embed` rebuilds it), and `verified()` raises `StoreDamaged` so nothing is scored from
vectors that are not the ones stored.
A full check reads every vector (about 20 s for 400,000 on two cores), so it is not repeated while
nothing changed: a passed check leaves a stamp (`verified.json` beside the file: the file's size,
mtime and inode and the index's row count, last row, checksum sum and newest write). `write()`
carries a valid stamp forward inside its transaction, since it knows the rows it wrote; anything
else that touches the file or the index (another program, a truncation, a flipped bit written
through the file system) changes the stamp's key, and the next `verified()` checks every row again.
`fluxcull doctor` always checks every row.
Readers map the file read-only and slice the rows they need; nothing loads the whole matrix.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fluxcull.catalog import embedding_index as index
from fluxcull.catalog import transaction
from fluxcull.catalog.embedding_index import active_backbone_id  # noqa: F401  (its home was here)
from fluxcull.catalog.queries import photo_sha256s
from fluxcull.embedding.backbones import Backbone, BackboneUnavailable, get_backbone
from fluxcull.errors import InvalidValue, StoreDamaged, Unavailable

_GROW_ROWS = 4096
_CHECK_CHUNK = 8192  # rows read at a time when verifying
_STAMP = "verified.json"


@dataclass
class StoreCheck:
    """The result of comparing a store's file with its index."""

    backbone_id: str
    path: str
    rows: int = 0                    # indexed rows
    file_rows: int = 0               # rows the file can hold
    file_exists: bool = True
    beyond_file: list[int] = field(default_factory=list)   # photo ids whose row lies past the file's end
    bad_checksum: list[int] = field(default_factory=list)  # photo ids whose bytes changed
    unverified: int = 0              # rows stored before checksums (size-checked only)

    @property
    def damaged_ids(self) -> list[int]:
        return sorted(self.beyond_file + self.bad_checksum)

    @property
    def ok(self) -> bool:
        return not self.beyond_file and not self.bad_checksum

    def reason(self) -> str:
        if self.ok:
            return "ok"
        parts = []
        if not self.file_exists:
            parts.append(f"its file {self.path} is missing")
        elif self.beyond_file:
            parts.append(f"its file {self.path} is short ({self.file_rows} rows for {self.rows} indexed)")
        if self.bad_checksum:
            parts.append(f"{len(self.bad_checksum)} vectors do not match their checksum")
        return (f"the {self.backbone_id} embedding store is damaged: {len(self.damaged_ids)} of {self.rows} "
                f"photos' vectors are missing or changed ({'; '.join(parts)})")

    def as_dict(self) -> dict:
        return {"backbone": self.backbone_id, "path": self.path, "rows": self.rows, "file_rows": self.file_rows,
                "file_exists": self.file_exists, "missing_rows": len(self.beyond_file),
                "bad_checksums": len(self.bad_checksum), "unverified": self.unverified, "ok": self.ok}


def row_checksums(vectors: np.ndarray) -> list[int]:
    """CRC-32 of each row's float16 bytes."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float16)
    return [zlib.crc32(vectors[i].tobytes()) for i in range(len(vectors))]


class EmbeddingStore:
    def __init__(self, conn: sqlite3.Connection, embeddings_dir: Path, backbone_id: str, dim: int,
                 *, name: str | None = None, version: str = "1", input_policy: str = ""):
        self.conn = conn
        self.backbone_id = backbone_id
        self.dim = int(dim)
        self.dir = Path(embeddings_dir) / backbone_id
        self.path = self.dir / "vectors.f16"
        stored_dim = index.backbone_dim(conn, backbone_id)
        if stored_dim is None:
            index.add_backbone(conn, backbone_id, name or backbone_id, version, self.dim, input_policy)
        elif stored_dim != self.dim:
            raise InvalidValue(f"backbone {backbone_id} is stored with dim {stored_dim}, not {self.dim}")

    @classmethod
    def open_existing(cls, conn: sqlite3.Connection, embeddings_dir: Path, backbone_id: str) -> "EmbeddingStore":
        dim = index.backbone_dim(conn, backbone_id)
        if dim is None:
            raise Unavailable(f"no embeddings stored for backbone {backbone_id!r}; run `fluxcull embed` first")
        return cls(conn, embeddings_dir, backbone_id, dim)

    @property
    def row_bytes(self) -> int:
        return self.dim * 2

    # -- index -------------------------------------------------------------------------------
    def count(self) -> int:
        return index.row_count(self.conn, self.backbone_id)

    def ids_and_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """All stored (photo_id, row) pairs, sorted by photo id."""
        data = index.ids_and_rows(self.conn, self.backbone_id)
        if not data:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        arr = np.asarray(data, dtype=np.int64)
        return arr[:, 0], arr[:, 1]

    def missing_photo_ids(self, role: str | None = None) -> list[int]:
        """Photos (status ok) without a current embedding: none stored, stored for other bytes, or
        stored in a row that is missing from the file or no longer matches its checksum."""
        missing = index.photos_without_embedding(self.conn, self.backbone_id, role)
        key = self._state_key()
        damaged = []
        if not self._trusted(key):
            res = self.check()
            damaged = res.damaged_ids
            if res.ok:
                self._remember_verified(key)
        if damaged:
            ok_ids = index.ok_photo_ids(self.conn, damaged, role)
            missing.update(ok_ids)
        return sorted(missing)

    # -- integrity ---------------------------------------------------------------------------
    def _capacity_rows(self) -> int:
        try:
            return self.path.stat().st_size // self.row_bytes
        except FileNotFoundError:
            return 0

    def check(self, *, checksums: bool = True) -> StoreCheck:
        """Compare the file with the index: rows past the file's end, and (with checksums) rows whose
        bytes no longer match the CRC-32 recorded when they were written."""
        res = StoreCheck(self.backbone_id, str(self.path))
        res.file_exists = self.path.is_file()
        res.file_rows = self._capacity_rows()
        data = index.index_rows(self.conn, self.backbone_id)
        res.rows = len(data)
        if not data:
            return res
        mat = self.matrix() if res.file_rows else None
        for start in range(0, len(data), _CHECK_CHUNK):
            part = data[start:start + _CHECK_CHUNK]
            inside = [r for r in part if r[1] < res.file_rows]
            res.beyond_file += [r[0] for r in part if r[1] >= res.file_rows]
            res.unverified += sum(1 for r in inside if r[2] is None)
            if not checksums or not inside or mat is None:
                continue
            rows = np.fromiter((r[1] for r in inside), np.int64, len(inside))
            block = np.ascontiguousarray(mat[rows])
            for (pid, _, want), vec in zip(inside, block):
                if want is not None and zlib.crc32(vec.tobytes()) != want:
                    res.bad_checksum.append(pid)
        return res

    def verified(self) -> "EmbeddingStore":
        """This store, after checking that every indexed vector is there and unchanged; raises
        StoreDamaged (naming the reason and the fix) otherwise. Cached while nothing changes."""
        key = self._state_key()
        if self._trusted(key):
            return self
        res = self.check()
        if not res.ok:
            raise StoreDamaged(res.reason() + ": run `fluxcull embed` to rebuild the missing vectors "
                               "(`fluxcull doctor` reports the details)")
        self._remember_verified(key)
        return self

    def _state_key(self) -> list:
        """What a passed check stays valid for: the file's size, mtime and inode, and the index's
        row count, last row, checksum sum and newest write (JSON-shaped, to compare with the stamp)."""
        try:
            st = self.path.stat()
            fkey = [st.st_size, st.st_mtime_ns, st.st_ino]
        except FileNotFoundError:
            fkey = None
        ikey = index.index_state(self.conn, self.backbone_id)
        return [fkey, list(ikey)]

    def _trusted(self, key: list) -> bool:
        """True when a full check passed on exactly this state (in this process, or stamped on disk)."""
        if fkey_missing(key):
            return False
        if _VERIFIED.get(str(self.path)) == key:
            return True
        try:
            stamp = json.loads((self.dir / _STAMP).read_text())
        except (OSError, ValueError):
            return False
        if stamp == key:
            _VERIFIED[str(self.path)] = key
            return True
        return False

    def _remember_verified(self, key: list) -> None:
        _VERIFIED[str(self.path)] = key
        tmp = self.dir / (_STAMP + ".tmp")
        try:
            tmp.write_text(json.dumps(key))
            os.replace(tmp, self.dir / _STAMP)
        except OSError:  # a read-only library: the check is repeated next time, nothing else changes
            pass

    # -- data --------------------------------------------------------------------------------
    def write(self, photo_ids: list[int], vectors: np.ndarray, source_sha256: list[str | None] | None = None) -> None:
        """Store vectors (n x dim) for photos: rows allocated, data written and fsynced, and the index
        updated, all inside one catalog write transaction."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float16)
        if vectors.shape != (len(photo_ids), self.dim):
            raise ValueError(f"expected {(len(photo_ids), self.dim)} vectors, got {vectors.shape}")
        if not photo_ids:
            return
        if len(set(photo_ids)) != len(photo_ids):
            raise ValueError("a photo appears twice in one write")
        sums = row_checksums(vectors)
        self.dir.mkdir(parents=True, exist_ok=True)
        with transaction(self.conn):
            if source_sha256 is None:
                shas = photo_sha256s(self.conn, photo_ids)
                source_sha256 = [shas.get(pid) for pid in photo_ids]
            chained = self._trusted(self._state_key())  # the store was whole before this write
            rows = self._allocate(photo_ids)
            self._write_rows(rows, vectors)
            index.put_rows(self.conn, self.backbone_id, zip(photo_ids, rows, source_sha256, sums))
            if chained:  # ... and this write added only vectors whose checksums it just recorded
                self._remember_verified(self._state_key())

    def _allocate(self, photo_ids: list[int]) -> list[int]:
        """Rows for the photos (called inside the write transaction): a damaged old row is reused,
        anything else gets a fresh row after the last indexed one."""
        existing = index.rows_of(self.conn, self.backbone_id, photo_ids)
        next_row = index.next_row(self.conn, self.backbone_id)
        cap = self._capacity_rows()
        mat = self.matrix() if cap else None
        rows = []
        for pid in photo_ids:
            old = existing.get(pid)
            if old is not None and self._row_damaged(mat, cap, *old):
                rows.append(old[0])
            else:
                rows.append(next_row)
                next_row += 1
        return rows

    @staticmethod
    def _row_damaged(mat, cap: int, row: int, checksum: int | None) -> bool:
        if row >= cap or mat is None:
            return True
        return checksum is not None and zlib.crc32(np.ascontiguousarray(mat[row]).tobytes()) != checksum

    def _write_rows(self, rows: list[int], vectors: np.ndarray) -> None:
        needed = max(rows) + 1
        cap = self._capacity_rows()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        with os.fdopen(fd, "r+b") as fh:
            if needed > cap:
                fh.truncate(max(needed, cap * 2, _GROW_ROWS) * self.row_bytes)
            for i in np.argsort(rows):
                fh.seek(rows[i] * self.row_bytes)
                fh.write(vectors[i].tobytes())
            fh.flush()
            os.fsync(fh.fileno())

    def matrix(self) -> np.ndarray:
        """The whole row file mapped read-only (rows x dim float16); index it with stored rows."""
        cap = self._capacity_rows()
        if cap == 0:
            return np.zeros((0, self.dim), np.float16)
        return np.memmap(self.path, dtype=np.float16, mode="r", shape=(cap, self.dim))

    def prefetch(self, rows) -> None:
        """Ask the system to read these rows into the page cache now, all requests at once (where
        posix_fadvise exists; elsewhere nothing). Rows scattered over a file that is not cached are
        otherwise read one page fault at a time, each with its readahead: 15,000 rows of a
        400,000-row file took 3-4 times longer."""
        advise = getattr(os, "posix_fadvise", None)
        rows = np.unique(np.asarray(rows, np.int64))
        if advise is None or not len(rows):
            return
        cut = np.flatnonzero(np.diff(rows) != 1) + 1  # runs of adjacent rows: one request each
        starts, ends = rows[np.r_[0, cut]], rows[np.r_[cut - 1, len(rows) - 1]] + 1
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return  # a missing file is for the read itself to report
        try:
            for s, e in zip(starts.tolist(), ends.tolist()):
                advise(fd, s * self.row_bytes, (e - s) * self.row_bytes, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)

    def get(self, photo_ids: list[int] | np.ndarray, dtype=np.float32) -> np.ndarray:
        """Vectors for photos in the given order; raises KeyError naming any without one."""
        photo_ids = [int(p) for p in photo_ids]
        rowmap = index.row_map(self.conn, self.backbone_id, photo_ids)
        missing = [p for p in photo_ids if p not in rowmap]
        if missing:
            raise KeyError(f"no {self.backbone_id} embedding for photo ids {missing[:10]}")
        mat = self.matrix()
        rows = np.fromiter((rowmap[p] for p in photo_ids), dtype=np.int64, count=len(photo_ids))
        if len(rows) and int(rows.max()) >= len(mat):
            raise StoreDamaged(f"the {self.backbone_id} embedding store {self.path} is shorter than its index: "
                               "run `fluxcull embed` to rebuild the missing vectors")
        return np.asarray(mat[rows], dtype=dtype)


_VERIFIED: dict[str, list] = {}


def fkey_missing(key: list) -> bool:
    return key[0] is None


def backbone_store(lib, conn: sqlite3.Connection, backbone: Backbone) -> EmbeddingStore:
    """The store of a backbone in the library (recorded in the catalog the first time)."""
    return EmbeddingStore(conn, lib.embeddings_dir, backbone.id, backbone.dim, name=backbone.name,
                          version=backbone.version, input_policy=f"{backbone.input_policy} {backbone.input_size}")


def current_store(lib, conn: sqlite3.Connection) -> EmbeddingStore:
    """The store of the active backbone (the library setting, else the one with most embeddings,
    else the default; its float32 or int8 variant by `precision.read_variant`), checked against its index: raises StoreDamaged when vectors are missing or
    changed, so nothing downstream (scores, matches, training) is computed from wrong vectors.
    The one way every layer gets the library's embeddings."""
    from fluxcull.embedding.precision import read_variant

    active = index.active_backbone_id(conn)
    if active:
        try:
            active = read_variant(conn, get_backbone(active)).id  # the float32 or int8 store
        except BackboneUnavailable:  # an id this fluxcull does not know: its stored rows are still readable
            pass
        if index.backbone_dim(conn, active) is not None:
            return EmbeddingStore.open_existing(conn, lib.embeddings_dir, active).verified()
        return backbone_store(lib, conn, get_backbone(active)).verified()
    return backbone_store(lib, conn, read_variant(conn, get_backbone(None))).verified()
