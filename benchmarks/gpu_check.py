"""GPU check: CUDA auto-selection, accuracy of the GPU runtimes against the CPU float32 reference,
and embedding throughput on the GPU against the CPU in the same run.

Run on a CUDA machine: python benchmarks/gpu_check.py OUT_DIR [--photos N]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def timed(runner, batch, seconds=3.0):
    runner(batch[:8])
    runner(batch)
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < seconds:
        runner(batch)
        n += len(batch)
    return n / (time.perf_counter() - t0)


def main() -> int:
    out = Path(sys.argv[1])
    n_photos = int(sys.argv[sys.argv.index("--photos") + 1]) if "--photos" in sys.argv else 800
    import torch

    from fluxcull.embedding.backbones import get_backbone
    from fluxcull.embedding.inference import TorchRunner, build_torch_model, cpu_threads, make_runner, select_device
    from fluxcull.embedding.onnx_backend import check_batch

    res: dict = {"torch": torch.__version__, "cpu_count": os.cpu_count(), "cpu_threads_cap": cpu_threads()}
    res["auto_device"] = select_device()
    res["gpu"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    print(json.dumps(res), flush=True)
    bb = get_backbone()
    base = check_batch(224, 16)
    batch = np.concatenate([base] * 16)  # 256
    cache = Path(tempfile.mkdtemp())

    class Lib:
        cache_dir = cache

    ref = make_runner(bb, runtime="torch-fp32", device="cpu", lib=Lib, threads=os.cpu_count())(base)
    rows = []
    auto = make_runner(bb, lib=Lib)
    res["auto_runner"] = vars(auto.info)
    for label, kw in [("fp32", dict(precision="fp32", channels_last=False)),
                      ("fp32+channels_last", dict(precision="fp32", channels_last=True)),
                      ("fp16+channels_last", dict(precision="fp16", channels_last=True)),
                      ("bf16+channels_last", dict(precision="bf16", channels_last=True)),
                      ("fp16+channels_last+compile", dict(precision="fp16", channels_last=True, compile=True))]:
        try:
            t0 = time.perf_counter()
            r = TorchRunner(build_torch_model(bb), bb, "cuda", **kw)
            diff = float(np.abs(r(base) - ref).max())
            setup = time.perf_counter() - t0
            for bs in (64, 256):
                rows.append({"runtime": f"cuda {label}", "batch": bs, "images_per_s": timed(r, batch[:bs]),
                             "max_abs_diff_vs_cpu_fp32": diff, "setup_s": setup})
                print(rows[-1], flush=True)
        except Exception as exc:
            rows.append({"runtime": f"cuda {label}", "error": repr(exc)[:300]})
            print(rows[-1], flush=True)
    for rt in ("onnx", "torch-fp32"):
        r = make_runner(bb, runtime=rt, device="cpu", lib=Lib)
        rows.append({"runtime": f"cpu {rt} ({cpu_threads()} threads)", "batch": 32,
                     "images_per_s": timed(r, batch[:32], 3.0),
                     "max_abs_diff_vs_cpu_fp32": float(np.abs(r(base) - ref).max())})
        print(rows[-1], flush=True)
    res["inference"] = rows

    # end to end: ingest generated 640x480 JPEGs (like small thumbnails), then embed on CUDA and on CPU
    from fluxcull.embedding.embed import embed_job
    from fluxcull.ingest import ingest_job
    from fluxcull.jobs import run_job
    from fluxcull.library import Library
    from photogen import scene, write_jpeg

    work = Path(tempfile.mkdtemp())
    for i in range(n_photos):
        write_jpeg(work / "p" / f"R{i:05d}.JPG", scene(i % 50, (640, 480)))
    lib = Library.open(work / "lib")
    run_job(ingest_job(lib, [work / "p"], "originals"))
    e2e = {}
    for dev in ("cuda", "cpu"):
        conn = lib.connect()
        conn.execute("DELETE FROM embedding_rows")
        conn.execute("DELETE FROM photo_features")
        conn.close()
        s = run_job(embed_job(lib, device=dev))
        e2e[dev] = {k: s.get(k) for k in ("embedded", "runtime", "device", "precision", "timing")}
        print(dev, e2e[dev], flush=True)
    res["end_to_end"] = e2e
    (out / "gpu_check.json").write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
