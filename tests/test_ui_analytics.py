"""Library ▸ Analytics: every plot drawn off the GUI thread and shown, the chooser switching between
them, and the taste-drift table (the feature that moved first, in gold; too few recent decisions said)."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")

from fluxcull import insight_workflows  # noqa: E402
from fluxcull.ui.analytics import AnalyticsDialog, open_analytics  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402


@pytest.fixture
def window(qtbot, library, drifted):
    win = MainWindow(library, watch_inbox=False, remember=False)
    qtbot.addWidget(win)
    yield win
    win.shutdown()


def test_the_menu_opens_the_window_with_a_plot_and_the_drift_table(qtbot, window, monkeypatch):
    threads = []
    draw = insight_workflows.analytics_plot

    def spy(*a, **kw):
        threads.append(threading.current_thread())
        return draw(*a, **kw)

    monkeypatch.setattr(insight_workflows, "analytics_plot", spy)
    window.actions_by_name["analytics"].trigger()
    dlg = window.dialog
    assert isinstance(dlg, AnalyticsDialog) and dlg.windowTitle() == "Analytics"
    qtbot.waitUntil(dlg.loaded, timeout=60000)
    assert threads and all(t is not threading.main_thread() for t in threads)   # drawn off the GUI thread
    keys = [dlg.chooser.itemData(i) for i in range(dlg.chooser.count())]
    assert keys == ["hour", "month", "year", "place", "session_length", "motifs"]
    assert dlg.chooser.itemText(5) == "Motif frequency over time"
    pix = dlg.plot.pixmap()
    assert not pix.isNull() and pix.width() > 300 and pix.height() > 150
    first = dlg.images["hour"]
    assert first.width() >= 800 and first.pixelColor(first.width() // 2, 5).lightness() > 200   # a white chart

    feats = dlg.features
    from fluxcull.embedding.features import FEATURE_NAMES
    from fluxcull.insights.drift import LEFT_OUT

    assert feats.isVisible() and feats.rowCount() == len(FEATURE_NAMES) - len(LEFT_OUT) == 31
    head = [feats.horizontalHeaderItem(c).text() for c in range(feats.columnCount())]
    assert head[:3] == ["feature", "recent AUC", "archive AUC"]
    assert feats.item(0, 0).text() == "brightness" and feats.item(0, 3).text().startswith("-0.")
    assert feats.item(0, head.index("keepers against the other photos")).text() == \
        "recent keepers darker, archive keepers brighter"
    assert feats.item(0, 0).foreground().color().name() == "#f2c230"   # moved clearly
    assert feats.item(1, 0).foreground().color().name() != "#f2c230"
    assert "brightness (now lower)" in dlg.drift_summary.text()
    assert not dlg.motifs.isVisible()   # no motifs stored

    for i, key in enumerate(keys[1:], 1):
        dlg.chooser.setCurrentIndex(i)
        qtbot.waitUntil(lambda: key in dlg.images or key in dlg.errors, timeout=60000)
        assert key not in dlg.errors, dlg.errors
        assert not dlg.plot.pixmap().isNull()
    assert len(threads) == 6
    dlg.chooser.setCurrentIndex(0)   # drawn once: shown again without drawing
    assert len(threads) == 6 and dlg.plot.pixmap().width() > 300
    before = dlg.images["hour"].width()
    dlg.resize(dlg.width() + 600, dlg.height())   # a room clearly wider: drawn again for it, not blurred
    qtbot.waitUntil(lambda: "hour" in dlg.images and dlg.images["hour"].width() > before * 1.3, timeout=60000)
    assert len(threads) == 7 and dlg.images["hour"].width() == dlg.plot.width()
    dlg.reject()
    assert not dlg.isVisible()


def test_too_few_recent_decisions_are_said_in_the_window(qtbot, window, conn):
    conn.execute("INSERT INTO settings(key, value) VALUES ('drift.recent_months', '1')")
    conn.commit()
    dlg = open_analytics(window)
    assert window.dialog is dlg
    qtbot.waitUntil(dlg.loaded, timeout=60000)
    assert dlg.drift_summary.text().startswith("Not enough recent decisions to compare tastes")
    assert not dlg.tables.isVisible() and not dlg.features.isVisible() and dlg.drift_error is None


def test_the_recency_and_drift_settings_are_in_library_settings(qtbot):
    from fluxcull.catalog.settings import declared
    from fluxcull.ui.settings import make_field

    recency = make_field(declared("training.recency_half_life_months"), 0)
    assert recency.specialValueText() == "off" and recency.text() == "off"   # 0 says what it means
    assert make_field(declared("worker_threads"), 0).specialValueText() == "automatic"
    months = make_field(declared("drift.recent_months"), 12)
    assert months.value() == 12 and months.minimum() == 1 and months.specialValueText() == ""
