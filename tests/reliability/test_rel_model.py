"""Scoring refuses damaged inputs (exit 2 with the reason) instead of writing wrong scores."""

from __future__ import annotations

import json

import pytest

import modelgen
from fluxcull.cli import main


@pytest.fixture
def trained(library, conn, capsys):
    g = modelgen.build(library, conn, n=240, sessions=6, seed=4)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    assert main(["train", "--json", "--model", "centroid"]) == 0
    capsys.readouterr()
    return g


def _scores(conn) -> dict:
    return dict(conn.execute("SELECT id, keeper_score FROM photos").fetchall())


@pytest.mark.parametrize("damage", ["delete", "truncate", "flip"])
def test_score_refuses_a_damaged_store_and_keeps_the_scores(trained, conn, capsys, damage):
    """Finding 2: with vectors.f16 deleted or truncated `score` exited 0 and wrote 0.0 (the failure
    band) to every undecided photo."""
    store = trained["store"]
    before = _scores(conn)
    if damage == "delete":
        store.path.unlink()
    elif damage == "truncate":
        with open(store.path, "r+b") as fh:
            fh.truncate(store.count() // 2 * store.row_bytes)  # half the stored rows gone
    else:
        with open(store.path, "r+b") as fh:
            fh.seek(5 * store.row_bytes + 1)
            fh.write(b"\x7f")
    assert main(["score", "--json"]) == 2
    err = capsys.readouterr().err
    assert "embedding store is damaged" in err and "fluxcull embed" in err and "Traceback" not in err
    assert _scores(conn) == before
    assert main(["doctor", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    (s,) = report["stores"]
    assert not s["ok"] and (s["missing_rows"] or s["bad_checksums"])
    assert main(["doctor", "--repair"]) == 0  # the damaged rows are dropped: embed computes them again
    capsys.readouterr()
    assert store.check().ok and len(store.missing_photo_ids()) > 0


def test_damaged_model_files_are_one_line_errors(trained, library, conn, capsys):
    """Finding 5g: damaged model files ended in tracebacks."""
    (folder,) = [p for p in library.models_dir.iterdir() if p.is_dir()]
    (folder / "model.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["score"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fluxcull: error:") and "Traceback" not in err
    (folder / "model.json").unlink()
    assert main(["explain", str(int(trained["ids"][0]))]) in (0, 2)
    assert main(["score"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "model" in err
