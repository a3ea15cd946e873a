"""The window's view modes, grid, loupe, compare and survey, as objects.

Each mode knows its widget and answers what differs between them: what a decision acts on (the
selection in the grid, the photo shown elsewhere, the survey's current photo: `target_photos`),
whether decisions are refused (compare: the arrows choose the better photo), what stars and colour
labels act on (compare: both photos shown; the survey: its current photo: `shown_photos`), how to
move to a row, what Z does, how a decision is shown before it is committed. The window holds the
current mode (`window.mode`) and never compares indexes.

The window opens on the grid: compare and the survey build their widget (and import its module) the
first time it is asked for (`widget`), adding it to the window's stack then. The loupe is built with
the window (`eager`): its minimum size is the stack's, so the window cannot be made narrower than
the loupe needs before it is first shown.
"""

from __future__ import annotations


class ViewMode:
    name = ""
    targets_selection = False
    decide_refusal: str | None = None
    marks_shown = False  # stars and labels act on the photos shown side by side, not the grid's
    eager = False  # the widget is built with the window, not when first asked for

    def __init__(self, win, widget=None):
        self.win = win  # the main window (fluxcull.ui.mainwindow.MainWindow)
        self._widget = widget
        if self.eager:
            self.widget  # noqa: B018 - built (and added to the stack) now

    @property
    def widget(self):
        """The mode's widget, built (and added to the window's stack) when first asked for."""
        if self._widget is None:
            self._widget = self.build()
            self.win.stack.addWidget(self._widget)
        return self._widget

    def build(self):
        """The mode's widget, with its signals connected to the window."""
        raise NotImplementedError

    def enter(self) -> None:
        """Make this mode's widget the one shown (the window's stack), and focus it."""
        self.win.stack.setCurrentWidget(self.widget)
        self.win.mode = self
        self.widget.setFocus()

    def go_to(self, row: int) -> None:
        self.win.set_current_row(row)

    def target_photos(self) -> list[int] | None:
        """The photos a decision acts on when they are not the grid's rows (the survey's); None: the rows."""
        return None

    def shown_photos(self) -> list[dict]:
        """The records stars and labels act on when `marks_shown` (compare: both photos shown)."""
        return []

    def zoom(self) -> None:
        """Z: nothing in the grid."""

    def show_decision(self, decision: str) -> None:
        """A decision made on the current photo, not committed yet: the grid shows it itself."""

    def refresh(self) -> None:
        """Re-read what this mode shows from the catalog (after undo, a re-score)."""

    def __repr__(self) -> str:
        return f"<{self.name} mode>"


class GridMode(ViewMode):
    name = "grid"
    targets_selection = True

    def enter(self) -> None:
        if getattr(self.win, "viewing", None) is not None:
            self.win.viewing.leave_fullscreen()  # full screen is the loupe's and compare's
        super().enter()
        row = self.win.current_row()
        if row is not None:
            self.win.grid.scrollTo(self.win.model.index(row))


class LoupeMode(ViewMode):
    name = "loupe"
    eager = True  # its minimum size (the information panel's width) is the window's

    def build(self):
        from fluxcull.ui.loupe import LoupeView

        win = self.win
        widget = LoupeView(win.catalog, win.image_loader, win._thumb_image)
        widget.step.connect(self.step)
        return widget

    def show_row(self, row: int) -> None:
        """Show the photo at `row` large (making it current) and preload its neighbours."""
        win, model = self.win, self.win.model
        if not 0 <= row < model.rowCount():
            return
        if win.current_row() != row:
            win.set_current_row(row)
        rec = model.record(row)
        if rec is None or rec["id"] is None:
            return
        neighbours = [model.record(r) for r in (row + 1, row - 1, row + 2) if 0 <= r < model.rowCount()]
        if win.mode is not self:
            self.win.stack.setCurrentWidget(self.widget)
            self.win.mode = self
        self.widget.show_photo(rec, [n for n in neighbours if n and n["id"] is not None])
        self.widget.setFocus()

    def go_to(self, row: int) -> None:
        self.show_row(row)

    def step(self, step: int) -> None:
        row = self.win.current_row()
        if row is not None:
            self.show_row(max(0, min(self.win.model.rowCount() - 1, row + step)))

    def zoom(self) -> None:
        self.widget.toggle_zoom()

    def show_decision(self, decision: str) -> None:
        self.widget.set_decision(decision)

    def refresh(self) -> None:
        self.widget.refresh_record()


class CompareMode(ViewMode):
    name = "compare"
    decide_refusal = "In compare, ← and → choose the better photo"
    marks_shown = True

    def build(self):
        from fluxcull.ui.compare import CompareView

        win = self.win
        widget = CompareView(win.catalog, win.image_loader, win._thumb_image, writer=win.writer, lib=win.lib)
        widget.preferred.connect(lambda w, lo: win.culling.chose(w, lo, widget.name))
        widget.chosen.connect(lambda result: win.culling.choice_saved(result, widget.name))
        widget.said.connect(lambda text: win.flash(text, 5000))
        widget.exhausted.connect(self.exhausted)
        return widget

    def refresh(self) -> None:
        self.widget.refresh_records()

    def shown_photos(self) -> list[dict]:
        return self.widget.shown_photos()

    def start(self) -> bool:
        """Compare the two selected photos; three or more: a champion with challengers; else a proposal."""
        win = self.win
        ids = [i for i in (win.model.photo_id(r) for r in win.selected_rows()) if i is not None]
        session = win.browser.source.get("session_id")
        if session is None and win.current_row() is not None:
            session = win.model.record(win.current_row()).get("session_id")
        compare = self.widget
        if len(ids) >= 3:
            compare.frozen = True
            ok = compare.start((ids[0], ids[1]), session_id=session, challengers=ids[2:])
        elif len(ids) == 2:
            ok = compare.start((ids[0], ids[1]), session_id=session)
        else:
            ok = compare.start(None, session_id=session)
        if ok:
            self.enter()
        return ok

    def zoom(self) -> None:
        self.widget.toggle_zoom()

    def exhausted(self, why: str = "Nothing left to compare here") -> None:
        """Nothing left to compare: say why and go back to the grid."""
        self.win.flash(why, 8000)
        if self.win.mode is self:
            self.win.modes["grid"].enter()

    def toggle_freeze(self) -> None:
        self.widget.toggle_freeze()
        name = self.widget.name(self.widget.pair[0]) if self.widget.pair else "the left photo"
        self.win.flash(f"{name} is the champion of its burst: the other frames challenge it one by one"
                       if self.widget.champion else "Champion released", 4000)


class SurveyMode(ViewMode):
    """2-8 selected photos, or the current photo's stack, side by side (fluxcull.ui.survey)."""

    name = "survey"
    marks_shown = True  # stars and labels: the survey's current photo

    def build(self):
        from fluxcull.ui.survey import SurveyView

        win = self.win
        widget = SurveyView(win.catalog, win.image_loader, win._thumb_image)
        widget.eliminated.connect(self._eliminated)
        widget.decide.connect(lambda pid, kind: win.culling.decide_photos([pid], kind))
        widget.confirmed.connect(self._confirmed)
        widget.said.connect(lambda text: win.flash(text, 5000))
        return widget

    def start(self) -> bool:
        """The selected photos (2 or more; the first MAX_PHOTOS), else the current photo's whole stack."""
        from fluxcull.ui.survey import MAX_PHOTOS

        win = self.win
        ids = [i for i in (win.model.photo_id(r) for r in win.selected_rows()) if i is not None]
        if len(ids) < 2:
            current = win.current_photo_id()
            sid = win.catalog.stack_of([current]).get(current) if current is not None else None
            frames = win.catalog.stack_members([sid]).get(sid, []) if sid is not None else []
            if len(frames) < 2:
                win.flash("Survey: select 2 to 8 photos, or stand on a stack (a burst), then press N", 5000)
                return False
            frames = frames[:MAX_PHOTOS]  # best first: a longer burst shows its best frames
            ids = [f["id"] for f in sorted(frames, key=lambda f: f.get("stack_position") or 0)]
        elif len(ids) > MAX_PHOTOS:
            win.flash(f"The survey shows {MAX_PHOTOS} photos at most: the first {MAX_PHOTOS} of the "
                      f"{len(ids)} selected", 5000)
        self.widget.start(ids[:MAX_PHOTOS])
        self.enter()
        return True

    def target_photos(self) -> list[int]:
        return [self.widget.current_id] if self.widget.current_id is not None else []

    def shown_photos(self) -> list[dict]:
        rec = self.widget.records.get(self.widget.current_id)
        return [rec] if rec is not None else []

    def show_decision(self, decision: str) -> None:
        self.widget.show_decision(decision)

    def refresh(self) -> None:
        self.widget.refresh()

    def zoom(self) -> None:
        self.widget.toggle_zoom()

    def _eliminated(self, loser: int, remaining: list[int]) -> None:
        def restore():
            if self.win.mode is self:
                self.widget.restore(loser)

        self.win.culling.eliminated(loser, remaining, self.widget.name, restore)

    def _confirmed(self, ids: list[int]) -> None:
        names = ", ".join(self.widget.name(i) for i in ids[:3]) + (" …" if len(ids) > 3 else "")
        self.win.culling.decide_photos(ids, "keep")
        self.win.show_grid()
        self.win.flash(f"Kept {names}: the survey's choice (Ctrl+Z undoes)", 5000)
