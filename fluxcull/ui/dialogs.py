"""Small dialogs: the key map, a model's evaluation against the previous one, any report."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QPlainTextEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from fluxcull.ui import keymap


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists of metrics as 'a.b' -> scalar."""
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, (list, tuple)) and obj and all(isinstance(x, dict) for x in obj):
        for i, row in enumerate(obj):
            keys = [k for k in ("split", "method") if k in row] or [k for k in ("metric", "name", "model") if k in row][:1]
            name = "/".join(str(row[k]) for k in keys) or str(i)
            rest = {k: v for k, v in row.items() if k not in keys}
            if set(rest) == {"value"}:
                rest = rest["value"]
            out.update(flatten(rest, f"{prefix}.{name}" if prefix else str(name)))
    else:
        out[prefix or "value"] = obj
    return out


def metric_rows(new: Any, previous: Any) -> list[tuple[str, Any, Any]]:
    """(metric, previous value, new value) for the union of both, new's order first."""
    n, p = flatten(new or {}), flatten(previous or {})
    keys = list(n) + [k for k in p if k not in n]
    return [(k, p.get(k), n.get(k)) for k in keys]


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


class KeymapDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(640, 620)
        rows = keymap.rows()
        table = QTableWidget(len(rows), 3)
        table.setHorizontalHeaderLabels(["", "Keys", "Action"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.setSelectionMode(QTableWidget.NoSelection)
        for i, (section, keys, text) in enumerate(rows):
            sec = QTableWidgetItem(section if i == 0 or rows[i - 1][0] != section else "")
            sec.setForeground(QColor("#8b9099"))
            table.setItem(i, 0, sec)
            k = QTableWidgetItem(keys)
            k.setForeground(QColor("#4d9de0"))
            table.setItem(i, 1, k)
            table.setItem(i, 2, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        lay = QVBoxLayout(self)
        lay.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.table = table


class MetricsDialog(QDialog):
    """The new model's evaluation beside the previous model's."""

    def __init__(self, title: str, new: Any, previous: Any, note: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(620, 520)
        rows = metric_rows(new, previous)
        table = QTableWidget(len(rows), 4)
        table.setHorizontalHeaderLabels(["Metric", "Previous model", "New model", "Change"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        for i, (k, old, cur) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(k))
            for j, v in ((1, old), (2, cur)):
                item = QTableWidgetItem(_fmt(v))
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                table.setItem(i, j, item)
            change = ""
            if isinstance(old, (int, float)) and isinstance(cur, (int, float)) and not isinstance(cur, bool):
                change = f"{cur - old:+.4f}"
            item = QTableWidgetItem(change)
            item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            table.setItem(i, 3, item)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        lay = QVBoxLayout(self)
        if note:
            label = QLabel(note)
            label.setWordWrap(True)
            lay.addWidget(label)
        lay.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.table = table
        self.rows = rows


class ReportDialog(QDialog):
    """Any JSON-able report, readable."""

    def __init__(self, title: str, report: Any, parent=None, summary: list[str] | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(640, 560)
        text = QPlainTextEdit()
        text.setReadOnly(True)
        text.setPlainText(json.dumps(report, indent=2, default=str, ensure_ascii=False))
        lay = QVBoxLayout(self)
        if summary:
            label = QLabel("\n".join(summary))
            label.setWordWrap(True)
            lay.addWidget(label)
            self.summary = label
            # the words first; the raw report only on request
            details = QPushButton("Details")
            details.setCheckable(True)
            details.toggled.connect(text.setVisible)
            text.setVisible(False)
            lay.addWidget(details, 0, Qt.AlignLeft)
        lay.addWidget(text, 100)
        lay.addStretch(1)  # with the details hidden, the words stay at the top
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
