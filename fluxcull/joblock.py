"""The library's job lock: jobs that must not overlap (ingest, embed, match, train, score, repair)
hold it; decisions never need it.

It is an advisory `flock` on `LIBRARY/job.lock`, so it is released by the kernel when its process
dies (a kill -9 leaves no stale lock). The file records who holds it (PID, command, since) for the
message another job gets: "another job is running on this library: PID 123 (fluxcull embed) since
...". Within one process the lock is re-entrant on the thread holding it (the demo runs ingest
inside its own job); another thread of the same process sees it as busy, like another process.

`JOB_LOCK_WAIT` (set by the GUI) makes a job wait for the lock, reporting "waiting for ..." as its
progress, until it is free or the job is cancelled; otherwise a busy library is an error at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

from fluxcull.errors import CatalogError, LibraryBusy
from fluxcull.jobs import CancelToken, Progress

LOCK_NAME = "job.lock"
JOB_LOCK_WAIT = False
POLL_SECONDS = 0.25

_mutex = threading.Lock()
_held: dict[str, dict] = {}   # library root -> {"fh", "thread", "depth"}

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock; jobs are still safe, just not exclusive
    fcntl = None


def command_line() -> str:
    args = [os.path.basename(sys.argv[0] or "fluxcull")] + sys.argv[1:]
    if args and args[0] in ("__main__.py", "-m"):
        args[0] = "fluxcull"
    return " ".join(args)[:200]


def holder(root: str | os.PathLike) -> dict | None:
    """Who holds the library's job lock now ({pid, command, since}), or None when it is free."""
    path = Path(root) / LOCK_NAME
    if fcntl is None or not path.exists():
        return None
    try:
        fh = open(path, "r+")
    except OSError:
        return _read_info(path)
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_info(path) or {"pid": None, "command": "?", "since": "?"}
        fcntl.flock(fh, fcntl.LOCK_UN)
    with _mutex:
        st = _held.get(str(Path(root)))
    return dict(st["info"]) if st else None


def _read_info(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None


def busy_message(info: dict | None) -> str:
    if not info:
        return "another job is running on this library"
    return (f"another job is running on this library: PID {info.get('pid')} ({info.get('command')}) "
            f"since {info.get('since')}; wait for it to finish or stop it")


def _try_acquire(root: str, command: str) -> bool:
    """Take the lock for this thread (re-entrant); False when someone else holds it."""
    me = threading.get_ident()
    with _mutex:
        st = _held.get(root)
        if st is not None:
            if st["thread"] == me:
                st["depth"] += 1
                return True
            return False
        if fcntl is None:
            _held[root] = {"fh": None, "thread": me, "depth": 1, "info": {}}
            return True
        path = Path(root) / LOCK_NAME
        try:
            fh = open(path, "a+", encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"the library {root} is read-only or cannot be written "
                               f"({exc.strerror or exc}): jobs need to write there") from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        info = {"pid": os.getpid(), "command": command,
                "since": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(info))
        fh.flush()
        _held[root] = {"fh": fh, "thread": me, "depth": 1, "info": info}
        return True


def _release(root: str) -> None:
    with _mutex:
        st = _held.get(root)
        if st is None:
            return
        st["depth"] -= 1
        if st["depth"] > 0:
            return
        del _held[root]
        fh = st["fh"]
        if fh is not None:
            try:
                fh.seek(0)
                fh.truncate()
            except OSError:
                pass
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


def _info_of(root: str) -> dict | None:
    with _mutex:
        st = _held.get(root)
        if st is not None:
            return dict(st["info"])
    return _read_info(Path(root) / LOCK_NAME)


def acquire(lib, command: str | None = None, *, wait: bool | None = None,
            cancel: CancelToken | None = None) -> Iterator[Progress]:
    """A job step (``yield from acquire(lib, ...)``) that takes the lock, waiting (with progress and
    cancel) when `wait` (default JOB_LOCK_WAIT), else raising LibraryBusy at once."""
    root = str(Path(lib.root))
    command = command or command_line()
    wait = JOB_LOCK_WAIT if wait is None else wait
    announced = False
    while not _try_acquire(root, command):
        info = _info_of(root)
        if not wait:
            raise LibraryBusy(busy_message(info))
        if cancel is not None:
            cancel.check()
        if not announced:
            yield Progress("waiting", 0, None, busy_message(info).replace("another job is running", "waiting for"))
            announced = True
        time.sleep(POLL_SECONDS)


def release(lib) -> None:
    _release(str(Path(lib.root)))


@contextlib.contextmanager
def job_lock(lib, command: str | None = None) -> Iterator[None]:
    """Hold the lock for a block (no waiting: LibraryBusy when another job runs)."""
    for _ in acquire(lib, command, wait=False):
        pass
    try:
        yield
    finally:
        release(lib)


def locked(lib, job, command: str | None = None, cancel: CancelToken | None = None):
    """Run a job generator while holding the lock (taken before its first step)."""
    yield from acquire(lib, command, cancel=cancel)
    try:
        return (yield from job)
    finally:
        release(lib)
