"""Menus and shortcuts built from the action declarations of fluxcull.ui.keymap, with the keys in
effect: the declared defaults, or a person's own from the key map file (fluxcull.ui.keyfile)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from fluxcull.ui import keyfile
from fluxcull.ui.keymap import ACTIONS, MENUS

_UNKNOWN = int(Qt.Key_unknown)


def key_text(text: str) -> str | None:
    """Qt's portable text of a key sequence ("ctrl+shift+j" -> "Ctrl+Shift+J"), None when Qt reads
    no key in it ("Ctrl+Foo", "F99", "")."""
    seq = QKeySequence.fromString(text, QKeySequence.PortableText)
    if seq.isEmpty() or any(seq[i].key() == _UNKNOWN for i in range(seq.count())):
        return None
    out = seq.toString(QKeySequence.PortableText)
    return out or None


def load_keymap(path=None) -> keyfile.KeyMap:
    """The keys in effect: the key map file (its default place unless `path` is given) over the defaults."""
    return keyfile.load(keyfile.keymap_path() if path is None else path, key_text)


def build_actions(win, keymap: keyfile.KeyMap | None = None) -> dict[str, QAction]:
    """One QAction per declaration, in its menu of `win`'s menu bar, bound window-wide with the keys
    of `keymap` (default: the declared ones)."""
    keys = keymap.keys if keymap is not None else keyfile.defaults()
    changed = keymap.changed if keymap is not None else set()
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
        if a.standard and a.id not in changed:
            act.setShortcut(QKeySequence(getattr(QKeySequence.StandardKey, a.standard)))
        else:
            act.setShortcuts([QKeySequence(k) for k in keys[a.id]])
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
