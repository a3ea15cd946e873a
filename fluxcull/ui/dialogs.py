"""Small dialogs: the key map, About."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from fluxcull.ui import keymap


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


class AboutDialog(QDialog):
    """Help > About: the version, where the library and its log are."""

    def __init__(self, lib, parent=None):
        super().__init__(parent)
        import platform

        from PySide6 import __version__ as qt_version

        from fluxcull import __version__
        from fluxcull.logs import log_path

        self.setWindowTitle("About fluxcull")
        self.lines = [
            ("Version", __version__),
            ("Library", str(lib.root)),
            ("Log file", str(log_path(lib.root))),
            ("Python / Qt", f"{platform.python_version()} / PySide6 {qt_version}"),
        ]
        lay = QVBoxLayout(self)
        head = QLabel("<b>fluxcull</b> learns which photos you would keep. The model ranks; you select.")
        head.setWordWrap(True)
        lay.addWidget(head)
        form = QFormLayout()
        for key, value in self.lines:
            v = QLabel(value)
            v.setTextInteractionFlags(Qt.TextSelectableByMouse)
            form.addRow(key, v)
        lay.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
