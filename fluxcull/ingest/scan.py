"""Walk folders for photos: recursive, hidden files and sidecars skipped, symlinks followed
safely (a directory reached twice is visited once; broken and looping links are reported).
A fluxcull library (a folder holding `catalog.sqlite`), and anything inside one, is never
ingested: its thumbnails are not photos."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import Iterable, Iterator

from fluxcull.media import formats


@dataclass(frozen=True)
class Found:
    path: str          # absolute, not symlink-resolved: the name the photographer sees
    size: int
    mtime_ns: int
    error: str | None = None   # set when the file cannot even be stat-ed or read


@dataclass
class ScanStats:
    skipped: int = 0      # files that are not photos (sidecars, other extensions, hidden)
    dir_errors: list | None = None
    libraries: list | None = None   # fluxcull libraries found and skipped: [{path, reason}]

    def __post_init__(self):
        if self.dir_errors is None:
            self.dir_errors = []
        if self.libraries is None:
            self.libraries = []


LIBRARY_MARKER = "catalog.sqlite"
LIBRARY_REASON = "a fluxcull library: its thumbnails and caches are not ingested"


LIBRARY_FOLDERS = ("thumbs", "embeddings", "models", "cache", "logs")


def _library_of(path: str, skip_dirs: list[str]) -> str | None:
    """The fluxcull library `path` is, or whose own folders (thumbnails, caches) it lies in, else None."""
    p, child = os.path.abspath(path), None
    while True:
        if p in skip_dirs or os.path.isfile(os.path.join(p, LIBRARY_MARKER)):
            if child is None or child in LIBRARY_FOLDERS or child.startswith(LIBRARY_MARKER):
                return p
            return None  # photos kept beside a library's own folders are still photos
        parent = os.path.dirname(p)
        if parent == p:
            return None
        p, child = parent, os.path.basename(p)


def _lstat_fallback(path: str) -> tuple[int, int]:
    try:
        st = os.lstat(path)
        return st.st_size, st.st_mtime_ns
    except OSError:
        return 0, 0


def _stat_file(path: str) -> Found:
    try:
        st = os.stat(path)
    except OSError as exc:
        size, mtime = _lstat_fallback(path)
        if exc.errno == errno.ELOOP:
            reason = "symbolic link loop: the link points (through other links) back at itself"
        elif isinstance(exc, FileNotFoundError) and os.path.islink(path):
            target = os.readlink(path)
            reason = f"broken symbolic link: it points to {target}, which does not exist"
        elif isinstance(exc, PermissionError):
            reason = "permission denied: fluxcull cannot read this file (check its owner and permissions)"
        else:
            reason = f"cannot read the file: {exc.strerror or exc}"
        return Found(path, size, mtime, reason)
    if not stat.S_ISREG(st.st_mode):
        return Found(path, 0, st.st_mtime_ns, "not a regular file (a device, pipe or socket)")
    if not os.access(path, os.R_OK):
        return Found(path, st.st_size, st.st_mtime_ns,
                     "permission denied: fluxcull cannot read this file (check its owner and permissions)")
    return Found(path, st.st_size, st.st_mtime_ns)


def _encodable(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def scan(paths: Iterable[str | os.PathLike], stats: ScanStats | None = None,
         skip_dirs: Iterable[str] = ()) -> Iterator[Found]:
    """Every photo file under `paths` (files or folders), in a stable (sorted) order; folders in
    `skip_dirs` and fluxcull libraries are skipped (listed in stats.libraries)."""
    stats = stats if stats is not None else ScanStats()
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    skip = [os.path.abspath(d) for d in skip_dirs]
    for root in paths:
        root = os.path.abspath(os.fspath(root))
        lib = _library_of(root, skip) if os.path.lexists(root) else None
        if lib is not None:
            stats.libraries.append({"path": root, "reason": LIBRARY_REASON if lib == root else
                                    f"inside the fluxcull library {lib}: not ingested"})
            continue
        if os.path.isdir(root):
            yield from _walk(root, stats, seen_dirs, seen_files, skip)
        elif os.path.lexists(root):
            if formats.is_supported(root) and root not in seen_files:
                seen_files.add(root)
                yield _stat_file(root)
            elif root not in seen_files:
                stats.skipped += 1
        else:
            raise FileNotFoundError(f"{root}: no such file or folder")


def _walk(top: str, stats: ScanStats, seen_dirs: set, seen_files: set, skip: list[str]) -> Iterator[Found]:
    try:
        st = os.stat(top)
    except OSError as exc:
        stats.dir_errors.append({"path": top, "reason": f"cannot open folder: {exc.strerror or exc}"})
        return
    key = (st.st_dev, st.st_ino)
    if key in seen_dirs:  # a symlink loop or the same folder given twice
        return
    seen_dirs.add(key)
    if top in skip or os.path.isfile(os.path.join(top, LIBRARY_MARKER)):
        stats.libraries.append({"path": top, "reason": LIBRARY_REASON})
        return
    try:
        with os.scandir(top) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        stats.dir_errors.append({"path": top, "reason": f"cannot list folder: {exc.strerror or exc}"})
        return
    subdirs = []
    for e in entries:
        if e.name.startswith("."):
            stats.skipped += 1
            continue
        try:
            is_dir = e.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False
        if is_dir:
            subdirs.append(e.path)
            continue
        if not formats.is_supported(e.name):
            stats.skipped += 1
            continue
        if not _encodable(e.path):
            stats.dir_errors.append({"path": os.fsencode(e.path).decode("utf-8", "replace"),
                                     "reason": "file name is not valid UTF-8: rename the file to ingest it"})
            continue
        if e.path in seen_files:
            continue
        seen_files.add(e.path)
        yield _stat_file(e.path)
    for d in subdirs:
        yield from _walk(d, stats, seen_dirs, seen_files, skip)
