"""What the keeper model enables, at scale: an issue draft, analytics by every dimension, reverse
geocoding of 2,000 session centroids, motif clustering — on the keeper-model benchmark's synthetic
library (benchmarks.bench_model.build_library: 400,000 originals, 1280-d float16 embeddings,
15,000 confirmed keepers) with keeper scores added. Each measurement beside a simple baseline
timed in the same run (the machine may be loaded): a plain top-N score query for the draft, one
SQL GROUP BY for analytics, a single-coordinate lookup for geocoding (the table load), PCA alone
for motifs. Motifs run in their own process, so their peak memory is their own.

Targets at 400,000: draft < 2 s, analytics (all dimensions) < 3 s, geocoding 2,000 < 5 s,
motifs < 60 s and < 2 GB.

    python -m benchmarks insights [--quick]     (quick: 50,000 photos)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def prepare(root: Path, n: int) -> dict:
    """The model benchmark's library, with keeper scores (confirmed keepers 1.0, else a skewed draw:
    about 2% of the rest score 0.8 or more) and GPS on every session."""
    import numpy as np

    from benchmarks.bench_model import build_library
    from fluxcull.catalog import transaction
    from fluxcull.library import Library

    info = build_library(root, n)
    conn = Library.open(root).connect()
    rng = np.random.default_rng(1)
    scores = rng.beta(2, 6, n)
    with transaction(conn):
        conn.executemany("UPDATE photos SET keeper_score = ?, base_score = ? WHERE id = ?",
                         [(float(s), float(s), i + 1) for i, s in enumerate(scores)])
        conn.execute("UPDATE photos SET keeper_score = 1.0 WHERE id IN "
                     "(SELECT original_id FROM keeper_links)")
        sess = [r[0] for r in conn.execute("SELECT id FROM sessions")]
        conn.executemany("UPDATE sessions SET gps_lat = ?, gps_lon = ? WHERE id = ?",
                         [(float(rng.uniform(-60, 70)), float(rng.uniform(-180, 180)), s) for s in sess])
    conn.close()
    return info


def measure_fast(root: Path) -> dict:
    import numpy as np

    from benchmarks.common import peak_rss_mb
    from fluxcull.embedding.store import current_store
    from fluxcull.insights import analytics, draft, places
    from fluxcull.library import Library

    conn = Library.open(root).connect()
    store = current_store(Library.open(root), conn)  # verified once, as every command's first read does
    out: dict = {}
    t = time.perf_counter()
    conn.execute("SELECT id FROM photos WHERE keeper_score >= 0.8 ORDER BY keeper_score DESC LIMIT 36").fetchall()
    out["baseline_topn_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    d = draft.propose(conn, store, size=36, save=False)
    out["draft_s"] = round(time.perf_counter() - t, 3)
    out["draft_candidates"], out["draft_missing"] = d["candidates"], d["missing"]
    t = time.perf_counter()
    conn.execute("SELECT session_id, COUNT(*), SUM(keeper_score >= 1.0), AVG(keeper_score) FROM photos"
                 " GROUP BY session_id").fetchall()
    out["baseline_groupby_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    data = analytics.Data(conn)
    for by in analytics.DIMENSIONS:
        analytics.group(data, by)
    out["analytics_all_s"] = round(time.perf_counter() - t, 3)
    rng = np.random.default_rng(2)
    coords = [(float(a), float(b)) for a, b in zip(rng.uniform(-60, 70, 2000), rng.uniform(-180, 180, 2000))]
    t = time.perf_counter()
    places.place_names(coords[:1])
    out["baseline_geocode_1_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    places.place_names(coords)
    out["geocode_2000_s"] = round(time.perf_counter() - t, 3)
    out["fast_peak_rss_mb"] = round(peak_rss_mb(), 1)
    conn.close()
    return out


def measure_motifs(root: Path) -> dict:
    from benchmarks.common import peak_rss_mb
    from fluxcull.embedding.store import current_store
    from fluxcull.insights import motifs
    from fluxcull.keeper.dataset import load_corpus, read_embeddings
    from fluxcull.library import Library

    lib = Library.open(root)
    conn = lib.connect()
    store = current_store(lib, conn)
    t = time.perf_counter()
    corpus = load_corpus(conn, store)
    import numpy as np
    from sklearn.decomposition import PCA

    k = np.flatnonzero(corpus.confirmed)
    emb = np.concatenate([b for _, b in read_embeddings(store, corpus.rows[k])])
    PCA(n_components=32, svd_solver="randomized", random_state=0).fit(emb)
    base = time.perf_counter() - t
    del emb
    t = time.perf_counter()
    r = motifs.cluster(conn, store)
    out = {"baseline_pca_s": round(base, 2), "motifs_s": round(time.perf_counter() - t, 2),
           "motifs": len(r["motifs"]), "motif_keepers": r["keepers"], "motifs_peak_rss_mb": round(peak_rss_mb(), 1)}
    conn.close()
    return out


def run(out_dir: Path, quick: bool) -> None:
    from benchmarks.common import write_results

    n = 50_000 if quick else 400_000
    with tempfile.TemporaryDirectory(prefix="fluxcull-bench-insights-") as tmp:
        root = Path(tmp) / "lib"
        t = time.perf_counter()
        info = _sub("--prepare", root, n)
        row = {"photos": n, "keepers": info["keepers"], "build_s": round(time.perf_counter() - t, 1)}
        row.update(_sub("--fast", root))
        row.update(_sub("--motifs", root))
    print(json.dumps(row), flush=True)
    notes = ("Synthetic library of benchmarks.bench_model (sessions of 300, 1280-d float16 embeddings, 3.75% confirmed "
             "keepers) with keeper scores. draft_s = fluxcull.insights.draft.propose (36 photos, min score 0.8, "
             "not stored) against baseline_topn_s (a top-36 score query); analytics_all_s = every dimension from "
             "one read, against baseline_groupby_s (one SQL GROUP BY session); geocode_2000_s = 2,000 random "
             "centroids, against baseline_geocode_1_s (one coordinate: the city table's load); motifs_s = "
             "insights.motifs.cluster (corpus, PCA, HDBSCAN, every original assigned, stored) in its own process, "
             "against baseline_pca_s (corpus read + PCA alone). Targets at 400,000: draft < 2 s, analytics < 3 s, "
             "geocoding < 5 s, motifs < 60 s and < 2048 MB.")
    write_results(out_dir, "insights", [row], meta={"quick": quick}, notes=notes)


def _sub(flag: str, root: Path, n: int | None = None) -> dict:
    env = dict(os.environ)
    repo = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = str(repo) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "benchmarks.bench_insights", flag, str(root)] + ([str(n)] if n else [])
    out = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark step {flag} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] in ("--prepare", "--fast", "--motifs"):
        root = Path(sys.argv[2])
        if sys.argv[1] == "--prepare":
            print(json.dumps(prepare(root, int(sys.argv[3]))))
        elif sys.argv[1] == "--fast":
            print(json.dumps(measure_fast(root)))
        else:
            print(json.dumps(measure_motifs(root)))
    else:
        run(Path(__file__).parent / "out", "--quick" in sys.argv)
