"""Synthetic libraries for the keeper-model tests: photos in sessions with embeddings, features and
a planted taste (keepers are the photos scoring highest on a hidden direction plus sharpness)."""

from __future__ import annotations

import numpy as np

from fluxcull.catalog import transaction
from fluxcull.embedding.features import FEATURE_NAMES, FEATURE_SCHEMA, N_TECH, STORED_NAMES
from fluxcull.embedding.store import EmbeddingStore

BACKBONE = "synthetic@1"


def build(lib, conn, *, n=600, sessions=20, dim=32, keep_rate=0.08, seed=0, signal=1.0, start=1.6e9,
          backbone=BACKBONE, role="originals", taste_seed=None, spacing_days=25.0):
    """Insert n originals in `sessions` sessions; returns a dict with ids, truth and the hidden taste."""
    rng = np.random.default_rng(seed)
    taste = np.random.default_rng(seed if taste_seed is None else taste_seed).normal(size=dim)
    taste /= np.linalg.norm(taste)
    sess_of = np.sort(rng.integers(0, sessions, n))
    emb = rng.normal(size=(n, dim)).astype(np.float32)
    sess_center = rng.normal(size=(sessions, dim)) * 0.7
    emb += sess_center[sess_of]
    sharp = rng.uniform(1.0, 3.5, n)
    utility = signal * (emb @ taste) + 0.8 * (sharp - 2.25) + rng.normal(0, 0.3, n)
    # keepers: the best of each session (about keep_rate of it), like a photographer's picks
    keeper = np.zeros(n, bool)
    for s in range(sessions):
        idx = np.flatnonzero(sess_of == s)
        if len(idx) == 0:
            continue
        k = max(1, int(round(keep_rate * len(idx))))
        keeper[idx[np.argsort(-utility[idx])[:k]]] = True
    hour = rng.uniform(7, 19, sessions)  # each session starts at its own time of day
    sess_start = start + np.arange(sessions) * 86400.0 * spacing_days + hour * 3600.0
    times = sess_start[sess_of] + np.arange(n) * 5.0 - np.searchsorted(sess_of, sess_of) * 5.0
    with transaction(conn):
        sids = []
        for s in range(sessions):
            t0 = float(sess_start[s])
            cur = conn.execute(
                "INSERT INTO sessions(role, start_time, end_time, start_at, end_at) VALUES (?, ?, ?, 'x', 'x')",
                (role, t0, t0 + 3600))
            sids.append(cur.lastrowid)
        ids = []
        for i in range(n):
            cur = conn.execute(
                "INSERT INTO photos(path, role, size, mtime_ns, sha256, capture_time, time_source, session_id,"
                " width, height) VALUES (?, ?, 1, 1, ?, ?, 'exif', ?, 600, 400)",
                (f"/{role}/{seed}/{i:06d}.jpg", role, f"sha-{role}-{seed}-{i}", float(times[i]), sids[sess_of[i]]))
            ids.append(cur.lastrowid)
    ids = np.array(ids, np.int64)
    store = EmbeddingStore(conn, lib.embeddings_dir, backbone, dim)
    store.write(ids.tolist(), emb)
    tech = np.full((n, N_TECH), np.nan, np.float32)
    tech[:, 0] = sharp
    tech[:, 1] = 0.05 + 0.05 * sharp
    tech[:, 2] = rng.uniform(0.2, 0.7, n)  # brightness: no taste in it
    tech[:, 4] = 0.0
    tech[:, 6] = rng.uniform(0.4, 0.9, n)
    write_features(conn, ids, tech)
    return {"ids": ids, "keeper": keeper, "utility": utility, "emb": emb, "taste": taste, "sess": sess_of,
            "sids": np.array(sids), "sharp": sharp, "store": store}


def write_features(conn, ids, tech):
    full = np.full((len(ids), len(STORED_NAMES)), np.nan, np.float32)  # no orientation signature
    full[:, :N_TECH] = tech
    with transaction(conn):
        conn.executemany(
            "INSERT INTO photo_features(photo_id, schema, vector) VALUES (?, ?, ?)"
            " ON CONFLICT(photo_id) DO UPDATE SET vector = excluded.vector",
            [(int(p), FEATURE_SCHEMA, full[i].tobytes()) for i, p in enumerate(ids)])


def link_keepers(conn, original_ids):
    """Add keeper-archive photos linked (confirmed) to the given originals."""
    with transaction(conn):
        for oid in original_ids:
            cur = conn.execute(
                "INSERT INTO photos(path, role, size, mtime_ns, sha256) VALUES (?, 'keepers', 1, 1, ?)",
                (f"/keepers/{int(oid)}.jpg", f"k-{int(oid)}"))
            conn.execute(
                "INSERT INTO keeper_links(keeper_id, original_id, method) VALUES (?, ?, 'sha256')",
                (cur.lastrowid, int(oid)))


def build_drifted(lib, conn, *, recent_months: float = 12.0) -> dict:
    """30 sessions a month apart, keepers (the planted taste: a look and sharpness) linked from the
    archive, and a taste that drifted: the keepers of the last `recent_months` months darker than the
    other photos, the older keepers brighter. The build's dict, with `recent` per photo."""
    from fluxcull.keeper.recency import MONTH_S

    g = build(lib, conn, n=1500, sessions=30, seed=5, spacing_days=30.0)
    t = np.array([r[0] for r in conn.execute("SELECT capture_time FROM photos ORDER BY id")])
    recent = t >= t.max() - recent_months * MONTH_S
    rng = np.random.default_rng(9)
    bright = FEATURE_NAMES.index("brightness")
    tech = np.full((len(g["ids"]), N_TECH), np.nan, np.float32)
    tech[:, 0] = g["sharp"]
    tech[:, bright] = rng.uniform(0.35, 0.65, len(g["ids"]))
    tech[g["keeper"] & ~recent, bright] += 0.2
    tech[g["keeper"] & recent, bright] -= 0.2
    write_features(conn, g["ids"], tech)
    link_keepers(conn, g["ids"][g["keeper"]])
    return {**g, "recent": recent}


def trained(tmp_path, **train_kw) -> dict:
    """A small library (300 photos in 6 sessions, keepers linked) with a trained model:
    {'lib', 'conn', 'g', 's' (the train summary)}; the caller closes conn."""
    from fluxcull.jobs import run_job
    from fluxcull.keeper.train import train_job
    from fluxcull.library import Library

    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    g = build(lib, conn, n=300, sessions=6, seed=8)
    link_keepers(conn, g["ids"][g["keeper"]])
    return {"lib": lib, "conn": conn, "g": g, "s": run_job(train_job(lib, seed=0, **train_kw))}
