"""A catalog with planted bursts for the stack tests: sessions of scenes, each scene a burst of frames
seconds apart whose embeddings look alike (unlike the other scenes'), with small JPEG files and
thumbnails so the window can show them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from fluxcull.catalog import transaction
from fluxcull.embedding.store import EmbeddingStore
from fluxcull.media.thumbs import thumb_path
from photogen import scene

BACKBONE = "synthetic@1"
DIM = 32


def build(lib, conn, sessions: list[list[int]], *, root: Path | None = None, seed: int = 0, start: float = 1.7e9,
          role: str = "originals", files: bool = True, scores: bool = True) -> dict:
    """`sessions`: per session, the frame count of each scene in shooting order (1: a photo alone).
    Frames of a scene are 2 s apart, scenes 90 s apart, sessions a day apart. Returns {ids, scenes
    (lists of photo ids), sessions (session ids), emb}."""
    rng = np.random.default_rng(seed)
    root = Path(root or lib.root / "photos")
    ids, scenes, sids, vectors = [], [], [], []
    with transaction(conn):
        for s, sizes in enumerate(sessions):
            t0 = start + s * 86400.0
            sid = conn.execute("INSERT INTO sessions(role, start_time, end_time, start_at, end_at, photo_count, place)"
                               " VALUES (?, ?, ?, 'x', 'x', ?, ?)",
                               (role, t0, t0 + 3600, sum(sizes), f"Walk {s}")).lastrowid
            sids.append(sid)
            t = t0
            for k in sizes:
                base = rng.normal(size=DIM)
                members = []
                for j in range(k):
                    n = len(ids)
                    path, key = _files(lib, root, n, seed) if files else (root / f"R{seed:02d}{n:05d}.JPG", None)
                    score = round(float(rng.uniform(0.05, 0.95)), 3) if scores else None
                    pid = conn.execute(
                        "INSERT INTO photos(path, role, size, mtime_ns, sha256, format, width, height, capture_time,"
                        " taken_at, session_id, thumb_key, keeper_score, base_score, camera_model)"
                        " VALUES (?, ?, 1, 1, ?, 'jpeg', 240, 160, ?, ?, ?, ?, ?, ?, 'GR III')",
                        (str(path), role, f"sha-{seed}-{n}", t, f"2023-11-14T10:{n // 60 % 60:02d}:{n % 60:02d}", sid,
                         key, score, score)).lastrowid
                    ids.append(pid)
                    members.append(pid)
                    vectors.append(base + rng.normal(0, 0.15, DIM))
                    t += 2.0
                scenes.append(members)
                t += 90.0
    emb = np.array(vectors, np.float32)
    EmbeddingStore(conn, lib.embeddings_dir, BACKBONE, DIM).write(ids, emb)
    return {"ids": ids, "scenes": scenes, "sessions": sids, "emb": emb}


def _files(lib, root: Path, n: int, seed: int) -> tuple[Path, str]:
    root.mkdir(parents=True, exist_ok=True)
    img = scene(seed * 1000 + n, size=(240, 160))
    path = root / f"R{seed:02d}{n:05d}.JPG"
    img.save(path, "JPEG", quality=80)
    key = hashlib.sha256(path.read_bytes()).hexdigest() + "-512"
    tp = Path(thumb_path(lib, key))
    tp.parent.mkdir(parents=True, exist_ok=True)
    img.save(tp, "JPEG", quality=80)
    return path, key


def set_scores(conn, scores: dict[int, float]) -> None:
    """Give photos keeper scores (their score by the model: base_score too)."""
    with transaction(conn):
        conn.executemany("UPDATE photos SET keeper_score = ?, base_score = ? WHERE id = ?",
                         [(s, s, int(p)) for p, s in scores.items()])
