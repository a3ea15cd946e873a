"""Motifs: the photographer's recurring scenes, as clusters of keepers that look alike.

Keepers: confirmed keepers and photos marked keep (the keeper model's positives,
fluxcull.keeper.dataset.load_corpus), not rejected. Their L2-normalised embeddings are reduced by
PCA to `components` dimensions (fitted on the keepers, randomized SVD, seed 0), normalised again,
and clustered by HDBSCAN (scikit-learn's, with core distances from BLAS: `density`; `min_size` the
smallest motif; photos that fit no motif are noise and left out). Deterministic for the same keepers.

Per motif: its medoids (the members with the smallest summed cosine distance to the others, most
typical first), size, first and last capture date, keepers per year, and the keeper rate among the
originals assigned to it: every ok original is assigned to the motif whose centroid it is most
similar to (cosine, in the PCA space), provided it is at least as similar as the motif's own
least-typical 5% of members are — farther photos belong to no motif.

Names: the photographer names a motif (`fluxcull motifs --name ID NAME`). After a re-clustering a
new cluster keeps the id and name of the stored motif it overlaps most, when they share at least
half the members of the smaller of the two (one to one, largest overlaps first); a stored motif
matched by no cluster is dropped.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

import numpy as np

from fluxcull.catalog import insight_reads, motif_store, settings
from fluxcull.errors import NotFound
from fluxcull.keeper.dataset import load_corpus, read_embeddings

SETTING_KEY = "motifs"
MATCH_SHARE = 0.5


@dataclass
class MotifRule:
    components: float = 32
    min_size: float = 5
    medoids: float = 3

    @classmethod
    def from_settings(cls, conn: sqlite3.Connection) -> "MotifRule":
        return settings.numbers_into(conn, SETTING_KEY, cls(), non_negative=True)


def match_names(old: dict[int, set[int]], new: list[set[int]]) -> list[int | None]:
    """For each new cluster, the stored motif id it continues (or None); see the module docstring."""
    pairs = []
    for j, members in enumerate(new):
        for mid, was in old.items():
            shared = len(members & was)
            if shared and shared >= MATCH_SHARE * min(len(members), len(was)):
                pairs.append((-shared, mid, j))
    out: list[int | None] = [None] * len(new)
    taken: set[int] = set()
    for _, mid, j in sorted(pairs):
        if out[j] is None and mid not in taken:
            out[j], taken = mid, taken | {mid}
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _date(t: float) -> str | None:
    return dt.datetime.fromtimestamp(float(t), dt.timezone.utc).date().isoformat() if np.isfinite(t) else None


def _years(times: np.ndarray) -> dict[str, int]:
    t = times[np.isfinite(times)]
    ys = t.astype(np.int64).astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    u, c = np.unique(ys, return_counts=True)
    return {str(int(y)): int(n) for y, n in zip(u, c)}


def cluster(conn: sqlite3.Connection, store, *, min_size: int | None = None, chunk: int = 32768) -> dict:
    """Cluster the keepers, store the motifs (names kept where they persist), describe them."""
    from sklearn.decomposition import PCA

    from fluxcull.insights.density import hdbscan_labels

    rule = MotifRule.from_settings(conn)
    min_size = int(min_size or rule.min_size)
    corpus = load_corpus(conn, store)
    keeper = (corpus.confirmed | corpus.decided_keep) & ~corpus.reject
    kpos = np.flatnonzero(keeper)
    result = {"keepers": int(len(kpos)), "min_size": min_size, "noise": 0, "motifs": []}
    if len(kpos) < max(min_size, 2):
        motif_store.replace(conn, [])
        return result
    emb = np.concatenate([b for _, b in read_embeddings(store, corpus.rows[kpos])])
    k = int(max(2, min(rule.components, emb.shape[1], len(kpos) - 1)))
    pca = PCA(n_components=k, svd_solver="randomized", random_state=0).fit(emb)
    z = _unit(pca.transform(emb).astype(np.float32))
    labels = hdbscan_labels(z, min_size)   # = sklearn HDBSCAN(min_cluster_size=min_size).fit(z).labels_
    n_motifs = int(labels.max()) + 1
    result["noise"] = int((labels < 0).sum())
    members = [kpos[labels == c] for c in range(n_motifs)]
    cents = _unit(np.stack([z[labels == c].mean(axis=0) for c in range(n_motifs)])) if n_motifs else None
    medoids, floors = [], []
    for c in range(n_motifs):
        zc = z[labels == c]
        closeness = zc @ zc.sum(axis=0)   # argmax = medoid under cosine distance
        order = np.argsort(-closeness, kind="stable")[: int(rule.medoids)]
        medoids.append(corpus.ids[members[c][order]])
        floors.append(float(np.quantile(zc @ cents[c], 0.05)))
    # every original assigned to its nearest motif (close enough), for the keeper rate
    assigned = np.zeros(n_motifs, np.int64)
    assigned_keepers = np.zeros(n_motifs, np.int64)
    if n_motifs:
        orig = np.flatnonzero(corpus.role == "originals")
        floors_a = np.array(floors, np.float32)
        for s, block in read_embeddings(store, corpus.rows[orig], chunk=chunk):
            sims = _unit(pca.transform(block).astype(np.float32)) @ cents.T
            best = sims.argmax(axis=1)
            ok = sims[np.arange(len(best)), best] >= floors_a[best]
            is_keeper = keeper[orig[s:s + len(block)]]
            assigned += np.bincount(best[ok], minlength=n_motifs)
            assigned_keepers += np.bincount(best[ok & is_keeper], minlength=n_motifs)
    ids_sets = [set(corpus.ids[m].tolist()) for m in members]
    kept_ids = match_names(motif_store.members(conn), ids_sets)
    stored = motif_store.replace(conn, [(kept_ids[c], sorted(ids_sets[c]), medoids[c].tolist())
                                        for c in range(n_motifs)])
    motif_store.set_rates(conn, [(stored[c], int(assigned[c]), int(assigned_keepers[c])) for c in range(n_motifs)])
    names = {m["id"]: m["name"] for m in motif_store.motifs(conn)}
    for c in range(n_motifs):
        t = corpus.time[members[c]]
        result["motifs"].append({
            "id": stored[c], "name": names.get(stored[c]), "continued": kept_ids[c] is not None,
            "size": int(len(members[c])), "medoids": medoids[c].tolist(),
            "first": _date(np.nanmin(t)) if np.isfinite(t).any() else None,
            "last": _date(np.nanmax(t)) if np.isfinite(t).any() else None,
            "years": _years(t), "assigned": int(assigned[c]),
            "keeper_rate": float(assigned_keepers[c] / assigned[c]) if assigned[c] else None,
            "members": sorted(ids_sets[c])})
    result["motifs"].sort(key=lambda m: (-m["size"], m["id"]))
    return result


def _rate(m: dict) -> float | None:
    return m["assigned_keepers"] / m["assigned"] if m["assigned"] else None


def stored(conn: sqlite3.Connection) -> dict:
    """The stored motifs, described from the catalog (no re-clustering; the keeper rate as the last
    clustering measured it, None where it was not stored)."""
    out = []
    for m in motif_store.motifs(conn):
        caps = insight_reads.photo_captions(conn, m["members"])
        t = np.array([caps[p][1] if p in caps and caps[p][1] is not None else np.nan for p in m["members"]])
        fin = np.isfinite(t).any()
        out.append({"id": m["id"], "name": m["name"], "size": len(m["members"]), "medoids": m["medoids"],
                    "first": _date(np.nanmin(t)) if fin else None, "last": _date(np.nanmax(t)) if fin else None,
                    "years": _years(t), "assigned": m["assigned"], "keeper_rate": _rate(m), "members": m["members"]})
    out.sort(key=lambda m: (-m["size"], m["id"]))
    return {"motifs": out}


def rename(conn: sqlite3.Connection, motif_id, name: str) -> dict:
    try:
        mid = int(motif_id)
    except ValueError:
        raise NotFound(f"motif {motif_id!r}: expected a motif id (`fluxcull motifs --list`)") from None
    if not motif_store.rename(conn, mid, name.strip()):
        raise NotFound(f"no motif {mid}: `fluxcull motifs --list` shows them")
    return {"id": mid, "name": name.strip() or None}
