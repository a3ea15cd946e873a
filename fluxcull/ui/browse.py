"""What the grid shows and where it stands: the chosen source (everything, a role or a session),
the query it makes with the toolbar's sort and filters, the current photo kept across re-queries,
and the source list kept up to date."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from fluxcull.ui.empty import empty_message
from fluxcull.ui.sessions import ROLE_TITLES, SessionPanel, session_label


def initial_source(catalog, role: str | None, session_id: int | None) -> dict:
    """The source to open on: a session (LookupError if there is none with that id), a role, or all."""
    role = role if role in ROLE_TITLES else None
    if session_id is None:
        return {"label": ROLE_TITLES[role] if role else "All photos", "role": role, "session_id": None}
    s = catalog.session(int(session_id))
    if s is None:
        raise LookupError(f"no session with id {session_id} (see `fluxcull sessions`)")
    return {"label": f"{ROLE_TITLES[s['role']]} {session_label(s)}", "role": s["role"], "session_id": session_id}


class Browser(QObject):
    def __init__(self, win, source: dict):
        super().__init__(win)
        self.win = win  # the main window: its model, grid, toolbar, reader thread, culling session
        self.source = dict(source)
        self._after_load = None
        win.model.loaded.connect(self._on_model_loaded)
        # decisions change the sources' keeper counts: re-read them once the keys stop
        self.sources_timer = QTimer(self, singleShot=True, interval=300)
        self.sources_timer.timeout.connect(self.load_sessions)

    def set_source(self, src: dict) -> None:
        self.source = dict(src)
        self.win.filters.follow_source(self.source)
        self.apply_query()
        if self.win.mode is not self.win.modes["grid"]:
            self.win.show_grid()

    def apply_query(self, keep_current: bool = False, offset: int | None = None, at: int | None = None,
                    among: list[int] | None = None) -> None:
        """Run the current query; keep the current photo (and scroll offset) where asked, or stand on
        photo `at`, or on the first of `among` the query shows (a stack's frames, best first)."""
        win, model = self.win, self.win.model
        current_id = at if at is not None else (self.current_photo_id() if keep_current else None)
        wanted = list(among or []) or ([current_id] if current_id is not None else [])
        query = win.stacks.query(win.filters.query(self.source))
        model.set_query(query, win.reader)
        problems = win.filters.problems_button.isChecked()
        win.filters.source_label.setText("⚠ Files that could not be read" if problems else self.source.get("label") or "")
        win.filters.set_problem_count(win.catalog.problem_count())
        win.grid.set_empty_text(empty_message(query, self.source.get("label") or ""))

        def place():
            row = next((r for r in (model.row_of(i) for i in wanted) if r is not None), None)
            if model.rowCount():
                win.grid.set_current_row(row if row is not None else 0, scroll=offset is None)
            if offset is not None:
                win.grid.verticalScrollBar().setValue(offset)
                if among and row is not None:  # a stack opened or closed: its photo stays in sight
                    win.grid.scrollTo(model.index(row))

        place()
        self._after_load = None if model.complete else (place if wanted else None)
        win.culling.recount()

    def show_photo(self, photo_id: int) -> None:
        """Go to a photo in the grid: where it stands in the grid, else in its session (or role) with
        the decision and score filters set to Any."""
        win = self.win
        if win.model.row_of(photo_id) is None:
            rec = win.catalog.photo(photo_id)
            if rec is None:
                return
            role, session = rec.get("role"), rec.get("session_id")
            try:
                self.source = initial_source(win.catalog, role, session)
            except LookupError:
                self.source = initial_source(win.catalog, role, None)
            win.filters.show_everything()
            win.filters.follow_source(self.source)
            win.sessions.blockSignals(True)
            win.sessions.select_source(self.source["role"], self.source["session_id"])
            win.sessions.blockSignals(False)
            self.apply_query(at=photo_id)
        else:
            win.set_current_row(win.model.row_of(photo_id))
        if win.mode is not win.modes["grid"]:
            win.show_grid()

    def _on_model_loaded(self) -> None:
        restore, self._after_load = self._after_load, None
        if restore is not None:
            restore()
        self.win.status_changed()

    def current_photo_id(self) -> int | None:
        row = self.win.grid.current_row()
        return self.win.model.photo_id(row) if row is not None else None

    def load_sessions(self) -> None:
        """Re-read the source list on the reader thread; show it when it arrives."""
        if not self.win.closed:
            self.win.reader.submit(SessionPanel.fetch, self._show_sessions)

    def _show_sessions(self, data, error) -> None:
        if not (self.win.closed or error):
            self.win.sessions.reload(data)
            self.win.sessions.select_source(self.source.get("role"), self.source.get("session_id"))

    def photos_changed(self) -> None:
        """Photos arrived or went: run the query again where the grid stands, re-read the sources."""
        self.apply_query(keep_current=True, offset=self.win.grid.verticalScrollBar().value())
        self.load_sessions()

    def scores_changed(self) -> None:
        """Scores or links changed: re-read the records, the sources, the counts, the photo shown."""
        self.win.model.refresh_all()
        self.load_sessions()
        self.win.culling.recount()
        self.win.mode.refresh()
