"""XMP export at scale: sidecars for 20,000 decided photos, against writing as many small files.

A synthetic catalog (rows only) of 20,000 decided photos in 100 folders of 200 placeholder files (the
export never opens a photo, but it lists their folders), one in ten with a Lightroom-style sidecar
beside it. Measured in one run, on the same disk:
- baselines: 20,000 files of a sidecar's size written plainly (open, write, close), and written the safe
  way one at a time (temp file, fsync, rename);
- `export xmp` into the mirror folder, first run (every sidecar written, the Lightroom ones merged);
- the same again (every sidecar unchanged: read, merged in memory, compared, not written);
- `export xmp --dest sidecar` (beside the placeholders).
Target: the first export of 20,000 photos under 20 s.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb, write_results

N_PHOTOS = 20_000
N_QUICK = 2_000
PER_FOLDER = 200
TARGET_S = 20.0

LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:Rating="2"
   crs:Version="15.0"
   crs:Exposure2012="+0.35">
   <dc:subject><rdf:Bag><rdf:li>harbour</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def build(lib, photos_dir: Path, n: int, seed: int = 0) -> None:
    """n decided photos in the catalog, a placeholder file for each, a Lightroom sidecar beside one in ten."""
    from fluxcull.catalog import transaction

    rng = random.Random(seed)
    conn = lib.connect()
    conn.execute("PRAGMA synchronous = OFF")
    rows = []
    with transaction(conn):
        for i in range(n):
            folder = photos_dir / f"{2010 + i // 4000}" / f"{i // PER_FOLDER:04d}"
            if i % PER_FOLDER == 0:
                folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"R{i:07d}.DNG"
            path.write_bytes(b"")
            if i % 10 == 0:
                (folder / f"R{i:07d}.xmp").write_text(LIGHTROOM)
            keep = rng.random() < 0.3
            rows.append((str(path), "originals", 25_000_000, i, "%064x" % rng.getrandbits(256), "dng",
                         "keep" if keep else "reject", 1.0 if keep else 0.0, rng.random()))
        conn.executemany(
            "INSERT INTO photos (path, role, size, mtime_ns, sha256, format, decision, keeper_score, base_score) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def baseline(root: Path, n: int, size: int, safe: bool) -> float:
    """Seconds to write n files of `size` bytes, 200 a folder: plainly (open, write, close), or the
    safe way one at a time (temp file, fsync, rename)."""
    from fluxcull.interop.fileio import write_atomic

    data = b"x" * size
    t0 = time.perf_counter()
    for i in range(n):
        folder = root / f"{i // PER_FOLDER:04d}"
        if i % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
        if safe:
            write_atomic(folder / f"R{i:07d}.xmp", data)
        else:
            with open(folder / f"R{i:07d}.xmp", "wb") as f:
                f.write(data)
    return time.perf_counter() - t0


def run(out_dir: Path, quick: bool = False) -> dict:
    from fluxcull.interop.export_xmp import export_xmp_job
    from fluxcull.jobs import run_job
    from fluxcull.library import Library

    n = N_QUICK if quick else N_PHOTOS
    rows = []
    with tempfile.TemporaryDirectory(prefix="fluxcull-bench-export-") as tmp:
        lib = Library.open(Path(tmp) / "library")
        t0 = time.perf_counter()
        build(lib, Path(tmp) / "photos", n)
        build_s = time.perf_counter() - t0
        size = 1100  # about a fluxcull sidecar's size
        for safe, what in ((False, "plain (open, write, close)"), (True, "one at a time, temp + fsync + rename")):
            sec = baseline(Path(tmp) / f"baseline-{safe}", n, size, safe)
            rows.append({"case": f"baseline: {n} small files, {what}", "seconds": round(sec, 2),
                         "per_file_ms": round(sec / n * 1000, 3), "written": n, "unchanged": 0})
        for case, kw in ((f"export xmp, {n} photos, mirror folder (first run)", {}),
                         ("export xmp again (all unchanged)", {}),
                         ("export xmp --dest sidecar (beside the photos)", {"dest": "sidecar"})):
            t0 = time.perf_counter()
            s = run_job(export_xmp_job(lib, **kw))
            sec = time.perf_counter() - t0
            assert not s["errors"] and not s["skipped"], (s["errors"][:3], s["skipped"][:3])
            rows.append({"case": case, "seconds": round(sec, 2), "per_file_ms": round(sec / n * 1000, 3),
                         "written": s["written"], "unchanged": s["unchanged"]})
        sizes = [p.stat().st_size for p in (lib.root / "export" / "xmp").rglob("*.xmp")][:1000]
    plain, safe, first = rows[0]["seconds"], rows[1]["seconds"], rows[2]["seconds"]
    meta = {"photos": n, "build_s": round(build_s, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "mean_sidecar_bytes": round(sum(sizes) / max(1, len(sizes))), "target_s": TARGET_S,
            "load_average": os.getloadavg()}
    notes = (f"{n} decided photos (one in ten with a Lightroom sidecar to merge). First export {first:.1f} s "
             f"({'under' if first < TARGET_S else 'OVER'} the {TARGET_S:.0f} s target); in the same run, writing "
             f"as many plain small files took {plain:.1f} s, and writing them safely one at a time {safe:.1f} s.")
    return write_results(out_dir, "export", rows, meta, notes)


if __name__ == "__main__":
    import sys

    run(Path(__file__).parent / "out", "--quick" in sys.argv)
    print((Path(__file__).parent / "out" / "export.md").read_text())
