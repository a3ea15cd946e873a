"""The catalog: schema guard, backups, migration race, damaged and read-only catalogs."""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3

import pytest

from fluxcull.catalog.db import BACKUPS_KEPT, connect, latest_version, migrate
from fluxcull.errors import CatalogError
from relhelp import assert_one_line_error, cli, drop_dac_prefix, env_for, text


@pytest.fixture
def made(tmp_path):
    """A library with a catalog (one photo decided) and a folder to ingest."""
    lib = tmp_path / "lib"
    photos = tmp_path / "photos"
    photos.mkdir()
    from photogen import write_jpeg

    write_jpeg(photos / "a.jpg", seed=1)
    p = cli("ingest", photos, "--role", "originals", "--workers", "1", library=lib, env=env_for(tmp_path))
    assert p.returncode == 0, text(p.stderr)
    return lib, photos


def _user_version(path) -> int:
    c = sqlite3.connect(path)
    try:
        return c.execute("PRAGMA user_version").fetchone()[0]
    finally:
        c.close()


def test_newer_catalog_is_refused_for_writing_and_read_read_only(made, tmp_path):
    """Finding 4: a catalog from a newer schema was opened and written."""
    lib, photos = made
    cat = lib / "catalog.sqlite"
    c = sqlite3.connect(cat)
    c.execute(f"PRAGMA user_version = {latest_version() + 5}")
    c.close()
    before = cat.read_bytes()
    p = cli("ingest", photos, "--role", "originals", "--workers", "1", library=lib, env=env_for(tmp_path))
    assert_one_line_error(p, "newer fluxcull", "upgrade")
    p = cli("decide", "1", "--keep", library=lib, env=env_for(tmp_path))
    assert_one_line_error(p, "newer fluxcull")
    p = cli("status", "--json", library=lib, env=env_for(tmp_path))
    assert p.returncode == 0 and "newer fluxcull" in text(p.stderr) and "Traceback" not in text(p.stderr)
    assert cat.read_bytes() == before and _user_version(cat) == latest_version() + 5


def test_older_catalog_is_backed_up_then_migrated_keeping_n_backups(tmp_path):
    path = tmp_path / "catalog.sqlite"
    for old in range(1, BACKUPS_KEPT + 3):
        path.unlink(missing_ok=True)
        c = connect(path, migrate_schema=False)
        migrate(c, target=old)
        c.execute("INSERT INTO settings(key, value) VALUES ('marker', ?)", (str(old),))
        c.close()
        c = connect(path)
        assert c.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        c.close()
        bak = tmp_path / f"catalog.sqlite.bak-{old}"
        assert bak.is_file() and _user_version(bak) == old
        b = sqlite3.connect(bak)
        assert b.execute("SELECT value FROM settings WHERE key = 'marker'").fetchone()[0] == str(old)
        b.close()
    left = sorted(p.name for p in tmp_path.glob("catalog.sqlite.bak-*"))
    assert len(left) == BACKUPS_KEPT and f"catalog.sqlite.bak-{BACKUPS_KEPT + 2}" in left


def _first_open(path, start, out):
    start.wait()
    try:
        connect(path).close()
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(f"{type(exc).__name__}: {exc}")


def test_concurrent_first_runs_on_a_new_library_migrate_once(tmp_path):
    """Finding 5c: two first runs on a new library raced in the migrations."""
    ctx = mp.get_context("fork")
    for rep in range(4):
        path = tmp_path / f"r{rep}" / "catalog.sqlite"
        path.parent.mkdir()
        start, out = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_first_open, args=(path, start, out)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        results = [out.get(timeout=5) for _ in procs]
        assert results == ["ok"] * 4, results
        assert _user_version(path) == latest_version()


def test_corrupt_catalog_is_one_line_error_for_every_command(made, tmp_path):
    """Finding 5a: a corrupt catalog gave a traceback (25/25 runs)."""
    lib, photos = made
    cat = lib / "catalog.sqlite"
    for name in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (lib / name).unlink(missing_ok=True)
    cat.write_bytes(os.urandom(8192))
    for args in (["status"], ["photos"], ["decide", "1", "--keep"], ["score"],
                 ["ingest", str(photos), "--role", "originals", "--workers", "1"]):
        p = cli(*args, library=lib, env=env_for(tmp_path))
        assert_one_line_error(p, "damaged", "doctor")


def test_empty_catalog_is_reported_not_reinitialised(made, tmp_path):
    """Finding 8d: a 0-byte catalog was silently re-initialised (every decision gone)."""
    lib, _ = made
    cat = lib / "catalog.sqlite"
    for name in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (lib / name).unlink(missing_ok=True)
    cat.write_bytes(b"")
    for args in (["status"], ["decide", "1", "--keep"]):
        assert_one_line_error(cli(*args, library=lib, env=env_for(tmp_path)), "empty", "doctor")
    assert cat.stat().st_size == 0
    with pytest.raises(CatalogError):
        connect(cat)


def test_read_only_library_reads_and_refuses_writes_in_one_line(made, tmp_path):
    """Finding 5b: a read-only library gave tracebacks, even for `status`."""
    prefix = drop_dac_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: permission bits cannot be enforced")
    lib, photos = made
    modes = {}
    for p in [lib, *lib.rglob("*")]:
        modes[p] = p.stat().st_mode
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        env = env_for(tmp_path)
        p = cli("status", "--json", library=lib, env=env, prefix=prefix)
        assert p.returncode == 0 and "Traceback" not in text(p.stderr), text(p.stderr)
        assert '"originals"' in text(p.stdout)
        p = cli("decide", "1", "--keep", library=lib, env=env, prefix=prefix)
        assert_one_line_error(p, "read-only")
        p = cli("ingest", photos, "--role", "originals", "--workers", "1", library=lib, env=env, prefix=prefix)
        assert_one_line_error(p, "read-only")
    finally:
        for p, m in sorted(modes.items(), key=lambda kv: -len(str(kv[0]))):
            p.chmod(m & 0o7777)


def test_doctor_explains_an_unopenable_catalog_and_its_backups(made, tmp_path):
    lib, _ = made
    (lib / "catalog.sqlite.bak-6").write_bytes(b"")
    for name in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (lib / name).unlink(missing_ok=True)
    (lib / "catalog.sqlite").write_bytes(b"not a database" * 100)
    p = cli("doctor", library=lib, env=env_for(tmp_path))
    out = text(p.stdout)
    assert p.returncode == 1 and "Traceback" not in text(p.stderr)
    assert "cannot be opened" in out and "catalog.sqlite.bak-6" in out


def _old_library(root):
    """A library whose catalog stops before the saved filters' migration (the newest one numbered below
    it applied), one photo in it; its schema number."""
    from fluxcull.catalog.db import migrations

    saved = next(n for n, name, _ in migrations() if "saved_filters" in name)
    old = max(n for n, _, _ in migrations() if n < saved)
    root.mkdir()
    c = connect(root / "catalog.sqlite", migrate_schema=False)
    migrate(c, target=old)
    c.execute("INSERT INTO photos(path, role, size, mtime_ns) VALUES ('/p/a.jpg', 'originals', 1, 1)")
    c.close()
    return old


def test_commands_that_only_read_upgrade_an_older_catalog_first(tmp_path):
    """`fluxcull filters` on a library from before saved filters said "no such table: saved_filters"."""
    lib = tmp_path / "lib"
    old = _old_library(lib)
    env = env_for(tmp_path)
    p = cli("filters", "--json", library=lib, env=env)
    assert p.returncode == 0 and text(p.stdout).strip() == "[]", text(p.stderr)
    assert _user_version(lib / "catalog.sqlite") == latest_version()
    assert _user_version(lib / f"catalog.sqlite.bak-{old}") == old  # backed up before the upgrade
    p = cli("photos", "--where", "stars=0 and label=none", "--json", library=lib, env=env)
    assert p.returncode == 0 and '"/p/a.jpg"' in text(p.stdout) and '"stack_size": null' in text(p.stdout)


def test_an_older_catalog_on_read_only_media_is_refused_with_what_to_do(tmp_path):
    prefix = drop_dac_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: permission bits cannot be enforced")
    lib = tmp_path / "lib"
    old = _old_library(lib)
    modes = {p: p.stat().st_mode for p in [lib, *lib.rglob("*")]}
    for p in modes:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        for args in (["filters"], ["status"]):
            p = cli(*args, library=lib, env=env_for(tmp_path), prefix=prefix)
            assert_one_line_error(p, "older fluxcull", "read-only", "run any fluxcull command")
    finally:
        for p, m in sorted(modes.items(), key=lambda kv: -len(str(kv[0]))):
            p.chmod(m & 0o7777)
    assert _user_version(lib / "catalog.sqlite") == old and not list(lib.glob("catalog.sqlite.bak-*"))
