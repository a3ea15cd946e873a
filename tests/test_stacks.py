"""Stacks: the keeper model's bursts stored per photo, kept current incrementally, collapsed by the
catalog's ids query, listed by `fluxcull stacks` and shown by `fluxcull photos --json`."""

from __future__ import annotations

import json

import numpy as np
import pytest

import stackgen
from fluxcull.catalog import Catalog, transaction
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.jobs import run_job

# two sessions: scenes of 3, 1, 4 frames, then 2, 1 frames
PLAN = [[3, 1, 4], [2, 1]]


@pytest.fixture
def bursts(library, conn):
    return stackgen.build(library, conn, PLAN, files=False)


def stacks_now(conn) -> dict[int, tuple]:
    return {r[0]: tuple(r[1:]) for r in conn.execute("SELECT id, stack_id, stack_size, stack_position FROM photos")}


def test_stacks_are_the_bursts_the_keeper_model_sees(library, conn, bursts):
    from fluxcull.embedding.store import current_store
    from fluxcull.keeper.bursts import BurstRule, find_bursts
    from fluxcull.keeper.dataset import load_corpus
    from fluxcull.keeper.inputs import embeddings_reader
    from fluxcull.keeper.stacks import stacks_job

    s = run_job(stacks_job(library))
    assert s["stacks"] == 3 and s["stacked_photos"] == 9 and s["computed_groups"] == 2
    store = current_store(library, conn)
    corpus = load_corpus(conn, store)
    expected = find_bursts(corpus.ids, corpus.session, corpus.time, embeddings_reader(store, corpus.rows),
                           rule=BurstRule.from_settings(conn))
    now = stacks_now(conn)
    assert [now[int(i)][0] for i in corpus.ids] == expected.tolist()
    for scene in bursts["scenes"]:  # each planted scene is one stack, in capture order
        assert [now[p] for p in scene] == [(scene[0], len(scene), k + 1) for k in range(len(scene))]


def test_stacks_follow_the_catalog_incrementally(library, conn, bursts):
    from fluxcull.catalog import settings
    from fluxcull.keeper.stacks import stacks_job

    run_job(stacks_job(library))
    again = run_job(stacks_job(library))
    assert again["computed_groups"] == 0 and again["written"] == 0  # nothing changed: nothing computed
    # a new walk arrives in the inbox (ingested and embedded): only its session is computed
    new = stackgen.build(library, conn, [[3, 2]], files=False, seed=1, start=1.8e9, role="inbox")
    s = run_job(stacks_job(library, role="inbox"))  # what the inbox workflow runs: the inbox's sessions only
    assert s["groups"] == s["computed_groups"] == 1 and s["stacks"] == 5 and s["written"] == 5
    assert run_job(stacks_job(library))["computed_groups"] == 0
    assert stacks_now(conn)[new["scenes"][0][2]] == (new["scenes"][0][0], 3, 3)
    # a frame goes missing: it leaves its stack, the rest of its stack closes up
    gone = bursts["scenes"][0][0]
    with transaction(conn):
        conn.execute("UPDATE photos SET status = 'missing' WHERE id = ?", (gone,))
    s = run_job(stacks_job(library))
    assert s["cleared"] == 1 and s["computed_groups"] == 1
    now = stacks_now(conn)
    first = bursts["scenes"][0]
    assert now[gone] == (None, None, None) and now[first[1]] == (first[1], 2, 1) and now[first[2]] == (first[1], 2, 2)
    # a stricter burst rule: every group again, nothing looks alike enough
    settings.put(conn, "bursts", {"min_similarity": 0.9999})
    s = run_job(stacks_job(library))
    assert s["computed_groups"] == s["groups"] == 3 and s["stacks"] == 0
    assert all(v[1] == 1 for v in stacks_now(conn).values() if v[0] is not None)
    settings.put(conn, "bursts", {})
    assert run_job(stacks_job(library, rebuild=True))["stacks"] == 5


def test_nothing_embedded_means_no_stacks(library, conn):
    from fluxcull.keeper.stacks import stacks_job

    s = run_job(stacks_job(library))
    assert s["stacks"] == 0 and s["photos"] == 0


def test_collapsed_query_shows_each_stack_once_as_its_top_frame(library, conn, bursts):
    from fluxcull.keeper.stacks import stacks_job

    run_job(stacks_job(library))
    a, b, c = bursts["scenes"][0], bursts["scenes"][2], bursts["scenes"][3]
    stackgen.set_scores(conn, {a[0]: 0.2, a[1]: 0.9, a[2]: 0.9, b[0]: 0.1, b[1]: 0.3, b[2]: 0.8, b[3]: 0.4})
    cat = Catalog(conn)
    every = cat.photo_ids(PhotoQuery())
    q = PhotoQuery(stacks="collapsed")
    shown = cat.photo_ids(q)
    alone = [s[0] for s in bursts["scenes"] if len(s) == 1]
    top_c = max(c, key=lambda p: (conn.execute("SELECT keeper_score FROM photos WHERE id = ?", (p,)).fetchone()[0], -p))
    assert sorted(shown) == sorted(alone + [a[1], b[2], top_c])  # a tie goes to the lower id
    assert shown == [p for p in every if p in shown]  # in the query's order
    assert cat.count_photos(q) == len(shown) and cat.photo_ids(q, limit=2) == shown[:2]
    # the top frame among the frames the filters select
    with transaction(conn):
        conn.execute("UPDATE photos SET decision = 'reject', keeper_score = 0.0 WHERE id = ?", (b[2],))
    undecided = PhotoQuery(stacks="collapsed", decision="none")
    assert b[3] in cat.photo_ids(undecided) and b[2] not in cat.photo_ids(undecided)
    assert cat.count_photos(undecided) == len(cat.photo_ids(undecided))
    rejected = PhotoQuery(stacks="collapsed", decision="reject")
    assert cat.photo_ids(rejected) == [b[2]] and cat.count_photos(rejected) == 1
    # a stack toggled open while collapsed, and one toggled closed while every frame shows
    opened = PhotoQuery(stacks="collapsed", toggled=(a[0],))
    assert set(a) <= set(cat.photo_ids(opened)) and cat.count_photos(opened) == len(shown) + 2
    closed = PhotoQuery(toggled=(a[0],), sort="score")
    assert a[0] not in cat.photo_ids(closed) and a[2] not in cat.photo_ids(closed) and a[1] in cat.photo_ids(closed)
    assert cat.count_photos(closed) == len(every) - 2
    assert opened.collapses(b[0]) and not opened.collapses(a[0]) and closed.collapses(a[0])
    # counts and exports see every photo, stacks or not
    assert sum(cat.decision_counts(q)[k] for k in ("keep", "reject", "none")) == len(every)
    shown = cat.photo_ids(q)
    for sort in ("score", "score_asc", "time_desc"):
        assert cat.count_photos(PhotoQuery(stacks="collapsed", sort=sort)) == len(shown)
        assert sorted(cat.photo_ids(PhotoQuery(stacks="collapsed", sort=sort))) == sorted(shown)
    with pytest.raises(ValueError):
        cat.photo_ids(PhotoQuery(stacks="folded"))


def test_collapsing_is_the_ids_query_on_an_index(conn):
    """The top frame is found through the partial index, not by a scan per row."""
    from fluxcull.catalog.stack_queries import visible

    where, params = visible(conn, PhotoQuery(stacks="collapsed"))
    plan = " ".join(str(tuple(r)) for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT id FROM photos{where}", params))
    assert "photos_stacked" in plan


def test_cli_stacks_and_photo_fields(library, conn, bursts, capsys):
    from fluxcull.cli import main

    lib = ["--library", str(library.root)]
    assert main(lib + ["stacks", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # not computed yet
    assert main(lib + ["stacks", "--rebuild", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["stacks"] == 3 and summary["stacked_photos"] == 9
    a = bursts["scenes"][2]
    stackgen.set_scores(conn, {a[0]: 0.3, a[1]: 0.7, a[2]: 0.6, a[3]: 0.1})
    assert main(lib + ["stacks", "--json"]) == 0
    stacks = json.loads(capsys.readouterr().out)
    assert [s["size"] for s in stacks] == [3, 4, 2]
    four = stacks[1]
    assert four["stack_id"] == a[0] and four["best"] == a[1] and four["session_id"] == bursts["sessions"][0]
    assert [f["id"] for f in four["frames"]] == a and [f["position"] for f in four["frames"]] == [1, 2, 3, 4]
    assert main(lib + ["stacks", "--session", str(bursts["sessions"][1]), "--json"]) == 0
    assert [s["size"] for s in json.loads(capsys.readouterr().out)] == [2]
    assert main(lib + ["stacks"]) == 0
    text = capsys.readouterr().out
    assert "(3 stacks)" in text and "* " in text
    assert main(lib + ["photos", "--json"]) == 0
    photos = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert {k: photos[a[2]][k] for k in ("stack_id", "stack_size", "stack_position")} == {
        "stack_id": a[0], "stack_size": 4, "stack_position": 3}
    alone = bursts["scenes"][1][0]
    assert (photos[alone]["stack_id"], photos[alone]["stack_size"], photos[alone]["stack_position"]) == (alone, 1, 1)


def test_stack_signatures_ignore_order_and_see_every_input():
    from fluxcull.keeper.bursts import BurstRule
    from fluxcull.keeper.stacks import signatures, stack_rows

    ids, sess = np.array([1, 2, 3, 4]), np.array([7, 7, 7, 9])
    t, keys = np.array([0.0, 1.0, np.nan, 5.0]), np.array([10, 11, 12, 13])
    g, s = signatures(ids, sess, t, keys, BurstRule())
    g2, s2 = signatures(ids[::-1], sess[::-1], t[::-1], keys[::-1], BurstRule())
    assert g.tolist() == [7, 9] and s.tolist() == s2.tolist() and g2.tolist() == [7, 9]
    for changed in (dict(t=np.array([0.0, 1.5, np.nan, 5.0])), dict(keys=np.array([10, 11, 99, 13]))):
        args = {"t": t, "keys": keys, **changed}
        assert signatures(ids, sess, args["t"], args["keys"], BurstRule())[1][0] != s[0]
    assert signatures(ids, sess, t, keys, BurstRule(min_similarity=0.7))[1][1] != s[1]
    rows = stack_rows(ids, sess, t, np.array([1, 1, 3, 4]))
    assert rows.tolist() == [[1, 1, 2, 1], [2, 1, 2, 2], [3, 3, 1, 1], [4, 4, 1, 1]]


def test_the_stacks_migration_applies_over_an_older_catalog(tmp_path):
    """Migration numbers may leave gaps (branches number theirs apart): an older catalog gets the stacks
    migration (0018) and ends at the newest number, with the schema a fresh catalog has."""
    from fluxcull.catalog import connect, migrate, schema_sql
    from fluxcull.catalog.db import latest_version, migrations

    numbers = [n for n, _, _ in migrations()]
    assert 18 in numbers and latest_version() == numbers[-1]
    old = connect(tmp_path / "old.sqlite", migrate_schema=False)
    migrate(old, target=17)
    with transaction(old):
        old.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/x.jpg', 'originals', 1, 1)")
    assert migrate(old) == latest_version()
    assert tuple(old.execute("SELECT stack_id, stack_size, stack_position FROM photos").fetchone()) == (None, None, None)
    assert schema_sql(old) == schema_sql(connect(tmp_path / "fresh.sqlite"))
