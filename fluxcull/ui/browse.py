"""What the grid shows and where it stands: the chosen source (everything, a role, a session or a
saved filter), the query it makes with the toolbar's sort and filters and the filter bar (and the
stack view, fluxcull.ui.stacks), the current photo kept across re-queries, the source list kept up
to date, and saving and deleting saved filters."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from fluxcull.catalog.filters import format_where, parse_where
from fluxcull.errors import UserError
from fluxcull.ui.empty import empty_message
from fluxcull.ui.sessions import ROLE_TITLES, SessionPanel, saved_source, session_label
from fluxcull.ui.stacks import StackControl


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
        # the stack view (stacks collapsed or every frame), as the window last had it
        self.stacks = StackControl(win, collapsed=win.state.stacks_collapsed() if win.state else True)
        self._after_load = None
        win.model.loaded.connect(self._on_model_loaded)
        # decisions change the sources' keeper counts: re-read them once the keys stop
        self.sources_timer = QTimer(self, singleShot=True, interval=300)
        self.sources_timer.timeout.connect(self.load_sessions)

    def set_source(self, src: dict) -> None:
        src = dict(src)
        if src.get("where") is not None:  # a saved filter: its values fill the filters, its role is the source's
            try:
                values = parse_where(src["where"])
            except UserError as exc:
                self.win.flash(f"The saved filter “{src.get('saved')}” cannot be used: {exc}", 8000)
                return
            src["role"] = values.get("role")
            self.win.filters.apply_values(values)
        self.source = src
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
        query = self.stacks.query(win.filters.query(self.source))
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
            self.win.sessions.select_source(self.source.get("role"), self.source.get("session_id"),
                                            self.source.get("saved"))

    def open_filter(self, where: str | None = None, saved: str | None = None) -> None:
        """Show a saved filter (NotFound naming the others) or set the filter bar to an expression."""
        if saved is not None:
            self.set_source(saved_source(self.win.catalog.saved_filter(saved)))
        if where is not None:
            values = parse_where(where)
            if values.get("role"):
                self.source = initial_source(self.win.catalog, values["role"], None)
                self.win.filters.follow_source(self.source)
            self.win.filters.apply_values({**self.win.filters.filter_values(self.source), **values})
            self.apply_query()

    def show_where(self, where: str, label: str, session_id: int | None = None) -> None:
        """Show exactly what an expression selects (the Motifs and Rediscover windows): in every photo
        or one session, the toolbar's filters at Any, the filter bar holding the expression."""
        win = self.win
        self.source = {**initial_source(win.catalog, None, session_id), "label": label}
        win.filters.show_everything()
        win.filters.role_combo.blockSignals(True)
        win.filters.role_combo.setCurrentIndex(0)
        win.filters.role_combo.blockSignals(False)
        win.sessions.blockSignals(True)
        win.sessions.select_source(self.source["role"] if session_id is not None else None, session_id)
        win.sessions.blockSignals(False)
        self.open_filter(where=where)
        if win.mode is not win.modes["grid"]:
            win.show_grid()

    def save_filter(self, name: str) -> bool:
        """Save what the view filters by (role, Decision, Score, the filter bar) under `name`."""
        expression = format_where(self.win.filters.filter_values(self.source))
        if not expression:
            self.win.flash("Nothing to save: set a filter first (the filter bar, Decision or Score)", 6000)
            return False
        try:
            saved = self.win.catalog.save_filter(name, expression)
        except UserError as exc:
            self.win.flash(str(exc), 8000)
            return False
        self.win.flash(f"Saved filter “{saved['name']}”: {saved['expression']}", 6000)
        self.load_sessions()
        return True

    def delete_filter(self, name: str) -> None:
        try:
            gone = self.win.catalog.delete_filter(name)
        except UserError as exc:
            self.win.flash(str(exc), 8000)
            return
        self.win.flash(f"Deleted the saved filter “{gone['name']}” ({gone['expression']})", 6000)
        if self.source.get("saved") == gone["name"]:
            self.source = {k: v for k, v in self.source.items() if k not in ("saved", "where")}
        self.load_sessions()

    def photos_changed(self) -> None:
        """Photos arrived or went: run the query again where the grid stands, re-read the sources."""
        self.apply_query(keep_current=True, offset=self.win.grid.verticalScrollBar().value())
        self.load_sessions()
        if self.win.filters.find is not None:
            self.win.filters.find.refresh_suggestions()

    def scores_changed(self) -> None:
        """Scores or links changed: re-read the records, the sources, the counts, the photo shown."""
        self.win.model.refresh_all()
        self.load_sessions()
        self.win.culling.recount()
        self.win.mode.refresh()
