"""The rules of culling, without Qt: which photos a key acts on, keep / reject / clear shown at once
and committed in the background, undo in groups, auto-advance, and counts kept up to date.

A `CullingSession` works on three things it is given:
- `rows`: the grid's list of photos (fluxcull.ui.model.PhotoListModel, or any object with the
  `Rows` methods);
- `view`: what the window does for it (`CullingView`: the current mode, current and selected rows,
  moving to a row, messages, re-counting);
- `submit(fn, on_done)`: runs fn(catalog) off the GUI thread in submission order and calls
  on_done(result, error) back on it (fluxcull.ui.writer.CatalogThread; tests pass a synchronous
  one); `read`, the same for queries (the window's reader thread; default: `submit`).

Stacks (bursts shown as one cell) and the survey view use the same session: `keep_best` keeps the
top frame of each target stack and rejects the rest as one undo step (`keep_best_plan`), and the
survey decides photos by id (`decide_photos`) and records each elimination as preference pairs
(`eliminated`), undone as one step that also brings the photo back.

Everything here is plain Python, so the rules are tested without a window (tests/test_culling.py).
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from fluxcull.catalog.scores import KEEPER_STATES, decision_value, keeper_state

SOURCE = "gui"                      # decision-log source of the window's decisions
SURVEY_SOURCE = "survey"            # decision-log source of the survey's preference pairs
UNDO_SOURCES = ("gui", "compare", SURVEY_SOURCE)   # what the window's undo may revert (its decisions and choices)
ARCHIVE_STATES = ("confirmed", "archive")  # linked from the keeper archive, or an archive file
REJECTED_KEEPER_NOTICE = ("Rejected {what} from your keeper archive: it no longer counts as a keeper "
                          "and teaches the model the opposite (Ctrl+Z undoes)")

Submit = Callable[[Callable[[Any], Any], Callable[[Any, str | None], None]], None]


class Rows(Protocol):
    query: Any  # the catalog query the rows show (fluxcull.catalog.queries.PhotoQuery)

    def rowCount(self) -> int: ...
    def photo_id(self, row: int) -> int | None: ...
    def set_decisions(self, rows: list[int], decision: str) -> list[str]: ...  # and the score it imposes
    def keeper_state(self, row: int) -> str: ...  # fluxcull.catalog.scores.keeper_state of the row's photo
    def refresh_rows(self, rows: list[int]) -> None: ...
    def refresh_all(self) -> None: ...
    def row_of(self, photo_id: int, hint: int | None = None) -> int | None: ...


class Mode(Protocol):
    name: str
    targets_selection: bool       # a decision applies to the selected rows (the grid)
    decide_refusal: str | None    # why decisions are refused here (compare), else None
    # optional: target_photos() -> the photo ids a decision acts on (the survey's current photo), or
    # None for the grid's rows


def keep_best_plan(stacks: dict[int, list[dict]], linked: set[int] = frozenset()) -> list[tuple[int, str, str]]:
    """Keep the best frame of each stack and reject the rest: (photo id, kind, detail) decisions.

    `stacks`: stack id -> its frames best first, as the catalog ranks them (the top frame a collapsed
    stack shows). The top frame is kept (unless it already is); every other frame is rejected, except
    one already rejected (nothing to change) and one that is a keeper already, marked keep or linked
    from the keeper archive (`linked`: a person's word is never overturned by one stroke)."""
    plan = []
    for sid, frames in stacks.items():
        if not frames:
            continue
        best = frames[0]
        if (best.get("decision") or "none") != "keep":
            plan.append((int(best["id"]), "keep", f"best of stack {sid}"))
        for rec in frames[1:]:
            if (rec.get("decision") or "none") == "reject" or keeper_state(rec, rec["id"] in linked) in KEEPER_STATES:
                continue
            plan.append((int(rec["id"]), "reject", f"stack {sid}, not its best"))
    return plan


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


class CullingSession:
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

    def decide_photos(self, ids: list[int], kind: str) -> list[int]:
        """Keep / reject / clear photos by id (the survey's, which need not be rows of the grid): shown
        at once where they are rows, one undo group, no auto-advance; the counts are read again."""
        new = decision_value(kind)
        ids = [int(i) for i in ids]
        if not ids:
            return []
        rows = [r for r in (self.rows.row_of(i) for i in ids) if r is not None]
        self._show_decided(rows, new)
        self.undo_groups.append(len(ids))
        source = self.source
        self.submit(lambda catalog: catalog.decide(ids, kind, source),
                    lambda result, error: self._after_write(rows, error, reread=True))
        self.view.show_decision(new)
        self.view.status_changed()
        return ids

    def keep_best(self) -> None:
        """Keep the best frame of each target photo's stack (its top-scored frame) and reject the
        others (keep_best_plan), as one undo step; a photo without a stack is kept."""
        refusal = self.view.mode.decide_refusal
        if refusal:
            self.view.flash(refusal, 3000)
            return
        targets = getattr(self.view.mode, "target_photos", None)
        ids = targets() if targets is not None else None
        if ids is None:
            ids = [i for i in (self.rows.photo_id(r) for r in self.target_rows()) if i is not None]
        if not ids:
            return
        source = self.source
        self.undo_groups.append(1)  # one batch: one catalog undo step
        mark = len(self.undo_groups)

        def write(catalog):
            stack_of = catalog.stack_of(ids)
            stacks = catalog.stack_members({s for s in stack_of.values() if s is not None})
            for pid, sid in stack_of.items():  # a photo alone is the best of its own stack
                if sid is None or sid not in stacks:
                    stacks[-pid] = list(catalog.grid_records([pid]).values())
            plan = keep_best_plan(stacks, catalog.confirmed_keeper_ids())
            catalog.decide_batch(plan, source)
            names = {r["id"]: file_name(r) for frames in stacks.values() for r in frames}
            return plan, names, len(stacks)

        self.submit(write, lambda result, error: self._after_keep_best(result, error, mark))

    def _after_keep_best(self, result, error: str | None, mark: int) -> None:
        if self.closed:
            return
        if error or not result[0]:
            if len(self.undo_groups) == mark:  # nothing was written: no undo step either
                self.undo_groups.pop()
            self.view.flash(f"Not saved: {error}" if error else "Nothing to change: the best frame is kept and "
                            "the others are decided", 6000 if error else 3000)
            return
        plan, names, stacks = result
        kept = [pid for pid, kind, _ in plan if kind == "keep"]
        rejected = sum(kind == "reject" for _, kind, _ in plan)
        if stacks == 1 and kept:
            text = f"Kept {names.get(kept[0], 'the best frame')}, the best of its stack"
        else:
            text = f"Kept the best frame of {stacks} stack{'s' * (stacks != 1)}"
        self.view.flash(f"{text}; rejected {rejected} other frame{'s' * (rejected != 1)} (Ctrl+Z undoes)", 5000)
        self._reread()

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

    def advance(self, step: int) -> None:
        row = self.view.current_row()
        if row is None:
            return
        target = row + step
        if 0 <= target < self.rows.rowCount():
            self.view.go_to(target)

    def chose(self, winner: int, loser: int, name: Callable[[int], str] | None = None) -> None:
        """A side-by-side choice was recorded (by the compare view): one undo step. `name(photo_id)`
        gives the file names the message shows."""
        self.undo_groups.append(1)
        if name is None:
            self.view.flash("Preferred one photo over the other (Ctrl+Z undoes)", 3000)
        else:
            self.view.flash(f"Preferred {name(winner)} over {name(loser)} (Ctrl+Z undoes)", 3000)

    def eliminated(self, loser: int, winners: list[int], name: Callable[[int], str],
                   restore: Callable[[], None] | None = None) -> None:
        """The survey eliminated `loser`: each photo still in it is preferred over it (pairs for the
        keeper model, source 'survey'), one undo step, after which `restore` brings it back."""
        winners = [int(w) for w in winners if int(w) != int(loser)]
        if not winners:
            return
        self.undo_groups.append(len(winners))
        if restore is not None:
            self._undo_hooks[len(self.undo_groups) - 1] = restore
        self.submit(lambda catalog: [catalog.prefer(w, loser, SURVEY_SOURCE) for w in winners],
                    lambda result, error: error and self.view.flash(f"Not saved: {error}", 10000))
        others = ", ".join(name(w) for w in winners[:3]) + (" …" if len(winners) > 3 else "")
        self.view.flash(f"Eliminated {name(loser)}: {others} preferred over it (Ctrl+Z brings it back)", 4000)

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
        if hook is not None:  # it says what it brought back
            hook()
        elif last.get("batch") is not None:
            self.view.flash(f"Undid {last.get('events', 1)} decisions made in one stroke", 3000)
        else:
            what = "comparison" if last["kind"] == "prefer" else last["kind"]
            self.view.flash(f"Undid {what}" + (f" of {len(undone)} photos" if len(undone) > 1 else ""), 3000)
        if last["kind"] != "prefer" and len(undone) == 1 and last.get("batch") is None:
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


def file_name(rec: dict | None) -> str:
    """The file name a message names a photo by."""
    return ((rec or {}).get("path") or "").replace("\\", "/").rsplit("/", 1)[-1] or "this photo"
