"""First import of an archive: `fluxcull import` (ingest and embed in one pass) against `ingest` then
`embed` (two passes, every photo decoded twice), same files, same run; and vipsthumbnail alone.

Corpora: the real camera JPEGs of ../shared/photos (those over 60 kB, the damaged ones left out), and
24-megapixel JPEGs made from them by upscaling (bench_ingest's, cached outside the repository). Each
contender starts from an empty library holding the ONNX export already (as after a first run) and
with the files in the page cache; torch and ONNX Runtime are imported before any timing, so neither
side pays those seconds. The machine may be shared: runs alternate, best of `reps` each.

Rows: photos/s end to end, the one pass's speed-up over the two passes (the bar is 3x), and the hours
400,000 photos would take at that speed. `import, N workers` rows measure 1 against every core.

Run: python -m benchmarks import [--quick]
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.bench_ingest import _sources, _warm, ensure_big_jpegs, vipsthumbnail
from benchmarks.common import peak_rss_mb, write_results

ARCHIVE = 400_000


def _library(root: Path, onnx_from: Path):
    from fluxcull.library import Library

    lib = Library.open(root)
    dest = lib.cache_dir / "onnx"
    dest.mkdir(parents=True, exist_ok=True)
    for f in onnx_from.iterdir():
        shutil.copy(f, dest / f.name)
    return lib


def _onnx_export(tmp: Path) -> Path:
    from fluxcull.embedding.backbones import get_backbone
    from fluxcull.embedding.onnx_backend import ensure_onnx

    return ensure_onnx(get_backbone(), tmp / "onnx-cache").parent


def one_pass(folder: Path, lib_root: Path, onnx: Path, workers: int) -> tuple[float, dict]:
    from fluxcull.embedding.import_job import import_job
    from fluxcull.jobs import run_job

    lib = _library(lib_root, onnx)
    t0 = time.perf_counter()
    s = run_job(import_job(lib, [folder], "originals", workers=workers))
    return time.perf_counter() - t0, s


def two_passes(folder: Path, lib_root: Path, onnx: Path, workers: int) -> tuple[float, float, dict]:
    from fluxcull.embedding.embed import embed_job
    from fluxcull.ingest import ingest_job
    from fluxcull.jobs import run_job

    lib = _library(lib_root, onnx)
    t0 = time.perf_counter()
    run_job(ingest_job(lib, [folder], "originals", workers=workers))
    t1 = time.perf_counter()
    e = run_job(embed_job(lib))
    return t1 - t0, time.perf_counter() - t1, e


def _linked(files: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(files):
        os.symlink(f, folder / f"{i:04d}-{f.name}")
    return folder


def run(out_dir: Path, quick: bool = False) -> dict:
    import onnxruntime  # noqa: F401  (imported before timing: both sides would pay it once)
    import torch  # noqa: F401

    from fluxcull.ingest.pipeline import default_workers

    cores = default_workers()
    reps = 1 if quick else 2
    n_big = 8 if quick else 30
    real = _sources()
    big = ensure_big_jpegs(n_big, cores)
    rows, ratios = [], {}
    with tempfile.TemporaryDirectory(prefix="fluxcull-bench-import-") as tmp:
        tmp = Path(tmp)
        onnx = _onnx_export(tmp)
        for name, files in (("camera JPEGs", real), ("24 MP JPEGs", big)):
            folder = _linked(files, tmp / name.replace(" ", "-"))
            n = len(files)
            best: dict[str, float] = {}
            parts = {}
            for r in range(reps):
                for w in sorted({1, cores}):
                    _warm(files)
                    s, summary = one_pass(folder, tmp / f"lib-one-{name}-{w}-{r}", onnx, w)
                    assert summary["embed"]["embedded"] >= n - 2, summary["embed"]
                    best[f"import, {w} workers"] = min(best.get(f"import, {w} workers", 1e9), s)
                _warm(files)
                i_s, e_s, _ = two_passes(folder, tmp / f"lib-two-{name}-{r}", onnx, cores)
                if i_s + e_s < best.get("ingest then embed", 1e9):
                    best["ingest then embed"] = i_s + e_s
                    parts = {"ingest": i_s, "embed": e_s}
            _warm(files)
            v = vipsthumbnail(files, tmp / f"vips-{name}", cores)
            two = best["ingest then embed"]
            for label, s in best.items():
                rows.append(_row(name, label, n, s, two))
            for step, s in parts.items():
                rows.append(_row(name, f"  {step} alone", n, s, None))
            rows.append(_row(name, "vipsthumbnail (thumbnails only)", n, v, None) if v is not None else
                        {"corpus": name, "pipeline": "vipsthumbnail", "photos": n, "seconds": "absent (not installed)"})
            ratios[name] = two / best[f"import, {cores} workers"]
    meta = {"cores": cores, "reps": reps, "quick": quick, "real_jpegs": len(real), "big_jpegs": len(big),
            "speedup_vs_two_passes": {k: round(v, 2) for k, v in ratios.items()}, "target_speedup": 3.0,
            "vipsthumbnail": shutil.which("vipsthumbnail") or "absent", "load_average": os.getloadavg(),
            "peak_rss_mb_main": round(peak_rss_mb(), 1)}
    notes = (f"{cores} cores, load average {os.getloadavg()[0]:.1f} at the end (shared machine). One pass vs ingest "
             "then embed: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()) + " (bar 3x). "
             "hours_for_400k = 400,000 photos at that speed.")
    return write_results(out_dir, "import", rows, meta, notes)


def _row(corpus: str, pipeline: str, n: int, seconds: float, two: float | None) -> dict:
    row = {"corpus": corpus, "pipeline": pipeline, "photos": n, "seconds": round(seconds, 2),
           "photos_per_s": round(n / seconds, 1), "ms_per_photo": round(1000 * seconds / n, 1),
           "hours_for_400k": round(ARCHIVE * seconds / n / 3600, 1)}
    if two is not None:
        row["speedup_vs_two_passes"] = round(two / seconds, 2)
    return row


if __name__ == "__main__":
    import sys

    run(Path(__file__).parent / "out", "--quick" in sys.argv)
    print((Path(__file__).parent / "out" / "import.md").read_text())
