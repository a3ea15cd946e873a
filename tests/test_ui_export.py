"""Library > Export decisions… in the window: the dialog (mirror folder by default, a warning before
writing beside the originals), the export on the job thread with its progress bar, the summary."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from fluxcull.ui.export import EXPORT_TITLE, ExportDialog, ExportSummary  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from tests.export_helpers import (KEEP_MARKS, build, checksums, decide, marks, mirror_of,  # noqa: E402
                                  read_back)


def test_export_decisions_from_the_library_menu(qtbot, shared_photos, library, tmp_path, capsys):
    lib = build(shared_photos, tmp_path, capsys)
    root, ids = lib["root"], lib["ids"]
    decide(capsys, "keep", ids["2008/a/Canon_40D.jpg"], ids["2008/b/Pentax_K10D.jpg"])
    decide(capsys, "reject", ids["2008/a/Nikon_D70.jpg"])
    sums = checksums(root)
    win = MainWindow(library, watch_inbox=False, remember=False)
    qtbot.addWidget(win)
    win.show()
    action = win.actions_by_name["export_xmp"]
    assert action.text() == "Export decisions…" and action in win.menuBar().actions()[0].menu().actions()
    action.trigger()
    dlg = win.dialog
    assert isinstance(dlg, ExportDialog) and dlg.isVisible()
    assert dlg.mirror_radio.isChecked() and dlg.destination() == "mirror"
    assert str(library.root / "export" / "xmp") in dlg.mirror_radio.text()
    assert not dlg.warning.isVisible()
    dlg.sidecar_radio.setChecked(True)  # beside the originals: said clearly before anything is written
    assert dlg.warning.isVisible() and "into your photo folders" in dlg.warning.text()
    dlg.mirror_radio.setChecked(True)
    assert not dlg.warning.isVisible()

    progress = []
    win.runner.progressed.connect(lambda p: progress.append((p.stage, p.done, p.total)))
    dlg.export_button.click()
    assert win.runner.has_queued(EXPORT_TITLE)
    qtbot.waitUntil(lambda: isinstance(win.dialog, ExportSummary), timeout=20000)
    assert win.runner.history[-1][:2] == (EXPORT_TITLE, "ok")
    assert progress and progress[-1] == ("export xmp", 3, 3)
    summary = win.runner.history[-1][2]
    assert (summary["written"], summary["destination"]) == (3, "mirror")
    text = win.dialog.text.text()
    assert "3 photos exported into" in text and "Written: 3 sidecars" in text
    assert not win.dialog.problems.isVisible()
    assert marks(read_back(mirror_of(library.root, root / "2008/a/Canon_40D.xmp"))) == KEEP_MARKS
    assert marks(read_back(mirror_of(library.root, root / "2008/a/Nikon_D70.xmp")))[0] == "-1"
    assert checksums(root) == sums  # the photo folders are untouched
    win.close()
