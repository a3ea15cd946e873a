"""Fuzzed photos from ../shared/photos: every one a clean error or a photo; 0 tracebacks, 0 hangs."""

from __future__ import annotations

import json
import subprocess

import pytest

from fuzz import judge, make_corpus
from relhelp import cli, env_for, text


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs FIFOs and symlinks (POSIX)")
def test_fuzz_corpus_ingests_with_clean_errors_only(tmp_path, shared_photos):
    corpus = tmp_path / "fuzz"
    counts = make_corpus(shared_photos, corpus, n_sources=6, flips=2)
    tried = sum(counts.values())  # the folder named folder.jpg is not counted: it is walked into
    lib = tmp_path / "lib"
    try:
        p = cli("ingest", corpus, "--role", "inbox", "--json", "--workers", "2", library=lib, env=env_for(tmp_path),
                timeout=240)
        rc, err, summary = p.returncode, text(p.stderr), json.loads(p.stdout)
    except subprocess.TimeoutExpired:
        rc, err, summary = None, "", None
    figures = judge(rc, err, summary, tried)
    print(f"\nfuzz: {counts} -> {figures}")
    assert figures["hangs"] == 0 and figures["tracebacks"] == 0, err
    assert rc == 1 and figures["unexpected_failures"] == 0
    assert summary["scanned"] == tried  # every file was looked at (the folder named .jpg is walked into)
    assert figures["clean_errors"] >= counts["truncated"] // 2 + counts["special-file"]
    assert summary["added"] >= counts["hostile-name"]  # odd names of good photos are still photos
    for args in (["status", "--json"], ["photos", "--status", "all", "--json"], ["doctor", "--json"]):
        q = cli(*args, library=lib, env=env_for(tmp_path))
        assert q.returncode == 0 and "Traceback" not in text(q.stderr), text(q.stderr)
