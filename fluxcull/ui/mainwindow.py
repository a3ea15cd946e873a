"""The main window: assembles the source list, the grid, loupe, compare and survey views, the toolbar,
the status bar, the menus, and connects them.

The rules live elsewhere: culling in fluxcull.culling (CullingSession, Qt-free), the view modes in
fluxcull.ui.modes, what the grid shows and where it stands in fluxcull.ui.browse, the actions and
keys in fluxcull.ui.keymap, background jobs and the inbox in fluxcull.ui.background (running
fluxcull.workflows), data through fluxcull.catalog.Catalog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMainWindow, QSplitter, QStackedWidget

from fluxcull.catalog import Catalog
from fluxcull.culling import CullingSession
from fluxcull.ui.actions import build_actions, load_keymap
from fluxcull.ui.browse import Browser, initial_source
from fluxcull.ui.background import BackgroundJobs
from fluxcull.ui.grid import GridView
from fluxcull.ui.images import ImageLoader
from fluxcull.ui.model import PhotoListModel
from fluxcull.ui.modes import CompareMode, GridMode, LoupeMode, SurveyMode
from fluxcull.ui.sessions import SessionPanel
from fluxcull.ui.state import WindowState, fit_to_screen
from fluxcull.ui.statusbar import StatusLine
from fluxcull.ui.thumbs import PixmapCache, ThumbLoader, placeholder_image
from fluxcull.ui.toolbar import FilterBar
from fluxcull.ui.viewing import Viewing
from fluxcull.ui.worker import JobRunner
from fluxcull.ui.writer import CatalogThread


class MainWindow(QMainWindow):
    def __init__(self, lib, *, initial_role: str | None = None, initial_session: int | None = None,
                 watch_inbox: bool = True, inbox_debounce_ms: int = 1500, cache_bytes: int = 384 * 1024 * 1024,
                 thumb_threads: int | None = None, remember: bool = True):
        super().__init__()
        self.lib = lib
        self.catalog = Catalog.open(lib.catalog_path)
        self.state = WindowState(lib) if remember else None  # size, layout, last source (ui/state.py)
        last = self.state.source() if self.state and initial_role is None and initial_session is None else None
        try:
            source = initial_source(self.catalog, initial_role, initial_session)
            if last is not None:  # the source shown when the window last closed, if it is still there
                try:
                    source = initial_source(self.catalog, *last)
                except LookupError:
                    pass
        except LookupError:
            self.catalog.close()
            raise
        self.setWindowTitle(f"fluxcull — {lib.root}")
        self.dialog = None
        self.closed = False

        self.model = PhotoListModel(self.catalog, self)
        self.thumb_loader = ThumbLoader(PixmapCache(cache_bytes), threads=thumb_threads, parent=self)
        self.image_loader = ImageLoader(parent=self)
        self.runner = JobRunner(self)
        self.writer = CatalogThread(lib, self, name="writer")
        self.reader = CatalogThread(lib, self, name="reader")

        self.grid = GridView(lib, self.thumb_loader)
        self.grid.setModel(self.model)
        self.sessions = SessionPanel(self.catalog)
        self.stack = QStackedWidget()  # the grid and the loupe; compare and survey are added when first shown
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.sessions)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 1060])
        self.setCentralWidget(splitter)
        self.splitter = splitter
        self.stack.addWidget(self.grid)
        self.modes = {"grid": GridMode(self, self.grid), "loupe": LoupeMode(self), "compare": CompareMode(self),
                      "survey": SurveyMode(self)}
        self.mode = self.modes["grid"]

        toolbar = self.addToolBar("View")
        toolbar.setObjectName("viewToolbar")  # a name, so its place is remembered
        self.addToolBarBreak()
        find_toolbar = self.addToolBar("Find")
        self.filters = FilterBar(toolbar, self, find_toolbar=find_toolbar, catalog=self.catalog)
        self.status = StatusLine(self.statusBar(), self.runner.widget, self)
        self.culling = CullingSession(self.model, self, self.writer.submit, read=self.reader.submit)
        self.keymap = load_keymap()  # the keys in effect: the defaults, or the key map file's (ui/keyfile.py)
        self.actions_by_name = build_actions(self, self.keymap)
        self.viewing = Viewing(self)
        self.jobs = BackgroundJobs(self, inbox_debounce_ms=inbox_debounce_ms)
        self.browser = Browser(self, source)
        self._connect()
        if self.state is None:
            fit_to_screen(self)
        else:
            self.state.restore(self, splitter)

        self.browser.apply_query()
        QTimer.singleShot(0, self.browser.load_sessions)
        if watch_inbox:
            self.jobs.setup_inbox()
        if self.keymap.warnings:
            QTimer.singleShot(0, lambda: self.flash(f"Key map: {len(self.keymap.warnings)} entries left out (Help ▸ "
                                                    "Keyboard shortcuts says which)", 10000))

    def _connect(self) -> None:
        self.grid.activated_photo.connect(self.show_loupe)
        self.grid.selectionModel().selectionChanged.connect(lambda *a: self.status_changed())
        self.grid.selectionModel().currentChanged.connect(lambda *a: self.status_changed())
        self.grid.selectionModel().currentChanged.connect(lambda *a: self.viewing.current_changed())
        self.sessions.source_chosen.connect(self.set_source)
        self.sessions.handed_over.connect(lambda: self.mode.widget.setFocus())  # the grid owns the culling keys
        self.sessions.delete_saved.connect(self.browser.delete_filter)
        self.filters.find.save_wanted.connect(self.browser.save_filter)
        self.filters.changed.connect(self.browser.apply_query)
        self.filters.advance_button.toggled.connect(self.set_auto_advance)
        self.filters.size_slider.valueChanged.connect(self.grid.set_thumb_side)
        self.status.timer.timeout.connect(self.update_status)

    # -- what the culling session asks of the window (fluxcull.culling.CullingView) -----------------
    def current_row(self) -> int | None:
        return self.grid.current_row()

    def selected_rows(self) -> list[int]:
        return self.grid.selected_rows()

    def go_to(self, row: int) -> None:
        self.mode.go_to(row)

    def show_decision(self, decision: str) -> None:
        self.mode.show_decision(decision)
        self.viewing.show_decision(decision)

    def flash(self, text: str, ms: int = 4000) -> None:
        self.status.flash(text, ms)

    def refresh_record(self) -> None:
        self.mode.refresh()
        self.viewing.refresh()

    def decisions_saved(self) -> None:
        self.browser.sources_timer.start()

    def shown_photos(self) -> list[dict]:
        return self.mode.shown_photos()

    def status_changed(self, now: bool = False) -> None:
        if now:
            self.update_status()
        else:
            self.status.timer.start()

    def update_status(self) -> None:
        selected = len(self.grid.selectionModel().selectedRows()) if self.grid.selectionModel() else 0
        self.status.show(self.culling.counts, self.model.rowCount(), selected, self.current_row())

    # -- culling, as tests and scripts call it --------------------------------------------------------
    def decide(self, kind: str) -> list[int]:
        return self.culling.decide(kind)

    def rate(self, stars: int) -> list[int]:
        return self.culling.rate(stars)

    def label(self, color: str) -> list[int]:
        return self.culling.label(color)

    @property
    def counts(self) -> dict[str, int]:
        return self.culling.counts

    @property
    def auto_advance(self) -> bool:
        return self.culling.auto_advance

    def set_auto_advance(self, on: bool) -> None:
        self.culling.set_auto_advance(on)
        for w in (self.filters.advance_button, self.actions_by_name.get("auto_advance")):
            if w is not None and w.isChecked() != self.culling.auto_advance:
                w.blockSignals(True)
                w.setChecked(self.culling.auto_advance)
                w.blockSignals(False)

    # -- what the grid shows (fluxcull.ui.browse) ------------------------------------------------------
    def set_source(self, src: dict) -> None:
        self.browser.set_source(src)

    def set_current_row(self, row: int, scroll: bool = True) -> None:
        self.grid.set_current_row(row, scroll)

    def current_photo_id(self) -> int | None:
        return self.browser.current_photo_id()

    # -- views (compare and survey widgets are built when first asked for: fluxcull.ui.modes) -------------
    loupe = property(lambda self: self.modes["loupe"].widget)
    compare = property(lambda self: self.modes["compare"].widget)
    survey = property(lambda self: self.modes["survey"].widget)

    def _thumb_image(self, rec: dict):
        return placeholder_image(self.lib, self.thumb_loader, self.grid.decode_side(), rec)

    def show_grid(self) -> None:
        self.modes["grid"].enter()

    def show_loupe(self, row: int) -> None:
        self.modes["loupe"].show_row(row)

    def toggle_loupe(self) -> None:
        if self.mode is self.modes["loupe"]:
            self.show_grid()
        elif self.current_row() is not None:
            self.show_loupe(self.current_row())

    def start_compare(self) -> bool:
        return self.modes["compare"].start()

    # -- dialogs ------------------------------------------------------------------------------------------
    def show_dialog(self, dialog) -> None:
        if self.closed:
            return
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.open()

    def show_keymap(self) -> None:
        from fluxcull.ui.dialogs import KeymapDialog

        self.show_dialog(KeymapDialog(self, self.keymap))

    def show_about(self) -> None:
        from fluxcull.ui.dialogs import AboutDialog

        self.show_dialog(AboutDialog(self.lib, self))

    def open_settings(self) -> None:
        from fluxcull.ui.settings import SettingsDialog

        dlg = SettingsDialog(self.catalog, self)
        inbox = self.catalog.folders()["inbox"]
        dlg.accepted.connect(lambda: self.jobs.settings_saved(inbox, dlg.changed))
        self.show_dialog(dlg)

    def open_first_run(self) -> None:
        from fluxcull.ui.settings import FirstRunDialog

        dlg = FirstRunDialog(self.lib, self.catalog, self.runner, self)
        dlg.finished.connect(lambda *_: (self.jobs.setup_inbox(), self.browser.photos_changed()))
        self.show_dialog(dlg)

    def open_review(self) -> None:
        from fluxcull.ui.review import ReviewDialog

        dlg = ReviewDialog(self.catalog, self.image_loader, self._thumb_image, self)
        dlg.finished.connect(lambda *_: self.browser.scores_changed())
        self.show_dialog(dlg)

    def open_export(self) -> None:
        from fluxcull.ui.export import ExportDialog

        self.show_dialog(ExportDialog(self))

    @property
    def inbox_watcher(self):
        return self.jobs.inbox_watcher

    # -- lifetime -------------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every timer, watcher and worker; close the catalog (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.viewing.leave_fullscreen()  # the layout remembered is the window's own, not full screen's
        if self.state is not None:
            self.state.save(self, self.splitter, self.browser.source)
        self.culling.close()
        self.viewing.close()
        if self.dialog is not None:
            self.dialog.close()
        self.jobs.stop_inbox()
        self.browser.sources_timer.stop()
        self.status.stop()
        self.grid.stop_timers()
        self.runner.shutdown()
        self.writer.close()
        self.reader.close()
        self.thumb_loader.shutdown()
        self.image_loader.shutdown()
        self.model.clear()
        self.catalog.close()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def first_run_needed(self) -> bool:
        return not self.catalog.has_photos() and not self.catalog.setting("originals_dir")
