"""The library's job lock, and embed rebuilding what a damaged store lost."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import numpy as np

from fluxcull import joblock
from fluxcull.errors import LibraryBusy
from fluxcull.jobs import CancelToken, Cancelled, Progress
from relhelp import REPO, assert_one_line_error, cli, env_for, text

HOLDER = """
import sys, time
from pathlib import Path
from fluxcull.library import Library
from fluxcull.joblock import job_lock
with job_lock(Library(Path(sys.argv[1])), "fluxcull embed --test"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_job_gets_who_holds_the_library_and_the_lock_dies_with_its_holder(tmp_path):
    from photogen import write_jpeg

    write_jpeg(tmp_path / "photos" / "a.jpg", seed=1)
    lib = tmp_path / "lib"
    assert cli("ingest", tmp_path / "photos", "--role", "inbox", library=lib, env=env_for(tmp_path)).returncode == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lib)], env=env_for(tmp_path), cwd=REPO,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        for args in (["embed"], ["ingest", str(tmp_path / "photos"), "--role", "inbox"], ["score"], ["match"]):
            line = assert_one_line_error(cli(*args, library=lib, env=env_for(tmp_path)),
                                         "another job is running on this library", f"PID {holder.pid}")
            assert "fluxcull embed --test" in line and "since" in line
        p = cli("decide", "1", "--keep", library=lib, env=env_for(tmp_path))  # decisions never wait
        assert p.returncode == 0, text(p.stderr)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert joblock.holder(lib) is None
    p = cli("ingest", tmp_path / "photos", "--role", "inbox", library=lib, env=env_for(tmp_path))
    assert p.returncode == 0, text(p.stderr)


def test_lock_is_reentrant_on_its_thread_and_busy_for_others(library):
    seen = {}
    with joblock.job_lock(library, "outer"):
        with joblock.job_lock(library, "inner"):
            assert joblock.holder(library.root)["command"] == "outer"

        def other():
            try:
                with joblock.job_lock(library, "other"):
                    seen["got"] = True
            except LibraryBusy as exc:
                seen["busy"] = str(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert "busy" in seen and "outer" in seen["busy"]
    assert joblock.holder(library.root) is None


def test_waiting_job_reports_progress_and_can_be_cancelled(library):
    token = CancelToken()
    got = []
    with joblock.job_lock(library, "fluxcull train"):
        def waiter():
            try:
                for p in joblock.acquire(library, "gui job", wait=True, cancel=token):
                    got.append(p)
            except Cancelled:
                got.append("cancelled")

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.6)
        token.cancel()
        t.join(5)
    assert isinstance(got[0], Progress) and "waiting for" in got[0].message and "fluxcull train" in got[0].message
    assert got[-1] == "cancelled"


def test_embed_rebuilds_vectors_lost_from_a_deleted_or_damaged_store(tmp_path):
    """Finding 2b: after the store was deleted `embed` said everything was done."""
    from photogen import write_jpeg

    for i in range(4):
        write_jpeg(tmp_path / "photos" / f"R{i}.JPG", seed=i)
    lib = tmp_path / "lib"
    env = env_for(tmp_path)
    assert cli("ingest", tmp_path / "photos", "--role", "originals", library=lib, env=env).returncode == 0
    first = cli("embed", "--runtime", "torch-fp32", "--json", library=lib, env=env, timeout=300)
    assert first.returncode == 0, text(first.stderr)
    (vectors,) = (lib / "embeddings").glob("*/vectors.f16")
    reference = np.fromfile(vectors, np.float16)[: 4 * 1280].copy()
    vectors.unlink()
    p = cli("embed", "--runtime", "torch-fp32", "--json", library=lib, env=env, timeout=300)
    s = json.loads(p.stdout)
    assert p.returncode == 0 and s["embedded"] == 4 and s["repaired"] == 4, text(p.stderr)
    assert "missing or damaged" in text(p.stderr) and "Traceback" not in text(p.stderr)
    assert np.allclose(np.fromfile(vectors, np.float16)[: 4 * 1280], reference, atol=2e-3)
    again = json.loads(cli("embed", "--runtime", "torch-fp32", "--json", library=lib, env=env, timeout=300).stdout)
    assert again["embedded"] == 0 and again["repaired"] == 0
    assert json.loads(cli("doctor", "--json", library=lib, env=env).stdout)["problems"] == []
