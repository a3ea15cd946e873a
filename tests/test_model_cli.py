"""The keeper-model commands: decide / prefer / undo append to the decision log; train, score, eval,
explain and models print JSON a script can use."""

from __future__ import annotations

import json

import numpy as np
import pytest

import modelgen
from fluxcull.cli import main


def _run(capsys, *argv) -> tuple[int, object]:
    code = main(list(argv))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        return code, out


def test_decide_prefer_undo_by_id_path_and_file(library, conn, capsys, tmp_path):
    g = modelgen.build(library, conn, n=20, sessions=2, seed=0)
    a, b, c = (int(x) for x in g["ids"][:3])
    path_b = conn.execute("SELECT path FROM photos WHERE id = ?", (b,)).fetchone()[0]
    code, out = _run(capsys, "decide", str(a), path_b, "--keep", "--json")
    assert code == 0 and out["photos"] == [a, b] and out["changed"] == [a, b]
    listing = tmp_path / "rejects.txt"
    listing.write_text(f"# near misses\n{c}\n\n{path_b}\n")
    code, out = _run(capsys, "decide", "--reject", "--from", str(listing), "--json")
    assert code == 0 and out["photos"] == [c, b]
    decisions = dict(conn.execute("SELECT id, decision FROM photos").fetchall())
    assert decisions[a] == "keep" and decisions[b] == "reject" and decisions[c] == "reject"
    events = conn.execute("SELECT kind, source FROM decision_events ORDER BY id").fetchall()
    assert [tuple(e) for e in events] == [("keep", "cli"), ("keep", "cli"), ("reject", "cli"), ("reject", "cli")]
    code, out = _run(capsys, "prefer", str(a), str(c), "--json")
    assert code == 0 and out["winner"] == a and out["loser"] == c
    code, out = _run(capsys, "undo", "--json")
    assert out["undone"]["kind"] == "prefer"
    code, out = _run(capsys, "undo", "--json")
    assert out["undone"]["photo_id"] == b and out["undone"]["restored"] == "keep"
    # an unknown photo changes nothing and names itself
    before = conn.execute("SELECT COUNT(*) FROM decision_events").fetchone()[0]
    code = main(["decide", str(a), "/no/such.jpg", "--clear"])
    err = capsys.readouterr().err
    assert code == 2 and "/no/such.jpg" in err
    assert conn.execute("SELECT COUNT(*) FROM decision_events").fetchone()[0] == before
    with pytest.raises(SystemExit):
        main(["decide", str(a), "--keep", "--reject"])


def test_train_eval_explain_score_models_json(library, conn, capsys):
    # keepers by sharpness as much as by a look, so the centroid of the look (trained below) is the
    # clearly worse method whatever the automatic choice is
    g = modelgen.build(library, conn, n=500, sessions=10, seed=2, signal=0.5)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]][:-5])
    main(["decide", *[str(int(i)) for i in g["ids"][g["keeper"]][-5:]], "--keep"])
    capsys.readouterr()
    code, tr = _run(capsys, "train", "--json", "--seed", "3")
    assert code == 0 and tr["activated"] and tr["seed"] == 3
    methods = {(r["split"], r["method"].rstrip(" *")) for r in tr["metrics_table"]}
    for split in ("random_by_session", "by_time"):
        for m in ("random", "sharpness", "exposure", "centroid", "linear"):
            assert (split, m) in methods
    assert tr["data"]["decided_keep"] == 5 and tr["scoring"]["bands"]["confirmed"] >= g["keeper"].sum()
    code, evj = _run(capsys, "eval", "--json")
    assert code == 0 and evj["active_version"]["id"] == tr["version"]
    assert {r["split"] for r in evj["table"]} == {"random_by_session", "by_time"}
    assert evj["table"] == tr["metrics_table"]  # same data, same seed: same numbers
    pid = int(g["ids"][~g["keeper"]][0])
    code, ex = _run(capsys, "explain", str(pid), "--json")
    assert code == 0 and ex["id"] == pid and ex["band"] in ("high", "uncertain", "low") and ex["contributions"]
    code, sc = _run(capsys, "score", "--json")
    assert code == 0 and sc["changed"] == 0 and sc["photos"] == len(g["ids"]) + g["keeper"].sum() - 5
    # the trees are calibrated on their raw scores (a log-odds), every other scorer on its ranks
    assert tr["calibration"]["scale"] == ("raw scores" if tr["kind"] == "gbt" else "ranks")
    code, text = _run(capsys, "train", "--model", "centroid")
    assert code == 0 and "AUC" in text and "not activated" in text
    assert "calibration: platt on ranks" in text
    code, vs = _run(capsys, "models", "--json")
    assert [v["active"] for v in vs] == [True, False] and vs[1]["kind"] == "centroid"
    code, vs = _run(capsys, "models", "--activate", str(vs[1]["id"]), "--json")
    assert [v["active"] for v in vs] == [False, True]
    scores = np.array([r[0] for r in conn.execute("SELECT keeper_score FROM photos WHERE keeper_score IS NOT NULL")])
    assert ((scores >= 0) & (scores <= 1)).all()
