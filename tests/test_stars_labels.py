"""Stars and colour labels without a window: the migration that lets the decision log hold them, the
round trip through the log and its undo, the grid's filters, the command line (rate, label, photos
--json, undo) and what stars teach the keeper model (the setting training.stars)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

import modelgen
from fluxcull.catalog import Catalog, connect, transaction
from fluxcull.catalog.db import migrate
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.cli import main


def _photos(conn, n=4):
    with transaction(conn):
        for i in range(n):
            conn.execute("INSERT INTO photos(path, role, size, mtime_ns, capture_time) VALUES (?, 'originals', 1, 1, ?)",
                         (f"/p/{i}.jpg", 1000.0 + i))
    return [r[0] for r in conn.execute("SELECT id FROM photos ORDER BY id")]


def _marks(conn):
    return [tuple(r) for r in conn.execute("SELECT rating, color_label FROM photos ORDER BY id")]


def test_migration_0017_keeps_every_event_and_lets_the_log_hold_stars_and_labels(tmp_path):
    old = connect(tmp_path / "old.sqlite", migrate_schema=False)
    migrate(old, target=16)  # the catalog before stars and labels
    _photos(old, 2)
    with transaction(old):
        old.execute("INSERT INTO decision_events(photo_id, kind, previous, source, detail, batch)"
                    " VALUES (1, 'keep', 'none', 'import', 'rating 5 (sidecar)', 1)")
        old.execute("INSERT INTO decision_events(photo_id, kind, other_photo_id, source) VALUES (1, 'prefer', 2, 'cli')")
    before = [tuple(r) for r in old.execute("SELECT * FROM decision_events ORDER BY id")]
    migrate(old)
    after = [tuple(r) for r in old.execute("SELECT * FROM decision_events ORDER BY id")]
    assert after == [row + (None,) for row in before]  # every column kept, ids too; `value` added
    assert _marks(old) == [(0, None), (0, None)]
    with transaction(old):
        old.execute("INSERT INTO decision_events(photo_id, kind, previous, value, source) VALUES (1, 'rate', '0', '3', 't')")
    for bad in ("INSERT INTO decision_events(photo_id, kind, source) VALUES (1, 'star', 't')",
                "UPDATE photos SET rating = 6", "UPDATE photos SET color_label = 'pink'",
                "UPDATE decision_events SET kind = 'label'", "DELETE FROM decision_events"):
        with pytest.raises(sqlite3.DatabaseError):
            with transaction(old):
                old.execute(bad)
    # the filter's condition can use the partial index of rated photos (INDEXED BY fails where it cannot)
    old.execute("SELECT id FROM photos INDEXED BY photos_rated WHERE status = 'ok' AND rating > 0 AND rating >= 4")
    old.execute("SELECT id FROM photos INDEXED BY photos_labelled WHERE color_label = 'red'")


def test_stars_and_labels_round_trip_through_the_log_and_undo(conn):
    ids = _photos(conn)
    cat = Catalog(conn)
    assert cat.rate(ids[:3], 4, "gui") == {"photos": ids[:3], "changed": ids[:3], "batch": 1}
    assert cat.label([ids[0]], "Red", "gui")["batch"] is None  # names in any case
    assert cat.rate([ids[1]], 2, "cli")["changed"] == [ids[1]]
    assert _marks(conn) == [(4, "red"), (2, None), (4, None), (0, None)]
    log = [tuple(r) for r in conn.execute("SELECT photo_id, kind, previous, value, source, batch FROM decision_events")]
    assert log == [(ids[0], "rate", "0", "4", "gui", 1), (ids[1], "rate", "0", "4", "gui", 1),
                   (ids[2], "rate", "0", "4", "gui", 1), (ids[0], "label", "none", "red", "gui", None),
                   (ids[1], "rate", "4", "2", "cli", None)]
    # the window undoes its own steps: the label, then the three stars at once; photo 2 was rated again
    # since (from the command line) and keeps those stars
    undone = cat.undo(1, "gui", sources=("gui",))
    assert undone[0]["kind"] == "label" and undone[0]["restored"] == "none"
    undone = cat.undo(1, "gui", sources=("gui",))
    assert (undone[0]["kind"], undone[0]["events"], undone[0]["photos_restored"]) == ("rate", 3, 2)
    assert _marks(conn) == [(0, None), (2, None), (0, None), (0, None)]
    assert cat.undo(1, "cli", sources=("cli",))[0]["restored"] == "4"  # the value it replaced
    assert _marks(conn)[1] == (4, None)
    for bad in ((lambda: cat.rate(ids, 6, "t")), (lambda: cat.rate(ids, True, "t")),
                (lambda: cat.label(ids, "pink", "t"))):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(KeyError):
        cat.rate([ids[0], 999], 5, "t")
    assert _marks(conn)[0] == (0, None)  # an unknown photo changes nothing


def test_the_grid_can_be_limited_to_stars_and_to_a_label(conn):
    ids = _photos(conn, 6)
    cat = Catalog(conn)
    cat.rate(ids[:2], 5, "t")
    cat.rate(ids[2:4], 3, "t")
    cat.rate([ids[4]], 1, "t")
    cat.label([ids[1], ids[3]], "green", "t")
    cat.label([ids[5]], "purple", "t")
    assert cat.photo_ids(PhotoQuery(min_rating=3)) == ids[:4]
    assert cat.photo_ids(PhotoQuery(min_rating=5)) == ids[:2]
    assert cat.photo_ids(PhotoQuery(label="green")) == [ids[1], ids[3]]
    assert cat.photo_ids(PhotoQuery(label="any")) == [ids[1], ids[3], ids[5]]
    assert cat.photo_ids(PhotoQuery(min_rating=4, label="green")) == [ids[1]]
    assert cat.count_photos(PhotoQuery(min_rating=1, sort="score")) == 5
    recs = cat.grid_records(ids[:2])
    assert (recs[ids[1]]["rating"], recs[ids[1]]["color_label"]) == (5, "green")
    assert cat.photo_ids(PhotoQuery(label="none")) == [ids[0], ids[2], ids[4]]
    assert cat.photo_ids(PhotoQuery(min_rating=0)) == ids  # 0 stars or more: every photo
    assert cat.photo_ids(PhotoQuery(rating_below=1)) == [ids[5]]  # no stars
    assert cat.photo_ids(PhotoQuery(min_rating=3, rating_below=5)) == ids[2:4]
    for bad in (PhotoQuery(min_rating=-1), PhotoQuery(min_rating=6), PhotoQuery(min_rating="3"),
                PhotoQuery(rating_below=7), PhotoQuery(rating_below=True),
                PhotoQuery(label="pink"), PhotoQuery(label="rating; DROP TABLE photos")):
        with pytest.raises(ValueError):
            bad.where()


def _run(capsys, argv, rc=0):
    got = main(argv)
    out = capsys.readouterr()
    assert got == rc, out.err
    return out


def test_command_line_rate_label_photos_json_and_undo(library, conn, capsys, tmp_path):
    ids = _photos(conn, 4)
    listed = tmp_path / "list.txt"
    listed.write_text(f"# the best two\n{ids[1]}\n/p/2.jpg\n")
    got = json.loads(_run(capsys, ["rate", str(ids[0]), "--from", str(listed), "--stars", "4", "--json"]).out)
    assert got == {"stars": 4, "photos": ids[:3], "changed": ids[:3], "batch": 1}
    assert "1 photo(s), 1 changed" in _run(capsys, ["label", "/p/3.jpg", "--color", "purple"]).out
    _run(capsys, ["label", str(ids[0]), "--colour", "red", "--json"])
    rows = json.loads(_run(capsys, ["photos", "--json"]).out)
    assert [(r["rating"], r["color_label"]) for r in rows] == [(4, "red"), (4, None), (4, None), (0, "purple")]
    assert [r["id"] for r in json.loads(_run(capsys, ["photos", "--min-stars", "4", "--label", "red", "--json"]).out)] \
        == [ids[0]]
    table = _run(capsys, ["photos"]).out
    assert "stars" in table.splitlines()[0] and "purple" in table
    assert "restored label none" in _run(capsys, ["undo"]).out
    assert "undid purple" not in _run(capsys, ["undo"]).out
    assert "undid 3 ratings of one cli step: 3 photos restored" in _run(capsys, ["undo"]).out
    assert _marks(conn) == [(0, None)] * 4
    # refused with the reason, nothing changed
    assert "not in the catalog" in _run(capsys, ["rate", str(ids[0]), "/nowhere.jpg", "--stars", "2"], rc=2).err
    for argv, why in ((["rate", str(ids[0]), "--stars", "6"], "at most 5"),
                      (["label", str(ids[0]), "--color", "pink"], "invalid choice")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and why in capsys.readouterr().err
    assert "no photos given" in _run(capsys, ["rate", "--stars", "2"], rc=2).err
    assert _marks(conn) == [(0, None)] * 4


# -- what stars teach the keeper model -------------------------------------------------------------------------
@pytest.fixture
def rated_library(library, conn):
    g = modelgen.build(library, conn, n=160, sessions=8, seed=3)
    inbox = modelgen.build(library, conn, n=40, sessions=2, seed=4, role="inbox", start=1.75e9)
    keepers = g["ids"][g["keeper"]]
    modelgen.link_keepers(conn, keepers)
    others = g["ids"][~g["keeper"]]
    cat = Catalog(conn)
    cat.decide([int(others[0])], "keep", "t")        # a bare keep
    cat.decide([int(others[1])], "keep", "t")        # a keep with 5 stars
    cat.rate([int(others[1])], 5, "t")
    cat.rate([int(others[2])], 4, "t")               # never marked keep: a keeper by its stars
    cat.rate([int(others[3])], 3, "t")
    cat.decide([int(others[4])], "reject", "t")      # a reject stays a near-miss, whatever its stars
    cat.rate([int(others[4])], 5, "t")
    cat.rate([int(keepers[0])], 1, "t")              # a confirmed keeper with one star stays a keeper
    cat.rate([int(inbox["ids"][0])], 1, "t")         # one star in an inbox session nobody reviewed
    cat.rate([int(others[5])], 2, "t")
    return {"g": g, "inbox": inbox, "others": others, "keepers": keepers}


def _corpus(library, conn):
    from fluxcull.embedding.store import current_store
    from fluxcull.keeper.dataset import load_corpus

    return load_corpus(conn, current_store(library, conn))


def test_stars_make_keepers_weigh_more_as_documented(library, conn, rated_library):
    from fluxcull.keeper import gbt
    from fluxcull.keeper.dataset import NEG, POS, UNLABELLED
    from fluxcull.keeper.pairs import KINDS, build_pairs

    o, k, inbox = rated_library["others"], rated_library["keepers"], rated_library["inbox"]["ids"]
    c = _corpus(library, conn)
    at = {int(i): n for n, i in enumerate(c.ids)}

    def of(pid):
        n = at[int(pid)]
        return int(c.label[n]), float(c.weight[n]), int(c.from_stars[n])

    # default rule: 3 stars or more is a keeper, weighted 2 + 0.5 per star above 3; no negatives from stars
    assert of(o[0]) == (POS, 1.0, 0)                  # bare keep: its keep weight (1.5) only
    assert of(o[1]) == (POS, 3.0, 0)                  # keep with 5 stars: 3x on top of the keep's 1.5x
    assert of(o[2]) == (POS, 2.5, 1) and of(o[3]) == (POS, 2.0, 1)  # keepers by their stars alone
    assert of(o[4]) == (NEG, 1.0, 0) and c.reject[at[int(o[4])]]    # a reject is never a keeper
    assert of(k[0]) == (POS, 1.0, 0) and of(o[5]) == (NEG, 1.0, 0)
    assert of(inbox[0]) == (UNLABELLED, 1.0, 0) and of(inbox[1])[0] == UNLABELLED
    s = c.summary()
    assert (s["from_stars"], s["stars"]) == (2, {"keepers": 2, "negatives": 0, "weighted": 3, "rated": 7})
    # the weights reach the trees' rows and the ranker's pairs: a starred keeper counts more than a bare keep
    train = c.label >= 0
    idx, y, w = gbt.training_rows(c.label, c.reject, c.decided_keep, train, reject_weight=3.0, decided_weight=1.5,
                                  seed=0, weight=c.weight)
    row_w = dict(zip(idx.tolist(), w.tolist()))
    assert row_w[at[int(o[0])]] == 1.5 and row_w[at[int(o[1])]] == 4.5 and row_w[at[int(o[2])]] == 2.5
    pairs = build_pairs(label=c.label, reject=c.reject, decided_keep=c.decided_keep, session=c.session, time=c.time,
                        emb=None, train=train, seed=0, weight=c.weight)
    plain = build_pairs(label=c.label, reject=c.reject, decided_keep=c.decided_keep, session=c.session, time=c.time,
                        emb=None, train=train, seed=0)
    assert np.allclose(pairs.w, plain.w * c.weight[pairs.a] * c.weight[pairs.b])
    rand = pairs.kind == KINDS.index("random")  # 0.3 a pair, times the keeper's weight
    assert np.allclose(pairs.w[rand & (pairs.a == at[int(o[0])])], 0.3 * 1.5)   # a bare keep
    assert np.allclose(pairs.w[rand & (pairs.a == at[int(o[2])])], 0.3 * 2.5)   # 4 stars, never marked keep
    assert np.allclose(pairs.w[rand & (pairs.a == at[int(o[1])])], 0.3 * 1.5 * 3.0)  # kept, 5 stars

    # stars off: only links and decisions label; one star a weak negative: the inbox session counts as reviewed
    Catalog(conn).set_setting("training.stars", {"keeper_from": 0, "negative_up_to": 1})
    c = _corpus(library, conn)
    at = {int(i): n for n, i in enumerate(c.ids)}
    assert of(o[2]) == (NEG, 1.0, 0) and of(o[1]) == (POS, 1.0, 0)
    assert of(k[0]) == (POS, 1.0, 0)                  # a confirmed keeper is never made a negative
    assert of(inbox[0]) == (NEG, 1.5, -1) and of(inbox[1])[0] == NEG  # its session: reviewed
    assert of(o[5]) == (NEG, 1.0, 0)                  # two stars: above negative_up_to
    with pytest.raises(ValueError, match="negative_up_to must be below keeper_from"):
        Catalog(conn).set_setting("training.stars", {"keeper_from": 2, "negative_up_to": 2})
    with pytest.raises(ValueError, match="unknown key"):
        Catalog(conn).set_setting("training.stars", {"keepers": 3})


def test_a_library_without_stars_trains_exactly_as_before(library, conn):
    from fluxcull.keeper.dataset import POS

    g = modelgen.build(library, conn, n=120, sessions=6, seed=5)
    modelgen.link_keepers(conn, g["ids"][g["keeper"]])
    c = _corpus(library, conn)
    assert (c.weight == 1.0).all() and (c.from_stars == 0).all() and (c.stars == 0).all()
    assert set(c.ids[c.label == POS].tolist()) == set(g["ids"][g["keeper"]].tolist())


def test_train_json_says_how_many_labels_came_from_stars(library, conn, rated_library, capsys):
    out = json.loads(_run(capsys, ["train", "--model", "gbt", "--no-score", "--json"]).out)
    assert out["data"]["from_stars"] == 2
    assert out["data"]["stars"] == {"keepers": 2, "negatives": 0, "weighted": 3, "rated": 7}
    text = _run(capsys, ["train", "--model", "gbt", "--no-score"]).out
    assert "from stars: 2 keepers, 0 negatives, 3 weighted" in text
