"""Viewing: full screen (F, Esc), the loupe's histogram and clipping warning (J) computed off the GUI
thread, the second window following the current photo, and a person's own keys from a key map file."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QItemSelectionModel, Qt  # noqa: E402

from fluxcull.catalog import transaction  # noqa: E402
from fluxcull.media.histogram import HIGHLIGHT_COLOUR, SHADOW_COLOUR, clipping_overlay, histogram  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from uigen import fill_catalog  # noqa: E402


def synthetic() -> np.ndarray:
    """60 x 90: a white third (clipped highlights), a black third (clipped shadows), a grey third, and
    one pure-red pixel (its red channel clipped) in the grey."""
    rgb = np.zeros((60, 90, 3), np.uint8)
    rgb[:, :30] = 255
    rgb[:, 60:] = (100, 150, 50)
    rgb[10, 70] = (255, 0, 0)
    return rgb


def open_window(qtbot, library):
    win = MainWindow(library, watch_inbox=False)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.reader.idle() and win.sessions.topLevelItemCount() > 0, timeout=5000)
    win.grid.setFocus()
    return win


@pytest.fixture
def window(qtbot, library, conn, tmp_path):
    fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=4)
    path = tmp_path / "photos" / "SYNTH.PNG"  # PNG: decoded exactly, so clipped pixels stay clipped
    Image.fromarray(synthetic()).save(path)
    with transaction(conn):
        pid = conn.execute(
            "INSERT INTO photos(path, role, size, mtime_ns, sha256, format, width, height, capture_time, session_id)"
            " VALUES (?, 'originals', ?, 1, ?, 'png', 90, 60, 1, (SELECT MIN(id) FROM sessions))",
            (str(path), path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())).lastrowid
    win = open_window(qtbot, library)
    win.synthetic_id = pid
    yield win
    win.close()
    assert win.viewing.second is None and win.loupe.measurer.pool.activeThreadCount() == 0


# -- the histogram ------------------------------------------------------------------------------------------
def test_histogram_counts_and_clipping_of_a_synthetic_image():
    rgb = synthetic()
    h = histogram(rgb)
    n = 60 * 90
    assert h.pixels == n and int(h.red.sum()) == int(h.luminance.sum()) == n
    assert h.red[255] == 60 * 30 + 1 and h.green[255] == h.blue[255] == 60 * 30
    assert h.red[0] == 60 * 30 and h.green[0] == h.blue[0] == 60 * 30 + 1
    assert h.red[100] == h.green[150] == h.blue[50] == 60 * 30 - 1
    assert h.luminance[255] == 60 * 30 and h.luminance[0] == 60 * 30
    assert h.luminance[(54 * 100 + 183 * 150 + 19 * 50 + 128) >> 8] == 60 * 30 - 1
    assert h.luminance[(54 * 255 + 128) >> 8] == 1
    assert h.clipped_highlights == 60 * 30 + 1 and h.clipped_shadows == 60 * 30
    over = clipping_overlay(rgb)
    assert tuple(over[5, 5]) == HIGHLIGHT_COLOUR and tuple(over[10, 70]) == HIGHLIGHT_COLOUR
    assert tuple(over[5, 45]) == SHADOW_COLOUR
    assert tuple(over[5, 80]) == (100, 150, 50)
    assert tuple(rgb[5, 5]) == (255, 255, 255)  # the photo's own pixels are not touched


def test_clipped_shares_in_words():
    from fluxcull.ui.histogram import share_text

    assert (share_text(0, 100), share_text(1, 10_000), share_text(5, 10_000), share_text(1, 3)) == \
        ("0%", "<0.1%", "0.1%", "33.3%")


def test_the_loupe_measures_off_the_gui_thread_and_j_marks_clipped_pixels(qtbot, window):
    import threading

    from fluxcull.media import histogram as media_histogram  # the counting the worker runs

    threads = []
    real = media_histogram.histogram
    media_histogram.histogram = lambda rgb: (threads.append(threading.current_thread()), real(rgb))[1]
    try:
        row = window.model.row_of(window.synthetic_id)
        window.show_loupe(row)
        loupe = window.loupe
        qtbot.waitUntil(lambda: window.image_loader.best(window.synthetic_id) is not None, timeout=10000)
        view = loupe.info.histogram
        qtbot.waitUntil(lambda: view.hist is not None and view.hist.pixels == 60 * 90, timeout=10000)
    finally:
        media_histogram.histogram = real
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert view.hist.clipped_highlights == 60 * 30 + 1 and view.hist.clipped_shadows == 60 * 30
    assert view.summary() == "Shadows clipped 33.3%   Highlights clipped 33.4%"
    assert not loupe.pane.has_overlay()
    qtbot.keyClick(loupe, Qt.Key_J)
    assert window.actions_by_name["clipping"].isChecked()
    qtbot.waitUntil(loupe.pane.has_overlay, timeout=10000)
    img = loupe.pane.grab().toImage()
    w, h = img.width(), img.height()
    t = loupe.pane._target_rect()

    def at(fx, fy):  # a pixel of the photo, by its place in the frame
        return img.pixelColor(int(t.left() + fx * t.width()), int(t.top() + fy * t.height()))

    white, black, grey = at(1 / 6, 0.5), at(0.5, 0.5), at(5 / 6, 0.8)
    assert white.red() > 200 and white.green() < 60 and white.blue() < 60, white.getRgb()  # red: clipped highlights
    assert black.blue() > 200 and black.red() < 60, black.getRgb()  # blue: clipped shadows
    assert abs(grey.red() - 100) < 12 and abs(grey.green() - 150) < 12, grey.getRgb()  # the rest as it is
    assert 0 < w and 0 < h
    qtbot.keyClick(loupe, Qt.Key_J)
    assert not loupe.pane.has_overlay()


# -- full screen ----------------------------------------------------------------------------------------------
def test_f_shows_the_loupe_full_screen_and_esc_leaves(qtbot, window):
    assert not window.isFullScreen()
    qtbot.keyClick(window.grid, Qt.Key_F)
    assert window.mode.name == "loupe" and window.viewing.fullscreen and window.isFullScreen()
    assert window.sessions.isHidden() and window.menuBar().isHidden()
    assert all(tb.isHidden() for tb in (window.findChild(type(window.addToolBar("x")), "findToolbar"),))
    qtbot.keyClick(window.loupe, Qt.Key_Right)  # the loupe still moves
    assert window.current_row() == 1
    qtbot.keyClick(window.loupe, Qt.Key_Escape)
    assert not window.viewing.fullscreen and not window.isFullScreen()
    assert window.mode.name == "loupe"  # Esc left full screen, not the loupe
    assert not window.sessions.isHidden() and not window.menuBar().isHidden()
    qtbot.keyClick(window.loupe, Qt.Key_Escape)
    assert window.mode.name == "grid"


def test_compare_full_screen_and_the_grid_leaves_it(qtbot, window):
    sm = window.grid.selectionModel()
    for r in (0, 1):
        sm.select(window.model.index(r), QItemSelectionModel.Select)
    qtbot.keyClick(window.grid, Qt.Key_C)
    assert window.mode.name == "compare"
    qtbot.keyClick(window.compare, Qt.Key_F)
    assert window.isFullScreen() and window.mode.name == "compare"
    window.modes["compare"].exhausted("done")  # compare goes back to the grid: full screen ends with it
    assert window.mode.name == "grid" and not window.isFullScreen() and not window.sessions.isHidden()


# -- the second window ------------------------------------------------------------------------------------------
def test_the_second_window_follows_the_current_photo(qtbot, window):
    window.actions_by_name["second_window"].trigger()
    second = window.viewing.second
    assert second is not None and second.isVisible()
    assert second.photo_id == window.current_photo_id()
    qtbot.keyClick(window.grid, Qt.Key_Right)
    assert second.photo_id == window.current_photo_id() == window.model.photo_id(1)
    qtbot.keyClick(second.loupe, Qt.Key_Right)  # its arrows move the grid's current photo
    assert window.current_row() == 2 and second.photo_id == window.model.photo_id(2)
    qtbot.waitUntil(lambda: second.loupe.pane.has_image(), timeout=10000)
    qtbot.keyClick(second.loupe, Qt.Key_P)  # the window's keys work there too
    qtbot.waitUntil(lambda: window.writer.idle(), timeout=5000)
    assert window.catalog.photo(window.model.photo_id(2))["decision"] == "keep"
    second.close()
    assert window.viewing.second is None and not window.actions_by_name["second_window"].isChecked()


# -- the key map file -------------------------------------------------------------------------------------------
def test_a_keymap_file_remaps_keys_and_a_bad_entry_warns(qtbot, library, conn, tmp_path, monkeypatch):
    from fluxcull.ui.dialogs import KeymapDialog

    fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=4)
    keys = tmp_path / "keymap.toml"
    keys.write_text('[keys]\nkeep = ["K", "A"]\nreject = ["X", "Ctrl+Foo"]\nteleport = "T"\ncompare = "Left"\n'
                    'clear = "K"\nzoom = 3\n', encoding="utf-8")
    monkeypatch.setenv("FLUXCULL_KEYMAP", str(keys))
    win = open_window(qtbot, library)
    try:
        km = win.keymap
        shortcuts = {name: [s.toString() for s in act.shortcuts()] for name, act in win.actions_by_name.items()}
        assert shortcuts["keep"] == ["K", "A"]
        assert shortcuts["auto_advance"] == []  # A went to keep
        assert shortcuts["reject"] == ["X"] and shortcuts["compare"] == ["C"] and shortcuts["clear"] == ["U"]
        assert shortcuts["zoom"] == ["Z"]
        text = "\n".join(km.warnings)
        assert len(km.warnings) == 5, text
        assert "reject = ['X', 'Ctrl+Foo']: 'Ctrl+Foo' is not a key" in text and "reject keeps X" in text
        assert "teleport = 'T': no action has this id" in text
        assert "compare = 'Left': Left is used by the views" in text and "compare keeps C" in text
        assert "clear = 'K': K is already given to keep" in text
        assert "zoom = 3: give a key as text" in text
        qtbot.keyClick(win.grid, Qt.Key_K)
        qtbot.waitUntil(lambda: win.writer.idle(), timeout=5000)
        first = win.model.photo_id(0)
        assert win.catalog.photo(first)["decision"] == "keep"
        win.set_current_row(1)
        qtbot.keyClick(win.grid, Qt.Key_P)  # P is no longer keep
        qtbot.waitUntil(lambda: win.writer.idle(), timeout=5000)
        assert win.catalog.photo(win.model.photo_id(1))["decision"] == "none"
        dlg = KeymapDialog(win, km)
        qtbot.addWidget(dlg)
        cells = [(dlg.table.item(r, 1).text(), dlg.table.item(r, 2).text()) for r in range(dlg.table.rowCount())]
        assert ("K / A", "Keep (pick) the current or selected photos") in cells
        assert str(keys) in dlg.note.text() and "teleport" in dlg.note.text()
        qtbot.waitUntil(lambda: "Key map: 5 entries left out" in win.status.message_label.text(), timeout=3000)
    finally:
        win.close()


def test_a_keymap_file_that_is_not_toml_keeps_every_default(tmp_path):
    from fluxcull.ui.actions import load_keymap
    from fluxcull.ui.keyfile import defaults

    bad = tmp_path / "keymap.toml"
    bad.write_text("keep = [unclosed\n", encoding="utf-8")
    km = load_keymap(bad)
    assert km.keys == defaults() and not km.read
    assert len(km.warnings) == 1 and str(bad) in km.warnings[0] and "every key is the default" in km.warnings[0]
    assert load_keymap(tmp_path / "absent.toml").warnings == []
