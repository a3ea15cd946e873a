"""Keeper matching at scale: 15,000 keepers against 400,000 originals (quick: 1,500 against 40,000).

A synthetic library is written first (catalog rows plus random unit 1280-d embeddings in an
EmbeddingStore, float16 on disk), with planted keepers of every kind and planted traps:

- exif: the keeper keeps DateTimeOriginal, sub-seconds and model; an edit (similarity 0.93-0.995)
- exif_nosubsec: an export that dropped SubSecTimeOriginal, of a frame in a burst sharing its second
- name_stripped: metadata stripped, camera name kept in the file name (numbers recur every 10,000
  frames: each R-number exists 40 times among 400,000 originals)
- name_shifted: the keeper's time moved by hours (time zone fix), camera name kept
- sha: a byte-identical copy, renamed, of an original that has no EXIF time
- similarity: stripped and renamed; similarity 0.991-0.999 (a match), or 0.981-0.989 (review)
- burst_stripped: stripped and renamed copy of a burst frame whose neighbour is near-identical
- absent: the original is not in the catalog; the name carries a reused R-number, the time
  (where kept) falls on no original
- new_stripped: 1% more stripped keepers added after the full run, matched incrementally

The timed part is one full `match_job(redo_all=True)` in a fresh process (hashing and embedding are
inputs, not measured), so its peak memory is its own (VmHWM); then a run with nothing to do, a
second full run (the originals' projection now cached), and an incremental run after 1% new keepers. Baseline in the same run: the exact
float32 brute-force nearest-neighbour search over all originals, for the same keepers the job
searched, against the two-stage search the job uses. Precision and recall are on the planted links.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import peak_rss_mb, timer, write_results

DIM = 1280
KINDS = {  # share of keepers
    "exif": 0.38, "exif_nosubsec": 0.08, "name_stripped": 0.14, "name_shifted": 0.05, "sha": 0.04,
    "similarity": 0.17, "burst_stripped": 0.04, "absent": 0.10,
}


def _unit(rng, n):
    x = rng.normal(size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _near(rng, v, cos):
    """Unit vectors with cosine `cos` (array) to the rows of v."""
    u = rng.normal(size=v.shape).astype(np.float32)
    u -= (u * v).sum(1, keepdims=True) * v
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    c = np.asarray(cos, np.float32)[:, None]
    return c * v + np.sqrt(1 - c * c) * u


def _iso(t: float, sub: int | None) -> str:
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    return s + (f".{sub:02d}" if sub is not None else "")


def build(root: Path, n_orig: int, n_keep: int, seed: int = 0) -> dict:
    """Write the synthetic library; return the planted truth {keeper_id: (kind, original_id|None)}."""
    from fluxcull.catalog import transaction
    from fluxcull.embedding.store import EmbeddingStore
    from fluxcull.library import Library

    rng = np.random.default_rng(seed)
    lib = Library.open(root)
    conn = lib.connect()
    # -- originals: sessions of frames seconds apart; bursts share a second (with sub-seconds)
    t = 1.5e9
    times = np.empty(n_orig)
    subsec = np.full(n_orig, -1, np.int64)
    burst_of = np.full(n_orig, -1, np.int64)  # index of the previous frame of the same burst
    i = 0
    while i < n_orig:
        if rng.random() < 0.01:
            t += rng.uniform(3600 * 6, 3600 * 48)  # a new session
        if rng.random() < 0.08 and i + 3 < n_orig:  # a burst of 3 frames within one second
            sec = float(int(t))
            for j in range(3):
                times[i + j] = sec
                subsec[i + j] = 10 + 30 * j
                if j:
                    burst_of[i + j] = i + j - 1
            i += 3
            t = sec + rng.uniform(2, 40)
            continue
        times[i] = float(int(t))
        t += rng.uniform(2, 40)
        i += 1
    in_burst = (burst_of >= 0) | (np.roll(burst_of, -1) >= 0)
    no_time = (rng.random(n_orig) < 0.03) & ~in_burst  # scans and screenshots: no EXIF time
    camera = rng.random(n_orig) < 0.85   # GR III (R-numbers) else X100V (DSCF, 4 digits)
    names = [f"R{(k % 10000):07d}" if c else f"DSCF{(k % 10000):04d}" for k, c in enumerate(camera)]
    models = np.where(camera, "RICOH GR III", "X100V")
    rows = []
    for k in range(n_orig):
        taken = None if no_time[k] else _iso(times[k], None if subsec[k] < 0 else int(subsec[k]))
        folder = time.strftime("%Y/%Y-%m-%d", time.gmtime(times[k]))
        rows.append((k + 1, f"/ARCHIVE/ORIGINALS/{folder}/{names[k]}.{'JPG' if camera[k] else 'RAF'}", "originals",
                     20_000_000 + k, f"o{k:064x}"[-64:], taken, None if no_time[k] else times[k] + (subsec[k] % 100) / 100.0,
                     None if no_time[k] else "exif", models[k] if not no_time[k] else None,
                     f"{names[k]}.{'JPG' if camera[k] else 'RAF'}"))
    with transaction(conn):
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, sha256, taken_at, capture_time, time_source,"
            " camera_model, original_filename) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)", rows)
    del rows
    store = EmbeddingStore(conn, lib.embeddings_dir, "synthetic-1280", DIM)
    # originals' vectors, in chunks (a burst frame is near-identical to the previous one)
    orig_vec_cache: dict[int, np.ndarray] = {}
    step = 8192
    prev_last = None
    for s in range(0, n_orig, step):
        x = _unit(rng, min(step, n_orig - s))
        for j in range(len(x)):
            b = burst_of[s + j]
            if b >= 0:
                pv = x[j - 1] if j > 0 else prev_last
                x[j] = _near(rng, pv[None, :], [rng.uniform(0.985, 0.995)])[0]
        prev_last = x[-1].copy()
        store.write(list(range(s + 1, s + len(x) + 1)), x, source_sha256=[None] * len(x))
    mat = store.matrix()
    ids, rws = store.ids_and_rows()
    row_of = dict(zip(ids.tolist(), rws.tolist()))

    def ovec(k):  # unit float32 vector of original index k
        v = np.asarray(mat[row_of[k + 1]], np.float32)
        return v / np.linalg.norm(v)

    # -- keepers
    kinds = rng.choice(list(KINDS), size=n_keep, p=np.array(list(KINDS.values())) / sum(KINDS.values()))
    burst_frames = np.nonzero(burst_of >= 0)[0]
    with_time = np.nonzero(~no_time)[0]
    plain = np.nonzero((~no_time) & (burst_of < 0) & (np.roll(burst_of, -1) < 0))[0]
    truth, krows, kvecs, kids = {}, [], [], []
    kid = n_orig + 1
    for n, kind in enumerate(kinds):
        kind = str(kind)
        name = f"/ARCHIVE/KEEPERS/{n // 500:03d}/{n:06d}/"
        sha = f"k{n:063x}"
        taken = model = ofn = None
        cap = None
        if kind == "exif_nosubsec":
            o = int(rng.choice(burst_frames))
        elif kind == "sha":
            o = int(rng.choice(np.nonzero(no_time)[0]))
        elif kind == "burst_stripped":
            o = int(rng.choice(burst_frames))
        elif kind in ("exif", "name_stripped", "name_shifted"):
            o = int(rng.choice(with_time))
        else:
            o = int(rng.choice(plain))
        v = ovec(o)
        date = time.strftime("%Y-%m-%d", time.gmtime(times[o]))
        if kind == "exif":
            taken = _iso(times[o], None if subsec[o] < 0 else int(subsec[o]))
            model, cap = models[o], times[o]
            name += f"{date}_{names[o]}_edit.jpg"
            kv = _near(rng, v[None], [rng.uniform(0.93, 0.995)])[0]
        elif kind == "exif_nosubsec":
            taken, model, cap = _iso(times[o], None), models[o], times[o]
            name += f"{date}_{names[o]}.jpg" if rng.random() < 0.5 else f"{date}_export_{n}.jpg"
            kv = _near(rng, v[None], [rng.uniform(0.996, 0.999)])[0]
        elif kind == "name_stripped":
            name += f"{date}_{names[o]}_bw.jpg"
            kv = _near(rng, v[None], [rng.uniform(0.92, 0.99)])[0]
        elif kind == "name_shifted":
            cap = times[o] + 3600 * int(rng.integers(1, 10))
            taken, model = _iso(cap, None), models[o]
            name += f"{names[o]}-Edit.jpg"
            kv = _near(rng, v[None], [rng.uniform(0.95, 0.995)])[0]
        elif kind == "sha":
            name += f"scan_{n}.jpg"
            sha = f"o{o:064x}"[-64:]
            kv = v
        elif kind == "similarity":
            name += f"export_{n}.jpg"
            cos = rng.uniform(0.991, 0.999) if rng.random() < 0.8 else rng.uniform(0.981, 0.989)
            kv = _near(rng, v[None], [cos])[0]
        elif kind == "burst_stripped":
            name += f"insta_{n}.jpg"
            kv = _near(rng, v[None], [rng.uniform(0.993, 0.998)])[0]
        else:  # absent: a reused camera number, a time on no original (or stripped)
            o = None
            fake = int(rng.integers(0, 10000))
            name += f"2030-01-01_R{fake:07d}_edit.jpg"
            if rng.random() < 0.5:
                cap = 1.9e9 + n * 7.0
                taken, model = _iso(cap, None), "RICOH GR III"
            kv = _unit(rng, 1)[0]
        truth[kid] = (kind, None if o is None else o + 1)
        krows.append((kid, name, "keepers", 5_000_000 + n, sha, taken, cap, "exif" if taken else None, model, ofn))
        kvecs.append(kv)
        kids.append(kid)
        kid += 1
    with transaction(conn):
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, sha256, taken_at, capture_time, time_source,"
            " camera_model, original_filename) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)", krows)
    for s in range(0, len(kids), 8192):
        store.write(kids[s : s + 8192], np.asarray(kvecs[s : s + 8192]), source_sha256=[None] * len(kids[s : s + 8192]))
    conn.close()
    return truth


def add_stripped_keepers(root: Path, truth: dict, n: int, seed: int = 1) -> None:
    """n new metadata-stripped keepers of random originals (the photographer's latest exports)."""
    from fluxcull.catalog import transaction
    from fluxcull.library import Library
    from fluxcull.matching.similarity import available_store

    rng = np.random.default_rng(seed)
    lib = Library.open(root)
    conn = lib.connect()
    store, _ = available_store(lib, conn)
    originals = np.array([r[0] for r in conn.execute("SELECT id FROM photos WHERE role = 'originals'")])
    first = conn.execute("SELECT MAX(id) FROM photos").fetchone()[0] + 1
    picks = rng.choice(originals, n, replace=False)
    vecs = store.get(picks.tolist())
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    kv = _near(rng, vecs, rng.uniform(0.991, 0.999, n))
    ids = list(range(first, first + n))
    with transaction(conn):
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, sha256) VALUES (?, ?, 'keepers', 1, 1, ?)",
            [(i, f"/ARCHIVE/KEEPERS/new/export_{i}.jpg", f"new{i:061x}") for i in ids])
    store.write(ids, kv, source_sha256=[None] * n)
    for i, o in zip(ids, picks.tolist()):
        truth[i] = ("new_stripped", int(o))
    conn.close()


def _peak_mb() -> float:
    """This process's own peak resident memory: VmHWM (ru_maxrss would include the parent's size
    at fork, which Linux carries across exec)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mb()


def _child(root: str, mode: str) -> None:
    """Run in a fresh process: the match job, or the NN baselines; print JSON."""
    from fluxcull.jobs import run_job
    from fluxcull.library import Library

    lib = Library.open(root)
    if mode in ("full", "incremental"):
        from fluxcull.matching import match_job

        t0, c0 = time.perf_counter(), time.process_time()
        s = run_job(match_job(lib, redo_all=(mode == "full")))
        out = {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
               "peak_rss_mb": _peak_mb(), "processed": s["processed"],
               "searched": s["similarity_searched"], "linked": s["linked"], "review": s["review"],
               "unmatched": s["unmatched"]}
    else:  # nearest-neighbour search of the same queries: two-stage against exact brute force
        from fluxcull.matching import similarity as S

        conn = lib.connect()
        store, _ = S.available_store(lib, conn)
        vec = S.Vectors.from_store(store)
        q = [r[0] for r in conn.execute(
            "SELECT keeper_id FROM keeper_match_state WHERE status != 'linked' ORDER BY keeper_id")]
        q += [r[0] for r in conn.execute(
            "SELECT keeper_id FROM keeper_links WHERE method = 'similarity' ORDER BY keeper_id")]
        q = sorted(set(q))[: int(mode.split(":")[1])]
        cand = np.array([r[0] for r in conn.execute("SELECT id FROM photos WHERE role = 'originals'")])
        S.EXACT_WORK_LIMIT = 0  # always the two-stage search, whatever the size
        t0, c0 = time.perf_counter(), time.process_time()
        fast = S.nearest(vec, q, cand, k=5)
        t_fast, c_fast = time.perf_counter() - t0, time.process_time() - c0
        rss_fast = _peak_mb()
        S.EXACT_WORK_LIMIT = float("inf")
        t0, c0 = time.perf_counter(), time.process_time()
        exact = S.nearest(vec, q, cand, k=5)
        t_exact, c_exact = time.perf_counter() - t0, time.process_time() - c0
        # what matters is finding the near-duplicates; for keepers with none, top-1 is noise
        near = [k for k in exact if exact[k][0][1] > 0.9]
        agree = float(np.mean([fast[k][0][0] == exact[k][0][0] for k in near])) if near else 1.0
        agree_all = float(np.mean([fast[k][0][0] == exact[k][0][0] for k in exact])) if exact else 1.0
        out = {"queries": len(q), "two_stage_s": t_fast, "two_stage_cpu_s": c_fast, "exact_s": t_exact,
               "exact_cpu_s": c_exact, "with_near_duplicate": len(near), "top1_agreement": agree,
               "top1_agreement_all": agree_all, "peak_rss_mb": rss_fast}
    print(json.dumps(out))


def _run_child(root: Path, mode: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_match", "--child", str(root), mode],
                       capture_output=True, text=True, env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def score(root: Path, truth: dict) -> tuple[list[dict], dict]:
    """Per planted kind: confident links right / wrong, review with the right original proposed or
    among the candidates, review without it, unmatched; precision and recall over all keepers."""
    from fluxcull.library import Library

    conn = Library.open(root).connect()
    links = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT keeper_id, original_id, needs_review FROM keeper_links")}
    states = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT keeper_id, status, candidates FROM keeper_match_state")}
    conn.close()
    per: dict[str, dict] = {}
    tot = {"planted_links": 0, "confident": 0, "confident_correct": 0, "proposed": 0, "proposed_correct": 0,
           "review_with_right_candidate": 0}
    for kid, (kind, o) in truth.items():
        d = per.setdefault(kind, {"kind": kind, "keepers": 0, "linked_right": 0, "linked_wrong": 0,
                                  "review_proposed_right": 0, "review_right_in_candidates": 0,
                                  "review_other": 0, "unmatched": 0})
        d["keepers"] += 1
        got = links.get(kid)
        st, cands = states.get(kid, (None, None))
        if o is not None:
            tot["planted_links"] += 1
        if got is not None and got[0] is not None and got[1] == 0:
            tot["confident"] += 1
            ok = got[0] == o
            tot["confident_correct"] += ok
            d["linked_right" if ok else "linked_wrong"] += 1
        elif st == "review":
            if got is not None:
                tot["proposed"] += 1
                tot["proposed_correct"] += got[0] == o
            listed = o is not None and o in {c["original_id"] for c in json.loads(cands or "[]")}
            if got is not None and got[0] == o and o is not None:
                d["review_proposed_right"] += 1
                tot["review_with_right_candidate"] += 1
            elif got is None and listed:
                d["review_right_in_candidates"] += 1
                tot["review_with_right_candidate"] += 1
            else:
                d["review_other"] += 1
        else:
            d["unmatched"] += 1
    rows = list(per.values())
    metrics = {
        "precision": tot["confident_correct"] / max(tot["confident"], 1),
        "recall": tot["confident_correct"] / max(tot["planted_links"], 1),
        "recall_with_review": (tot["confident_correct"] + tot["review_with_right_candidate"]) / max(tot["planted_links"], 1),
        "proposal_precision": tot["proposed_correct"] / max(tot["proposed"], 1),
        **tot,
    }
    return rows, metrics


def run(out_dir: Path, quick: bool) -> dict:
    n_orig, n_keep = (40_000, 1_500) if quick else (400_000, 15_000)
    tmp = Path(tempfile.mkdtemp(prefix="fluxcull-bench-match-"))
    try:
        with timer() as t_build:
            truth = build(tmp / "lib", n_orig, n_keep)
        full = _run_child(tmp / "lib", "full")
        incr = _run_child(tmp / "lib", "incremental")
        again = _run_child(tmp / "lib", "full")
        add_stripped_keepers(tmp / "lib", truth, n_keep // 100)
        incr_new = _run_child(tmp / "lib", "incremental")
        rows, metrics = score(tmp / "lib", truth)
        nn = _run_child(tmp / "lib", f"nn:{300 if quick else 1000}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    timing = [
        {"measure": "full match (redo all)", "seconds": full["seconds"], "cpu_seconds": full["cpu_seconds"],
         "peak_rss_mb": full["peak_rss_mb"], "keepers": full["processed"], "similarity_searched": full["searched"]},
        {"measure": "incremental run, nothing changed", "seconds": incr["seconds"], "cpu_seconds": incr["cpu_seconds"],
         "peak_rss_mb": incr["peak_rss_mb"], "keepers": incr["processed"], "similarity_searched": incr["searched"]},
        {"measure": "full match again (originals' projection cached)", "seconds": again["seconds"],
         "cpu_seconds": again["cpu_seconds"], "peak_rss_mb": again["peak_rss_mb"], "keepers": again["processed"],
         "similarity_searched": again["searched"]},
        {"measure": f"incremental run, {n_keep // 100} new stripped keepers", "seconds": incr_new["seconds"],
         "cpu_seconds": incr_new["cpu_seconds"], "peak_rss_mb": incr_new["peak_rss_mb"],
         "keepers": incr_new["processed"], "similarity_searched": incr_new["searched"]},
        {"measure": "nearest neighbours, two-stage", "seconds": nn["two_stage_s"], "cpu_seconds": nn["two_stage_cpu_s"],
         "peak_rss_mb": nn["peak_rss_mb"], "keepers": nn["queries"], "similarity_searched": nn["queries"]},
        {"measure": "nearest neighbours, exact brute force (baseline)", "seconds": nn["exact_s"],
         "cpu_seconds": nn["exact_cpu_s"], "peak_rss_mb": "", "keepers": nn["queries"],
         "similarity_searched": nn["queries"]},
    ]
    meta = {"originals": n_orig, "keepers": n_keep, "dim": DIM, "build_seconds": t_build["seconds"],
            "load_average_after": os.getloadavg(),
            "metrics": metrics, "full": full, "nn": nn,
            "two_stage_speedup": nn["exact_s"] / max(nn["two_stage_s"], 1e-9),
            "top1_agreement_two_stage_vs_exact": nn["top1_agreement"]}
    notes = (f"{n_keep:,} keepers vs {n_orig:,} originals (random unit {DIM}-d embeddings, float16). "
             f"Full match {full['seconds']:.1f} s wall ({full['cpu_seconds']:.1f} s CPU over all threads), "
             f"peak RSS {full['peak_rss_mb']:.0f} MB (target < 30 s, < 2 GB); load average after the run "
             f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores. "
             f"Confident links: precision {metrics['precision']:.4f}, recall {metrics['recall']:.4f} "
             f"({metrics['confident']} links); counting review items whose right original is proposed or listed, "
             f"recall {metrics['recall_with_review']:.4f}; proposals for review right "
             f"{metrics['proposal_precision']:.3f} ({metrics['proposed']}). Two-stage nearest-neighbour search "
             f"{meta['two_stage_speedup']:.1f}x faster than exact brute force on the same {nn['queries']} keepers; "
             f"it finds the same best original for {nn['top1_agreement']:.4f} of the "
             f"{nn['with_near_duplicate']} that have a near-duplicate (similarity > 0.9).")
    cols = list(rows[0]) if rows else []
    table = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    table += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in sorted(rows, key=lambda r: r["kind"])]
    notes += ("\n\nPlanted keepers by kind (linked_wrong: a confident link to the wrong original; "
              "review_proposed_right: proposed for review with the right original; review_right_in_candidates: "
              "in review, no single proposal, the right original among the candidates):\n\n" + "\n".join(table))
    meta["by_kind"] = rows
    payload = write_results(out_dir, "match", timing, meta, notes)
    return payload


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        import argparse

        ap = argparse.ArgumentParser()
        ap.add_argument("--quick", action="store_true")
        ap.add_argument("--out", default=str(Path(__file__).parent / "out"))
        a = ap.parse_args()
        run(Path(a.out), a.quick)
        print((Path(a.out) / "match.md").read_text())
