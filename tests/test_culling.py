"""The rules of culling without a window: targets, optimistic decisions, undo groups, auto-advance,
counts, a refused decision in compare, a failed write. A real catalog; no Qt anywhere."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fluxcull.catalog import Catalog, transaction
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.catalog.scores import keeper_state
from fluxcull.culling import CullingSession


class Rows:
    """The grid's model, as the session sees it: ids in rows, records with decisions."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.query = PhotoQuery()
        self.ids = catalog.photo_ids(self.query)
        self.decisions = {i: "none" for i in self.ids}
        self.refreshed: list = []

    def rowCount(self):
        return len(self.ids)

    def photo_id(self, row):
        return self.ids[row]

    def set_decisions(self, rows, decision):
        old = [self.decisions[self.ids[r]] for r in rows]
        for r in rows:
            self.decisions[self.ids[r]] = decision
        return old

    def keeper_state(self, row):
        rec = {**self.catalog.photo(self.ids[row]), "decision": self.decisions[self.ids[row]]}
        return keeper_state(rec, self.ids[row] in self.catalog.confirmed_keeper_ids())

    def refresh_rows(self, rows):
        self.refreshed.append(list(rows))
        recs = self.catalog.photos([self.ids[r] for r in rows])
        for pid, rec in recs.items():
            self.decisions[pid] = rec["decision"]

    def refresh_all(self):
        self.refreshed.append("all")
        for pid, rec in self.catalog.photos(self.ids).items():
            self.decisions[pid] = rec["decision"]

    def row_of(self, photo_id, hint=None):
        return self.ids.index(photo_id) if photo_id in self.ids else None

    def mark(self, row, field):
        return self.shown_marks.get((self.ids[row], field), self.catalog.photo(self.ids[row])[field])

    def set_marks(self, rows, field, value):
        for r in rows:
            self.shown_marks[(self.ids[r], field)] = value

    @property
    def shown_marks(self):  # stars and labels shown before they are committed
        if not hasattr(self, "_shown_marks"):
            self._shown_marks = {}
        return self._shown_marks


class Mode:
    def __init__(self, name, targets_selection=False, decide_refusal=None, marks_shown=False):
        self.name, self.targets_selection, self.decide_refusal = name, targets_selection, decide_refusal
        self.marks_shown = marks_shown


GRID = Mode("grid", targets_selection=True)
LOUPE = Mode("loupe")
COMPARE = Mode("compare", decide_refusal="In compare, ← and → choose the better photo", marks_shown=True)


class View:
    def __init__(self):
        self.mode = GRID
        self.row: int | None = 0
        self.selection: list[int] = []
        self.messages: list[str] = []
        self.shown: list[str] = []
        self.status_updates = 0
        self.refreshed_record = 0

    def current_row(self):
        return self.row

    def selected_rows(self):
        return list(self.selection)

    def go_to(self, row):
        self.row = row
        self.selection = []

    def show_decision(self, decision):
        self.shown.append(decision)

    def flash(self, text, ms):
        self.messages.append(text)

    def refresh_record(self):
        self.refreshed_record += 1

    def status_changed(self, now=False):
        self.status_updates += 1

    def decisions_saved(self):
        self.saved = getattr(self, "saved", 0) + 1

    def shown_photos(self):
        return list(getattr(self, "pair", []))


def sync_submit(catalog):
    """Runs the write at once, as the writer thread would, and reports back."""

    def submit(fn, on_done):
        try:
            result, error = fn(catalog), None
        except Exception as exc:
            result, error = None, f"{type(exc).__name__}: {exc}"
        if on_done is not None:
            on_done(result, error)

    return submit


@pytest.fixture
def setup(conn):
    with transaction(conn):
        for i in range(6):
            conn.execute("INSERT INTO photos(path, role, size, mtime_ns, capture_time, keeper_score)"
                         " VALUES (?, 'originals', 1, 1, ?, ?)", (f"/p/{i}.jpg", 1000 + i, 0.1 * i))
    catalog = Catalog(conn)
    rows, view = Rows(catalog), View()
    session = CullingSession(rows, view, sync_submit(catalog))
    session.recount()
    return catalog, rows, view, session


def stored(catalog, rows):
    recs = catalog.photos(rows.ids)
    return [recs[i]["decision"] for i in rows.ids]


def test_decide_shows_at_once_commits_and_auto_advances(setup):
    catalog, rows, view, s = setup
    assert s.counts == {"keep": 0, "reject": 0, "none": 6, "scored": 6, "keepers": 0}
    assert s.decide("keep") == [rows.ids[0]]
    assert view.row == 1 and view.shown == ["keep"]
    assert stored(catalog, rows)[:2] == ["keep", "none"]
    assert s.counts["keep"] == 1 and s.counts["none"] == 5  # optimistic, before any recount
    s.decide("reject")
    s.decide("clear")
    assert stored(catalog, rows)[:4] == ["keep", "reject", "none", "none"]
    assert view.row == 3
    assert s.undo_groups == [1, 1, 1]


def test_selection_is_one_group_and_one_undo_reverts_it(setup):
    catalog, rows, view, s = setup
    view.selection = [4, 2, 3]
    s.decide("reject")
    assert stored(catalog, rows) == ["none", "none", "reject", "reject", "reject", "none"]
    assert view.row == 0  # several photos: no auto-advance
    assert s.undo_groups == [3]
    s.undo()
    assert stored(catalog, rows) == ["none"] * 6
    assert rows.refreshed[-1] == "all" and s.counts["reject"] == 0
    assert view.messages[-1] == "Undid reject of 3 photos"


def test_undo_of_one_decision_returns_to_its_photo(setup):
    catalog, rows, view, s = setup
    view.row = 2
    s.decide("keep")
    assert view.row == 3
    s.undo()
    assert view.row == 2 and stored(catalog, rows)[2] == "none"
    s.undo()
    assert view.messages[-1] == "Nothing to undo"


def test_loupe_targets_the_shown_photo_and_compare_refuses(setup):
    catalog, rows, view, s = setup
    view.mode, view.selection, view.row = LOUPE, [0, 1], 4
    s.decide("keep")
    assert stored(catalog, rows)[4] == "keep" and stored(catalog, rows)[0] == "none"
    view.mode = COMPARE
    assert s.decide("keep") == []
    assert view.messages[-1].startswith("In compare")


def test_auto_advance_off_stays_and_stops_at_the_end(setup):
    catalog, rows, view, s = setup
    assert s.set_auto_advance(False) and view.messages[-1] == "Auto-advance off"
    s.decide("keep")
    assert view.row == 0
    s.set_auto_advance(True)
    view.row = 5
    s.decide("keep")
    assert view.row == 5  # the last photo: nowhere to go


def test_a_choice_is_one_undo_step(setup):
    catalog, rows, view, s = setup
    catalog.prefer(rows.ids[0], rows.ids[1], "compare")
    s.chose(rows.ids[0], rows.ids[1])
    assert s.undo_groups == [1]
    s.undo()
    assert view.messages[-1] == "Undid comparison"
    assert catalog.undo(1, "gui", sources=("compare",)) == []


def test_a_failed_write_is_reported_and_the_rows_reread(setup, monkeypatch):
    catalog, rows, view, s = setup

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(catalog, "decide", broken)
    s.decide("keep")
    assert view.messages[-1] == "Not saved: OSError: disk full"
    assert rows.refreshed[-1] == "all" and rows.decisions[rows.ids[0]] == "none"
    assert s.counts["keep"] == 0  # counted again from the catalog


def test_culling_imports_no_qt():
    code = ("import sys, fluxcull.culling, fluxcull.workflows, fluxcull.catalog.api\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# -- stacks and the survey ------------------------------------------------------------------------------
def test_keep_best_plan_keeps_the_top_frame_and_never_overturns_a_keeper():
    from fluxcull.culling import keep_best_plan

    frames = [{"id": 5, "decision": "none", "keeper_score": 0.9}, {"id": 3, "decision": "none", "keeper_score": 0.4},
              {"id": 4, "decision": "reject", "keeper_score": 0.0}, {"id": 6, "decision": "keep", "keeper_score": 1.0},
              {"id": 7, "decision": "none", "keeper_score": 1.0}]
    assert keep_best_plan({3: frames}, linked={7}) == [(5, "keep", "best of stack 3"),
                                                      (3, "reject", "stack 3, not its best")]
    assert keep_best_plan({3: [{"id": 5, "decision": "keep"}]}) == []  # the best is kept already
    assert keep_best_plan({3: []}) == []


def _stacked(catalog, conn, rows):
    """rows 0-3 one stack (photo 1 its first frame), scored 0.0 .. 0.3: photo 4 is its best."""
    from fluxcull.catalog import stacks_store

    stacks_store.write(conn, [(rows.ids[i], rows.ids[0], 4, i + 1) for i in range(4)] +
                       [(rows.ids[i], rows.ids[i], 1, 1) for i in (4, 5)])


def test_keep_best_is_one_undo_step(setup, conn):
    catalog, rows, view, s = setup
    _stacked(catalog, conn, rows)
    view.row = 1
    s.keep_best()
    assert stored(catalog, rows) == ["reject", "reject", "reject", "keep", "none", "none"]
    assert s.undo_groups == [1] and view.messages[-1].startswith("Kept 3.jpg, the best of its stack; rejected 3")
    assert rows.refreshed[-1] == "all" and s.counts["keep"] == 1 and s.counts["reject"] == 3
    s.keep_best()  # nothing left to change: no undo step
    assert s.undo_groups == [1] and view.messages[-1].startswith("Nothing to change")
    view.row = 5  # a photo alone is the best of its own stack
    s.keep_best()
    assert stored(catalog, rows)[5] == "keep" and s.undo_groups == [1, 1]
    s.undo()
    s.undo()
    assert stored(catalog, rows) == ["none"] * 6
    assert view.messages[-1] == "Undid keeping the best of the stack: 4 photos as they were"
    view.mode = COMPARE
    s.keep_best()
    assert view.messages[-1].startswith("In compare")


class SurveyMode(Mode):
    def __init__(self, photos):
        super().__init__("survey")
        self.photos = photos

    def target_photos(self):
        return list(self.photos)


def test_survey_decides_its_photo_and_an_elimination_is_undone_as_one_step(setup, conn):
    catalog, rows, view, s = setup
    view.mode = SurveyMode([rows.ids[2]])
    assert s.decide("keep") == [rows.ids[2]]
    assert stored(catalog, rows)[2] == "keep" and view.row == 0  # no advance in the survey
    assert view.refreshed_record == 1 and rows.refreshed[-1] == "all"
    back = []
    s.eliminated(rows.ids[3], [rows.ids[1], rows.ids[2], rows.ids[3]], lambda i: f"#{i}",
                 restore=lambda: back.append(rows.ids[3]))
    assert s.undo_groups == [1, 2]
    from fluxcull.catalog.decisions import active_preferences

    assert sorted(active_preferences(conn)) == [(rows.ids[1], rows.ids[3]), (rows.ids[2], rows.ids[3])]
    assert view.messages[-1] == f"Eliminated #{rows.ids[3]}: #{rows.ids[1]}, #{rows.ids[2]} preferred over it (Ctrl+Z brings it back)"
    s.undo()
    assert active_preferences(conn) == [] and back == [rows.ids[3]] and s.undo_groups == [1]
    s.undo()
    assert stored(catalog, rows)[2] == "none"
# -- stars, colour labels and what a choice decides ------------------------------------------------------
def marks(catalog, rows):
    recs = catalog.photos(rows.ids)
    return [(recs[i]["rating"], recs[i]["color_label"]) for i in rows.ids]


def test_stars_and_labels_act_like_decisions_and_undo_takes_them_back(setup):
    catalog, rows, view, s = setup
    assert s.rate(4) == [rows.ids[0]]
    assert view.row == 1 and rows.shown_marks[(rows.ids[0], "rating")] == 4  # shown, committed, advanced
    assert view.messages[-1] == "★★★★"
    view.selection = [2, 3]
    s.label("red")
    assert marks(catalog, rows)[:4] == [(4, None), (0, None), (0, "red"), (0, "red")]
    assert view.messages[-1] == "Red label on 2 photos" and view.refreshed_record >= 2
    assert s.undo_groups == [1, 1]  # two photos labelled together are one step
    s.undo()
    assert marks(catalog, rows)[:4] == [(4, None), (0, None), (0, None), (0, None)]
    assert view.messages[-1] == "Undid colour label of 2 photos"
    s.undo()
    assert marks(catalog, rows)[0] == (0, None) and view.row == 0  # back to the photo it was given on
    assert view.messages[-1] == "Undid stars"
    kinds = [r[0] for r in catalog.connection.execute("SELECT kind FROM decision_events ORDER BY id")]
    assert kinds == ["rate", "label", "label", "undo", "undo", "undo"]


def test_a_labels_key_again_removes_it_and_a_mixed_selection_takes_it(setup):
    from fluxcull.culling import label_after

    assert label_after(["red", "red"], "red") is None
    assert label_after(["red", None], "red") == "red"
    assert label_after(["blue"], "red") == "red"
    catalog, rows, view, s = setup
    s.set_auto_advance(False)
    s.label("green")
    s.label("green")
    assert marks(catalog, rows)[0] == (0, None) and view.messages[-1] == "Label removed"
    s.label("yellow")
    view.selection = [0, 1]
    s.label("yellow")  # one of the two has it: both take it
    assert marks(catalog, rows)[:2] == [(0, "yellow"), (0, "yellow")]
    s.label("yellow")
    assert marks(catalog, rows)[:2] == [(0, None), (0, None)]
    s.rate(0)
    assert view.messages[-1] == "No stars on 2 photos"


def test_in_the_loupe_stars_go_to_the_photo_shown_and_in_compare_to_both(setup):
    catalog, rows, view, s = setup
    view.mode, view.selection, view.row = LOUPE, [0, 1], 4
    s.rate(2)
    assert [m[0] for m in marks(catalog, rows)] == [0, 0, 0, 0, 2, 0] and view.row == 5
    view.mode = COMPARE
    view.pair = [{"id": rows.ids[1], "color_label": None}, {"id": rows.ids[3], "color_label": "red"}]
    s.rate(5)
    s.label("red")
    assert marks(catalog, rows)[1] == (5, "red") and marks(catalog, rows)[3] == (5, "red")
    assert view.row == 5  # no advance in compare


def test_compare_verdict_keeps_the_winner_and_rejects_the_loser_only_when_both_are_undecided():
    from fluxcull.culling import compare_verdict

    assert compare_verdict("none", "none") == ("keep", "reject")
    for decided in (("keep", "none"), ("none", "reject"), ("reject", "none"), ("keep", "reject")):
        assert compare_verdict(*decided) is None


def test_a_choice_that_decides_is_one_undo_step_with_its_decisions(setup):
    from fluxcull.culling import choice_verdict

    catalog, rows, view, s = setup
    a, b = rows.ids[0], rows.ids[1]
    assert catalog.setting("compare.decides") == "on"
    result = catalog.choose(a, b, "compare", verdict=choice_verdict(catalog))
    assert result["decided"] == [[a, "keep"], [b, "reject"]]
    s.chose(a, b, name=lambda pid: f"#{pid}")
    s.choice_saved(result, name=lambda pid: f"#{pid}")
    assert view.messages[-1] == f"Kept #{a}, rejected #{b} (Ctrl+Z undoes the choice and both decisions)"
    assert stored(catalog, rows)[:2] == ["keep", "reject"] and s.counts["keep"] == 1
    s.undo()
    assert stored(catalog, rows)[:2] == ["none", "none"]
    assert view.messages[-1] == "Undid comparison and the keep and reject it made"
    from fluxcull.catalog.decisions import active_preferences

    assert active_preferences(catalog.connection) == []
    # a photo already decided keeps its decision: the choice is only recorded
    catalog.decide([a], "keep", "gui")
    assert catalog.choose(b, a, "compare", verdict=choice_verdict(catalog))["decided"] == []
    catalog.set_setting("compare.decides", "off")
    assert choice_verdict(catalog) is None
    assert catalog.choose(rows.ids[2], rows.ids[3], "compare", verdict=None)["decided"] == []
    assert stored(catalog, rows)[:4] == ["keep", "none", "none", "none"]
