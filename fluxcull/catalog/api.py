"""The catalog API every layer above the catalog calls: named queries and commands on one connection.

`Catalog(conn)` wraps an open catalog connection (`Catalog.open(path)` opens one); the GUI holds
Catalog objects, never a connection, and runs no SQL of its own. Each method is one named query or
command returning typed records (fluxcull.catalog.records). Commands commit their own transaction,
so a decision is on disk the moment the call returns.

`connection` is there for the headless modules that still take a raw connection (the keeper
model's dataset and pair code); nothing in `fluxcull/ui` may use it.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterable

from fluxcull.catalog import motif_store as _motifs
from fluxcull.catalog import queries as _q
from fluxcull.catalog import ratings as _ratings
from fluxcull.catalog import saved_filters as _saved
from fluxcull.catalog import stack_queries as _stack_queries
from fluxcull.catalog.db import connect
from fluxcull.catalog.keepers import confirmed_keeper_ids
from fluxcull.catalog.records import (GRID_COLUMNS, DecisionCounts, GridRecord, PhotoRecord, ProblemRecord,
                                      SessionRecord, SourceList, Undone)
from fluxcull.catalog.scores import kept_or_confirmed_sql

# grid columns that are not photos columns: whether a RAW file is paired to the photo
_GRID_EXPRESSIONS = {"paired": "EXISTS (SELECT 1 FROM photos s WHERE s.pair_of = photos.id)"}
_GRID_SELECT = "SELECT %s FROM photos WHERE id IN (%%s)" % ", ".join(_GRID_EXPRESSIONS.get(c, c) for c in GRID_COLUMNS)


# The modules behind commands a window does not run to show its first grid (decisions, stacks, exports,
# drafts, keeper links, imported marks, settings, folders) are imported by the first call that needs
# them, so opening the catalog loads only what the grid's queries use.
def _module(name: str):
    return importlib.import_module(f"fluxcull.catalog.{name}")


class Catalog:
    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Catalog":
        return cls(connect(path))

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for headless modules not yet on this API (never for the GUI)."""
        return self._conn

    def close(self) -> None:
        self._conn.close()

    # -- photos ---------------------------------------------------------------------------------
    def photo_ids(self, query: _q.PhotoQuery, limit: int | None = None) -> list[int]:
        """The ordered ids a query shows, stacks collapsed where it asks (the first `limit` of them
        where given)."""
        return _stack_queries.photo_ids(self._conn, query, limit)

    def count_photos(self, query: _q.PhotoQuery) -> int:
        """How many rows `photo_ids` gives (a collapsed stack counts once)."""
        return _stack_queries.count_visible(self._conn, query)

    def grid_records(self, ids: list[int]) -> dict[int, GridRecord]:
        """The painted columns of these photos (one SELECT: pass at most a page of ids)."""
        if not ids:
            return {}
        rows = self._conn.execute(_GRID_SELECT % ",".join("?" * len(ids)), ids)
        return {r[0]: dict(zip(GRID_COLUMNS, r)) for r in rows}  # type: ignore[misc]

    def photos(self, ids: list[int]) -> dict[int, PhotoRecord]:
        """Full records by id (photos not in the catalog are left out)."""
        return _q.photos_by_ids(self._conn, list(ids))  # type: ignore[return-value]

    def photo(self, photo_id: int) -> PhotoRecord | None:
        return self.photos([photo_id]).get(photo_id)

    def ids_by_paths(self, paths: Iterable[str]) -> list[int]:
        """The ids of the photos at these exact paths, in the paths' order (unknown paths left out)."""
        out = []
        for p in paths:
            row = self._conn.execute("SELECT id FROM photos WHERE path = ?", (str(p),)).fetchone()
            if row is not None:
                out.append(int(row[0]))
        return out

    def has_photos(self) -> bool:
        return self._conn.execute("SELECT 1 FROM photos LIMIT 1").fetchone() is not None

    def decision_counts(self, query: _q.PhotoQuery) -> DecisionCounts:
        """Decisions of the photos a query selects, how many of them are scored, and how many are
        keepers (kept or confirmed)."""
        where, params = query.where(self._conn)
        counts: DecisionCounts = {"keep": 0, "reject": 0, "none": 0, "scored": 0, "keepers": 0}
        sql = (f"SELECT decision, COUNT(*), COUNT(keeper_score), COALESCE(SUM{kept_or_confirmed_sql()}, 0)"
               f" FROM photos{where} GROUP BY decision")
        for d, n, scored, keepers in self._conn.execute(sql, params):
            counts[d] = n  # type: ignore[literal-required]
            counts["scored"] += scored
            counts["keepers"] += keepers
        return counts

    def problems(self, role: str | None = None, limit: int | None = None) -> list[ProblemRecord]:
        """Files that failed to ingest (status 'error'), with their reasons, newest first."""
        return _q.problem_files(self._conn, role, limit)  # type: ignore[return-value]

    def problem_count(self, role: str | None = None) -> int:
        """How many files failed to ingest (of `role`)."""
        return _q.problem_count(self._conn, role)

    def confirmed_keeper_ids(self) -> set[int]:
        return confirmed_keeper_ids(self._conn)

    def is_confirmed_keeper(self, photo_id: int) -> bool:
        """Whether the photo is the original of an accepted keeper link (linked from the archive)."""
        return self._conn.execute("SELECT 1 FROM keeper_links WHERE original_id = ? AND needs_review = 0 LIMIT 1",
                                  (int(photo_id),)).fetchone() is not None

    def known_files_under(self, folder: str | os.PathLike) -> dict[str, tuple[int, int]]:
        """Photos whose path lies under `folder`, as path -> (size, mtime_ns)."""
        prefix = str(folder)
        rows = self._conn.execute(
            "SELECT path, size, mtime_ns FROM photos WHERE path >= ? AND path < ?",
            (prefix + os.sep, prefix + chr(ord(os.sep) + 1)),
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    # -- stacks (bursts: fluxcull.catalog.stacks_store) ---------------------------------------------------
    def stack_members(self, stack_ids: Iterable[int]) -> dict[int, list[GridRecord]]:
        """Stack id -> its frames (the grid's records), best first (the top frame a collapsed stack shows
        comes first)."""
        order = _module('stacks_store').member_ids(self._conn, stack_ids)
        recs = self.grid_records([pid for _, pid in order])
        out: dict[int, list[GridRecord]] = {}
        for sid, pid in order:
            if pid in recs:
                out.setdefault(sid, []).append(recs[pid])
        return out

    def stack_of(self, photo_ids: Iterable[int]) -> dict[int, int | None]:
        """Photo id -> its stack id (None: not stacked yet)."""
        return _module('stacks_store').stack_of(self._conn, photo_ids)

    def stacks(self, session_id: int | None = None) -> list[dict]:
        """Every stack of two or more frames (of one session), with its frames and best frame."""
        return _module('stacks_store').listing(self._conn, session_id)

    # -- sessions and sources ------------------------------------------------------------------------
    def session(self, session_id: int) -> SessionRecord | None:
        row = self._conn.execute("SELECT * FROM sessions WHERE id = ?", (int(session_id),)).fetchone()
        return dict(row) if row is not None else None  # type: ignore[return-value]

    def sessions(self, role: str | None = None) -> list[SessionRecord]:
        return _q.list_sessions(self._conn, role)  # type: ignore[return-value]

    def source_list(self) -> SourceList:
        """Per role (photos, kept or confirmed) over ok photos, and every session."""
        counts = {r[0]: (r[1], r[2] or 0) for r in self._conn.execute(
            f"SELECT role, COUNT(*), SUM{kept_or_confirmed_sql()} FROM photos WHERE status = 'ok' AND {_q.UNITS_SQL}"
            " GROUP BY role")}
        return {"counts": counts, "sessions": self.sessions(), "saved_filters": self.saved_filters()}

    # -- finding photos: saved filters, the cameras and lenses seen ------------------------------------
    def saved_filters(self) -> list[dict]:
        """Every saved filter ({name, expression, created_at, updated_at}), by name."""
        return _saved.list_filters(self._conn)

    def saved_filter(self, name: str) -> dict:
        """One saved filter by name (any letter case); NotFound naming the others."""
        return _saved.get_filter(self._conn, name)

    def save_filter(self, name: str, expression: str) -> dict:
        """Store or replace a saved filter (the expression checked: InvalidValue naming the bad token)."""
        return _saved.save_filter(self._conn, name, expression)

    def delete_filter(self, name: str) -> dict:
        return _saved.delete_filter(self._conn, name)

    def cameras(self) -> list[tuple[str, str]]:
        """(make, model) of every camera seen, for the filter bar's suggestions."""
        return _saved.cameras(self._conn)

    def lenses(self) -> list[str]:
        return _saved.lenses(self._conn)

    # -- decisions ----------------------------------------------------------------------------------
    def decide(self, photo_ids: Iterable[int], kind: str, source: str) -> list[int]:
        """Keep / reject / clear photos; returns the ids whose decision changed."""
        return _module('decisions').decide(self._conn, photo_ids, kind, source)

    def undo(self, count: int, source: str, *, sources: Iterable[str] | None = None) -> list[Undone]:
        """Undo up to `count` of the latest decisions or choices (of `sources`), newest first."""
        out: list[Undone] = []
        srcs = list(sources) if sources is not None else None
        for _ in range(max(1, int(count))):
            r = _module('decisions').undo_last(self._conn, source, sources=srcs)
            if r is None:
                break
            out.append(r)  # type: ignore[arg-type]
        return out

    def decisions_made_by(self, source: str) -> int:
        """How many decision-log events came from `source` (e.g. 'demo', 'gui')."""
        return int(self._conn.execute("SELECT COUNT(*) FROM decision_events WHERE source = ?", (source,)).fetchone()[0])

    def prefer(self, winner: int, loser: int, source: str) -> int:
        return _module('decisions').prefer(self._conn, winner, loser, source)

    def choose(self, winner: int, loser: int, source: str, verdict=None) -> dict:
        """A side-by-side choice, and with `verdict` the keep / reject it makes, undone as one
        (fluxcull.catalog.decisions.choose)."""
        return _module('decisions').choose(self._conn, winner, loser, source, verdict)

    def rate(self, photo_ids: Iterable[int], stars: int, source: str) -> dict:
        """Give photos 0-5 stars, logged and undoable (fluxcull.catalog.ratings.set_marks)."""
        return _ratings.set_marks(self._conn, photo_ids, "rate", stars, source)

    def label(self, photo_ids: Iterable[int], color: str | None, source: str) -> dict:
        """Give photos a colour label (None: remove it), logged and undoable."""
        return _ratings.set_marks(self._conn, photo_ids, "label", color, source)

    def decide_batch(self, items: Iterable[tuple[int, str, str | None]], source: str) -> int | None:
        """Decide photos as one step that one undo takes back: (photo id, kind, detail) each; the batch id."""
        return _module('decisions').decide_batch(self._conn, items, source)

    # -- imported marks (read from XMP at ingest) -----------------------------------------------------
    def imported_marks(self, ids: Iterable[int]) -> dict[int, dict]:
        """photo id -> its imported marks (rating, pick, label, color_label, pick_label, keywords, source)."""
        return _module('marks').effective(self._conn, ids)

    def marked_photos(self) -> list[dict]:
        """Every ok photo with imported marks: the marks, photo_id, path and current decision."""
        return _module('marks').marked_photos(self._conn)

    def live_decisions(self) -> dict[int, dict]:
        """photo id -> {kind, source, event_id, batch} of its latest keep / reject / clear not undone."""
        return _module('marks').live_decisions(self._conn)

    # -- exports ------------------------------------------------------------------------------------
    def export_records(self, query: _q.PhotoQuery, decisions: tuple[str, ...] | None = None,
                       min_score: float | None = None, marked: bool = False) -> list[dict]:
        """The photos an export carries out, by id (fluxcull.catalog.export_reads.export_rows; `marked`:
        also those with stars or a colour label)."""
        return _module('export_reads').export_rows(self._conn, query, decisions, min_score, marked)

    def photo_roots(self) -> dict[str, str]:
        """Per role, the deepest folder holding all its photos (role -> folder)."""
        return _module('export_reads').role_roots(self._conn)

    def has_photos_under(self, folder: str | os.PathLike) -> bool:
        """Whether a catalogued photo lies in `folder` or below it."""
        return _module('export_reads').has_photos_under(self._conn, os.fspath(folder))

    # -- keeper review ------------------------------------------------------------------------------
    def review_queue(self) -> list[dict]:
        return _module('keeper_links').review_queue(self._conn)

    def link(self, keeper_id: int, original_id: int, source: str) -> dict:
        return _module('keeper_links').link(self._conn, keeper_id, original_id, source=source)

    def unlink(self, keeper_id: int, source: str) -> dict:
        return _module('keeper_links').unlink(self._conn, keeper_id, source=source)

    # -- issue drafts (fluxcull.catalog.drafts: only a proposed draft changes; each change is in its history) --
    def drafts(self) -> list[dict]:
        """Every draft, newest first: id, status, size, params, created_at, approved_at."""
        return _module('drafts').list_drafts(self._conn)

    def draft(self, draft_id: int) -> dict | None:
        """One draft with its items in order (photo_id, score, path, thumb_key, capture_time, ...)."""
        return _module('drafts').draft(self._conn, draft_id)

    def rename_motif(self, motif_id: int, name: str | None) -> bool:
        """Name a stored motif (None or blank clears the name); False when there is no such motif."""
        return _motifs.rename(self._conn, motif_id, (name or "").strip() or None)

    def draft_history(self, draft_id: int) -> list[dict]:
        return _module('drafts').history(self._conn, draft_id)

    def set_draft_order(self, draft_id: int, photo_ids: list[int], kind: str = "reordered", **detail) -> bool:
        """Reorder a proposed draft ('reordered' by hand, 'sequenced' a suggestion applied)."""
        return _module('drafts').set_order(self._conn, draft_id, photo_ids, kind=kind, **detail)

    def remove_from_draft(self, draft_id: int, photo_id: int) -> list[int]:
        return _module('drafts').remove_photo(self._conn, draft_id, photo_id)

    def swap_in_draft(self, draft_id: int, photo_id: int, by: int, score: float | None) -> list[int]:
        return _module('drafts').swap_photo(self._conn, draft_id, photo_id, by, score)

    def approve_draft(self, draft_id: int) -> bool:
        return _module('drafts').approve(self._conn, draft_id)

    def reopen_draft(self, draft_id: int) -> bool:
        return _module('drafts').reopen(self._conn, draft_id)

    # -- settings -------------------------------------------------------------------------------------
    def setting(self, key: str) -> Any:
        """A declared setting's typed value (fluxcull.catalog.settings)."""
        return _module('settings').get(self._conn, key)

    def set_setting(self, key: str, value: Any) -> None:
        _module('settings').put(self._conn, key, value)

    def folders(self) -> dict[str, str]:
        """The library's ORIGINALS, KEEPERS and INBOX folders by role ('' where not set)."""
        return {role: self.setting(key) or "" for role, key in _module('settings').FOLDER_ROLES.items()}

    def detach_outside(self, role: str, old_folder: str) -> int:
        """The folder of `role` changed from `old_folder`: its photos under none of the library's
        folders now are no longer shown (status 'missing', the reason said; fluxcull.catalog.folders)."""
        now = self.folders()
        reason = f"{_module('folders').OUTSIDE_REASON}: the {role} folder is now {now.get(role) or '(none)'}"
        return _module('folders').detach_outside(self._conn, role, old_folder, now.values(), reason)

    def inbox_folder(self) -> Path | None:
        folder = self.setting("inbox_dir")
        return Path(folder) if folder else None
