"""Bounds on what one file may cost, quiet decoders, and workers that die with their parent.

- Size caps per format (`ingest.max_file_mb` setting: a number of MB for every format, or a JSON
  object such as {"jpeg": 300, "raw": 800, "default": 1000}): a file over its cap is recorded as an
  error with the reason and never read into memory.
- LibRaw and libtiff print warnings straight to the process's stderr from C. `capture_stderr()`
  sends file descriptor 2 to a temporary file while one photo is decoded and returns what was
  written, which becomes that photo's warning instead of noise on the terminal.
- `watch_parent()` (a worker process initializer) ends the worker when the process that started the
  job dies, even by kill -9: a parent-death signal on Linux, and a watchdog thread everywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time

SETTING_KEY = "ingest.max_file_mb"
DEFAULT_CAPS_MB = {"jpeg": 300, "png": 1000, "tiff": 2000, "heif": 300, "raw": 1000, "default": 1000}
MB = 1 << 20
WATCH_SECONDS = 0.25


def size_caps(conn) -> dict[str, int]:
    """Byte caps by format name ('raw' for every RAW format, 'default' for anything else)."""
    from fluxcull.catalog.settings import read_text

    caps = dict(DEFAULT_CAPS_MB)
    text = read_text(conn, SETTING_KEY)
    if text:
        from fluxcull.errors import InvalidValue

        try:
            value = json.loads(text)
        except ValueError:
            raise InvalidValue(f"setting {SETTING_KEY} is not a number or a JSON object: {text!r}") from None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            caps = {k: value for k in caps}
        elif isinstance(value, dict):
            caps.update(value)
        else:
            raise InvalidValue(f"setting {SETTING_KEY} must be a number of MB or an object of them")
        for k, v in caps.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < 1 << 30):
                raise InvalidValue(f"setting {SETTING_KEY}: {k} must be a positive number of MB, not {v!r}")
    return {k: int(v * MB) for k, v in caps.items()}


def cap_for(caps: dict[str, int], fmt: str, raw: bool) -> int:
    return caps.get(fmt) or caps.get("raw" if raw else "default") or caps["default"]


def too_big_reason(size: int, cap: int, fmt: str) -> str:
    return (f"file is {size / MB:,.0f} MB, over the {cap // MB:,} MB limit for {fmt} files: not read "
            f"(a damaged or wrongly named file? raise the limit with the setting {SETTING_KEY})")


_capture_lock = threading.Lock()
_capture_file = None


@contextlib.contextmanager
def capture_stderr():
    """Collect what C libraries write to fd 2 while the block runs; yields a list that receives the
    text (stripped, at most 500 characters) when the block ends."""
    global _capture_file
    out: list[str] = []
    with _capture_lock:
        try:
            if _capture_file is None:
                _capture_file = tempfile.TemporaryFile()
            saved = os.dup(2)
        except OSError:
            yield out
            return
        try:
            _capture_file.seek(0)
            _capture_file.truncate()
            os.dup2(_capture_file.fileno(), 2)
            try:
                yield out
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
        _capture_file.seek(0)
        text = _capture_file.read(4096).decode("utf-8", "replace").strip()
        if text:
            out.append(" ".join(text.split())[:500])


def pid_alive(pid: int) -> bool:
    """Whether a process is running (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def watch_parent(parent_pid: int) -> None:
    """Worker initializer: exit as soon as `parent_pid` is gone."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG: when the forking parent dies
    except (OSError, AttributeError, ValueError):
        pass

    def watch() -> None:
        while pid_alive(parent_pid):
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    if not pid_alive(parent_pid):
        os._exit(1)
    threading.Thread(target=watch, name="fluxcull-parent-watch", daemon=True).start()
