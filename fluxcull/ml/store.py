"""EmbeddingStore: float16 vectors in a memory-mapped file per backbone, indexed in the catalog.

Crash safety: a vector is written and fsynced into its row first; only then is its row committed
to `embedding_rows`. A crash in between leaves an unindexed row that the next run overwrites.
Readers map the file read-only and slice the rows they need; nothing loads the whole matrix.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np

from fluxcull.catalog import transaction

_GROW_ROWS = 4096


class EmbeddingStore:
    def __init__(self, conn: sqlite3.Connection, embeddings_dir: Path, backbone_id: str, dim: int,
                 *, name: str | None = None, version: str = "1", input_policy: str = ""):
        self.conn = conn
        self.backbone_id = backbone_id
        self.dim = int(dim)
        self.dir = Path(embeddings_dir) / backbone_id
        self.path = self.dir / "vectors.f16"
        row = conn.execute("SELECT dim FROM backbones WHERE id = ?", (backbone_id,)).fetchone()
        if row is None:
            with transaction(conn):
                conn.execute(
                    "INSERT INTO backbones(id, name, version, dim, input) VALUES (?, ?, ?, ?, ?)",
                    (backbone_id, name or backbone_id, version, self.dim, input_policy),
                )
        elif row[0] != self.dim:
            raise ValueError(f"backbone {backbone_id} is stored with dim {row[0]}, not {self.dim}")

    @classmethod
    def open_existing(cls, conn: sqlite3.Connection, embeddings_dir: Path, backbone_id: str) -> "EmbeddingStore":
        row = conn.execute("SELECT dim FROM backbones WHERE id = ?", (backbone_id,)).fetchone()
        if row is None:
            raise LookupError(f"no embeddings stored for backbone {backbone_id!r}; run `fluxcull embed` first")
        return cls(conn, embeddings_dir, backbone_id, row[0])

    # -- index -------------------------------------------------------------------------------
    def count(self) -> int:
        return self.conn.execute(
            "SELECT COUNT(*) FROM embedding_rows WHERE backbone_id = ?", (self.backbone_id,)
        ).fetchone()[0]

    def ids_and_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """All stored (photo_id, row) pairs, sorted by photo id."""
        data = self.conn.execute(
            "SELECT photo_id, row FROM embedding_rows WHERE backbone_id = ? ORDER BY photo_id",
            (self.backbone_id,),
        ).fetchall()
        if not data:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        arr = np.asarray(data, dtype=np.int64)
        return arr[:, 0], arr[:, 1]

    def missing_photo_ids(self, role: str | None = None) -> list[int]:
        """Photos (status ok) without a current embedding: none stored, or stored for other bytes."""
        sql = (
            "SELECT p.id FROM photos p LEFT JOIN embedding_rows e"
            " ON e.photo_id = p.id AND e.backbone_id = ?"
            " WHERE p.status = 'ok' AND (e.photo_id IS NULL OR e.source_sha256 IS NOT p.sha256)"
        )
        params: list = [self.backbone_id]
        if role:
            sql += " AND p.role = ?"
            params.append(role)
        return [r[0] for r in self.conn.execute(sql + " ORDER BY p.id", params)]

    # -- data --------------------------------------------------------------------------------
    def _capacity_rows(self) -> int:
        try:
            return self.path.stat().st_size // (self.dim * 2)
        except FileNotFoundError:
            return 0

    def write(self, photo_ids: list[int], vectors: np.ndarray, source_sha256: list[str | None] | None = None) -> None:
        """Store vectors (n x dim) for photos: data first (fsynced), then the index in one transaction."""
        vectors = np.asarray(vectors, dtype=np.float16)
        if vectors.shape != (len(photo_ids), self.dim):
            raise ValueError(f"expected {(len(photo_ids), self.dim)} vectors, got {vectors.shape}")
        if not photo_ids:
            return
        if source_sha256 is None:
            rows = self.conn.execute(
                "SELECT id, sha256 FROM photos WHERE id IN (%s)" % ",".join("?" * len(photo_ids)), photo_ids
            ).fetchall()
            shas = {r[0]: r[1] for r in rows}
            source_sha256 = [shas.get(pid) for pid in photo_ids]
        self.dir.mkdir(parents=True, exist_ok=True)
        existing = dict(
            self.conn.execute(
                "SELECT photo_id, row FROM embedding_rows WHERE backbone_id = ? AND photo_id IN (%s)"
                % ",".join("?" * len(photo_ids)),
                [self.backbone_id, *photo_ids],
            ).fetchall()
        )
        next_row = self.conn.execute(
            "SELECT COALESCE(MAX(row) + 1, 0) FROM embedding_rows WHERE backbone_id = ?", (self.backbone_id,)
        ).fetchone()[0]
        rows = []
        for pid in photo_ids:
            if pid in existing:
                rows.append(existing[pid])
            else:
                rows.append(next_row)
                next_row += 1
        needed = max(rows) + 1
        cap = self._capacity_rows()
        row_bytes = self.dim * 2
        self.path.touch(exist_ok=True)
        with open(self.path, "r+b") as fh:
            if needed > cap:
                new_cap = max(needed, cap * 2, _GROW_ROWS)
                fh.truncate(new_cap * row_bytes)
            order = np.argsort(rows)
            for i in order:
                fh.seek(rows[i] * row_bytes)
                fh.write(vectors[i].tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO embedding_rows(backbone_id, photo_id, row, source_sha256) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(backbone_id, photo_id) DO UPDATE SET row = excluded.row,"
                " source_sha256 = excluded.source_sha256,"
                " created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                [(self.backbone_id, pid, r, sha) for pid, r, sha in zip(photo_ids, rows, source_sha256)],
            )

    def matrix(self) -> np.ndarray:
        """The whole row file mapped read-only (rows x dim float16); index it with stored rows."""
        cap = self._capacity_rows()
        if cap == 0:
            return np.zeros((0, self.dim), np.float16)
        return np.memmap(self.path, dtype=np.float16, mode="r", shape=(cap, self.dim))

    def get(self, photo_ids: list[int] | np.ndarray, dtype=np.float32) -> np.ndarray:
        """Vectors for photos in the given order; raises KeyError naming any without one."""
        photo_ids = [int(p) for p in photo_ids]
        rowmap: dict[int, int] = {}
        for i in range(0, len(photo_ids), 500):
            chunk = photo_ids[i : i + 500]
            rowmap.update(
                self.conn.execute(
                    "SELECT photo_id, row FROM embedding_rows WHERE backbone_id = ? AND photo_id IN (%s)"
                    % ",".join("?" * len(chunk)),
                    [self.backbone_id, *chunk],
                ).fetchall()
            )
        missing = [p for p in photo_ids if p not in rowmap]
        if missing:
            raise KeyError(f"no {self.backbone_id} embedding for photo ids {missing[:10]}")
        mat = self.matrix()
        rows = np.fromiter((rowmap[p] for p in photo_ids), dtype=np.int64, count=len(photo_ids))
        return np.asarray(mat[rows], dtype=dtype)


def active_backbone_id(conn: sqlite3.Connection) -> str | None:
    """The backbone chosen in the library settings, else the one with most stored embeddings."""
    row = conn.execute("SELECT value FROM settings WHERE key = 'backbone'").fetchone()
    if row:
        return row[0]
    row = conn.execute(
        "SELECT backbone_id FROM embedding_rows GROUP BY backbone_id ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None
