"""Stacks: computing them for a 400,000-photo library, keeping them current when an inbox walk
arrives, the grid with stacks collapsed against every frame shown, and the survey of 8 photos painted
from the image cache against compare's two and the loupe's one.

- compute: a library of n originals in sessions of ~300, each a run of scenes of 1-8 frames a second
  apart (1280-d float16 embeddings: frames of one scene look alike, cosine ~0.8; other scenes ~0.15),
  like benchmarks.bench_model's. Timed: the first computation (every group, every photo written),
  again with nothing changed, after a new 2,000-photo inbox walk, and `--rebuild`; against the bursts
  alone (load_corpus + find_bursts over the whole corpus, what the keeper model's context computes
  without its projection pass) in the same run. Each size in its own process.
- gui: benchmarks.bench_gui's window on one catalog with stacks, every frame against collapsed.
- survey: 8 photos of 4000x3000 in the image cache, the survey started and painted; compare (2) and
  the loupe (1) from the same cache in the same run.

    python -m benchmarks stacks [--quick]      (quick: 50,000 photos, 40,000 in the window)
    python -m benchmarks.bench_stacks --only compute|gui|survey [--quick]
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO_ROOT, launch_env, peak_rss_mb, write_results

DIM = 1280
PER_SESSION = 300
SCENE_SIZES = (1, 1, 1, 2, 3, 4, 5, 6, 8)


# -- compute ---------------------------------------------------------------------------------------------
def build_library(root: Path, n: int, seed: int = 0, *, role: str = "originals", start_id: int = 1,
                  t0: float = 1.3e9, lib=None) -> dict:
    """n photos of `role` in sessions of ~PER_SESSION, scenes of SCENE_SIZES frames a second apart."""
    import numpy as np

    from fluxcull.catalog import transaction
    from fluxcull.embedding.store import EmbeddingStore
    from fluxcull.library import Library

    lib = lib or Library.open(root)
    conn = lib.connect()
    rng = np.random.default_rng(seed)
    n_sess = max(1, n // PER_SESSION)
    sizes = rng.choice(SCENE_SIZES, size=n)  # more than enough scenes
    scene_of, frame_of = np.repeat(np.arange(n), sizes)[:n], np.concatenate([np.arange(k) for k in sizes])[:n]
    sess_of = np.minimum(np.arange(n) * n_sess // n, n_sess - 1)
    first_scene = scene_of[np.searchsorted(sess_of, np.arange(n_sess))]
    starts = t0 + np.arange(n_sess) * 86400.0 * 2 + rng.uniform(7, 19, n_sess) * 3600
    gaps = rng.uniform(40, 120, scene_of[-1] + 1)
    times = starts[sess_of] + (np.cumsum(gaps)[scene_of] - np.cumsum(gaps)[first_scene[sess_of]]) + frame_of * 1.0
    ids = np.arange(start_id, start_id + n)
    with transaction(conn):
        first_sid = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM sessions").fetchone()[0]
        conn.executemany("INSERT INTO sessions(id, role, start_time, end_time, start_at, end_at) VALUES (?, ?, ?, ?, '', '')",
                         [(first_sid + s, role, float(starts[s]), float(starts[s]) + 3600) for s in range(n_sess)])
        conn.executemany(
            "INSERT INTO photos(id, path, role, size, mtime_ns, sha256, capture_time, time_source, session_id, width,"
            " height) VALUES (?, ?, ?, 1, 1, ?, ?, 'exif', ?, 6000, 4000)",
            [(int(ids[i]), f"/{role}/{int(ids[i]):07d}.jpg", role, f"s{int(ids[i])}", float(times[i]),
              first_sid + int(sess_of[i])) for i in range(n)])
    store = EmbeddingStore(conn, lib.embeddings_dir, "bench@1", DIM)
    centers = rng.normal(size=(n_sess, DIM)).astype(np.float32) * 0.5
    for s in range(0, n, 20_000):
        part = slice(s, min(n, s + 20_000))
        sc = scene_of[part]
        uniq, inv = np.unique(sc, return_inverse=True)
        scene_vec = np.stack([np.random.default_rng([seed, int(u)]).normal(size=DIM) for u in uniq]).astype(np.float32)
        e = centers[sess_of[part]] + scene_vec[inv] + rng.normal(0, 0.6, (len(sc), DIM)).astype(np.float32)
        store.write([int(i) for i in ids[part]], e.astype(np.float16), source_sha256=[f"s{int(i)}" for i in ids[part]])
    conn.close()
    return {"photos": n, "sessions": n_sess, "scenes": int(scene_of[-1] + 1),
            "stacked_planted": int(np.isin(scene_of, np.flatnonzero(sizes[: scene_of[-1] + 1] > 1)).sum())}


def measure(n: int) -> dict:
    """In a subprocess: build, then time the stacks jobs and the bursts alone."""
    import numpy as np

    from fluxcull.catalog import stacks_store
    from fluxcull.embedding.store import current_store
    from fluxcull.jobs import run_job
    from fluxcull.keeper.bursts import BurstRule, find_bursts
    from fluxcull.keeper.dataset import load_corpus
    from fluxcull.keeper.inputs import embeddings_reader
    from fluxcull.keeper.stacks import stacks_job
    from fluxcull.library import Library

    with tempfile.TemporaryDirectory(prefix="fluxcull-bench-stacks-") as tmp:
        t = time.perf_counter()
        info = build_library(Path(tmp) / "lib", n)
        build_s = time.perf_counter() - t
        lib = Library.open(Path(tmp) / "lib")
        conn = lib.connect()
        current_store(lib, conn)  # the store checked once (its verified stamp), as after `fluxcull embed`
        t = time.perf_counter()
        store = current_store(lib, conn)
        corpus = load_corpus(conn, store)
        t_corpus = time.perf_counter() - t
        burst = find_bursts(corpus.ids, corpus.session, corpus.time, embeddings_reader(store, corpus.rows),
                            rule=BurstRule.from_settings(conn))
        bursts_s = time.perf_counter() - t
        t = time.perf_counter()
        first = run_job(stacks_job(lib))
        first_s = time.perf_counter() - t
        stored = stacks_store.stored(conn)
        equal = bool(np.array_equal(stored[:, 0], corpus.ids) and np.array_equal(stored[:, 1], burst))
        t = time.perf_counter()
        again = run_job(stacks_job(lib))
        again_s = time.perf_counter() - t
        build_library(Path(tmp) / "lib", 2000, seed=5, role="inbox", start_id=n + 1, t0=1.3e9 + 86400.0 * 2 * (n // 300 + 10),
                      lib=lib)
        t = time.perf_counter()
        inbox = run_job(stacks_job(lib, role="inbox"))  # what the inbox workflow runs
        inbox_s = time.perf_counter() - t
        t = time.perf_counter()
        rebuild = run_job(stacks_job(lib, rebuild=True))
        rebuild_s = time.perf_counter() - t
        conn.close()
        return {
            "photos": n, "build_s": round(build_s, 1), "stacks": first["stacks"], "stacked_photos": first["stacked_photos"],
            "first_s": round(first_s, 2), "bursts_alone_s": round(bursts_s, 2), "corpus_read_s": round(t_corpus, 2),
            "first_vs_bursts_alone_x": round(first_s / bursts_s, 2), "written": first["written"],
            "unchanged_s": round(again_s, 2), "unchanged_groups": again["computed_groups"],
            "inbox_2000_s": round(inbox_s, 2), "inbox_groups": inbox["computed_groups"],
            "rebuild_s": round(rebuild_s, 2), "rebuild_written": rebuild["written"],
            "equal_to_find_bursts": equal, "peak_rss_mb": round(peak_rss_mb(), 1), **{k: info[k] for k in ("sessions", "scenes")},
        }


def run_compute(out_dir: Path, quick: bool) -> dict:
    sizes = [10_000, 50_000] if quick else [10_000, 400_000]
    rows = [_subprocess(["--one", str(n)]) for n in sizes]
    notes = ("Synthetic libraries as described in benchmarks/bench_stacks.py (1280-d float16 embeddings; a third of "
             "the scenes a single photo, the others bursts of 2-8 frames). first_s = stacks_job on a library never stacked (every "
             "session group computed, every photo written); bursts_alone_s = load_corpus + find_bursts over the "
             "whole corpus in the same process (the baseline: what the keeper model's context inputs compute); "
             "unchanged_s = again, nothing changed (what `fluxcull embed` adds when it had nothing to embed); "
             "inbox_2000_s = after a new 2,000-photo inbox walk, the inbox's sessions only (what the inbox workflow "
             "runs); rebuild_s = `fluxcull stacks --rebuild` (every group computed, nothing to write). "
             "equal_to_find_bursts: the stored stack ids are find_bursts' burst ids, photo for photo. Target: "
             "every stack of 400,000 photos < 60 s.")
    return write_results(out_dir, "stacks", rows, meta={"dim": DIM, "quick": quick}, notes=notes)


def _subprocess(args: list[str], timeout: int = 1800) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_stacks", *args], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"bench_stacks {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
# -- gui -------------------------------------------------------------------------------------------------
def add_stacks(root: Path, seed: int = 1) -> dict:
    """Put about half the photos of bench_gui's catalog into stacks of 2-8 consecutive frames of a
    session (as fluxcull.catalog.stacks_store stores bursts); the rest stay alone."""
    from benchmarks.bench_gui import PER_SESSION as GUI_PER_SESSION
    from fluxcull.catalog import stacks_store
    from fluxcull.library import Library

    t0 = time.perf_counter()
    lib = Library.open(root)
    conn = lib.connect()
    rng = random.Random(seed)
    n = conn.execute("SELECT MAX(id) FROM photos").fetchone()[0]
    rows, i, stacks = [], 1, 0
    while i <= n:
        k = min(rng.choice((1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 8)), GUI_PER_SESSION - (i - 1) % GUI_PER_SESSION, n - i + 1)
        rows += [(i + j, i, k, j + 1) for j in range(k)]
        stacks += k > 1
        i += k
    for s in range(0, len(rows), 50_000):
        stacks_store.write(conn, rows[s:s + 50_000])
    conn.execute("ANALYZE")
    stacked = conn.execute("SELECT COUNT(*) FROM photos WHERE stack_size > 1").fetchone()[0]
    conn.close()
    return {"stacks": stacks, "stacked_photos": stacked, "stacks_build_s": time.perf_counter() - t0}


def run_gui(out_dir: Path, quick: bool = False, runs: int | None = None) -> dict:
    """The window on one catalog with stacks: every frame shown ('all') against stacks collapsed,
    children alternating; writes gui_stacks.json / .md."""
    from benchmarks.bench_gui import build_catalog

    n = 40_000 if quick else 400_000
    runs = runs or (1 if quick else 3)
    tmp = Path(tempfile.mkdtemp(prefix="fluxcull-bench-gui-stacks-"))
    try:
        info = build_catalog(tmp / "lib", n)
        info.update(add_stacks(tmp / "lib"))
        results = []
        env = launch_env()
        for i in range(-1, runs):  # run -1: a warm-up (the catalog file into the page cache), not counted
            for view in ("all", "collapsed") if i >= 0 else ("collapsed",):
                res_file = tmp / f"child-{view}-{i}.json"
                t_spawn = time.time()
                subprocess.run([sys.executable, "-m", "benchmarks.bench_gui", "--child", str(tmp / "lib"), "--t0",
                                repr(t_spawn), "--result", str(res_file), "--stacks", view],
                               cwd=REPO_ROOT, env=env, check=True, timeout=900)
                if i >= 0:
                    results.append(json.loads(res_file.read_text()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for r in results:
        rows.append({
            "stacks": r["stacks"], "cells": r["cells"],
            "launch_to_first_paint_s": r["launch_to_first_paint_s"],
            "launch_to_grid_with_thumbs_s": r["launch_to_grid_with_thumbnails_s"],
            "launch_to_all_ids_s": r["launch_to_all_ids_and_sessions_s"],
            "window_built_s": r["window_built_s"],
            "head_and_count_ms": r["query_head_and_count_ms"],
            "query_all_ids_ms": r["query_ids_ms"],
            "jump_end_paint_ms_p50": sorted(r["jump_to_end_and_paint_ms"])[1],
            "jump_end_paint_ms_max": max(r["jump_to_end_and_paint_ms"]),
            "paint_screenful_ms": max(r["paint_screenful_ms"]),
            "peak_rss_mb": r["peak_rss_mb"],
        })
    def med(view, key):
        xs = sorted(x[key] for x in rows if x["stacks"] == view)
        return xs[len(xs) // 2]

    ratios = {k: round(med("collapsed", k) / max(med("all", k), 1e-9), 2)
              for k in ("launch_to_first_paint_s", "jump_end_paint_ms_p50", "head_and_count_ms", "query_all_ids_ms")}
    notes = (f"{n:,} photos in {info['sessions']:,} sessions, {info['stacked_photos']:,} of them in "
             f"{info['stacks']:,} stacks of 2-8 frames (the rest alone); each run a fresh process (offscreen Qt, "
             "1600x1000), the window remembering stacks collapsed or every frame ('all'), alternating after a "
             "warm-up run not counted. "
             "head_and_count_ms = the first 4,001 ids and the row count (what the window reads before its first "
             "paint); query_all_ids_ms = every id (read in the background). Ratios collapsed / all (medians): "
             + ", ".join(f"{k} {v}" for k, v in ratios.items()) + ". Targets with stacks collapsed: first paint "
             "< 1 s, jump to the end < 60 ms.")
    return write_results(out_dir, "gui_stacks", rows, meta={"photos": n, **info, "ratios": ratios, "raw": results},
                         notes=notes)




# -- survey ----------------------------------------------------------------------------------------------
def survey_child(out: str, repeats: int = 5) -> None:
    """In a fresh process: 8 photos of 4000x3000 in one stack, decoded into the image cache; then the
    survey (N on the stack) started and painted, against compare (2 photos) and the loupe (1)."""
    import numpy as np
    from PIL import Image, ImageDraw

    from fluxcull.catalog import stacks_store, transaction
    from fluxcull.library import Library
    from fluxcull.ui.app import ensure_app
    from fluxcull.ui.mainwindow import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="fluxcull-bench-survey-"))
    try:
        lib = Library.open(tmp / "lib")
        conn = lib.connect()
        rng = random.Random(3)
        base = np.random.default_rng(3).integers(0, 255, (300, 400, 3), dtype=np.uint8)
        paths = []
        for k in range(8):
            img = Image.fromarray(base).resize((4000, 3000), Image.BILINEAR)
            d = ImageDraw.Draw(img)
            for _ in range(40):
                x, y, r = rng.randrange(4000), rng.randrange(3000), rng.randrange(40, 400)
                d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
            p = tmp / f"R{k:04d}.JPG"
            img.save(p, "JPEG", quality=90)
            paths.append(p)
        with transaction(conn):
            sid = conn.execute("INSERT INTO sessions(role, start_time, end_time, start_at, end_at) VALUES"
                               " ('originals', 1.7e9, 1.7e9 + 60, '', '')").lastrowid
            ids = [conn.execute("INSERT INTO photos(path, role, size, mtime_ns, format, width, height, capture_time,"
                                " session_id, keeper_score) VALUES (?, 'originals', 1, 1, 'jpeg', 4000, 3000, ?, ?, ?)",
                                (str(p), 1.7e9 + k, sid, 0.5 + k / 20)).lastrowid for k, p in enumerate(paths)]
        stacks_store.write(conn, [(pid, ids[0], 8, k + 1) for k, pid in enumerate(ids)])
        conn.close()
        app = ensure_app()
        win = MainWindow(lib, watch_inbox=False, remember=False)
        win.resize(1600, 1000)
        win.show()
        t = time.perf_counter()  # the images each view asks for, decoded into the cache (the first visits)
        win.modes["survey"].start()
        while not win.survey.loaded():
            app.processEvents()
            time.sleep(0.005)
        win.image_loader.request([(pid, str(p), "screen") for pid, p in zip(ids[:2], paths[:2])])
        while not all(win.image_loader.image(pid, "screen") is not None for pid in ids[:2]):
            app.processEvents()
            time.sleep(0.005)
        res = {"decode_s": round(time.perf_counter() - t, 2)}

        def timed(name, start, widget) -> None:
            win.show_grid()
            app.processEvents()
            win.set_current_row(0)
            t0 = time.perf_counter()
            start()
            app.processEvents()
            widget.repaint()  # every photo painted, scaled to fit
            runs[name].append((time.perf_counter() - t0) * 1000)

        runs = {k: [] for k in ("survey_8", "compare_2", "loupe_1")}
        for _ in range(repeats):
            timed("survey_8", win.modes["survey"].start, win.survey)
            timed("compare_2", lambda: (win.compare.start((ids[0], ids[1]), session_id=None),
                                        win.modes["compare"].enter()), win.compare)
            timed("loupe_1", lambda: win.show_loupe(0), win.loupe)
        tiles = [win.survey.tiles[i].pane for i in ids]
        assert win.survey.ids == ids and all(p.has_image() for p in tiles) and win.survey.loaded()
        res["survey_tile_px"] = f"{tiles[0].width()}x{tiles[0].height()}"
        res["survey_image_px"] = f"{tiles[0]._image.width()}x{tiles[0]._image.height()}"
        for k, xs in runs.items():
            xs.sort()
            res[f"{k}_ms_p50"] = round(xs[len(xs) // 2], 1)
            res[f"{k}_ms_max"] = round(xs[-1], 1)
        res["survey_vs_compare_x"] = round(res["survey_8_ms_p50"] / res["compare_2_ms_p50"], 2)
        res["survey_vs_loupe_x"] = round(res["survey_8_ms_p50"] / res["loupe_1_ms_p50"], 2)
        win.close()
        Path(out).write_text(json.dumps(res))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_survey(out_dir: Path, quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "survey.json"
        subprocess.run([sys.executable, "-m", "benchmarks.bench_stacks", "--survey-child", str(out)], cwd=REPO_ROOT,
                       check=True, timeout=900,
                       env=dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen")))
        res = json.loads(out.read_text())
    notes = ("8 generated photos of 4000x3000 (JPEG) in one stack. First visits decode what each view asks for into "
             "the window's image cache (decode_s: the survey's 8 at its tile level, compare's 2 at screen level); "
             "then, 5 times each, alternating: N on the stack, the survey started and every tile painted with its "
             "photo smoothly scaled to fit (survey_tile_px, from survey_image_px in the cache); compare of 2 and the "
             "loupe of 1 from the same cache (screen level) the same way (1600x1000 window, offscreen Qt). "
             "Target: survey of 8 from the cache < 100 ms.")
    return write_results(out_dir, "survey", [res], notes=notes)


def run(out_dir: Path, quick: bool = False) -> None:
    run_compute(out_dir, quick)
    run_survey(out_dir, quick)
    run_gui(out_dir, quick)
    parts = [(out_dir / f"{name}.md").read_text() for name in ("stacks", "survey", "gui_stacks")]
    (out_dir / "stacks.md").write_text("\n".join(parts))


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--one", type=int)
    ap.add_argument("--survey-child")
    ap.add_argument("--only", choices=("compute", "gui", "survey"))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one)))
    elif args.survey_child:
        survey_child(args.survey_child)
    else:
        out = REPO_ROOT / "benchmarks" / "out"
        {"compute": run_compute, "gui": run_gui, "survey": run_survey}.get(args.only, run)(out, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
