"""HDBSCAN labels as scikit-learn's HDBSCAN(min_cluster_size=m).fit(x).labels_ computes them
(euclidean, min_samples = m, excess of mass), with the one slow step done differently.

scikit-learn finds each point's core distance (to its m-th nearest neighbour, itself included) with a
k-d tree, which in a few dozen dimensions visits nearly every point one at a time. Here the nearest
candidates come from BLAS similarity blocks, and their distances are then recomputed exactly as the
tree does (float64, squared differences summed one dimension after the other, then the square root),
so the core distances are the same numbers. The minimum spanning tree of mutual reachability, the
single-linkage tree and the cluster selection are scikit-learn's own routines, given those core
distances. Where those routines are not importable (another scikit-learn), the public estimator runs.
"""

from __future__ import annotations

import numpy as np

SPARE = 16   # candidates beyond m taken from the BLAS ranking, re-ranked by the exact distance


def hdbscan_labels(x: np.ndarray, min_cluster_size: int, *, block: int = 2048) -> np.ndarray:
    x = np.ascontiguousarray(x, np.float64)
    n = len(x)
    try:
        from sklearn.cluster._hdbscan._linkage import make_single_linkage, mst_from_data_matrix
        from sklearn.cluster._hdbscan._tree import tree_to_labels
        from sklearn.metrics._dist_metrics import DistanceMetric
    except ImportError:  # pragma: no cover - another scikit-learn layout
        return _public(x, min_cluster_size)
    if n <= min_cluster_size + SPARE or not np.isfinite(x).all():
        return _public(x, min_cluster_size)
    core = core_distances(x, min_cluster_size, block=block)
    try:
        mst = mst_from_data_matrix(x, core, DistanceMetric.get_metric("euclidean"), 1.0)
        mst = mst[np.argsort(mst["distance"])]
        labels, _ = tree_to_labels(make_single_linkage(mst), min_cluster_size, "eom", False, 0.0, None)
    except (TypeError, ValueError):  # pragma: no cover - private routines changed their signatures
        return _public(x, min_cluster_size)
    return labels


def core_distances(x: np.ndarray, k: int, *, block: int = 2048) -> np.ndarray:
    """Distance of every row to its k-th nearest row (itself the first), as a k-d tree reports it."""
    n = len(x)
    c = min(n, k + SPARE)
    x32 = x.astype(np.float32)
    sq = np.einsum("ij,ij->i", x32, x32)
    out = np.empty(n, np.float64)
    for s in range(0, n, block):
        xb = x32[s:s + block]
        approx = sq[None, :] - 2.0 * (xb @ x32.T)          # squared distance less the row's own norm
        cand = np.argpartition(approx, c - 1, axis=1)[:, :c]
        diff = x[s:s + block, None, :] - x[cand]           # (b, c, d)
        d2 = np.zeros(cand.shape, np.float64)
        for j in range(x.shape[1]):                         # one dimension after the other, as the tree sums
            d2 += diff[:, :, j] * diff[:, :, j]
        out[s:s + block] = np.sqrt(np.sort(d2, axis=1)[:, k - 1])
    return out


def _public(x: np.ndarray, min_cluster_size: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    return HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit(x).labels_
