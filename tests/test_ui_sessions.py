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
