"""The grid's list model: the ordered photo ids of a catalog query, records fetched a page at a time.

Holding only ids keeps 400,000 rows at a few MB; the columns a cell paints are read through the
catalog API (`Catalog.grid_records`, one SELECT) per page of 256 rows when the view first asks for
them, and kept in a bounded page cache.

The model derives from QStringListModel (holding one empty string per row) only so that
rowCount()/index() stay in C++: QListView's layout asks for them once per row, and 400,000 calls
into Python cost seconds. data() and flags() are Python; nothing else of the string list is used.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QStringListModel, Qt, Signal

from fluxcull.catalog import Catalog
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.catalog.records import GridRecord, placeholder
from fluxcull.catalog.scores import (CONFIRMED_STATES, STATE_LABELS, apply_decision, display_band, failure_text,
                                      keeper_state)

PAGE = 256
HEAD = 4000  # rows read at once; the rest of a large query arrives from the reader thread
MAX_PAGES = 96

IdRole = Qt.UserRole + 1
RecordRole = Qt.UserRole + 2
ScoreRole = Qt.UserRole + 3
DecisionRole = Qt.UserRole + 4
BandRole = Qt.UserRole + 5
ConfirmedRole = Qt.UserRole + 6
StateRole = Qt.UserRole + 7  # fluxcull.catalog.scores.keeper_state: confirmed, kept, rejected_keeper, failure, ...
# the roles a record change touches; naming them (never SizeHintRole) spares QListView a relayout
# of every row, which an unqualified dataChanged triggers
CHANGED_ROLES = [Qt.DisplayRole, Qt.ToolTipRole, IdRole, RecordRole, ScoreRole, DecisionRole, BandRole,
                 ConfirmedRole, StateRole]


class PhotoListModel(QStringListModel):
    loaded = Signal()  # the whole id list of the query is in

    def __init__(self, catalog: Catalog, parent=None):
        super().__init__(parent)
        self.catalog = catalog
        self._gen = 0
        self.complete = True
        self.query = PhotoQuery()
        self._ids: list[int] = []
        self._pages: OrderedDict[int, list[dict]] = OrderedDict()
        self._confirmed: set[int] = set()  # originals linked from the keeper archive

    # -- query -------------------------------------------------------------------------------
    def set_query(self, query: PhotoQuery, reader=None) -> None:
        """Show the photos of `query`. With a reader (CatalogThread), only the first HEAD ids are
        read here; the rest are appended when the reader has them (a 400,000-photo list takes a
        good part of a second), so the first screenful paints at once."""
        self._gen += 1
        gen = self._gen
        ids = self.catalog.photo_ids(query, limit=None if reader is None else HEAD + 1)
        self.complete = reader is None or len(ids) <= HEAD
        if not self.complete:  # rows stand ready (the scroll bar is right); their ids follow
            total = self.catalog.count_photos(query)
            ids = ids + [None] * max(0, total - len(ids))
        self.query = query
        self._ids = ids
        self._pages.clear()
        self._confirmed = self.catalog.confirmed_keeper_ids()
        self.setStringList([""] * len(ids))  # resets the model; rowCount() is now len(ids), in C++
        if not self.complete:
            reader.submit(lambda catalog: catalog.photo_ids(query),
                          lambda full, error: self._fill_rest(gen, full, error))

    def _fill_rest(self, gen: int, full: list[int] | None, error: str | None) -> None:
        if gen != self._gen or error or full is None:
            return
        head = next((i for i, v in enumerate(self._ids) if v is None), len(self._ids))
        self.complete = True
        if len(full) != len(self._ids) or full[:head] != self._ids[:head]:
            self._ids = full  # the catalog changed meanwhile: show the new list whole
            self._pages.clear()
            self.setStringList([""] * len(full))
        else:
            self._ids = full
            for page in [p for p in self._pages if (p + 1) * PAGE > head]:
                del self._pages[page]
            if len(full) > head:
                self.dataChanged.emit(self.index(head), self.index(len(full) - 1), CHANGED_ROLES)
        self.loaded.emit()

    def clear(self) -> None:
        self._gen += 1
        self._ids = []
        self._pages.clear()
        self.setStringList([])

    def reload(self, reader=None) -> None:
        """Re-run the query (new photos, changed order) keeping nothing cached."""
        self.set_query(self.query, reader)

    def refresh_all(self) -> None:
        """Re-read every record (scores changed) without changing the rows."""
        self._pages.clear()
        self._confirmed = self.catalog.confirmed_keeper_ids()
        if self._ids:
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1), CHANGED_ROLES)

    def refresh_rows(self, rows: list[int]) -> None:
        """Re-read the records of these rows (after a decision) in place and tell the views."""
        rows = [r for r in rows if 0 <= r < len(self._ids) and self._ids[r] is not None]
        cached = {r: self._pages[r // PAGE][r % PAGE] for r in rows if (r // PAGE) in self._pages}
        if cached:
            fresh = self._read([self._ids[r] for r in cached])
            for r, rec in cached.items():
                new = fresh.get(rec["id"])
                if new is None:
                    self._pages.pop(r // PAGE, None)
                else:
                    rec.clear()  # the same dict the page holds: updated where it lies
                    rec.update(new)
        for r in rows:
            ix = self.index(r)
            self.dataChanged.emit(ix, ix, CHANGED_ROLES)

    def set_decisions(self, rows: list[int], decision: str) -> list[str]:
        """Show a stored decision value ('keep', 'reject', 'none') and the score it imposes before it
        is committed (the writer thread commits it); return the old decisions."""
        old = []
        for r in rows:
            rec = self.record(r)
            old.append((rec or {}).get("decision") or "none")
            if rec is not None:
                apply_decision(rec, decision)
            ix = self.index(r)
            self.dataChanged.emit(ix, ix, CHANGED_ROLES)
        return old

    def mark(self, row: int, field: str):
        """The row's stars ('rating') or colour label ('color_label')."""
        rec = self.record(row)
        return (rec or {}).get(field)

    def set_marks(self, rows: list[int], field: str, value) -> None:
        """Show stars or a colour label before it is committed (the writer thread commits it)."""
        for r in rows:
            rec = self.record(r)
            if rec is not None:
                rec[field] = value
            ix = self.index(r)
            self.dataChanged.emit(ix, ix, CHANGED_ROLES)

    # -- access ------------------------------------------------------------------------------
    @property
    def ids(self) -> list[int]:
        return self._ids

    def photo_id(self, row: int) -> int | None:
        """The photo at `row` (None for a row whose id is still being read)."""
        return self._ids[row]

    def row_of(self, photo_id: int, hint: int | None = None) -> int | None:
        if hint is not None and 0 <= hint < len(self._ids) and self._ids[hint] == photo_id:
            return hint
        try:
            return self._ids.index(photo_id)
        except ValueError:
            return None

    def record(self, row: int) -> GridRecord | None:
        if not 0 <= row < len(self._ids):
            return None
        page = row // PAGE
        recs = self._pages.get(page)
        if recs is None:
            recs = self._fetch_page(page)
        else:
            self._pages.move_to_end(page)
        return recs[row - page * PAGE]

    def state(self, rec: GridRecord) -> str:
        """What the photo is (fluxcull.catalog.scores.keeper_state)."""
        return keeper_state(rec, rec["id"] in self._confirmed)

    def keeper_state(self, row: int) -> str:
        rec = self.record(row)
        return self.state(rec) if rec is not None and rec["id"] is not None else "unscored"

    def is_confirmed(self, rec: GridRecord) -> bool:
        """A confirmed keeper not rejected: linked from the keeper archive, a keeper-archive file, or
        scored 1.0 by the rules without a decision (a marked keep is 'kept', not confirmed)."""
        return self.state(rec) in CONFIRMED_STATES

    def _fetch_page(self, page: int) -> list[GridRecord]:
        ids = self._ids[page * PAGE : (page + 1) * PAGE]
        known = [i for i in ids if i is not None]
        found = self._read(known) if known else {}
        recs = [found.get(pid) or placeholder(pid) for pid in ids]
        if len(known) == len(ids):  # pages with rows still loading are read again later
            self._pages[page] = recs
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        return recs

    def _read(self, ids: list[int]) -> dict[int, GridRecord]:
        """The painted columns of these photos (at most a page: one SELECT)."""
        return self.catalog.grid_records(ids)

    # -- Qt model API (rowCount and index are QStringListModel's) --------------------------------
    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or index.column() != 0:
            return None
        rec = self.record(index.row())
        if rec is None:
            return None
        if role == Qt.DisplayRole:
            return display_name(rec)
        if role == IdRole:
            return rec["id"]
        if role == RecordRole:
            return rec
        if role == ScoreRole:
            return rec.get("keeper_score")
        if role == DecisionRole:
            return rec.get("decision")
        if role == BandRole:
            return display_band(rec.get("keeper_score"), self.is_confirmed(rec))
        if role == ConfirmedRole:
            return self.is_confirmed(rec)
        if role == StateRole:
            return self.state(rec)
        if role == Qt.ToolTipRole:
            return tooltip(rec, self.state(rec))
        return None

    def flags(self, index: QModelIndex):
        return _CELL_FLAGS if index.isValid() else Qt.NoItemFlags

    def setData(self, index: QModelIndex, value, role: int = Qt.EditRole) -> bool:
        return False  # read-only: decisions go through the catalog

    def itemData(self, index: QModelIndex) -> dict:
        return {}

    def supportedDropActions(self):
        return Qt.IgnoreAction


def tooltip(rec: dict, state: str) -> str:
    """A cell's tooltip: path, score and what the photo is, a failure's reason, time."""
    if rec.get("status") == "error":
        return "\n".join([rec.get("path") or "", f"⚠ could not be read: {rec.get('error') or 'unknown reason'}"])
    score = rec.get("keeper_score")
    what = f"⚠ {failure_text(rec)}" if state == "failure" else STATE_LABELS[state]
    parts = [rec.get("path") or "", (f"score {score:.3f}" if score is not None else "not scored") + f" — {what}"]
    if state != "failure" and failure_text(rec):
        parts.append(f"⚠ {failure_text(rec)}")
    if rec.get("paired"):
        parts.append("RAW+JPEG pair: one photo; its RAW file is decided with it")
    marks = marks_text(rec)
    if marks:
        parts.append(marks)
    if rec.get("taken_at"):
        parts.append(str(rec["taken_at"]))
    return "\n".join(parts)


def marks_text(rec: dict) -> str:
    """The photo's stars and colour label in words: '★★★ · Red label', '' for none."""
    stars, label = rec.get("rating") or 0, rec.get("color_label")
    parts = (["★" * stars] if stars else []) + ([f"{label.capitalize()} label"] if label else [])
    return " · ".join(parts)


# combined once: an enum "|" in PySide6 costs a Python call, and Qt asks for flags on every paint
_CELL_FLAGS = Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemNeverHasChildren


def display_name(rec: dict) -> str:
    """The name a cell shows (Qt.DisplayRole): the file name."""
    path = rec.get("path") or ""
    return path.rsplit("/", 1)[-1] or f"#{rec['id']}"
