"""Every kind of bad input is recorded with a reason a person can act on; the run goes on."""

from __future__ import annotations

import builtins
import datetime as dt
import os
import struct
import zlib

import numpy as np
import pytest

from fluxcull.cli import main
from fluxcull.ingest import worker
from tests.ingest_helpers import ingest, make_shoot, snapshot
from tests.photogen import scene, write_jpeg


def _bomb_png(path):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 99))
                     + chunk(b"IEND", b""))


@pytest.fixture
def bad_folder(tmp_path):
    d = tmp_path / "shoot"
    good = make_shoot(d, 3)
    (d / "zero.jpg").write_bytes(b"")
    full = write_jpeg(d / "tmp_full.jpg", scene(7, (900, 600))).read_bytes()
    (d / "tmp_full.jpg").unlink()
    (d / "truncated.jpg").write_bytes(full[: len(full) // 2])
    (d / "notes.jpg").write_text("shopping list: milk, film\n")
    _bomb_png(d / "bomb.png")
    (d / "garbage.dng").write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    os.symlink(d / "gone.jpg", d / "broken-link.jpg")
    os.symlink(d / "loop-b.jpg", d / "loop-a.jpg")
    os.symlink(d / "loop-a.jpg", d / "loop-b.jpg")
    os.symlink(d, d / "folder-loop")  # a directory symlink loop must not hang the scan
    write_jpeg(d / "ünïcödé naïve 写真.jpg", seed=8, taken=dt.datetime(2023, 4, 1, 9, 2))
    data = bytearray(write_jpeg(d / "corrupt-exif.jpg", seed=9, taken=dt.datetime(2023, 4, 1, 9, 3)).read_bytes())
    j = data.find(b"\xff\xe1")
    end = j + 2 + int.from_bytes(data[j + 2 : j + 4], "big")
    for k in range(j + 18, end):  # keep the TIFF header, scramble the IFDs, stay inside the segment
        data[k] = 0x0D
    (d / "corrupt-exif.jpg").write_bytes(bytes(data))
    write_jpeg(d / "unreadable.jpg", seed=10)
    return d, good


def _deny(monkeypatch, name):
    real_open = builtins.open

    def fake_open(path, *a, **kw):
        if os.fspath(path).endswith(name):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *a, **kw)

    monkeypatch.setattr(worker, "open", fake_open, raising=False)


EXPECTED = {
    "zero.jpg": "empty file",
    "truncated.jpg": "truncated",
    "notes.jpg": "not an image",
    "bomb.png": "safety limit",
    "garbage.dng": "LibRaw cannot",
    "broken-link.jpg": "broken symbolic link",
    "loop-a.jpg": "symbolic link loop",
    "loop-b.jpg": "symbolic link loop",
    "unreadable.jpg": "permission denied",
}


def test_each_bad_file_is_named_with_its_reason(library, conn, bad_folder, monkeypatch):
    d, good = bad_folder
    _deny(monkeypatch, "unreadable.jpg")
    before = snapshot(d)
    s = ingest(library, [d])
    reasons = {os.path.basename(e["path"]): e["reason"] for e in s["errors"]}
    assert set(reasons) == set(EXPECTED)
    for name, needle in EXPECTED.items():
        assert needle in reasons[name], (name, reasons[name])
    ok = {os.path.basename(r[0]) for r in conn.execute("SELECT path FROM photos WHERE status = 'ok'")}
    assert ok == {p.name for p in good} | {"ünïcödé naïve 写真.jpg", "corrupt-exif.jpg"}
    errs = {os.path.basename(r[0]): r[1] for r in conn.execute("SELECT path, error FROM photos WHERE status = 'error'")}
    assert errs == reasons
    assert [os.path.basename(w["path"]) for w in s["warnings"]] == ["corrupt-exif.jpg"]
    r = conn.execute("SELECT time_source, error FROM photos WHERE path LIKE '%corrupt-exif.jpg'").fetchone()
    assert r["time_source"] == "mtime" and "damaged EXIF" in r["error"]
    assert snapshot(d) == before

    # unchanged broken files are not re-read; the access problems are retried
    s2 = ingest(library, [d])
    assert {os.path.basename(e["path"]) for e in s2["errors"]} == {
        "broken-link.jpg", "loop-a.jpg", "loop-b.jpg", "unreadable.jpg"}
    monkeypatch.undo()
    s3 = ingest(library, [d])
    assert "unreadable.jpg" not in {os.path.basename(e["path"]) for e in s3["errors"]}
    assert conn.execute("SELECT status FROM photos WHERE path LIKE '%unreadable.jpg'").fetchone()[0] == "ok"


def test_cli_exit_status_says_some_files_failed(library, bad_folder, capsys):
    d, _ = bad_folder
    import json

    rc = main(["ingest", str(d), "--role", "inbox", "--json", "--workers", "1"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and len(out["errors"]) == len(EXPECTED) - 1  # not denied here
    assert out["added"] == out["scanned"]
    good = tuple(write_jpeg(d / "clean" / f"{i}.jpg", seed=i) for i in range(2))
    rc = main(["ingest", str(d / "clean"), "--role", "inbox"])
    assert rc == 0 and "added 2" in capsys.readouterr().out


def test_good_row_that_breaks_keeps_its_data(library, conn, tmp_path):
    d = tmp_path / "o"
    files = make_shoot(d, 2)
    ingest(library, [d])
    before = dict(conn.execute("SELECT * FROM photos WHERE path = ?", (str(files[0]),)).fetchone())
    from fluxcull.catalog.decisions import decide

    decide(conn, [before["id"]], "keep", "test")
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 3])
    s = ingest(library, [d])
    assert len(s["errors"]) == 1 and "truncated" in s["errors"][0]["reason"]
    after = dict(conn.execute("SELECT * FROM photos WHERE id = ?", (before["id"],)).fetchone())
    assert after["status"] == "error" and "truncated" in after["error"]
    for k in ("sha256", "taken_at", "capture_time", "thumb_key", "camera_model", "width"):
        assert after[k] == before[k], k
    assert after["decision"] == "keep"
    # repaired: back to ok
    files[0].write_bytes(data)
    s = ingest(library, [d])
    assert s["errors"] == [] and conn.execute("SELECT status FROM photos WHERE id = ?", (before["id"],)).fetchone()[0] == "ok"
