"""The embedding job: every photo gets a backbone embedding and its features, in one decode pass.

Pipeline: a thread pool decodes photos (the 512 px ingest thumbnail where there is one, else the
file itself through `fluxcull.media.decode.load_image`, which uses RAW embedded previews and
DCT-scaled JPEG decoding), measures the technical features and makes the square network input;
the job's own thread runs the backbone on batches while the pool decodes the next ones. Each
batch is stored before the next starts (vectors fsynced, then their index committed), so a killed
job loses at most one batch and the next run continues where it stopped. The backbone's float32 or int8
variant is chosen first (fluxcull.embedding.precision: never both in one store). Only photos without an
embedding for the backbone (or with one of older bytes) or without current features are done.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from fluxcull.catalog import embedding_index as index
from fluxcull.catalog.settings import read_text
from fluxcull.embedding import features as F
from fluxcull.embedding.backbones import Backbone, SETTING_KEY, get_backbone
from fluxcull.embedding.inference import available_cores, default_batch_size, make_runner
from fluxcull.embedding.prepare import FILE_MIN_SIDE, Prepared, thumbnail_image
from fluxcull.embedding.prepare import prepare as prepare_from
from fluxcull.embedding.precision import write_variant
from fluxcull.embedding.store import EmbeddingStore, backbone_store
from fluxcull.jobs import CancelToken, Job, Progress
from fluxcull.joblock import locked

log = logging.getLogger(__name__)


def resolve_backbone(conn, name: str | None = None) -> Backbone:
    """The backbone named, else the library's setting, else the default (its float32 variant unless
    the name says `+int8`; `write_variant` picks the precision)."""
    if name:
        return get_backbone(name)
    return get_backbone(read_text(conn, SETTING_KEY))


def _variant(lib, conn, bb: Backbone, runtime: str, device: str | None) -> Backbone:
    """The precision variant this job writes (fluxcull.embedding.precision)."""
    if not bb.int8:
        return bb
    from fluxcull.embedding.inference import select_device

    return write_variant(conn, bb, cache_dir=lib.cache_dir, device=select_device(device), runtime=runtime)


def _open_source(lib, path: str, thumb_key: str | None):
    """The decoded photo (PIL RGB, oriented) and where it came from: thumbnail first, else the file."""
    from fluxcull.media.decode import load_image

    if thumb_key:
        from fluxcull.media.thumbs import thumb_path

        img = thumbnail_image(thumb_path(lib, thumb_key))
        if img is not None:
            return img, "thumbnail"
    return load_image(path, min_side=FILE_MIN_SIDE)  # missing or damaged thumbnail: decode the file


def prepare(lib, backbone: Backbone, photo_id: int, path: str, thumb_key: str | None,
            need_embedding: bool, need_features: bool) -> Prepared:
    """Decode one photo and compute what is needed; a decode failure becomes `error`."""
    return prepare_from(photo_id, lambda: _open_source(lib, path, thumb_key), backbone.input_size,
                        backbone.input_policy, need_embedding, need_features)


def _work_list(conn, store: EmbeddingStore, role: str | None):
    need_emb = set(store.missing_photo_ids(role))
    need_feat = set(F.missing_feature_ids(conn, role))
    ids = sorted(need_emb | need_feat)
    rows = index.photo_sources(conn, ids)
    return [(pid, *rows[pid], pid in need_emb, pid in need_feat) for pid in ids if pid in rows]


def embed_job(lib, *, backbone: str | None = None, cancel: CancelToken | None = None, role: str | None = None,
              runtime: str = "auto", device: str | None = None, batch_size: int | None = None,
              workers: int | None = None, threads: int | None = None) -> Job:
    """Embed (and compute features of) every photo that lacks them (or whose stored vector is missing
    from the store's file or damaged), holding the library's job lock. Summary:
    {embedded, featured, skipped, repaired, errors: [{photo_id, path, reason}], backbone, runtime, device, timing}."""
    cancel = cancel or CancelToken()
    return locked(lib, _embed_job(lib, backbone, cancel, role, runtime, device, batch_size, workers, threads),
                  cancel=cancel)


def _embed_job(lib, backbone, cancel, role, runtime, device, batch_size, workers, threads) -> Job:
    conn = lib.connect()
    pool = None
    try:
        bb, store, runner = open_backbone(lib, conn, backbone, runtime, device, threads)
        total_photos = index.count_ok_photos(conn, role)
        damaged = store.check().damaged_ids
        if damaged:
            log.warning("%s: %d stored vectors are missing or damaged; embedding them again", bb.id, len(damaged))
        work = _work_list(conn, store, role)
        summary = {"embedded": 0, "featured": 0, "skipped": total_photos - len(work), "repaired": len(damaged),
                   "errors": [], "backbone": bb.id}
        yield Progress("embed", 0, len(work), f"{len(work)} photos to do")
        if not work:
            return summary
        if any(w[4] for w in work) and runner is None:
            runner = _make_runner(bb, runtime, device, lib, threads)
        info = runner.info if runner is not None else None
        if info is not None:
            summary.update(runtime=info.runtime, device=info.device, precision=info.precision)
        dev = info.device if info else "cpu"
        bs = batch_size or default_batch_size(dev)
        nworkers = workers or (max(2, (os.cpu_count() or 2) - 1) if dev != "cpu" else max(1, available_cores() - 1))
        pool = ThreadPoolExecutor(nworkers, thread_name_prefix="fluxcull-embed")
        pending: deque = deque()
        it = iter(work)
        ahead = bs * 2

        def submit_more():
            while len(pending) < ahead:
                try:
                    pid, path, thumb_key, sha, need_e, need_f = next(it)
                except StopIteration:
                    return
                pending.append((pid, path, sha, pool.submit(prepare, lib, bb, pid, path, thumb_key, need_e, need_f)))

        t_start = time.perf_counter()
        decode_s = infer_s = 0.0
        done = 0
        batch: list[tuple[int, str, str | None, Prepared]] = []
        submit_more()
        while pending or batch:
            cancel.check()
            if pending:
                pid, path, sha, fut = pending.popleft()
                prep = fut.result()
                submit_more()
                decode_s += prep.seconds
                if prep.error:
                    summary["errors"].append({"photo_id": pid, "path": path, "reason": prep.error})
                    done += 1
                else:
                    batch.append((pid, path, sha, prep))
            if batch and (len(batch) >= bs or not pending):
                infer_s += _flush(conn, store, runner, batch, summary)
                done += len(batch)
                yield Progress("embed", done, len(work), os.path.basename(batch[-1][1]))
                batch = []
        wall = time.perf_counter() - t_start
        n = max(done, 1)
        summary["timing"] = {
            "seconds": round(wall, 3), "photos_per_s": round(done / wall, 2) if wall > 0 else None,
            "decode_ms_per_photo": round(1000 * decode_s / n, 2), "infer_ms_per_photo": round(1000 * infer_s / n, 2),
            "workers": nworkers, "batch_size": bs,
        }
        return summary
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        conn.close()


def _make_runner(bb, runtime, device, lib, threads):
    return make_runner(bb, runtime=runtime, device=device, lib=lib, threads=threads)


def open_backbone(lib, conn, backbone: str | None, runtime: str, device: str | None, threads: int | None):
    """(the backbone, its store, a runner or None): a timm model of unknown width is built (and its
    runner kept) to learn the width; otherwise the runner is made when first needed."""
    bb = _variant(lib, conn, resolve_backbone(conn, backbone), runtime, device)
    runner = None
    if bb.dim <= 0:
        runner = _make_runner(bb, runtime, device, lib, threads)
        bb = replace(bb, dim=int(runner(np.zeros((1, bb.input_size, bb.input_size, 3), np.uint8)).shape[1]))
    return bb, backbone_store(lib, conn, bb), runner


def network_input(batch: list[tuple[int, str | None, Prepared]]) -> np.ndarray | None:
    """The stacked network inputs of the (photo id, sha256, Prepared) that need an embedding."""
    pixels = [p.pixels for _, _, p in batch if p.pixels is not None]
    return np.stack(pixels) if pixels else None


def store_batch(conn, store: EmbeddingStore, batch: list[tuple[int, str | None, Prepared]],
                vecs: np.ndarray | None, summary: dict) -> None:
    """Store one batch: the embeddings `vecs` (of the photos with network input, in order), then the
    features; counted in summary['embedded'] and ['featured']."""
    emb = [(pid, sha) for pid, sha, p in batch if p.pixels is not None]
    if emb:
        store.write([e[0] for e in emb], vecs, [e[1] for e in emb])
        summary["embedded"] += len(emb)
    feats = [(pid, sha, p.technical) for pid, sha, p in batch if p.technical is not None]
    if feats:
        F.store_features(conn, [f[0] for f in feats], np.stack([f[2] for f in feats]), [f[1] for f in feats])
        summary["featured"] += len(feats)


def _flush(conn, store: EmbeddingStore, runner, batch, summary) -> float:
    """Run and store one batch; returns the inference seconds."""
    items = [(pid, sha, p) for pid, _, sha, p in batch]
    x = network_input(items)
    t0 = time.perf_counter()
    vecs = runner(x) if x is not None else None
    t = time.perf_counter() - t0
    store_batch(conn, store, items, vecs, summary)
    return t if x is not None else 0.0
