"""Ingest: libraries inside scanned folders, size caps, quiet decoders, workers that die with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from relhelp import TARGET, cli, env_for, text


def _ingest_json(lib, folder, tmp, *extra):
    p = cli("ingest", folder, "--role", "originals", "--json", *extra, library=lib, env=env_for(tmp))
    assert p.returncode in (0, 1) and "Traceback" not in text(p.stderr), text(p.stderr)
    return json.loads(p.stdout)


def test_a_library_inside_the_ingested_folder_is_skipped(tmp_path):
    """Finding 3: a library inside the folder it ingests ingested its own thumbnails (+16 rows a run)."""
    from photogen import write_jpeg

    photos = tmp_path / "photos"
    for i in range(4):
        write_jpeg(photos / f"R{i}.JPG", seed=i)
    lib = photos / "fluxcull-library"
    other = photos / "old" / "lib2"
    other.mkdir(parents=True)
    (other / "catalog.sqlite").write_bytes(b"")
    write_jpeg(other / "thumbs" / "ab" / "x.jpg", seed=9)
    for _ in range(3):
        s = _ingest_json(lib, photos, tmp_path, "--workers", "1")
        assert s["scanned"] == 4
        assert {w["path"] for w in s["warnings"]} >= {str(lib), str(other)}
    p = cli("photos", "--status", "all", "--json", library=lib, env=env_for(tmp_path))
    paths = [r["path"] for r in json.loads(p.stdout)]
    assert len(paths) == 4 and not any("thumbs" in x for x in paths)
    s = _ingest_json(lib, lib / "thumbs", tmp_path, "--workers", "1")  # pointing into a library: nothing
    assert s["scanned"] == 0 and "inside the fluxcull library" in s["warnings"][0]["reason"]


def test_files_over_their_size_cap_are_refused_without_being_read(tmp_path):
    """Finding 6a: a 3 GiB .jpg was read whole into memory (no result in 120 s, 3.2 GB RSS)."""
    from photogen import write_jpeg

    photos = tmp_path / "photos"
    write_jpeg(photos / "ok.jpg", seed=1)
    huge = photos / "huge.jpg"
    with open(huge, "wb") as fh:  # sparse: 3 GiB claimed, nothing on disk
        fh.write(b"\xff\xd8\xff\xe0")
        fh.truncate(3 << 30)
    lib = tmp_path / "lib"
    t0 = time.monotonic()
    s = _ingest_json(lib, photos, tmp_path, "--workers", "1")
    assert time.monotonic() - t0 < 30
    (err,) = s["errors"]
    assert err["path"] == str(huge) and "over the 300 MB limit for jpeg" in err["reason"]
    assert s["added"] == 2


def test_size_cap_setting_is_honoured(tmp_path):
    from fluxcull.catalog import transaction
    from fluxcull.library import Library
    from photogen import scene, write_jpeg

    photos = tmp_path / "photos"
    write_jpeg(photos / "big.jpg", scene(3, size=(3000, 2000)), quality=98)
    write_jpeg(photos / "small.jpg", seed=2)
    lib = Library.open(tmp_path / "lib")
    conn = lib.connect()
    with transaction(conn):
        conn.execute("INSERT INTO settings(key, value) VALUES ('ingest.max_file_mb', ?)",
                     (json.dumps({"jpeg": (photos / "big.jpg").stat().st_size / (1 << 20) * 0.5}),))
    conn.close()
    s = _ingest_json(lib.root, photos, tmp_path, "--workers", "1")
    assert [e["path"] for e in s["errors"]] == [str(photos / "big.jpg")]
    assert "ingest.max_file_mb" in s["errors"][0]["reason"]


def test_decoder_noise_goes_into_the_photos_warnings_not_stderr(tmp_path, shared_photos):
    """Finding 8g: LibRaw/libtiff printed to stderr during ingest."""
    noisy = [shared_photos / "exiftool/t/images/FujiFilm.raf", shared_photos / "exiftool/t/images/Nikon.nef"]
    if not all(p.is_file() for p in noisy):
        pytest.skip("the LibRaw samples that print warnings are not in ../shared/photos")
    p = cli("ingest", *noisy, "--role", "originals", "--json", "--workers", "1", library=tmp_path / "lib",
            env=env_for(tmp_path))
    assert p.stderr == b"", text(p.stderr)
    s = json.loads(p.stdout)
    said = [e for e in s["errors"] + s["warnings"] if "decoder said" in e["reason"]]
    assert len(said) == 2 and any("Unexpected end of file" in e["reason"] for e in said)


def _session_processes(sid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    st = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(st[3]) == sid and st[0] != "Z":
                out.append(int(d))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the worker processes")
def test_kill_9_of_ingest_ends_its_workers_and_the_next_run_resumes(tmp_path):
    """Finding 7a: kill -9 of `ingest` orphaned 4 processes (~120 MB), one alive after 10 minutes."""
    from photogen import scene, write_jpeg

    photos = tmp_path / "photos"
    for i in range(16):  # enough for a process pool (12 or more files)
        write_jpeg(photos / f"p{i:03d}.jpg", scene(i, size=(1600, 1200)), quality=95)
    lib = tmp_path / "lib"
    cmd = [sys.executable, "-m", "fluxcull", "--library", str(lib), "ingest", str(photos), "--role", "originals",
           "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env_for(tmp_path), cwd=TARGET, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while len(_session_processes(proc.pid)) < 4 and time.monotonic() - t0 < 60:
            time.sleep(0.05)
        assert len(_session_processes(proc.pid)) >= 4, "the worker pool never started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        t1 = time.monotonic()
        while _session_processes(proc.pid) and time.monotonic() - t1 < 5:
            time.sleep(0.05)
        left = _session_processes(proc.pid)
        assert left == [] and time.monotonic() - t1 < 2.0, f"{len(left)} processes outlived the job"
    finally:
        for pid in _session_processes(proc.pid):
            os.kill(pid, signal.SIGKILL)
    s = _ingest_json(lib, photos, tmp_path, "--workers", "1")
    assert s["added"] + s["unchanged"] + s["updated"] == 16 and not s["errors"]
    p = cli("doctor", "--json", library=lib, env=env_for(tmp_path))
    assert json.loads(p.stdout)["catalog"]["ok"]


def test_temp_files_of_interrupted_runs_are_cleaned_at_start(tmp_path):
    """Finding 7b: interrupted ONNX exports and model saves left temp files that were never cleaned."""
    from photogen import write_jpeg

    write_jpeg(tmp_path / "photos" / "a.jpg", seed=1)
    lib = tmp_path / "lib"
    assert cli("ingest", tmp_path / "photos", "--role", "inbox", library=lib, env=env_for(tmp_path)).returncode == 0
    dead = 4_000_000  # above any pid_max: no such process
    onnx_tmp = lib / "cache" / "onnx" / f"efficientnet_lite0-v1-opset17.onnx.tmp{dead}"
    onnx_tmp.parent.mkdir(parents=True)
    onnx_tmp.write_bytes(b"x" * 1000)
    live_tmp = onnx_tmp.with_name(f"other.onnx.tmp{os.getpid()}")  # a live writer's file stays
    live_tmp.write_bytes(b"y")
    model_tmp = lib / "models" / ".20260101T000000-linear-abcd1234.tmp"
    model_tmp.mkdir(parents=True)
    (model_tmp / "model.npz").write_bytes(b"z")
    old = time.time() - 3600
    os.utime(model_tmp, (old, old))
    fresh_tmp = lib / "models" / ".20260101T000001-linear-ffff0000.tmp"  # being written right now
    fresh_tmp.mkdir()
    p = cli("decide", "1", "--keep", library=lib, env=env_for(tmp_path))
    assert p.returncode == 0, text(p.stderr)
    assert not onnx_tmp.exists() and not model_tmp.exists()
    assert live_tmp.exists() and fresh_tmp.exists()
