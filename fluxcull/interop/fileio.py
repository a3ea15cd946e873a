"""How an export writes a file: atomically (a temp file in the same folder, fsync, rename), one at a
time or many together (`write_units`), never through a symbolic link; and where a mirrored path lies.

Temp files are hidden and carry the writer's process id (`.NAME.tmp<pid>`); a later export removes the
ones a killed export left in the folders it writes to.
"""

from __future__ import annotations

import hashlib
import os
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

CHUNK = 1024 * 1024
_TEMP = re.compile(r"^\..+\.tmp(\d+)$")


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def write_atomic(path: Path, data: bytes) -> None:
    """`path` holds `data` or, if anything failed, what it held before (never a partial file)."""
    tmp = temp_path(path)
    with suppress(FileNotFoundError):
        tmp.unlink()  # left by a killed run that had this process id
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


def _write_synced(tmp: Path, data: bytes) -> None:
    with suppress(FileNotFoundError):
        tmp.unlink()
    with open(tmp, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_units(units: list[list[tuple[Path, bytes]]], pool: ThreadPoolExecutor) -> list[OSError | None]:
    """Write many small files atomically at once: every temp file is written and fsynced on the pool's
    threads (the file system commits fsyncs made together in one go, where one at a time each waits for
    its own), then the units are renamed into place in order, each file of a unit after the one before
    it. A unit whose temp files are not all on disk renames nothing. Returns each unit's error or None.
    The same path must not appear twice."""
    flat = [(n, temp_path(path), data) for n, unit in enumerate(units) for path, data in unit]

    def write(item) -> OSError | None:
        try:
            _write_synced(item[1], item[2])
        except OSError as exc:
            return exc
        return None

    errors: list[OSError | None] = [None] * len(units)
    for (n, _tmp, _data), err in zip(flat, pool.map(write, flat)):
        errors[n] = errors[n] or err
    for n, unit in enumerate(units):
        for path, _data in unit:
            tmp = temp_path(path)
            if errors[n] is None:
                try:
                    os.replace(tmp, path)
                    continue
                except OSError as exc:
                    errors[n] = exc
            with suppress(OSError):
                tmp.unlink()
    return errors


def read_limited(path: Path, limit: int) -> bytes | None:
    """A regular file's bytes (None when there is none); OSError for a link or a file over `limit`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not os.path.isfile(path) or os.path.islink(path):
        raise OSError(f"{path.name} is a symbolic link or not a regular file: not touched")
    if st.st_size > limit:
        raise OSError(f"{path.name} is larger than {limit // 2**20} MB: not a sidecar")
    with open(path, "rb") as f:
        return f.read(limit + 1)


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def mirrored(root: Path, path: str | os.PathLike) -> Path:
    """`path` (absolute) re-rooted under `root`: /home/ana/Photos/a.xmp -> ROOT/home/ana/Photos/a.xmp
    (a Windows drive becomes a folder: C:\\Photos -> ROOT/C/Photos)."""
    drive, rest = os.path.splitdrive(os.path.abspath(path))
    rel = rest.lstrip("\\/")
    if drive:
        rel = os.path.join(drive.strip(":\\/").replace(":", "").replace("\\", "_") or "drive", rel)
    return Path(os.path.join(root, rel))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return True
    return True


def remove_stale_temps(folder: Path) -> int:
    """Remove the temp files of dead exports in `folder` (ours are `.NAME.tmp<pid>`)."""
    n = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        m = _TEMP.match(name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            with suppress(OSError):
                os.unlink(folder / name)
                n += 1
    return n


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies below it, links resolved."""
    p, f = os.path.realpath(path), os.path.realpath(folder)
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)
