"""The files export job: the chosen photos copied, hard-linked, symlinked or only listed into DEST.

`export_files_job(lib, dest, ...)` is a plain job (fluxcull.jobs) behind `fluxcull export files`.
DEST is refused inside the photographer's folders (fluxcull.interop.places); names and folders come
from fluxcull.interop.files_plan, so nothing is written outside DEST (checked again with links
resolved) and no file there is ever overwritten. A copy is made to a hidden temp file, hashed while
written, checked against the catalog's SHA-256 of the photo (a photo changed since ingest is not
copied), read back and hashed again, then renamed into place with the photo's times. Links are made
only to photos whose size and time still match the catalog. A photo already at DEST (the same bytes,
or the link already made) is left as it is, so an interrupted export is run again to finish it.
Every run (but a dry run) leaves the list and the CSV of the selection in DEST (fluxcull.interop.selection).

Summary: {dest, mode, layout, decision, min_score, dry_run, photos, placed, present, renamed:
[{path, as}], errors: [{path, reason}], bytes, list, csv, seconds}.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from contextlib import suppress
from pathlib import Path

from fluxcull.catalog import Catalog
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.errors import InvalidValue
from fluxcull.interop.fileio import CHUNK, inside, remove_stale_temps, sha256_file, temp_path
from fluxcull.interop.files_plan import DECISIONS, LAYOUTS, MODES, Placement, plan
from fluxcull.interop.places import check_destination
from fluxcull.interop.selection import write_selection
from fluxcull.interop.xmp_fields import XmpPolicy
from fluxcull.jobs import CancelToken, Job, Progress

STAGE = "export files"
_NO_LINKS = {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


class FileFailed(Exception):
    """One photo could not be exported (the message says why); the job goes on."""


def export_files_job(lib, dest: str | os.PathLike, *, decision: str = "keep", min_score: float | None = None,
                     mode: str = "copy", layout: str = "flat", role: str | None = None,
                     session_id: int | None = None, dry_run: bool = False, cancel: CancelToken | None = None) -> Job:
    for value, allowed, what in ((mode, MODES, "--mode"), (layout, LAYOUTS, "--layout"),
                                 (decision, DECISIONS, "--decision")):
        if value not in allowed:
            raise InvalidValue(f"{what} {value!r}: expected one of {', '.join(allowed)}")
    if not os.fspath(dest).strip():
        raise InvalidValue("--dest is empty: name the folder to export into")
    t0 = time.perf_counter()
    catalog = Catalog(lib.connect())
    try:
        policy = XmpPolicy.from_setting(catalog.setting("export.xmp"))
        dest = check_destination(catalog, Path(dest))
        photos = catalog.export_records(PhotoQuery(role=role, session_id=session_id, status="ok"),
                                        None if decision == "any" else (decision,), min_score)
    finally:
        catalog.close()
    placements = plan(photos, layout)
    summary: dict = {"dest": str(dest), "mode": mode, "layout": layout, "decision": decision, "min_score": min_score,
                     "dry_run": dry_run, "photos": len(photos), "placed": 0, "present": 0, "renamed": [],
                     "errors": [], "bytes": 0, "list": None, "csv": None}
    if not dry_run:
        dest.mkdir(parents=True, exist_ok=True)
    exported: list[tuple[dict, str | None]] = []
    cleaned: set[Path] = set()
    yield Progress(STAGE, 0, len(placements))
    for n, pl in enumerate(placements, 1):
        if cancel is not None:
            cancel.check()
        where = None
        try:
            status, where = _place(pl, dest, mode, dry_run, cleaned)
            summary[status] += 1
            if status == "placed" and mode == "copy":
                summary["bytes"] += int(pl.photo.get("size") or 0)
            if where is not None and (pl.renamed or where.name != os.path.basename(pl.rel)):
                summary["renamed"].append({"path": pl.photo["path"], "as": str(where)})
        except (FileFailed, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            summary["errors"].append({"path": pl.photo["path"], "reason": reason})
        exported.append((pl.photo, str(where) if where is not None else None))
        yield Progress(STAGE, n, len(placements), os.path.basename(pl.rel), nbytes=summary["bytes"])
    if not dry_run:
        list_path, csv_path = write_selection(dest, exported, policy)
        summary["list"], summary["csv"] = str(list_path), str(csv_path)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


def _place(pl: Placement, dest: Path, mode: str, dry_run: bool, cleaned: set[Path]) -> tuple[str, Path | None]:
    """('placed' | 'present', where the photo is now under DEST); ('placed', None) for a list."""
    if mode == "list":
        return "placed", None
    src = pl.photo["path"]
    try:
        st = os.stat(src)
    except FileNotFoundError:
        raise FileFailed("the photo is not in its folder any more (run fluxcull ingest)") from None
    target = dest / pl.rel
    if not dry_run:
        have = target.parent
        while not os.path.lexists(have):
            have = have.parent
        if not inside(have, dest):  # a link inside DEST pointing elsewhere
            raise FileFailed(f"{have} leads outside {dest}: nothing written there")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.parent not in cleaned:
            cleaned.add(target.parent)
            remove_stale_temps(target.parent)
    for candidate in dict.fromkeys([target, dest / pl.alt]):
        if os.path.lexists(candidate):
            if _holds(candidate, pl.photo, mode):
                return "present", candidate
            continue  # a different file: never overwritten, the next name is tried
        if not dry_run:
            _put(mode, src, st, candidate, pl.photo)
        return "placed", candidate
    raise FileFailed(f"{target.name} and {Path(pl.alt).name} in {target.parent} are other files: nothing overwritten")


def _holds(candidate: Path, photo: dict, mode: str) -> bool:
    """Whether `candidate` already is this photo (resumption): the link to it, or its very bytes."""
    src = photo["path"]
    if os.path.islink(candidate):
        return mode == "symlink" and os.readlink(candidate) == src
    if not candidate.is_file():
        return False
    if mode == "hardlink" and os.path.samefile(candidate, src):
        return True
    if candidate.stat().st_size != photo.get("size"):
        return False
    return sha256_file(candidate) == (photo.get("sha256") or sha256_file(src))


def _unchanged_since_ingest(st: os.stat_result, photo: dict) -> None:
    if st.st_size != photo.get("size") or st.st_mtime_ns != photo.get("mtime_ns"):
        raise FileFailed("the photo changed since it was ingested (run fluxcull ingest): not exported")


def _put(mode: str, src: str, st: os.stat_result, target: Path, photo: dict) -> None:
    if mode == "copy":
        _copy_verified(src, st, target, photo.get("sha256"))
        return
    _unchanged_since_ingest(st, photo)
    try:
        if mode == "hardlink":
            os.link(src, target)
        else:
            os.symlink(src, target)
    except OSError as exc:
        if exc.errno in _NO_LINKS:  # the same for every photo: stop with the way out
            kind = "hard links" if mode == "hardlink" else "symbolic links"
            raise InvalidValue(f"{target.parent} cannot hold {kind} to {src} ({exc.strerror}): "
                               f"use --mode copy{' or symlink' if mode == 'hardlink' else ''}") from None
        raise


def _copy_verified(src: str, st: os.stat_result, target: Path, sha256: str | None) -> None:
    tmp = temp_path(target)
    with suppress(FileNotFoundError):
        tmp.unlink()
    try:
        h = hashlib.sha256()
        with open(src, "rb") as fi, open(tmp, "xb") as fo:
            while chunk := fi.read(CHUNK):
                h.update(chunk)
                fo.write(chunk)
            fo.flush()
            os.fsync(fo.fileno())
        read = h.hexdigest()
        if sha256 and read != sha256:
            raise FileFailed("the photo's bytes are not the ones ingested (SHA-256 differs from the catalog's; run "
                             "fluxcull ingest): not copied")
        if sha256_file(tmp) != read:
            raise FileFailed(f"the copy at {target} did not read back the same (SHA-256): not kept")
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        if os.path.lexists(target):
            raise FileFailed(f"{target} appeared while copying: not overwritten")
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
