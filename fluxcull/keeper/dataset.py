"""The keeper model's view of the catalog: which photos are keepers, which are not, and their inputs.

Labels (the training signal):
- positive: an original linked from the keeper archive (a confirmed keeper) or a photo marked keep;
- explicit negative (a near-miss, weighted higher in training): a photo marked reject;
- implicit negative: any other original (the photographer saw it and did not keep it), and inbox
  photos in sessions the photographer has started to cull (at least one decision there);
- unlabelled: the rest of the inbox (not reviewed yet: scored, never trained on).
An explicit decision is the photographer's latest word and wins over the archive link.
Stars change labels and weights by the setting `training.stars` (fluxcull.keeper.stars: by default a
photo with 3 stars or more is a keeper, weighted more than a bare keep).

Only photos with status 'ok' and an embedding for the active backbone take part, and a RAW+JPEG
pair once, as its JPEG (its RAW is no near-identical negative; it gets the JPEG's score). Keeper-archive
files themselves (role 'keepers') are not trained on: they are edited exports whose look the inbox
never has; their originals carry the signal.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from fluxcull.catalog.keepers import confirmed_keeper_ids
from fluxcull.catalog import embedding_index
from fluxcull.catalog.model_reads import DECISIONS, ROLES, STATUSES, corpus_rows, rated_photos, session_ids_of
from fluxcull.catalog.raw_jpeg_pairs import secondary_ids
from fluxcull.keeper.projection_cache import embedding_keys
from fluxcull.keeper.stars import StarRule, apply_stars

POS, NEG, UNLABELLED = 1, 0, -1


@dataclass
class Corpus:
    ids: np.ndarray        # int64 photo ids (sorted)
    rows: np.ndarray       # int64 rows in the embedding store
    role: np.ndarray       # '<U9' role
    session: np.ndarray    # int64 session group (session id, else a per-day/per-photo group < 0)
    time: np.ndarray       # float64 capture time (NaN unknown)
    label: np.ndarray      # int8: POS / NEG / UNLABELLED
    reject: np.ndarray     # bool: decided reject (explicit negative)
    decided_keep: np.ndarray  # bool: decided keep (explicit positive)
    confirmed: np.ndarray  # bool: linked from the keeper archive
    keys: np.ndarray       # int64 embedding key (row and checksum; fluxcull.keeper.projection_cache)
    stars: np.ndarray      # int8 the photographer's stars, 0-5
    weight: np.ndarray     # float32 training weight factor from stars (1.0: unchanged; fluxcull.keeper.stars)
    from_stars: np.ndarray  # int8 +1 a keeper only by its stars, -1 a negative only by its stars, else 0

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, photo_ids) -> np.ndarray:
        """Positions of photo ids in the corpus (-1 for ids not in it)."""
        photo_ids = np.asarray(photo_ids, dtype=np.int64)
        pos = np.searchsorted(self.ids, photo_ids)
        pos = np.clip(pos, 0, max(len(self.ids) - 1, 0))
        ok = (self.ids[pos] == photo_ids) if len(self.ids) else np.zeros(len(photo_ids), bool)
        return np.where(ok, pos, -1)

    def take(self, mask: np.ndarray) -> "Corpus":
        """The photos where mask is true (order kept)."""
        mask = np.asarray(mask, bool)
        return Corpus(**{f: getattr(self, f)[mask] for f in self.__dataclass_fields__})

    def select_sessions_of(self, photo_ids) -> "Corpus":
        """The photos in the session groups of the given photos."""
        at = self.index_of(np.asarray(list(photo_ids), np.int64))
        return self.take(np.isin(self.session, self.session[at[at >= 0]]))

    def summary(self) -> dict:
        lab = self.label
        return {
            "photos": int(len(self)),
            "positives": int((lab == POS).sum()),
            "confirmed_keepers": int(self.confirmed.sum()),
            "decided_keep": int(self.decided_keep.sum()),
            "decided_reject": int(self.reject.sum()),
            "implicit_negatives": int(((lab == NEG) & ~self.reject).sum()),
            "unlabelled": int((lab == UNLABELLED).sum()),
            "sessions": int(len(np.unique(self.session))) if len(self) else 0,
            "positive_rate": float((lab == POS).sum() / max((lab >= 0).sum(), 1)),
            "from_stars": int((self.from_stars != 0).sum()),
            "stars": {"keepers": int((self.from_stars == 1).sum()), "negatives": int((self.from_stars == -1).sum()),
                      "weighted": int((self.weight != 1.0).sum()), "rated": int((self.stars > 0).sum())},
        }


def load_corpus(conn: sqlite3.Connection, store, sessions_of=None, photos: np.ndarray | None = None) -> Corpus:
    """Every trainable/scorable photo with an embedding, with its label and grouping; with
    `sessions_of` (photo ids), only the photos of those photos' sessions (None: they have none).
    `photos`: the library's `photo_rows`, when already read (a whole-library pass)."""
    index = embedding_index.ids_and_rows(conn, store.backbone_id, checksums=True)
    emb_ids, emb_rows, emb_sums = (np.asarray(index, np.int64).reshape(-1, 3).T if index
                                   else (np.zeros(0, np.int64),) * 3)
    sessions = None
    if sessions_of is not None:
        sessions = session_ids_of(conn, sessions_of)
        if None in sessions:  # photos without a session are grouped by day: select them in numpy
            return load_corpus(conn, store).select_sessions_of(sessions_of)
    if photos is not None and sessions is None:  # id, role, status, decision, session, time -> corpus_rows'
        ok = (photos[:, 2] == STATUSES.index("ok")) & np.isin(photos[:, 1], (ROLES.index("originals"),
                                                                               ROLES.index("inbox")))
        rows = photos[:, [0, 1, 4, 5, 3]][ok]  # the five columns first: no copy of every column
    else:
        rows = corpus_rows(conn, sessions)
    n = len(rows)
    ids = rows[:, 0].astype(np.int64)
    role = np.array(ROLES, "<U9")[rows[:, 1].astype(np.int64)] if n else np.zeros(0, "<U9")
    has_sess = ~np.isnan(rows[:, 2])
    sess = np.where(has_sess, rows[:, 2], 0).astype(np.int64)
    tm = rows[:, 3].copy()
    dec = np.array(DECISIONS, "<U6")[rows[:, 4].astype(np.int64)] if n else np.zeros(0, "<U6")

    # keep only photos with an embedding, and a RAW+JPEG pair once
    pos = np.searchsorted(emb_ids, ids)
    pos = np.clip(pos, 0, max(len(emb_ids) - 1, 0))
    keep = (emb_ids[pos] == ids) if len(emb_ids) else np.zeros(n, bool)
    keep &= ~np.isin(ids, np.fromiter(secondary_ids(conn), np.int64))
    ids, role, sess, has_sess, tm, dec = ids[keep], role[keep], sess[keep], has_sess[keep], tm[keep], dec[keep]
    erows = emb_rows[pos[keep]] if len(emb_ids) else np.zeros(0, np.int64)
    esums = emb_sums[pos[keep]] if len(emb_ids) else np.zeros(0, np.int64)

    # photos without a session: group by day, else alone
    day = np.where(np.isfinite(tm), np.floor(np.nan_to_num(tm) / 86400.0), np.nan)
    group = sess.copy()
    nos = ~has_sess
    group[nos & np.isfinite(day)] = -(day[nos & np.isfinite(day)].astype(np.int64) + 1)
    lone = nos & ~np.isfinite(day)
    group[lone] = -(10**9) - ids[lone]

    confirmed = np.isin(ids, np.fromiter(confirmed_keeper_ids(conn), np.int64))
    decided_keep = dec == "keep"
    reject = dec == "reject"
    label = np.full(len(ids), UNLABELLED, np.int8)
    label[role == "originals"] = NEG
    # inbox sessions the photographer has started culling count as reviewed
    reviewed = np.unique(group[(role == "inbox") & (dec != "none")])
    label[(role == "inbox") & np.isin(group, reviewed)] = NEG
    label[confirmed] = POS
    label[decided_keep] = POS
    label[reject] = NEG
    confirmed = confirmed & ~reject
    stars = np.zeros(len(ids), np.int8)
    rated = rated_photos(conn)
    if len(rated) and len(ids):
        at = np.clip(np.searchsorted(ids, rated[:, 0]), 0, len(ids) - 1)
        hit = ids[at] == rated[:, 0]
        stars[at[hit]] = rated[hit, 1]
    label, weight, from_stars = apply_stars(StarRule.from_settings(conn), stars, label, reject, decided_keep,
                                            confirmed, role, group)
    return Corpus(ids=ids, rows=erows, role=role, session=group, time=tm, label=label, reject=reject,
                  decided_keep=decided_keep, confirmed=confirmed, keys=embedding_keys(erows, esums), stars=stars,
                  weight=weight, from_stars=from_stars)


def read_embeddings(store, rows: np.ndarray, *, chunk: int = 4096, out_dtype=np.float32):
    """Yield (start, block) of L2-normalised embeddings for the given store rows, in chunks (small
    ones by default: a 1280-d block of 32,768 rows is 168 MB, allocated afresh each time; reading and
    projecting 400,000 rows took 1.3-1.8x as long as in blocks of 4,096).

    Contiguous runs of rows (the usual case: rows follow photo ids) are read as slices; scattered
    rows are prefetched first (EmbeddingStore.prefetch)."""
    mat = store.matrix()
    for s in range(0, len(rows), chunk):
        r = rows[s : s + chunk]
        if len(r) and r[-1] - r[0] == len(r) - 1 and (np.diff(r) == 1).all():
            block = np.asarray(mat[r[0] : r[-1] + 1], dtype=out_dtype)
        else:
            store.prefetch(r)
            order = np.argsort(r, kind="stable")
            block = np.empty((len(r), mat.shape[1]), dtype=out_dtype)
            block[order] = mat[r[order]]
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))[:, None]
        block /= np.maximum(norms, 1e-12)
        yield s, block


# -- technical and metadata features (computed by fluxcull.embedding.features) -------------------------
def feature_spec() -> tuple[list[str], str]:
    """(FEATURE_NAMES, FEATURE_SCHEMA) of the feature extractor this build ships."""
    from fluxcull.embedding import features

    return list(features.FEATURE_NAMES), str(features.FEATURE_SCHEMA)


def load_features(conn: sqlite3.Connection, photo_ids, metadata_rows: np.ndarray | None = None,
                  with_orientation: bool = False):
    """float32 (n x len(FEATURE_NAMES)), NaN where a value is missing or not computed; with
    `with_orientation`, also the orientation signatures (n x N_ORIENT). `metadata_rows`: see
    fluxcull.embedding.features.load_features."""
    from fluxcull.embedding import features

    ids = np.asarray(photo_ids, np.int64)
    if not len(ids):
        empty = np.zeros((0, len(features.FEATURE_NAMES)), np.float32)
        return (empty, np.zeros((0, features.N_ORIENT), np.float32)) if with_orientation else empty
    if with_orientation:
        feats, orient = features.load_features(conn, ids, metadata_rows, with_orientation=True)
        return np.asarray(feats, np.float32), orient
    return np.asarray(features.load_features(conn, ids, metadata_rows), dtype=np.float32)


def find_feature(names: list[str], *candidates: str) -> int | None:
    """Index of the first feature whose name matches a candidate (exact first, then substring)."""
    low = [n.lower() for n in names]
    for c in candidates:
        if c in low:
            return low.index(c)
    for c in candidates:
        for i, n in enumerate(low):
            if c in n:
                return i
    return None
