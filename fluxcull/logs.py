"""Logging: one logger per package (``fluxcull.ingest``, ``fluxcull.embedding``, ...) under ``fluxcull``,
written to a rotating log file inside the library (``LIBRARY/logs/fluxcull.log``, 1 MB x 4).

Warnings and errors meant for the person at the terminal are also printed to stderr as
``fluxcull: warning: ...`` by the command line; everything (with tracebacks) goes to the file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

LOG_NAME = "fluxcull.log"
MAX_BYTES = 1 << 20
BACKUPS = 4
_FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"

_file_handler: logging.Handler | None = None
_file_path: Path | None = None


def log_path(library_root: str | os.PathLike) -> Path:
    return Path(library_root) / "logs" / LOG_NAME


def setup_file_logging(library_root: str | os.PathLike, level: int = logging.INFO) -> Path | None:
    """Send the ``fluxcull`` loggers to the library's rotating log file; returns its path, or None
    when the library cannot be written (a read-only library still works, without a log file)."""
    global _file_handler, _file_path
    path = log_path(library_root)
    if _file_handler is not None and _file_path == path:
        return path
    root = logging.getLogger("fluxcull")
    root.setLevel(min(level, root.level or level) if root.level else level)
    if _file_handler is not None:
        root.removeHandler(_file_handler)
        _file_handler.close()
        _file_handler, _file_path = None, None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8", delay=True)
        if not os.access(path.parent, os.W_OK):
            raise PermissionError(path.parent)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level)
    root.addHandler(handler)
    _file_handler, _file_path = handler, path
    return path


def current_log_path() -> Path | None:
    return _file_path


class _StderrFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"fluxcull: {record.levelname.lower()}: {record.getMessage()}"


def setup_stderr(level: int = logging.WARNING) -> None:
    """Warnings for the person at the terminal (one line each, no traceback) on stderr."""
    root = logging.getLogger("fluxcull")
    if any(getattr(h, "_fluxcull_stderr", False) for h in root.handlers):
        return
    h = logging.StreamHandler()
    h._fluxcull_stderr = True  # type: ignore[attr-defined]
    h.setLevel(level)
    h.setFormatter(_StderrFormatter())
    root.addHandler(h)
    if not root.level or root.level > level:
        root.setLevel(min(level, logging.INFO))
