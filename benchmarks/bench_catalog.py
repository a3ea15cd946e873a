"""Catalog at scale: a synthetic 400,000-photo catalog (rows only), the grid's queries timed.

Measured: database size; the first 200 rows sorted by score and by time; a page in the middle
(OFFSET, and the way the grid pages: ids then rows by id); one session's photos; `status`; the find
filters (fluxcull.catalog.filters): every id of a camera and a date range (`camera~fuji and
taken=2009-03`, and a whole year), of a camera alone and of a text search, against the unfiltered id
list of the same run (the camera alone and the text search match many photos anywhere in the
catalog: reported, not held to the target). Twelve cameras (each session shot with one) and their lenses.
Target: each under 50 ms. Each query runs several times; the median is reported (first run too).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb, write_results

N_PHOTOS = 400_000
N_QUICK = 100_000
PER_SESSION = 150
CAMERAS = (  # (make, model, lens): each session is shot with one
    ("RICOH IMAGING COMPANY, LTD.", "RICOH GR III", "GR LENS 18.3mm F2.8"),
    ("FUJIFILM", "X-T4", "XF35mmF1.4 R"), ("FUJIFILM", "X100V", None),
    ("NIKON CORPORATION", "NIKON Z 9", "NIKKOR Z 85mm f/1.2 S"), ("NIKON CORPORATION", "NIKON D750", "50.0 mm f/1.8"),
    ("Canon", "Canon EOS R5", "RF24-70mm F2.8 L IS USM"), ("Canon", "Canon EOS 5D Mark IV", "EF70-200mm f/2.8L IS III USM"),
    ("SONY", "ILCE-7M3", "FE 24-105mm F4 G OSS"), ("Apple", "iPhone 13 Pro", "iPhone 13 Pro back camera"),
    ("OLYMPUS CORPORATION", "E-M1MarkII", "OLYMPUS M.12-40mm F2.8"), ("Panasonic", "DC-G9", "LUMIX G VARIO 12-60"),
    ("LEICA", "M10", None),
)


def build(lib, n: int, seed: int = 0) -> None:
    from fluxcull.catalog import transaction

    rng = random.Random(seed)
    conn = lib.connect()
    conn.execute("PRAGMA synchronous = OFF")
    t = 1.2e9
    roles = ["originals"] * 90 + ["keepers"] * 4 + ["inbox"] * 6
    with transaction(conn):
        n_sessions = n // PER_SESSION + 1
        sessions = []
        for s in range(n_sessions):
            role = "originals" if s % 20 else rng.choice(["keepers", "inbox"])
            sessions.append(conn.execute(
                "INSERT INTO sessions (role, start_time, end_time, start_at, end_at, photo_count) "
                "VALUES (?, ?, ?, '', '', ?)", (role, t + s * 86400, t + s * 86400 + 7200, PER_SESSION)).lastrowid)
        rows = []
        session_cams = [rng.choice(CAMERAS) for _ in range(n_sessions)]
        for i in range(n):
            s = i // PER_SESSION
            make, model, lens = session_cams[s]
            ct = t + s * 86400 + (i % PER_SESSION) * 40 + rng.random()
            status = "error" if rng.random() < 0.002 else "ok"
            score = rng.random() if rng.random() < 0.9 else None
            rows.append((
                f"/photos/{2010 + s // 400}/{s:05d}/R{i:07d}.DNG", rng.choice(roles), 25_000_000 + i, i * 1_000_000,
                "%064x" % rng.getrandbits(256), "dng", 6000, 4000, 1,
                time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ct)), ct, "exif", make, model, lens,
                18.3, 28, 2.8, 1 / 250, 200, f"R{i:07d}.DNG", sessions[s], "%064x-512" % i,
                "raw-preview", status, "damaged" if status == "error" else None, score,
                rng.choice(["none"] * 8 + ["keep", "reject"]),
            ))
            if len(rows) == 20000:
                _insert(conn, rows)
                rows = []
        _insert(conn, rows)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _insert(conn, rows):
    conn.executemany(
        "INSERT INTO photos (path, role, size, mtime_ns, sha256, format, width, height, orientation, taken_at, "
        "capture_time, time_source, camera_make, camera_model, lens, focal_length, focal_length_35mm, aperture, "
        "shutter, iso, original_filename, session_id, thumb_key, thumb_source, status, error, keeper_score, decision) "
        "VALUES (" + ",".join("?" * 28) + ")", rows)


def _time(fn, repeat: int = 7) -> tuple[float, float, object]:
    first = None
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
        first = times[0]
    return first, statistics.median(times), out


def run(out_dir: Path, quick: bool = False) -> dict:
    from fluxcull.catalog.filters import query_from
    from fluxcull.catalog.queries import PhotoQuery, list_photos, photo_ids, photos_by_ids, status_counts
    from fluxcull.library import Library

    n = N_QUICK if quick else N_PHOTOS
    rows = []
    with tempfile.TemporaryDirectory(prefix="fluxcull-bench-catalog-") as tmp:
        lib = Library.open(tmp)
        t0 = time.perf_counter()
        build(lib, n)
        build_s = time.perf_counter() - t0
        size_mb = lib.catalog_path.stat().st_size / 1e6
        conn = lib.connect()
        session = conn.execute("SELECT id FROM sessions WHERE role = 'originals' ORDER BY id LIMIT 1 OFFSET 1000 % "
                               "(SELECT COUNT(*) FROM sessions WHERE role = 'originals')").fetchone()[0]
        by_score = PhotoQuery(role="originals", sort="score")
        by_time = PhotoQuery(role="originals", sort="time")
        n_orig = conn.execute("SELECT COUNT(*) FROM photos WHERE role = 'originals' AND status = 'ok'").fetchone()[0]
        mid = n_orig // 2
        ids_time = photo_ids(conn, by_time)
        cases = [
            ("first 200 by score", lambda: list_photos(conn, by_score, limit=200)),
            ("first 200 by time", lambda: list_photos(conn, by_time, limit=200)),
            ("middle page by time (OFFSET)", lambda: list_photos(conn, by_time, limit=200, offset=mid)),
            ("middle page by score (OFFSET)", lambda: list_photos(conn, by_score, limit=200, offset=mid)),
            ("middle page by id list (grid)", lambda: photos_by_ids(conn, ids_time[mid:mid + 200])),
            ("all ids of the grid, by time", lambda: photo_ids(conn, by_time)),
            ("one session's photos", lambda: list_photos(conn, PhotoQuery(session_id=session, sort="time"))),
            ("status", lambda: status_counts(conn)),
        ]
        finds = {expr: query_from(expr, role="originals") for expr in FINDS}
        cases += [(f"find ids: {name}", lambda q=q: photo_ids(conn, q)) for name, q in finds.items()]
        cases.append(("find: first 200 of camera~fuji and taken=2009-03",
                      lambda: list_photos(conn, finds["camera~fuji and taken=2009-03"], limit=200)))
        for name, fn in cases:
            first, med, out = _time(fn)
            rows.append({"query": name, "rows": len(out) if hasattr(out, "__len__") else "", "first_ms": round(first, 2),
                         "median_ms": round(med, 2), "under_50ms": med < 50})
        plans = {name: [tuple(r) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
                 for name, (sql, params) in _plans(by_score, by_time, session).items()}
        for name in ("camera~fuji and taken=2009-03", "camera~fuji"):
            where, params = finds[name].where(conn)
            plans[name] = [tuple(r) for r in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT id FROM photos{where} ORDER BY {finds[name].order_by()}", params)]
        conn.close()
    meta = {"photos": n, "originals_ok": n_orig, "db_mb": round(size_mb, 1), "build_s": round(build_s, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1), "plans": plans}
    slow = [r["query"] for r in rows if not r["under_50ms"]]
    by_name = {r["query"]: r for r in rows}
    unfiltered = by_name["all ids of the grid, by time"]["median_ms"]
    month = by_name["find ids: camera~fuji and taken=2009-03"]["median_ms"]
    notes = (f"{n} photos, catalog {size_mb:.0f} MB. Median of 7 runs. "
             + ("All under 50 ms." if not slow else f"Over 50 ms: {', '.join(slow)}.")
             + f" Camera and one month {month:.1f} ms against every id unfiltered {unfiltered:.1f} ms.")
    return write_results(out_dir, "catalog", rows, meta, notes)


FINDS = (  # --where expressions, each over the originals (the catalog's photos start in January 2008)
    "camera~fuji and taken=2009-03",
    "camera~fuji and taken=2009",
    'camera~"gr iii" and taken>=2008-06-01 and taken<2008-06-15',
    "lens~85mm and taken=2009",
    "camera~fuji",
    "text~nikkor",
)


def _plans(by_score, by_time, session):
    out = {}
    for name, q in (("score", by_score), ("time", by_time)):
        where, params = q.where()
        out[name] = (f"SELECT * FROM photos{where} ORDER BY {q.order_by()} LIMIT 200", params)
    return out


if __name__ == "__main__":
    import sys

    run(Path(__file__).parent / "out", "--quick" in sys.argv)
    print((Path(__file__).parent / "out" / "catalog.md").read_text())
