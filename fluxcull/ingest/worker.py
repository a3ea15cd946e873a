"""The process stage: one file in, one catalog record out (runs in a worker process).

Reads the file once, hashing it chunk by chunk as it streams in; EXIF and XMP come from the
same bytes; the thumbnail comes from the fastest adequate source (see fluxcull.media.decode).
Never raises for a bad file: the record says status 'error' and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from fluxcull.media import formats
from fluxcull.media.decode import DecodeError, decode_bytes, os_error_reason, probe
from fluxcull.media.exif import read_metadata
from fluxcull.media.thumbs import THUMB_SIZE, has_thumbnail, save_thumbnail, thumb_key

CHUNK = 1 << 20


@dataclass(frozen=True)
class Task:
    path: str
    size: int
    mtime_ns: int
    thumbs_dir: str
    error: str | None = None  # a failure already known from the scan (broken link, no permission)


def read_hashing(path: str) -> tuple[bytes, str]:
    """The file's bytes and SHA-256, computed as the chunks arrive."""
    h = hashlib.sha256()
    chunks = []
    with open(path, "rb", buffering=0) as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            h.update(chunk)
            chunks.append(chunk)
    return b"".join(chunks), h.hexdigest()


def mtime_capture_time(mtime_ns: int) -> float:
    """The file's modification time as local wall-clock seconds (same scale as EXIF capture_time)."""
    local = dt.datetime.fromtimestamp(mtime_ns / 1e9)
    return local.replace(tzinfo=dt.timezone.utc).timestamp()


def new_record(task: Task) -> dict[str, Any]:
    """The record of `task` before its file is read: status 'ok', no hash, no metadata."""
    return {
        "path": task.path, "size": task.size, "mtime_ns": task.mtime_ns,
        "format": formats.format_name(task.path), "status": "ok", "error": None, "warning": None,
        "sha256": None, "nbytes": 0,
    }


def process(task: Task) -> dict[str, Any]:
    rec = new_record(task)
    if task.error:
        return fail(rec, task.error)
    try:
        data, sha = read_hashing(task.path)
    except OSError as exc:
        return fail(rec, os_error_reason(exc))
    rec["sha256"], rec["nbytes"], rec["size"] = sha, len(data), len(data)
    if not data:
        return fail(rec, "empty file (0 bytes): nothing to decode, probably an interrupted copy")
    meta = read_metadata(data, task.path)
    rec["warning"] = meta.pop("warning")
    rec.update(meta)
    if rec["capture_time"] is not None:
        rec["time_source"] = "exif"
    else:
        rec["time_source"] = "mtime"
        rec["capture_time"] = mtime_capture_time(task.mtime_ns)
    key = thumb_key(sha)
    try:
        if has_thumbnail(task.thumbs_dir, key):  # same bytes seen before (a copy, a move, a resumed run)
            w, h, orientation = probe(data, task.path)
            source = "cached"
        else:
            d = decode_bytes(data, task.path, long_side=THUMB_SIZE)
            save_thumbnail(task.thumbs_dir, key, d.image)
            w, h, orientation, source = d.width, d.height, d.orientation, d.source
    except DecodeError as exc:
        return fail(rec, exc.reason)
    except MemoryError:
        return fail(rec, "not enough memory to decode this image")
    except Exception as exc:  # a decoder bug must cost one file, not the ingest
        return fail(rec, f"unexpected decoder failure ({type(exc).__name__}: {exc})")
    rec.update(width=w, height=h, thumb_key=key, thumb_source=source)
    if orientation is not None:
        rec["orientation"] = orientation
    if rec["warning"]:
        rec["error"] = rec["warning"]  # status stays 'ok': the photo is usable
    return rec


def fail(rec: dict, reason: str) -> dict:
    rec["status"], rec["error"] = "error", reason
    return rec


def process_many(tasks: list[Task]) -> list[dict[str, Any]]:
    """A chunk of tasks (fewer round trips to the pool for small files)."""
    return [process(t) for t in tasks]
