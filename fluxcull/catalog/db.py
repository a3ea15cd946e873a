"""Connections, transactions and numbered migrations.

Each migration applied is recorded in `schema_migrations` (number, name); PRAGMA user_version holds
the highest number applied. Numbers need not be contiguous, and a migration numbered below one
already applied is still applied when it appears (migrations written on parallel branches and merged
in any order); a catalog from before the table counts every number up to its user_version as applied.

Opening a catalog checks it before anything is written:
- a 0-byte or non-SQLite file is reported as damaged (never silently re-initialised);
- a catalog from a newer fluxcull (user_version above the newest migration here) is refused for
  writing and opened read-only for reading, with a message;
- an older one is copied to `catalog.sqlite.bak-<version>` (the newest `BACKUPS_KEPT` are kept)
  and then migrated, also when it is opened for reading (a command that only reads would otherwise
  meet a table or column it lacks); where it cannot be written (read-only media) reading it is
  refused with what to do.
Creating and migrating happen under an exclusive lock (`catalog.sqlite.lock`), so two first runs
on a new library, or two programs opening an old catalog, migrate it once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from fluxcull.errors import CatalogError

log = logging.getLogger(__name__)

_MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BACKUPS_KEPT = 3
DAMAGED_HINT = "run `fluxcull doctor` (it lists the backups, catalog.sqlite.bak-N)"

try:
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


def migrations() -> list[tuple[int, str, str]]:
    """All migrations shipped with the package as (number, name, sql), in order. Numbers must be
    unique, not consecutive: a catalog's user_version is the last one applied, and `migrate` applies
    every migration numbered above it."""
    return list(_shipped_migrations())


@functools.lru_cache(maxsize=None)
def _shipped_migrations() -> tuple[tuple[int, str, str], ...]:
    """The package's migration files, read once per process (each connection asks for them several
    times: a window opens three, each reading every file again)."""
    found = []
    for entry in resources.files("fluxcull.catalog").joinpath("migrations").iterdir():
        m = _MIGRATION_RE.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"duplicate migration numbers: {numbers}")
    return tuple(found)


def latest_version() -> int:
    ms = migrations()
    return ms[-1][0] if ms else 0


def describe_sqlite_error(exc: sqlite3.Error, path: str | os.PathLike | None = None) -> str | None:
    """A one-line explanation of an SQLite error caused by the catalog file or its folder (damaged,
    read-only, full disk, I/O), or None when it is not one (a bug: let it show)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    where = f" ({path})" if path else ""
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or name.startswith("SQLITE_CORRUPT"):
        return f"the catalog is damaged{where}: {exc}; {DAMAGED_HINT}"
    if name.startswith("SQLITE_READONLY") or name.startswith("SQLITE_CANTOPEN") or name.startswith("SQLITE_AUTH"):
        return (f"the library is read-only or cannot be opened{where}: {exc}; check the folder's permissions "
                "or give another --library")
    if name == "SQLITE_FULL":
        return f"the disk holding the library is full{where}: free some space and run the command again"
    if name.startswith("SQLITE_IOERR"):
        return f"the catalog cannot be read or written{where}: disk I/O error ({exc})"
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return f"the catalog is busy{where}: another program holds it locked for too long ({exc})"
    return None


@contextlib.contextmanager
def _open_lock(path: Path) -> Iterator[None]:
    """Exclusive lock for creating/migrating the catalog (a no-op where it cannot be had)."""
    fh = None
    if fcntl is not None:
        try:
            fh = open(str(path) + ".lock", "a")
            fcntl.flock(fh, fcntl.LOCK_EX)
        except OSError:
            if fh is not None:
                fh.close()
            fh = None
    try:
        yield
    finally:
        if fh is not None:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


def connect(path: str | Path, *, migrate_schema: bool = True, timeout: float = 30.0,
            readonly: bool = False) -> sqlite3.Connection:
    """Open the catalog with WAL, foreign keys and a busy timeout; migrate it to the latest schema.

    The connection runs in autocommit mode (isolation_level=None): every write must go through
    `transaction()`, which issues BEGIN IMMEDIATE / COMMIT explicitly. `readonly` opens it for
    reading only (an existing catalog; nothing is created or migrated).
    Raises CatalogError (one line for a person) when the catalog is damaged, newer or unreachable.
    """
    if str(path) == ":memory:":
        return _configure(sqlite3.connect(":memory:", timeout=timeout, isolation_level=None,
                                          check_same_thread=False), timeout, migrate_schema)
    path = Path(path)
    try:
        if readonly:
            return _connect_readonly(path, timeout)
        with _open_lock(path):
            _check_file(path)
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > latest_version():
                    raise CatalogError(_newer_message(path, version) + ": this command needs to write, so it "
                                       "was refused (commands that only read still work)")
                if migrate_schema and version > 0 and pending(conn):
                    backup_catalog(conn, path, version)
                return _configure(conn, timeout, migrate_schema, path)
            except BaseException:
                conn.close()
                raise
    except sqlite3.Error as exc:
        msg = describe_sqlite_error(exc, path)
        if msg is None:
            raise
        raise CatalogError(msg) from exc


def _newer_message(path: Path, version: int) -> str:
    return (f"the catalog {path} was written by a newer fluxcull (schema {version}; this one knows up to "
            f"{latest_version()}): upgrade fluxcull")


def _check_file(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise CatalogError(f"there is no library folder at {path.parent}") from None
        return  # a new library: created below
    if not path.is_file():
        raise CatalogError(f"{path} is not a file: the library's catalog must be a SQLite file")
    wal = Path(str(path) + "-wal")
    if st.st_size == 0 and not (wal.exists() and wal.stat().st_size > 0):
        raise CatalogError(f"the catalog is damaged ({path}): the file is empty (0 bytes); {DAMAGED_HINT}")


def _connect_readonly(path: Path, timeout: float) -> sqlite3.Connection:
    if not path.is_file():
        raise CatalogError(f"there is no catalog at {path}: nothing to read yet (run `fluxcull ingest` first)")
    if path.stat().st_size == 0:
        raise CatalogError(f"the catalog is damaged ({path}): the file is empty (0 bytes); {DAMAGED_HINT}")
    uri = "file:" + quote(str(path)) + "?mode=ro"
    conn = None
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.OperationalError as exc:
        # a WAL catalog in a folder fluxcull cannot write (no -shm file can be made): read it as an
        # immutable file, which nobody can be changing when nobody can write there
        name = getattr(exc, "sqlite_errorname", "") or ""
        if not (name.startswith("SQLITE_CANTOPEN") or name.startswith("SQLITE_READONLY")) or \
                os.access(path.parent, os.W_OK):
            raise
        if conn is not None:
            conn.close()
        conn = sqlite3.connect("file:" + quote(str(path)) + "?immutable=1", uri=True, timeout=timeout,
                               isolation_level=None, check_same_thread=False)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > latest_version():
        log.warning(_newer_message(path, version) + "; opened read-only")
    elif version > 0 and pending(conn):
        conn.close()
        return _upgrade_to_read(path, version, timeout)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = %d" % int(timeout * 1000))
    conn.execute("PRAGMA query_only = ON")
    return conn


def _upgrade_to_read(path: Path, version: int, timeout: float) -> sqlite3.Connection:
    """An older catalog opened for reading: migrated as a writing command would (backup first), then
    opened read-only; CatalogError where it cannot be written."""
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        raise CatalogError(f"the catalog {path} was written by an older fluxcull (schema {version}; this one reads "
                           f"{latest_version()}) and must be upgraded before it can be read, but the library is "
                           "read-only: make it writable (or copy it somewhere writable) and run any fluxcull "
                           "command on it once")
    log.info("catalog %s (schema %d) opened for reading: upgrading it first", path, version)
    connect(path, timeout=timeout).close()
    return _connect_readonly(path, timeout)


def _configure(conn: sqlite3.Connection, timeout: float, migrate_schema: bool, path: Path | None = None):
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = %d" % int(timeout * 1000))
    if path is not None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise CatalogError(f"{path}: could not switch the catalog to WAL mode (got {mode}); "
                               "is the library on a network or read-only file system?")
    # NORMAL is durable across application crashes in WAL mode; FULL adds power-loss safety.
    conn.execute("PRAGMA synchronous = FULL")
    if migrate_schema:
        migrate(conn)
    return conn


def backup_catalog(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the catalog (consistently, with SQLite's backup API) to `<path>.bak-<version>` before
    migrating it; keep the newest BACKUPS_KEPT backups."""
    dest = Path(f"{path}.bak-{version}")
    tmp = Path(f"{dest}.tmp{os.getpid()}")
    target = sqlite3.connect(str(tmp))
    try:
        conn.backup(target)
    finally:
        target.close()
    os.replace(tmp, dest)
    log.info("catalog schema %d backed up to %s before migrating", version, dest)
    backups = sorted(list_backups(path), key=lambda p: int(p.name.rsplit("-", 1)[1]))
    for old in backups[:-BACKUPS_KEPT]:
        old.unlink(missing_ok=True)
    return dest


def list_backups(path: Path) -> list[Path]:
    path = Path(path)
    return [p for p in path.parent.glob(path.name + ".bak-*") if p.name.rsplit("-", 1)[1].isdigit()]


def plain_cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor of `conn` that gives plain tuples: a whole-library read (400,000 rows) is 1.4-2x
    faster than through the connection's sqlite3.Row factory."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception. Nested use joins the outer one."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def _applied(conn: sqlite3.Connection) -> set[int] | None:
    """The migration numbers recorded as applied; None for a catalog without the record."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").fetchone() is None:
        return None
    return {r[0] for r in conn.execute("SELECT number FROM schema_migrations")}


def pending(conn: sqlite3.Connection) -> list[int]:
    """The numbers of the shipped migrations this catalog has not applied yet, in order."""
    applied = _applied(conn)
    if applied is None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        applied = {n for n, _, _ in migrations() if n <= version}
    return [n for n, _, _ in migrations() if n not in applied]


def _record_table(conn: sqlite3.Connection) -> None:
    """Create `schema_migrations` where it is missing, filled with every migration the catalog's
    user_version says was applied (inside the caller's transaction)."""
    if _applied(conn) is not None:
        return
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))")
    conn.executemany("INSERT INTO schema_migrations (number, name) VALUES (?, ?)",
                     [(n, name) for n, name, _ in migrations() if n <= version])


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Apply every shipped migration the catalog has not applied (up to `target`), in number order,
    each in its own transaction; what was applied is read again inside it, so a concurrent migrator
    never applies one twice. Returns the catalog's user_version (the highest number applied)."""
    todo = set(pending(conn))
    for number, name, sql in migrations():
        if number not in todo or (target is not None and number > target):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            _record_table(conn)
            if number not in pending(conn):
                conn.execute("COMMIT")
                continue
            for statement in _split_sql(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (number, name) VALUES (?, ?)", (number, name))
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute(f"PRAGMA user_version = {max(int(current), int(number))}")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error) and describe_sqlite_error(exc) is not None:
                raise
            raise RuntimeError(f"catalog migration {name} failed: {exc}") from exc
        conn.execute("COMMIT")
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _split_sql(sql: str) -> list[str]:
    """Split a migration script into statements (sqlite3.complete_statement keeps triggers whole)."""
    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


def schema_sql(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """The catalog's schema as sorted (type, name, normalised sql) rows, for comparing catalogs."""
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return sorted((r[0], r[1], " ".join(r[2].split())) for r in rows)
