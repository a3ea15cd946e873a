"""Sequencing a draft: chronological keeps time order, flow never puts near-duplicates side by side
when another order avoids it, bookends opens and closes with the two strongest; the objective's
reasons in words; `fluxcull sequence --json` and `--apply` (a proposed draft only, recorded in its
history)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import insightgen
from fluxcull.catalog import drafts as store_drafts
from fluxcull.catalog import transaction
from fluxcull.cli import main
from fluxcull.embedding.features import FEATURE_NAMES, N_TECH, store_features
from fluxcull.embedding.store import current_store
from fluxcull.insights import sequence


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    try:
        return code, json.loads(out.out)
    except json.JSONDecodeError:
        return code, out.out + out.err


def _bursty_draft(library, conn, brightness=None):
    """A draft of 9 photos: the frames of 4 planted bursts (3, 2, 2, 2 frames; scenes of their own) in
    time order, so that time order puts near-duplicates side by side."""
    g = insightgen.build(library, conn, sessions=2, bursts_per_session=8)
    own = [b for b in np.unique(g["burst"]) if (g["motif"][g["burst"] == b] < 0).all()][:4]
    take = []
    for b, k in zip(own, (3, 2, 2, 2)):
        take += list(np.nonzero(g["burst"] == b)[0][:k])
    take = np.array(sorted(take, key=lambda i: g["times"][i]))
    ids = g["ids"][take]
    if brightness is not None:
        tech = np.full((len(ids), N_TECH), 0.5, np.float32)
        tech[:, FEATURE_NAMES.index("brightness")] = brightness
        store_features(conn, ids.tolist(), tech)
    draft_id = store_drafts.add_draft(conn, [(int(i), float(g["score"][t])) for i, t in zip(ids, take)], {})
    return g, draft_id, ids, g["burst"][take]


def _suggest(library, conn, draft_id, modes=None):
    return sequence.suggest(conn, current_store(library, conn), draft_id, modes)


def _bursts_side_by_side(order, burst_of) -> int:
    b = [burst_of[i] for i in order]
    return sum(x == y for x, y in zip(b, b[1:]))


@pytest.mark.parametrize("seed", range(40))
def test_arrangeable_is_exact(seed):
    """The counting rule says yes exactly when some order keeps each group's photos apart."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, rng.integers(1, 4), size=rng.integers(0, 7)).tolist()
    first, last = (None if rng.random() < 0.4 else int(rng.integers(0, 3)) for _ in range(2))
    counts: dict[int, int] = {}
    for x in groups:
        counts[x] = counts.get(x, 0) + 1

    def fine(seq):
        full = ([first] if first is not None else []) + list(seq) + ([last] if last is not None else [])
        return all(a != b for a, b in zip(full, full[1:]))

    expected = any(fine(p) for p in set(itertools.permutations(groups)))
    assert sequence.arrangeable(counts, first, last, check_all=True) == expected
    assert sequence.arrangeable(counts, first, last) == expected


def test_the_three_modes_on_a_draft_of_bursts(library, conn):
    bright = np.array([0.5, 0.52, 0.5, 0.32, 0.34, 0.8, 0.78, 0.5, 0.5], np.float32)
    g, draft_id, ids, burst = _bursty_draft(library, conn, bright)
    burst_of = dict(zip(ids.tolist(), burst.tolist()))
    times = dict(zip(g["ids"].tolist(), g["times"].tolist()))
    res = _suggest(library, conn, draft_id)
    by_mode = {s["mode"]: s for s in res["suggestions"]}
    assert [s["mode"] for s in res["suggestions"]] == ["chronological", "flow", "bookends"]

    chron = by_mode["chronological"]
    assert chron["order"] == sorted(ids.tolist(), key=lambda i: times[i]) == ids.tolist()
    assert chron["terms"]["back_in_time"] == 0 and chron["moved"] == 0
    assert chron["terms"]["near_duplicates"] == _bursts_side_by_side(chron["order"], burst_of) == 5
    words = [r for t in chron["transitions"] for r in t["reasons"]]
    assert any(w.startswith("near-duplicates side by side") for w in words)
    assert "a change of scene after two similar frames" in words
    assert "tonal step: darker (-0.18)" in chron["transitions"][2]["reasons"]   # 0.5 -> 0.32
    assert "tonal jump: much brighter (+0.46)" in chron["transitions"][4]["reasons"]  # 0.34 -> 0.8
    assert "tonal continuity" in chron["transitions"][0]["reasons"]

    flow = by_mode["flow"]
    assert sorted(flow["order"]) == sorted(ids.tolist())
    assert _bursts_side_by_side(flow["order"], burst_of) == 0 and flow["terms"]["near_duplicates"] == 0
    assert flow["score"] > chron["score"]
    # chronology is the backbone: places in the flow follow places in time closely (Spearman's rho)
    d = np.array([flow["order"].index(i) - k for k, i in enumerate(chron["order"])])
    assert 1 - 6 * (d ** 2).sum() / (len(d) * (len(d) ** 2 - 1)) > 0.8
    assert any(r.startswith("a step back in time") for t in flow["transitions"] for r in t["reasons"])

    # deterministic
    assert _suggest(library, conn, draft_id)["suggestions"] == res["suggestions"]


def test_bookends_open_and_close_with_the_two_strongest(library, conn):
    g, draft_id, ids, burst = _bursty_draft(library, conn)
    burst_of = dict(zip(ids.tolist(), burst.tolist()))
    strong = [int(ids[5]), int(ids[2])]  # the earlier-taken of the two opens
    with transaction(conn):
        for i, s in zip(ids.tolist(), np.linspace(0.80, 0.88, len(ids))):
            conn.execute("UPDATE photos SET keeper_score = ? WHERE id = ?", (float(s), i))
        conn.execute("UPDATE photos SET keeper_score = 0.99 WHERE id = ?", (strong[0],))
        conn.execute("UPDATE photos SET keeper_score = 0.95 WHERE id = ?", (strong[1],))
    s = _suggest(library, conn, draft_id, ["bookends"])["suggestions"][0]
    assert (s["order"][0], s["order"][-1]) == (strong[1], strong[0])
    assert _bursts_side_by_side(s["order"], burst_of) == 0
    assert "opens and closes with the two strongest photos (scores 0.95 and 0.99)" in s["notes"]
    assert s["terms"]["ends"] == pytest.approx(0.95 + 0.99)


def test_flow_keeps_near_duplicates_apart_whenever_an_order_can(library, conn):
    """Bursts of 3 + 3 frames among 7 photos: only one order family avoids neighbours of one burst."""
    g = insightgen.build(library, conn, sessions=1, bursts_per_session=6)
    own = [b for b in np.unique(g["burst"]) if (g["motif"][g["burst"] == b] < 0).all()]
    take = sorted(list(np.nonzero(g["burst"] == own[0])[0]) + list(np.nonzero(g["burst"] == own[1])[0])
                  + [int(np.nonzero(g["burst"] == own[2])[0][0])], key=lambda i: g["times"][i])
    ids = g["ids"][take]
    draft_id = store_drafts.add_draft(conn, [(int(i), 0.9) for i in ids], {})
    s = _suggest(library, conn, draft_id, ["flow"])["suggestions"][0]
    burst_of = dict(zip(ids.tolist(), g["burst"][take].tolist()))
    assert _bursts_side_by_side(s["order"], burst_of) == 0


def test_cli_json_shape_and_apply(library, conn, capsys):
    g, draft_id, ids, burst = _bursty_draft(library, conn)
    code, res = _run(capsys, "sequence", str(draft_id), "--json")
    assert code == 0 and set(res) == {"draft", "status", "current", "suggestions", "rule"}
    assert res["draft"] == draft_id and res["status"] == "proposed"
    assert res["current"]["order"] == ids.tolist()
    for s in res["suggestions"]:
        assert {"mode", "order", "score", "moved", "terms", "transitions", "notes", "summary"} <= set(s)
        assert set(s["terms"]) == {"near_duplicates", "likeness", "same_motif", "tone", "back_in_time",
                                  "back_to_session", "ends"}
        assert len(s["transitions"]) == len(ids) - 1
        t = s["transitions"][0]
        assert {"position", "from", "to", "value", "similarity", "brightness_step", "seconds", "reasons"} == set(t)
        assert t["from"] == s["order"][0] and t["to"] == s["order"][1] and t["reasons"]
        assert t["brightness_step"] is None  # no pixel features stored in this library
    flow = next(s for s in res["suggestions"] if s["mode"] == "flow")
    code, text = _run(capsys, "sequence", str(draft_id))
    assert code == 0 and "flow: score" in text and "near-duplicates side by side" in text

    code, text = _run(capsys, "sequence", str(draft_id), "--apply")
    assert code == 2 and "--apply needs one --mode" in text
    code, out = _run(capsys, "sequence", str(draft_id), "--mode", "flow", "--apply", "--json")
    assert code == 0 and out["applied"]["changed"] and out["applied"]["order"] == flow["order"]
    assert store_drafts.order(conn, draft_id) == flow["order"]
    assert [tuple(r) for r in conn.execute("SELECT position FROM draft_items WHERE draft_id = ? ORDER BY position",
                                           (draft_id,))] == [(k,) for k in range(1, len(ids) + 1)]
    last = store_drafts.history(conn, draft_id)[-1]
    assert last["kind"] == "sequenced" and last["detail"]["mode"] == "flow"
    assert last["detail"]["before"] == ids.tolist() and last["detail"]["order"] == flow["order"]
    code, out = _run(capsys, "sequence", str(draft_id), "--mode", "flow", "--apply", "--json")
    assert code == 0 and not out["applied"]["changed"]

    # an approved draft is not changed until it is re-opened
    assert main(["draft-approve", str(draft_id)]) == 0
    capsys.readouterr()
    code, text = _run(capsys, "sequence", str(draft_id), "--mode", "chronological", "--apply")
    assert code == 2 and "re-open it first" in text
    assert store_drafts.order(conn, draft_id) == flow["order"]
    code, out = _run(capsys, "draft-reopen", str(draft_id), "--json")
    assert code == 0 and out == {"id": draft_id, "status": "proposed", "approved_at": None, "changed": True}
    code, out = _run(capsys, "sequence", str(draft_id), "--mode", "chronological", "--apply", "--json")
    assert code == 0 and store_drafts.order(conn, draft_id) == ids.tolist()
    code, events = _run(capsys, "draft-history", str(draft_id), "--json")
    assert [e["kind"] for e in events] == ["proposed", "sequenced", "approved", "reopened", "sequenced"]
    code, text = _run(capsys, "draft-history", str(draft_id))
    assert code == 0 and "sequenced (mode chronological" in text
