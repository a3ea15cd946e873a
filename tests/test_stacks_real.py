"""Stacks on a real burst, through the real pipeline (ingest, `fluxcull embed`): four frames of one real
photograph seconds apart (one sharp, three softened), then two other photographs minutes later. The
stored stack is the burst the keeper model's context inputs see; the grid shows it as one cell, S
opens it, Shift+K keeps the best frame and rejects the rest (one undo restores all), and the survey
eliminates frames into preference pairs and keeps what remains."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from PIL import ImageFilter

from conftest import SHARED_PHOTOS
from photogen import write_jpeg

ORDER = ["soft0", "sharp", "soft1", "soft2"]  # the sharp frame is not the first in time
SCORES = {"soft0": 0.41, "sharp": 0.83, "soft1": 0.27, "soft2": 0.12, "other1": 0.5, "other2": 0.6}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The library, built once: ingest, then `fluxcull embed` (which stacks the bursts)."""
    if not (SHARED_PHOTOS / "MANIFEST.tsv").is_file():
        pytest.skip(f"real test photos not found at {SHARED_PHOTOS} (expected ../shared/photos beside the repository)")
    from test_model_real import _sources

    from fluxcull.cli import main

    scene, other1, other2 = _sources(SHARED_PHOTOS, 3)
    root = tmp_path_factory.mktemp("real-burst")
    start = dt.datetime(2024, 5, 4, 9, 0, 0)
    frames = {"sharp": scene}
    for j, radius in enumerate((1.2, 2.0, 3.0)):
        frames[f"soft{j}"] = scene.filter(ImageFilter.GaussianBlur(radius))
    folder = root / "walk"
    paths = {name: write_jpeg(folder / f"R{i:04d}.JPG", frames[name], taken=start + dt.timedelta(seconds=2 * i))
             for i, name in enumerate(ORDER)}
    paths["other1"] = write_jpeg(folder / "R0100.JPG", other1, taken=start + dt.timedelta(minutes=3))
    paths["other2"] = write_jpeg(folder / "R0101.JPG", other2, taken=start + dt.timedelta(minutes=6))
    lib = root / "library"
    assert main(["--library", str(lib), "ingest", str(folder), "--role", "originals", "--workers", "1"]) == 0
    assert main(["--library", str(lib), "embed", "--workers", "1"]) == 0
    return lib, paths


@pytest.fixture
def real(built, tmp_path, monkeypatch):
    """A copy of the built library for one test, with keeper scores as a model would give them."""
    from fluxcull.catalog import transaction
    from fluxcull.library import Library

    src, paths = built
    shutil.copytree(src, tmp_path / "library")
    lib = Library.open(tmp_path / "library")
    monkeypatch.setenv("FLUXCULL_LIBRARY", str(lib.root))
    conn = lib.connect()
    ids = {name: conn.execute("SELECT id FROM photos WHERE path = ?", (str(p),)).fetchone()[0]
           for name, p in paths.items()}
    with transaction(conn):
        conn.executemany("UPDATE photos SET keeper_score = ?, base_score = ? WHERE id = ?",
                         [(SCORES[n], SCORES[n], ids[n]) for n in ids])
    yield lib, conn, ids
    conn.close()


def test_the_stack_is_the_burst_the_keeper_model_sees(real):
    from fluxcull.keeper.inputs import prepare

    lib, conn, ids = real
    prep = prepare(lib, conn)  # the model's inputs: bursts from find_bursts, as training and scoring compute them
    seen = {int(i): int(b) for i, b in zip(prep.corpus.ids, prep.burst)}
    stored = {r[0]: r[1:] for r in conn.execute("SELECT id, stack_id, stack_size, stack_position FROM photos")}
    assert {i: stored[i][0] for i in seen} == seen
    burst = [ids[n] for n in ORDER]
    assert [stored[i] for i in burst] == [(burst[0], 4, k) for k in (1, 2, 3, 4)]
    assert stored[ids["other1"]] == (ids["other1"], 1, 1) and stored[ids["other2"]] == (ids["other2"], 1, 1)


def test_cli_lists_the_stack_and_photos_carry_it(real, capsys):
    from fluxcull.cli import main

    lib, conn, ids = real
    assert main(["stacks", "--json"]) == 0
    stacks = json.loads(capsys.readouterr().out)
    assert len(stacks) == 1 and stacks[0]["size"] == 4 and stacks[0]["best"] == ids["sharp"]
    assert [f["id"] for f in stacks[0]["frames"]] == [ids[n] for n in ORDER]
    assert main(["photos", "--json"]) == 0
    photos = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert [(photos[ids[n]]["stack_id"], photos[ids[n]]["stack_size"], photos[ids[n]]["stack_position"])
            for n in ORDER] == [(ids["soft0"], 4, k) for k in (1, 2, 3, 4)]
    assert main(["stacks", "--rebuild", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["stacks"] == 1 and s["stacked_photos"] == 4 and s["written"] == 0  # computed again: the same


@pytest.fixture
def window(qtbot, real):
    pytest.importorskip("PySide6")
    from fluxcull.ui.mainwindow import MainWindow

    lib, conn, ids = real
    win = MainWindow(lib, watch_inbox=False)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    win.grid.setFocus()
    yield win, conn, ids
    win.close()


def _press(qtbot, win, key, modifier=None, widget=None):
    from PySide6.QtCore import Qt

    qtbot.keyClick(widget or win.mode.widget, key, modifier or Qt.NoModifier)
    qtbot.waitUntil(lambda: win.writer.idle() and win.reader.idle(), timeout=5000)


def _decisions(conn, ids, names):
    got = dict(conn.execute("SELECT id, decision FROM photos"))
    return [got[ids[n]] for n in names]


def test_the_grid_collapses_the_real_stack_and_keep_best_is_one_undo(qtbot, window):
    from PySide6.QtCore import Qt

    win, conn, ids = window
    model = win.model
    assert model.rowCount() == 3 and [model.row_of(ids[n]) is not None for n in ORDER] == [False, True, False, False]
    win.set_current_row(model.row_of(ids["sharp"]))
    _press(qtbot, win, Qt.Key_S)
    assert model.rowCount() == 6 and [model.photo_id(r) for r in range(4)] == [ids[n] for n in ORDER]
    _press(qtbot, win, Qt.Key_S)
    assert model.rowCount() == 3 and win.current_photo_id() == ids["sharp"]
    _press(qtbot, win, Qt.Key_K, Qt.ShiftModifier)
    assert _decisions(conn, ids, ORDER) == ["reject", "keep", "reject", "reject"]
    assert _decisions(conn, ids, ["other1", "other2"]) == ["none", "none"]
    _press(qtbot, win, Qt.Key_Z, Qt.ControlModifier)
    assert _decisions(conn, ids, ORDER) == ["none"] * 4
    scores = dict(conn.execute("SELECT id, keeper_score FROM photos"))
    assert [scores[ids[n]] for n in ORDER] == [SCORES[n] for n in ORDER]  # their own scores back


def test_the_survey_of_the_real_stack_keeps_the_survivor(qtbot, window):
    from PySide6.QtCore import Qt

    from fluxcull.catalog.decisions import active_preferences

    win, conn, ids = window
    win.set_current_row(win.model.row_of(ids["sharp"]))
    _press(qtbot, win, Qt.Key_N, widget=win.grid)
    survey = win.survey
    assert survey.ids == [ids[n] for n in ORDER]
    qtbot.waitUntil(survey.loaded, timeout=20000)
    for name in ("soft2", "soft0", "soft1"):
        survey.set_current(ids[name])
        _press(qtbot, win, Qt.Key_Slash)
    assert survey.ids == [ids["sharp"]]
    pairs = set(active_preferences(conn))
    assert pairs == {(ids["sharp"], ids["soft2"]), (ids["soft0"], ids["soft2"]), (ids["soft1"], ids["soft2"]),
                     (ids["sharp"], ids["soft0"]), (ids["soft1"], ids["soft0"]), (ids["sharp"], ids["soft1"])}
    _press(qtbot, win, Qt.Key_Slash)  # the last photo stays
    assert survey.ids == [ids["sharp"]] and "last photo" in win.status.message_label.text()
    _press(qtbot, win, Qt.Key_Return)
    assert _decisions(conn, ids, ORDER) == ["none", "keep", "none", "none"] and win.mode.name == "grid"
