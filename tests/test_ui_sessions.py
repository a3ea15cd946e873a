"""The source list: every row of every column fits, with thousands of sessions."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView

from fluxcull.ui.sessions import SessionPanel


def _sessions(n: int, big_at: int, role: str = "originals", first_id: int = 1) -> list[dict]:
    out = []
    for i in range(n):
        count = 1_234_567 if i == big_at else 5 + i % 90
        day = 1 + i % 28
        out.append({"id": first_id + i, "role": role, "start_at": f"2021-03-{day:02d}T08:{i % 60:02d}:00",
                    "end_at": f"2021-03-{day:02d}T09:00:00", "photo_count": count, "keepers": count // 3,
                    "place": f"Street {i % 97}", "keeper_density": (count // 3) / count})
    return out


def test_columns_fit_the_widest_row_anywhere_in_the_list(qtbot):
    panel = SessionPanel()
    qtbot.addWidget(panel)
    panel.resize(420, 500)
    panel.show()
    sessions = _sessions(2500, big_at=1700) + _sessions(30, big_at=-1, role="inbox", first_id=5000)
    panel.reload({"counts": {"originals": (40_000, 900), "inbox": (300, 0)}, "sessions": sessions})
    header = panel.header()
    header.setResizeContentsPrecision(-1)  # Qt measures every row: the widths ResizeToContents would give
    for col in (0, 2, 3):
        assert header.sectionSize(col) == max(panel.sizeHintForColumn(col), header.sectionSizeHint(col)), col
    # the wide count sits far below the first screenful and still fits
    item = panel._items[("originals", 1 + 1700)]
    assert item.text(2) == "1,234,567"
    assert header.sectionSize(2) >= panel.itemDelegate().sizeHint(_option(panel), panel.indexFromItem(item, 2)).width()
    assert header.sectionSize(2) > panel.itemDelegate().sizeHint(
        _option(panel), panel.indexFromItem(panel._items[("originals", 1)], 2)).width()
    # the photographer may widen a column; the place column takes the rest
    assert header.sectionResizeMode(0) == QHeaderView.Interactive
    assert header.sectionResizeMode(1) == QHeaderView.Stretch


def _option(view):
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    return option


def test_new_counts_for_the_same_sessions_update_the_rows_in_place(qtbot):
    """After every burst of keep/reject keys the keeper shares are re-read: rebuilding 4,000 session
    rows held the event loop ~150 ms (a stall during a running job); the rows now keep their items."""
    panel = SessionPanel()
    qtbot.addWidget(panel)
    sessions = _sessions(4000, big_at=-1)
    panel.reload({"counts": {"originals": (40_000, 900)}, "sessions": sessions})
    item = panel._items[("originals", 7)]
    panel.select_source("originals", 7)
    changed = [dict(s) for s in sessions]
    changed[6].update(keepers=changed[6]["photo_count"], keeper_density=1.0)  # every photo of session 7 kept
    panel.reload({"counts": {"originals": (40_000, 950)}, "sessions": changed})
    assert panel._items[("originals", 7)] is item and item.text(3) == "100%"
    assert panel.currentItem() is item
    assert panel._items[(None, None)].toolTip(3) == "950 kept or confirmed of 40000"
    # a new session: the list is built again, and holds it
    panel.reload({"counts": {"originals": (40_001, 950)}, "sessions": changed + _sessions(1, -1, first_id=9000)})
    assert ("originals", 9000) in panel._items and panel._items[("originals", 7)] is not item
