"""Ingest over generated photos: records, thumbnails, incremental runs, moves, resume, safety."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest
from PIL import Image

from fluxcull.catalog.decisions import decide
from fluxcull.ingest import job as job_module
from fluxcull.jobs import CancelToken, Cancelled
from fluxcull.media.thumbs import THUMB_SIZE, thumb_path
from tests.ingest_helpers import T0, ingest, make_shoot, snapshot
from tests.photogen import scene, write_jpeg


def _rows(conn):
    return {r["path"]: dict(r) for r in conn.execute("SELECT * FROM photos")}


def test_first_ingest_records_everything(library, conn, tmp_path):
    src = tmp_path / "originals"
    files = make_shoot(src, 4)
    (src / "R0000000.xmp").write_text("<x:xmpmeta/>")      # sidecar
    (src / "R0000000.THM").write_bytes(b"\xff\xd8")         # sidecar
    write_jpeg(src / ".hidden.jpg", seed=9)                 # hidden file
    write_jpeg(src / ".cache" / "x.jpg", seed=9)             # hidden folder
    s = ingest(library, [src])
    assert (s["scanned"], s["added"], s["updated"], s["unchanged"]) == (4, 4, 0, 0)
    assert s["errors"] == [] and s["skipped"] >= 4
    rows = _rows(conn)
    assert sorted(rows) == sorted(str(f) for f in files)
    r = rows[str(files[1])]
    assert r["status"] == "ok" and r["role"] == "originals" and r["format"] == "jpeg"
    assert (r["width"], r["height"]) == (640, 480)
    assert r["taken_at"] == "2023-04-01T09:05:00.10" and r["time_source"] == "exif"
    assert r["capture_time"] == pytest.approx(dt.datetime(2023, 4, 1, 9, 5, 0, 100000, dt.timezone.utc).timestamp())
    assert r["camera_model"] == "RICOH GR III" and r["original_filename"] == "R0000001.JPG"
    assert r["size"] == files[1].stat().st_size and r["mtime_ns"] == files[1].stat().st_mtime_ns
    import hashlib

    assert r["sha256"] == hashlib.sha256(files[1].read_bytes()).hexdigest()
    t = thumb_path(library, r["thumb_key"])
    with Image.open(t) as im:
        assert im.format == "JPEG" and im.size == (THUMB_SIZE, THUMB_SIZE * 3 // 4)


def test_thumbnail_orientation_and_draft(library, conn, tmp_path):
    p = write_jpeg(tmp_path / "in" / "rot.jpg", scene(1, (2400, 1800)), orientation=6)
    ingest(library, [tmp_path / "in"])
    r = conn.execute("SELECT * FROM photos").fetchone()
    assert (r["width"], r["height"], r["orientation"]) == (1800, 2400, 6)
    assert r["thumb_source"] == "jpeg-draft"
    with Image.open(thumb_path(library, r["thumb_key"])) as im:
        assert im.size == (THUMB_SIZE * 3 // 4, THUMB_SIZE)


def test_a_thumbnail_left_by_a_killed_ingest_keeps_its_source(library, conn, tmp_path):
    """An ingest killed after writing a photo's thumbnail but before committing its row leaves the
    thumbnail behind; the next ingest reuses it and records the source it was decoded from, as an
    uninterrupted ingest does (not "cached": the final row must not depend on when the kill came)."""
    from fluxcull.library import Library
    from fluxcull.media.thumbs import thumbnail_source

    big = write_jpeg(tmp_path / "in" / "big.jpg", scene(1, (2400, 1800)))
    small = write_jpeg(tmp_path / "in" / "small.jpg", scene(2, (640, 480)))
    ingest(library, [tmp_path / "in"])
    first = {r["path"]: (r["thumb_key"], r["thumb_source"]) for r in conn.execute("SELECT * FROM photos")}
    assert first[str(big)][1] == "jpeg-draft" and first[str(small)][1] == "decode"
    assert thumbnail_source(library, first[str(big)][0]) == "jpeg-draft"
    other = Library.open(tmp_path / "other")
    shutil.copytree(library.thumbs_dir, other.thumbs_dir, dirs_exist_ok=True)  # thumbnails, no rows
    ingest(other, [tmp_path / "in"])
    c = other.connect()
    try:
        again = {r[0]: (r[1], r[2]) for r in c.execute("SELECT path, thumb_key, thumb_source FROM photos")}
    finally:
        c.close()
    assert again == first
    # a thumbnail written before its file said where it came from: still reused, said "cached"
    plain = thumb_path(other, first[str(small)][0])
    with Image.open(plain) as im:
        older = im.convert("RGB")
    older.info.clear()  # Pillow would carry the comment over
    older.save(plain, "JPEG")
    assert thumbnail_source(other, first[str(small)][0]) is None


def test_no_exif_falls_back_to_mtime(library, conn, tmp_path):
    p = tmp_path / "in" / "plain.png"
    p.parent.mkdir()
    scene(2).save(p)
    os.utime(p, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    ingest(library, [p.parent])
    r = conn.execute("SELECT * FROM photos").fetchone()
    assert r["time_source"] == "mtime" and r["taken_at"] is None
    local = dt.datetime.fromtimestamp(1_600_000_000)
    assert r["capture_time"] == pytest.approx(local.replace(tzinfo=dt.timezone.utc).timestamp())


def test_sessions_by_gap(library, conn, tmp_path):
    src = tmp_path / "o"
    make_shoot(src / "a", 3, start=T0, seed0=0, gps=(10.0, 20.0))
    make_shoot(src / "b", 2, start=T0 + dt.timedelta(hours=3), seed0=10, gps=None)
    s = ingest(library, [src])
    assert s["sessions"] == 2
    ss = conn.execute("SELECT * FROM sessions ORDER BY start_time").fetchall()
    assert [x["photo_count"] for x in ss] == [3, 2]
    assert ss[0]["start_at"] == "2023-04-01T09:00:00" and ss[0]["end_at"] == "2023-04-01T09:10:00"
    assert ss[0]["gps_lat"] == pytest.approx(10.0001, abs=1e-6) and ss[0]["gps_lon"] == pytest.approx(20.0)
    assert ss[1]["gps_lat"] is None
    counts = conn.execute("SELECT session_id, COUNT(*) FROM photos GROUP BY session_id ORDER BY 1").fetchall()
    assert [c[1] for c in counts] == [3, 2]
    first_ids = [x["id"] for x in ss]
    # a wider gap merges them; the larger session keeps its id
    s = ingest(library, [src], session_gap_hours=4)
    ss2 = conn.execute("SELECT * FROM sessions").fetchall()
    assert len(ss2) == 1 and ss2[0]["photo_count"] == 5 and ss2[0]["id"] == first_ids[0]
    assert conn.execute("SELECT COUNT(DISTINCT session_id) FROM photos").fetchone()[0] == 1


def test_second_run_decodes_and_hashes_nothing(library, conn, tmp_path, monkeypatch):
    src = tmp_path / "o"
    make_shoot(src, 5)
    ingest(library, [src])

    def boom(tasks):
        raise AssertionError(f"re-processed {tasks}")

    monkeypatch.setattr(job_module, "process_many", boom)
    s = ingest(library, [src])
    assert (s["unchanged"], s["added"], s["updated"], s["errors"]) == (5, 0, 0, [])


def test_changed_file_is_updated_keeping_decision(library, conn, tmp_path):
    src = tmp_path / "o"
    files = make_shoot(src, 3)
    ingest(library, [src])
    pid, old_key = conn.execute("SELECT id, thumb_key FROM photos WHERE path = ?", (str(files[0]),)).fetchone()
    decide(conn, [pid], "keep", "test")
    write_jpeg(files[0], scene(99, (800, 600)), taken=T0)
    st = files[0].stat()
    os.utime(files[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    s = ingest(library, [src])
    assert (s["updated"], s["unchanged"], s["added"]) == (1, 2, 0)
    r = conn.execute("SELECT * FROM photos WHERE id = ?", (pid,)).fetchone()
    assert r["thumb_key"] != old_key and r["width"] == 800 and r["decision"] == "keep"
    assert thumb_path(library, r["thumb_key"]).is_file()


def test_moved_and_renamed_file_keeps_its_row(library, conn, tmp_path):
    src = tmp_path / "o"
    files = make_shoot(src, 3)
    ingest(library, [src])
    pid = conn.execute("SELECT id FROM photos WHERE path = ?", (str(files[2]),)).fetchone()[0]
    decide(conn, [pid], "reject", "test")
    new = src / "sub" / "renamed.jpg"
    new.parent.mkdir()
    os.rename(files[2], new)
    s = ingest(library, [src])
    assert (s["moved"], s["added"], s["missing"]) == (1, 0, 0)
    assert conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == 3
    r = conn.execute("SELECT * FROM photos WHERE id = ?", (pid,)).fetchone()
    assert r["path"] == str(new) and r["decision"] == "reject" and r["status"] == "ok"


def test_copy_is_a_new_photo_and_deleted_is_missing(library, conn, tmp_path):
    src = tmp_path / "o"
    files = make_shoot(src, 3)
    ingest(library, [src])
    shutil.copy2(files[0], src / "copy.jpg")
    files[1].unlink()
    s = ingest(library, [src])
    assert (s["added"], s["moved"], s["missing"]) == (1, 0, 1)
    r = conn.execute("SELECT status, sha256 FROM photos WHERE path = ?", (str(files[1]),)).fetchone()
    assert r["status"] == "missing" and r["sha256"]  # data kept
    # the missing file comes back somewhere else: recognised again
    write_jpeg(files[1], scene(1, (640, 480)), taken=T0 + dt.timedelta(minutes=5), subsec="10", gps=(48.8501, 2.35))
    s = ingest(library, [src])
    assert s["updated"] == 1 and conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == 4


def test_cancelled_ingest_resumes_without_duplicates(library, tmp_path, monkeypatch):
    src = tmp_path / "o"
    make_shoot(src, 10)
    monkeypatch.setattr(job_module, "BATCH_ROWS", 3)
    from fluxcull.ingest import ingest_job

    token = CancelToken()
    job = ingest_job(library, [str(src)], "originals", workers=1, cancel=token)
    with pytest.raises(Cancelled):
        for p in job:
            if p.stage == "ingest" and p.done >= 3:
                token.cancel()
    c = library.connect()
    committed = c.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
    assert 3 <= committed < 10
    assert c.execute("SELECT COUNT(*) FROM photos WHERE sha256 IS NULL OR thumb_key IS NULL").fetchone()[0] == 0
    s = ingest(library, [src])
    assert s["added"] == 10 - committed and s["unchanged"] == committed
    assert c.execute("SELECT COUNT(*), COUNT(DISTINCT path) FROM photos").fetchone()[:] == (10, 10)
    c.close()


def test_crash_midway_leaves_whole_rows_only(library, tmp_path, monkeypatch):
    """A failure while writing (like a kill) rolls back the open batch; the next run completes."""
    src = tmp_path / "o"
    make_shoot(src, 8)
    from fluxcull.ingest import records

    real = records._write_one
    calls = {"n": 0}

    def dying(conn, role, rec, counts):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt("killed")
        return real(conn, role, rec, counts)

    monkeypatch.setattr(job_module, "BATCH_ROWS", 4)
    monkeypatch.setattr(records, "_write_one", dying)
    with pytest.raises(KeyboardInterrupt):
        ingest(library, [src])
    monkeypatch.setattr(records, "_write_one", real)
    c = library.connect()
    assert c.execute("SELECT COUNT(*) FROM photos").fetchone()[0] == 4
    s = ingest(library, [src])
    assert (s["added"], s["unchanged"]) == (4, 4)
    assert c.execute("SELECT COUNT(DISTINCT sha256) FROM photos").fetchone()[0] == 8
    c.close()


def test_parallel_matches_serial(library, tmp_path):
    src = tmp_path / "o"
    make_shoot(src, job_module.SERIAL_BELOW + 2)
    s = ingest(library, [src], workers=2)
    assert s["workers"] == 2 and s["added"] == job_module.SERIAL_BELOW + 2 and s["errors"] == []
    c = library.connect()
    par = {r[0]: tuple(r[1:]) for r in c.execute("SELECT path, sha256, taken_at, width, thumb_key FROM photos")}
    c.close()
    from fluxcull.library import Library

    lib2 = Library.open(tmp_path / "lib2")
    ingest(lib2, [src], workers=1)
    c2 = lib2.connect()
    ser = {r[0]: tuple(r[1:]) for r in c2.execute("SELECT path, sha256, taken_at, width, thumb_key FROM photos")}
    c2.close()
    assert par == ser


def test_ingested_folders_are_never_written(library, tmp_path):
    src = tmp_path / "o"
    make_shoot(src / "a", 4)
    make_shoot(src / "b", 2, seed0=20)
    (src / "a" / "R0000000.xmp").write_text("<x/>")
    (src / "bad.jpg").write_bytes(b"not a jpeg")
    before = snapshot(src)
    ingest(library, [src])
    assert snapshot(src) == before
    os.rename(src / "b" / "R0000020.JPG", src / "b" / "moved.JPG")
    before2 = snapshot(src)
    ingest(library, [src], workers=2)
    ingest(library, [src])
    assert snapshot(src) == before2
    assert set(before) - {str(src / "b" / "R0000020.JPG")} == set(before2) - {str(src / "b" / "moved.JPG")}


def test_role_change_relabels_without_reprocessing(library, conn, tmp_path):
    src = tmp_path / "x"
    make_shoot(src, 2)
    ingest(library, [src], role="inbox")
    s = ingest(library, [src], role="originals")
    assert s["updated"] == 2
    assert {r[0] for r in conn.execute("SELECT role FROM photos")} == {"originals"}
    assert conn.execute("SELECT COUNT(*) FROM sessions WHERE role = 'inbox'").fetchone()[0] == 0


def test_bad_role_and_missing_path(library, tmp_path):
    with pytest.raises(ValueError):
        ingest(library, [tmp_path], role="favourites")
    with pytest.raises(FileNotFoundError):
        ingest(library, [tmp_path / "nope"])


def _die_on_13(tasks):
    out = []
    for t in tasks:
        if t == 13:
            os._exit(3)  # what a segfault in a decoder looks like to the pool
        out.append(t * 2)
    return out


def test_stage_survives_a_worker_crash():
    from fluxcull.ingest.pipeline import Stage, chunked

    stage = Stage(_die_on_13, workers=2, crash_result=lambda t: ("crashed", t))
    results = list(stage.run(chunked(list(range(20)), lambda t: 1, max_items=4)))
    assert sorted(r for r in results if isinstance(r, int)) == [2 * i for i in range(20) if i != 13]
    assert [r for r in results if isinstance(r, tuple)] == [("crashed", 13)]
