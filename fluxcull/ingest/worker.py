"""The process stage: one file in, one catalog record out (runs in a worker process).

Reads the file once, hashing it chunk by chunk as it streams in; EXIF and XMP (the embedded
packet's culling marks too) come from the same bytes, and the photo's XMP sidecar is read beside
it (fluxcull.ingest.xmp_marks); the thumbnail comes from the fastest adequate source (see
fluxcull.media.decode).
A file over its format's size cap is refused before it is read (fluxcull.ingest.limits), and
what LibRaw/libtiff print while decoding becomes the photo's warning, not terminal noise.
Never raises for a bad file: the record says status 'error' and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from fluxcull.ingest.limits import capture_stderr, too_big_reason
from fluxcull.ingest.xmp_marks import read_xmp
from fluxcull.media import formats
from fluxcull.media.decode import DecodeError, decode_bytes, os_error_reason, probe
from fluxcull.media.exif import read_metadata
from fluxcull.media.thumbs import THUMB_SIZE, has_thumbnail, save_thumbnail_bytes, thumb_key, thumbnail_source

CHUNK = 1 << 20


@dataclass(frozen=True)
class Task:
    path: str
    size: int
    mtime_ns: int
    thumbs_dir: str
    error: str | None = None  # a failure already known from the scan (broken link, no permission)
    max_bytes: int = 0        # size cap for this file's format (0: none)
    xmp: bool = False         # read the XMP marks (sidecar and embedded packet)
    sidecar: str | None = None
    sidecar_size: int = 0
    sidecar_mtime_ns: int = 0


class TooBig(Exception):
    """The file grew past its size cap while being read."""


def read_hashing(path: str, max_bytes: int = 0) -> tuple[bytes, str]:
    """The file's bytes and SHA-256, computed as the chunks arrive; TooBig past `max_bytes` (0: no cap)."""
    h = hashlib.sha256()
    chunks = []
    total = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if max_bytes and total > max_bytes:
                raise TooBig(total)
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
    return process_keeping(task)[0]


def process_keeping(task: Task) -> tuple[dict[str, Any], bytes | None, bytes | None]:
    """The photo's record, its file's bytes (None where they could not be read) and the bytes of the
    thumbnail written for it (None where none was written: a failure, or one already there)."""
    rec, data, thumb = _read_and_decode(task)
    if task.xmp:
        rec["xmp"] = read_xmp(task.sidecar, task.sidecar_size, task.sidecar_mtime_ns, data)
    return rec, data, thumb


def _read_and_decode(task: Task) -> tuple[dict[str, Any], bytes | None, bytes | None]:
    rec = new_record(task)
    if task.error:
        return fail(rec, task.error), None, None
    if task.max_bytes and task.size > task.max_bytes:
        return fail(rec, too_big_reason(task.size, task.max_bytes, rec["format"])), None, None
    try:
        data, sha = read_hashing(task.path, task.max_bytes)
    except TooBig as exc:
        return fail(rec, too_big_reason(exc.args[0], task.max_bytes, rec["format"])), None, None
    except OSError as exc:
        return fail(rec, os_error_reason(exc)), None, None
    rec["sha256"], rec["nbytes"], rec["size"] = sha, len(data), len(data)
    if not data:
        return fail(rec, "empty file (0 bytes): nothing to decode, probably an interrupted copy"), None, None
    with capture_stderr() as noise:
        rec, thumb = _decode(task, rec, data, sha)
    if noise:
        said = f"decoder said: {noise[0]}"
        if rec["status"] == "error":
            rec["error"] = f"{rec['error']} ({said})"
        else:
            rec["warning"] = f"{rec['warning']}; {said}" if rec.get("warning") else said
            rec["error"] = rec["warning"]
    return rec, data, thumb


def _decode(task: Task, rec: dict[str, Any], data: bytes, sha: str) -> tuple[dict[str, Any], bytes | None]:
    meta = read_metadata(data, task.path)
    rec["warning"] = meta.pop("warning")
    rec.update(meta)
    if rec["capture_time"] is not None:
        rec["time_source"] = "exif"
    else:
        rec["time_source"] = "mtime"
        rec["capture_time"] = mtime_capture_time(task.mtime_ns)
    key = thumb_key(sha)
    thumb = None
    try:
        if has_thumbnail(task.thumbs_dir, key):  # same bytes seen before (a copy, a move, a resumed run)
            w, h, orientation = probe(data, task.path)
            source = thumbnail_source(task.thumbs_dir, key) or "cached"
        else:
            d = decode_bytes(data, task.path, long_side=THUMB_SIZE)
            thumb = save_thumbnail_bytes(task.thumbs_dir, key, d.image, source=d.source)
            w, h, orientation, source = d.width, d.height, d.orientation, d.source
    except DecodeError as exc:
        return fail(rec, exc.reason), None
    except MemoryError:
        return fail(rec, "not enough memory to decode this image"), None
    except Exception as exc:  # a decoder bug must cost one file, not the ingest
        return fail(rec, f"unexpected decoder failure ({type(exc).__name__}: {exc})"), None
    rec.update(width=w, height=h, thumb_key=key, thumb_source=source)
    if orientation is not None:
        rec["orientation"] = orientation
    if rec["warning"]:
        rec["error"] = rec["warning"]  # status stays 'ok': the photo is usable
    return rec, thumb


def fail(rec: dict, reason: str) -> dict:
    rec["status"], rec["error"] = "error", reason
    return rec


def process_many(tasks: list[Task]) -> list[dict[str, Any]]:
    """A chunk of tasks (fewer round trips to the pool for small files)."""
    return [process(t) for t in tasks]
