"""`ingest_job`: scan -> triage -> process (parallel) -> write (batched) -> XMP of unchanged photos
-> missing -> RAW+JPEG pairs -> sessions."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from fluxcull.catalog import ingest_store
from fluxcull.catalog import marks as marks_store
from fluxcull.catalog.queries import ROLES
from fluxcull.errors import InvalidValue, MissingPath
from fluxcull.ingest import pairs, records, sessions, xmp_marks
from fluxcull.ingest.limits import cap_for, size_caps
from fluxcull.ingest.pipeline import Stage, chunked, default_workers
from fluxcull.ingest.scan import ScanStats, scan
from fluxcull.ingest.worker import Task, fail, new_record, process_many
from fluxcull.joblock import locked
from fluxcull.jobs import CancelToken, Job, Progress
from fluxcull.media import formats

BATCH_ROWS = 200          # records per catalog transaction
BATCH_SECONDS = 1.0       # ... or this long since the last commit, whichever comes first
PROGRESS_SECONDS = 0.2    # how often the progress bar hears from us
SERIAL_BELOW = 12         # fewer files than this: no process pool (its start-up costs more)
CRASH_REASON = "decoder crashed on this file (a damaged or hostile file); it will be retried next time"


def _crash_record(task: Task) -> dict:
    return fail(new_record(task), CRASH_REASON)


def _needs_retry(error: str | None) -> bool:
    return records.is_access_error(error) or (error or "").startswith("decoder crashed")


@dataclass
class Extension:
    """What a layer above adds to the process and write stages (the one-pass import,
    fluxcull.embedding.import_job): the task a worker gets for each ingest Task (`wrap`; `unwrap`
    gives the Task back), the worker function of a chunk of them, and `written(records)`, called
    in this process after each batch of records is committed (each record then carries its
    'photo_id'). Records of a batch committed while the job is being cancelled are not passed on."""
    wrap: Callable[[Task], Any]
    unwrap: Callable[[Any], Task]
    process_many: Callable[[list], list]
    written: Callable[[list[dict]], None]


def ingest_job(lib, paths: Iterable[str | os.PathLike], role: str, *, cancel: CancelToken | None = None,
               workers: int | None = None, session_gap_hours: float = sessions.DEFAULT_GAP_HOURS,
               xmp: bool = True, extension: Extension | None = None) -> Job:
    """Ingest photo files and folders into the catalog under `role`, holding the library's job lock.
    Fluxcull libraries inside the scanned folders (this one included) are skipped. With `xmp`, the
    culling marks of XMP sidecars and embedded packets are read too (fluxcull.ingest.xmp_marks).

    Summary: {scanned, added, updated, unchanged, moved, missing, skipped, errors: [{path, reason}],
    warnings: [{path, reason}], known_errors, sessions, bytes, seconds, workers,
    xmp: {sidecars, embedded, marks, warnings} (None without `xmp`), raw_jpeg_pairs}.
    """
    if role not in ROLES:
        raise InvalidValue(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    if not (0 < session_gap_hours < float("inf")):
        raise InvalidValue("--session-gap must be a positive number of hours")
    cancel = cancel or CancelToken()
    roots = [os.path.abspath(os.fspath(p)) for p in paths]
    if not roots:
        raise InvalidValue("nothing to ingest: give at least one file or folder")
    for r in roots:
        if not os.path.lexists(r):
            raise MissingPath(f"{r}: no such file or folder")
    return locked(lib, _ingest_job(lib, roots, role, cancel, workers, session_gap_hours, xmp, extension),
                  cancel=cancel)


def _ingest_job(lib, roots: list[str], role: str, cancel: CancelToken, workers: int | None,
                session_gap_hours: float, xmp: bool, ext: Extension | None) -> Job:
    t0 = time.monotonic()
    conn = lib.connect()
    lib.thumbs_dir.mkdir(parents=True, exist_ok=True)
    try:
        # -- scan
        stats = ScanStats()
        found = []
        caps = size_caps(conn)
        yield Progress("scan", 0, None, "looking for photos")
        for f in scan(roots, stats, skip_dirs=[str(lib.root)]):
            found.append(f)
            if len(found) % 500 == 0:
                cancel.check()
                yield Progress("scan", len(found), None, os.path.dirname(f.path))

        # -- triage against the catalog: size and mtime decide what is unchanged
        known = _known_rows(conn, roots)
        side_states, packets_read = _xmp_states(conn, roots) if xmp else ({}, set())
        counts = {"added": 0, "updated": 0, "moved": 0, "roles": {role}}
        unchanged, known_errors, relabel, todo, xmp_todo = 0, 0, [], [], []
        for f in found:
            row = known.get(f.path)
            if (row is not None and f.error is None and row["size"] == f.size and row["mtime_ns"] == f.mtime_ns
                    and row["status"] in ("ok", "error") and not _needs_retry(row["error"])):
                if row["role"] != role:
                    relabel.append((role, row["id"]))
                    counts["roles"].add(row["role"])
                else:
                    unchanged += 1
                    known_errors += row["status"] == "error"
                if xmp:
                    t = xmp_marks.xmp_task(row["id"], f, side_states.get(f.path),
                                           f.path in packets_read or row["status"] != "ok")
                    if t is not None:
                        xmp_todo.append(t)
                continue
            cap = cap_for(caps, formats.format_name(f.path), formats.is_raw(f.path))
            todo.append(Task(f.path, f.size, f.mtime_ns, str(lib.thumbs_dir), f.error, cap, xmp, f.sidecar,
                             f.sidecar_size, f.sidecar_mtime_ns))
        if relabel:
            ingest_store.set_roles(conn, relabel)
            counts["updated"] += len(relabel)

        # -- process (parallel) and write (batched transactions)
        n_workers = workers or default_workers()
        if len(todo) < SERIAL_BELOW:
            n_workers = 1
        if ext is None:
            stage, tasks = Stage(process_many, n_workers, crash_result=_crash_record), todo
        else:
            stage = Stage(ext.process_many, n_workers, crash_result=lambda t: _crash_record(ext.unwrap(t)))
            tasks = [ext.wrap(t) for t in todo]
        unwrap = ext.unwrap if ext is not None else (lambda t: t)
        total, total_bytes = len(todo), sum(t.size for t in todo)
        errors, warnings = list(stats.dir_errors), list(stats.libraries)
        xmp_counts = dict(xmp_marks.ZERO_COUNTS)
        done, nbytes, batch, last_commit = 0, 0, [], time.monotonic()
        last_progress = last_commit
        if todo:
            yield Progress("ingest", 0, total, f"{total} photos, {total_bytes / 1e6:.0f} MB", 0)
        try:
            for rec in stage.run(chunked(tasks, lambda t: unwrap(t).size), cancel):
                batch.append(rec)
                done += 1
                nbytes += rec.get("nbytes") or rec.get("size") or 0
                if rec["status"] == "error":
                    errors.append({"path": rec["path"], "reason": rec["error"]})
                elif rec.get("warning"):
                    warnings.append({"path": rec["path"], "reason": rec["warning"]})
                xmp_marks.tally(rec.get("xmp"), rec["path"], xmp_counts, warnings)
                now = time.monotonic()
                if len(batch) >= BATCH_ROWS or now - last_commit >= BATCH_SECONDS:
                    full, batch = batch, []  # a batch whose write fails is not retried below
                    records.write_batch(conn, role, full, counts)
                    last_commit = now
                    if ext is not None:
                        ext.written(full)
                if now - last_progress >= PROGRESS_SECONDS or not batch:
                    last_progress = now
                    yield Progress("ingest", done, total, os.path.basename(rec["path"]), nbytes)
            if batch:
                full, batch = batch, []
                records.write_batch(conn, role, full, counts)
                if ext is not None:
                    ext.written(full)
        finally:
            if batch:  # finished, cancelled, or stopped upstream: these records are complete; keep them
                records.write_batch(conn, role, batch, counts)
        if todo:
            yield Progress("ingest", done, total, "", nbytes)
        if xmp_todo:
            yield from _read_xmp_only(conn, xmp_todo, workers or default_workers(), cancel, xmp_counts, warnings)

        # -- files gone from the scanned folders; sessions
        seen = {f.path for f in found}
        missing = records.mark_missing(conn, [r for r in roots if os.path.isdir(r)], seen)
        yield Progress("pairs", 0, None, "pairing RAW+JPEG files")
        n_pairs = pairs.update_pairs(conn, roots)  # before sessions: a pair's RAW is no session member
        yield Progress("sessions", 0, None, "grouping sessions")
        n_sessions = {}
        for r in sorted(counts["roles"]):
            n_sessions[r] = sessions.recompute_sessions(conn, r, session_gap_hours)
        return {
            "role": role,
            "scanned": len(found),
            "added": counts["added"],
            "updated": counts["updated"],
            "unchanged": unchanged,
            "moved": counts["moved"],
            "missing": missing,
            "skipped": stats.skipped,
            "errors": errors,
            "warnings": warnings,
            "known_errors": known_errors,
            "sessions": n_sessions.get(role, 0),
            "bytes": nbytes,
            "seconds": round(time.monotonic() - t0, 3),
            "workers": n_workers if todo else 0,
            "xmp": xmp_counts if xmp else None,
            "raw_jpeg_pairs": n_pairs,
        }
    finally:
        conn.close()


def _known_rows(conn, roots: list[str]) -> dict[str, dict]:
    out = {}
    for root in roots:
        for r in ingest_store.known_rows_under(conn, root):
            out[r["path"]] = dict(r)
    return out


def _xmp_states(conn, roots: list[str]) -> tuple[dict[str, tuple], set[str]]:
    sidecars, packets = {}, set()
    for root in roots:
        s, p = marks_store.xmp_states_under(conn, *ingest_store.under_root(root))
        sidecars.update(s)
        packets |= p
    return sidecars, packets


def _read_xmp_only(conn, tasks: list, workers: int, cancel: CancelToken, counts: dict, warnings: list) -> Job:
    """Read the XMP of unchanged photos (a changed sidecar, a packet never read) and store it."""
    total = len(tasks)
    stage = Stage(xmp_marks.process_xmp_many, workers if total >= SERIAL_BELOW * 8 else 1,
                  crash_result=lambda t: (t.photo_id, t.path, {"embedded": None}))
    yield Progress("xmp", 0, total, f"{total} photos' XMP")
    batch, done = [], 0
    try:
        for photo_id, path, rec in stage.run(chunked(tasks, lambda t: 1, max_items=64), cancel):
            xmp_marks.tally(rec, path, counts, warnings)
            batch.append((photo_id, rec))
            done += 1
            if len(batch) >= BATCH_ROWS:
                full, batch = batch, []
                records.write_xmp_only(conn, full)
                yield Progress("xmp", done, total, os.path.basename(path))
    finally:
        if batch:
            records.write_xmp_only(conn, batch)
    yield Progress("xmp", done, total)
