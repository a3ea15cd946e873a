"""Keeper matching on catalog rows written directly, with synthetic embeddings: every rule of the README's "Linking the keeper archive"."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from fluxcull.catalog import transaction
from fluxcull.embedding.store import EmbeddingStore
from fluxcull.jobs import run_job
from fluxcull.matching import link, match_job, match_summary, review_queue, unlink
from fluxcull.matching.names import camera_stems, parse_taken, stem_key

DIM = 64


class Cat:
    """Writes photos rows and embeddings the way ingest and embed would."""

    def __init__(self, library, conn):
        self.lib, self.conn = library, conn
        self.rng = np.random.default_rng(7)
        self.store = None
        self.vecs: dict[int, np.ndarray] = {}

    def add(self, path, role, *, sha=None, taken=None, model=None, ofn=None, size=1000) -> int:
        capture, source = None, None
        if taken:
            second = dt.datetime.strptime(taken[:19], "%Y-%m-%dT%H:%M:%S")
            capture = second.replace(tzinfo=dt.timezone.utc).timestamp()
            source = "exif"
        with transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO photos(path, role, size, mtime_ns, sha256, taken_at, capture_time, time_source,"
                " camera_model, original_filename) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                (path, role, size, sha or f"sha-{path}", taken, capture, source, model,
                 ofn if ofn is not None else path.rsplit("/", 1)[-1]),
            )
        return cur.lastrowid

    def unit(self) -> np.ndarray:
        v = self.rng.normal(size=DIM)
        return v / np.linalg.norm(v)

    def near(self, v: np.ndarray, cos: float) -> np.ndarray:
        """A unit vector with exactly cosine `cos` to v."""
        u = self.rng.normal(size=DIM)
        u -= u.dot(v) * v
        u /= np.linalg.norm(u)
        return cos * v + np.sqrt(1 - cos * cos) * u

    def embed(self, pid: int, vec: np.ndarray) -> None:
        if self.store is None:
            self.store = EmbeddingStore(self.conn, self.lib.embeddings_dir, "test-backbone", DIM)
        self.store.write([pid], vec[None, :].astype(np.float32))
        self.vecs[pid] = vec

    def match(self, **kw) -> dict:
        return run_job(match_job(self.lib, **kw))

    def link_of(self, keeper_id):
        return self.conn.execute("SELECT * FROM keeper_links WHERE keeper_id = ?", (keeper_id,)).fetchone()

    def state_of(self, keeper_id):
        return self.conn.execute("SELECT * FROM keeper_match_state WHERE keeper_id = ?", (keeper_id,)).fetchone()

    def score(self, pid):
        return self.conn.execute("SELECT keeper_score FROM photos WHERE id = ?", (pid,)).fetchone()[0]


@pytest.fixture
def cat(library, conn):
    return Cat(library, conn)


# -- names and times ---------------------------------------------------------------------------

def test_camera_stems_found_inside_keeper_names():
    assert "r0001234" in camera_stems("2021-04-03_R0001234_edit.jpg")
    assert "img_1234" in camera_stems("IMG_1234-Edit-2.jpg")
    assert "dsc01234" in camera_stems("DSC01234 copy.tif")
    assert "img_20180725_163423" in camera_stems("IMG_20180725_163423-tiny.jpg")
    assert "r0001234" in camera_stems("2021-04-03 R0001234 (bw).jpg")
    assert camera_stems("holiday-edit.jpg") == ["holiday-edit"]  # only the whole stem itself
    assert stem_key("/x/_DSC0001.NEF") == stem_key("DSC0001.jpg") == "dsc0001"


def test_parse_taken_normalises_formats_and_subseconds():
    assert parse_taken("2019-05-25T13:04:00.60+02:00") == ("2019-05-25T13:04:00", "6")
    assert parse_taken("2019:05:25 13:04:00") == ("2019-05-25T13:04:00", None)
    assert parse_taken("0000:00:00 00:00:00") is None
    assert parse_taken(None) is None


# -- 1. capture time -------------------------------------------------------------------------

def test_unique_capture_time_links_and_confirms_the_original(cat):
    o1 = cat.add("/O/R0000001.JPG", "originals", taken="2021-04-03T10:00:00", model="GR III")
    cat.add("/O/R0000002.JPG", "originals", taken="2021-04-03T10:00:05", model="GR III")
    k = cat.add("/K/sunset_final.jpg", "keepers", taken="2021-04-03T10:00:00", model="GR III")
    s = cat.match()
    row = cat.link_of(k)
    assert row["original_id"] == o1 and row["method"] == "timestamp" and row["needs_review"] == 0
    assert json.loads(row["evidence"])["timestamp_candidates"] == 1
    assert cat.score(o1) == 1.0
    assert s["linked"] == {"timestamp": 1} and s["review"] == 0 and s["unmatched"] == 0
    assert s["similarity"].startswith("skipped")  # no embeddings at all: said so


def test_subseconds_and_camera_model_split_a_shared_second(cat):
    a = cat.add("/O/6.jpg", "originals", taken="2019-05-25T13:04:00.60", model="Canon EOS 70D")
    b = cat.add("/O/7.jpg", "originals", taken="2019-05-25T13:04:00.76", model="Canon EOS 70D")
    c = cat.add("/O/other.jpg", "originals", taken="2019-05-25T13:04:00", model="ILCE-7M3")
    ka = cat.add("/K/a.jpg", "keepers", taken="2019-05-25T13:04:00.60", model="Canon EOS 70D")
    kb = cat.add("/K/b.jpg", "keepers", taken="2019-05-25T13:04:00.760", model="Canon EOS 70D")
    kc = cat.add("/K/c.jpg", "keepers", taken="2019-05-25T13:04:00", model="ILCE-7M3")
    cat.match()
    assert cat.link_of(ka)["original_id"] == a
    assert cat.link_of(kb)["original_id"] == b
    assert cat.link_of(kc)["original_id"] == c


def test_shared_capture_time_is_never_picked_silently(cat):
    a = cat.add("/O/burst1.jpg", "originals", taken="2020-08-19T10:13:01", model="X")
    b = cat.add("/O/burst2.jpg", "originals", taken="2020-08-19T10:13:01", model="X")
    k = cat.add("/K/export.jpg", "keepers", taken="2020-08-19T10:13:01", model="X")
    s = cat.match()
    assert cat.link_of(k) is None
    st = cat.state_of(k)
    assert st["status"] == "review" and "shared by 2" in st["reason"]
    assert {c["original_id"] for c in json.loads(st["candidates"])} == {a, b}
    assert s["review"] == 1 and s["linked"] == {}
    assert cat.score(a) is None and cat.score(b) is None


def test_shared_capture_time_resolved_by_content_with_a_margin(cat):
    base = cat.unit()
    a = cat.add("/O/b1.jpg", "originals", taken="2020-08-19T10:13:01", model="X")
    b = cat.add("/O/b2.jpg", "originals", taken="2020-08-19T10:13:01", model="X")
    cat.embed(a, base)
    cat.embed(b, cat.near(base, 0.97))             # the next frame of the burst
    k = cat.add("/K/e.jpg", "keepers", taken="2020-08-19T10:13:01", model="X")
    cat.embed(k, cat.near(base, 0.995))             # a re-export of frame a
    k2 = cat.add("/K/e2.jpg", "keepers", taken="2020-08-19T10:13:01", model="X")
    mid = cat.near(base, 0.9925)
    cat.embed(k2, mid)
    cat.match()
    row = cat.link_of(k)
    assert row["original_id"] == a and row["method"] == "timestamp" and row["needs_review"] == 0
    assert json.loads(row["evidence"])["resolved_by"] == "similarity"
    sims = [float(mid @ cat.vecs[o]) for o in (a, b)]
    if abs(sims[0] - sims[1]) < 0.01:  # too alike: review, not a pick
        assert cat.link_of(k2) is None and cat.state_of(k2)["status"] == "review"


def test_capture_time_contradicted_by_content_goes_to_review(cat):
    o = cat.add("/O/x.jpg", "originals", taken="2022-01-01T12:00:00")
    cat.embed(o, cat.unit())
    k = cat.add("/K/y.jpg", "keepers", taken="2022-01-01T12:00:00")
    cat.embed(k, cat.unit())  # a different picture at the same second (another camera, original absent)
    cat.match()
    assert cat.link_of(k) is None
    st = cat.state_of(k)
    assert st["status"] == "review" and "content differs" in st["reason"]


# -- 2. camera file name ---------------------------------------------------------------------

def test_camera_name_confirmed_by_date_and_reused_numbers_rejected(cat):
    old = cat.add("/O/2019/R0001234.JPG", "originals", taken="2019-02-01T09:00:00")
    new = cat.add("/O/2021/R0001234.JPG", "originals", taken="2021-04-03T10:00:00")
    # the keeper's time was shifted by a time zone fix: no exact capture time match
    k = cat.add("/K/2021-04-03_R0001234_edit.jpg", "keepers", taken="2021-04-03T12:00:00")
    cat.match()
    row = cat.link_of(k)
    assert row["original_id"] == new and row["method"] == "filename" and row["needs_review"] == 0
    ev = json.loads(row["evidence"])
    assert ev["filename"] == "r0001234" and ev["date_delta_h"] == 2.0
    assert cat.score(old) is None


def test_camera_name_confirmed_by_content_when_metadata_is_stripped(cat):
    v_old, v_new = cat.unit(), cat.unit()
    old = cat.add("/O/2019/R0001234.JPG", "originals", taken="2019-02-01T09:00:00")
    new = cat.add("/O/2021/R0001234.JPG", "originals", taken="2021-04-03T10:00:00")
    cat.embed(old, v_old)
    cat.embed(new, v_new)
    k = cat.add("/K/2021-04-03_R0001234_bw.jpg", "keepers")  # no EXIF at all
    cat.embed(k, cat.near(v_new, 0.93))                        # black and white: not near-identical
    cat.match()
    row = cat.link_of(k)
    assert row["original_id"] == new and row["method"] == "filename" and row["needs_review"] == 0


def test_camera_name_alone_is_only_proposed(cat):
    a = cat.add("/O/R0005678.JPG", "originals", taken="2020-01-01T00:00:00")
    k = cat.add("/K/R0005678.jpg", "keepers")  # stripped, no embeddings anywhere
    b1 = cat.add("/O/c1/R0000042.JPG", "originals")
    cat.add("/O/c2/R0000042.JPG", "originals")
    k2 = cat.add("/K/R0000042-2.jpg", "keepers")
    cat.match()
    row = cat.link_of(k)
    assert row["original_id"] == a and row["needs_review"] == 1 and row["method"] == "filename"
    assert cat.state_of(k)["status"] == "review" and "recur" in cat.state_of(k)["reason"]
    assert cat.score(a) is None  # not confirmed until a person says so
    assert cat.link_of(k2) is None and cat.state_of(k2)["status"] == "review"
    assert b1 in {c["original_id"] for c in json.loads(cat.state_of(k2)["candidates"])}


def test_embedded_original_name_is_used(cat):
    o = cat.add("/O/DSCF4242.RAF", "originals", taken="2023-03-03T03:03:03")
    k = cat.add("/K/portrait.jpg", "keepers", ofn="DSCF4242.RAF", taken="2023-03-03T05:03:03")
    cat.match()
    assert cat.link_of(k)["original_id"] == o and cat.link_of(k)["method"] == "filename"


# -- 3. SHA-256 --------------------------------------------------------------------------------

def test_identical_bytes_are_definitive(cat):
    o = cat.add("/O/IMG_0001.JPG", "originals", sha="abc", taken="2020-01-01T10:00:00")
    cat.add("/O/IMG_0002.JPG", "originals", sha="def", taken="2020-01-01T11:00:00")
    k = cat.add("/K/renamed.jpg", "keepers", sha="abc")
    # bytes outrank a capture time that points elsewhere
    k2 = cat.add("/K/IMG_0002 copy.jpg", "keepers", sha="abc", taken="2020-01-01T11:00:00")
    cat.match()
    assert cat.link_of(k)["original_id"] == o and cat.link_of(k)["method"] == "sha256"
    row = cat.link_of(k2)
    assert row["original_id"] == o and row["method"] == "sha256" and row["needs_review"] == 0
    assert "overruled" in json.loads(row["evidence"])


# -- 4. similarity ------------------------------------------------------------------------------

def test_similarity_fallback_thresholds(cat):
    origs = []
    for i in range(40):
        o = cat.add(f"/O/P{i:07d}.JPG", "originals", taken=f"2020-01-01T10:{i:02d}:00")
        cat.embed(o, cat.unit())
        origs.append(o)
    sure = cat.add("/K/a.jpg", "keepers")
    cat.embed(sure, cat.near(cat.vecs[origs[3]], 0.995))
    doubtful = cat.add("/K/b.jpg", "keepers")
    cat.embed(doubtful, cat.near(cat.vecs[origs[4]], 0.985))
    none = cat.add("/K/c.jpg", "keepers")
    cat.embed(none, cat.near(cat.vecs[origs[5]], 0.9))
    absent = cat.add("/K/d.jpg", "keepers")
    cat.embed(absent, cat.unit())
    s = cat.match()
    r = cat.link_of(sure)
    assert r["original_id"] == origs[3] and r["method"] == "similarity" and r["needs_review"] == 0
    assert r["similarity"] == pytest.approx(0.995, abs=2e-3)
    r = cat.link_of(doubtful)
    assert r["original_id"] == origs[4] and r["needs_review"] == 1
    assert cat.state_of(doubtful)["status"] == "review"
    for k, best in ((none, origs[5]), (absent, None)):
        assert cat.link_of(k) is None
        st = cat.state_of(k)
        assert st["status"] == "unmatched" and "similar enough" in st["reason"]
        cands = json.loads(st["candidates"])
        assert len(cands) == 5
        if best:
            assert cands[0]["original_id"] == best
    assert s["linked"] == {"similarity": 1} and s["review"] == 1 and s["unmatched"] == 2
    assert cat.score(origs[3]) == 1.0 and cat.score(origs[4]) is None
    assert s["similarity_searched"] == 4


def test_near_identical_frames_are_not_linked_by_similarity(cat):
    base = cat.unit()
    a = cat.add("/O/f1.jpg", "originals")
    b = cat.add("/O/f2.jpg", "originals")
    cat.embed(a, base)
    cat.embed(b, cat.near(base, 0.999))
    k = cat.add("/K/stripped.jpg", "keepers")
    cat.embed(k, cat.near(base, 0.995))
    cat.match()
    row = cat.link_of(k)
    assert row is not None and row["needs_review"] == 1
    assert "near-identical" in cat.state_of(k)["reason"]
    assert cat.score(a) is None and cat.score(b) is None


def test_keeper_without_embedding_is_unmatched_and_says_why(cat):
    o = cat.add("/O/x.jpg", "originals")
    cat.embed(o, cat.unit())
    k = cat.add("/K/y.jpg", "keepers")
    cat.match()
    st = cat.state_of(k)
    assert st["status"] == "unmatched" and "no embedding" in st["reason"]


# -- links, manual decisions, incremental runs -------------------------------------------------

def test_one_original_can_have_several_keepers(cat):
    o = cat.add("/O/R0000777.JPG", "originals", taken="2021-05-05T05:05:05")
    k1 = cat.add("/K/R0000777_color.jpg", "keepers", taken="2021-05-05T05:05:05")
    k2 = cat.add("/K/R0000777_bw.jpg", "keepers", taken="2021-05-05T05:05:05")
    s = cat.match()
    assert cat.link_of(k1)["original_id"] == o and cat.link_of(k2)["original_id"] == o
    assert s["confirmed_originals"] == 1 and s["linked_total"] == 2


def test_manual_link_and_unlink_are_logged_and_survive_automatic_runs(cat):
    o1 = cat.add("/O/a.jpg", "originals", taken="2021-01-01T00:00:00")
    o2 = cat.add("/O/b.jpg", "originals", taken="2021-01-01T00:00:09")
    k = cat.add("/K/k.jpg", "keepers", taken="2021-01-01T00:00:00")
    cat.match()
    assert cat.link_of(k)["original_id"] == o1 and cat.score(o1) == 1.0
    link(cat.conn, k, o2, source="test")
    assert cat.score(o2) == 1.0 and cat.score(o1) is None  # o1 lost its only confirmed link
    s = cat.match(redo_all=True)
    row = cat.link_of(k)
    assert row["original_id"] == o2 and row["manual"] == 1 and row["method"] == "manual"
    assert s["manual"] == 1 and s["processed"] == 0 and s["linked"] == {"manual": 1}
    unlink(cat.conn, k, source="test")
    assert cat.link_of(k)["original_id"] is None and cat.score(o2) is None
    cat.match(redo_all=True)
    assert cat.link_of(k)["original_id"] is None and cat.link_of(k)["manual"] == 1
    ev = cat.conn.execute(
        "SELECT kind, photo_id, other_photo_id, source FROM decision_events ORDER BY id").fetchall()
    assert [tuple(e) for e in ev] == [("link", k, o2, "test"), ("unlink", k, o2, "test")]
    with pytest.raises(ValueError):
        link(cat.conn, o1, k)  # roles swapped
    assert review_queue(cat.conn) == []


def test_a_kept_original_keeps_its_score_when_unlinked(cat):
    o = cat.add("/O/a.jpg", "originals", taken="2021-01-01T00:00:00")
    k = cat.add("/K/k.jpg", "keepers", taken="2021-01-01T00:00:00")
    cat.match()
    with transaction(cat.conn):
        cat.conn.execute("UPDATE photos SET decision = 'keep' WHERE id = ?", (o,))
    unlink(cat.conn, k)
    assert cat.score(o) == 1.0


def test_incremental_runs_redo_only_new_changed_or_open_keepers(cat):
    cat.add("/O/a.jpg", "originals", taken="2021-01-01T00:00:00")
    k1 = cat.add("/K/a.jpg", "keepers", taken="2021-01-01T00:00:00")
    k2 = cat.add("/K/b.jpg", "keepers", taken="2021-06-01T00:00:00")
    s = cat.match()
    assert s["processed"] == 2 and cat.state_of(k2)["status"] == "unmatched"
    s = cat.match()
    assert s["processed"] == 0 and s["unchanged"] == 2
    # the missing session gets imported: the unmatched keeper is retried
    o2 = cat.add("/O/b.jpg", "originals", taken="2021-06-01T00:00:00")
    s = cat.match()
    assert s["processed"] == 1 and cat.link_of(k2)["original_id"] == o2
    # a keeper re-exported (new bytes) is matched again
    with transaction(cat.conn):
        cat.conn.execute("UPDATE photos SET sha256 = 'new', taken_at = '2021-06-01T00:00:00' WHERE id = ?", (k1,))
    s = cat.match()
    assert s["processed"] == 1 and cat.link_of(k1)["original_id"] == o2
    s = cat.match(redo_all=True)
    assert s["processed"] == 2


def test_deleted_original_frees_its_keeper(cat):
    o = cat.add("/O/a.jpg", "originals", taken="2021-01-01T00:00:00")
    k = cat.add("/K/a.jpg", "keepers", taken="2021-01-01T00:00:00")
    cat.match()
    with transaction(cat.conn):
        cat.conn.execute("DELETE FROM photos WHERE id = ?", (o,))
    s = cat.match()
    assert s["processed"] == 1 and cat.state_of(k)["status"] == "unmatched"


def test_summary_and_review_queue_contents(cat):
    o = cat.add("/O/a.jpg", "originals", taken="2021-01-01T00:00:00")
    cat.add("/O/b1.jpg", "originals", taken="2021-01-02T00:00:00")
    cat.add("/O/b2.jpg", "originals", taken="2021-01-02T00:00:00")
    k1 = cat.add("/K/a.jpg", "keepers", taken="2021-01-01T00:00:00")
    k2 = cat.add("/K/b.jpg", "keepers", taken="2021-01-02T00:00:00")
    k3 = cat.add("/K/c.jpg", "keepers")
    cat.match()
    s = match_summary(cat.conn)
    assert [(l["keeper"], l["original"], l["method"]) for l in s["links"]] == [("/K/a.jpg", "/O/a.jpg", "timestamp")]
    q = review_queue(cat.conn)
    assert [(e["keeper_id"], e["status"]) for e in q] == [(k2, "review"), (k3, "unmatched")]
    assert q[0]["proposed"] is None and {c["original"] for c in q[0]["candidates"]} == {"/O/b1.jpg", "/O/b2.jpg"}
    assert s["unmatched_keepers"][0]["keeper"] == "/K/c.jpg"
    assert o and k1


def test_byte_identical_originals_sharing_a_time_count_as_one(cat):
    o1 = cat.add("/O/IMG_4120.JPG", "originals", sha="same", taken="2019-06-09T12:57:32.835", model="iPhone SE")
    o2 = cat.add("/O/IMG_4120 copy.JPG", "originals", sha="same", taken="2019-06-09T12:57:32.835", model="iPhone SE")
    k = cat.add("/K/IMG_E4120.JPG", "keepers", taken="2019-06-09T12:57:32.835", model="iPhone SE")
    cat.match()
    row = cat.link_of(k)
    assert row["original_id"] == o1 and row["method"] == "timestamp" and row["needs_review"] == 0
    assert json.loads(row["evidence"])["identical_originals"] == [o1, o2]


def test_links_made_before_embeddings_are_checked_once_they_exist(cat):
    o = cat.add("/O/a.jpg", "originals", taken="2021-01-01T00:00:00")
    k = cat.add("/K/a.jpg", "keepers", taken="2021-01-01T00:00:00")
    k2 = cat.add("/K/b.jpg", "keepers", taken="2021-01-01T00:00:00")
    cat.match()
    assert cat.link_of(k)["original_id"] == o and cat.link_of(k)["similarity"] is None
    v = cat.unit()
    cat.embed(o, v)
    cat.embed(k, cat.near(v, 0.97))
    cat.embed(k2, cat.unit())  # the same second, but another picture
    s = cat.match()
    assert s["processed"] == 2
    assert cat.link_of(k)["similarity"] == pytest.approx(0.97, abs=2e-3) and cat.link_of(k)["needs_review"] == 0
    assert cat.link_of(k2) is None and cat.state_of(k2)["status"] == "review"
    assert cat.match()["processed"] == 0


def test_a_cancelled_run_writes_nothing(cat):
    from fluxcull.jobs import CancelToken, Cancelled

    cat.add("/O/a.jpg", "originals", taken="2021-01-01T00:00:00")
    k = cat.add("/K/a.jpg", "keepers", taken="2021-01-01T00:00:00")
    token = CancelToken()
    job = match_job(cat.lib, cancel=token)
    next(job)
    token.cancel()
    with pytest.raises(Cancelled):
        run_job(job)
    assert cat.link_of(k) is None and cat.state_of(k) is None
    assert cat.match()["processed"] == 1 and cat.link_of(k) is not None


def test_reused_camera_number_of_another_date_leaves_the_keeper_unmatched(cat):
    cat.add("/O/2019/R0001234.JPG", "originals", taken="2019-02-01T09:00:00")
    cat.add("/O/2020/R0001234.JPG", "originals", taken="2020-06-01T09:00:00")
    k = cat.add("/K/2023-01-01_R0001234_edit.jpg", "keepers", taken="2023-01-01T10:00:00")
    s = cat.match()
    st = cat.state_of(k)
    assert cat.link_of(k) is None and st["status"] == "unmatched"
    assert "numbers recur" in st["reason"] and s["unmatched"] == 1
    assert len(json.loads(st["candidates"])) == 2  # both listed for a person to look at


def test_new_keepers_do_not_redo_others_but_a_new_keeper_embedding_does(cat):
    v = cat.unit()
    o = cat.add("/O/a.jpg", "originals")
    cat.embed(o, v)
    k1 = cat.add("/K/export.jpg", "keepers")  # stripped, not embedded yet
    k2 = cat.add("/K/lost.jpg", "keepers")
    cat.embed(k2, cat.unit())
    s = cat.match()
    assert s["processed"] == 2 and cat.state_of(k1)["status"] == "unmatched"
    k3 = cat.add("/K/new.jpg", "keepers")
    cat.embed(k3, cat.unit())
    assert cat.match()["processed"] == 1  # only the new keeper
    cat.embed(k1, cat.near(v, 0.995))
    s = cat.match()
    assert s["processed"] == 1 and cat.link_of(k1)["original_id"] == o
