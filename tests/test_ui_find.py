"""The filter bar finds real photos by camera and date, the toolbar's Stars and Label by your marks, the
bar's Stack by stack size; saved filters are kept in the catalog, listed in the source panel, and fill
the toolbar and the filter bar when chosen."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from fluxcull.catalog.filters import FIELDS  # noqa: E402
from fluxcull.cli import main  # noqa: E402
from test_find import ingest_real  # noqa: E402
from uigen import settle  # noqa: E402


@pytest.fixture
def window(open_window, shared_photos, tmp_path, capsys):
    ids = ingest_real(shared_photos, tmp_path, capsys)
    win = open_window(size=(1400, 850))
    win.ids = ids
    return win


def shown(win) -> set[str]:
    return {win.model.record(r)["path"].rsplit("/", 1)[-1] for r in range(win.model.rowCount())}


def test_the_bar_is_generated_from_the_declared_filters(window):
    bar = window.filters.find
    assert set(bar.widgets) == {f.key for f in FIELDS if f.in_bar}
    assert {"text", "camera", "lens", "taken", "score", "type"} <= set(bar.widgets)


def test_the_filter_bar_finds_photos_by_camera_and_date(qtbot, window):
    bar = window.filters.find
    assert len(shown(window)) == 6
    camera = bar.widgets["camera"][0]
    qtbot.keyClicks(camera, "nikon")
    settle(qtbot, window)
    assert shown(window) == {"Nikon_D70.jpg", "Nikon_COOLPIX_P1.jpg", "DSC_0001.dng"}
    date_from, date_to = bar.widgets["taken"]
    qtbot.keyClicks(date_from, "2008-03")
    qtbot.keyClicks(date_to, "2008-03-10")  # the 10th included
    settle(qtbot, window)
    assert shown(window) == {"Nikon_COOLPIX_P1.jpg"}
    assert window.model.query.camera == "nikon" and window.model.query.taken_before == "2008-03-11"
    date_to.clear()
    qtbot.keyClicks(date_to, "2008-13")  # not a date: marked, and left out of the query
    settle(qtbot, window)
    assert "d64545" in date_to.styleSheet()
    assert shown(window) == {"Nikon_D70.jpg", "Nikon_COOLPIX_P1.jpg", "DSC_0001.dng"}  # from March 2008 on
    type_combo = bar.widgets["type"][0]
    type_combo.setCurrentIndex(type_combo.findData("raw"))
    settle(qtbot, window)
    assert shown(window) == {"DSC_0001.dng"}
    type_combo.setCurrentIndex(type_combo.findData("png"))
    settle(qtbot, window)
    assert shown(window) == set()
    assert "matches the filter bar" in window.grid.empty_text and "camera~nikon" in window.grid.empty_text
    bar.clear()
    settle(qtbot, window)
    assert len(shown(window)) == 6
    qtbot.keyClicks(bar.widgets["text"][0], "85mm")  # the text field searches lenses too
    qtbot.keyClick(bar.widgets["text"][0], Qt.Key_Return)
    settle(qtbot, window)
    assert shown(window) == {"DSC_0001.dng"}
    assert window.grid.hasFocus() or window.focusWidget() is window.grid  # Enter hands the keyboard back


def test_dates_show_as_a_person_writes_them(window):
    bar = window.filters.find
    for values, texts in (({"taken_from": "2008-03-02", "taken_before": "2008-04-01"}, ["2008-03-02", "2008-03-31"]),
                          ({"taken_from": "2008-01-01", "taken_before": "2009-01-01"}, ["2008", "2008"]),
                          ({"taken_before": "2008-03-01T12:00:00"}, ["", "2008-03-01T11:59:59"])):
        bar.set_values(values)
        assert [w.text() for w in bar.widgets["taken"]] == texts
        assert bar.values() == values


def test_cameras_are_suggested_from_the_catalog(window):
    model = window.filters.find._completers["camera"]
    assert {"NIKON D70", "Canon EOS 40D", "NIKON Z 9"} <= set(model.stringList())
    assert window.filters.find._completers["lens"].stringList() == ["NIKON NIKKOR Z 85mm f/1.2 S"]


def test_saved_filters_round_trip_and_appear_in_the_source_panel(qtbot, window, capsys):
    bar = window.filters.find
    bar.set_values({"camera": "nikon", "taken_from": "2008-03-01", "taken_before": "2008-04-01"})
    window.filters.decision_combo.setCurrentIndex(window.filters.decision_combo.findData("none"))
    settle(qtbot, window)
    assert shown(window) == {"Nikon_D70.jpg", "Nikon_COOLPIX_P1.jpg"}
    bar.save_wanted.emit("Nikon March")  # what Save… sends once a name is typed
    assert window.catalog.saved_filter("nikon march")["expression"] == "camera~nikon and taken=2008-03 and decision=none"
    qtbot.waitUntil(lambda: ("saved", "Nikon March") in window.sessions._items, timeout=5000)
    item = window.sessions._items[("saved", "Nikon March")]
    assert item.text(1) == "camera~nikon and taken=2008-03 and decision=none"

    bar.clear()
    window.filters.decision_combo.setCurrentIndex(0)
    settle(qtbot, window)
    assert len(shown(window)) == 6
    window.sessions.setCurrentItem(item)  # choosing it in the panel, as a click does
    settle(qtbot, window)
    assert shown(window) == {"Nikon_D70.jpg", "Nikon_COOLPIX_P1.jpg"}
    assert bar.widgets["camera"][0].text() == "nikon"
    assert [w.text() for w in bar.widgets["taken"]] == ["2008-03", "2008-03"]  # the month, said as one
    assert window.filters.decision_combo.currentData() == "none"
    assert window.filters.source_label.text() == "Saved filter: Nikon March"

    # one saved on the command line, with what the bar has no widget for, shows after a re-read
    assert main(["filters", "--save", "P1 raw or not", "--where", "name~P1 and score<0.9"]) == 0
    capsys.readouterr()
    window.browser.load_sessions()
    qtbot.waitUntil(lambda: ("saved", "P1 raw or not") in window.sessions._items, timeout=5000)
    window.sessions.setCurrentItem(window.sessions._items[("saved", "P1 raw or not")])
    settle(qtbot, window)
    assert bar.extra == {"name": "P1", "score_below": 0.9}
    assert bar.extra_label.text() == "and name~P1 and score<0.9"
    assert shown(window) == set()  # nothing is scored yet
    window.browser.delete_filter("Nikon March")
    qtbot.waitUntil(lambda: ("saved", "Nikon March") not in window.sessions._items, timeout=5000)
    assert [f["name"] for f in window.catalog.saved_filters()] == ["P1 raw or not"]


def test_nothing_to_save_is_said(qtbot, window):
    assert window.browser.save_filter("empty") is False
    assert "Nothing to save" in window.status.message_label.text()
    assert window.catalog.saved_filters() == []


def test_stars_and_label_find_photos_and_travel_in_saved_filters(qtbot, window, capsys):
    ids, f = window.ids, window.filters
    for argv in (["rate", "--stars", "4", str(ids["Nikon_D70.jpg"]), str(ids["Canon_40D.jpg"])],
                 ["rate", "--stars", "2", str(ids["Pentax_K10D.jpg"])],
                 ["label", "--color", "green", str(ids["Nikon_D70.jpg"]), str(ids["Pentax_K10D.jpg"])]):
        assert main(argv) == 0
    capsys.readouterr()
    window.browser.photos_changed()
    settle(qtbot, window)
    f.stars_combo.setCurrentIndex(f.stars_combo.findData(3))  # ★★★+
    settle(qtbot, window)
    assert shown(window) == {"Nikon_D70.jpg", "Canon_40D.jpg"}
    f.label_combo.setCurrentIndex(f.label_combo.findData("green"))
    settle(qtbot, window)
    assert shown(window) == {"Nikon_D70.jpg"}
    assert window.model.query.min_rating == 3 and window.model.query.label == "green"
    window.browser.save_filter("Green picks")
    assert window.catalog.saved_filter("green picks")["expression"] == "stars>=3 and label=green"

    window.filters.show_everything()
    f.label_combo.setCurrentIndex(f.label_combo.findData("none"))  # no colour label
    settle(qtbot, window)
    assert shown(window) == {"Canon_40D.jpg", "Nikon_COOLPIX_P1.jpg", "Fujifilm_FinePix_E500.jpg", "DSC_0001.dng"}
    f.label_combo.setCurrentIndex(0)
    settle(qtbot, window)
    assert len(shown(window)) == 6

    qtbot.waitUntil(lambda: ("saved", "Green picks") in window.sessions._items, timeout=5000)
    window.sessions.setCurrentItem(window.sessions._items[("saved", "Green picks")])
    settle(qtbot, window)
    assert shown(window) == {"Nikon_D70.jpg"}
    assert f.stars_combo.currentData() == 3 and f.label_combo.currentData() == "green"  # the toolbar shows it

    # what the toolbar has no entry for (at most two stars) is shown beside the bar and still applies
    assert main(["filters", "--save", "Two at most", "--where", "stars<=2 and stars>=1"]) == 0
    capsys.readouterr()
    window.browser.open_filter(saved="Two at most")
    settle(qtbot, window)
    assert shown(window) == {"Pentax_K10D.jpg"}
    assert f.stars_combo.currentData() == 1 and f.find.extra == {"rating_below": 3}
    assert f.find.extra_label.text() == "and stars<=2"
    f.label_combo.setCurrentIndex(f.label_combo.findData("red"))
    settle(qtbot, window)
    assert shown(window) == set()
    assert "matches the filter bar" in window.grid.empty_text and "stars<=2" in window.grid.empty_text

    window.filters.show_everything()
    window.browser.open_filter(where="stars>=4 and label=green")  # `fluxcull gui --where`
    settle(qtbot, window)
    assert shown(window) == {"Nikon_D70.jpg"} and f.stars_combo.currentData() == 4


def test_the_stack_field_of_the_bar_finds_stacked_photos_only(qtbot, window):
    bar = window.filters.find
    spin = bar.widgets["stack"][0]
    assert spin.specialValueText() == "any" and spin.value() == spin.minimum()
    spin.setValue(2)
    settle(qtbot, window)
    assert window.model.query.stack_min == 2
    assert shown(window) == set()  # nothing is embedded yet: no photo is in a stack
    assert "stack>=2" in window.grid.empty_text
    assert bar.expression() == "stack>=2"
    bar.clear()
    settle(qtbot, window)
    assert len(shown(window)) == 6
