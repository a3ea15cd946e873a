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


def test_settings_name_the_backbone_in_use_and_saving_writes_no_empty_value(qtbot, library, conn):
    from fluxcull.catalog import Catalog
    from fluxcull.ui.settings import SettingsDialog

    dlg = SettingsDialog(Catalog(conn))
    qtbot.addWidget(dlg)
    assert dlg.fields["backbone"].value() == "efficientnet_lite0"  # not a blank field
    dlg._save()
    stored = dict(conn.execute("SELECT key, value FROM settings"))
    assert "backbone" not in stored  # unchanged: nothing written, and never ''
    dlg = SettingsDialog(Catalog(conn))
    qtbot.addWidget(dlg)
    dlg.fields["backbone"].setCurrentText("convnext_tiny")
    dlg._save()
    assert library.get_setting(conn, "backbone") == "convnext_tiny"


def test_the_window_fits_the_screen_and_remembers_size_layout_and_session(qtbot, library, conn, tmp_path):
    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=2, per_session=4)
    win = open_window(qtbot, library)
    avail = win.screen().availableGeometry()
    assert win.width() <= avail.width() and win.height() <= avail.height()  # not 1480 x 920 on any screen
    assert win.width() >= 0.8 * avail.width()
    sid = conn.execute("SELECT session_id FROM photos WHERE id = ?", (ids[5],)).fetchone()[0]
    win.set_source({"label": "a session", "role": "originals", "session_id": sid})
    win.resize(700, 500)
    win.splitter.setSizes([250, 450])
    sizes = win.splitter.sizes()
    win.filters.size_slider.setValue(240)
    win.close()
    assert (library.root / "ui-state.ini").is_file()  # inside the library, not the user's configuration
    again = open_window(qtbot, library)
    settle(qtbot, again)
    assert again.browser.source["session_id"] == sid
    assert {again.model.photo_id(r) for r in range(again.model.rowCount())} == set(ids[4:])
    assert (again.width(), again.height()) == (700, 500)
    assert again.splitter.sizes() == sizes
    assert again.filters.size_slider.value() == 240
    again.close()


def test_about_names_the_version_the_library_and_the_log(qtbot, library, conn):
    import fluxcull
    from fluxcull.logs import log_path

    win = open_window(qtbot, library)
    act = win.actions_by_name["about"]
    assert act.text() == "About fluxcull"
    act.trigger()
    texts = [v for _k, v in win.dialog.lines]
    assert fluxcull.__version__ in texts and str(library.root) in texts and str(log_path(library.root)) in texts
    win.close()
