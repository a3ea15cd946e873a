"""Jobs in the app: the QThread worker adapter, retrain from the Model menu, the inbox watcher."""

from __future__ import annotations

import datetime as dt
import time

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QApplication  # noqa: E402

from fluxcull.catalog import Catalog  # noqa: E402
from fluxcull.jobs import Progress  # noqa: E402
from fluxcull.ui.panels import ModelPanel  # noqa: E402
from fluxcull.ui.inbox import InboxWatcher  # noqa: E402
from fluxcull.ui.background import INBOX_TITLE, RETRAIN_TITLE  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from fluxcull.ui.worker import JobRunner  # noqa: E402


def counting_job(n, cancel, delay=0.0):
    for i in range(n):
        cancel.check()
        if delay:
            time.sleep(delay)
        yield Progress("count", i + 1, n)
    return {"counted": n}


def test_worker_drives_a_job_and_reports_progress_and_summary(qtbot):
    runner = JobRunner()
    seen = []
    runner.progressed.connect(lambda p: seen.append((p.stage, p.done, p.total)))
    results = []
    with qtbot.waitSignal(runner.finished, timeout=10000) as sig:
        runner.submit("count", lambda cancel: counting_job(200, cancel), on_done=results.append)
    assert sig.args == ["count", "ok", {"counted": 200}]
    assert results == [{"counted": 200}]
    assert seen[-1] == ("count", 200, 200)
    assert len(seen) < 200  # throttled: a fast job does not flood the event loop
    assert runner.current is None and not runner.widget.isVisible()


def test_worker_cancel_and_failure_are_reported_and_the_queue_goes_on(qtbot):
    runner = JobRunner()
    outcomes = []
    runner.finished.connect(lambda title, outcome, payload: outcomes.append((title, outcome, payload)))

    def broken(cancel):
        yield Progress("x", 0, 1)
        raise ValueError("/photos/bad.jpg: truncated file")

    runner.submit("slow", lambda cancel: counting_job(10_000, cancel, delay=0.01))
    runner.submit("broken", broken)
    runner.submit("after", lambda cancel: counting_job(3, cancel))
    qtbot.waitUntil(lambda: runner.current is not None and runner.current.title == "slow", timeout=5000)
    qtbot.wait(50)
    runner.widget.cancel_button.click()
    qtbot.waitUntil(lambda: len(outcomes) == 3, timeout=10000)
    assert [(t, o) for t, o, _ in outcomes] == [("slow", "cancelled"), ("broken", "failed"), ("after", "ok")]
    assert "bad.jpg: truncated file" in outcomes[1][2]
    assert runner.current is None


@pytest.fixture
def trained_library(library, conn):
    modelgen = pytest.importorskip("modelgen")
    g = modelgen.build(library, conn, n=240, sessions=6, seed=4)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    library.set_setting(conn, "model.folds", "2")  # a small library: keep the evaluation quick
    return g


def test_retrain_from_the_menu_runs_in_a_worker_and_updates_scores(qtbot, library, conn, trained_library):
    ids = [int(i) for i in trained_library["ids"]]
    win = MainWindow(library, watch_inbox=False)
    qtbot.addWidget(win)
    win.show()
    win.set_source({"label": "Originals", "role": "originals", "session_id": None})
    assert win.model.record(0)["keeper_score"] is None or win.model.record(0)["keeper_score"] == 1.0
    win.actions_by_name["retrain"].trigger()
    assert win.runner.current is not None and win.runner.current.title == RETRAIN_TITLE
    assert win.runner.current.isRunning()  # the GUI thread is free while it trains
    qtbot.waitUntil(lambda: not win.runner.busy(), timeout=180000)
    assert win.runner.history[-1][:2] == (RETRAIN_TITLE, "ok"), win.runner.history[-1]
    scores = dict(conn.execute("SELECT id, keeper_score FROM photos"))
    assert all(scores[i] is not None for i in ids)
    assert [win.model.record(r)["keeper_score"] for r in range(5)] == [scores[win.model.photo_id(r)] for r in range(5)]
    assert isinstance(win.dialog, ModelPanel) and win.dialog.table.rowCount() >= 4
    assert "in use now" in win.dialog.summary.text()

    # a decision is training data: after the next retrain the rejected photo scores 0 in the grid
    win.filters.sort_combo.setCurrentIndex(1)  # score, highest first
    row = next(r for r in range(win.model.rowCount()) if (win.model.record(r)["keeper_score"] or 0) < 1.0)
    target = win.model.photo_id(row)
    win.set_current_row(row)
    win.grid.setFocus()
    win.decide("reject")
    qtbot.waitUntil(win.writer.idle, timeout=5000)
    win.actions_by_name["retrain"].trigger()
    qtbot.waitUntil(lambda: not win.runner.busy(), timeout=180000)
    assert win.runner.history[-1][:2] == (RETRAIN_TITLE, "ok")
    assert isinstance(win.dialog, ModelPanel)
    assert "v1" in win.dialog.summary.text()  # the new model judged against the previous one
    new_row = win.model.row_of(target)
    assert win.model.record(new_row)["keeper_score"] == 0.0
    win.close()
    assert win.runner.current is None


def test_inbox_watcher_reports_new_stable_files_only(qtbot, library, conn, tmp_path):
    from photogen import write_jpeg

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    known = inbox / "known.jpg"
    write_jpeg(known, seed=1)
    st = known.stat()
    conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES (?, 'inbox', ?, ?)",
                 (str(known), st.st_size, st.st_mtime_ns))
    w = InboxWatcher(Catalog(conn), inbox, debounce_ms=50, rescan_ms=60000)
    try:
        w.start()
        (inbox / "sub").mkdir()
        new = inbox / "sub" / "R0000001.JPG"
        with qtbot.waitSignal(w.arrived, timeout=10000) as sig:
            write_jpeg(new, seed=2)
        assert sig.args == [[str(new)]]
        (inbox / "notes.txt").write_text("not a photo")
        assert w.scan() == [] and w.scan() == []  # reported once; text files ignored
        growing = inbox / "growing.jpg"
        growing.write_bytes(b"\xff\xd8partial")
        assert w.scan() == []  # first look: still settling
        growing.write_bytes(b"\xff\xd8partial, then more")
        assert w.scan() == []  # changed since: still settling
        assert w.scan() == [str(growing)]
    finally:
        w.stop()
    assert not w.active()


def test_inbox_watcher_in_the_window_ingests_a_new_photo(qtbot, library, conn, tmp_path):
    pytest.importorskip("fluxcull.ingest")
    from photogen import write_jpeg

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    library.set_setting(conn, "inbox_dir", str(inbox))
    win = MainWindow(library, watch_inbox=True, inbox_debounce_ms=100)
    qtbot.addWidget(win)
    win.show()
    assert win.inbox_watcher is not None and win.inbox_watcher.active()
    photo = inbox / "R0001234.JPG"
    write_jpeg(photo, seed=7, taken=dt.datetime(2024, 5, 3, 14, 10, 0))
    qtbot.waitUntil(lambda: any(t == INBOX_TITLE for t, *_ in win.runner.history), timeout=120000)
    title, outcome, summary = next(h for h in win.runner.history if h[0] == INBOX_TITLE)
    assert outcome == "ok", summary
    assert summary["ingest"]["added"] == 1
    row = conn.execute("SELECT id, role, thumb_key FROM photos WHERE path = ?", (str(photo),)).fetchone()
    assert row is not None and row["role"] == "inbox" and row["thumb_key"]
    assert row["id"] in win.model.ids  # the grid shows it
    win.close()
    assert not win.inbox_watcher.active() and win.runner.current is None
    QApplication.processEvents()
