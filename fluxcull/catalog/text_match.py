"""The SQL of the find filters that match text (`text~`, `name~`, `camera~`, `lens~`: contains, any
ASCII letter case): fixed SQL text, each value bound to a "?" as a LIKE pattern whose %, _ and \\ are
literal (`like_pattern`). Camera and lens are matched against the catalog's small cameras and lenses
tables first (migration 0015) and bound as the list of matching names, so an index by model or lens
serves them. Used by fluxcull.catalog.queries.PhotoQuery."""

from __future__ import annotations

import sqlite3
from typing import Any

_LIKE = " LIKE ? ESCAPE '\\'"
_FILE_NAME = "substr(path, length(rtrim(path, replace(replace(path, '/', ''), '\\', ''))) + 1)"
_CAMERA_TEXT = "(COALESCE(camera_make, '') || ' ' || COALESCE(camera_model, ''))"
# the path is tested first (cheap), the file name cut out of it only for the paths that hold the text
NAME_SQL = f"((path{_LIKE} AND {_FILE_NAME}{_LIKE}) OR original_filename{_LIKE})"
TEXT_SQL = (f"(path{_LIKE} OR original_filename{_LIKE} OR camera_model{_LIKE} OR camera_make{_LIKE}"
            f" OR lens{_LIKE})")
# camera and lens: the matching models (makes, for photos with no model) and lens names are read from the
# small cameras and lenses tables first and bound as a list, so that photos_find_camera and
# photos_find_lens serve a camera or lens with a date range; without a connection, the same as subqueries
_MODELS = f"SELECT DISTINCT model FROM cameras WHERE model != '' AND (make || ' ' || model){_LIKE}"
_MAKES = f"SELECT DISTINCT make FROM cameras WHERE model = '' AND make{_LIKE}"
_LENSES = f"SELECT name FROM lenses WHERE name{_LIKE}"
_SHARED_MODEL = f"SELECT 1 FROM cameras WHERE model IN (%s) AND NOT (make || ' ' || model){_LIKE} LIMIT 1"
CAMERA_SQL = (f"(camera_model IN ({_MODELS}) OR (camera_model IS NULL AND camera_make IN ({_MAKES})))"
              f" AND {_CAMERA_TEXT}{_LIKE}")
LENS_SQL = f"lens IN ({_LENSES})"


def _in(column: str, values: list) -> str:
    return f"{column} IN ({', '.join('?' * len(values))})"


def camera_clause(conn: sqlite3.Connection | None, text: str) -> tuple[str, list[Any]]:
    """The condition "make and model contain `text`": with a connection, the matching models bound as a
    list (the test of the make added only where a model is also another make's)."""
    pattern = like_pattern(text)
    if conn is None:
        return CAMERA_SQL, [pattern] * 3
    models = [r[0] for r in conn.execute(_MODELS, (pattern,))]
    makes = [r[0] for r in conn.execute(_MAKES, (pattern,))]
    parts, params = [], []
    if models:
        parts.append(_in("camera_model", models))
        params += models
    if makes:
        parts.append(f"(camera_model IS NULL AND {_in('camera_make', makes)})")
        params += makes
    if not parts:
        return "0", []
    sql = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    if models and conn.execute(_SHARED_MODEL % ", ".join("?" * len(models)), models + [pattern]).fetchone():
        sql += f" AND {_CAMERA_TEXT}{_LIKE}"
        params.append(pattern)
    return sql, params


def lens_clause(conn: sqlite3.Connection | None, text: str) -> tuple[str, list[Any]]:
    pattern = like_pattern(text)
    if conn is None:
        return LENS_SQL, [pattern]
    names = [r[0] for r in conn.execute(_LENSES, (pattern,))]
    return (_in("lens", names), names) if names else ("0", [])


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds `text` anywhere (case-insensitive for ASCII), its %, _ and \\ literal."""
    escaped = str(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
