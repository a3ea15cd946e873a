"""The Drafts view (Model ▸ Issue drafts…): the drafts, the chosen one as a strip of thumbnails in
order; reorder (drag, Ctrl+←/→, buttons), take out, swap for an alternative, apply a sequence
suggestion, approve, re-open, export; each change saved in the catalog and its history."""

from __future__ import annotations

import csv

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QModelIndex, Qt  # noqa: E402

import insightgen  # noqa: E402
from fluxcull.catalog import Catalog, transaction  # noqa: E402
from fluxcull.catalog import drafts as store_drafts  # noqa: E402
from fluxcull.embedding.store import current_store  # noqa: E402
from fluxcull.insights.draft import propose  # noqa: E402
from fluxcull.ui.drafts import DraftsDialog  # noqa: E402
from uigen import solid_thumb  # noqa: E402


@pytest.fixture
def drafted(library, conn):
    """A library of bursts with two drafts (the newest of 9 photos, with thumbnails on disk)."""
    g = insightgen.build(library, conn, sessions=3)
    store = current_store(library, conn)
    first = propose(conn, store, size=4, min_score=0.5)["draft"]
    newest = propose(conn, store, size=9, min_score=0.5)["draft"]
    with transaction(conn):
        for k, pid in enumerate(store_drafts.order(conn, newest)):
            conn.execute("UPDATE photos SET thumb_key = ? WHERE id = ?", (f"t{pid}", pid))
            solid_thumb(library, f"t{pid}", colour=(40 + 20 * k, 90, 160 - 10 * k))
    return {"g": g, "first": first, "newest": newest}


@pytest.fixture
def view(qtbot, library, drafted):
    catalog = Catalog.open(library.catalog_path)
    dlg = DraftsDialog(library, catalog)
    qtbot.addWidget(dlg)
    dlg.show()
    settle(qtbot, dlg)
    yield dlg
    dlg.close()
    assert not dlg.worker.alive()
    catalog.close()


def settle(qtbot, dlg):
    qtbot.waitUntil(lambda: not dlg.busy(), timeout=20000)
    qtbot.wait(20)


def test_lists_the_drafts_and_shows_the_newest_as_a_strip(qtbot, view, drafted, conn):
    assert [view.list.item(r).data(Qt.UserRole) for r in range(view.list.count())] == \
        [drafted["newest"], drafted["first"]]
    assert "proposed" in view.list.item(0).text() and "9 photos" in view.list.item(0).text()
    assert view.strip.ids() == store_drafts.order(conn, drafted["newest"])
    assert view.strip.item(0).text().startswith("1. 0")
    qtbot.waitUntil(view.thumbs.idle, timeout=10000)
    assert not view.strip.item(0).icon().isNull()
    key = view.strip.item(0).data(Qt.UserRole + 1)
    assert view.thumbs.loader.pixmap(key) is not None  # read off the GUI thread into the cache
    assert [view.history.item(r).text().split()[-1] for r in range(view.history.count())] == ["proposed"]
    # the suggestions side by side, each with its reasons
    assert view.suggest.modes() == ["chronological", "flow", "bookends"]
    panel = view.suggest.panel("flow")
    assert panel.reasons.count() == 8 and panel.strip.count() == 9
    assert "score" in panel.title.text()
    # choosing the older draft shows it
    view.list.setCurrentRow(1)
    settle(qtbot, view)
    assert view.draft["id"] == drafted["first"] and view.strip.count() == 4


def test_reorder_by_keys_buttons_and_drag(qtbot, view, drafted, conn):
    did = drafted["newest"]
    before = store_drafts.order(conn, did)
    view.strip.setCurrentRow(0)
    view.strip.setFocus()
    qtbot.keyClick(view.strip, Qt.Key_Right, Qt.ControlModifier)
    settle(qtbot, view)
    after = [before[1], before[0], *before[2:]]
    assert store_drafts.order(conn, did) == after and view.strip.ids() == after
    assert view.strip.current_id() == before[0]
    view.right_button.click()
    settle(qtbot, view)
    assert store_drafts.order(conn, did)[:3] == [before[1], before[2], before[0]]
    # a drag within the strip moves the row: what a drop does to the model
    view.strip.model().moveRow(QModelIndex(), 8, QModelIndex(), 0)
    settle(qtbot, view)
    order = store_drafts.order(conn, did)
    assert order[0] == before[8] and sorted(order) == sorted(before)
    kinds = [e["kind"] for e in store_drafts.history(conn, did)]
    assert kinds == ["proposed", "reordered", "reordered", "reordered"]
    assert view.history.count() == 4


def test_take_out_swap_and_apply_a_suggestion(qtbot, view, drafted, conn):
    did = drafted["newest"]
    before = store_drafts.order(conn, did)
    view.strip.setCurrentRow(2)
    settle(qtbot, view)
    view.strip.setFocus()
    qtbot.keyClick(view.strip, Qt.Key_Delete)
    settle(qtbot, view)
    assert store_drafts.order(conn, did) == before[:2] + before[3:]
    assert "taken out of the draft" in view.said.text() and view.strip.count() == 8

    view.strip.setCurrentRow(0)
    settle(qtbot, view)
    assert view.alternatives and view.alt_strip.count() == len(view.alternatives)
    assert view.swap_button.isEnabled() and "Alternatives for" in view.alt_title.text()
    alt = view.alternatives[0]
    assert alt["photo_id"] not in before
    view.swap_button.click()
    settle(qtbot, view)
    now = store_drafts.order(conn, did)
    assert now[0] == alt["photo_id"] and now[1:] == before[1:2] + before[3:]
    assert view.strip.current_id() == alt["photo_id"]

    panel = view.suggest.panel("bookends")
    s = panel.suggestion
    if s["order"] == now:  # already the draft's order: take another
        panel = view.suggest.panel("flow")
        s = panel.suggestion
    assert panel.apply_button.isEnabled()
    panel.apply_button.click()
    settle(qtbot, view)
    assert store_drafts.order(conn, did) == s["order"]
    last = store_drafts.history(conn, did)[-1]
    assert last["kind"] == "sequenced" and last["detail"]["mode"] == s["mode"]
    assert "order applied" in view.said.text()
    assert not view.suggest.panel(s["mode"]).apply_button.isEnabled()  # the draft's order now


def test_approve_locks_reopen_unlocks_and_export(qtbot, view, drafted, conn, tmp_path):
    did = drafted["newest"]
    view.approve_button.click()
    settle(qtbot, view)
    assert store_drafts.draft(conn, did)["status"] == "approved"
    assert not view.strip.editable and not view.approve_button.isEnabled() and view.reopen_button.isEnabled()
    assert not view.remove_button.isEnabled() and not view.suggest.panel("flow").apply_button.isEnabled()
    before = store_drafts.order(conn, did)
    view.strip.setCurrentRow(0)
    assert not view.move(1)  # nothing moves in an approved draft
    view.remove(before[0])   # the catalog refuses, and the view says why
    settle(qtbot, view)
    assert store_drafts.order(conn, did) == before and "re-open it first" in view.said.text()

    sheet = tmp_path / "draft.csv"
    view.export_to("csv", str(sheet))
    settle(qtbot, view)
    assert [int(r["photo_id"]) for r in csv.DictReader(sheet.open())] == before
    assert f"written to {sheet}" in view.said.text()
    pdf = tmp_path / "sheet.pdf"
    view.export_to("pdf", str(pdf))
    settle(qtbot, view)
    assert pdf.read_bytes().startswith(b"%PDF-") and f"written to {pdf}" in view.said.text()
    assert view.alternatives and not view.swap_button.isEnabled()  # shown, but nothing swaps in an approved draft

    view.reopen_button.click()
    settle(qtbot, view)
    assert store_drafts.draft(conn, did)["status"] == "proposed" and view.strip.editable
    assert [e["kind"] for e in store_drafts.history(conn, did)][-2:] == ["approved", "reopened"]


def test_opened_from_the_model_menu(qtbot, library, drafted):
    from fluxcull.ui.mainwindow import MainWindow

    win = MainWindow(library, watch_inbox=False, remember=False)
    qtbot.addWidget(win)
    win.show()
    menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Model")
    assert "Issue drafts…" in [a.text() for a in menu.actions()]
    win.actions_by_name["drafts"].trigger()
    dlg = win.dialog
    assert isinstance(dlg, DraftsDialog) and dlg.isVisible() and not dlg.isModal()
    settle(qtbot, dlg)
    assert dlg.draft["id"] == drafted["newest"]
    win.close()
    assert dlg.closed and not dlg.worker.alive()


def test_no_drafts_says_how_to_make_one_and_new_draft_proposes_it(qtbot, library, conn):
    insightgen.build(library, conn, sessions=1)
    catalog = Catalog.open(library.catalog_path)
    dlg = DraftsDialog(library, catalog)
    qtbot.addWidget(dlg)
    assert dlg.draft is None and "New draft" in dlg.header.text() and "fluxcull draft" in dlg.header.text()
    assert dlg.strip.count() == 0 and dlg.new_button.isEnabled()
    assert not any(b.isEnabled() for b in (dlg.approve_button, dlg.export_button, dlg.left_button, dlg.right_button,
                                           dlg.remove_button, dlg.swap_button))  # nothing to act on
    dlg.propose(size=500, min_score=0.5)  # more than there are
    qtbot.waitUntil(lambda: dlg.said.text().startswith("No draft"), timeout=20000)
    assert "500 needed" in dlg.said.text() and dlg.draft is None
    assert "500 needed" in dlg.header.text()  # at the top too, beside the button
    dlg.propose(size=3, min_score=0.5)
    qtbot.waitUntil(lambda: dlg.draft is not None, timeout=20000)
    settle(qtbot, dlg)
    assert dlg.said.text().startswith(f"Draft {dlg.draft['id']} proposed: 3 photos")
    assert dlg.strip.count() == 3 and dlg.approve_button.isEnabled() and dlg.left_button.isEnabled()
    assert [d["id"] for d in store_drafts.list_drafts(conn)] == [dlg.draft["id"]]  # stored, as `fluxcull draft` does
    dlg.close()
    catalog.close()


def test_the_new_draft_dialog_asks_what_fluxcull_draft_does(qtbot):
    from fluxcull.ui.draft_new import NewDraftDialog

    dlg = NewDraftDialog()
    qtbot.addWidget(dlg)
    assert dlg.values() == {"size": 36, "min_score": 0.8, "exclude_used": False}  # the command's defaults
    dlg.size.setValue(12)
    dlg.min_score.setValue(0.65)
    dlg.exclude_used.setChecked(True)
    assert dlg.values() == {"size": 12, "min_score": 0.65, "exclude_used": True}
