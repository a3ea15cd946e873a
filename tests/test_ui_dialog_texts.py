"""Every dialog the window shows speaks to a photographer: on a small trained library, the visible
text of the explanation, the model panel, the retrain result, settings, About and compare's
messages holds no raw report (`{"`) and no dotted metric key (`table.`)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import (QAbstractButton, QApplication, QComboBox, QLabel, QLineEdit,  # noqa: E402
                               QPlainTextEdit, QTableWidget)

from fluxcull import workflows  # noqa: E402
from fluxcull.jobs import run_job  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from fluxcull.ui.panels import ExplainPanel, ModelPanel  # noqa: E402

FORBIDDEN = ('{"', "table.")


def visible_text(dialog) -> list[str]:
    """Every text of a dialog a person can read, with its Details shown."""
    for b in dialog.findChildren(QAbstractButton):
        if b.text() == "Details" and b.isCheckable():
            b.setChecked(True)
    out = [dialog.windowTitle()]
    for w in dialog.findChildren(QLabel):
        out.append(w.text())
    for w in dialog.findChildren(QAbstractButton):
        out += [w.text(), w.toolTip()]
    for w in dialog.findChildren(QPlainTextEdit):
        out.append(w.toPlainText())
    for w in dialog.findChildren(QLineEdit):
        out.append(w.text())
    for w in dialog.findChildren(QComboBox):
        out += [w.itemText(i) for i in range(w.count())]
    for t in dialog.findChildren(QTableWidget):
        out += [t.horizontalHeaderItem(c).text() for c in range(t.columnCount()) if t.horizontalHeaderItem(c)]
        out += [t.item(r, c).text() for r in range(t.rowCount()) for c in range(t.columnCount()) if t.item(r, c)]
    return [t for t in out if t]


def assert_plain(name: str, texts: list[str]) -> None:
    for t in texts:
        for bad in FORBIDDEN:
            assert bad not in t, f"{name} shows {bad!r}: {t[:300]}"


@pytest.fixture
def trained(library, conn):
    modelgen = pytest.importorskip("modelgen")
    g = modelgen.build(library, conn, n=240, sessions=6, seed=4)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    library.set_setting(conn, "model.folds", "2")
    summary = run_job(workflows.retrain_job(library))
    return g, summary


def test_no_dialog_shows_a_raw_report_or_a_dotted_key(qtbot, library, conn, trained):
    g, summary = trained
    win = MainWindow(library, watch_inbox=False)
    qtbot.addWidget(win)
    win.show()
    said = []
    flash = win.status.flash
    win.status.flash = lambda text, ms=4000: (said.append(text), flash(text, ms))

    # the retrain result and the model panel
    win.jobs._after_retrain(summary)
    assert isinstance(win.dialog, ModelPanel)
    assert_plain("the retrain result", visible_text(win.dialog))
    report = workflows.model_report(library)
    win.show_dialog(ModelPanel(workflows.model_quality(report), "Model quality", win))
    texts = visible_text(win.dialog)
    assert_plain("the model panel", texts)
    assert any("in its top 20%" in t for t in texts)

    # the explanation: words, then the nearest keepers as buttons that go to the photo
    pid = int(g["ids"][~g["keeper"]][3])
    win.jobs.show_explanation(workflows.explain_photo(library, pid))
    dlg = win.dialog
    assert isinstance(dlg, ExplainPanel)
    texts = visible_text(dlg)
    assert_plain("the explanation", texts)
    assert any("Set by the keeper model" in t for t in texts)
    assert dlg.keeper_buttons
    target = dlg.view["nearest"][0]["id"]
    dlg.keeper_buttons[0].click()
    qtbot.waitUntil(lambda: win.current_photo_id() == target, timeout=5000)

    # settings and About
    win.open_settings()
    assert_plain("settings", visible_text(win.dialog))
    win.show_about()
    assert_plain("About", visible_text(win.dialog))
    win.dialog.close()

    # compare's messages
    sid = int(g["sids"][0])
    win.set_source({"label": "s", "role": "originals", "session_id": sid})
    qtbot.waitUntil(lambda: win.model.complete and win.reader.idle(), timeout=5000)
    win.grid.selectionModel().clearSelection()
    if win.start_compare():
        for _ in range(4):
            if win.compare.pair is None:
                break
            win.compare.choose("right")
            qtbot.waitUntil(lambda: win.writer.idle(), timeout=5000)
        captions = [win.compare.left.caption.text(), win.compare.right.caption.text()]
        assert_plain("compare", captions)
    assert said
    assert_plain("compare's messages", said)
    assert not any("#" in t for t in said)
    win.close()
    QApplication.processEvents()
