"""Model inputs for the whole corpus: labels (dataset), embeddings projected, features standardised.

`prepare` reads the corpus once: embeddings stream from the memory-mapped store in chunks and are
projected straight away, so memory stays at n x (components + features) float32 (about 0.5 GB for
400,000 photos), never the full float32 embedding matrix.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from fluxcull.ml.dataset import Corpus, feature_spec, load_corpus, load_features, open_store, read_embeddings
from fluxcull.ml.ranker import InputTransform

PCA_SAMPLE = 20_000


@dataclass
class Prepared:
    corpus: Corpus
    x: np.ndarray            # float32 (n x dim) model inputs
    feats: np.ndarray        # float32 (n x F) raw features (NaN missing)
    transform: InputTransform
    backbone_id: str
    feature_names: list[str]
    feature_schema: str
    store: object


def prepare(lib, conn: sqlite3.Connection, *, seed: int = 0, transform: InputTransform | None = None,
            cancel=None, progress=None) -> Prepared:
    store = open_store(lib, conn)
    names, schema = feature_spec()
    corpus = load_corpus(conn, store)
    n = len(corpus)
    feats = load_features(conn, corpus.ids) if n else np.zeros((0, len(names)), np.float32)
    if transform is None:
        rng = np.random.default_rng(seed)
        take = np.sort(rng.choice(n, size=min(n, PCA_SAMPLE), replace=False)) if n else np.zeros(0, np.int64)
        sample = next(read_embeddings(store, corpus.rows[take], chunk=max(len(take), 1)), (0, None))[1]
        if sample is None or len(sample) < 2:
            raise ValueError(f"{n} embedded originals/inbox photos: too few to train a keeper model "
                             "(ingest the photos, then run `fluxcull embed`)")
        transform = InputTransform.fit(sample, feats, names)
    x = np.empty((n, transform.dim), np.float32)
    for start, block in read_embeddings(store, corpus.rows):
        if cancel is not None:
            cancel.check()
        end = start + len(block)
        x[start:end] = transform.transform(block, feats[start:end])
        if progress is not None:
            progress(end, n)
    return Prepared(corpus=corpus, x=x, feats=feats, transform=transform, backbone_id=store.backbone_id,
                    feature_names=names, feature_schema=schema, store=store)
