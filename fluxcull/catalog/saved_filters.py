"""Saved filters ("smart collections"): a name and a filter expression in the `--where` grammar of
fluxcull.catalog.filters, stored in the catalog's `saved_filters` table (migration 0015) and parsed
again each time one is used. Names are unique regardless of letter case."""

from __future__ import annotations

import sqlite3

from fluxcull.catalog.db import transaction
from fluxcull.catalog.filters import format_where, parse_where
from fluxcull.errors import InvalidValue, NotFound

MAX_NAME = 80


def check_name(name: str) -> str:
    """The name trimmed; InvalidValue when it is empty, too long or holds control characters."""
    name = str(name).strip()
    if not name:
        raise InvalidValue("a saved filter needs a name")
    if len(name) > MAX_NAME:
        raise InvalidValue(f"a saved filter's name is {MAX_NAME} characters at most: {name[:20]!r}…")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidValue(f"a saved filter's name cannot hold control characters: {name!r}")
    return name


def list_filters(conn: sqlite3.Connection) -> list[dict]:
    """Every saved filter: name, expression, created_at, updated_at; by name."""
    rows = conn.execute("SELECT name, expression, created_at, updated_at FROM saved_filters "
                        "ORDER BY name COLLATE NOCASE")
    return [dict(r) for r in rows]


def get_filter(conn: sqlite3.Connection, name: str) -> dict:
    row = conn.execute("SELECT name, expression, created_at, updated_at FROM saved_filters "
                       "WHERE name = ? COLLATE NOCASE", (str(name).strip(),)).fetchone()
    if row is None:
        known = ", ".join(f["name"] for f in list_filters(conn)) or "none yet"
        raise NotFound(f"no saved filter named {name!r} (saved filters: {known})")
    return dict(row)


def save_filter(conn: sqlite3.Connection, name: str, expression: str) -> dict:
    """Store (or replace) a saved filter; the expression is checked and stored in its written-back
    form. Returns the stored row."""
    name = check_name(name)
    values = parse_where(expression)
    if not values:
        raise InvalidValue("a saved filter needs at least one condition (see `fluxcull photos --help`)")
    text = format_where(values)
    with transaction(conn):
        conn.execute(
            "INSERT INTO saved_filters (name, expression) VALUES (?, ?) ON CONFLICT (name COLLATE NOCASE) DO UPDATE "
            "SET name = excluded.name, expression = excluded.expression, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", (name, text))
    return get_filter(conn, name)


def delete_filter(conn: sqlite3.Connection, name: str) -> dict:
    """Remove a saved filter (NotFound when there is none by that name); returns what was removed."""
    row = get_filter(conn, name)
    with transaction(conn):
        conn.execute("DELETE FROM saved_filters WHERE name = ? COLLATE NOCASE", (row["name"],))
    return row


def cameras(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """The (make, model) of every camera the catalog has seen ('' where EXIF had none), by model."""
    return [(r[0], r[1]) for r in conn.execute("SELECT make, model FROM cameras ORDER BY model, make")]


def lenses(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM lenses ORDER BY name")]
