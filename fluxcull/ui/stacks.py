"""Stacks in the grid: a burst (fluxcull.keeper.bursts, stored by `fluxcull embed`) shown as one cell,
its top-scored frame with the number of frames; S opens or closes the current stack, View ▸ Collapse
stacks every stack, and Shift+K keeps the best frame and rejects the rest (CullingSession.keep_best).

The collapsing itself is the catalog's ids query (PhotoQuery.stacks and .toggled): this object only
says which view the grid asks for, and where the current photo goes when a stack opens or closes.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject

from fluxcull.catalog.queries import PhotoQuery

NOT_STACKED = ("This photo is in no stack: a stack is a burst, frames of one scene seconds apart that look alike "
               "(computed by `fluxcull embed`)")


class StackControl(QObject):
    def __init__(self, win, collapsed: bool = True):
        """Made after the window's actions: View ▸ Collapse stacks is checked as `collapsed` says."""
        super().__init__(win)
        self.win = win
        self.collapsed = collapsed      # stacks shown as one cell each
        self.toggled: set[int] = set()  # stacks shown the other way
        self._check_action()

    def query(self, query: PhotoQuery) -> PhotoQuery:
        """The grid's query with the stack view (files that failed to ingest have no stacks)."""
        if query.status != "ok":
            return query
        return dataclasses.replace(query, stacks="collapsed" if self.collapsed else "all",
                                   toggled=tuple(sorted(self.toggled)))

    def set_collapsed(self, on: bool) -> None:
        """Every stack collapsed (its best frame, with the frame count) or every frame shown."""
        on = bool(on)
        if on == self.collapsed and not self.toggled:
            return
        self.collapsed, self.toggled = on, set()
        win = self.win
        self._check_action()
        current = win.current_photo_id()
        among = self._frames_of(current) if on and current is not None else [current] if current is not None else []
        win.browser.apply_query(among=among or None)
        win.flash("Stacks collapsed: each burst is one cell, its best frame (S opens one)" if on
                  else "Every frame shown (S closes the current stack)", 4000)

    def toggle_current(self) -> None:
        """S: open the current photo's stack, or close it (the grid stays on its top frame)."""
        win = self.win
        row = win.current_row()
        rec = win.model.record(row) if row is not None else None
        if not rec or rec.get("id") is None or (rec.get("stack_size") or 0) < 2:
            win.flash(NOT_STACKED, 5000)
            return
        sid = rec["stack_id"]
        closing = not win.model.query.collapses(sid)
        self.toggled ^= {sid}
        among = self._frames_of(rec["id"]) if closing else [rec["id"]]
        win.browser.apply_query(among=among, offset=win.grid.verticalScrollBar().value())
        n = rec["stack_size"]
        win.flash(f"Stack of {n} frames closed: its best frame stands for it (S opens it)" if closing
                  else f"Stack of {n} frames opened (S closes it; Shift+K keeps its best frame, rejects the rest)", 4000)

    def _check_action(self) -> None:
        action = self.win.actions_by_name.get("collapse_stacks")
        if action is not None and action.isChecked() != self.collapsed:
            action.blockSignals(True)
            action.setChecked(self.collapsed)
            action.blockSignals(False)

    def _frames_of(self, photo_id: int) -> list[int]:
        """The frames of the photo's stack, best first (the one a closed stack shows comes first)."""
        sid = self.win.catalog.stack_of([photo_id]).get(photo_id)
        frames = self.win.catalog.stack_members([sid]).get(sid, []) if sid is not None else []
        return [f["id"] for f in frames] or [photo_id]
