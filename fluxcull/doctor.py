"""`fluxcull doctor [--repair]`: check a library and (with repair) fix what can be fixed safely.

Checks: the catalog (`PRAGMA integrity_check`, schema version, backups), every embedding store
against its index (file size, per-row checksums), the ONNX cache against its recorded hash, temp
files left by interrupted writes, and whether a job is running. Repairs: index rows of damaged
vectors are dropped (the next `fluxcull embed` computes them again), rows stored before checksums
get theirs, a mismatching ONNX cache file is removed (rebuilt on next use), orphan temp files are
deleted. Originals are never touched; the catalog is never rewritten beyond those index rows.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

from fluxcull.catalog import transaction
from fluxcull.catalog.db import latest_version, list_backups
from fluxcull.catalog.health import integrity_check, schema_version
from fluxcull.ingest.limits import pid_alive

log = logging.getLogger(__name__)

ORPHAN_AGE_S = 600  # a temp file without a process id is an orphan once it is this old
_PID_TMP = re.compile(r"\.tmp(\d+)$")


def _pid_alive(pid: int) -> bool:
    return pid == os.getpid() or pid_alive(pid)


def temp_files(lib, *, thumbs: bool = False, min_age_s: float = ORPHAN_AGE_S) -> list[Path]:
    """Temp files and folders left by interrupted writes whose writer is gone: `*.tmp<pid>` of a dead
    process, and pid-less temp names (`.NAME.tmp` model folders, `.tmp-*` thumbnails, `*.tmp.npz`)
    older than `min_age_s`."""
    now = time.time()
    places = [lib.root, lib.cache_dir, lib.cache_dir / "onnx", lib.models_dir]
    found: list[Path] = []

    def consider(p: Path) -> None:
        m = _PID_TMP.search(p.name)
        if m:
            if not _pid_alive(int(m.group(1))):
                found.append(p)
            return
        if p.name.endswith((".tmp", ".tmp.npz")) or p.name.startswith(".tmp-"):
            try:
                if now - p.lstat().st_mtime >= min_age_s:
                    found.append(p)
            except OSError:
                pass

    for d in places:
        try:
            entries = list(d.iterdir())
        except OSError:
            continue
        for p in entries:
            consider(p)
    if thumbs and lib.thumbs_dir.is_dir():
        for sub in lib.thumbs_dir.iterdir():
            if sub.is_dir():
                for p in sub.glob(".tmp-*"):
                    consider(p)
    return sorted(set(found))


def remove_temp_files(paths: list[Path]) -> int:
    n = 0
    for p in paths:
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            n += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove %s: %s", p, exc)
    return n


def clean_start(lib) -> int:
    """Start-up housekeeping of a write command holding the job lock: remove orphan temp files."""
    try:
        n = remove_temp_files(temp_files(lib))
    except OSError:
        return 0
    if n:
        log.info("removed %d temp files left by interrupted runs", n)
    return n


def check_library(lib, conn, *, repair: bool = False) -> dict:
    """Every check as {name: {ok, ...}}; with repair, what was fixed is reported under 'repaired'."""
    from fluxcull.joblock import holder
    from fluxcull.logs import current_log_path

    report: dict = {"library": str(lib.root), "log": str(current_log_path() or "")}
    rows = integrity_check(conn)
    report["catalog"] = {"ok": rows == ["ok"], "integrity_check": rows[:20],
                         "schema": schema_version(conn), "schema_known": latest_version(),
                         "backups": sorted(p.name for p in list_backups(lib.catalog_path))}
    report["stores"] = _check_stores(lib, conn, repair)
    report["onnx_cache"] = _check_onnx(lib, repair)
    tmp = temp_files(lib, thumbs=True)
    report["temp_files"] = {"ok": not tmp, "found": [str(p) for p in tmp[:50]], "count": len(tmp)}
    if repair and tmp:
        report["temp_files"]["removed"] = remove_temp_files(tmp)
    job = holder(lib.root)
    report["job"] = {"running": bool(job) and job.get("pid") != os.getpid(), "holder": job}
    problems = [k for k in ("catalog", "temp_files") if not report[k]["ok"]]
    problems += [f"store {s['backbone']}" for s in report["stores"] if not s["ok"]]
    problems += [f"onnx {o['file']}" for o in report["onnx_cache"] if not o["ok"]]
    report["problems"] = problems
    return report


def _check_stores(lib, conn, repair: bool) -> list[dict]:
    from fluxcull.catalog.embedding_index import backbone_ids, drop_rows, rows_without_checksum, set_checksums
    from fluxcull.embedding.store import EmbeddingStore, row_checksums

    out = []
    for bid in backbone_ids(conn):
        store = EmbeddingStore.open_existing(conn, lib.embeddings_dir, bid)
        res = store.check()
        d = res.as_dict()
        if repair and (res.damaged_ids or res.unverified):
            with transaction(conn):
                drop_rows(conn, bid, res.damaged_ids)
                mat = store.matrix()
                fill = rows_without_checksum(conn, bid, len(mat))
                for i in range(0, len(fill), 4096):
                    part = fill[i:i + 4096]
                    sums = row_checksums(mat[[r[1] for r in part]])
                    set_checksums(conn, bid, [(c, r[0]) for c, r in zip(sums, part)])
            d["repaired"] = {"dropped_rows": len(res.damaged_ids), "checksums_added": len(fill),
                             "next": "run `fluxcull embed` to compute the dropped vectors again" if res.damaged_ids else ""}
        out.append(d)
    return out


def _check_onnx(lib, repair: bool) -> list[dict]:
    from fluxcull.embedding.onnx_backend import verify_file

    out = []
    folder = lib.cache_dir / "onnx"
    if not folder.is_dir():
        return out
    for p in sorted(folder.glob("*.onnx")):
        ok, why = verify_file(p)
        d = {"file": p.name, "ok": ok, "reason": why}
        if repair and not ok:
            p.unlink(missing_ok=True)
            p.with_suffix(".json").unlink(missing_ok=True)
            d["repaired"] = "removed: it is exported again on next use"
        out.append(d)
    return out
