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


def test_a_narrow_window_hides_whole_tools_behind_a_visible_overflow_button(qtbot, library, conn, tmp_path):
    from PySide6.QtWidgets import QToolBar, QToolButton

    fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=2)
    win = open_window(qtbot, library)
    win.resize(900, 600)
    settle(qtbot, win)
    bar = win.findChild(QToolBar, "viewToolbar")
    ext = bar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert ext is not None and ext.isVisible()  # not everything fits in 900 pixels
    img = ext.icon().pixmap(16, 16).toImage()  # the arrow in the theme's text colour, not the style's dark one
    assert max(img.pixelColor(x, y).lightness() for x in range(img.width()) for y in range(img.height())) > 150
    box = win.filters.size_slider.parentWidget()
    assert box.parentWidget() is bar and box.isVisible() == win.filters.size_slider.isVisible()  # label and slider as one
    from PySide6.QtWidgets import QLabel

    for key, fields in win.filters.find.widgets.items():  # the filter bar's labelled fields: each with its label
        group = fields[0].parentWidget()
        if key not in ("text", "camera", "lens"):  # those say what they are inside the field
            assert group.findChildren(QLabel) and all(f.parentWidget() is group for f in fields), key
    win.close()


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


def _two_bursts(library, conn, tmp_path):
    """One session of six frames 10 s apart: two scenes of three look-alike frames each (two bursts),
    scored so that the closest scores lie across the two scenes."""
    import numpy as np

    from fluxcull.catalog import transaction
    from fluxcull.embedding.store import EmbeddingStore

    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=6)
    scores = [0.50, 0.70, 0.90, 0.52, 0.72, 0.92]
    with transaction(conn):
        for pid, sc in zip(ids, scores):
            conn.execute("UPDATE photos SET keeper_score = ? WHERE id = ?", (sc, pid))
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=16), rng.normal(size=16)
    emb = np.array([a + 0.1 * rng.normal(size=16) for _ in range(3)] + [b + 0.1 * rng.normal(size=16) for _ in range(3)],
                   np.float32)
    EmbeddingStore(conn, library.embeddings_dir, "synthetic@1", 16).write(ids, emb)
    return ids


def test_compare_stays_in_one_burst_names_files_and_crowns_only_a_real_champion(qtbot, library, conn, tmp_path):
    ids = _two_bursts(library, conn, tmp_path)
    burst_a, burst_b = set(ids[:3]), set(ids[3:])
    win = open_window(qtbot, library)
    # choices only: with compare deciding (the default), the decided frames leave the proposals (a burst
    # of three then holds no second undecided pair: tests/test_stars_labels_ui.py covers that setting)
    win.catalog.set_setting("compare.decides", "off")
    said = []
    win.status.flash = lambda text, ms=4000: said.append(text)
    sid = conn.execute("SELECT session_id FROM photos WHERE id = ?", (ids[0],)).fetchone()[0]
    win.set_source({"label": "s", "role": "originals", "session_id": sid})
    settle(qtbot, win)
    win.grid.selectionModel().clearSelection()
    assert win.start_compare()
    shown = []
    while win.mode.name == "compare" and win.compare.pair is not None and len(shown) < 10:
        pair = set(win.compare.pair)
        shown.append(pair)
        assert pair <= burst_a or pair <= burst_b, "a pair of unrelated photos"
        assert "CHAMPION" not in win.compare.left.caption.text()
        win.compare.choose("left")
        settle(qtbot, win)
    assert len(shown) >= 4  # both bursts were compared, one after the other
    assert any("That burst is done" in t for t in said)
    assert win.mode.name == "grid" and "burst" in said[-1]
    assert any(t.startswith("Preferred R00000") for t in said)
    assert not any("#" in t for t in said)

    # a selected group: a champion while its frames challenge it, then the winner is named
    said.clear()
    from PySide6.QtCore import QItemSelectionModel

    sm = win.grid.selectionModel()
    sm.clearSelection()
    for r in range(3):
        sm.select(win.model.index(r), QItemSelectionModel.Select)
    assert win.start_compare()
    assert "CHAMPION" in win.compare.left.caption.text()
    win.compare.choose("left")
    win.compare.choose("left")
    settle(qtbot, win)
    assert win.mode.name == "grid" and "is the best of them" in said[-1] and "R00000" in said[-1]
    win.close()


def test_every_grid_filter_that_finds_nothing_says_why_in_the_grid(qtbot, library, conn, tmp_path):
    from fluxcull.catalog import transaction

    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=4)
    with transaction(conn):  # every score low, nothing decided: most filters find nothing
        conn.execute("UPDATE photos SET keeper_score = 0.1")
    win = open_window(qtbot, library)
    settle(qtbot, win)
    assert win.model.rowCount() == len(ids)
    f = win.filters
    empty = 0
    for combo in (f.decision_combo, f.band_combo, f.role_combo):
        for i in range(combo.count()):
            combo.setCurrentIndex(i)
            settle(qtbot, win)
            if win.model.rowCount() == 0:
                empty += 1
                text = win.grid.empty_text
                assert text and ("Any" in text or "Library settings" in text), (combo.currentText(), text)
                win.grid.grab()  # the message is painted in the grid
        combo.setCurrentIndex(0)
    assert empty >= 5
    f.band_combo.setCurrentIndex(f.band_combo.findData("uncertain"))
    settle(qtbot, win)
    assert "0.5–0.8" in win.grid.empty_text and "Any" in win.grid.empty_text
    win.close()


def test_keeper_review_reasons_name_files_not_ids(library, conn, tmp_path):
    from fluxcull.catalog import Catalog
    from fluxcull.ui.review import named_reason

    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=3)
    text = named_reason(f"original {ids[1]} is almost as similar (0.991): near-identical frames", Catalog(conn))
    assert text == "original R0000001.JPG is almost as similar (0.991): near-identical frames"
