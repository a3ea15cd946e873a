"""The XMP export job: each selected photo's decision and keeper score written into its sidecar.

The photos exported are those decided (keep or reject) or marked with stars or a colour label
(`decided_only`, the default), or every ok photo.

`export_xmp_job(lib, ...)` is a plain job (fluxcull.jobs): the command line (`fluxcull export xmp`) and
the app (Library > Export decisions, through fluxcull.workflows) drive it. The destination is the
mirror folder LIBRARY/export/xmp unless asked otherwise (`sidecar`: beside the photos; a folder: a
mirror there). Each sidecar is independent and written atomically (sidecars are written in batches,
their fsyncs made together on a few threads), so an interrupted export is simply run again: what is
already up to date counts as unchanged and is not rewritten.

Summary: {destination, folder, dry_run, photos, sidecars, written, unchanged, skipped: [{path, reason}],
errors: [{path, reason}], backups, policy, seconds}. `skipped`: photos not in their folder any more
(sidecar destination) and sidecars refused (hostile, unreadable or not XMP); `errors`: files that
could not be read or written.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fluxcull.catalog import Catalog
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.errors import InvalidValue
from fluxcull.interop.fileio import write_units
from fluxcull.interop.places import check_destination, export_root
from fluxcull.interop.sidecars import Outcome, XmpWriter
from fluxcull.interop.xmp_fields import XmpPolicy
from fluxcull.interop.xmp_merge import SidecarRefused
from fluxcull.jobs import CancelToken, Job, Progress

log = logging.getLogger(__name__)

STAGE = "export xmp"
BATCH = 256         # sidecars written together
WRITE_THREADS = 8   # their fsyncs made at once, which the file system commits together
MIRROR, SIDECAR = "mirror", "sidecar"


def mirror_folder(lib) -> Path:
    """The default destination: LIBRARY/export/xmp."""
    return export_root(lib) / "xmp"


def resolve_destination(lib, catalog: Catalog, dest: str | None) -> tuple[str, Path | None]:
    """(kind, mirror root) of `dest`: None (the `export.xmp` setting, by default the mirror folder),
    'mirror', 'sidecar', or a folder to mirror into (refused inside the photographer's folders)."""
    if dest is None:
        dest = (catalog.setting("export.xmp") or {}).get("destination", MIRROR)
    if dest == MIRROR:
        return MIRROR, mirror_folder(lib)
    if dest == SIDECAR:
        return SIDECAR, None
    if not str(dest).strip():
        raise InvalidValue("--dest is empty: give sidecar, mirror or a folder")
    return MIRROR, check_destination(catalog, Path(dest))


def export_xmp_job(lib, *, dest: str | None = None, role: str | None = None, session_id: int | None = None,
                   decided_only: bool = True, dry_run: bool = False, keep_rating: int | None = None,
                   keep_label: str | None = None, reject_label: str | None = None,
                   cancel: CancelToken | None = None) -> Job:
    t0 = time.perf_counter()
    catalog = Catalog(lib.connect())
    try:
        policy = XmpPolicy.from_setting(catalog.setting("export.xmp"), keep_rating=keep_rating,
                                        keep_label=keep_label, reject_label=reject_label)
        kind, root = resolve_destination(lib, catalog, dest)
        photos = catalog.export_records(PhotoQuery(role=role, session_id=session_id, status="ok"),
                                        ("keep", "reject") if decided_only else None, marked=True)
    finally:
        catalog.close()
    backup_root = export_root(lib) / "backup" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    writer = XmpWriter(kind, root, backup_root, policy, dry_run=dry_run)
    summary: dict = {"destination": kind, "folder": str(root) if root else None, "dry_run": dry_run,
                     "photos": len(photos), "sidecars": 0, "written": 0, "unchanged": 0, "skipped": [],
                     "errors": [], "backups": None,
                     "policy": {"keep_rating": policy.keep_rating, "keep_label": policy.keep_label,
                                "reject_label": policy.reject_label}}
    batch = _Batch(summary, writer)
    yield Progress(STAGE, 0, len(photos))
    try:
        for n, photo in enumerate(photos, 1):
            if cancel is not None and cancel.cancelled:
                batch.flush()  # what is prepared is written: a later run has less to do
                cancel.check()
            _export_photo(writer, photo, summary, batch)
            yield Progress(STAGE, n, len(photos), photo["path"].rsplit("/", 1)[-1])
        batch.flush()
    finally:
        batch.close()
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


class _Batch:
    """Sidecars prepared but not written yet, written together (fileio.write_units) every BATCH."""

    def __init__(self, summary: dict, writer: XmpWriter):
        self.summary, self.writer = summary, writer
        self.pool = ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="xmp-write")
        self.items: list[Outcome] = []
        self.paths: set[Path] = set()

    def add(self, outcome: Outcome) -> None:
        if outcome.target in self.paths:
            self.flush()
        self.items.append(outcome)
        self.paths.add(outcome.target)
        if len(self.items) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.items:
            return
        errors = write_units([o.files for o in self.items], self.pool)
        for o, err in zip(self.items, errors):
            if err is None:
                self.summary["written"] += 1
                if o.backup is not None:
                    self.summary["backups"] = str(self.writer.backup_root)
            else:
                self.summary["errors"].append({"path": str(o.target), "reason": err.strerror or str(err)})
        self.items, self.paths = [], set()

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _export_photo(writer: XmpWriter, photo: dict, summary: dict, batch: _Batch) -> None:
    path = photo["path"]
    if writer.kind == SIDECAR and not writer.photo_present(path):
        summary["skipped"].append({"path": path, "reason": "the photo is not in its folder any more "
                                                          "(run fluxcull ingest): no sidecar written beside it"})
        return
    for beside, target in writer.targets(path):
        summary["sidecars"] += 1
        try:
            outcome = writer.prepare(photo, beside, target)
        except SidecarRefused as exc:
            which = getattr(exc, "path", target)
            log.warning("%s: sidecar refused: %s", which, exc)
            summary["skipped"].append({"path": str(which), "reason": f"sidecar refused, left untouched: {exc}"})
            continue
        except OSError as exc:
            summary["errors"].append({"path": str(target), "reason": exc.strerror or str(exc)})
            continue
        if outcome.files:
            batch.add(outcome)
        else:
            summary[outcome.status] += 1
