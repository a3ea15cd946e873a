"""Stacks in the window: a burst is one cell until S opens it, Shift+S collapses or shows every stack,
Shift+K keeps the best frame and rejects the rest as one undo step; the survey view (N) eliminates
frames (preference pairs) and Enter keeps the ones that remain."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QItemSelectionModel, Qt  # noqa: E402
from PySide6.QtWidgets import QToolButton  # noqa: E402

import stackgen  # noqa: E402
from fluxcull.catalog.decisions import active_preferences  # noqa: E402
from fluxcull.jobs import run_job  # noqa: E402
from uigen import decisions, press, settle  # noqa: E402

PLAN = [[3, 1, 4], [2, 1]]  # 11 photos; stacks of 3, 4 and 2 frames, two photos alone: 5 cells


@pytest.fixture
def window(open_window, library, conn):
    from fluxcull.keeper.stacks import stacks_job

    made = stackgen.build(library, conn, PLAN)
    run_job(stacks_job(library))
    four = made["scenes"][2]
    stackgen.set_scores(conn, {four[0]: 0.31, four[1]: 0.62, four[2]: 0.87, four[3]: 0.12})
    win = open_window()
    win.made = made
    return win


def test_a_stack_is_one_cell_until_S_opens_it(qtbot, window):
    model, four = window.model, window.made["scenes"][2]
    assert model.rowCount() == 5 and window.model.query.stacks == "collapsed"
    row = model.row_of(four[2])  # the best-scored frame stands for its stack
    assert row is not None and all(model.row_of(p) is None for p in four if p != four[2])
    assert model.record(row)["stack_size"] == 4
    window.set_current_row(row)
    press(qtbot, window, window.mode.widget, Qt.Key_S)
    assert model.rowCount() == 8 and [model.row_of(p) for p in four] == [row, row + 1, row + 2, row + 3]
    assert window.current_photo_id() == four[2]  # the grid stays on the photo
    window.set_current_row(row)  # the first frame, open: S closes the stack onto its best frame
    press(qtbot, window, window.mode.widget, Qt.Key_S)
    assert model.rowCount() == 5 and window.current_photo_id() == four[2]
    window.actions_by_name["collapse_stacks"].trigger()  # Shift+S: every frame
    assert model.rowCount() == 11 and not window.browser.stacks.collapsed
    assert not window.actions_by_name["collapse_stacks"].isChecked()
    press(qtbot, window, window.grid, Qt.Key_S, Qt.ShiftModifier)
    assert model.rowCount() == 5 and window.actions_by_name["collapse_stacks"].isChecked()
    alone = window.made["scenes"][1][0]
    window.set_current_row(model.row_of(alone))
    press(qtbot, window, window.mode.widget, Qt.Key_S)
    assert model.rowCount() == 5 and "in no stack" in window.status.message_label.text()
    assert "11 photos in 5 cells" in window.status.counts_label.text()


def test_shift_k_keeps_the_best_frame_rejects_the_rest_and_one_undo_restores(qtbot, window, conn):
    four = window.made["scenes"][2]
    window.set_current_row(window.model.row_of(four[2]))
    press(qtbot, window, window.mode.widget, Qt.Key_K, Qt.ShiftModifier)
    assert decisions(conn, four) == ["reject", "reject", "keep", "reject"]
    assert "Kept" in window.status.message_label.text() and "rejected 3 other frames" in window.status.message_label.text()
    assert window.model.record(window.model.row_of(four[2]))["decision"] == "keep"
    assert window.counts["keep"] == 1 and window.counts["reject"] == 3
    events = conn.execute("SELECT kind, source, batch FROM decision_events ORDER BY id").fetchall()
    assert len(events) == 4 and len({e[2] for e in events}) == 1 and {e[1] for e in events} == {"gui"}
    press(qtbot, window, window.mode.widget, Qt.Key_Z, Qt.ControlModifier)
    assert decisions(conn, four) == ["none"] * 4
    assert window.counts["keep"] == 0 and window.counts["reject"] == 0
    assert window.model.record(window.model.row_of(four[2]))["decision"] == "none"


def test_survey_eliminates_by_preference_and_enter_keeps_what_remains(qtbot, window, conn):
    four = window.made["scenes"][2]
    window.set_current_row(window.model.row_of(four[2]))
    press(qtbot, window, window.grid, Qt.Key_N)
    survey = window.survey
    assert window.mode.name == "survey" and survey.ids == four and survey.current_id == four[0]  # capture order
    press(qtbot, window, window.mode.widget, Qt.Key_Slash)  # the first frame goes: each other one preferred to it
    assert survey.ids == four[1:] and survey.current_id == four[1]
    assert sorted(active_preferences(conn)) == sorted((w, four[0]) for w in four[1:])
    assert {r[0] for r in conn.execute("SELECT source FROM decision_events")} == {"survey"}
    press(qtbot, window, window.mode.widget, Qt.Key_Z, Qt.ControlModifier)  # undo brings it back
    assert active_preferences(conn) == [] and survey.ids == four and survey.current_id == four[0]
    press(qtbot, window, window.mode.widget, Qt.Key_Delete)
    tile = survey.tiles[four[3]]
    tile.findChild(QToolButton, "survey_eliminate").click()  # the ×
    qtbot.waitUntil(lambda: window.writer.idle(), timeout=5000)
    assert survey.ids == [four[1], four[2]]
    assert sorted(active_preferences(conn)) == sorted([(four[1], four[0]), (four[2], four[0]), (four[3], four[0]),
                                                      (four[1], four[3]), (four[2], four[3])])
    survey.set_current(four[1])
    press(qtbot, window, window.mode.widget, Qt.Key_X)  # a decision in the survey: its current photo
    assert decisions(conn, [four[1]]) == ["reject"] and survey.records[four[1]]["decision"] == "reject"
    survey.tiles[four[1]].findChild(QToolButton, "survey_keep").click()
    qtbot.waitUntil(lambda: window.writer.idle() and window.reader.idle(), timeout=5000)
    assert decisions(conn, [four[1]]) == ["keep"]
    press(qtbot, window, window.mode.widget, Qt.Key_Return)  # Enter: the two left are kept
    assert decisions(conn, four) == ["none", "keep", "keep", "none"]
    assert window.mode.name == "grid" and "survey's choice" in window.status.message_label.text()


def test_survey_of_selected_photos_and_when_there_is_nothing_to_survey(qtbot, window):
    model = window.model
    sm = window.grid.selectionModel()
    window.set_current_row(0)
    for r in (0, 2, 4):
        sm.select(model.index(r), QItemSelectionModel.Select)
    press(qtbot, window, window.grid, Qt.Key_N)
    assert window.mode.name == "survey" and window.survey.ids == [model.photo_id(r) for r in (0, 2, 4)]
    qtbot.waitUntil(window.survey.loaded, timeout=10000)
    press(qtbot, window, window.mode.widget, Qt.Key_Escape)
    assert window.mode.name == "grid"
    alone = window.made["scenes"][1][0]
    window.set_current_row(model.row_of(alone))
    press(qtbot, window, window.grid, Qt.Key_N)
    assert window.mode.name == "grid" and "select 2 to 8 photos" in window.status.message_label.text()


def test_survey_tiles_fill_the_view():
    from fluxcull.ui.survey import grid_shape

    assert grid_shape(2, 1600, 900) == (2, 1)
    assert grid_shape(4, 1600, 900) == (2, 2)
    assert grid_shape(8, 1920, 900) == (4, 2)
    assert grid_shape(3, 600, 1200) == (1, 3)


def test_the_filter_bar_shows_the_photos_in_stacks_or_those_alone(qtbot, window):
    model, bar = window.model, window.filters.find

    def sizes() -> list[int]:
        return sorted(model.record(r)["stack_size"] for r in range(model.rowCount()))

    bar.widgets["stack"][0].setValue(2)  # Stack ≥ 2: the bursts
    settle(qtbot, window)
    assert sizes() == [2, 3, 4]  # collapsed: one cell a stack, its best frame
    assert model.row_of(window.made["scenes"][2][2]) is not None
    window.actions_by_name["collapse_stacks"].trigger()  # every frame
    settle(qtbot, window)
    assert sizes() == [2, 2, 3, 3, 3, 4, 4, 4, 4]
    bar.widgets["stack"][0].setValue(4)
    settle(qtbot, window)
    assert sizes() == [4, 4, 4, 4]
    bar.clear()
    window.browser.open_filter(where="stack=1")  # the photos alone: the bar shows stack ≥ 1, and < 2 beside it
    settle(qtbot, window)
    assert sizes() == [1, 1] and bar.extra_label.text() == "and stack<=1"


def test_new_burst_thresholds_in_the_settings_compute_the_stacks_again(qtbot, window, conn):
    from fluxcull.ui.background import STACKS_TITLE

    said = []
    flash = window.status.flash
    window.status.flash = lambda text, ms=4000: (said.append(text), flash(text, ms))
    assert window.model.rowCount() == 5
    window.open_settings()
    window.dialog.fields["bursts"].boxes["min_similarity"].setValue(1.0)  # no two frames are that alike
    window.dialog._save()
    qtbot.waitUntil(lambda: any(t == STACKS_TITLE for t, *_ in window.runner.history) and window.runner.current is None,
                    timeout=60000)
    settle(qtbot, window)
    assert window.model.rowCount() == 11  # every photo alone: no stack left to collapse
    assert conn.execute("SELECT COUNT(*) FROM photos WHERE stack_size > 1").fetchone()[0] == 0
    assert any(t.startswith("New burst thresholds") for t in said)
    assert any(t.startswith("Stacks computed again (at most 15 s apart, similarity at least 1): 0 stacks")
               for t in said), said

    window.open_settings()  # back to the defaults: the stacks come back
    window.dialog.fields["bursts"].boxes["min_similarity"].setValue(0.6)
    window.dialog._save()
    qtbot.waitUntil(lambda: sum(t == STACKS_TITLE for t, *_ in window.runner.history) == 2
                    and window.runner.current is None, timeout=60000)
    settle(qtbot, window)
    assert window.model.rowCount() == 5 and window.catalog.setting("bursts") == {}
