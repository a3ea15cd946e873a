"""The culling window speaks to a photographer: the keyboard stays with the grid, compare stays in
one burst and names files, dialogs say things in words, the window remembers where it was."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from uigen import fill_catalog  # noqa: E402


def open_window(qtbot, library, **kw):
    win = MainWindow(library, watch_inbox=False, **kw)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    return win


def settle(qtbot, win):
    qtbot.waitUntil(lambda: win.writer.idle() and win.reader.idle() and win.model.complete, timeout=5000)


def test_after_a_click_on_a_session_the_arrows_and_keys_act_on_the_grid(qtbot, library, conn, tmp_path):
    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=2, per_session=6)
    win = open_window(qtbot, library)
    qtbot.waitUntil(lambda: len(win.sessions._items) > 4, timeout=5000)
    sid = conn.execute("SELECT session_id FROM photos WHERE id = ?", (ids[7],)).fetchone()[0]
    item = win.sessions._items[("originals", sid)]
    rect = win.sessions.visualItemRect(item)
    qtbot.mouseClick(win.sessions.viewport(), Qt.LeftButton, pos=rect.center())
    settle(qtbot, win)
    assert win.browser.source.get("session_id") == sid
    assert QApplication.focusWidget() is win.grid
    assert win.current_row() == 0
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Right)
    assert win.current_row() == 1 and win.sessions.current_source()["session_id"] == sid
    # Ctrl+L, arrows in the list, Enter: the keyboard goes back to the grid
    win.actions_by_name["focus_sessions"].trigger()
    assert QApplication.focusWidget() is win.sessions
    qtbot.keyClick(win.sessions, Qt.Key_Return)
    assert QApplication.focusWidget() is win.grid
    win.close()
