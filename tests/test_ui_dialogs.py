"""Keeper review (accept a proposed link, say a keeper has no original), library settings, key map."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLabel  # noqa: E402

from fluxcull.catalog import Catalog, transaction  # noqa: E402
from fluxcull.catalog.settings import SETTINGS  # noqa: E402
from fluxcull.catalog.keepers import confirmed_keeper_ids  # noqa: E402
from fluxcull.ui.dialogs import KeymapDialog  # noqa: E402
from fluxcull.ui.panels import ModelPanel  # noqa: E402
from fluxcull.ui.images import ImageLoader  # noqa: E402
from uigen import fill_catalog  # noqa: E402


def _keeper(conn, path, status, candidates, proposed=None):
    with transaction(conn):
        kid = conn.execute("INSERT INTO photos(path, role, size, mtime_ns, sha256) VALUES (?, 'keepers', 1, 1, ?)",
                           (path, path)).lastrowid
        if proposed is not None:
            conn.execute("INSERT INTO keeper_links(keeper_id, original_id, method, similarity, needs_review)"
                         " VALUES (?, ?, 'similarity', 0.985, 1)", (kid, proposed))
        conn.execute("INSERT INTO keeper_match_state(keeper_id, status, reason, candidates) VALUES (?, ?, ?, ?)",
                     (kid, status, f"{status} for test",
                      json.dumps([{"original_id": c, "similarity": 0.97} for c in candidates])))
    return kid


def test_keeper_review_links_and_unlinks_through_matching(qtbot, library, conn, tmp_path):
    from fluxcull.ui.review import ReviewDialog

    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=1, per_session=4, scores=False)
    k1 = _keeper(conn, "/k/a.jpg", "review", [ids[0], ids[1]], proposed=ids[0])
    k2 = _keeper(conn, "/k/b.jpg", "unmatched", [ids[2]])
    loader = ImageLoader()
    dlg = ReviewDialog(Catalog(conn), loader, lambda rec: None)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.list.count() == 2 and dlg.current_entry()["keeper_id"] == k1
    assert [dlg.candidates.itemData(i) for i in range(dlg.candidates.count())] == [ids[0], ids[1]]
    dlg.candidates.setCurrentIndex(1)  # the person picks the other candidate
    dlg.accept_button.click()
    link = conn.execute("SELECT original_id, manual, needs_review FROM keeper_links WHERE keeper_id = ?", (k1,)).fetchone()
    assert tuple(link) == (ids[1], 1, 0)
    assert ids[1] in confirmed_keeper_ids(conn)
    assert dlg.current_entry()["keeper_id"] == k2  # moved on to the next undecided keeper
    dlg.none_button.click()
    row = conn.execute("SELECT original_id, manual FROM keeper_links WHERE keeper_id = ?", (k2,)).fetchone()
    assert tuple(row) == (None, 1)
    events = conn.execute("SELECT kind, source FROM decision_events WHERE kind IN ('link', 'unlink') ORDER BY id").fetchall()
    assert [tuple(e) for e in events] == [("link", "gui"), ("unlink", "gui")]
    assert "0 of 2" in dlg.header.text()
    dlg.close()
    loader.shutdown()


def test_settings_dialog_stores_folders_backbone_and_threads(qtbot, library, conn, tmp_path):
    from fluxcull.ui.settings import SettingsDialog

    originals = tmp_path / "ORIGINALS"
    originals.mkdir()
    catalog = Catalog(conn)
    dlg = SettingsDialog(catalog)
    qtbot.addWidget(dlg)
    # one field per declared setting shown in the dialog
    assert list(dlg.fields) == [s.key for s in SETTINGS if s.in_dialog]
    assert dlg.fields["model.kind"].value() == "auto"
    dlg.fields["originals_dir"].edit.setText(str(originals))
    dlg.fields["keepers_dir"].edit.setText(str(tmp_path / "missing"))
    assert dlg.validate() and "missing" in dlg.validate()
    dlg.fields["keepers_dir"].edit.setText("")
    dlg.fields["inbox_dir"].edit.setText(str(tmp_path / "INBOX"))
    dlg.fields["worker_threads"].setValue(3)
    assert dlg.validate() is None
    dlg._save()
    assert library.get_setting(conn, "originals_dir") == str(originals.resolve())
    assert library.get_setting(conn, "inbox_dir") == str((tmp_path / "INBOX").resolve())
    assert library.get_setting(conn, "keepers_dir") == ""
    assert library.get_setting(conn, "worker_threads") == "3"
    assert catalog.setting("worker_threads") == 3
    assert library.get_setting(conn, "model.kind") is None  # unchanged settings are not written


def test_model_panel_says_it_in_words_with_plain_columns_baselines_last(qtbot):
    from fluxcull.workflows import model_quality

    def row(split, method, auc):
        return {"split": split, "method": method, "roc_auc": auc, "pairwise_accuracy": auc, "recall_top20": auc,
                "average_precision": 0.3, "recall_top10": 0.4, "ece": 0.05, "n_test": 40, "n_keepers": 12}

    table = [row("random_by_session", "random", 0.5), row("random_by_session", "gbt *", 0.8),
             row("by_time", "random", 0.52), row("by_time", "sharpness", 0.6), row("by_time", "linear", 0.7),
             row("by_time", "gbt *", 0.81)]
    summary = {"metrics_table": table, "kind": "gbt", "version": 2, "previous_version": 1, "activated": True,
               "primary_metric": {"value": 0.81}, "previous_metrics": {"primary_on_current_data": 0.78},
               "data": {"photos": 400, "positives": 11}, "choice": "trees by default"}
    dlg = ModelPanel(model_quality(summary))
    qtbot.addWidget(dlg)
    words = dlg.summary.text()
    assert "Model v2 is in use now" in words and "puts 8 in 10 in its top 20%" in words
    assert "You have 11 keepers: scores stay low" in words
    heads = [dlg.table.horizontalHeaderItem(c).text() for c in range(dlg.table.columnCount())]
    assert heads == ["Method", "Ranking (AUC)", "Better of two in a session", "Keepers in its top 20%"]
    names = [dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount())]
    assert names[0].startswith("★ gradient-boosted trees") and "in use" in names[0]
    assert names[-2:] == ["sharpness alone (baseline)", "random guess (baseline)"]
    assert not dlg.details_text.isVisible()
    assert all("table." not in t and '{"' not in t for t in dlg.visible_texts())
    km = KeymapDialog()
    qtbot.addWidget(km)
    keys = {km.table.item(r, 1).text() for r in range(km.table.rowCount())}
    assert {"P", "X", "U", "Space / E", "C", "G / Esc", "Ctrl+Z"} <= keys


def test_first_run_guide_saves_folders_and_runs_the_chain_with_one_progress_view(qtbot, library, conn, tmp_path):
    from PySide6.QtWidgets import QDialogButtonBox

    from fluxcull.ui.settings import FirstRunDialog
    from fluxcull.ui.worker import JobRunner
    from photogen import write_jpeg

    originals = tmp_path / "ORIGINALS"
    write_jpeg(originals / "R0000001.JPG", seed=1)
    runner = JobRunner()
    dlg = FirstRunDialog(library, Catalog(conn), runner)
    qtbot.addWidget(dlg)
    dlg._save()
    assert "ORIGINALS" in dlg.stage.text() and runner.current is None  # nothing chosen yet
    dlg.fields["originals_dir"].edit.setText(str(originals))
    dlg.fields["inbox_dir"].edit.setText(str(tmp_path / "INBOX"))
    dlg._save()
    assert library.get_setting(conn, "originals_dir") == str(originals.resolve())
    assert (tmp_path / "INBOX").is_dir()
    assert runner.current is not None and runner.current.title == "Building the library"
    assert not dlg.buttons.button(QDialogButtonBox.Save).isEnabled()
    dlg.reject()  # closing the guide cancels the build
    qtbot.waitUntil(lambda: runner.current is None, timeout=60000)
    assert runner.history[-1][:2] == ("Building the library", "cancelled")


def test_settings_dialog_edits_the_burst_thresholds_as_numbers(qtbot, library, conn):
    from fluxcull.keeper.bursts import BurstRule
    from fluxcull.ui.settings import SettingsDialog

    catalog = Catalog(conn)
    dlg = SettingsDialog(catalog)
    qtbot.addWidget(dlg)
    field = dlg.fields["bursts"]
    gap, similarity = field.boxes["gap_seconds"], field.boxes["min_similarity"]
    assert (gap.value(), gap.suffix(), similarity.value()) == (15.0, " s", 0.6)  # the declared defaults
    assert field.value() == {} and "computes every stack again" in " ".join(
        label.text() for label in dlg.findChildren(QLabel))
    gap.setValue(8)
    similarity.setValue(0.75)
    similarity.setValue(1.5)  # the box keeps to the allowed range
    assert similarity.value() == 1.0
    similarity.setValue(0.75)
    dlg._save()
    assert catalog.setting("bursts") == {"gap_seconds": 8.0, "min_similarity": 0.75}
    assert dlg.changed == {"bursts"} and dlg.result() == dlg.DialogCode.Accepted
    rule = BurstRule.from_settings(conn)
    assert (rule.gap_seconds, rule.min_similarity) == (8.0, 0.75)

    again = SettingsDialog(catalog)  # opens on what is stored; a part set back to its default is left out
    qtbot.addWidget(again)
    assert again.fields["bursts"].boxes["gap_seconds"].value() == 8.0
    again.fields["bursts"].boxes["gap_seconds"].setValue(15)
    again._save()
    assert catalog.setting("bursts") == {"min_similarity": 0.75} and again.changed == {"bursts"}
    unchanged = SettingsDialog(catalog)
    qtbot.addWidget(unchanged)
    unchanged._save()
    assert unchanged.changed == set()

    for bad, reason in (({"gap_seconds": -1}, "from 0 to 3600"), ({"min_similarity": 2}, "from 0 to 1"),
                        ({"gap": 5}, "unknown key 'gap'"), ({"gap_seconds": "5"}, "must be a number"),
                        ({"gap_seconds": True}, "must be a number"), ([5], "JSON object")):
        with pytest.raises(ValueError, match=reason):
            catalog.set_setting("bursts", bad)
    assert catalog.setting("bursts") == {"min_similarity": 0.75}
