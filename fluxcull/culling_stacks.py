"""Culling stacks and the survey, without Qt: the rules fluxcull.culling.CullingSession gets from
`StackCulling` (a mixin: it works on the session's rows, view, submit and undo groups).

- `keep_best`: keep the best frame of each target stack (its top-scored frame, as the catalog ranks a
  stack's frames: fluxcull.catalog.queries.STACK_TOP_ORDER) and reject the rest, as one undo step;
  which frames are left alone is `keep_best_plan`.
- `decide_photos`: keep / reject / clear photos by id (the survey's, which need not be rows of the grid).
- `eliminated`: a photo taken out of the survey; each photo still in it is preferred over it (pairs
  for the keeper model, source 'survey'), one undo step that also brings the photo back.

Tested without a window in tests/test_culling.py.
"""

from __future__ import annotations

from typing import Callable

from fluxcull.catalog.scores import KEEPER_STATES, decision_value, keeper_state

SURVEY_SOURCE = "survey"            # decision-log source of the survey's preference pairs


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


def file_name(rec: dict | None) -> str:
    """The file name a message names a photo by."""
    return ((rec or {}).get("path") or "").replace("\\", "/").rsplit("/", 1)[-1] or "this photo"


class StackCulling:
    """Mixed into CullingSession (which gives rows, view, submit, source, undo_groups, _undo_hooks,
    closed, _show_decided, _after_write, _reread and target_rows)."""

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
        if len(self.undo_groups) == mark:  # its undo says what it undoes
            self._undo_hooks[mark - 1] = lambda n=len(plan): self.view.flash(
                f"Undid keeping the best of the stack: {n} photo{'s' * (n != 1)} as they were", 3000)
        self._reread()

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
