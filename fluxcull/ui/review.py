"""Keeper review: links matching was not sure of, and keepers with no original, each beside its
candidates; accept a link, or say the keeper has no original. Decisions go through the catalog's
link / unlink (fluxcull.catalog.keeper_links: logged, never overridden by later automatic runs)."""

from __future__ import annotations

import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QSplitter, QVBoxLayout, QWidget)

from fluxcull.ui.images import ImageLoader, ImagePane
from fluxcull.ui.loupe import taken_text


def _name(path: str | None) -> str:
    return (path or "").rsplit("/", 1)[-1]


def candidate_options(entry: dict) -> list[dict]:
    """The originals to offer for a queue entry: the proposed one first, then the candidates."""
    out, seen = [], set()
    prop = entry.get("proposed")
    if prop and prop.get("original_id") is not None:
        out.append({**prop, "label": "proposed"})
        seen.add(prop["original_id"])
    for c in entry.get("candidates") or []:
        if c.get("original_id") is not None and c["original_id"] not in seen:
            out.append({**c, "label": "candidate"})
            seen.add(c["original_id"])
    return out


_ORIGINAL_ID = re.compile(r"\b(original|bytes at|file name at) (\d+)\b")


def named_reason(text: str, catalog) -> str:
    """A matching reason with the originals it names by id ("original 8 is almost as similar")
    named by file instead."""
    ids = {int(m.group(2)) for m in _ORIGINAL_ID.finditer(text or "")}
    if not ids:
        return text or ""
    recs = catalog.photos(sorted(ids))
    return _ORIGINAL_ID.sub(lambda m: f"{m.group(1)} {_name(recs[int(m.group(2))]['path'])}"
                            if int(m.group(2)) in recs else m.group(0), text)


class ReviewDialog(QDialog):
    def __init__(self, catalog, loader: ImageLoader, thumb_image, parent=None):
        super().__init__(parent)
        self.catalog, self.loader, self.thumb_image = catalog, loader, thumb_image
        self.setWindowTitle("Keeper review")
        self.resize(1300, 760)
        self.queue = catalog.review_queue()
        self.decided: list[tuple[int, str, int | None]] = []

        self.list = QListWidget()
        for entry in self.queue:
            tag = "a match to confirm" if entry["status"] == "review" else "no original found"
            item = QListWidgetItem(f"{_name(entry['keeper'])}   · {tag}")
            item.setToolTip(named_reason(entry.get("reason"), catalog))
            self.list.addItem(item)
        self.list.currentRowChanged.connect(self._show_entry)

        self.keeper_pane, self.original_pane = ImagePane(), ImagePane()
        self.keeper_pane.view_changed.connect(lambda z, x, y: self.original_pane.set_view(z, x, y))
        self.original_pane.view_changed.connect(lambda z, x, y: self.keeper_pane.set_view(z, x, y))
        self.keeper_label, self.original_label = QLabel(), QLabel()
        for lab in (self.keeper_label, self.original_label):
            lab.setObjectName("panelTitle")
            lab.setWordWrap(True)
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.candidates = QComboBox()
        self.candidates.currentIndexChanged.connect(self._show_candidate)
        self.accept_button = QPushButton("Link to this original  (Enter)")
        self.none_button = QPushButton("No original  (Del)")
        self.skip_button = QPushButton("Skip  (S)")
        self.accept_button.clicked.connect(self.accept_link)
        self.none_button.clicked.connect(self.no_original)
        self.skip_button.clicked.connect(lambda: self._next())
        for key, fn in (("Return", self.accept_link), ("Enter", self.accept_link), ("Delete", self.no_original),
                        ("S", self._next)):
            QShortcut(QKeySequence(key), self, activated=fn)

        panes = QHBoxLayout()
        for label, pane in ((self.keeper_label, self.keeper_pane), (self.original_label, self.original_pane)):
            col = QVBoxLayout()
            col.addWidget(label)
            col.addWidget(pane, 1)
            panes.addLayout(col, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Original:"))
        buttons.addWidget(self.candidates, 1)
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.none_button)
        buttons.addWidget(self.skip_button)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addLayout(panes, 1)
        rl.addWidget(self.reason)
        rl.addLayout(buttons)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(right)
        split.setSizes([300, 1000])
        lay = QVBoxLayout(self)
        self.header = QLabel()
        lay.addWidget(self.header)
        lay.addWidget(split, 1)
        loader.loaded.connect(self._on_loaded)
        self._records: dict[int, dict] = {}
        self._update_header()
        if self.queue:
            self.list.setCurrentRow(0)
        else:
            self.keeper_pane.set_image(None, message="Nothing to review: every keeper is linked or decided.")

    def _update_header(self) -> None:
        left = sum(1 for i in range(self.list.count()) if not self.list.item(i).data(Qt.UserRole))
        self.header.setText(f"{left} of {len(self.queue)} keeper{'s' * (len(self.queue) != 1)} "
                            f"need{'s' * (left == 1)} a decision")

    def current_entry(self) -> dict | None:
        row = self.list.currentRow()
        return self.queue[row] if 0 <= row < len(self.queue) else None

    def _show_entry(self, row: int) -> None:
        entry = self.current_entry()
        if entry is None:
            return
        opts = candidate_options(entry)
        ids = [entry["keeper_id"]] + [o["original_id"] for o in opts]
        self._records.update(self.catalog.photos(ids))
        self.candidates.blockSignals(True)
        self.candidates.clear()
        for o in opts:
            sim = o.get("similarity")
            extra = f"similarity {sim:.3f}" if isinstance(sim, (int, float)) else (o.get("method") or "")
            self.candidates.addItem(f"{_name(o.get('original'))}  ({o['label']}; {extra})", o["original_id"])
        self.candidates.blockSignals(False)
        self.accept_button.setEnabled(bool(opts))
        krec = self._records.get(entry["keeper_id"], {})
        self.keeper_label.setText(f"KEEPER  {_name(entry['keeper'])}")
        self._set_pane(self.keeper_pane, krec)
        self.reason.setText(named_reason(entry.get("reason"), self.catalog))
        self._show_candidate()

    def _show_candidate(self, *_):
        oid = self.candidates.currentData()
        if oid is None:
            self.original_label.setText("ORIGINAL  (no candidate)")
            self.original_pane.set_image(None, message="no candidate original")
        else:
            rec = self._records.get(oid, {})
            self.original_label.setText(f"ORIGINAL  {_name(rec.get('path'))}   {taken_text(rec)}")
            self._set_pane(self.original_pane, rec)
        ids = self._entry_ids()
        wanted = [(pid, r["path"], "screen") for pid, r in self._records.items() if pid in ids and r.get("path")]
        self.loader.request(wanted)

    def _entry_ids(self) -> set:
        e = self.current_entry()
        return {e["keeper_id"], self.candidates.currentData()} if e else set()

    def _set_pane(self, pane: ImagePane, rec: dict) -> None:
        if not rec:
            pane.set_image(None, message="missing")
            return
        img = self.loader.best(rec["id"])
        pane.set_image(img if img is not None else self.thumb_image(rec), QSize(rec.get("width") or 0, rec.get("height") or 0),
                       message="decoding…")

    def _on_loaded(self, photo_id: int, level: str) -> None:
        e = self.current_entry()
        if e is None:
            return
        if photo_id == e["keeper_id"]:
            self._set_pane(self.keeper_pane, self._records.get(photo_id, {}))
        elif photo_id == self.candidates.currentData():
            self._set_pane(self.original_pane, self._records.get(photo_id, {}))

    def accept_link(self) -> None:
        e, oid = self.current_entry(), self.candidates.currentData()
        if e is None or oid is None:
            return
        self.catalog.link(e["keeper_id"], oid, source="gui")
        self._mark("linked", oid)

    def no_original(self) -> None:
        e = self.current_entry()
        if e is None:
            return
        self.catalog.unlink(e["keeper_id"], source="gui")
        self._mark("no original", None)

    def _mark(self, what: str, oid) -> None:
        row = self.list.currentRow()
        e = self.queue[row]
        self.decided.append((e["keeper_id"], what, oid))
        item = self.list.item(row)
        item.setData(Qt.UserRole, what)
        item.setText(f"{_name(e['keeper'])}   ✔ {what}")
        self._update_header()
        self._next()

    def _next(self) -> None:
        n = self.list.count()
        row = self.list.currentRow()
        for step in range(1, n + 1):
            r = (row + step) % n
            if not self.list.item(r).data(Qt.UserRole):
                self.list.setCurrentRow(r)
                return
