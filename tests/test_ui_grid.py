"""The grid: list model (pytest-qt model tester), queries, thumbnail cache and loader, visible rows."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QPixmap  # noqa: E402

from fluxcull.catalog.queries import PhotoQuery  # noqa: E402
from fluxcull.catalog import Catalog  # noqa: E402
from fluxcull.ui.model import BandRole, ConfirmedRole, IdRole, PhotoListModel, RecordRole  # noqa: E402
from fluxcull.ui.thumbs import PixmapCache, ThumbLoader, source_for  # noqa: E402
from uigen import fill_catalog  # noqa: E402


@pytest.fixture
def filled(library, conn, tmp_path):
    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=3, per_session=7)
    return ids


def test_list_model_passes_the_model_tester(qtmodeltester, conn, filled):
    model = PhotoListModel(Catalog(conn))
    model.set_query(PhotoQuery(sort="score"))
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(model)
    assert model.rowCount() == len(filled)


def test_model_orders_filters_and_reads_records_in_pages(conn, filled):
    model = PhotoListModel(Catalog(conn))
    model.set_query(PhotoQuery(sort="score"))
    scores = [model.index(r).data(RecordRole)["keeper_score"] for r in range(model.rowCount())]
    assert scores == sorted(scores, reverse=True)
    model.set_query(PhotoQuery(band="high"))
    assert model.rowCount() == sum(1 for s in scores if s >= 0.8)
    assert all(model.index(r).data(BandRole) == "high" for r in range(model.rowCount()))
    model.set_query(PhotoQuery(sort="time"))
    assert [model.index(r).data(IdRole) for r in range(model.rowCount())] == filled
    assert model.index(0).data(Qt.DisplayRole) == "R0000000.JPG"


def test_confirmed_keeper_is_marked_by_link_or_score(conn, filled):
    a, b = filled[0], filled[1]
    conn.execute("UPDATE photos SET keeper_score = 1.0 WHERE id = ?", (a,))
    cur = conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/k/1.jpg', 'keepers', 1, 1)")
    conn.execute("INSERT INTO keeper_links(keeper_id, original_id, method) VALUES (?, ?, 'sha256')", (cur.lastrowid, b))
    model = PhotoListModel(Catalog(conn))
    model.set_query(PhotoQuery(role="originals", sort="time"))
    marks = [model.index(r).data(ConfirmedRole) for r in range(model.rowCount())]
    assert marks[:3] == [True, True, False]
    assert model.index(0).data(BandRole) == "confirmed"


def test_refresh_rows_rereads_a_changed_record(qtbot, conn, filled):
    model = PhotoListModel(Catalog(conn))
    model.set_query(PhotoQuery(sort="time"))
    assert model.record(2)["decision"] == "none"
    conn.execute("UPDATE photos SET decision = 'keep' WHERE id = ?", (filled[2],))
    assert model.record(2)["decision"] == "none"  # cached page
    with qtbot.waitSignal(model.dataChanged):
        model.refresh_rows([2])
    assert model.record(2)["decision"] == "keep"


def test_pixmap_cache_is_bounded_in_bytes(qapp):
    cache = PixmapCache(max_bytes=3 * 100 * 100 * 4)
    for i in range(5):
        pix = QPixmap(100, 100)
        pix.fill(Qt.red)
        cache.put(i, pix)
    assert cache.nbytes <= cache.max_bytes
    assert len(cache) == 3
    assert cache.get(0) is None and cache.get(4) is not None
    cache.get(2)  # recently used survives the next insertion
    cache.put(9, QPixmap(100, 100))
    assert 2 in cache and 3 not in cache


def test_loader_reads_wanted_thumbnails_and_drops_stale_requests(qtbot, library, conn, filled):
    model = PhotoListModel(Catalog(conn))
    model.set_query(PhotoQuery(sort="time"))
    srcs = [source_for(library, model.record(r)) for r in range(model.rowCount())]
    loader = ThumbLoader(PixmapCache(), threads=1)
    try:
        first = [((s, 64), s, 64) for s in srcs[:15]]
        second = [((s, 64), s, 64) for s in srcs[15:]]
        loader.want(first)
        loader.want(second)  # the user scrolled on before the first batch was read
        qtbot.waitUntil(lambda: all(k in loader.cache for k, _, _ in second), timeout=10000)
        loader.pool.waitForDone(5000)
        qtbot.wait(50)
        assert not any(k in loader.cache for k, _, _ in first)
        pix = loader.pixmap(second[0][0])
        assert max(pix.width(), pix.height()) == 64
    finally:
        loader.shutdown()


def test_grid_shows_and_requests_only_visible_rows(qtbot, library, conn, tmp_path):
    from fluxcull.ui.grid import GridView

    fill_catalog(library, conn, tmp_path / "more", sessions=4, per_session=15)
    model = PhotoListModel(Catalog(conn))
    model.set_query(PhotoQuery(sort="time"))
    loader = ThumbLoader(PixmapCache())
    view = GridView(library, loader)
    view.setModel(model)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    first, last = view.visible_range()
    assert first == 0 and 0 < last < model.rowCount() - 1
    vp = view.viewport().rect()
    for row in range(model.rowCount()):
        on_screen = view.visualRect(model.index(row)).intersects(vp)
        assert on_screen == (first <= row <= last), row
    qtbot.waitUntil(lambda: all(view.thumb_cache_key(model.record(r)) in loader.cache for r in range(first, last + 1)),
                    timeout=10000)
    view.scrollToBottom()
    qtbot.waitUntil(lambda: view.visible_range()[1] == model.rowCount() - 1, timeout=3000)
    f2, l2 = view.visible_range()
    qtbot.waitUntil(lambda: all(view.thumb_cache_key(model.record(r)) in loader.cache for r in range(f2, l2 + 1)),
                    timeout=10000)
    # Home brings the first photo back into view even when it is the current one already
    view.set_current_row(0, scroll=False)
    assert view.current_row() == 0 and view.visible_range()[0] > 0
    qtbot.keyClick(view, Qt.Key_Home)
    assert view.visible_range()[0] == 0
    view.close()
    loader.shutdown()


def test_qt_bindings_keep_none_alive_across_void_calls(qapp):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on each void call (the app aborts)."""
    import sys

    from PySide6.QtGui import QImage, QPainter

    from fluxcull.ui.app import check_qt_bindings

    check_qt_bindings()
    img = QImage(8, 8, QImage.Format_RGB32)
    p = QPainter(img)
    before = sys.getrefcount(None)
    for _ in range(200):
        p.save()
        p.restore()
    after = sys.getrefcount(None)
    p.end()
    assert after >= before - 20


def test_a_large_query_shows_its_rows_at_once_and_fills_ids_from_the_reader(qtbot, qtmodeltester, library, conn,
                                                                            filled, monkeypatch):
    from fluxcull.ui import model as model_mod
    from fluxcull.ui.writer import CatalogThread

    monkeypatch.setattr(model_mod, "HEAD", 5)
    reader = CatalogThread(library, name="test-reader")
    try:
        model = PhotoListModel(Catalog(conn))
        with qtbot.waitSignal(model.loaded, timeout=10000):
            model.set_query(PhotoQuery(sort="time"), reader)
            assert model.rowCount() == len(filled) and not model.complete
            assert model.photo_id(3) == filled[3] and model.photo_id(len(filled) - 1) is None
            assert model.record(len(filled) - 1)["status"] == "loading"
        assert model.complete and model.ids == filled
        assert model.index(len(filled) - 1).data(IdRole) == filled[-1]
        qtmodeltester.check(model)
    finally:
        reader.close()
    assert not reader.alive()
