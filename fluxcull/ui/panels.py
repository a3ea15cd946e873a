"""The model panel (Model ▸ Model quality, and the result of every retrain) and the explanation of
one photo's score: sentences first, a small table or the nearest keepers as thumbnails, and the
numbers behind a Details toggle (never a raw report). Their content is worded by fluxcull.workflows
(model_quality, explanation_view); these widgets only lay it out."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

THUMB = 128


def _words(text: str, *, bold: bool = False, size: int | None = None) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    if bold or size:
        f = label.font()
        f.setBold(bold)
        if size:
            f.setPointSizeF(f.pointSizeF() * size / 100)
        label.setFont(f)
    return label


class _Panel(QDialog):
    """Words at the top, then the panel's body, then Details (hidden) and Close."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.lay = QVBoxLayout(self)
        self.details_text = QPlainTextEdit()
        self.details_text.setReadOnly(True)
        self.details_text.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.details_text.setLineWrapMode(QPlainTextEdit.WidgetWidth)  # sentences wrap; the panel fits the tables
        self.details_text.setVisible(False)
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._toggle_details)

    def details_width(self) -> int:
        """The width the Details text needs to show its widest table row whole (sentences wrap)."""
        fm = self.details_text.fontMetrics()
        rows = [line for line in self.details_text.toPlainText().splitlines() if "  " in line.strip()]
        return max((fm.horizontalAdvance(line) for line in rows), default=0) + 60

    def _toggle_details(self, on: bool) -> None:
        self.details_text.setVisible(on)
        if on:  # room for the numbers (every column of the tables, within the screen); the words keep their width
            screen = self.screen().availableGeometry().width() if self.screen() is not None else 1900
            width = min(max(self.width(), 940, self.details_width()), screen - 40)
            self.resize(width, max(self.height(), 760))

    def finish(self, details: str) -> None:
        self.details_text.setPlainText(details)
        self.lay.addWidget(self.details_button, 0, Qt.AlignLeft)
        self.lay.addWidget(self.details_text, 100)
        self.lay.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        self.lay.addWidget(buttons)

    def visible_texts(self) -> list[str]:
        """Every text a person can read in the panel, the details included (for tests and checks)."""
        out = [self.windowTitle()]
        for w in self.findChildren(QLabel):
            out.append(w.text())
        for w in self.findChildren(QPushButton) + self.findChildren(QToolButton):
            out += [w.text(), w.toolTip()]
        for t in self.findChildren(QTableWidget):
            out += [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
            out += [t.item(r, c).text() for r in range(t.rowCount()) for c in range(t.columnCount()) if t.item(r, c)]
        out.append(self.details_text.toPlainText())
        return out


class ModelPanel(_Panel):
    """What the keeper model is worth: sentences, the methods side by side, the numbers in Details."""

    def __init__(self, content: dict, title: str = "Model quality", parent=None):
        super().__init__(title, parent)
        self.resize(880, 480)
        self.content = content
        self.summary = _words("\n\n".join(content["sentences"]), size=110)
        self.lay.addWidget(self.summary)
        self.lay.addSpacing(8)
        self.lay.addWidget(_words(content["tested_on"]))
        rows = content["rows"]
        table = QTableWidget(len(rows), len(content["columns"]))
        table.setHorizontalHeaderLabels(content["columns"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.setSelectionMode(QTableWidget.NoSelection)
        table.setFocusPolicy(Qt.NoFocus)
        for i, row in enumerate(rows):
            for j, text in enumerate(row["cells"]):
                item = QTableWidgetItem(("★ " if row["active"] and j == 0 else "") + text)
                if j:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if row["active"]:
                    f = QFont(item.font())
                    f.setBold(True)
                    item.setFont(f)
                    item.setForeground(QColor("#f2c230"))
                elif row["baseline"]:
                    item.setForeground(QColor("#8b9099"))
                table.setItem(i, j, item)
        h = table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.Stretch)
        for j in range(1, len(content["columns"])):
            h.setSectionResizeMode(j, QHeaderView.ResizeToContents)
        table.resizeRowsToContents()
        table.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        table.setFixedHeight(h.sizeHint().height() + table.verticalHeader().length() + 2 * table.frameWidth() + 2)
        self.table = table
        self.lay.addWidget(table)
        self.finish(content["details"])


class ExplainPanel(_Panel):
    """Why one photo scores as it does: the band and the rule, the reasons in words, the nearest
    keepers as thumbnails (a click goes to that photo), the numbers in Details."""

    def __init__(self, view: dict, thumbs: dict[int, object] | None = None,
                 go_to: Callable[[int], None] | None = None, parent=None):
        super().__init__(view["title"], parent)
        self.resize(720, 520)
        self.view, self.go_to = view, go_to
        self.lay.addWidget(_words(view["headline"], bold=True, size=120))
        self.lay.addWidget(_words(view["rule"]))
        if view["model_line"]:
            self.lay.addWidget(_words(view["model_line"]))
        for key, head in (("for", "For keeping it"), ("against", "Against keeping it")):
            if view[key]:
                items = "".join(f"<li>{t}</li>" for t in view[key])
                label = _words(f"<b>{head}</b><ul style='margin:2px'>{items}</ul>")
                label.setTextFormat(Qt.RichText)
                self.lay.addWidget(label)
        if view["burst"]:
            self.lay.addWidget(_words(view["burst"]))
        self.keeper_buttons: list[QToolButton] = []
        if view["nearest"]:
            self.lay.addWidget(_words("<b>It looks most like these keepers of yours</b> (click one to go to it):"))
            row = QWidget()
            rl = QHBoxLayout(row)
            rl.setContentsMargins(0, 0, 0, 0)
            for k in view["nearest"]:
                b = QToolButton()
                b.setToolButtonStyle(Qt.ToolButtonTextUnderIcon)
                b.setIconSize(QSize(THUMB, THUMB))
                image = (thumbs or {}).get(k["id"])
                if image is not None:
                    b.setIcon(QIcon(QPixmap.fromImage(image)))
                b.setText(f"{k['name']}\n{round(100 * k['similarity'])}% alike")
                b.setToolTip(f"Go to {k['name']}")
                b.clicked.connect(lambda *_, pid=k["id"]: self._go(pid))
                rl.addWidget(b)
                self.keeper_buttons.append(b)
            rl.addStretch(1)
            self.lay.addWidget(row)
        self.finish(view["details"])

    def _go(self, photo_id: int) -> None:
        if self.go_to is not None:
            self.go_to(photo_id)
        self.accept()
