"""`import_job`: a folder's first import in one pass: each photo is read, hashed, decoded once at
reduced scale and thumbnailed (the ingest, fluxcull.ingest), and its features and embedding come
from that same decode (fluxcull.embedding.import_worker), instead of `ingest` and then `embed`
decoding every photo a second time.

Pipeline: the ingest's scan and triage; worker processes read, hash, decode, write the thumbnail
and measure the features and the network input; this process commits the catalog rows in batches
(photos appear as they are read) and hands each committed batch's network inputs to one inference
thread, which runs the backbone on a batch (a full one, or what there is when it is idle) while the
workers decode the next photos; each
embedded batch is stored as `embed` stores it (vectors fsynced, then their index committed).
Then the ingest's missing files, RAW+JPEG pairs and sessions; then `embed` for whatever of the
role is still without an embedding or features (photos of an import that was stopped part way,
unchanged photos never embedded, a photo whose features failed); last, the metadata part of the
stored feature vectors is brought up to the sessions just grouped (fluxcull.embedding.features.
refresh_metadata). So a stopped import, run again, ends with the catalog, features and embeddings
of an uninterrupted one, and both equal `ingest` followed by `embed` (bit-identical embeddings).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterable

from fluxcull.embedding import features as F
from fluxcull.embedding.embed import _make_runner, embed_job, network_input, open_backbone, store_batch
from fluxcull.embedding.import_worker import ImportTask, process_many
from fluxcull.embedding.inference import default_batch_size
from fluxcull.ingest import ingest_job, sessions
from fluxcull.ingest.job import Extension
from fluxcull.joblock import locked
from fluxcull.jobs import CancelToken, Job, Progress


def import_job(lib, paths: Iterable[str | os.PathLike], role: str, *, cancel: CancelToken | None = None,
               workers: int | None = None, session_gap_hours: float = sessions.DEFAULT_GAP_HOURS,
               xmp: bool = True, backbone: str | None = None, runtime: str = "auto", device: str | None = None,
               batch_size: int | None = None, threads: int | None = None) -> Job:
    """Ingest `paths` under `role` and embed them in the same pass, holding the library's job lock.

    Summary: {role, ingest (the ingest summary), embed {embedded, featured, errors: [{photo_id,
    path, reason}], backbone, runtime, device, timing}, features_refreshed, seconds, photos_per_s}.
    """
    cancel = cancel or CancelToken()
    emb = _Embedder(lib, backbone, runtime, device, batch_size, threads)
    ingest = ingest_job(lib, paths, role, cancel=cancel, workers=workers, session_gap_hours=session_gap_hours,
                        xmp=xmp, extension=emb.extension())  # checks the role and the paths now
    return locked(lib, _import_job(lib, role, ingest, emb, cancel), cancel=cancel)


def _import_job(lib, role: str, ingest: Job, emb: "_Embedder", cancel: CancelToken) -> Job:
    t0 = time.perf_counter()
    conn = lib.connect()
    try:
        emb.open(conn)
        ingested = yield from ingest
        emb.finish()
        rest = yield from embed_job(lib, backbone=emb.backbone, cancel=cancel, role=role, runtime=emb.runtime,
                                    device=emb.device, batch_size=emb.batch_size, threads=emb.threads)
        yield Progress("features", 0, None, "feature vectors brought up to the sessions")
        refreshed = F.refresh_metadata(conn, role)
        seconds = time.perf_counter() - t0
        done = ingested["added"] + ingested["updated"]
        return {"role": role, "ingest": ingested, "embed": emb.merged(rest), "features_refreshed": refreshed,
                "seconds": round(seconds, 3), "photos_per_s": round(done / seconds, 2) if seconds > 0 else None}
    finally:
        emb.close()
        conn.close()


class _Embedder:
    """The inference side of the import: batches of committed photos' network inputs run on one
    thread (at most one batch in flight) and are stored on the job's own thread and connection."""

    def __init__(self, lib, backbone, runtime, device, batch_size, threads):
        self.lib, self.backbone, self.runtime, self.device = lib, backbone, runtime, device
        self.batch_size, self.threads = batch_size, threads
        self.conn = self.bb = self.store = self.runner = self.pool = None
        self.ready: Future | None = None  # the runner, made on the inference thread (importing torch takes seconds)
        self.pending: list = []      # (photo_id, sha256, Prepared) committed, not yet embedded
        self.inflight: tuple[Future | None, list] | None = None
        self.summary = {"embedded": 0, "featured": 0}
        self.infer_s = 0.0

    def open(self, conn) -> None:
        self.conn = conn
        self.bb, self.store, self.runner = open_backbone(self.lib, conn, self.backbone, self.runtime, self.device,
                                                         self.threads)

    def extension(self) -> Extension:
        return Extension(wrap=self._wrap, unwrap=lambda t: t.task, process_many=process_many, written=self.written)

    def _wrap(self, task) -> ImportTask:
        return ImportTask(task, self.bb.input_size, self.bb.input_policy)

    def written(self, records: list[dict]) -> None:
        for rec in records:
            prep = rec.pop("prepared", None)
            rec.pop("prepare_error", None)  # `embed` tries that photo again after the ingest, and says why
            if prep is not None and rec["status"] == "ok" and rec.get("photo_id") is not None:
                self.pending.append((rec["photo_id"], rec["sha256"], prep))
        if not self.pending:
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="fluxcull-import-infer")
            self.ready = self.pool.submit(self._runner)
        self._collect(wait=False)
        while len(self.pending) >= self._batch_size():
            self._submit()  # waits for the batch in flight: the decoding gets no further ahead than this
        if self.pending and self.inflight is None:
            self._submit()  # the inference thread is idle: what there is, rather than all of it at the end

    def finish(self) -> None:
        """Embed and store what is still pending (the ingest has finished)."""
        while self.pending:
            self._submit()
        self._collect(wait=True)

    def _runner(self):
        if self.runner is None:
            self.runner = _make_runner(self.bb, self.runtime, self.device, self.lib, self.threads)
        return self.runner

    def _batch_size(self) -> int:
        if self.batch_size:
            return self.batch_size
        device = self.ready.result().info.device if self.ready is not None and self.ready.done() else "cpu"
        return default_batch_size(device)

    def _submit(self) -> None:
        self._collect(wait=True)
        bs = self._batch_size()
        batch, self.pending = self.pending[:bs], self.pending[bs:]
        x = network_input(batch)
        self.inflight = (self.pool.submit(self._infer, x) if x is not None else None, batch)

    def _infer(self, x):
        t0 = time.perf_counter()
        y = self._runner()(x)
        return y, time.perf_counter() - t0

    def _collect(self, wait: bool) -> None:
        if self.inflight is None:
            return
        fut, batch = self.inflight
        if fut is not None and not wait and not fut.done():
            return
        self.inflight = None
        vecs, seconds = fut.result() if fut is not None else (None, 0.0)
        self.infer_s += seconds
        store_batch(self.conn, self.store, batch, vecs, self.summary)

    def merged(self, rest: dict) -> dict:
        """This pass's counts joined with those of the `embed` run after the ingest."""
        out = dict(rest)
        out["embedded"] = self.summary["embedded"] + rest["embedded"]
        out["featured"] = self.summary["featured"] + rest["featured"]
        info = getattr(self.runner, "info", None)
        if info is not None:
            out.update(runtime=info.runtime, device=info.device, precision=info.precision)
            n = max(self.summary["embedded"], 1)
            out["timing"] = {"infer_ms_per_photo": round(1000 * self.infer_s / n, 2),
                             "batch_size": self._batch_size()}
        return out

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
