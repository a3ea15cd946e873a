"""Shared helpers for the ingest tests: a folder of generated photos, running a job, snapshots."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from fluxcull.jobs import run_job
from tests.photogen import scene, write_jpeg

T0 = dt.datetime(2023, 4, 1, 9, 0, 0)


def make_shoot(folder: Path, n: int = 6, start: dt.datetime = T0, step_min: float = 5, seed0: int = 0,
               gps=(48.85, 2.35), prefix="R000") -> list[Path]:
    out = []
    for i in range(n):
        taken = start + dt.timedelta(minutes=step_min * i)
        out.append(write_jpeg(folder / f"{prefix}{seed0 + i:04d}.JPG", scene(seed0 + i, (640, 480)), taken=taken,
                              subsec="10", gps=(gps[0] + i * 1e-4, gps[1]) if gps else None))
    return out


def ingest(lib, paths, role="originals", **kw):
    from fluxcull.ingest import ingest_job

    kw.setdefault("workers", 1)
    return run_job(ingest_job(lib, [str(p) for p in paths], role, **kw))


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under root (links not followed) -> (sha256 or link target, mtime_ns)."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if os.path.islink(p):
                snap[p] = ("link:" + os.readlink(p), st.st_mtime_ns)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    snap[p] = (hashlib.sha256(f.read()).hexdigest(), st.st_mtime_ns)
            else:
                snap[p] = ("dir", st.st_mtime_ns)
    return snap
