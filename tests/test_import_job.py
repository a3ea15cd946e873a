"""`fluxcull import`: ingest and embed in one pass end with what `ingest` then `embed` give (catalog,
thumbnails, features, bit-identical embeddings); progressive and resumable after a cancel, a crash or
kill -9; bad files named with their reason while the rest goes on."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from fluxcull.embedding.embed import embed_job
from fluxcull.embedding.import_job import import_job
from fluxcull.embedding.store import current_store
from fluxcull.jobs import CancelToken, Cancelled, run_job
from fluxcull.library import Library
from ingest_helpers import ingest, make_shoot
from photogen import scene, write_jpeg

REAL_FOLDERS = ("raw-io", "exifr", "broken")  # bursts, phone and DSLR JPEGs with a sidecar, damaged files
SMALL_BATCHES = {"BATCH_ROWS": 2}  # commit every two photos: a stop lands between batches


def state(lib: Library) -> dict:
    """Everything the catalog and the library hold, timestamps left out: every table's rows, each
    photo's embedding bytes, the thumbnails' bytes."""
    conn = lib.connect()
    try:
        out = {}
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                             " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for t in tables:
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({t})") if not r[1].endswith("_at")]
            out[t] = conn.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
        if out["embedding_rows"]:
            store = current_store(lib, conn)
            have = sorted(int(i) for i in store.ids_and_rows()[0])
            out["vectors"] = dict(zip(have, (v.tobytes() for v in store.get(have))))
        out.pop("embedding_rows")  # where a vector lies in the store's file; the vectors are compared
    finally:
        conn.close()
    out["thumbs"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in lib.thumbs_dir.rglob("*.jpg")}
    return out


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], list) and a[k] != b[k]:  # name the first differing row, with its values
            rows = [(tuple(x), tuple(y)) for x, y in zip(a[k], b[k]) if tuple(x) != tuple(y)]
            raise AssertionError(f"{k} differs ({len(a[k])} vs {len(b[k])} rows): first {rows[:1]}")
        assert a[k] == b[k], f"{k} differs"


@pytest.fixture
def two_libraries(tmp_path, with_onnx):
    return [with_onnx(Library.open(tmp_path / name)) for name in ("one-pass", "two-steps")]


def test_import_equals_ingest_then_embed_on_real_photos(shared_photos, two_libraries):
    folders = [shared_photos / f for f in REAL_FOLDERS]
    one, two = two_libraries
    s = run_job(import_job(one, folders, "originals", workers=1))  # one worker: the same photo ids both ways
    ingest(two, folders)
    e = run_job(embed_job(two))
    assert s["embed"]["embedded"] == e["embedded"] > 30 and s["embed"]["featured"] == e["featured"]
    assert not s["embed"]["errors"] and not e["errors"]
    assert_same(state(one), state(two))
    # the bad files are named with their reason; everything else is in, embedded
    failed = {os.path.basename(x["path"]): x["reason"] for x in s["ingest"]["errors"]}
    assert {"zero-bytes.jpg", "truncated-half.jpg", "not-an-image.jpg", "garbage.dng"} <= set(failed)
    assert "empty file" in failed["zero-bytes.jpg"] and "truncated" in failed["truncated-half.jpg"]


@pytest.fixture
def shoot(tmp_path):
    folder = tmp_path / "shoot"
    make_shoot(folder, n=9)
    write_jpeg(folder / "tiny.jpg", scene(99, (300, 200)))  # smaller than a usable thumbnail: decoded again
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    return folder


def _interrupted_by_cancel(lib, shoot):
    cancel = CancelToken()
    job = import_job(lib, [shoot], "originals", workers=1, cancel=cancel, batch_size=3)
    with pytest.raises(Cancelled):
        for p in job:
            if p.stage == "ingest" and p.done >= 6:
                cancel.cancel()


def _interrupted_by_crash(lib, shoot, monkeypatch):
    import fluxcull.embedding.import_job as ij

    calls = []
    real = ij.store_batch

    def store_then_crash(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(*args)

    monkeypatch.setattr(ij, "store_batch", store_then_crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_job(import_job(lib, [shoot], "originals", workers=1, batch_size=3))
    monkeypatch.setattr(ij, "store_batch", real)


def _interrupted_by_kill(lib, shoot):
    code = textwrap.dedent(f"""
        import os, signal
        import fluxcull.ingest.job
        fluxcull.ingest.job.BATCH_ROWS = 2
        from fluxcull.embedding.import_job import import_job
        from fluxcull.library import Library
        for p in import_job(Library.open({str(lib.root)!r}), [{str(shoot)!r}], "originals", workers=1, batch_size=3):
            if p.stage == "ingest" and p.done >= 7:
                os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == -signal.SIGKILL, r.stderr


@pytest.mark.parametrize("how", ["cancel", "crash", "kill"])
def test_a_stopped_import_goes_on_and_ends_as_an_uninterrupted_one(how, shoot, two_libraries, monkeypatch):
    import fluxcull.ingest.job

    for k, v in SMALL_BATCHES.items():
        monkeypatch.setattr(fluxcull.ingest.job, k, v)
    stopped, whole = two_libraries
    {"cancel": lambda: _interrupted_by_cancel(stopped, shoot),
     "crash": lambda: _interrupted_by_crash(stopped, shoot, monkeypatch),
     "kill": lambda: _interrupted_by_kill(stopped, shoot)}[how]()
    part = state(stopped)
    # progressive: photos were committed as they were read, some embedded already, not all of them
    assert 0 < len(part["photos"]) < 11 and 0 < len(part.get("vectors", {})) < len(part["photos"])
    s = run_job(import_job(stopped, [shoot], "originals", workers=1, batch_size=3))
    assert s["ingest"]["added"] == 11 - len(part["photos"]) and s["ingest"]["unchanged"] == len(part["photos"])
    run_job(import_job(whole, [shoot], "originals", workers=1, batch_size=3))
    after, expected = state(stopped), state(whole)
    assert len(expected["vectors"]) == 10  # every photo but the broken one
    assert_same(after, expected)


def test_cli_import_reports_bad_files_and_goes_on(shoot, library, with_onnx, capsys):
    from fluxcull.cli import main

    with_onnx(library)
    rc = main(["--library", str(library.root), "import", str(shoot), "--role", "inbox", "--json"])
    s = json.loads(capsys.readouterr().out)
    assert rc == 1  # done, but a file failed
    assert [(os.path.basename(e["path"]), e["reason"].split(":")[0]) for e in s["ingest"]["errors"]] == [
        ("broken.jpg", "not an image")]
    assert s["ingest"]["added"] == 11 and s["embed"]["embedded"] == s["embed"]["featured"] == 10
    assert s["stacks"]["photos"] == 10 and "places" in s
    again = run_job(import_job(library, [shoot], "inbox"))
    assert again["ingest"]["unchanged"] == 11 and again["embed"]["embedded"] == 0
