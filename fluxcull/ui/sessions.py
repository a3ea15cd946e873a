"""The source list beside the grid: the whole corpus, the inbox, the roles, the saved filters
(fluxcull.catalog.saved_filters; a right click deletes one), and every session with its date, place,
photo count and keeper density.

Column widths are worked out once per reload from a handful of representative rows: Qt's
ResizeToContents mode would measure a thousand rows of every column again at each relayout (about
30 ms with 4,000 sessions, paid by whatever the user does next, such as the first jump in the grid)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QMenu, QStyleOptionViewItem, QTreeWidget,
                               QTreeWidgetItem)

from fluxcull.catalog.queries import place_label
from fluxcull.catalog.records import SourceList

SourceRole = Qt.UserRole + 1
ROLE_TITLES = {"originals": "Originals", "keepers": "Keeper archive", "inbox": "Inbox"}
_RIGHT = Qt.AlignRight | Qt.AlignVCenter  # made once: thousands of rows are added per reload


def saved_source(f: dict) -> dict:
    """The source of a saved filter ({name, expression}): the whole library through its expression."""
    return {"label": f"Saved filter: {f['name']}", "role": None, "session_id": None, "saved": f["name"],
            "where": f["expression"]}


def session_label(s: dict) -> str:
    """'2024-05-03  14:10' from the session's ISO start time."""
    start = str(s.get("start_at") or "")
    return f"{start[:10]}  {start[11:16]}" if len(start) >= 16 else start


class SessionPanel(QTreeWidget):
    """Emits `source_chosen(dict)` with {label, role, session_id}."""

    source_chosen = Signal(dict)
    handed_over = Signal()  # a click or Enter chose a source: the view beside takes the keyboard
    delete_saved = Signal(str)  # the name of a saved filter to delete (its context menu)

    def __init__(self, catalog=None, parent=None):
        super().__init__(parent)
        self.catalog = catalog  # fluxcull.catalog.Catalog (None: only reload(data) is used)
        self.setColumnCount(4)
        self.setHeaderLabels(["Source", "Place", "Photos", "Keepers"])
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setIndentation(12)
        h = self.header()
        h.setStretchLastSection(False)
        h.setSectionResizeMode(QHeaderView.Interactive)  # sized by _fit_columns, the user may widen them
        h.setSectionResizeMode(1, QHeaderView.Stretch)
        self.itemSelectionChanged.connect(self._on_selection)
        self.itemClicked.connect(lambda *_: self.handed_over.emit())
        self._items: dict[tuple, QTreeWidgetItem] = {}
        self._suppress = False
        self._text_lengths = [0] * 4
        self._saved: list[tuple[str, str]] = []  # the saved filters shown (name, expression)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    @staticmethod
    def fetch(catalog) -> SourceList:
        """Everything the panel shows, read on any thread: counts per role and the sessions."""
        return catalog.source_list()

    def reload(self, data: SourceList | None = None) -> None:
        """Show `data` (from fetch) or re-read it here, keeping the chosen source selected."""
        if data is None:
            data = self.fetch(self.catalog)
        if self._update_in_place(data):  # same sources, new counts (after decisions): no rebuild
            return
        chosen = self.current_source()
        self._suppress = True
        self.setUpdatesEnabled(False)
        self.clear()
        self._items.clear()
        counts = data["counts"]
        total = sum(c[0] for c in counts.values())
        kept = sum(c[1] for c in counts.values())
        top = self._add(None, {"label": "All photos", "role": None, "session_id": None}, total, kept)
        for role in ("inbox", "originals", "keepers"):
            n, k = counts.get(role, (0, 0))
            self._add(None, {"label": ROLE_TITLES[role], "role": role, "session_id": None}, n, k)
        widest = list(self._items.values())  # rows whose texts decide the column widths
        self._saved = [(f["name"], f["expression"]) for f in data.get("saved_filters", [])]
        if self._saved:
            header = QTreeWidgetItem([f"Saved filters ({len(self._saved)})"])
            header.setFlags(Qt.ItemIsEnabled)
            header.setForeground(0, QBrush(QColor("#8b9099")))
            self.addTopLevelItem(header)
            header.setFirstColumnSpanned(True)
            for f in data.get("saved_filters", []):
                item = QTreeWidgetItem([f["name"], f["expression"], "", ""])
                item.setData(0, SourceRole, saved_source(f))
                item.setToolTip(0, f"Saved filter: {f['expression']}")
                item.setToolTip(1, f["expression"])
                header.addChild(item)
                self._items[self._key(saved_source(f))] = item
                widest.append(item)
            header.setExpanded(True)
        by_role: dict[str, list[dict]] = {}
        for s in data["sessions"]:
            by_role.setdefault(s["role"], []).append(s)
        for role in ("inbox", "originals", "keepers"):
            group = by_role.get(role)
            if not group:
                continue
            header = QTreeWidgetItem([f"{ROLE_TITLES[role]} sessions ({len(group)})"])
            header.setFlags(Qt.ItemIsEnabled)
            header.setForeground(0, QBrush(QColor("#8b9099")))
            self.addTopLevelItem(header)
            header.setFirstColumnSpanned(True)
            longest, lengths = [None] * 4, [-1] * 4
            for s in reversed(group):  # newest first
                label = session_label(s)
                src = {"label": f"{ROLE_TITLES[role]} {label}", "role": role, "session_id": s["id"]}
                place = place_label(s)
                item = self._add(header, src, s["photo_count"], s["keepers"], place, s.get("keeper_density"), label)
                item.setToolTip(0, f"{s.get('start_at')} – {s.get('end_at')}")
                item.setToolTip(1, place)
                for col, n in enumerate(self._text_lengths):
                    if n > lengths[col]:
                        longest[col], lengths[col] = item, n
            widest += [longest[col] for col in (0, 2, 3) if longest[col] is not None]
            header.setExpanded(role != "keepers")
        self._fit_columns(widest)
        key = self._key(chosen) if chosen else self._key(top.data(0, SourceRole))
        self.setCurrentItem(self._items.get(key, top))
        self.setUpdatesEnabled(True)
        self._suppress = False

    def _fit_columns(self, items: list[QTreeWidgetItem]) -> None:
        """Size the Source, Photos and Keepers columns to the widest of `items` (the source rows and
        each group's longest texts; digits have one width in UI fonts, so the longest is the widest)."""
        h = self.header()
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        delegate = self.itemDelegate()
        for col in (0, 2, 3):
            width = h.sectionSizeFromContents(col).width()
            for item in items:
                hint = delegate.sizeHint(option, self.indexFromItem(item, col)).width()
                if col == 0:  # the tree's indentation and branch, as QTreeView adds them
                    depth = 1 if self.rootIsDecorated() else 0
                    parent = item.parent()
                    while parent is not None:
                        depth, parent = depth + 1, parent.parent()
                    hint += depth * self.indentation()
                width = max(width, hint)
            h.resizeSection(col, width)

    def _update_in_place(self, data: SourceList) -> bool:
        """Set the counts of the rows shown when `data` holds exactly the sources shown (a decision
        changed counts, not sessions); False when the list must be built again. Rebuilding 4,000
        session rows held the event loop for ~150 ms after every burst of keys."""
        if [(f["name"], f["expression"]) for f in data.get("saved_filters", [])] != self._saved:
            return False
        counts = data["counts"]
        want = {(None, None), *((r, None) for r in ("inbox", "originals", "keepers"))}
        want |= {("saved", name) for name, _ in self._saved}
        want |= {(s["role"], s["id"]) for s in data["sessions"]}
        if want != set(self._items):
            return False
        self._set_counts(self._items[(None, None)], sum(c[0] for c in counts.values()),
                         sum(c[1] for c in counts.values()))
        for role in ("inbox", "originals", "keepers"):
            self._set_counts(self._items[(role, None)], *counts.get(role, (0, 0)))
        for s in data["sessions"]:
            self._set_counts(self._items[(s["role"], s["id"])], s["photo_count"], s["keepers"], s.get("keeper_density"))
        return True

    def _set_counts(self, item: QTreeWidgetItem, count: int, keepers: int, density: float | None = None) -> None:
        tip = f"{keepers} kept or confirmed of {count}"
        if item.toolTip(3) == tip:  # unchanged (every change sets a new tooltip): touch nothing
            return
        if density is None:
            density = (keepers / count) if count else 0.0
        item.setText(2, f"{count:,}")
        item.setText(3, f"{density * 100:.0f}%" if count else "")
        item.setToolTip(3, tip)
        item.setData(3, Qt.ForegroundRole, QBrush(QColor("#f2c230")) if density >= 0.1 else None)

    def _add(self, parent, src: dict, count: int, keepers: int, place: str = "", density: float | None = None,
             label: str | None = None) -> QTreeWidgetItem:
        item = QTreeWidgetItem([label or src["label"], place, "", ""])
        item.setData(0, SourceRole, src)
        item.setTextAlignment(2, _RIGHT)
        item.setTextAlignment(3, _RIGHT)
        self._set_counts(item, count, keepers, density)
        self._text_lengths = [len(item.text(col)) for col in range(4)]
        if parent is None:
            self.addTopLevelItem(item)
        else:
            parent.addChild(item)
        self._items[self._key(src)] = item
        return item

    @staticmethod
    def _key(src: dict) -> tuple:
        if src.get("saved"):
            return ("saved", src["saved"])
        return (src.get("role"), src.get("session_id"))

    def current_source(self) -> dict | None:
        item = self.currentItem()
        return item.data(0, SourceRole) if item is not None else None

    def select_source(self, role: str | None = None, session_id: int | None = None, saved: str | None = None) -> bool:
        item = self._items.get(("saved", saved) if saved else (role, session_id))
        if item is None:
            return False
        self.setCurrentItem(item)
        return True

    def _menu(self, pos) -> None:
        item = self.itemAt(pos)
        src = item.data(0, SourceRole) if item is not None else None
        if not src or not src.get("saved"):
            return
        menu = QMenu(self)
        menu.addAction(f"Delete the saved filter “{src['saved']}”", lambda: self.delete_saved.emit(src["saved"]))
        menu.popup(self.viewport().mapToGlobal(pos))

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self.handed_over.emit()
            return
        super().keyPressEvent(event)

    def _on_selection(self) -> None:
        if self._suppress:
            return
        src = self.current_source()
        if src is not None:
            self.source_chosen.emit(src)
