"""The embedding store under concurrent writers and damage: no silently wrong vector, ever."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from fluxcull.catalog import transaction
from fluxcull.embedding.store import EmbeddingStore
from fluxcull.errors import StoreDamaged

DIM = 16
BACKBONE = "test@1"


def vector_of(pid: int) -> np.ndarray:
    """Each photo's own recognisable vector."""
    return (np.arange(DIM, dtype=np.float32) + pid * 0.25).astype(np.float16)


def _add_photos(conn, n: int) -> list[int]:
    with transaction(conn):
        return [conn.execute("INSERT INTO photos(path, role, size, mtime_ns, sha256) VALUES (?, 'originals', 1, 1, ?)",
                             (f"/p/{i}.jpg", f"sha{i}")).lastrowid for i in range(n)]


def _writer(root: str, ids: list[int], start, batch: int) -> None:
    from fluxcull.library import Library

    lib = Library(__import__("pathlib").Path(root))
    conn = lib.connect()
    store = EmbeddingStore(conn, lib.embeddings_dir, BACKBONE, DIM)
    start.wait()
    for i in range(0, len(ids), batch):
        chunk = ids[i:i + batch]
        store.write(chunk, np.stack([vector_of(p) for p in chunk]), [f"sha{p - 1}" for p in chunk])
    conn.close()


def test_two_concurrent_writers_never_overwrite_each_others_vectors(library, conn):
    """Finding 1: rows were allocated (MAX(row)+1) outside the transaction, so two writers took the
    same row and one photo silently held another's vector."""
    ids = _add_photos(conn, 120)
    EmbeddingStore(conn, library.embeddings_dir, BACKBONE, DIM)  # register the backbone once
    ctx = mp.get_context("fork")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(library.root), part, start, 2)) for part in (ids[0::2], ids[1::2])]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = EmbeddingStore.open_existing(conn, library.embeddings_dir, BACKBONE)
    got = store.get(ids, dtype=np.float16)
    wrong = [pid for pid, v in zip(ids, got) if not np.array_equal(v, vector_of(pid))]
    assert store.count() == len(ids) and wrong == []
    assert store.check().ok


@pytest.fixture
def filled(library, conn):
    ids = _add_photos(conn, 30)
    store = EmbeddingStore(conn, library.embeddings_dir, BACKBONE, DIM)
    store.write(ids, np.stack([vector_of(p) for p in ids]), [f"sha{p - 1}" for p in ids])
    return store, ids


def test_deleted_store_file_is_detected_and_its_photos_need_embedding(filled):
    """Finding 2: with vectors.f16 deleted, every photo still counted as embedded."""
    store, ids = filled
    store.path.unlink()
    res = store.check()
    assert not res.ok and not res.file_exists and res.damaged_ids == sorted(ids)
    assert store.missing_photo_ids() == sorted(ids)
    with pytest.raises(StoreDamaged, match="missing"):
        store.verified()


def test_truncated_store_marks_the_rows_past_its_end(filled):
    store, ids = filled
    with open(store.path, "r+b") as fh:
        fh.truncate(10 * DIM * 2)
    rows = dict(zip(*store.ids_and_rows()))
    lost = sorted(p for p in ids if rows[p] >= 10)
    assert store.check().damaged_ids == lost and len(lost) == 20
    assert store.missing_photo_ids() == lost
    with pytest.raises(StoreDamaged, match="short"):
        store.verified()


def test_a_changed_vector_fails_its_checksum_and_is_rewritten_in_place(filled):
    store, ids = filled
    rows = dict(zip(*store.ids_and_rows()))
    victim = ids[7]
    with open(store.path, "r+b") as fh:  # one bit flipped in one stored vector
        fh.seek(int(rows[victim]) * DIM * 2 + 3)
        b = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([b[0] ^ 0x10]))
    assert store.check().bad_checksum == [victim]
    assert store.missing_photo_ids() == [victim]
    store.write([victim], vector_of(victim)[None], [f"sha{victim - 1}"])
    assert store.check().ok and dict(zip(*store.ids_and_rows()))[victim] == rows[victim]
    assert np.array_equal(store.get([victim], dtype=np.float16)[0], vector_of(victim))


def test_a_new_vector_for_a_valid_row_goes_to_a_new_row(filled):
    """Until the index commits, the old vector stays intact (a crash mid-write loses nothing)."""
    store, ids = filled
    before = dict(zip(*store.ids_and_rows()))
    store.write([ids[0]], vector_of(999)[None], ["other-bytes"])
    after = dict(zip(*store.ids_and_rows()))
    assert after[ids[0]] != before[ids[0]] and store.check().ok


def test_a_verified_store_is_not_read_again_until_something_changes(filled, monkeypatch):
    """A full check reads every vector (20 s at 400,000 photos): a fresh process trusts the stamp a
    passed check left, our own writes carry it forward, and any other change brings the check back."""
    import fluxcull.embedding.store as store_mod

    store, ids = filled
    store.verified()
    monkeypatch.setattr(store_mod, "_VERIFIED", {})  # as in a new process: only the stamp on disk
    reads = []
    real_check = EmbeddingStore.check
    monkeypatch.setattr(EmbeddingStore, "check", lambda self, **kw: reads.append(1) or real_check(self, **kw))
    assert store.verified() is store and reads == []
    assert store.missing_photo_ids() == [] and reads == []
    # a write through the store keeps the stamp valid (it recorded the checksums of what it wrote)
    store.write([ids[0]], vector_of(ids[0] + 1000)[None], [f"sha{ids[0] - 1}"])
    monkeypatch.setattr(store_mod, "_VERIFIED", {})
    assert store.verified() is store and reads == []
    # bytes changed behind its back: checked again, and refused
    rows = dict(zip(*store.ids_and_rows()))
    with open(store.path, "r+b") as fh:
        fh.seek(int(rows[ids[3]]) * DIM * 2 + 1)
        fh.write(b"\x7f")
    with pytest.raises(StoreDamaged, match="checksum"):
        store.verified()
    assert reads == [1]
