"""Culling from the keyboard: decisions land in the catalog at once, undo reverts them, the loupe
and compare views record what the photographer chose."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QItemSelectionModel, Qt  # noqa: E402
from PySide6.QtWidgets import QMenu  # noqa: E402

from fluxcull.catalog.decisions import active_preferences  # noqa: E402
from fluxcull.ui import keymap  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from uigen import decisions, fill_catalog, press  # noqa: E402


def test_keys_keep_reject_clear_write_at_once_and_undo_reverts(qtbot, window, conn):
    ids = window.ids
    press(qtbot, window, window.grid, Qt.Key_P)
    assert decisions(conn, ids[:3]) == ["keep", "none", "none"]
    assert window.current_row() == 1  # auto-advance
    press(qtbot, window, window.grid, Qt.Key_X)
    press(qtbot, window, window.grid, Qt.Key_P)
    assert decisions(conn, ids[:4]) == ["keep", "reject", "keep", "none"]
    press(qtbot, window, window.grid, Qt.Key_Left)
    press(qtbot, window, window.grid, Qt.Key_U)
    assert decisions(conn, ids[:3]) == ["keep", "reject", "none"]
    events = conn.execute("SELECT kind, source FROM decision_events ORDER BY id").fetchall()
    assert [tuple(e) for e in events] == [("keep", "gui"), ("reject", "gui"), ("keep", "gui"), ("clear", "gui")]
    press(qtbot, window, window.grid, Qt.Key_Z, Qt.ControlModifier)
    assert decisions(conn, ids[:3]) == ["keep", "reject", "keep"]
    assert window.current_row() == 2
    press(qtbot, window, window.grid, Qt.Key_Z, Qt.ControlModifier)
    press(qtbot, window, window.grid, Qt.Key_Z, Qt.ControlModifier)
    press(qtbot, window, window.grid, Qt.Key_Z, Qt.ControlModifier)
    assert decisions(conn, ids[:3]) == ["none", "none", "none"]
    assert window.model.record(0)["decision"] == "none"
    assert window.counts["keep"] == 0 and window.counts["none"] == len(ids)


def test_auto_advance_toggle_and_selection_decided_together(qtbot, window, conn):
    ids = window.ids
    press(qtbot, window, window.grid, Qt.Key_A)
    assert not window.auto_advance and not window.filters.advance_button.isChecked()
    press(qtbot, window, window.grid, Qt.Key_X)
    assert window.current_row() == 0
    sm = window.grid.selectionModel()
    for r in (2, 3, 4):
        sm.select(window.model.index(r), QItemSelectionModel.Select)
    press(qtbot, window, window.grid, Qt.Key_P)
    assert decisions(conn, ids[:6]) == ["keep", "none", "keep", "keep", "keep", "none"]
    press(qtbot, window, window.grid, Qt.Key_Z, Qt.ControlModifier)  # one undo reverts the whole group
    assert decisions(conn, ids[:6]) == ["reject", "none", "none", "none", "none", "none"]


def test_loupe_moves_decides_and_returns_to_grid(qtbot, window, conn):
    ids = window.ids
    press(qtbot, window, window.grid, Qt.Key_Space)
    assert window.mode.name == "loupe"
    qtbot.waitUntil(lambda: window.image_loader.best(ids[0]) is not None, timeout=10000)
    assert window.loupe.pane.has_image()
    press(qtbot, window, window.loupe, Qt.Key_Right)
    assert window.loupe.record["id"] == ids[1]
    press(qtbot, window, window.loupe, Qt.Key_X)
    assert decisions(conn, ids[:3]) == ["none", "reject", "none"]
    assert window.loupe.record["id"] == ids[2]  # advanced inside the loupe
    qtbot.waitUntil(lambda: window.image_loader.image(ids[3], "screen") is not None, timeout=10000)  # preloaded
    press(qtbot, window, window.loupe, Qt.Key_Z)
    assert window.loupe.pane.zoom == 1.0
    assert window.loupe.info.values["camera"].text() == "RICOH GR III"
    press(qtbot, window, window.loupe, Qt.Key_G)
    assert window.mode.name == "grid" and window.current_row() == 2


def test_compare_records_preferences_with_a_frozen_champion(qtbot, window, conn):
    ids = window.ids
    sm = window.grid.selectionModel()
    sm.clearSelection()
    for r in (0, 1, 2, 3):
        sm.select(window.model.index(r), QItemSelectionModel.Select)
    press(qtbot, window, window.grid, Qt.Key_C)
    assert window.mode.name == "compare" and window.compare.frozen
    assert window.compare.pair == (ids[0], ids[1])
    press(qtbot, window, window.compare, Qt.Key_Right)  # the right one is better: it becomes the champion
    assert active_preferences(conn) == [(ids[1], ids[0])]
    assert window.compare.pair == (ids[1], ids[2])
    press(qtbot, window, window.compare, Qt.Key_Left)
    assert window.compare.pair == (ids[1], ids[3])
    assert active_preferences(conn) == [(ids[1], ids[0]), (ids[1], ids[2])]
    rows = conn.execute("SELECT source FROM decision_events WHERE kind = 'prefer'").fetchall()
    assert {r[0] for r in rows} == {"compare"}
    press(qtbot, window, window.compare, Qt.Key_Z, Qt.ControlModifier)
    assert active_preferences(conn) == [(ids[1], ids[0])]
    press(qtbot, window, window.compare, Qt.Key_Z)  # synchronised zoom
    assert window.compare.left.pane.zoom == 1.0 == window.compare.right.pane.zoom
    window.compare.left.pane.set_view(1.0, 0.2, 0.7, emit=True)
    assert (window.compare.right.pane.cx, window.compare.right.pane.cy) == (0.2, 0.7)
    press(qtbot, window, window.compare, Qt.Key_Escape)
    assert window.mode.name == "grid"


def test_compare_proposes_an_informative_pair_of_the_session(qtbot, window, conn):
    window.grid.selectionModel().clearSelection()
    press(qtbot, window, window.grid, Qt.Key_C)
    assert window.mode.name == "compare" and not window.compare.frozen
    a, b = window.compare.pair
    sa, sb = (conn.execute("SELECT session_id, keeper_score FROM photos WHERE id = ?", (i,)).fetchone() for i in (a, b))
    assert sa[0] == sb[0]
    press(qtbot, window, window.compare, Qt.Key_Left)
    assert active_preferences(conn) == [(a, b)]
    assert window.compare.pair is None or set(window.compare.pair) != {a, b}


def test_every_key_in_the_map_is_bound_and_the_resource_file_matches(window):
    from pathlib import Path

    for action in keymap.ACTIONS:
        act = window.actions_by_name[action.id]
        if not action.standard:
            assert [s.toString() for s in act.shortcuts()] == [k for k in action.keys]
        assert act.text() == action.text
    doc = Path(__file__).resolve().parents[1] / "resources" / "keymap.md"
    assert doc.read_text() == keymap.keymap_markdown()


def test_open_on_a_session_or_refuse_an_unknown_one(qtbot, library, conn, tmp_path):
    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=2, per_session=3)
    sid = conn.execute("SELECT session_id FROM photos WHERE id = ?", (ids[4],)).fetchone()[0]
    win = MainWindow(library, initial_session=sid, watch_inbox=False)
    qtbot.addWidget(win)
    assert win.model.ids == ids[3:]
    win.close()
    with pytest.raises(LookupError, match="no session with id 999"):
        MainWindow(library, initial_session=999, watch_inbox=False)


def test_a_photo_rejected_in_the_loupe_keeps_its_brightness(qtbot, window, conn):
    ids = window.ids
    press(qtbot, window, window.grid, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.image_loader.best(ids[0]) is not None, timeout=10000)
    qtbot.waitUntil(lambda: window.loupe.pane.has_image(), timeout=10000)

    def interior_lightness():
        img = window.loupe.pane.grab().toImage()
        w, h = img.width(), img.height()
        vals = [img.pixelColor(x, y).lightness() for x in range(w // 3, 2 * w // 3, 9) for y in range(h // 3, 2 * h // 3, 9)]
        return sum(vals) / len(vals)

    before = interior_lightness()
    window.loupe.set_decision("reject")  # as the X key shows it, before the next photo comes up
    assert window.loupe.caption.text().endswith("✖ REJECT")
    assert abs(interior_lightness() - before) < 1.0  # judged at full brightness, framed in red instead


def test_menu_labels_are_whole_and_distinct(window):
    for menu in window.menuBar().findChildren(QMenu):
        labels = [a.text() for a in menu.actions() if not a.isSeparator()]
        name = menu.title().replace("&", "")
        assert len(labels) == len(set(labels)), (name, labels)  # no two items with one label
        assert name not in labels, (name, labels)  # no item cut down to its menu's name
