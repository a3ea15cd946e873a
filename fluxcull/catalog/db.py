"""Connections, transactions and numbered migrations (tracked with PRAGMA user_version)."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Iterator

_MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """All migrations shipped with the package as (number, name, sql), in order."""
    found = []
    for entry in resources.files("fluxcull.catalog").joinpath("migrations").iterdir():
        m = _MIGRATION_RE.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"duplicate migration numbers: {numbers}")
    return found


def latest_version() -> int:
    ms = migrations()
    return ms[-1][0] if ms else 0


def connect(path: str | Path, *, migrate_schema: bool = True, timeout: float = 30.0) -> sqlite3.Connection:
    """Open the catalog with WAL, foreign keys and a busy timeout; migrate it to the latest schema.

    The connection runs in autocommit mode (isolation_level=None): every write must go through
    `transaction()`, which issues BEGIN IMMEDIATE / COMMIT explicitly.
    """
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = %d" % int(timeout * 1000))
    if str(path) != ":memory:":
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"{path}: could not switch the catalog to WAL mode (got {mode})")
    # NORMAL is durable across application crashes in WAL mode; FULL adds power-loss safety.
    conn.execute("PRAGMA synchronous = FULL")
    if migrate_schema:
        migrate(conn)
    return conn


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


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Apply every migration newer than the catalog's user_version (each in its own transaction)."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, name, sql in migrations():
        if number <= current or (target is not None and number > target):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split_sql(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            raise RuntimeError(f"catalog migration {name} failed: {exc}") from exc
        conn.execute("COMMIT")
        current = number
    return current


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
