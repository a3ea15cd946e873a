"""Stars and colour labels in the window: keys 0-9 in the grid, the loupe and compare write them at
once and Ctrl+Z takes them back; thumbnails paint them (asserted on the delegate's own painting); the
toolbar limits the grid to N stars or a label; and compare decides (keep the winner, reject the loser)
when the setting is on, undone in one step with its preference, or only records the choice when off."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QItemSelectionModel, QPoint, QRect, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QImage, QPainter, QStandardItem, QStandardItemModel  # noqa: E402
from PySide6.QtWidgets import QStyleOptionViewItem  # noqa: E402

from fluxcull.catalog.decisions import active_preferences  # noqa: E402
from fluxcull.ui import delegate as dl  # noqa: E402
from fluxcull.ui import theme  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from fluxcull.ui.model import RecordRole  # noqa: E402
from uigen import decisions, press  # noqa: E402


def marks(conn, ids):
    got = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, rating, color_label FROM photos")}
    return [got[i] for i in ids]


def select(win, rows):
    sm = win.grid.selectionModel()
    sm.clearSelection()
    for r in rows:
        sm.select(win.model.index(r), QItemSelectionModel.Select)


def test_keys_give_stars_and_labels_in_the_grid_and_ctrl_z_takes_them_back(qtbot, window, conn):
    ids = window.ids
    press(qtbot, window, window.grid, Qt.Key_4)
    assert marks(conn, ids[:2]) == [(4, None), (0, None)]
    assert window.current_row() == 1  # auto-advance, as after a decision
    assert window.model.record(0)["rating"] == 4 and "★★★★" in window.model.data(window.model.index(0), Qt.ToolTipRole)
    select(window, [2, 3])
    press(qtbot, window, window.grid, Qt.Key_6)
    assert marks(conn, ids[2:4]) == [(0, "red"), (0, "red")]
    press(qtbot, window, window.grid, Qt.Key_6)  # the same label again removes it
    assert marks(conn, ids[2:4]) == [(0, None), (0, None)]
    press(qtbot, window, window.grid, Qt.Key_9)
    press(qtbot, window, window.grid, Qt.Key_5)
    assert marks(conn, ids[2:4]) == [(5, "blue"), (5, "blue")]
    for expected in ([(0, "blue"), (0, "blue")], [(0, None), (0, None)], [(0, "red"), (0, "red")],
                     [(0, None), (0, None)]):
        press(qtbot, window, window.grid, Qt.Key_Z, Qt.ControlModifier)
        assert marks(conn, ids[2:4]) == expected
    press(qtbot, window, window.grid, Qt.Key_Z, Qt.ControlModifier)
    assert marks(conn, ids[:1]) == [(0, None)] and window.model.record(0)["rating"] == 0
    kinds = [r[0] for r in conn.execute("SELECT DISTINCT kind FROM decision_events ORDER BY id")]
    assert kinds == ["rate", "label", "undo"]
    assert {r[0] for r in conn.execute("SELECT source FROM decision_events")} == {"gui"}


def test_the_loupe_and_compare_take_the_keys_too(qtbot, window, conn):
    ids = window.ids
    press(qtbot, window, window.grid, Qt.Key_A)  # auto-advance off: stay on the photo
    press(qtbot, window, window.grid, Qt.Key_Space)
    press(qtbot, window, window.loupe, Qt.Key_3)
    press(qtbot, window, window.loupe, Qt.Key_8)
    assert marks(conn, ids[:1]) == [(3, "green")]
    assert window.loupe.info.values["stars"].text() == "★★★☆☆  3 of 5"
    assert window.loupe.info.values["label"].text() == "Green"
    assert "★★★ · Green label" in window.loupe.caption.text()
    press(qtbot, window, window.loupe, Qt.Key_G)
    select(window, [4, 5])
    press(qtbot, window, window.grid, Qt.Key_C)
    assert window.mode.name == "compare" and window.compare.pair == (ids[4], ids[5])
    press(qtbot, window, window.compare, Qt.Key_2)
    press(qtbot, window, window.compare, Qt.Key_7)
    assert marks(conn, ids[4:6]) == [(2, "yellow"), (2, "yellow")]  # both photos shown
    assert "★★" in window.compare.left.caption.text() and "Yellow" in window.compare.right.caption.text()
    press(qtbot, window, window.compare, Qt.Key_Z, Qt.ControlModifier)
    assert marks(conn, ids[4:6]) == [(2, None), (2, None)]
    assert "Yellow" not in window.compare.right.caption.text()


def _paint_cell(window, rec) -> tuple[QImage, QRectF]:
    """The grid's delegate paints one cell for `rec` (no thumbnail: the image area is the placeholder)."""
    model = QStandardItemModel()
    item = QStandardItem()
    item.setData(rec, RecordRole)
    model.appendRow(item)
    size = window.grid.gridSize()
    img = QImage(size, QImage.Format_ARGB32)
    img.fill(0)
    option = QStyleOptionViewItem()
    option.rect = QRect(QPoint(0, 0), size)
    p = QPainter(img)
    window.grid.itemDelegate().paint(p, option, model.index(0, 0))
    p.end()
    cell = option.rect.adjusted(dl.MARGIN, dl.MARGIN, -dl.MARGIN, -dl.MARGIN)
    side = window.grid.thumb_side
    area = QRectF(cell.left() + (cell.width() - side) // 2, cell.top() + dl.PAD, side, side)
    return img, area


def _near(colour, target, tol=40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(colour.getRgb()[:3], target.getRgb()[:3]))


def test_thumbnails_show_stars_and_the_label_dot(window):
    base = {"id": 1, "path": "/p/R0000001.JPG", "role": "originals", "status": "ok", "decision": "none",
            "keeper_score": 0.42, "thumb_key": None, "format": "jpeg"}
    img, area = _paint_cell(window, {**base, "rating": 3, "color_label": "red"})
    dot = dl.label_dot_centre(area)
    assert _near(img.pixelColor(int(dot.x()), int(dot.y())), theme.LABEL_COLOURS["red"])
    origin = dl.stars_origin(area)
    centres = [(origin.x() + dl.STAR_R + 3 + i * dl.STAR_STEP, origin.y() - dl.STAR_R - 2.5) for i in range(5)]
    gold = [_near(img.pixelColor(int(x), int(y)), theme.STAR_COLOUR) for x, y in centres]
    assert gold == [True, True, True, False, False]  # three stars, painted at the bottom left
    img, area = _paint_cell(window, {**base, "rating": 5, "color_label": "blue"})
    assert _near(img.pixelColor(int(dot.x()), int(dot.y())), theme.LABEL_COLOURS["blue"])
    assert all(_near(img.pixelColor(int(x), int(y)), theme.STAR_COLOUR) for x, y in centres)
    img, area = _paint_cell(window, {**base, "rating": 0, "color_label": None})
    assert not _near(img.pixelColor(int(dot.x()), int(dot.y())), theme.LABEL_COLOURS["red"])
    assert not any(_near(img.pixelColor(int(x), int(y)), theme.STAR_COLOUR) for x, y in centres)


def test_the_toolbar_limits_the_grid_to_stars_and_to_a_label(qtbot, window, conn):
    ids = window.ids
    window.catalog.rate(ids[:3], 4, "t")
    window.catalog.rate([ids[3]], 2, "t")
    window.catalog.label([ids[1], ids[7]], "green", "t")
    f = window.filters
    f.stars_combo.setCurrentIndex(f.stars_combo.findData(3))
    qtbot.waitUntil(lambda: window.model.complete, timeout=5000)
    assert window.model.ids == ids[:3]
    f.label_combo.setCurrentIndex(f.label_combo.findData("green"))
    assert window.model.ids == [ids[1]]
    f.stars_combo.setCurrentIndex(0)
    assert window.model.ids == [ids[1], ids[7]]
    f.label_combo.setCurrentIndex(f.label_combo.findData("purple"))
    assert window.model.ids == [] and "Purple label" in window.grid.empty_text
    f.show_everything()
    assert f.stars_combo.currentData() is None and f.label_combo.currentData() is None


def _compare_two(qtbot, window, a, b):
    select(window, [a, b])
    press(qtbot, window, window.grid, Qt.Key_C)
    assert window.mode.name == "compare" and window.compare.pair == (window.ids[a], window.ids[b])
    press(qtbot, window, window.compare, Qt.Key_Right)  # the right photo is the better one


def test_compare_keeps_the_winner_and_rejects_the_loser_and_one_undo_restores_all(qtbot, window, conn):
    ids = window.ids
    said = []
    window.status.flash = lambda text, ms=4000: said.append(text)
    _compare_two(qtbot, window, 0, 1)
    assert decisions(conn, ids[:2]) == ["reject", "keep"]
    assert active_preferences(conn) == [(ids[1], ids[0])]
    assert window.model.record(0)["decision"] == "reject" and window.model.record(1)["decision"] == "keep"
    assert window.counts["keep"] == 1 and window.counts["reject"] == 1
    assert any(t.startswith("Kept R0000001.JPG, rejected R0000000.JPG") for t in said)
    press(qtbot, window, window.mode.widget, Qt.Key_Z, Qt.ControlModifier)
    assert decisions(conn, ids[:2]) == ["none", "none"] and active_preferences(conn) == []
    assert window.model.record(1)["decision"] == "none" and window.counts["keep"] == 0
    # a photo already decided keeps its decision: the choice is only recorded
    window.show_grid()
    window.catalog.decide([ids[2]], "keep", "gui")
    _compare_two(qtbot, window, 2, 3)
    assert decisions(conn, ids[2:4]) == ["keep", "none"] and active_preferences(conn) == [(ids[3], ids[2])]


def test_with_the_setting_off_compare_only_records_the_choice(qtbot, window, conn):
    ids = window.ids
    window.catalog.set_setting("compare.decides", "off")
    _compare_two(qtbot, window, 0, 1)
    assert decisions(conn, ids[:2]) == ["none", "none"]
    assert active_preferences(conn) == [(ids[1], ids[0])]
    press(qtbot, window, window.mode.widget, Qt.Key_Z, Qt.ControlModifier)
    assert active_preferences(conn) == []
