import numpy as np
import pytest

from fluxcull.catalog import transaction
from fluxcull.catalog.decisions import active_preferences, decide, prefer, undo_last
from fluxcull.embedding.store import EmbeddingStore


def _photos(conn, n):
    with transaction(conn):
        for i in range(n):
            conn.execute(
                "INSERT INTO photos(path, role, size, mtime_ns, sha256) VALUES (?, 'originals', 1, 1, ?)",
                (f"/p{i}.jpg", f"sha{i}"),
            )
    return [r[0] for r in conn.execute("SELECT id FROM photos ORDER BY id")]


def test_decide_and_undo_restore_previous_state(conn):
    a, b = _photos(conn, 2)
    decide(conn, [a], "keep", "test")
    decide(conn, [a, b], "reject", "test")
    assert [r[0] for r in conn.execute("SELECT decision FROM photos ORDER BY id")] == ["reject", "reject"]
    undo = undo_last(conn, "test")
    assert undo["photo_id"] == b and undo["restored"] == "none"
    undo_last(conn, "test")
    assert conn.execute("SELECT decision FROM photos WHERE id = ?", (a,)).fetchone()[0] == "keep"
    undo_last(conn, "test")
    assert conn.execute("SELECT decision FROM photos WHERE id = ?", (a,)).fetchone()[0] == "none"
    assert undo_last(conn, "test") is None
    kinds = [r[0] for r in conn.execute("SELECT kind FROM decision_events ORDER BY id")]
    assert kinds == ["keep", "reject", "reject", "undo", "undo", "undo"]


def test_prefer_and_undo_of_a_preference(conn):
    a, b, c = _photos(conn, 3)
    prefer(conn, a, b, "compare")
    prefer(conn, c, a, "compare")
    assert active_preferences(conn) == [(a, b), (c, a)]
    undo_last(conn, "compare")
    assert active_preferences(conn) == [(a, b)]
    with pytest.raises(ValueError):
        prefer(conn, a, a, "compare")
    with pytest.raises(KeyError):
        prefer(conn, a, 999, "compare")


def test_store_writes_reads_and_tracks_changed_files(library, conn):
    ids = _photos(conn, 5)
    store = EmbeddingStore(conn, library.embeddings_dir, "test-bb", 8)
    assert store.missing_photo_ids() == ids
    vecs = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    store.write(ids[:3], vecs[:3])
    assert store.missing_photo_ids() == ids[3:]
    store.write(ids[3:], vecs[3:])
    got = store.get([ids[4], ids[0]])
    np.testing.assert_allclose(got, vecs[[4, 0]], rtol=1e-2, atol=1e-3)
    # a changed file (new sha256) needs a new embedding; rewriting keeps its row
    with transaction(conn):
        conn.execute("UPDATE photos SET sha256 = 'changed' WHERE id = ?", (ids[1],))
    assert store.missing_photo_ids() == [ids[1]]
    store.write([ids[1]], vecs[[2]])
    assert store.count() == 5
    np.testing.assert_allclose(store.get([ids[1]]), vecs[[2]], rtol=1e-2, atol=1e-3)
    with pytest.raises(KeyError):
        store.get([12345])


def test_store_row_without_committed_index_is_not_counted(library, conn):
    ids = _photos(conn, 2)
    store = EmbeddingStore(conn, library.embeddings_dir, "bb", 4)
    store.write([ids[0]], np.ones((1, 4)))
    # simulate a crash after the data write: bytes beyond the index exist, no index row
    with open(store.path, "r+b") as fh:
        fh.seek(1 * 4 * 2)
        fh.write(np.full(4, 7, np.float16).tobytes())
    assert store.missing_photo_ids() == [ids[1]]
    store.write([ids[1]], np.full((1, 4), 2.0))
    np.testing.assert_allclose(store.get(ids), [[1] * 4, [2] * 4])
