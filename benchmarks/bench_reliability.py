"""Reliability soak: concurrent embeds checked vector by vector, kill -9 during jobs, a larger fuzz run.

1. Two `embed` runs at once on one library, `--batch-size 2`, REPS times, two ways: through the
   command line (the job lock lets one run and tells the other who holds the library), and two
   embedding jobs with the lock bypassed (the store's own row allocation under real contention).
   Every stored vector is compared with the vector of the same bytes embedded alone: wrong = 0.
2. kill -9 of `ingest`, `embed`, `train` and `score` at random moments: afterwards `doctor` finds the
   catalog and stores intact, a decision made before the job is still there, and a second run completes.
3. The fuzz corpus of tests/reliability/fuzz.py, larger: tried / clean errors / tracebacks / hangs.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import write_results

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared" / "photos").resolve()
N_PHOTOS = 24

BYPASS = """
import sys
from pathlib import Path
from fluxcull.embedding.embed import _embed_job
from fluxcull.jobs import CancelToken, run_job
from fluxcull.library import Library
lib = Library(Path(sys.argv[1]))
s = run_job(_embed_job(lib, None, CancelToken(), None, "auto", None, 2, 1, 1))
print(s["embedded"])
"""


def _env(home: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO), FLUXCULL_THREADS="1", HOME=str(home))
    env.pop("FLUXCULL_LIBRARY", None)
    return env


def _cli(env, lib, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "fluxcull", "--library", str(lib), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout)


def _vectors(lib: Path) -> dict[str, np.ndarray]:
    """sha256 -> stored vector, read straight from the index and the row file."""
    import sqlite3

    c = sqlite3.connect(lib / "catalog.sqlite")
    rows = c.execute("SELECT p.sha256, e.row, b.dim, b.id FROM embedding_rows e JOIN photos p ON p.id = e.photo_id"
                     " JOIN backbones b ON b.id = e.backbone_id").fetchall()
    c.close()
    out = {}
    for sha, row, dim, bid in rows:
        mat = np.memmap(lib / "embeddings" / bid / "vectors.f16", dtype=np.float16, mode="r")
        out[sha] = np.array(mat[row * dim:(row + 1) * dim], np.float32)
    return out


def _photos(folder: Path, n: int) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from photogen import scene, write_jpeg

    for i in range(n):
        write_jpeg(folder / f"R{i:04d}.JPG", scene(100 + i, size=(900, 600)), quality=90)


def concurrent_embeds(work: Path, reps: int) -> list[dict]:
    env = _env(work / "home")
    photos = work / "photos"
    _photos(photos, N_PHOTOS)
    ref = work / "ref"
    assert _cli(env, ref, "ingest", photos, "--role", "originals", "--workers", "1").returncode == 0
    p = _cli(env, ref, "embed", "--batch-size", "2")
    assert p.returncode == 0, p.stderr
    want = _vectors(ref)
    rows = []
    for mode in ("cli", "store"):
        wrong = tracebacks = busy = 0
        t0 = time.monotonic()
        for rep in range(reps):
            lib = work / f"{mode}{rep}"
            assert _cli(env, lib, "ingest", photos, "--role", "originals", "--workers", "1").returncode == 0
            shutil.copytree(ref / "cache" / "onnx", lib / "cache" / "onnx")
            if mode == "cli":
                cmd = [[sys.executable, "-m", "fluxcull", "--library", str(lib), "embed", "--batch-size", "2"]] * 2
            else:
                cmd = [[sys.executable, "-c", BYPASS, str(lib)]] * 2
            procs = [subprocess.Popen(c, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for c in cmd]
            outs = [pr.communicate(timeout=600) for pr in procs]
            for pr, (o, e) in zip(procs, outs):
                tracebacks += e.count("Traceback")
                busy += pr.returncode == 2 and "another job is running" in e
            got = _vectors(lib)
            if len(got) != len(want):
                wrong += abs(len(want) - len(got))
            wrong += sum(1 for sha, v in got.items() if not np.allclose(v, want[sha], atol=2e-3))
            chk = _cli(env, lib, "doctor", "--json")
            wrong += 0 if json.loads(chk.stdout)["problems"] == [] else 1
        rows.append({"case": f"2 concurrent embeds ({mode}), batch 2", "reps": reps, "photos": N_PHOTOS,
                     "wrong_vectors": wrong, "tracebacks": tracebacks, "refused_busy": busy,
                     "seconds": round(time.monotonic() - t0, 1)})
    return rows


def kills(work: Path, reps: int) -> list[dict]:
    env = _env(work / "home")
    photos = work / "photos"
    rng = random.Random(1)
    rows = []
    for job in ("ingest", "embed"):
        lost = bad = tracebacks = 0
        for rep in range(reps):
            lib = work / f"kill-{job}{rep}"
            shutil.copytree(work / "ref" / "cache" / "onnx", lib / "cache" / "onnx")
            if job == "ingest":
                _cli(env, lib, "ingest", photos / "R0000.JPG", "--role", "inbox")
                args = ["ingest", photos, "--role", "originals", "--workers", "2"]
            else:
                _cli(env, lib, "ingest", photos, "--role", "originals", "--workers", "1")
                args = ["embed", "--batch-size", "2"]
            _cli(env, lib, "decide", "1", "--keep")
            pr = subprocess.Popen([sys.executable, "-m", "fluxcull", "--library", str(lib), *map(str, args)], env=env,
                                  cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(rng.uniform(0.5, 4.0))
            os.killpg(pr.pid, signal.SIGKILL)
            pr.wait()
            doc = json.loads(_cli(env, lib, "doctor", "--json").stdout)
            bad += 0 if doc["catalog"]["ok"] and all(s["ok"] for s in doc["stores"]) else 1
            again = _cli(env, lib, *args)
            tracebacks += again.stderr.count("Traceback")
            bad += again.returncode not in (0,)
            st = json.loads(_cli(env, lib, "status", "--json").stdout)
            lost += st["decisions"]["keep"] != 1
        rows.append({"case": f"kill -9 during {job}", "reps": reps, "damaged_after_kill": bad, "lost_decisions": lost,
                     "tracebacks": tracebacks})
    return rows


def model_kills(work: Path, reps: int) -> list[dict]:
    """kill -9 of `train` and `score` at random moments on a synthetic 3,000-photo library."""
    sys.path.insert(0, str(REPO / "tests"))
    import modelgen
    from fluxcull.library import Library

    env = _env(work / "home")
    rng = random.Random(2)
    rows = []
    for job in ("train", "score"):
        bad = lost = tracebacks = 0
        for rep in range(reps):
            lib = Library.open(work / f"kill-{job}{rep}")
            conn = lib.connect()
            g = modelgen.build(lib, conn, n=3000, sessions=30, seed=rep)
            modelgen.link_keepers(conn, g["ids"][g["keeper"]])
            conn.close()
            _cli(env, lib.root, "decide", str(int(g["ids"][0])), "--keep")
            if job == "score":
                assert _cli(env, lib.root, "train", "--model", "linear", "--no-score").returncode == 0
                args = ["score"]
            else:
                args = ["train", "--model", "linear"]
            pr = subprocess.Popen([sys.executable, "-m", "fluxcull", "--library", str(lib.root), *args], env=env,
                                  cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(rng.uniform(1.0, 6.0))
            os.killpg(pr.pid, signal.SIGKILL)
            pr.wait()
            doc = json.loads(_cli(env, lib.root, "doctor", "--json").stdout)
            bad += 0 if doc["catalog"]["ok"] and all(s["ok"] for s in doc["stores"]) else 1
            again = _cli(env, lib.root, *args)
            tracebacks += again.stderr.count("Traceback")
            bad += again.returncode != 0
            lost += json.loads(_cli(env, lib.root, "status", "--json").stdout)["decisions"]["keep"] != 1
        rows.append({"case": f"kill -9 during {job}", "reps": reps, "damaged_after_kill": bad, "lost_decisions": lost,
                     "tracebacks": tracebacks})
    return rows


def fuzz(work: Path, quick: bool) -> list[dict]:
    sys.path.insert(0, str(REPO / "tests" / "reliability"))
    from fuzz import judge, make_corpus

    if not (SHARED / "MANIFEST.tsv").is_file():
        return [{"case": "fuzz", "note": f"skipped: {SHARED} not found"}]
    env = _env(work / "home")
    corpus = work / "fuzz"
    counts = make_corpus(SHARED, corpus, n_sources=10 if quick else 40, flips=2 if quick else 5, seed=7)
    lib = work / "fuzzlib"
    t0 = time.monotonic()
    try:
        p = _cli(env, lib, "ingest", corpus, "--role", "inbox", "--json", "--workers", "2", timeout=900)
        figures = judge(p.returncode, p.stderr, json.loads(p.stdout), sum(counts.values()))
        e = _cli(env, lib, "embed", "--json", timeout=900)
        figures["embed_tracebacks"] = e.stderr.count("Traceback")
        figures["embed_exit"] = e.returncode
    except subprocess.TimeoutExpired:
        figures = judge(None, "", None, sum(counts.values()))
    figures["seconds"] = round(time.monotonic() - t0, 1)
    return [{"case": "fuzz corpus", **{k: v for k, v in counts.items()}, **figures}]


def run(out: Path, quick: bool = False) -> dict:
    work = Path(tempfile.mkdtemp(prefix="fluxcull-reliability-"))
    try:
        rows = concurrent_embeds(work, 3 if quick else 10)
        rows += kills(work, 2 if quick else 5)
        rows += model_kills(work, 1 if quick else 3)
        rows += fuzz(work, quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return write_results(out, "reliability", rows, notes=__doc__.split("\n\n")[0])
