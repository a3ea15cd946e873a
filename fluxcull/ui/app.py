"""Start the application: `run_app(lib)` opens the main window on a library and runs the event loop."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from fluxcull.catalog.scores import KEEPER_STATES
from fluxcull.ui.delegate import star_polygon
from fluxcull.ui.theme import apply_dark_theme


def app_icon() -> QIcon:
    pix = QPixmap(128, 128)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor("#26282c"))
    p.drawRoundedRect(QRectF(4, 4, 120, 120), 22, 22)
    p.setBrush(QColor("#4d9de0"))
    p.drawRoundedRect(QRectF(22, 30, 84, 64), 8, 8)
    p.setBrush(QColor("#f2c230"))
    p.drawPolygon(star_polygon(64, 62, 26))
    p.end()
    return QIcon(pix)


def check_qt_bindings() -> None:
    """Refuse PySide6 6.12.0 on Python < 3.12: its void calls drop a reference to None on every call,
    and the interpreter aborts ("deallocating None") after a few thousand paints."""
    import PySide6

    if PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12):
        raise RuntimeError(
            "PySide6 6.12.0 crashes on Python < 3.12 (a reference-count bug in its bindings); "
            "install another version: pip install 'PySide6-Essentials>=6.6,!=6.12.0'")


def ensure_app() -> QApplication:
    check_qt_bindings()
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setApplicationName("fluxcull")
    app.setOrganizationName("fluxcull")
    apply_dark_theme(app)
    app.setWindowIcon(app_icon())
    return app


def wait_until_painted(app, win, view: str = "grid", timeout: float = 20.0) -> bool:
    """Process events until the view shows its images (thumbnails loaded, compare decoded)."""
    deadline = time.monotonic() + timeout
    settled_since = None
    while time.monotonic() < deadline:
        app.processEvents()
        if view == "drafts":
            ready = win.dialog.loaded()
        elif view == "compare":
            pair = win.compare.pair
            ready = pair is not None and all(win.image_loader.best(pid) is not None or pid in win.image_loader.errors
                                             for pid in pair)
        elif view == "survey":
            ready = win.survey.loaded()
        elif view in ("analytics", "motifs", "rediscover"):
            ready = win.dialog is not None and win.dialog.loaded()
        elif view == "loupe":
            rec = win.loupe.record
            ready = rec is not None and (win.image_loader.best(rec["id"]) is not None or rec["id"] in win.image_loader.errors)
            ready = ready and not win.loupe.measurer.busy() and win.loupe.info.histogram.hist is not None
        else:
            first, last = win.grid.visible_range()
            ready = win.thumb_loader.idle() and not win.grid._request_timer.isActive()
            if ready and last >= first:
                for row in range(first, last + 1):
                    key = win.grid.thumb_cache_key(win.model.record(row))
                    if key is not None and key not in win.thumb_loader.cache and not win.thumb_loader.is_failed(key):
                        ready = False
                        break
        if ready:
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since > 0.3:
                return True
        else:
            settled_since = None
        time.sleep(0.02)
    return False


SET_APART = KEEPER_STATES | {"failure"}  # never a challenger of a screenshot's burst


def _select_burst(win) -> None:
    """Select the first run of three or more undecided frames of one session, none of them a keeper
    or a technical failure (what the grid's badges say: fluxcull.catalog.scores.keeper_state): a
    burst to compare with a frozen champion (nothing selected beyond the current photo when there is none)."""
    from PySide6.QtCore import QItemSelectionModel

    model, n = win.model, win.model.rowCount()
    for i in range(n - 2):
        recs = [model.record(r) for r in (i, i + 1, i + 2)]
        if all(r["role"] == "originals" and r["decision"] == "none" and model.state(r) not in SET_APART
               and r["session_id"] == recs[0]["session_id"] for r in recs):
            sm = win.grid.selectionModel()
            sm.clearSelection()
            for r in (i, i + 1, i + 2):
                sm.select(model.index(r), QItemSelectionModel.Select)
            return


def _stand_on_stack(win) -> None:
    """Make the first cell that stands for a stack of three or more frames current (a survey's subject)."""
    model = win.model
    for row in range(min(model.rowCount(), 2000)):
        rec = model.record(row)
        if (rec.get("stack_size") or 0) >= 3 and model.query.collapses(rec.get("stack_id")):
            win.set_current_row(row)
            return


def save_screenshot(app, win, path: str | Path, view: str = "grid") -> Path:
    """Show `view`, wait for its images, and save the window as seen on the screen."""
    deadline = time.monotonic() + 20  # the grid's ids and the source list first: their arrival shows the grid
    while time.monotonic() < deadline and not (win.model.complete and win.reader.idle()):
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()
    if view == "compare":
        _select_burst(win)
        win.start_compare()
    elif view == "survey":
        _stand_on_stack(win)
        win.modes["survey"].start()
    elif view == "loupe" and win.current_row() is not None:
        win.show_loupe(win.current_row())
    elif view == "analytics":
        from fluxcull.ui.analytics import open_analytics

        open_analytics(win)
    elif view in ("drafts", "motifs", "rediscover"):
        win.actions_by_name[view].trigger()
    wait_until_painted(app, win, view)
    app.processEvents()
    shown = win.dialog if view in ("analytics", "drafts", "motifs", "rediscover") else win  # windows of their own
    pix = None
    if QApplication.platformName() not in ("offscreen", "minimal"):
        screen = shown.screen()
        pix = screen.grabWindow(shown.winId())  # the real window's pixels from the display server
        if pix.isNull() or pix.width() < 10:
            pix = None
    if pix is None:
        pix = shown.grab()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not pix.save(str(out), "PNG"):
        raise OSError(f"{out}: could not write the screenshot")
    return out


def run_app(lib, *, initial_role: str | None = None, screenshot: str | Path | None = None,
            initial_session: int | None = None, view: str = "grid", size: tuple[int, int] | None = None,
            where: str | None = None, saved_filter: str | None = None) -> int:
    """Open the culling window on `lib` (the filter bar set to `where`, or on the saved filter named
    `saved_filter`); with `screenshot`, save a PNG of `view` and quit. Returns 0 on success."""
    from fluxcull import joblock
    from fluxcull.ui.mainwindow import MainWindow

    joblock.JOB_LOCK_WAIT = True  # a job finding the library busy waits (progress says for whom; Cancel stops it)
    app = ensure_app()
    win = MainWindow(lib, initial_role=initial_role, initial_session=initial_session, watch_inbox=screenshot is None,
                     remember=screenshot is None)  # a screenshot neither uses nor changes what the window remembers
    if size is not None:
        win.resize(*size)
    try:
        win.browser.open_filter(where, saved_filter)
    except BaseException:
        win.close()
        raise
    win.show()
    if screenshot is not None:
        try:
            out = save_screenshot(app, win, screenshot, view)
            print(f"screenshot written to {out}")
        finally:
            win.close()
        return 0
    if win.first_run_needed():
        QTimer.singleShot(0, win.open_first_run)
    code = app.exec()
    win.shutdown()
    return int(code)

