"""Taste drift: recent keepers darker than the old ones show as brightness moving the right way,
with sample counts; too few recent decisions are said plainly; motifs' shares move with them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fluxcull.catalog import motif_store
from fluxcull.cli import main
from fluxcull.insights import drift


def test_recent_keepers_darker_than_old_ones_move_brightness_down(library, conn, drifted):
    res = drift.drift(conn, drifted["store"])
    assert res["status"] == "ok" and res["recent_months"] == 12
    keeper, recent = drifted["keeper"], drifted["recent"]
    assert res["counts"]["recent"] == {"keepers": int((keeper & recent).sum()), "others": int((~keeper & recent).sum())}
    assert res["counts"]["archive"] == {"keepers": int((keeper & ~recent).sum()),
                                        "others": int((~keeper & ~recent).sum())}
    top = res["features"][0]
    assert top["feature"] == "brightness"
    assert top["archive"]["auc"] > 0.8 and top["recent"]["auc"] < 0.2
    assert top["archive"]["d"] > 1 and top["recent"]["d"] < -1
    assert top["change_auc"] < -0.6 and top["change_d"] < -2 and top["z"] < -2 and top["clear"]
    assert top["recent"]["keepers"] == res["counts"]["recent"]["keepers"]
    assert top["recent"]["keeper_mean"] < top["recent"]["other_mean"] < top["archive"]["keeper_mean"]
    sharp = next(r for r in res["features"] if r["feature"] == "sharpness_laplacian")
    assert sharp["recent"]["auc"] > 0.6 and sharp["archive"]["auc"] > 0.6   # a taste that did not move
    assert abs(sharp["change_auc"]) < abs(top["change_auc"]) / 3
    unknown = next(r for r in res["features"] if r["feature"] == "haze")   # never measured: no effect
    assert unknown["change_auc"] is None and unknown["recent"]["keepers"] == 0
    assert "gps_cell" not in {r["feature"] for r in res["features"]}
    assert "brightness (now lower)" in drift.summary(res)
    assert drift.in_words(top) == "recent keepers darker, archive keepers brighter"
    assert drift.in_words(unknown) == "too few values"


def test_drift_command_json_and_table(library, conn, drifted, capsys):
    assert main(["analytics", "--drift", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["status"] == "ok" and res["features"][0]["feature"] == "brightness"
    assert main(["analytics", "--drift"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("Recent 12 months") and "recent AUC" in lines[2]
    assert lines[3].split()[0] == "brightness"
    assert main(["analytics", "--drift", "--by", "hour"]) == 2   # alone, or said why not
    assert "--drift goes alone" in capsys.readouterr().err


def test_not_enough_recent_decisions_is_said_and_nothing_is_computed(library, conn, drifted, capsys):
    res = drift.drift(conn, drifted["store"], months=1)
    assert res["status"] == "not_enough_recent" and res["features"] == [] and res["motifs"] == []
    c = res["counts"]["recent"]
    assert c["keepers"] < drift.MIN_KEEPERS
    assert res["message"].startswith(f"not enough recent decisions to compare tastes: {c['keepers']} keepers")
    every = drift.drift(conn, drifted["store"], months=600)   # every decision is recent: no archive
    assert every["status"] == "not_enough_archive" and every["counts"]["archive"] == {"keepers": 0, "others": 0}
    conn.execute("INSERT INTO settings(key, value) VALUES ('drift.recent_months', '1')")
    conn.commit()
    assert main(["analytics", "--drift"]) == 0
    assert capsys.readouterr().out.startswith("Not enough recent decisions")


def test_motif_shares_move_with_the_recent_keepers(library, conn, drifted):
    ids, keeper, recent = drifted["ids"], drifted["keeper"], drifted["recent"]
    old_k, new_k = ids[keeper & ~recent], ids[keeper & recent]
    half = len(new_k) // 2
    motif_store.replace(conn, [(None, old_k[:10].tolist(), old_k[:3].tolist()),   # an old motif
                               (None, new_k[:half].tolist() + old_k[10:12].tolist(), new_k[:3].tolist())])
    conn.execute("UPDATE motifs SET name = 'night streets' WHERE id = (SELECT MAX(id) FROM motifs)")
    conn.commit()
    res = drift.drift(conn, drifted["store"])
    new, old = res["motifs"]   # the largest change first
    assert new["name"] == "night streets" and new["recent"] == {"members": half, "keepers": len(new_k),
                                                                 "share": half / len(new_k)}
    assert new["archive"]["members"] == 2 and new["change"] > 0.3 and new["z"] > 2 and new["clear"]
    assert old["recent"]["members"] == 0 and old["change"] < 0
    assert drift.motif_cells(new)[0] == f"{new['id']} night streets"


def test_auc_standard_error_and_effect_sizes():
    assert drift.auc_se(0.5, 50, 50) == pytest.approx(0.0578, abs=1e-3)   # Hanley and McNeil's table
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0])
    assert drift.cohens_d(a, b) == pytest.approx(1.0)
    assert drift.cohens_d(np.ones(3), np.zeros(3)) is None and drift.cohens_d(np.ones(3), np.ones(3)) == 0.0
    e = drift.effect(np.r_[np.arange(10.0) + 100, np.arange(12.0), np.nan], np.r_[np.ones(10, bool), np.zeros(13, bool)])
    assert (e["auc"], e["keepers"], e["others"]) == (1.0, 10, 12)
    few = drift.effect(np.arange(12.0), np.r_[np.ones(9, bool), np.zeros(3, bool)])
    assert few["auc"] is None and few["keeper_mean"] == 4.0


def test_an_empty_library_has_nothing_to_compare(library, conn):
    from fluxcull.embedding.store import current_store

    res = drift.drift(conn, current_store(library, conn))
    assert res["status"] == "no_decisions" and res["features"] == [] and res["window"] is None
    assert drift.summary(res).startswith("No decided photos with a capture time and an embedding yet")
