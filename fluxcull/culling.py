"""The rules of culling, without Qt: which photos a key acts on, keep / reject / clear shown at once
and committed in the background, stars and colour labels (a label's key again removes it), what a
side-by-side choice decides (`compare_verdict`), undo in groups, auto-advance, and counts kept up to date.

A `CullingSession` works on three things it is given:
- `rows`: the grid's list of photos (fluxcull.ui.model.PhotoListModel, or any object with the
  `Rows` methods);
- `view`: what the window does for it (`CullingView`: the current mode, current and selected rows,
  moving to a row, messages, re-counting);
- `submit(fn, on_done)`: runs fn(catalog) off the GUI thread in submission order and calls
  on_done(result, error) back on it (fluxcull.ui.writer.CatalogThread; tests pass a synchronous
  one); `read`, the same for queries (the window's reader thread; default: `submit`).

Stacks (bursts shown as one cell) and the survey view use the same session; their rules are in
fluxcull.culling_stacks (`keep_best`, `decide_photos`, `eliminated`, mixed into `CullingSession`).

Everything here is plain Python, so the rules are tested without a window (tests/test_culling.py).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from fluxcull.catalog.ratings import label_value, stars_value
from fluxcull.catalog.scores import KEEPER_STATES, decision_value
from fluxcull.culling_stacks import SURVEY_SOURCE, StackCulling, file_name, keep_best_plan  # noqa: F401

SOURCE = "gui"                      # decision-log source of the window's decisions
UNDO_SOURCES = ("gui", "compare", SURVEY_SOURCE)   # what the window's undo may revert (its decisions and choices)
ARCHIVE_STATES = ("confirmed", "archive")  # linked from the keeper archive, or an archive file
REJECTED_KEEPER_NOTICE = ("Rejected {what} from your keeper archive: it no longer counts as a keeper "
                          "and teaches the model the opposite (Ctrl+Z undoes)")

COMPARE_DECIDES = "compare.decides"  # the setting: a choice in compare also keeps and rejects (on / off)
STARS_WORDS = {0: "No stars", 1: "★", 2: "★★", 3: "★★★", 4: "★★★★", 5: "★★★★★"}


def compare_verdict(winner: str, loser: str) -> tuple[str, str] | None:
    """What a side-by-side choice decides, given the two photos' stored decisions, when compare decides
    (setting compare.decides, on by default): both undecided -> the winner is kept and the loser
    rejected; otherwise nothing (a photo already decided keeps its decision; the choice is recorded
    all the same)."""
    if winner == "none" and loser == "none":
        return ("keep", "reject")
    return None


def choice_verdict(catalog):
    """`compare_verdict` when the library's setting says compare decides, else None (choices only)."""
    return compare_verdict if catalog.setting(COMPARE_DECIDES) == "on" else None


def label_after(labels: list[str | None], color: str) -> str | None:
    """The colour label the target photos get when `color`'s key is pressed: the same label again
    removes it (as in Lightroom), i.e. None when every target already wears `color`; else `color`."""
    color = label_value(color)
    return None if labels and all(lab == color for lab in labels) else color


Submit = Callable[[Callable[[Any], Any], Callable[[Any, str | None], None]], None]


class Rows(Protocol):
    query: Any  # the catalog query the rows show (fluxcull.catalog.queries.PhotoQuery)

    def rowCount(self) -> int: ...
    def photo_id(self, row: int) -> int | None: ...
    def set_decisions(self, rows: list[int], decision: str) -> list[str]: ...  # and the score it imposes
    def keeper_state(self, row: int) -> str: ...  # fluxcull.catalog.scores.keeper_state of the row's photo
    def mark(self, row: int, field: str) -> Any: ...  # the row's 'rating' or 'color_label'
    def set_marks(self, rows: list[int], field: str, value: Any) -> None: ...  # shown before it is committed
    def refresh_rows(self, rows: list[int]) -> None: ...
    def refresh_all(self) -> None: ...
    def row_of(self, photo_id: int, hint: int | None = None) -> int | None: ...


class Mode(Protocol):
    name: str
    targets_selection: bool       # a decision applies to the selected rows (the grid)
    decide_refusal: str | None    # why decisions are refused here (compare), else None
    marks_shown: bool             # stars and labels apply to the photos shown side by side (compare)
    # optional: target_photos() -> the photo ids a decision, stars and labels act on (the survey's
    # current photo), or None for the grid's rows


class CullingView(Protocol):
    @property
    def mode(self) -> Mode: ...
    def current_row(self) -> int | None: ...
    def selected_rows(self) -> list[int]: ...
    def go_to(self, row: int) -> None: ...           # make `row` current (in the loupe: show it)
    def show_decision(self, decision: str) -> None: ...  # a decision shown before it is committed
    def flash(self, text: str, ms: int) -> None: ...
    def refresh_record(self) -> None: ...            # re-read the photo shown large, if any
    def status_changed(self, now: bool = False) -> None: ...  # counts or position changed: show it
    def decisions_saved(self) -> None: ...           # decisions committed or undone: the sources' keepers changed
    def shown_photos(self) -> list[dict]: ...        # records of the photos shown side by side (compare)


class CullingSession(StackCulling):
    def __init__(self, rows: Rows, view: CullingView, submit: Submit, *, read: Submit | None = None,
                 source: str = SOURCE, undo_sources: tuple[str, ...] = UNDO_SOURCES):
        self.rows, self.view, self.submit, self.read = rows, view, submit, read or submit
        self.source, self.undo_sources = source, undo_sources
        self.auto_advance = True
        self.undo_groups: list[int] = []   # catalog undo steps per group (photos per decision, 1 per choice), newest last
        self._undo_hooks: dict[int, Callable[[], None]] = {}  # group index -> run once that group is undone
        self.counts: dict[str, int] = {}   # keep / reject / none / scored / keepers of the current query
        self.closed = False
        self._count_gen = 0

    # -- what a key acts on ----------------------------------------------------------------------
    def target_rows(self) -> list[int]:
        """The selected rows in the grid (if any), else the current row."""
        if self.view.mode.targets_selection:
            rows = sorted(self.view.selected_rows())
            if rows:
                return rows
        row = self.view.current_row()
        return [] if row is None else [row]

    # -- deciding --------------------------------------------------------------------------------
    def decide(self, kind: str) -> list[int]:
        """Keep / reject / clear the target photos: shown at once, committed by `submit`, one undo
        group; auto-advance after a single photo. Returns the photo ids decided."""
        new = decision_value(kind)
        refusal = self.view.mode.decide_refusal
        if refusal:
            self.view.flash(refusal, 3000)
            return []
        targets = getattr(self.view.mode, "target_photos", None)
        photos = targets() if targets is not None else None
        if photos is not None:  # the survey: its current photo, which may be no row of the grid
            return self.decide_photos(photos, kind)
        rows = [r for r in self.target_rows() if self.rows.photo_id(r) is not None]  # far rows may be loading
        if not rows:
            return []
        ids = [self.rows.photo_id(r) for r in rows]
        self._show_decided(rows, new)
        self.undo_groups.append(len(ids))
        source = self.source
        self.submit(lambda catalog: catalog.decide(ids, kind, source),
                    lambda result, error: self._after_write(rows, error))
        self.view.show_decision(new)
        if self.auto_advance and len(rows) == 1:
            self.advance(1)
        self.view.status_changed()
        return ids

    def _show_decided(self, rows: list[int], new: str) -> None:
        """Show a decision on these rows before it is committed, with the counts it changes; warn when
        it rejects a confirmed keeper."""
        before = [self.rows.keeper_state(r) for r in rows]
        for old in self.rows.set_decisions(rows, new):
            self.counts[old] = self.counts.get(old, 0) - 1
            self.counts[new] = self.counts.get(new, 0) + 1
        after = [self.rows.keeper_state(r) for r in rows]
        self.counts["keepers"] = self.counts.get("keepers", 0) + (
            sum(s in KEEPER_STATES for s in after) - sum(s in KEEPER_STATES for s in before))
        archived = sum(s in ARCHIVE_STATES for s in before)
        if new == "reject" and archived:
            what = "a confirmed keeper" if archived == 1 else f"{archived} confirmed keepers"
            self.view.flash(REJECTED_KEEPER_NOTICE.format(what=what), 10000)

    def _after_write(self, rows: list[int], error: str | None, reread: bool = False) -> None:
        if self.closed:
            return
        if error:
            self.view.flash(f"Not saved: {error}", 10000)
            self.rows.refresh_all()
            self.recount()
        elif reread:  # photos that may be no rows: the counts and the photos shown large read again
            self.rows.refresh_rows(rows)
            self._reread()
        else:
            self.rows.refresh_rows(rows)
            self.view.decisions_saved()

    def _reread(self) -> None:
        self.rows.refresh_all()
        self.recount()
        self.view.refresh_record()
        self.view.decisions_saved()

    # -- stars and colour labels ---------------------------------------------------------------------
    def rate(self, stars: int) -> list[int]:
        """Give the target photos 0-5 stars (0: none): shown at once, committed by `submit`, one undo step."""
        return self._mark("rate", stars_value(stars))

    def label(self, color: str) -> list[int]:
        """Give the target photos a colour label; pressed again on photos that all wear it, it is removed."""
        return self._mark("label", label_value(color))

    def _mark(self, kind: str, value) -> list[int]:
        field = "rating" if kind == "rate" else "color_label"
        shown = self.view.mode.marks_shown  # compare: both photos shown
        if shown:
            recs = [r for r in self.view.shown_photos() if r and r.get("id") is not None]
            ids = [int(r["id"]) for r in recs]
            rows = [r for r in (self.rows.row_of(i) for i in ids) if r is not None]
            current = [r.get(field) for r in recs]
        else:
            rows = [r for r in self.target_rows() if self.rows.photo_id(r) is not None]
            ids = [self.rows.photo_id(r) for r in rows]
            current = [self.rows.mark(r, field) for r in rows]
        if not ids:
            return []
        if kind == "label":
            value = label_after(current, value)
        self.rows.set_marks(rows, field, value)
        self.undo_groups.append(1)  # several photos are one batch in the log
        source = self.source
        write = (lambda c: c.rate(ids, value, source)) if kind == "rate" else (lambda c: c.label(ids, value, source))
        self.submit(write, lambda result, error: self._after_mark(rows, error))
        what = STARS_WORDS[value] if kind == "rate" else (f"{value.capitalize()} label" if value else "Label removed")
        self.view.flash(what + (f" on {len(ids)} photos" if len(ids) > 1 else ""), 2000)
        if self.auto_advance and len(rows) == 1 and not shown:
            self.advance(1)
        return ids

    def _after_mark(self, rows: list[int], error: str | None) -> None:
        self._after_write(rows, error)
        if not (error or self.closed):
            self.view.refresh_record()

    def advance(self, step: int) -> None:
        row = self.view.current_row()
        if row is None:
            return
        target = row + step
        if 0 <= target < self.rows.rowCount():
            self.view.go_to(target)

    def chose(self, winner: int, loser: int, name: Callable[[int], str] | None = None) -> None:
        """A side-by-side choice was made (by the compare view; it commits it with `choice_verdict`):
        one undo step, the choice and the decisions it made together. `name(photo_id)` gives the file
        names the message shows."""
        self.undo_groups.append(1)
        if name is None:
            self.view.flash("Preferred one photo over the other (Ctrl+Z undoes)", 3000)
        else:
            self.view.flash(f"Preferred {name(winner)} over {name(loser)} (Ctrl+Z undoes)", 3000)

    def choice_saved(self, result: dict | None, name: Callable[[int], str] | None = None) -> None:
        """A choice is committed (`Catalog.choose`'s result): the photos it kept or rejected are shown
        so, with the counts, and said."""
        if self.closed or not result or not result.get("decided"):
            return
        ids = [pid for pid, _ in result["decided"]]
        self.rows.refresh_rows([r for r in (self.rows.row_of(i) for i in ids) if r is not None])
        self.recount()
        self.view.refresh_record()
        self.view.decisions_saved()
        said = ", ".join(f"{'kept' if kind == 'keep' else 'rejected'} {name(pid) if name else 'one photo'}"
                         for pid, kind in result["decided"])
        both = "both decisions" if len(ids) > 1 else "its decision"
        self.view.flash(f"{said[:1].upper()}{said[1:]} (Ctrl+Z undoes the choice and {both})", 4000)

    # -- undo ------------------------------------------------------------------------------------
    def undo(self) -> None:
        """Undo the last decision group or comparison (committed in order after earlier writes)."""
        n = self.undo_groups.pop() if self.undo_groups else 1
        hook = self._undo_hooks.pop(len(self.undo_groups), None)
        source, sources = self.source, self.undo_sources
        self.submit(lambda catalog: catalog.undo(n, source, sources=sources),
                    lambda undone, error: self._after_undo(undone, error, hook))

    def _after_undo(self, undone, error: str | None, hook: Callable[[], None] | None = None) -> None:
        if self.closed:
            return
        if error or not undone:
            self.view.flash(f"Undo failed: {error}" if error else "Nothing to undo", 4000)
            return
        self.rows.refresh_all()
        self.recount()
        self.view.refresh_record()
        self.view.decisions_saved()
        last = undone[-1]
        what = {"prefer": "comparison", "rate": "stars", "label": "colour label"}.get(last["kind"], last["kind"])
        if last["kind"] == "prefer" and last.get("events", 1) > 1:
            what = "comparison and the keep and reject it made"
        photos = len(undone) if len(undone) > 1 else (last.get("events", 1) if last["kind"] != "prefer" else 1)
        if hook is not None:  # it says what it undid (a survey's elimination brings the photo back)
            hook()
        else:
            self.view.flash(f"Undid {what}" + (f" of {photos} photos" if photos > 1 else ""), 3000)
        if last["kind"] != "prefer" and photos == 1:
            row = self.rows.row_of(last["photo_id"], self.view.current_row())
            if row is not None:
                self.view.go_to(row)

    # -- settings and counts ---------------------------------------------------------------------
    def set_auto_advance(self, on: bool) -> bool:
        """Turn auto-advance on or off; returns whether it changed."""
        changed = bool(on) != self.auto_advance
        self.auto_advance = bool(on)
        if changed:
            self.view.flash(f"Auto-advance {'on' if on else 'off'}", 2000)
        return changed

    def recount(self) -> None:
        """Read the counts of the rows' query again (they replace the optimistic ones when they come;
        a later recount supersedes an earlier one still on its way)."""
        self._count_gen += 1
        gen, query = self._count_gen, self.rows.query
        self.read(lambda catalog: catalog.decision_counts(query),
                  lambda counts, error: self._counts_read(gen, counts, error))

    def _counts_read(self, gen: int, counts, error: str | None) -> None:
        if not (self.closed or error or gen != self._count_gen):
            self.counts = dict(counts)
            self.view.status_changed(now=True)

    def close(self) -> None:
        self.closed = True

