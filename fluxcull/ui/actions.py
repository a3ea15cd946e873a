"""Menus and shortcuts built from the action declarations of fluxcull.ui.keymap."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from fluxcull.ui.keymap import ACTIONS, MENUS


def build_actions(win) -> dict[str, QAction]:
    """One QAction per declaration, in its menu of `win`'s menu bar, bound window-wide."""
    menus = {name: win.menuBar().addMenu(name) for name in MENUS}
    submenus: dict[tuple[str, str], object] = {}
    out: dict[str, QAction] = {}
    for a in ACTIONS:
        menu = menus[a.menu]
        if a.submenu:  # a separator above an action opening a submenu goes above the submenu
            if (a.menu, a.submenu) not in submenus:
                if a.separator:
                    menu.addSeparator()
                submenus[(a.menu, a.submenu)] = menu.addMenu(a.submenu)
            menu = submenus[(a.menu, a.submenu)]
        elif a.separator:
            menu.addSeparator()
        act = QAction(a.text, win)
        if a.standard:
            act.setShortcut(QKeySequence(getattr(QKeySequence.StandardKey, a.standard)))
        else:
            act.setShortcuts([QKeySequence(k) for k in a.keys])
        act.setShortcutContext(Qt.WindowShortcut)
        act.setToolTip(a.help)
        if a.checkable:
            act.setCheckable(True)
            act.setChecked(a.checked)
            act.toggled.connect(lambda on, run=a.run: run(win, on))
        else:
            act.triggered.connect(lambda *_, run=a.run: run(win))
        menu.addAction(act)
        win.addAction(act)
        out[a.id] = act
    return out
