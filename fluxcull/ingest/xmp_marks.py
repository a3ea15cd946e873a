"""XMP at ingest: a photo's sidecar and embedded packet read into its imported marks.

When each is read: the embedded packet whenever the photo's file is read (new or changed), from the
bytes already read for hashing; the sidecar whenever the photo is read, and also whenever the
sidecar's path, size or modification time differ from those recorded when it was last read, even if
the photo itself is unchanged. An unchanged photo whose packet was never read (ingested before
fluxcull read XMP, or with --no-xmp) has it read once, from as little of the file as its format
allows. Those XMP-only reads (`XmpTask`) run in the worker processes too. A sidecar that went away
drops its marks (the embedded ones stay).

A refused sidecar or packet (fluxcull.media.xmp: over 2 MB, a DTD, not XML, a wrong encoding) is a
warning naming the file and the reason; the photo is ingested all the same. A refused sidecar is
recorded with its warning, so it is not read again until it changes, except one that could not be
opened at all, which is tried on every run (like a photo that cannot be read).

The records travel from the worker processes as plain dicts:
{"sidecar": None | {path, size, mtime_ns, marks, warning}, "embedded": None | {found, marks, warning}}
(`embedded` is None when the photo's bytes were not read, `sidecar` absent when it was not looked at;
`marks` a dict of Marks fields or None).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

from fluxcull.catalog import marks as store
from fluxcull.media.xmp import Marks, XmpError, XmpUnreadable, read_embedded, read_embedded_file, read_sidecar

log = logging.getLogger(__name__)
UNREADABLE_SIZE = -1   # recorded size of a sidecar that could not be opened: read again next time
ZERO_COUNTS = {"sidecars": 0, "embedded": 0, "marks": 0, "warnings": 0}


def read_xmp(sidecar: str | None, size: int, mtime_ns: int, data: bytes | None) -> dict:
    """The XMP record of one photo: its sidecar (if it has one) and, when `data` (its bytes) was
    read, its embedded packet. Never raises for a bad XMP document."""
    return {"sidecar": read_sidecar_record(sidecar, size, mtime_ns) if sidecar else None,
            "embedded": None if data is None else _embedded_record(read_embedded, data)}


def _embedded_record(read, source) -> dict | None:
    """{found, marks, warning} of the packet `read(source)` finds; None when the file cannot be read."""
    try:
        m = read(source)
    except XmpUnreadable:
        return None  # looked for again next time
    except XmpError as exc:
        return {"found": True, "marks": None, "warning": f"embedded XMP refused: {exc}"}
    except Exception as exc:  # a parser bug must cost this photo's marks, not the ingest
        log.exception("reading embedded XMP failed")
        return {"found": True, "marks": None, "warning": f"embedded XMP unreadable ({type(exc).__name__}: {exc})"}
    return {"found": m is not None, "marks": None if m is None or m.empty else m.to_dict(), "warning": None}


@dataclass(frozen=True)
class XmpTask:
    """XMP to read for a photo whose file is unchanged (its bytes are not read again)."""
    photo_id: int
    path: str
    sidecar: str | None       # the sidecar now (None: none any more)
    sidecar_size: int
    sidecar_mtime_ns: int
    read_sidecar: bool        # the sidecar appeared, changed or went away
    read_embedded: bool       # the photo's packet was never read


def process_xmp_many(tasks: list[XmpTask]) -> list[tuple[int, str, dict]]:
    """(photo id, path, XMP record) of each task (a chunk for a worker process)."""
    return [(t.photo_id, t.path, _read_xmp_only(t)) for t in tasks]


def _read_xmp_only(t: XmpTask) -> dict:
    out: dict = {"embedded": None}
    if t.read_sidecar:
        out["sidecar"] = read_sidecar_record(t.sidecar, t.sidecar_size, t.sidecar_mtime_ns) if t.sidecar else None
    if t.read_embedded:
        out["embedded"] = _embedded_record(read_embedded_file, t.path)
    return out


def read_sidecar_record(path: str, size: int, mtime_ns: int) -> dict:
    rec = {"path": path, "size": size, "mtime_ns": mtime_ns, "marks": None, "warning": None}
    try:
        rec["marks"] = read_sidecar(path).to_dict()
    except XmpUnreadable as exc:
        rec["warning"], rec["size"] = f"XMP sidecar not read: {exc}", UNREADABLE_SIZE
    except XmpError as exc:
        rec["warning"] = f"XMP sidecar refused: {exc}"
    except Exception as exc:  # a parser bug must cost this sidecar, not the ingest
        log.exception("reading the XMP sidecar %s failed", path)
        rec["warning"] = f"XMP sidecar unreadable ({type(exc).__name__}: {exc})"
    return rec


def xmp_task(photo_id: int, found, recorded: tuple | None, embedded_read: bool) -> XmpTask | None:
    """What to read for an unchanged photo (`found`: fluxcull.ingest.scan.Found), None when nothing."""
    changed = sidecar_changed(found, recorded)
    if not changed and embedded_read:
        return None
    return XmpTask(photo_id, found.path, found.sidecar, found.sidecar_size, found.sidecar_mtime_ns, changed,
                   not embedded_read)


def sidecar_changed(found, recorded: tuple | None) -> bool:
    """Whether the sidecar scan found for an unchanged photo (`found`: fluxcull.ingest.scan.Found)
    differs from the one recorded (sidecar path, size, mtime_ns), or is gone, or appeared."""
    now = (found.sidecar, found.sidecar_size, found.sidecar_mtime_ns) if found.sidecar else None
    if now is None or recorded is None:
        return now != recorded
    return recorded[1] == UNREADABLE_SIZE or tuple(recorded) != now


def store_record(conn: sqlite3.Connection, photo_id: int, xmp: dict | None) -> None:
    """Write a photo's XMP record (inside the caller's transaction); None (XMP not read) changes nothing."""
    if xmp is None:
        return
    if "sidecar" in xmp:
        s = xmp["sidecar"]
        if s is None:
            store.drop(conn, photo_id, "sidecar")
        else:
            store.put(conn, photo_id, "sidecar", s["path"], s["marks"], size=s["size"], mtime_ns=s["mtime_ns"],
                      warning=s["warning"])
    e = xmp["embedded"]
    if e is not None:  # a row even without marks: it says the packet was looked for in this version of the file
        store.put(conn, photo_id, "embedded", "embedded", e["marks"], warning=e["warning"])


def tally(xmp: dict | None, photo_path: str, counts: dict, warnings: list) -> None:
    """Count what a photo's XMP record read (sidecars, embedded packets, photos with marks, warnings)
    and list its refusals among the ingest's warnings."""
    if xmp is None:
        return
    s, e = xmp.get("sidecar"), xmp["embedded"]
    if s is not None:
        counts["sidecars"] += 1
        if s["warning"]:
            counts["warnings"] += 1
            warnings.append({"path": s["path"], "reason": s["warning"]})
    if e is not None and e["found"]:
        counts["embedded"] += 1
        if e["warning"]:
            counts["warnings"] += 1
            warnings.append({"path": photo_path, "reason": e["warning"]})
    marks = s["marks"] if s is not None and not s["warning"] else (e or {}).get("marks")
    if marks and not _empty(marks):
        counts["marks"] += 1


def _empty(marks: dict) -> bool:
    return Marks(**{**marks, "keywords": tuple(marks.get("keywords") or ())}).empty
