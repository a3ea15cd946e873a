"""Keeper model speed and memory: full retrain (evaluation with all baselines + final fit + calibration
+ re-scoring) and scoring alone, on synthetic libraries of 10,000 .. 400,000 photos with 1280-d
float16 embeddings and 3.75% keepers (15,000 of 400,000).

Each size runs in its own subprocess so peak memory is that size's own. Targets at 400,000 photos:
retrain < 120 s, scoring < 15 s, peak memory < 4 GB.

    python -m benchmarks model [--quick]     (quick: up to 50,000 photos)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIM = 1280
KEEP_RATE = 0.0375
PER_SESSION = 300


def build_library(root: Path, n: int, seed: int = 0) -> dict:
    """A library of n originals in sessions of ~300, shot in bursts of 1-5 frames (a burst's frames
    look alike: one embedding plus a little noise), embeddings with a planted taste, features, and
    keeper-archive photos linked to 3.75% of the originals (the best of a burst is the one kept)."""
    import numpy as np

    from fluxcull.catalog import transaction
    from fluxcull.embedding.features import FEATURE_NAMES, FEATURE_SCHEMA, N_TECH, STORED_NAMES
    from fluxcull.embedding.store import EmbeddingStore
    from fluxcull.library import Library

    lib = Library.open(root)
    conn = lib.connect()
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=DIM).astype(np.float32)
    taste /= np.linalg.norm(taste)
    n_sess = max(1, n // PER_SESSION)
    sess_of = np.sort(rng.integers(0, n_sess, n))
    t0 = 1.3e9
    sess_start = t0 + np.arange(n_sess) * 86400.0 * 2 + rng.uniform(7, 19, n_sess) * 3600
    first = np.searchsorted(sess_of, sess_of)
    times = sess_start[sess_of] + (np.arange(n) - first) * 7.0
    with transaction(conn):
        conn.executemany(
            "INSERT INTO sessions(id, role, start_time, end_time, start_at, end_at) VALUES (?, 'originals', ?, ?, '', '')",
            [(int(s) + 1, float(sess_start[s]), float(sess_start[s]) + 3600) for s in range(n_sess)])
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, sha256, capture_time, time_source, session_id, width,"
            " height, iso, aperture, shutter, focal_length_35mm) VALUES (?, ?, 'originals', 1, 1, ?, ?, 'exif', ?,"
            " 6000, 4000, 200, 2.8, 0.004, 28)",
            [(i + 1, f"/o/{i:07d}.jpg", f"s{i}", float(times[i]), int(sess_of[i]) + 1) for i in range(n)])
    store = EmbeddingStore(conn, lib.embeddings_dir, "bench@1", DIM)
    centers = rng.normal(size=(n_sess, DIM)).astype(np.float32) * 0.5
    burst_of = np.searchsorted(np.cumsum(rng.choice([1, 1, 2, 3, 4, 5], size=n)), np.arange(n), side="right")
    utility = np.empty(n, np.float32)
    chunk = 20000
    feats_rows = []
    for s in range(0, n, chunk):
        _, frame_of = np.unique(burst_of[s:s + chunk], return_inverse=True)
        look = rng.normal(size=(frame_of.max() + 1, DIM)).astype(np.float32)
        e = (look[frame_of] + 0.3 * rng.normal(size=(len(frame_of), DIM)).astype(np.float32)
             + centers[sess_of[s:s + chunk]])
        sharp = rng.uniform(1.0, 3.5, len(e)).astype(np.float32)
        utility[s:s + len(e)] = e @ taste * 0.7 + sharp * 0.5 + rng.normal(0, 0.5, len(e))
        store.write(list(range(s + 1, s + len(e) + 1)), e.astype(np.float16), source_sha256=[f"s{i}" for i in range(s, s + len(e))])
        tech = np.full((len(e), len(STORED_NAMES)), np.nan, np.float32)
        tech[:, len(FEATURE_NAMES):] = rng.normal(0, 0.2, (len(e), len(STORED_NAMES) - len(FEATURE_NAMES)))
        tech[:, 0] = sharp
        tech[:, 1] = 0.05 + 0.05 * sharp
        tech[:, 2] = rng.uniform(0.2, 0.7, len(e))
        tech[:, 3:N_TECH] = rng.uniform(0.05, 0.6, (len(e), N_TECH - 3))
        tech[:, 10] = 0.0
        feats_rows += [(s + i + 1, FEATURE_SCHEMA, tech[i].tobytes()) for i in range(len(e))]
    with transaction(conn):
        conn.executemany("INSERT INTO photo_features(photo_id, schema, vector) VALUES (?, ?, ?)", feats_rows)
    keepers = np.argsort(-utility)[: int(round(KEEP_RATE * n))] + 1
    with transaction(conn):
        base = n + 1
        conn.executemany("INSERT INTO photos(id, path, role, size, mtime_ns) VALUES (?, ?, 'keepers', 1, 1)",
                         [(base + j, f"/k/{j}.jpg") for j in range(len(keepers))])
        conn.executemany("INSERT INTO keeper_links(keeper_id, original_id, method) VALUES (?, ?, 'timestamp')",
                         [(base + j, int(k)) for j, k in enumerate(keepers)])
    conn.close()
    return {"photos": n, "keepers": int(len(keepers)), "sessions": n_sess}


def measure(n: int, kind: str) -> dict:
    """Run in a subprocess: build, then time the retrain and a scoring pass."""
    from benchmarks.common import peak_rss_mb
    from fluxcull.embedding.features import load_features
    from fluxcull.jobs import run_job
    from fluxcull.keeper.score import score_job
    from fluxcull.keeper.train import train_job
    from fluxcull.library import Library

    with tempfile.TemporaryDirectory(prefix="fluxcull-bench-model-") as tmp:
        t = time.perf_counter()
        info = build_library(Path(tmp) / "lib", n)
        build_s = time.perf_counter() - t
        rss_build = peak_rss_mb()
        lib = Library.open(Path(tmp) / "lib")
        conn = lib.connect()
        ids = [r[0] for r in conn.execute("SELECT id FROM photos ORDER BY id")]
        t = time.perf_counter()
        load_features(conn, ids)  # technical + metadata features of every photo, as scoring reads them
        load_features_s = time.perf_counter() - t
        conn.close()
        t = time.perf_counter()
        s = run_job(train_job(lib, model_kind=kind, seed=0))
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        sc = run_job(score_job(lib))
        score_s = time.perf_counter() - t
        fresh = _score_with_writer_probe(lib)
        inbox = _inbox_rescore(lib, n)
        again = _retrain_after_review(lib, kind)
        model = next(r for r in s["metrics_table"] if r["split"] == "random_by_session" and r["method"].endswith("*"))
        cent = next(r for r in s["metrics_table"] if r["split"] == "random_by_session" and r["method"] == "centroid")
        return {
            "photos": n, "keepers": info["keepers"], "model": kind, "retrain_s": round(train_s, 2),
            "prepare_s": round(s["timings"]["prepare_s"], 2), "evaluate_s": round(s["timings"]["evaluate_s"], 2),
            "fit_s": round(s["timings"]["fit_s"], 2), "rescore_in_train_s": round(s["timings"].get("score_s", 0), 2),
            "score_s": round(score_s, 2), **fresh, "load_features_s": round(load_features_s, 2), "scored": sc["photos"], "pairs": s["fit"].get("pairs"),
            "peak_rss_mb": round(peak_rss_mb(), 1), "build_rss_mb": round(rss_build, 1), "build_s": round(build_s, 1),
            "auc": round(model["roc_auc"], 3), "centroid_auc": round(cent["roc_auc"], 3), "chosen": s["kind"],
            "context_s": round(s["timings"]["prepare"]["bursts_s"] + s["timings"]["prepare"]["context_s"], 2),
            "prepare_parts": s["timings"]["prepare"], **inbox, **again,
        }


def _inbox_rescore(lib, n: int, new: int = 2000) -> dict:
    """A new inbox walk of `new` photos arrives (ingested and embedded): time re-scoring it alone,
    context inputs included (score_job with sessions_of)."""
    import numpy as np

    from fluxcull.catalog import transaction
    from fluxcull.embedding.features import FEATURE_NAMES, FEATURE_SCHEMA, N_TECH, STORED_NAMES
    from fluxcull.embedding.store import EmbeddingStore
    from fluxcull.jobs import run_job
    from fluxcull.keeper.score import score_job

    rng = np.random.default_rng(5)
    conn = lib.connect()
    base = int(conn.execute("SELECT MAX(id) FROM photos").fetchone()[0]) + 1
    t0 = 1.3e9 + 86400.0 * 2 * (n // PER_SESSION + 10)
    ids = list(range(base, base + new))
    with transaction(conn):
        sid = conn.execute("INSERT INTO sessions(role, start_time, end_time, start_at, end_at)"
                           " VALUES ('inbox', ?, ?, '', '')", (t0, t0 + new * 7.0)).lastrowid
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, sha256, capture_time, time_source, session_id, width,"
            " height) VALUES (?, ?, 'inbox', 1, 1, ?, ?, 'exif', ?, 6000, 4000)",
            [(i, f"/i/{i}.jpg", f"i{i}", t0 + 7.0 * j, sid) for j, i in enumerate(ids)])
    store = EmbeddingStore(conn, lib.embeddings_dir, "bench@1", DIM)
    store.write(ids, rng.normal(size=(new, DIM)).astype(np.float16), source_sha256=[f"i{i}" for i in ids])
    tech = np.full((new, len(STORED_NAMES)), np.nan, np.float32)
    tech[:, :N_TECH] = rng.uniform(0.05, 0.6, (new, N_TECH))
    tech[:, len(FEATURE_NAMES):] = rng.normal(0, 0.2, (new, len(STORED_NAMES) - len(FEATURE_NAMES)))
    tech[:, 0] = rng.uniform(1.0, 3.5, new)
    tech[:, 10] = 0.0
    with transaction(conn):
        conn.executemany("INSERT INTO photo_features(photo_id, schema, vector) VALUES (?, ?, ?)",
                         [(i, FEATURE_SCHEMA, tech[j].tobytes()) for j, i in enumerate(ids)])
    conn.close()
    t = time.perf_counter()
    sc = run_job(score_job(lib, sessions_of=ids))
    return {"inbox_new": new, "inbox_rescore_s": round(time.perf_counter() - t, 2), "inbox_scored": sc["photos"]}


def _retrain_after_review(lib, kind: str) -> dict:
    """The photographer reviews the new inbox walk (keeps 60 of its photos, rejects 240) and retrains:
    every score changes (no first-time NULL -> value writes, as in the first train)."""
    from fluxcull.catalog.decisions import decide
    from fluxcull.jobs import run_job
    from fluxcull.keeper.train import train_job

    conn = lib.connect()
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM photos WHERE role = 'inbox' ORDER BY id LIMIT 300")]
        decide(conn, ids[:60], "keep", "bench")
        decide(conn, ids[60:], "reject", "bench")
    finally:
        conn.close()
    t = time.perf_counter()
    s = run_job(train_job(lib, model_kind=kind, seed=0))
    return {"retrain_again_s": round(time.perf_counter() - t, 2), "again_activated": s["activated"],
            "again_evaluate_s": round(s["timings"]["evaluate_s"], 2), "again_fit_s": round(s["timings"]["fit_s"], 2),
            "again_rescore_s": round(s["timings"].get("score_s", 0), 2),
            "again_changed": (s.get("scoring") or {}).get("changed")}


def _score_with_writer_probe(lib) -> dict:
    """Score a catalog whose scores were all cleared (so every row is written), while another
    connection commits a small write every 50 ms the way the GUI commits a keep / reject; returns
    the scoring time, its writing part, the longest gap between two write progress updates and how
    long the probe's commits waited."""
    import threading

    from fluxcull.catalog import transaction
    from fluxcull.jobs import run_job
    from fluxcull.keeper.score import score_job

    conn = lib.connect()
    with transaction(conn):
        conn.execute("UPDATE photos SET keeper_score = NULL")
    conn.close()
    stop = threading.Event()
    waits: list[float] = []

    def probe():
        pc = lib.connect()
        i = 0
        while not stop.is_set():
            t0 = time.perf_counter()
            with transaction(pc):
                pc.execute("INSERT OR REPLACE INTO settings(key, value) VALUES ('bench.probe', ?)", (str(i),))
            waits.append(time.perf_counter() - t0)
            i += 1
            stop.wait(0.05)
        pc.close()

    marks: list[float] = []

    def on_progress(p):
        if p.message == "writing scores":
            marks.append(time.perf_counter())

    th = threading.Thread(target=probe)
    th.start()
    t = time.perf_counter()
    summary = run_job(score_job(lib), on_progress)
    end = time.perf_counter()
    stop.set()
    th.join()
    marks.append(end)
    w = sorted(waits) or [0.0]
    return {
        "score_fresh_s": round(end - t, 2), "write_s": round(end - marks[0], 2),
        "write_step_max_ms": round(1000 * max(b - a for a, b in zip(marks, marks[1:])), 1) if len(marks) > 1 else None,
        "changed": summary["changed"], "probe_commits": len(waits),
        "probe_wait_max_ms": round(1000 * w[-1], 1), "probe_wait_p50_ms": round(1000 * w[len(w) // 2], 1),
    }


def run(out_dir: Path, quick: bool) -> None:
    from benchmarks.common import write_results

    sizes = [10_000, 50_000] if quick else [10_000, 50_000, 100_000, 200_000, 400_000]
    rows = []
    for n in sizes:
        for kind in (("auto",) if n != sizes[-1] else ("auto", "linear", "mlp")):
            rows.append(_subprocess(n, kind))
            print(json.dumps(rows[-1]), flush=True)
    base = rows[0]
    for r in rows:
        r["retrain_x"] = round(r["retrain_s"] / base["retrain_s"], 2)
        r["score_x"] = round(r["score_s"] / base["score_s"], 2)
    notes = ("Synthetic libraries: n originals in sessions of 300, 1280-d float16 embeddings with a planted taste, "
             "3.75% keepers linked from a keeper archive. retrain_s = the first train_job of the library (prepare + "
             "evaluation of random/sharpness/exposure/centroid/pairwise on sessions held out (5 folds; 3 above "
             "100,000 labelled photos; one held-out half above 250,000) and on the newest sessions + final fit + "
             "calibration + scoring every photo for the first time); retrain_again_s = train_job again after a "
             "review of the new inbox walk (60 keeps, 240 rejects): the same steps, every score changing; "
             "score_s = score_job alone, right after the retrain (every photo's own score comes from the version's raw score "
             "cache, fluxcull.keeper.score_cache: nothing is predicted); load_features_s = fluxcull.embedding.features.load_features of every photo "
             "(stored technical part + metadata from the catalog), part of scoring. "
             "score_fresh_s = score_job again after clearing every score (all rows written), while another connection "
             "commits a one-row write every 50 ms as the GUI does for a keep/reject: write_s = its writing part, "
             "write_step_max_ms = longest gap between two write progress updates, probe_wait_*_ms = how long those "
             "commits waited for the write lock. *_x = ratio to the smallest size measured in the same run. "
             "Peak memory (peak_rss_mb) counts the memory-mapped embedding pages read; each size runs in its own process. "
             "context_s = bursts + context inputs of every photo (part of prepare_s); "
             "inbox_rescore_s = a new 2,000-photo inbox session scored alone (score_job with sessions_of), context "
             "included. auto = every candidate method evaluated and the best chosen (chosen). "
             "Targets at 400,000: retrain < 120 s, score < 15 s, context < 30 s, inbox re-score < 5 s, peak < 4096 MB.")
    write_results(out_dir, "model", rows, meta={"dim": DIM, "keep_rate": KEEP_RATE, "quick": quick}, notes=notes)


def _subprocess(n: int, kind: str) -> dict:
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_model", "--one", str(n), kind], cwd=root,
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark of {n} photos ({kind}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--one":
        print(json.dumps(measure(int(sys.argv[2]), sys.argv[3])))
    else:
        run(Path(__file__).parent / "out", "--quick" in sys.argv)
