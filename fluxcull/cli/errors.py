"""How the command line reports what went wrong, and its exit status.

- `FluxcullError` (user errors): one line on stderr, exit 2.
- SQLite errors caused by the catalog file or its folder (damaged, read-only, full): one line
  explaining it, exit 2. OS errors on a named file (no space, read-only file system, permission):
  one line, exit 2.
- Transitional: a ValueError/KeyError/LookupError/FileNotFoundError raised by an explicit `raise`
  statement in fluxcull's own code is a deliberate message from a module not yet moved to
  `UserError`: one line, exit 2. The same types raised anywhere else (a failed dict lookup, a
  library's error) are bugs.
- Anything else is a bug: its traceback is printed and logged, exit 3.
"""

from __future__ import annotations

import errno
import linecache
import logging
import os
import sqlite3
import sys
import traceback

from fluxcull.errors import FluxcullError, UserError

log = logging.getLogger("fluxcull.cli")

EXIT_USER = 2
EXIT_BUG = 3


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def check_text_args(args) -> None:
    """Refuse command-line arguments that are not valid UTF-8 (file names included), naming them."""
    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str):
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    shown = os.fsencode(v).decode("utf-8", "backslashreplace")
                    raise UserError(f"{shown}: this {name.replace('_', ' ')} is not valid UTF-8; fluxcull needs "
                                    "UTF-8 names (rename the file or folder)") from None


def _deliberate_raise(exc: BaseException) -> bool:
    """Whether `exc` was raised by a `raise` statement in fluxcull's own code (not by Python or a
    library on its behalf)."""
    if type(exc) not in (ValueError, KeyError, LookupError, FileNotFoundError) and \
            not (isinstance(exc, (ValueError, LookupError)) and type(exc).__module__.startswith("fluxcull")):
        return False
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    if not frame.f_globals.get("__name__", "").startswith("fluxcull"):
        return False
    line = linecache.getline(frame.f_code.co_filename, tb.tb_lineno).strip()
    return line.startswith("raise ")


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args and not isinstance(exc, FluxcullError):
        return str(exc.args[0])
    return str(exc)


def report(exc: BaseException, lib) -> int:
    """Print what happened and return the exit status."""
    from fluxcull.catalog.db import describe_sqlite_error
    from fluxcull.jobs import Cancelled

    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, (KeyboardInterrupt, Cancelled)):
        print("interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, BrokenPipeError):  # output piped into `head` and closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    msg = None
    if isinstance(exc, FluxcullError) or _deliberate_raise(exc):
        msg = _message(exc)
    elif isinstance(exc, sqlite3.Error):
        msg = describe_sqlite_error(exc, lib.catalog_path if lib is not None else None)
    elif isinstance(exc, OSError):
        msg = _os_message(exc)
    if msg is not None:
        log.info("error: %s", _one_line(msg))
        print(f"fluxcull: error: {_one_line(msg)}", file=sys.stderr)
        return EXIT_USER
    log.error("unexpected error", exc_info=exc)
    traceback.print_exception(exc, file=sys.stderr)
    from fluxcull.logs import current_log_path

    where = current_log_path()
    print(f"fluxcull: internal error: {type(exc).__name__}: {_one_line(str(exc))[:300]} -- this is a bug in "
          f"fluxcull, not a problem with your photos" + (f"; details in {where}" if where else ""), file=sys.stderr)
    return EXIT_BUG


def _os_message(exc: OSError) -> str | None:
    """Environmental OS errors on a named file; None for anything that looks like a bug."""
    name = exc.filename
    if exc.errno == errno.ENOSPC:
        return f"no space left on the disk{f' writing {name}' if name else ''}: free some space and run it again"
    if name is None:
        return None
    if exc.errno == errno.EROFS:
        return f"{name}: the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{name}: permission denied"
    if exc.errno == errno.EIO:
        return f"{name}: input/output error (a failing disk or a removed drive?)"
    if exc.errno == errno.EISDIR:
        return f"{name}: is a folder, not a file"
    if exc.errno == errno.ENOENT:
        return f"{name}: no such file or folder"
    if exc.errno == errno.ENOTDIR:
        return f"{name}: a part of the path is not a folder"
    return None
