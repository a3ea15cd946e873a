"""Helpers for the reliability tests: run the real command line in a subprocess and judge its output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The fluxcull the subprocesses run: this checkout, or another one named here (used to show that a
# test fails on an older fluxcull, e.g. FLUXCULL_TEST_TARGET=/path/to/old/checkout).
TARGET = Path(os.environ.get("FLUXCULL_TEST_TARGET") or REPO)


def env_for(tmp_path: Path | None = None, **extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(TARGET) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("FLUXCULL_LIBRARY", None)
    if tmp_path is not None:  # the default library and caches land in the test's folder
        env["HOME"] = str(tmp_path / "home")
        env["XDG_DATA_HOME"] = str(tmp_path / "home" / "data")
        env["XDG_CACHE_HOME"] = str(tmp_path / "home" / "cache")
    env["FLUXCULL_THREADS"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def cli(*args, library=None, env=None, timeout=120, input=None, prefix=(), cwd=TARGET):
    """Run `python -m fluxcull [--library L] ARGS`; returns CompletedProcess (text, or bytes args kept)."""
    cmd = [*prefix, sys.executable, "-m", "fluxcull"]
    if library is not None:
        cmd += ["--library", os.fspath(library)]
    cmd += [a if isinstance(a, bytes) else str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, env=env or env_for(), timeout=timeout, input=input, cwd=cwd,
                          text=False)


def text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def assert_one_line_error(proc, *needles, rc=2):
    err = text(proc.stderr)
    assert proc.returncode == rc, f"exit {proc.returncode}, stderr:\n{err}"
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("fluxcull: error:")]
    assert len(lines) == 1, err
    for n in needles:
        assert n.lower() in lines[0].lower(), lines[0]
    return lines[0]


def drop_dac_prefix() -> list[str] | None:
    """A command prefix under which permission bits apply even to root (None if it cannot be had)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--inh-caps=-dac_override,-dac_read_search",
                            "--bounding-set=-dac_override,-dac_read_search", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    return [setpriv, "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
