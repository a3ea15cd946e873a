"""Editing a draft in the catalog: reorder, remove, swap for an alternative, approve, re-open; only a
proposed draft changes, and each change is in the draft's history (migration 0019 gives drafts
stored before it their proposal and approval)."""

from __future__ import annotations

import numpy as np
import pytest

import insightgen
from fluxcull.catalog import connect, migrate, transaction
from fluxcull.catalog import drafts as store_drafts
from fluxcull.embedding.store import current_store
from fluxcull.errors import InvalidValue, NotFound
from fluxcull.insights.alternatives import alternatives
from fluxcull.insights.draft import propose


def _photos(conn, n):
    with transaction(conn):
        return [conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES (?, 'originals', 1, 1)",
                             (f"/p/{k}.jpg",)).lastrowid for k in range(n)]


def test_edits_history_and_the_approved_lock(conn):
    ids = _photos(conn, 5)
    d = store_drafts.add_draft(conn, [(i, 0.9) for i in ids[:4]], {"size": 4})
    assert store_drafts.order(conn, d) == ids[:4]
    assert store_drafts.set_order(conn, d, [ids[3], ids[0], ids[1], ids[2]])
    assert not store_drafts.set_order(conn, d, [ids[3], ids[0], ids[1], ids[2]])  # the same: nothing recorded
    for bad in ([ids[0], ids[1], ids[2]], [ids[0], ids[0], ids[1], ids[2]], [ids[4], ids[0], ids[1], ids[2]]):
        with pytest.raises(InvalidValue, match="each once"):
            store_drafts.set_order(conn, d, bad)
    assert store_drafts.remove_photo(conn, d, ids[0]) == [ids[3], ids[1], ids[2]]
    item = store_drafts.draft(conn, d)
    assert item["size"] == 3 and [it["position"] for it in item["items"]] == [1, 2, 3]
    assert store_drafts.swap_photo(conn, d, ids[1], ids[4], 0.85) == [ids[3], ids[4], ids[2]]
    assert [(it["photo_id"], it["score"]) for it in store_drafts.draft(conn, d)["items"]][1] == (ids[4], 0.85)
    with pytest.raises(InvalidValue, match="already"):
        store_drafts.swap_photo(conn, d, ids[3], ids[2], 0.9)
    with pytest.raises(NotFound):
        store_drafts.remove_photo(conn, d, ids[0])

    assert store_drafts.approve(conn, d) and not store_drafts.approve(conn, d)
    for change in (lambda: store_drafts.set_order(conn, d, [ids[2], ids[3], ids[4]]),
                   lambda: store_drafts.remove_photo(conn, d, ids[2]),
                   lambda: store_drafts.swap_photo(conn, d, ids[2], ids[0], 0.9)):
        with pytest.raises(InvalidValue, match="re-open it first"):
            change()
    assert store_drafts.order(conn, d) == [ids[3], ids[4], ids[2]]
    assert store_drafts.reopen(conn, d) and not store_drafts.reopen(conn, d)
    back = store_drafts.draft(conn, d)
    assert back["status"] == "proposed" and back["approved_at"] is None
    store_drafts.remove_photo(conn, d, ids[3])
    store_drafts.remove_photo(conn, d, ids[4])
    with pytest.raises(InvalidValue, match="at least one photo"):
        store_drafts.remove_photo(conn, d, ids[2])

    events = store_drafts.history(conn, d)
    assert [e["kind"] for e in events] == ["proposed", "reordered", "removed", "swapped", "approved", "reopened",
                                          "removed", "removed"]
    assert events[0]["detail"] == {"order": ids[:4]}
    assert events[1]["detail"]["before"] == ids[:4]
    assert events[3]["detail"] == {"photo_id": ids[1], "by": ids[4], "position": 2}
    assert events[5]["detail"]["approved_at"].startswith("20")  # the approval it took back


def test_drafts_stored_before_the_history_get_their_proposal_and_approval(tmp_path):
    old = connect(tmp_path / "old.sqlite", migrate_schema=False)
    migrate(old, target=18)
    ids = _photos(old, 3)
    with transaction(old):
        for d, status in ((1, "approved"), (2, "proposed")):
            old.execute("INSERT INTO drafts(id, status, size, approved_at) VALUES (?, ?, 3, ?)",
                        (d, status, "2024-01-02T00:00:00.000Z" if status == "approved" else None))
            old.executemany("INSERT INTO draft_items(draft_id, position, photo_id) VALUES (?, ?, ?)",
                            [(d, pos, pid) for pos, pid in zip((3, 1, 2), ids)])
    migrate(old)
    h1, h2 = store_drafts.history(old, 1), store_drafts.history(old, 2)
    assert [e["kind"] for e in h1] == ["proposed", "approved"] and [e["kind"] for e in h2] == ["proposed"]
    assert h1[0]["detail"] == {"order": [ids[1], ids[2], ids[0]]} and h1[1]["at"] == "2024-01-02T00:00:00.000Z"


def test_alternatives_keep_the_drafts_rules(library, conn):
    g = insightgen.build(library, conn)
    store = current_store(library, conn)
    res = propose(conn, store, size=10, min_score=0.5)
    chosen = [it["photo_id"] for it in res["items"]]
    pos = {int(i): k for k, i in enumerate(g["ids"])}
    mates = {pid: [int(g["ids"][j]) for j in np.nonzero(g["burst"] == g["burst"][pos[pid]])[0]
                   if int(g["ids"][j]) != pid and g["score"][j] >= 0.5] for pid in chosen}
    photo = next(pid for pid in chosen if mates[pid])
    alts = alternatives(conn, store, res["draft"], photo, count=5)
    assert alts and alts[0]["reason"] == "another frame of its burst" and alts[0]["photo_id"] in mates[photo]
    assert {a["photo_id"] for a in alts if a["reason"] == "another frame of its burst"} <= set(mates[photo])
    unit = g["emb"] / np.linalg.norm(g["emb"], axis=1, keepdims=True)
    stay = [pid for pid in chosen if pid != photo]
    per_session = {}
    for pid in stay:
        per_session[g["sess"][pos[pid]]] = per_session.get(g["sess"][pos[pid]], 0) + 1
    for a in alts:
        i = pos[a["photo_id"]]
        assert a["photo_id"] not in chosen and a["score"] >= 0.5 and a["thumb_key"] is None
        assert max(unit[i] @ unit[pos[s]] for s in stay) <= 0.8
        assert g["burst"][i] not in {g["burst"][pos[s]] for s in stay}
        assert per_session.get(g["sess"][i], 0) < 4
    # swapping one in keeps its place
    at = store_drafts.order(conn, res["draft"]).index(photo)
    new = store_drafts.swap_photo(conn, res["draft"], photo, alts[0]["photo_id"], alts[0]["score"])
    assert new[at] == alts[0]["photo_id"] and photo not in new
    with pytest.raises(NotFound):
        alternatives(conn, store, res["draft"], photo)
