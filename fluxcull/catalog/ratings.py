"""Stars and colour labels: the photographer's own marks set in fluxcull (keys 0-9 in the window,
`fluxcull rate`, `fluxcull label`).

- stars: 0 to 5 (0: no stars), stored in photos.rating;
- colour label: red, yellow, green, blue or purple (Lightroom's five; keys 6-9 give the first four),
  or none, stored in photos.color_label (NULL: none). Names are kept in lower case; the XMP export
  writes them as Lightroom does (`Red`).

Each change is the row's update plus a decision-log event (kind 'rate' or 'label', `previous` the old
value, `value` the new one) in one transaction, so it is on disk when the call returns and undone by
the decision log's undo (fluxcull.catalog.decisions.undo_last calls `restore`). Several photos set in
one call share a batch: one undo takes them all back. These are not the marks imported from XMP
(fluxcull.catalog.marks): those say what other applications recorded.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable

from fluxcull.catalog.db import transaction

COLOR_LABELS = ("red", "yellow", "green", "blue", "purple")
NO_LABEL = "none"
MAX_STARS = 5
MARK_KINDS = ("rate", "label")
COLUMNS = {"rate": "rating", "label": "color_label"}   # event kind -> the photos column it sets
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def stars_value(stars) -> int:
    """A number of stars, checked: 0 to 5 (ValueError otherwise)."""
    whole = isinstance(stars, int) and not isinstance(stars, bool)
    if not whole and not (isinstance(stars, str) and stars.isascii() and stars.isdigit()):
        raise ValueError(f"stars must be a whole number from 0 to {MAX_STARS}, not {stars!r}")
    n = int(stars)
    if not 0 <= n <= MAX_STARS:
        raise ValueError(f"stars must be from 0 to {MAX_STARS}, not {n}")
    return n


def label_value(color: str | None) -> str | None:
    """A colour label, checked and in lower case; None for no label ('none', '' or None)."""
    if color is None:
        return None
    name = str(color).strip().lower()
    if name in ("", NO_LABEL):
        return None
    if name not in COLOR_LABELS:
        raise ValueError(f"unknown colour label {color!r}: expected one of {', '.join(COLOR_LABELS)} or none")
    return name


def _text(kind: str, value) -> str:
    """How a value is written in the log's `previous` / `value` columns."""
    if kind == "rate":
        return str(int(value or 0))
    return value or NO_LABEL


def _parse(kind: str, text: str | None):
    if kind == "rate":
        return int(text) if text and text.isdigit() else 0
    return None if text in (None, "", NO_LABEL) else text


def set_marks(conn: sqlite3.Connection, photo_ids: Iterable[int], kind: str, value, source: str) -> dict:
    """Set the stars (kind 'rate', value 0-5) or the colour label (kind 'label', a name or None) of
    photos, logged. Returns {"photos": ids, "changed": ids whose value changed, "batch": the shared
    batch of several photos, else None}. An unknown photo raises KeyError and changes nothing."""
    if kind not in COLUMNS:
        raise ValueError(f"unknown mark {kind!r}: expected rate or label")
    new = stars_value(value) if kind == "rate" else label_value(value)
    column = COLUMNS[kind]
    changed: list[int] = []
    with transaction(conn):
        ids = list(dict.fromkeys(_unit(conn, int(i)) for i in photo_ids))  # a pair's RAW: its JPEG
        if not ids:
            return {"photos": [], "changed": [], "batch": None}
        batch = None
        if len(ids) > 1:
            batch = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM decision_events").fetchone()[0])
        for pid in ids:
            row = conn.execute(f"SELECT {column} FROM photos WHERE id = ?", (pid,)).fetchone()
            if row is None:
                raise KeyError(f"no photo with id {pid}")
            event = conn.execute(
                "INSERT INTO decision_events(photo_id, kind, previous, value, source, batch) VALUES (?, ?, ?, ?, ?, ?)",
                (pid, kind, _text(kind, row[0]), _text(kind, new), source, batch)).lastrowid
            if batch is not None and pid == ids[0] and event != batch:  # ids are max + 1 in the write transaction
                raise RuntimeError(f"batch {batch} began at event {event}")
            if row[0] != new:
                changed.append(pid)
                conn.execute(f"UPDATE photos SET {column} = ?, updated_at = {_NOW} WHERE id = ?", (new, pid))
            # the RAW of a RAW+JPEG pair follows its JPEG, logged as the decisions' pair events are
            for sec, old in conn.execute(f"SELECT id, {column} FROM photos WHERE pair_of = ?", (pid,)).fetchall():
                conn.execute("INSERT INTO decision_events(photo_id, kind, other_photo_id, previous, value, source, detail,"
                             " batch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (sec, kind, pid, _text(kind, old), _text(kind, new), source, f"pair:{event}", batch))
                conn.execute(f"UPDATE photos SET {column} = ?, updated_at = {_NOW} WHERE id = ?", (new, sec))
    return {"photos": ids, "changed": changed, "batch": batch}


def _unit(conn: sqlite3.Connection, pid: int) -> int:
    """The photo unit of `pid`: its JPEG where it is the RAW of a RAW+JPEG pair; KeyError if unknown."""
    row = conn.execute("SELECT pair_of FROM photos WHERE id = ?", (pid,)).fetchone()
    if row is None:
        raise KeyError(f"no photo with id {pid}")
    return int(row[0]) if row[0] is not None else pid


def restore(conn: sqlite3.Connection, event) -> str:
    """Give a photo back the stars or label a 'rate' / 'label' event replaced (inside the caller's
    transaction); returns the value restored, as the log writes it."""
    kind = event["kind"]
    old = _parse(kind, event["previous"])
    conn.execute(f"UPDATE photos SET {COLUMNS[kind]} = ?, updated_at = {_NOW} WHERE id = ?", (old, event["photo_id"]))
    return _text(kind, old)
