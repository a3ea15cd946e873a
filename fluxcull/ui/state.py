"""What the window remembers between runs: its size and place, the toolbar and splitter layout, the
thumbnail size, whether stacks are collapsed, and the source it showed (a session, a role, or everything).

It is kept with QSettings in an INI file inside the library (`LIBRARY/ui-state.ini`), or where
the environment variable FLUXCULL_UI_STATE points: never in the user's global configuration, so a
test's window (each test has its own library) cannot change what a person's window remembers.
A first run sizes the window from the screen's available area.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QGuiApplication

STATE_ENV = "FLUXCULL_UI_STATE"
STATE_FILE = "ui-state.ini"
SCREEN_SHARE = 0.9  # a first window covers this share of the screen's available width and height


def state_path(lib) -> Path:
    return Path(os.environ.get(STATE_ENV) or Path(lib.root) / STATE_FILE)


def fit_to_screen(win) -> None:
    """Size the window to the screen it is on (its available area, without panels) and centre it."""
    screen = win.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    avail = screen.availableGeometry()
    w, h = int(avail.width() * SCREEN_SHARE), int(avail.height() * SCREEN_SHARE)
    win.resize(w, h)
    win.move(avail.x() + (avail.width() - w) // 2, avail.y() + (avail.height() - h) // 2)


class WindowState:
    def __init__(self, lib):
        self.settings = QSettings(str(state_path(lib)), QSettings.IniFormat)

    def _bytes(self, key: str) -> QByteArray | None:
        v = self.settings.value(key)
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def source(self) -> tuple[str | None, int | None] | None:
        """The (role, session id) shown when the window last closed, if any."""
        if not self.settings.contains("source/role"):
            return None
        role = self.settings.value("source/role") or None
        session = self.settings.value("source/session_id")
        try:
            return role, (int(session) if session not in (None, "") else None)
        except (TypeError, ValueError):
            return role, None

    def stacks_collapsed(self) -> bool:
        """Whether the grid showed stacks collapsed (the default) when the window last closed."""
        return str(self.settings.value("grid/stacks", "collapsed")) != "all"

    def restore(self, win, splitter) -> None:
        geometry = self._bytes("window/geometry")
        if geometry is None or not win.restoreGeometry(geometry):
            fit_to_screen(win)
        for key, target in (("window/state", win), ("window/splitter", splitter)):
            data = self._bytes(key)
            # a layout the window has already (the toolbars where they start) is not restored again:
            # QMainWindow.restoreState lays every toolbar out anew (about 8 ms), saveState costs 0.2
            if data is not None and data != target.saveState():
                target.restoreState(data)
        side = self.settings.value("grid/thumb_side")
        if side not in (None, ""):
            try:
                win.filters.size_slider.setValue(int(side))
            except (TypeError, ValueError):
                pass

    def save(self, win, splitter, source: dict) -> None:
        s = self.settings
        s.setValue("window/geometry", win.saveGeometry())
        s.setValue("window/state", win.saveState())
        s.setValue("window/splitter", splitter.saveState())
        s.setValue("grid/thumb_side", int(win.filters.size_slider.value()))
        s.setValue("grid/stacks", "collapsed" if win.browser.stacks.collapsed else "all")
        s.setValue("source/role", source.get("role") or "")
        s.setValue("source/session_id", "" if source.get("session_id") is None else int(source["session_id"]))
        s.sync()
