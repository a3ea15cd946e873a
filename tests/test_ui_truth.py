"""The culling window tells the truth: a rejected confirmed keeper is warned about and shown as what
it is, scores, states and counts follow every keep / reject / undo at once, a technical failure is
no low score, and files that failed to ingest are listed with their reasons."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from fluxcull.catalog import transaction  # noqa: E402
from fluxcull.catalog.keeper_links import link  # noqa: E402
from fluxcull.ui.background import INBOX_TITLE  # noqa: E402
from fluxcull.ui.mainwindow import MainWindow  # noqa: E402
from fluxcull.ui.model import BandRole, ConfirmedRole  # noqa: E402
from uigen import fill_catalog  # noqa: E402


def _open(qtbot, library, **kw):
    win = MainWindow(library, watch_inbox=kw.pop("watch_inbox", False), **kw)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    win.grid.setFocus()
    return win


def press(qtbot, win, key, modifier=Qt.NoModifier, widget=None):
    qtbot.keyClick(widget or win.grid, key, modifier)
    qtbot.waitUntil(lambda: win.writer.idle() and win.reader.idle(), timeout=5000)


def _status_says(qtbot, win, text):
    qtbot.waitUntil(lambda: text in win.status.counts_label.text(), timeout=3000)


def _score(conn, pid):
    return conn.execute("SELECT keeper_score FROM photos WHERE id = ?", (pid,)).fetchone()[0]


def _keepers_cell(win, session_id):
    """The Keepers column of a session's row in the source list."""
    item = win.sessions._items.get(("originals", session_id))
    return item.text(3) if item is not None else None


@pytest.fixture
def linked(library, conn, tmp_path):
    """Two sessions of six originals; the first photo is linked from the keeper archive."""
    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=2, per_session=6)
    with transaction(conn):
        keeper = conn.execute("INSERT INTO photos(path, role, size, mtime_ns, sha256)"
                              " VALUES ('/archive/best.jpg', 'keepers', 1, 1, 'k')").lastrowid
    link(conn, keeper, ids[0], source="test")
    return ids


def test_rejecting_a_confirmed_keeper_warns_and_every_view_follows_keep_reject_undo(qtbot, library, conn, linked):
    ids = linked
    sid = conn.execute("SELECT session_id FROM photos WHERE id = ?", (ids[0],)).fetchone()[0]
    win = _open(qtbot, library)
    try:
        win.set_auto_advance(False)
        qtbot.waitUntil(lambda: _keepers_cell(win, sid) == "17%", timeout=5000)
        _status_says(qtbot, win, "✔ 1 keeper (0 kept here)")  # the confirmed keeper counts
        from fluxcull.ui.model import StateRole

        assert win.model.index(0).data(StateRole) == "confirmed"

        press(qtbot, win, Qt.Key_X)  # reject the confirmed keeper
        notice = win.status.message_label.text()
        assert "confirmed keeper" in notice and "Ctrl+Z" in notice
        ix = win.model.index(0)
        assert ix.data(StateRole) == "rejected_keeper" and not ix.data(ConfirmedRole)
        assert ix.data(BandRole) == "low" and win.model.record(0)["keeper_score"] == 0.0  # no gold ★ 0.00
        assert _score(conn, ids[0]) == 0.0  # the decision's score, without a re-score
        _status_says(qtbot, win, "✔ 0 keepers (0 kept here)")
        qtbot.waitUntil(lambda: _keepers_cell(win, sid) == "0%", timeout=5000)
        tip = ix.data(Qt.ToolTipRole)
        assert "score 0.000" in tip and "confirmed keeper" in tip

        win.show_loupe(0)
        caption = win.loupe.caption.text()
        assert "score 0.00" in caption and "REJECT" in caption and "confirmed keeper" in caption
        win.show_grid()

        press(qtbot, win, Qt.Key_Z, Qt.ControlModifier)  # undo: the star is back at once
        ix = win.model.index(0)
        assert ix.data(StateRole) == "confirmed" and ix.data(BandRole) == "confirmed"
        assert win.model.record(0)["keeper_score"] == 1.0 and _score(conn, ids[0]) == 1.0
        _status_says(qtbot, win, "✔ 1 keeper (0 kept here)")
        qtbot.waitUntil(lambda: _keepers_cell(win, sid) == "17%", timeout=5000)

        win.set_current_row(2)
        press(qtbot, win, Qt.Key_P)  # a marked keep is kept, not confirmed
        ix = win.model.index(2)
        assert ix.data(StateRole) == "kept" and not ix.data(ConfirmedRole)
        assert _score(conn, ids[2]) == 1.0
        _status_says(qtbot, win, "✔ 2 keepers (1 kept here)")
        win.show_loupe(2)
        assert win.loupe.info.values["score"].text().startswith("1.00 — Kept")
        assert "Confirmed" not in win.loupe.info.values["score"].text()
        win.show_loupe(0)
        assert "Confirmed keeper" in win.loupe.info.values["score"].text()
        win.show_grid()
        win.set_current_row(2)
        press(qtbot, win, Qt.Key_U)  # cleared: its own score again, at once
        assert win.model.record(2)["keeper_score"] == pytest.approx(0.74)
        _status_says(qtbot, win, "✔ 1 keeper (0 kept here)")
    finally:
        win.close()


def test_a_technical_failure_is_no_low_score(qtbot, library, conn, tmp_path):
    from fluxcull.ui.model import StateRole

    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=4)
    with transaction(conn):
        conn.execute("UPDATE photos SET keeper_score = 0.0, base_score = 0.0, failure = 'black' WHERE id = ?", (ids[1],))
        conn.execute("UPDATE photos SET keeper_score = 0.03, base_score = 0.03 WHERE id = ?", (ids[2],))
    win = _open(qtbot, library)
    try:
        failed, low = win.model.index(1), win.model.index(2)
        assert failed.data(StateRole) == "failure" and low.data(StateRole) == "low"
        assert "⚠ technical failure: near-black frame" in failed.data(Qt.ToolTipRole)
        assert "⚠" not in low.data(Qt.ToolTipRole) and "Probable non-keeper" in low.data(Qt.ToolTipRole)
        win.grid.grab()  # paints the failure's pill
        win.show_loupe(1)
        assert "⚠ technical failure: near-black frame" in win.loupe.caption.text()
        assert "near-black frame" in win.loupe.info.values["score"].text()
        win.show_loupe(2)
        assert "⚠" not in win.loupe.caption.text()
    finally:
        win.close()


def test_an_inbox_file_that_fails_to_ingest_is_announced_and_listed_under_problems(qtbot, library, conn, tmp_path):
    pytest.importorskip("fluxcull.ingest")
    fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=3)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    library.set_setting(conn, "inbox_dir", str(inbox))
    win = _open(qtbot, library, watch_inbox=True, inbox_debounce_ms=100)
    try:
        (inbox / "R0009999.JPG").write_bytes(b"")  # a card read that went wrong
        qtbot.waitUntil(lambda: any(t == INBOX_TITLE for t, *_ in win.runner.history), timeout=120000)
        qtbot.waitUntil(lambda: "could not be read" in win.status.message_label.text(), timeout=5000)
        notice = win.status.message_label.text()
        assert "R0009999.JPG" in notice and "Problems" in notice
        button = win.filters.problems_button
        assert button.isEnabled() and "(1)" in button.text()
        assert win.catalog.problems()[0]["path"] == str(inbox / "R0009999.JPG")
        button.click()
        qtbot.waitUntil(lambda: win.model.rowCount() == 1, timeout=5000)
        rec = win.model.record(0)
        assert rec["status"] == "error" and rec["path"].endswith("R0009999.JPG")
        tip = win.model.index(0).data(Qt.ToolTipRole)
        assert "could not be read" in tip and rec["error"] in tip
        win.grid.grab()  # paints the reason where the thumbnail would be
        win.show_loupe(0)
        assert rec["error"] in win.loupe.caption.text()
        win.show_grid()
        button.click()
        qtbot.waitUntil(lambda: win.model.rowCount() == 3, timeout=5000)
    finally:
        win.close()


def test_a_new_inbox_folder_holding_a_copy_takes_over_the_rows_instead_of_doubling_them(qtbot, library, conn, tmp_path):
    pytest.importorskip("fluxcull.ingest")
    import shutil

    from ingest_helpers import ingest, make_shoot

    from fluxcull.catalog import Catalog

    old, new = tmp_path / "card" / "INBOX", tmp_path / "disk" / "INBOX"
    make_shoot(old, n=4)
    library.set_setting(conn, "inbox_dir", str(old))
    ingest(library, [old], role="inbox")
    shutil.copytree(old, new)  # byte-identical, under a new path
    (old / "R0000003.JPG").unlink()
    make_shoot(old, n=1, seed0=3)  # the same name, other bytes: not in the copy
    ingest(library, [old], role="inbox")
    before = {r["path"].rsplit("/", 1)[-1]: r["id"] for r in conn.execute(
        "SELECT id, path FROM photos WHERE role = 'inbox' AND status = 'ok'")}
    assert len(before) == 4
    Catalog(conn).decide([before["R0000001.JPG"]], "reject", "test")
    with transaction(conn):
        conn.execute("UPDATE photos SET keeper_score = 0.66 WHERE id = ?", (before["R0000002.JPG"],))

    win = _open(qtbot, library, watch_inbox=True, inbox_debounce_ms=100)
    try:
        win.open_settings()
        win.dialog.fields["inbox_dir"].edit.setText(str(new))
        win.dialog._save()
        qtbot.waitUntil(lambda: any(t == INBOX_TITLE for t, *_ in win.runner.history), timeout=120000)
        qtbot.wait(1500)  # the watcher of the new folder has looked at it meanwhile
        qtbot.waitUntil(lambda: win.runner.current is None, timeout=120000)
        rows = conn.execute("SELECT id, path, status, error, decision, keeper_score FROM photos"
                            " WHERE role = 'inbox'").fetchall()
        shown = {r["path"]: r for r in rows if r["status"] == "ok"}
        assert sorted(shown) == sorted(str(new / n) for n in before)  # 4, not 8
        by_name = {p.rsplit("/", 1)[-1]: r for p, r in shown.items()}
        for name in ("R0000000.JPG", "R0000001.JPG", "R0000002.JPG"):  # re-pointed: the same rows
            assert by_name[name]["id"] == before[name]
        assert by_name["R0000001.JPG"]["decision"] == "reject"
        assert by_name["R0000002.JPG"]["keeper_score"] == pytest.approx(0.66)
        left = [r for r in rows if r["status"] != "ok"]  # the old folder's other photo: set aside, said why
        assert [r["path"] for r in left] == [str(old / "R0000003.JPG")]
        assert "outside the library's folders" in left[0]["error"]
        assert win.model.rowCount() == 4 and set(win.model.ids) == {r["id"] for r in shown.values()}
        assert "found again" in win.status.message_label.text()
    finally:
        win.close()
