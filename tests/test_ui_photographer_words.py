"""Every row and caption of the window reads as a photographer would read it: the loupe's
information panel, compare's captions with the grid's badges, the keeper review's times, the model
panel's Details shown whole."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QFont  # noqa: E402

from fluxcull.catalog import transaction  # noqa: E402
from fluxcull.catalog.keeper_links import link  # noqa: E402
from fluxcull.ui.delegate import record_pill  # noqa: E402
from fluxcull.ui.loupe import InfoPanel, describe, taken_text  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from uigen import fill_catalog  # noqa: E402

DEVELOPER_WORDS = ("decode", "none", "originals", "jpeg-draft", "raw-preview", "keeper_score", "(Not scored)", "((")


def _rec(**kw):
    rec = {"id": 1, "path": "/photos/2024/R0004101.JPG", "role": "originals", "taken_at": "2024-03-09T08:00:00.00+01:00",
           "camera_make": "RICOH IMAGING COMPANY, LTD.", "camera_model": "RICOH GR III", "focal_length": 18.3,
           "focal_length_35mm": 28, "aperture": 2.8, "shutter": 0.002, "iso": 200, "width": 1536, "height": 1024,
           "format": "jpeg", "gps_lat": 48.85824, "gps_lon": -2.35335, "keeper_score": 0.42, "decision": "none"}
    rec.update(kw)
    return rec


def test_the_loupe_information_panel_speaks_to_a_photographer(qtbot):
    d = describe(_rec())
    assert d["decision"] == "Not decided yet"
    assert d["taken_at"] == "2024-03-09 08:00:00 +01:00"  # no '.00', the offset set apart
    assert d["camera"] == "RICOH GR III"  # the make only when the model does not name it
    assert d["gps"] == "48.85824° N, 2.35335° W"
    assert d["role"] == "Originals" and d["dimensions"] == "1536 × 1024 px"
    assert d["score"] == "0.42 — Probable non-keeper (<0.5)"
    assert describe(_rec(decision="keep", keeper_score=1.0, base_score=0.42))["score"] == "1.00 — Kept (marked keep)"
    # a model score short of 0 does not read as a reject's or a failure's 0.00
    assert describe(_rec(keeper_score=0.003))["score"] == "<0.01 — Probable non-keeper (<0.5)"
    assert describe(_rec(decision="reject"))["decision"] == "Reject"
    assert describe(_rec(keeper_score=None))["score"] == "Not scored yet"
    broken = describe(_rec(keeper_score=None, status="error", error="empty file"))
    assert broken["score"] == "Not scored: the file could not be read"
    assert describe(_rec(role="keepers"))["role"] == "Keeper archive"

    panel = InfoPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_record(_rec(), "decode")
    shown = {k: v.text() for k, v in panel.values.items() if v.isVisibleTo(panel)}
    assert shown["source"] == "the full image"
    assert shown["decision"] == "Not decided yet"
    for text in shown.values():
        for word in DEVELOPER_WORDS:
            assert word not in text.replace("\u200b", "").split("/")[-1] or word == "none" and "Not" in text, (word, text)
    panel.show_record(_rec(), "some-new-source")  # a source without words is left out, never shown raw
    assert not panel.values["source"].isVisibleTo(panel)
    panel.show_record(_rec(), "raw-preview")
    assert panel.values["source"].text() == "the camera's preview inside the RAW file"


def test_times_read_plainly():
    assert taken_text({"taken_at": "2024-05-18T17:16:12.50+01:00"}) == "2024-05-18 17:16:12.5 +01:00"
    assert taken_text({"taken_at": "2024-05-18T17:16:12", "taken_offset": "-05:00"}) == "2024-05-18 17:16:12 -05:00"
    assert taken_text({"taken_at": "2024-05-18T17:16:12Z"}) == "2024-05-18 17:16:12 UTC"
    assert taken_text({"capture_time": 1_700_000_000}).endswith("(file time)")
    assert taken_text({}) == ""


def _image(pix):
    return pix.toImage().convertToFormat(pix.toImage().Format.Format_ARGB32)


def test_compare_shows_the_grids_badges(qtbot, library, conn, tmp_path):
    """A confirmed keeper's gold ★, a rejected one's hollow ☆, a technical failure's ⚠: compare's
    caption draws the grid's pill for the same state and says what the photo is."""
    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=4)
    with transaction(conn):
        keeper = conn.execute("INSERT INTO photos(path, role, size, mtime_ns, sha256)"
                              " VALUES ('/archive/best.jpg', 'keepers', 1, 1, 'k')").lastrowid
        conn.execute("UPDATE photos SET keeper_score = 0.0, base_score = 0.0, failure = 'black' WHERE id = ?",
                     (ids[1],))
    link(conn, keeper, ids[0], source="test")
    win = MainWindow(library, watch_inbox=False, remember=False)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    try:
        assert win.compare.start((ids[0], ids[1]), session_id=None)
        left, right = win.compare.left, win.compare.right
        assert "★ confirmed keeper" in left.caption.text()
        assert "⚠ technical failure: near-black frame" in right.caption.text()
        assert "R0000000.JPG" in left.title.text() and str(ids[0]) not in left.title.text().replace("R0000000", "")
        font = QFont(left.font())
        font.setBold(True)
        for side, row in ((left, 0), (right, 1)):
            rec, linked = win.model.record(row), row == 0
            want = record_pill(rec, linked, font, dpr=side.devicePixelRatioF())
            assert win.model.state(rec) == ("confirmed" if row == 0 else "failure")
            assert _image(side.pill.pixmap()) == _image(want)  # the grid's pill, drawn by the grid's code
        gold = record_pill(win.model.record(0), True, font)
        conn.execute("UPDATE photos SET decision = 'reject', base_score = keeper_score, keeper_score = 0.0"
                     " WHERE id = ?", (ids[0],))
        conn.commit()
        assert win.compare.start((ids[0], ids[2]), session_id=None)
        assert "☆ a confirmed keeper of your keeper archive" in left.caption.text() and "✖ reject" in left.caption.text()
        assert _image(left.pill.pixmap()) != _image(gold)  # no gold ★ on a rejected keeper
        assert "☆" not in right.caption.text() and "⚠" not in right.caption.text() and "★" not in right.caption.text()
    finally:
        win.close()


def test_the_model_panels_details_show_every_column(qtbot):
    from fluxcull.ui.panels import ModelPanel

    table = "Method                          AUC   Avg precision   Better of two   Top 10%   Top 20%   " \
            "Calibration error   Photos   Keepers"
    content = {"sentences": ["Of your keepers, the model puts 3 in 10 in its top 20%."], "tested_on": "Tested on:",
               "columns": ["Method", "Ranking (AUC)", "Better of two in a session", "Keepers in its top 20%"],
               "rows": [{"cells": ["gradient-boosted trees", "1.00", "100%", "100%"], "active": True, "baseline": False}],
               "table_text": "", "details": f"{table}\n{'-' * len(table)}\n" + "A sentence that wraps. " * 30}
    panel = ModelPanel(content)
    qtbot.addWidget(panel)
    panel.show()
    panel.details_button.setChecked(True)
    fm = panel.details_text.fontMetrics()
    assert panel.details_width() > fm.horizontalAdvance(table)  # room for the widest table row
    screen = panel.screen().availableGeometry().width()
    assert panel.width() >= min(panel.details_width(), screen - 40)  # within the screen
    assert panel.details_text.lineWrapMode() == panel.details_text.LineWrapMode.WidgetWidth  # sentences wrap
