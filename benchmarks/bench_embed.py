"""Embedding throughput: the embed pipeline against a naive one, inference against the arithmetic
limit, and the input-policy measurement (centre crop vs letterbox vs squash).

Photos: ../shared/photos plus 24-megapixel JPEGs made from real photos (cached outside the
repository in ~/.cache/fluxcull-bench/24mp; made once). The library is ingested first (not timed
here: see bench_ingest), so the pipeline reads the 512 px ingest thumbnails like a real run; a
second pass removes the thumbnails to time decoding from the files themselves.

Run: python -m benchmarks embed [--quick]
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED_PHOTOS, peak_rss_mb, write_results

BIG_DIR = Path(os.environ.get("FLUXCULL_BENCH_CACHE", Path.home() / ".cache" / "fluxcull-bench")) / "24mp"
BURSTS = [range(1, 6), range(6, 11), range(11, 14), range(14, 17), range(17, 19), range(19, 25)]


def make_big_jpegs(n: int) -> list[Path]:
    """n 6000x4000 JPEGs from the real burst photos (upscaled, with grain so they compress like photos)."""
    from PIL import Image

    BIG_DIR.mkdir(parents=True, exist_ok=True)
    group = SHARED_PHOTOS / "raw-io" / "test" / "media" / "group"
    out = []
    rng = np.random.default_rng(0)
    for i in range(n):
        dest = BIG_DIR / f"big{i:03d}.jpg"
        if not dest.is_file():
            src = Image.open(group / f"{i % 24 + 1}.jpg").convert("RGB")
            big = src.resize((6000, 4000), Image.Resampling.BILINEAR)
            a = np.asarray(big, np.int16) + rng.integers(-6, 7, (4000, 6000, 1), dtype=np.int16)
            tmp = dest.with_suffix(".tmp")
            Image.fromarray(a.clip(0, 255).astype(np.uint8)).save(tmp, "JPEG", quality=90)
            os.replace(tmp, dest)
        out.append(dest)
    return out


def naive_pipeline(paths: list[Path], backbone) -> dict:
    """Pillow full decode (load_image without a size for RAW), torch eager fp32, one photo at a time."""
    import torch
    from PIL import Image

    from fluxcull.embedding.preprocess import normalize, to_square
    from fluxcull.media.decode import DecodeError, load_image

    torch.set_num_threads(os.cpu_count() or 1)
    model = backbone.build(allow_download=False)
    dec = inf = 0.0
    n = 0
    for p in paths:
        t0 = time.perf_counter()
        try:
            try:
                img = Image.open(p)
                img = img.convert("RGB")
            except Exception:
                img, _ = load_image(p)
        except (DecodeError, Exception):
            continue
        x = torch.from_numpy(normalize(to_square(img, 224, backbone.input_policy)[None], backbone.normalization))
        t1 = time.perf_counter()
        with torch.no_grad():
            model(x)
        t2 = time.perf_counter()
        dec += t1 - t0
        inf += t2 - t1
        n += 1
    return {"photos": n, "seconds": dec + inf, "decode_ms": 1000 * dec / n, "infer_ms": 1000 * inf / n}


def pipeline(lib, **kw) -> dict:
    from fluxcull.embedding.embed import embed_job
    from fluxcull.jobs import run_job

    conn = lib.connect()
    conn.execute("DELETE FROM embedding_rows")
    conn.execute("DELETE FROM photo_features")
    conn.close()
    t0 = time.perf_counter()
    s = run_job(embed_job(lib, **kw))
    wall = time.perf_counter() - t0
    return {"photos": s["embedded"], "seconds": wall, "decode_ms": s["timing"]["decode_ms_per_photo"],
            "infer_ms": s["timing"]["infer_ms_per_photo"], "runtime": s.get("runtime"), "errors": len(s["errors"]),
            "workers": s["timing"]["workers"]}


def matmul_gflops(threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    torch.mm(a, b)
    t0 = time.perf_counter()
    reps = 0
    while time.perf_counter() - t0 < 2.0:
        torch.mm(a, b)
        reps += 1
    return 2 * 2048 ** 3 * reps / (time.perf_counter() - t0) / 1e9


def inference_only(backbone, cache_dir: Path, seconds: float) -> list[dict]:
    from fluxcull.embedding.inference import cpu_threads, make_runner
    from fluxcull.embedding.onnx_backend import check_batch

    class Lib:
        pass

    Lib.cache_dir = cache_dir
    batch = np.concatenate([check_batch(224)] * 8)
    rows = []
    for threads in sorted({cpu_threads(), os.cpu_count() or 1}):
        peak = matmul_gflops(threads)
        for rt in ("torch-fp32", "torch", "onnx"):
            r = make_runner(backbone, runtime=rt, device="cpu", lib=Lib, threads=threads)
            r(batch[:4])
            t0 = time.perf_counter()
            n = 0
            while time.perf_counter() - t0 < seconds:
                r(batch)
                n += len(batch)
            ips = n / (time.perf_counter() - t0)
            gflops = ips * backbone.flops / 1e9
            rows.append({"table": "inference", "runtime": rt, "threads": threads, "images_per_s": ips,
                         "ms_per_image": 1000 / ips, "model_gflop_s": gflops, "matmul_gflop_s": peak,
                         "fraction_of_matmul": gflops / peak})
    return rows


def input_policies(backbone, cache_dir: Path) -> list[dict]:
    """Similarity of a photo to its re-exported, lightly cropped copy vs between burst frames."""
    from PIL import Image

    from fluxcull.embedding.inference import make_runner
    from fluxcull.embedding.preprocess import POLICIES, to_square

    class Lib:
        pass

    Lib.cache_dir = cache_dir
    runner = make_runner(backbone, runtime="onnx", device="cpu", lib=Lib)
    group = SHARED_PHOTOS / "raw-io" / "test" / "media" / "group"
    keys = [k for b in BURSTS for k in b]
    imgs = {k: Image.open(group / f"{k}.jpg").convert("RGB") for k in keys}

    def copy_of(im, k):
        w, h = im.size
        c = im.crop((int(w * 0.01 * (k % 3 + 1)), int(h * 0.02), w - int(w * 0.02), h - int(h * 0.01 * (k % 2 + 1))))
        c = c.resize((int(c.width * 0.6), int(c.height * 0.6)), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        c.save(buf, "JPEG", quality=80)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")

    copies = {k: copy_of(imgs[k], k) for k in keys}
    burst_of = {k: i for i, b in enumerate(BURSTS) for k in b}
    rows = []
    for pol in POLICIES:
        e = runner(np.stack([to_square(imgs[k], 224, pol) for k in keys]))
        c = runner(np.stack([to_square(copies[k], 224, pol) for k in keys]))
        copy_sims = (e * c).sum(1)
        s = e @ e.T
        same = [s[i, j] for i in range(len(keys)) for j in range(i + 1, len(keys)) if burst_of[keys[i]] == burst_of[keys[j]]]
        diff = [s[i, j] for i in range(len(keys)) for j in range(i + 1, len(keys)) if burst_of[keys[i]] != burst_of[keys[j]]]
        same, diff = np.array(same), np.array(diff)
        # AUC: how often a photo/copy pair outranks a pair of different frames of one burst
        auc = float((copy_sims[:, None] > same[None, :]).mean())
        rows.append({"table": "input_policy", "policy": pol, "copy_mean": float(copy_sims.mean()),
                     "copy_min": float(copy_sims.min()), "burst_mean": float(same.mean()),
                     "burst_max": float(same.max()), "unrelated_mean": float(diff.mean()),
                     "unrelated_max": float(diff.max()), "copy_vs_burst_auc": auc})
    return rows


def run(out_dir: Path, quick: bool = False) -> dict:
    from fluxcull.embedding.backbones import get_backbone
    from fluxcull.embedding.inference import cpu_threads
    from fluxcull.ingest import ingest_job
    from fluxcull.jobs import run_job
    from fluxcull.library import Library

    n_big = 12 if quick else 50
    big = make_big_jpegs(n_big)
    bb = get_backbone()
    work = Path(tempfile.mkdtemp(prefix="fluxcull-bench-embed-"))
    rows: list[dict] = []
    try:
        src = work / "photos"
        src.mkdir()
        for p in big:
            os.symlink(p, src / p.name)
        lib = Library.open(work / "library")
        t0 = time.perf_counter()
        run_job(ingest_job(lib, [src, SHARED_PHOTOS], "originals"))
        ingest_s = time.perf_counter() - t0
        conn = lib.connect()
        paths = [Path(r[0]) for r in conn.execute("SELECT path FROM photos WHERE status = 'ok' ORDER BY id")]
        conn.close()
        naive = naive_pipeline(paths, bb)
        fast = pipeline(lib)  # warm: exports ONNX into the library the first time
        fast = pipeline(lib)
        shutil.rmtree(lib.thumbs_dir)
        files = pipeline(lib)
        for name, r in (("naive (Pillow full decode, torch eager fp32, 1 photo at a time)", naive),
                        ("fluxcull embed, from ingest thumbnails", fast),
                        ("fluxcull embed, from the files (no thumbnails)", files)):
            per = 1000 * r["seconds"] / r["photos"]
            rows.append({"table": "end_to_end", "pipeline": name, "photos": r["photos"],
                         "photos_per_s": r["photos"] / r["seconds"], "ms_per_photo": per,
                         "decode_ms": r["decode_ms"], "infer_ms": r["infer_ms"],
                         "speedup_vs_naive": (naive["seconds"] / naive["photos"]) / (r["seconds"] / r["photos"]),
                         "hours_for_400k": per * 400_000 / 1000 / 3600})
        rows += inference_only(bb, lib.cache_dir, 2.0 if quick else 5.0)
        rows += input_policies(bb, lib.cache_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = {"photos_24mp": n_big, "shared_photos": str(SHARED_PHOTOS), "ingest_seconds": ingest_s,
            "cpu_threads_cap": cpu_threads(), "backbone": bb.id, "flops_per_image": bb.flops,
            "peak_rss_mb": peak_rss_mb(), "quick": quick}
    notes = ("decode_ms = time in the decode threads per photo (overlapped with inference in the pipeline, "
             "so decode + infer can exceed ms_per_photo); model_gflop_s = FLOPs per image x images/s.")
    return write_results(out_dir, "embed", rows, meta, notes)
