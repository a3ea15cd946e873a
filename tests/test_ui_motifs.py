"""Library ▸ Motifs… and Library ▸ Rediscover…: the stored motifs listed with their mosaics, a name
edited and kept in the catalog, a motif clicked shows exactly its photos in the main grid; with no
motif stored the window says how to make them and finds them in the background; the rediscovery
proposals by session, each session (or all) shown in the grid."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

import insightgen  # noqa: E402
from fluxcull.catalog import motif_store, transaction  # noqa: E402
from fluxcull.embedding.store import current_store  # noqa: E402
from fluxcull.insights.motifs import cluster  # noqa: E402
from fluxcull.insights.rediscover import rediscover  # noqa: E402
from fluxcull.ui.motifs import EMPTY_TEXT, NAME_COLUMN, MotifsDialog  # noqa: E402
from fluxcull.ui.rediscover import RediscoverDialog  # noqa: E402
from uigen import solid_thumb  # noqa: E402


@pytest.fixture
def kept(library, conn):
    """insightgen's bursts with every frame of the recurring scenes kept (three motifs to find), a
    thumbnail on disk for every photo."""
    g = insightgen.build(library, conn, sessions=4)
    insightgen.keep(conn, g["ids"][g["motif"] >= 0])
    with transaction(conn):
        for k, pid in enumerate(g["ids"].tolist()):
            conn.execute("UPDATE photos SET thumb_key = ? WHERE id = ?", (f"t{pid}", pid))
    for k, pid in enumerate(g["ids"].tolist()[:40]):
        solid_thumb(library, f"t{pid}", colour=(40 + 5 * k, 90, 160))
    return g


def grid_ids(win) -> list[int]:
    return [win.model.photo_id(r) for r in range(win.model.rowCount())]


def settle(qtbot, dlg):
    qtbot.waitUntil(lambda: not dlg.busy(), timeout=60000)
    qtbot.wait(20)


def test_motifs_listed_renamed_and_shown_in_the_grid(qtbot, open_window, library, conn, kept):
    made = cluster(conn, current_store(library, conn), min_size=5)["motifs"]
    assert len(made) == 3
    win = open_window()
    win.actions_by_name["motifs"].trigger()
    dlg = win.dialog
    assert isinstance(dlg, MotifsDialog) and dlg.windowTitle() == "Motifs"
    settle(qtbot, dlg)
    t = dlg.table
    assert t.rowCount() == 3
    assert [t.item(r, 0).data(Qt.UserRole) for r in range(3)] == [m["id"] for m in made]   # largest first
    for r, m in enumerate(made):
        assert t.item(r, 2).text() == str(m["size"])
        assert t.item(r, 3).text() == m["first"] and t.item(r, 4).text() == m["last"]
        assert t.item(r, 5).text() == f"{100 * m['keeper_rate']:.0f}%"
        assert [p["photo_id"] for p in dlg.motifs[r]["photos"]] == m["medoids"]
    assert not t.item(0, 0).icon().isNull()
    qtbot.waitUntil(dlg.loaded, timeout=20000)

    # a name typed in the table is saved in the catalog
    t.item(1, NAME_COLUMN).setText("  Harbour at dawn ")
    settle(qtbot, dlg)
    names = {m["id"]: m["name"] for m in motif_store.motifs(conn)}
    assert names[made[1]["id"]] == "Harbour at dawn" and names[made[0]["id"]] is None
    assert not dlg.worker.errors

    # a click on a motif: the grid shows exactly its photos, the filter bar says so
    rect = t.visualItemRect(t.item(1, 2))
    qtbot.mouseClick(t.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: win.model.complete and sorted(grid_ids(win)) == made[1]["members"], timeout=20000)
    assert win.filters.find.values().get("motif") == made[1]["id"]
    assert "Harbour at dawn" in win.filters.source_label.text()
    dlg.show_motif(2)
    qtbot.waitUntil(lambda: win.model.complete and sorted(grid_ids(win)) == made[2]["members"], timeout=20000)
    dlg.close()
    assert not dlg.worker.alive()


def test_without_motifs_the_window_says_how_and_finds_them(qtbot, library, conn, kept):
    dlg = MotifsDialog(library)
    qtbot.addWidget(dlg)
    dlg.show()
    settle(qtbot, dlg)
    assert dlg.table.rowCount() == 0 and dlg.status.text() == EMPTY_TEXT and "fluxcull motifs" in EMPTY_TEXT
    qtbot.mouseClick(dlg.compute_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 3, timeout=60000)
    settle(qtbot, dlg)
    assert sorted(m["id"] for m in dlg.motifs) == sorted(m["id"] for m in motif_store.motifs(conn))
    assert dlg.compute_button.isEnabled() and dlg.compute_button.text() == "Find motifs again"
    dlg.close()


def test_rediscovery_sessions_listed_and_shown_in_the_grid(qtbot, open_window, library, conn):
    g = insightgen.build(library, conn, sessions=4)
    strong = g["ids"][g["score"] >= 0.8]
    insightgen.keep(conn, strong[:3])   # decided: not proposed
    with transaction(conn):
        for k, sid in enumerate(g["sids"].tolist()):
            conn.execute("UPDATE sessions SET start_at = ?, place = ? WHERE id = ?",
                         (f"2024-0{k + 1}-1{k}T09:3{k}:00", f"Place {k}", int(sid)))
    want = rediscover(conn)
    assert want["photos"] and len(want["sessions"]) >= 2
    win = open_window()
    win.actions_by_name["rediscover"].trigger()
    dlg = win.dialog
    assert isinstance(dlg, RediscoverDialog)
    settle(qtbot, dlg)
    t = dlg.table
    assert t.rowCount() == len(want["sessions"]) + 1
    assert t.item(0, 0).text() == "All sessions" and t.item(0, 2).text() == str(want["photos"])
    for r, s in enumerate(want["sessions"], 1):
        assert dlg.row_session(r) == s["session_id"]
        assert t.item(r, 2).text() == str(s["count"]) and t.item(r, 3).text() == f"{s['best']:.2f}"
        k = g["sids"].tolist().index(s["session_id"])
        assert t.item(r, 0).text() == f"2024-0{k + 1}-1{k}  09:3{k}" and t.item(r, 1).text() == f"Place {k}"

    proposed = sorted(p["id"] for s in want["sessions"] for p in s["photos"])
    t.setCurrentCell(0, 0)
    qtbot.mouseClick(dlg.show_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: win.model.complete and sorted(grid_ids(win)) == proposed, timeout=20000)
    assert win.filters.find.values().get("rediscover") == "yes"

    second = want["sessions"][1]
    t.setCurrentCell(2, 0)
    qtbot.mouseClick(dlg.show_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: win.model.complete and sorted(grid_ids(win)) == sorted(p["id"] for p in second["photos"]),
                    timeout=20000)
    assert win.browser.source["session_id"] == second["session_id"]
    assert np.all([win.catalog.photo(i)["decision"] == "none" for i in grid_ids(win)])
    dlg.close()
