"""Motifs: keepers of repeated scenes cluster together; names survive a re-clustering."""

from __future__ import annotations

import json

import numpy as np

import insightgen
from fluxcull.cli import main
from fluxcull.insights.motifs import match_names


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        return code, out


def test_repeated_scenes_form_motifs_and_names_persist(library, conn, capsys):
    g = insightgen.build(library, conn)
    in_motif = g["motif"] >= 0
    # keepers: every frame of the recurring scenes, and one frame of a few one-off scenes
    lone = [int(np.flatnonzero(g["burst"] == b)[0]) for b in np.unique(g["burst"][~in_motif])[::9]]
    insightgen.keep(conn, g["ids"][in_motif][::2])
    insightgen.link(conn, g["ids"][in_motif][1::2])
    insightgen.keep(conn, g["ids"][lone])
    code, r = _run(capsys, "motifs", "--json")
    assert code == 0 and r["keepers"] == int(in_motif.sum()) + len(lone)
    assert len(r["motifs"]) == 3
    scenes = []
    for m in r["motifs"]:
        pos = np.searchsorted(g["ids"], m["members"])
        scene = np.bincount(g["motif"][pos] + 1).argmax() - 1
        scenes.append(scene)
        assert scene >= 0 and (g["motif"][pos] == scene).mean() >= 0.85   # one recurring scene per motif
        assert (g["motif"][pos] == scene).sum() == (g["motif"] == scene).sum()   # all of it
        assert len(m["medoids"]) == 3 and set(m["medoids"]) <= set(m["members"])
        assert m["first"] <= m["last"] and sum(m["years"].values()) == m["size"]
        assert m["keeper_rate"] is not None and 0 < m["keeper_rate"] <= 1
    assert sorted(scenes) == [0, 1, 2]
    assert r["noise"] >= len(lone) // 2   # one-off scenes are mostly left out
    biggest = r["motifs"][0]
    assert biggest["size"] >= 48
    code, n = _run(capsys, "motifs", "--name", str(biggest["id"]), "Harbour", "--json")
    assert code == 0 and n["name"] == "Harbour"
    # a re-clustering with a few keepers fewer keeps the motif's id and name
    conn.execute("UPDATE photos SET decision = 'none' WHERE id = ?", (biggest["members"][0],))
    conn.commit()
    code, r2 = _run(capsys, "motifs", "--json")
    again = [m for m in r2["motifs"] if m["id"] == biggest["id"]]
    assert len(r2["motifs"]) == 3 and again and again[0]["name"] == "Harbour" and again[0]["continued"]
    code, ls = _run(capsys, "motifs", "--list", "--json")
    assert {m["id"]: m["name"] for m in ls["motifs"]}[biggest["id"]] == "Harbour"
    code, text = _run(capsys, "motifs", "--list")
    assert "Harbour" in text
    assert main(["motifs", "--name", "999", "x"]) == 2
    # the find filter motif=ID: exactly the motif's photos, on the command line and in a saved filter
    for m in r2["motifs"]:
        code, listed = _run(capsys, "photos", "--where", f"motif={m['id']}", "--json")
        assert code == 0 and sorted(p["id"] for p in listed) == m["members"]
    code, saved = _run(capsys, "filters", "--save", "Harbour", "--where", f"motif={biggest['id']} and score>=1",
                       "--json")
    code, listed = _run(capsys, "photos", "--filter", "Harbour", "--json")
    assert code == 0 and sorted(p["id"] for p in listed) == again[0]["members"]
    code, listed = _run(capsys, "photos", "--where", "motif=999", "--json")
    assert code == 0 and listed == []
    assert main(["photos", "--where", "motif=0"]) == 2
    # the keeper rate the clustering measured is stored with the motifs
    assert {m["id"]: m["keeper_rate"] for m in ls["motifs"]} == {m["id"]: m["keeper_rate"] for m in r2["motifs"]}


def test_match_names_one_to_one_by_overlap():
    old = {1: {1, 2, 3, 4}, 2: {10, 11, 12}, 3: {20, 21}}
    new = [{1, 2, 3, 9}, {10, 30, 31, 32, 33}, {11, 12, 13}, {20, 21, 22}]
    assert match_names(old, new) == [1, None, 2, 3]


def test_hdbscan_labels_equal_scikit_learns():
    """The motif clustering's HDBSCAN (core distances from BLAS blocks, recomputed exactly) labels
    every point as sklearn.cluster.HDBSCAN does: clusters, noise, exact duplicates, small blocks."""
    from sklearn.cluster import HDBSCAN
    from sklearn.neighbors import NearestNeighbors

    from fluxcull.insights.density import core_distances, hdbscan_labels

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(12, 16))
    x = centres[rng.integers(0, 12, 900)] + rng.normal(0, 0.5, (900, 16))
    x = np.concatenate([x, x[:40]])                       # exact duplicates
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    wide = x.astype(np.float64)
    tree, _ = NearestNeighbors(n_neighbors=5, algorithm="kd_tree").fit(wide).kneighbors(wide, 5)
    assert np.array_equal(core_distances(wide, 5, block=128), tree[:, -1])
    for m in (5, 9):
        expected = HDBSCAN(min_cluster_size=m, copy=True).fit(x).labels_
        got = hdbscan_labels(x, m, block=100)
        assert expected.max() >= 3 and np.array_equal(got, expected), m

