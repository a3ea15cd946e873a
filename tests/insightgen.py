"""A small synthetic library for the insights tests: sessions of bursts (frames 5 s apart that look
alike), some scenes repeated across sessions (motifs), keeper scores, GPS, cameras, focal lengths."""

from __future__ import annotations

import numpy as np

from fluxcull.catalog import transaction
from fluxcull.embedding.store import EmbeddingStore

BACKBONE = "synthetic@1"
PLACES = [(51.5074, -0.1278), (48.8566, 2.3522), (35.6762, 139.6503), (-33.8688, 151.2093)]


def build(lib, conn, *, sessions=8, bursts_per_session=10, frames=3, dim=48, motifs=3, seed=0,
          start=1.6e9, spacing_days=40.0):
    """Each session: `bursts_per_session` scenes of `frames` near-identical frames, 5 s apart.
    A scene is one of `motifs` recurring looks (every third scene) or a look of its own."""
    rng = np.random.default_rng(seed)
    motif_dirs = rng.normal(size=(motifs, dim))
    rows = []  # (session, time, emb, motif or -1, burst index)
    burst = 0
    for s in range(sessions):
        t = start + s * spacing_days * 86400.0 + rng.uniform(6, 20) * 3600.0
        for b in range(bursts_per_session):
            m = (b // 3) % motifs if b % 3 == 0 else -1
            centre = motif_dirs[m] + rng.normal(0, 0.25, dim) if m >= 0 else rng.normal(size=dim)
            for _ in range(frames):
                rows.append((s, t, centre + rng.normal(0, 0.05, dim), m, burst))
                t += 5.0
            t += 5.0
            burst += 1
    n = len(rows)
    emb = np.array([r[2] for r in rows], np.float32)
    sess_of = np.array([r[0] for r in rows])
    times = np.array([r[1] for r in rows])
    motif = np.array([r[3] for r in rows])
    burst_of = np.array([r[4] for r in rows])
    score = rng.uniform(0.3, 1.0, n).round(4)
    cams = ["RICOH IMAGING GR III", "FUJIFILM X100V"]
    with transaction(conn):
        sids = []
        for s in range(sessions):
            ts = times[sess_of == s]
            lat, lon = PLACES[s % len(PLACES)]
            cur = conn.execute(
                "INSERT INTO sessions(role, start_time, end_time, start_at, end_at, photo_count, gps_lat, gps_lon)"
                " VALUES ('originals', ?, ?, 'x', 'x', ?, ?, ?)", (float(ts.min()), float(ts.max()), len(ts), lat, lon))
            sids.append(cur.lastrowid)
        ids = []
        for i in range(n):
            cur = conn.execute(
                "INSERT INTO photos(path, role, size, mtime_ns, sha256, capture_time, time_source, session_id,"
                " keeper_score, base_score, camera_make, camera_model, focal_length_35mm)"
                " VALUES (?, 'originals', 1, 1, ?, ?, 'exif', ?, ?, ?, ?, '', ?)",
                (f"/originals/{i:05d}.jpg", f"sha-{seed}-{i}", float(times[i]), sids[sess_of[i]], float(score[i]),
                 float(score[i]), cams[sess_of[i] % 2], 28.0 if sess_of[i] % 2 == 0 else 35.0))
            ids.append(cur.lastrowid)
    ids = np.array(ids, np.int64)
    EmbeddingStore(conn, lib.embeddings_dir, BACKBONE, dim).write(ids.tolist(), emb)
    return {"ids": ids, "emb": emb, "sess": sess_of, "sids": np.array(sids), "times": times, "motif": motif,
            "burst": burst_of, "score": score}


def keep(conn, ids):
    """Mark photos keep (decision and the score it imposes), as the decision log would."""
    with transaction(conn):
        for i in ids:
            conn.execute("UPDATE photos SET decision = 'keep', keeper_score = 1.0 WHERE id = ?", (int(i),))
            conn.execute("INSERT INTO decision_events(photo_id, kind, source) VALUES (?, 'keep', 'test')", (int(i),))


def link(conn, original_ids):
    """Keeper-archive photos linked (confirmed) to the given originals, which then score 1.0."""
    with transaction(conn):
        for k, oid in enumerate(original_ids):
            cur = conn.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES (?, 'keepers', 1, 1)",
                               (f"/keepers/{int(oid)}-{k}.jpg",))
            conn.execute("INSERT INTO keeper_links(keeper_id, original_id, method) VALUES (?, ?, 'manual')",
                         (cur.lastrowid, int(oid)))
            conn.execute("UPDATE photos SET keeper_score = 1.0 WHERE id = ?", (int(oid),))
