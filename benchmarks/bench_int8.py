"""INT8 against float32 ONNX inference of the default backbone: speed and agreement on real photos.

Speed: ms per photo of the float32 export and of the int8 model (fluxcull.embedding.quantize, QOperator)
and, for the choice of format, of a QDQ build of the same calibration, at batch sizes 1 and 16 and
1 and 2 threads. The models take turns on the same batches within each round (the machine may be shared
and loaded: only ratios from one run mean anything), the median round counts.
Agreement: the cosine similarity of each real photo's int8 and float32 embeddings (../shared/photos,
none of them used for calibration).

Run: python -m benchmarks int8 [--quick]
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED_PHOTOS, peak_rss_mb, write_results


def real_photos(backbone, limit: int) -> tuple[np.ndarray, list[str]]:
    """Network inputs of up to `limit` decodable photos of ../shared/photos."""
    from fluxcull.embedding.preprocess import to_square
    from fluxcull.media.decode import DecodeError, load_image

    out, names = [], []
    for p in sorted(SHARED_PHOTOS.rglob("*")):
        if len(out) >= limit or p.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        try:
            img, _ = load_image(str(p), min_side=backbone.input_size)
        except DecodeError:
            continue
        out.append(to_square(img, backbone.input_size, backbone.input_policy))
        names.append(str(p.relative_to(SHARED_PHOTOS)))
    return np.stack(out), names


def _session(ort, path: Path, threads: int):
    from fluxcull.embedding.quantize import int8_session_options

    opts = int8_session_options(ort)  # as the application runs int8 (nothing for the float32 model)
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def speed(ort, models: dict[str, Path], photos: np.ndarray, normalization: str, rounds: int) -> list[dict]:
    from fluxcull.embedding.preprocess import normalize

    rows = []
    for threads in (1, 2):
        sessions = {k: _session(ort, p, threads) for k, p in models.items()}
        for bs in (1, 16):
            x = normalize(photos[:bs], normalization)
            reps = max(2, 32 // bs)
            times: dict[str, list[float]] = {k: [] for k in sessions}
            for s in sessions.values():
                s.run(None, {"pixels": x})
            for _ in range(rounds):
                for k, s in sessions.items():  # in turn, so load that comes and goes hits all alike
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        s.run(None, {"pixels": x})
                    times[k].append((time.perf_counter() - t0) / reps / bs * 1000)
            ms = {k: float(np.median(v)) for k, v in times.items()}
            for k in sessions:
                rows.append({"table": "speed", "model": k, "threads": threads, "batch": bs,
                             "ms_per_photo": ms[k], "speedup_vs_fp32": ms["fp32"] / ms[k]})
    return rows


def run(out_dir: Path, quick: bool = False) -> dict:
    from fluxcull.embedding.backbones import get_backbone
    from fluxcull.embedding.onnx_backend import import_onnxruntime
    from fluxcull.embedding.preprocess import l2_normalize, normalize
    from fluxcull.embedding.quantize import build_int8, ensure_int8, int8_path
    from fluxcull.embedding.onnx_backend import ensure_onnx

    bb = get_backbone()
    work = Path(tempfile.mkdtemp(prefix="fluxcull-bench-int8-"))
    try:
        fp32 = ensure_onnx(bb, work)
        t0 = time.perf_counter()
        int8 = ensure_int8(bb, work)
        build_s = time.perf_counter() - t0
        qdq = int8_path(bb, work / "qdq")
        qdq.parent.mkdir(parents=True)
        build_int8(bb, fp32, qdq, quant_format="QDQ")
        ort = import_onnxruntime(work)
        photos, names = real_photos(bb, 24 if quick else 64)

        def embed(path):
            s = _session(ort, path, 2)
            return np.concatenate([l2_normalize(s.run(None, {"pixels": normalize(photos[i:i + 16], bb.normalization)})[0])
                                   for i in range(0, len(photos), 16)])

        ref = embed(fp32)
        rows = []
        for label, path in (("int8 (QOperator)", int8), ("int8 (QDQ)", qdq)):
            cos = np.sum(embed(path) * ref, axis=1)
            rows.append({"table": "agreement", "model": label, "photos": len(cos), "mean_cosine": float(cos.mean()),
                         "p5_cosine": float(np.percentile(cos, 5)), "min_cosine": float(cos.min()),
                         "worst_photo": names[int(cos.argmin())]})
        rows += speed(ort, {"fp32": fp32, "int8 (QOperator)": int8, "int8 (QDQ)": qdq}, photos,
                      bb.normalization, 3 if quick else 7)
        record = __import__("json").loads(int8.with_suffix(".json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = {"backbone": bb.id, "build_seconds": build_s, "check": {k: record[k] for k in ("mean_cosine", "min_cosine", "worst_photo")},
            "peak_rss_mb": peak_rss_mb(), "quick": quick}
    notes = ("ms_per_photo: median over rounds in which the models take turns on the same batch; "
             "speedup_vs_fp32 from the same rounds. agreement: cosine of int8 and fp32 embeddings of real photos.")
    return write_results(out_dir, "int8", rows, meta, notes)
