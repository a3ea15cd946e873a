"""Walk folders for photos: recursive, hidden files and sidecars skipped, symlinks followed
safely (a directory reached twice is visited once; broken and looping links are reported).
A fluxcull library (a folder holding `catalog.sqlite`), and anything inside one, is never
ingested: its thumbnails are not photos. Each photo comes with its XMP sidecar, where it has one
(fluxcull.media.sidecars says which), found in the same folder listing."""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from dataclasses import dataclass
from typing import Iterable, Iterator

from fluxcull.media import formats
from fluxcull.media.sidecars import SidecarIndex, is_sidecar


@dataclass(frozen=True)
class Found:
    path: str          # absolute, not symlink-resolved: the name the photographer sees
    size: int
    mtime_ns: int
    error: str | None = None   # set when the file cannot even be stat-ed or read
    sidecar: str | None = None  # its XMP sidecar's path, where it has one
    sidecar_size: int = 0       # -1: the sidecar could not be stat-ed (its read will say why)
    sidecar_mtime_ns: int = 0


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
    indexes: dict[str, SidecarIndex | None] = {}  # parent folder of a single file -> its sidecars
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
                yield _with_sidecar(_stat_file(root), _folder_index(os.path.dirname(root), indexes))
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
    subdirs, photos, sidecars = [], [], []
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
            if is_sidecar(e.name) and _encodable(e.path):
                sidecars.append(e.name)
            continue
        if not _encodable(e.path):
            stats.dir_errors.append({"path": os.fsencode(e.path).decode("utf-8", "replace"),
                                     "reason": "file name is not valid UTF-8: rename the file to ingest it"})
            continue
        photos.append(e)
    index = SidecarIndex(sidecars + [e.name for e in photos]) if sidecars else None
    for e in photos:
        if e.path in seen_files:
            continue
        seen_files.add(e.path)
        yield _with_sidecar(_stat_file(e.path), index)
    for d in subdirs:
        yield from _walk(d, stats, seen_dirs, seen_files, skip)


def _folder_index(folder: str, cache: dict[str, SidecarIndex | None]) -> SidecarIndex | None:
    """The sidecars of `folder` (listed once per scan), None where it has none or cannot be listed."""
    if folder not in cache:
        try:
            names = [n for n in os.listdir(folder) if not n.startswith(".") and _encodable(n)]
        except OSError:
            names = []
        cache[folder] = SidecarIndex(names) if any(is_sidecar(n) for n in names) else None
    return cache[folder]


def _with_sidecar(found: Found, index: SidecarIndex | None) -> Found:
    """`found` with its sidecar's path, size and mtime (its folder's sidecars are in `index`)."""
    name = index.for_photo(os.path.basename(found.path)) if index else None
    if name is None:
        return found
    path = os.path.join(os.path.dirname(found.path), name)
    try:
        st = os.stat(path)
        size, mtime = (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else (-1, 0)
    except OSError:
        size, mtime = -1, 0
    return dataclasses.replace(found, sidecar=path, sidecar_size=size, sidecar_mtime_ns=mtime)
