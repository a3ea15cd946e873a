"""Small dialogs: the key map, About."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from fluxcull.ui import keymap


class KeymapDialog(QDialog):
    """Help > Keyboard shortcuts: the keys in effect (`km`, fluxcull.ui.keyfile.KeyMap: the defaults or
    the key map file's), where a person's own keys go, and what of that file was left out."""

    def __init__(self, parent=None, km=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(720, 660)
        rows = keymap.rows(km.keys if km is not None else None)
        table = QTableWidget(len(rows), 3)
        table.setHorizontalHeaderLabels(["", "Keys", "Action"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.setSelectionMode(QTableWidget.NoSelection)
        for i, (section, keys, text, action_id) in enumerate(rows):
            sec = QTableWidgetItem(section if i == 0 or rows[i - 1][0] != section else "")
            sec.setForeground(QColor("#8b9099"))
            table.setItem(i, 0, sec)
            k = QTableWidgetItem(keys)
            k.setForeground(QColor("#4d9de0"))
            table.setItem(i, 1, k)
            table.setItem(i, 2, QTableWidgetItem(text))
            if action_id:
                table.item(i, 2).setToolTip(f"Action id in keymap.toml: {action_id}")
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        lay = QVBoxLayout(self)
        lay.addWidget(table)
        self.note = QLabel(keymap_note(km))
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.table = table


def keymap_note(km) -> str:
    """Where the keys come from, in words, with every entry of the key map file that was left out."""
    if km is None or km.path is None:
        return "The default keys (no key map file: FLUXCULL_KEYMAP is empty)."
    if not km.read and not km.warnings:
        return (f"The default keys. Your own go in {km.path} ([keys], then a line such as keep = \"K\" per "
                "action; the ids are in the tooltips).")
    lines = [f"Keys from {km.path}: {len(km.changed)} action{'s' * (len(km.changed) != 1)} changed."]
    if km.warnings:
        lines.append("Left out (the default keys stay):")
        lines += [f"  • {w}" for w in km.warnings]
    return "\n".join(lines)


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
