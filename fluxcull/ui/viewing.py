"""How photos are viewed beyond the window's own views: full screen (F; G or Esc leaves), the clipping
warning and the panel of the loupe (J, I), and a second window that shows the current photo large on
another screen (View ▸ Second window) and follows it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QToolBar, QVBoxLayout, QWidget

from fluxcull.ui.images import ImageLoader
from fluxcull.ui.loupe import LoupeView


class SecondWindow(QWidget):
    """The current photo large, in a window of its own (its own decoder: the main window's keeps
    serving the loupe and compare); the main window's keys work here too."""

    closed = Signal()

    def __init__(self, win):
        super().__init__(None, Qt.Window)
        self.setWindowTitle(f"fluxcull — {win.lib.root.name} — second window")
        self.loader = ImageLoader(max_bytes=256 * 1024 * 1024, threads=1, parent=self)
        self.loupe = LoupeView(win.catalog, self.loader, win._thumb_image)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.loupe)
        self.addActions(list(win.actions_by_name.values()))
        self.photo_id: int | None = None

    def place(self, main) -> None:
        """On a screen other than the main window's, filling it; else a window of its own beside it."""
        others = [s for s in QGuiApplication.screens() if s is not main.screen()]
        if others:
            self.setGeometry(others[0].availableGeometry())
            self.showMaximized()
        else:
            self.resize(960, 720)
            self.show()

    def show_record(self, rec: dict, neighbours: list[dict]) -> None:
        self.photo_id = rec["id"]
        self.loupe.show_photo(rec, neighbours)

    def closeEvent(self, event) -> None:
        self.loupe.shutdown()
        self.loader.shutdown()
        self.closed.emit()
        super().closeEvent(event)


class Viewing(QObject):
    def __init__(self, win):
        super().__init__(win)
        self.win = win  # the main window
        self.fullscreen = False
        self._before = Qt.WindowNoState
        self._hidden: list[QWidget] = []
        self.second: SecondWindow | None = None

    # -- full screen ---------------------------------------------------------------------------------
    def toggle_fullscreen(self) -> None:
        """F: the loupe or compare fills the screen; from the grid, the current photo's loupe does."""
        if self.fullscreen:
            self.leave_fullscreen()
            return
        win = self.win
        if win.mode is win.modes["grid"]:
            if win.current_row() is None:
                win.flash("No photo to show full screen here")
                return
            win.show_loupe(win.current_row())
        self.fullscreen = True
        self._before = win.windowState()
        self._hidden = [w for w in (win.sessions, win.menuBar(), *win.findChildren(QToolBar)) if not w.isHidden()]
        for w in self._hidden:
            w.hide()
        win.showFullScreen()
        win.mode.widget.setFocus()
        win.flash("Full screen: G or Esc leaves", 3000)

    def leave_fullscreen(self) -> None:
        if not self.fullscreen:
            return
        self.fullscreen = False
        for w in self._hidden:
            w.show()
        self._hidden = []
        win = self.win
        if self._before & Qt.WindowMaximized:
            win.showMaximized()
        else:
            win.showNormal()

    def back(self) -> None:
        """G / Esc: leave full screen, else back to the grid."""
        if self.fullscreen:
            self.leave_fullscreen()
        else:
            self.win.show_grid()

    # -- the loupe's panel and clipping warning ---------------------------------------------------------
    def loupes(self) -> list[LoupeView]:
        return [self.win.loupe] + ([self.second.loupe] if self.second is not None else [])

    def toggle_info(self) -> None:
        show = self.win.loupe.info.isHidden()
        for loupe in self.loupes():
            if loupe.info.isHidden() == show:
                loupe.toggle_info()

    def show_clipping(self, on: bool) -> None:
        for loupe in self.loupes():
            loupe.toggle_clipping(on)

    # -- the second window ------------------------------------------------------------------------------
    def show_second(self, on: bool) -> None:
        if on and self.second is None:
            self.second = SecondWindow(self.win)
            self.second.loupe.step.connect(self.step)
            self.second.loupe.toggle_clipping(self.win.loupe.clipping)
            self.second.closed.connect(self._second_closed)
            self.second.place(self.win)
            self.current_changed()
        elif not on and self.second is not None:
            self.second.close()

    def _second_closed(self) -> None:
        self.second = None
        act = self.win.actions_by_name.get("second_window")
        if act is not None and act.isChecked():
            act.blockSignals(True)
            act.setChecked(False)
            act.blockSignals(False)

    def current_changed(self) -> None:
        """The grid's current photo changed: the second window shows it."""
        win = self.win
        row = win.current_row()
        if self.second is None or row is None or win.closed:
            return
        rec = win.model.record(row)
        if rec is None or rec.get("id") is None or rec["id"] == self.second.photo_id:
            return
        n = win.model.rowCount()
        near = [win.model.record(r) for r in (row + 1, row - 1) if 0 <= r < n]
        self.second.show_record(rec, [r for r in near if r and r.get("id") is not None])

    def step(self, step: int) -> None:
        """An arrow in the second window moves the current photo."""
        win = self.win
        if win.mode is win.modes["loupe"]:
            win.modes["loupe"].step(step)
        elif win.current_row() is not None and win.model.rowCount():
            win.set_current_row(max(0, min(win.model.rowCount() - 1, win.current_row() + step)))

    def show_decision(self, decision: str) -> None:
        if self.second is not None and self.second.photo_id == self.win.current_photo_id():
            self.second.loupe.set_decision(decision)

    def refresh(self) -> None:
        if self.second is not None:
            self.second.loupe.refresh_record()

    def close(self) -> None:
        if self.second is not None:
            self.second.close()
        self.win.loupe.shutdown()
