"""The shape of the code: no import cycle, no oversized module, the import-linter contracts of
pyproject.toml hold, and they do catch a wrong import (shown on a copy of the package)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fluxcull

ROOT = Path(fluxcull.__file__).parent
REPO = ROOT.parent
MAX_LINES = 400
PENDING_SPLIT: set[str] = set()  # modules allowed over the limit until they are split (none now)
PENDING_CYCLES: set[tuple[str, str]] = set()  # import cycles allowed until they are broken (none now)


def test_no_module_over_the_size_limit():
    big = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert {k: v for k, v in big.items() if k not in PENDING_SPLIT} == {}
    assert len((ROOT / "ui" / "mainwindow.py").read_text().splitlines()) <= 300


def test_no_import_cycle():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("fluxcull", cache_dir=None)  # every import statement, function-local ones too
    cycles = set()
    for a in graph.modules:
        for b in graph.find_modules_directly_imported_by(a):
            if b.startswith("fluxcull.") and graph.find_shortest_chain(importer=b, imported=a):
                cycles.add(tuple(sorted((a, b))))
    assert cycles - PENDING_CYCLES == set()


def test_no_sql_in_the_gui():
    for p in (ROOT / "ui").rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        for needle in (".execute(", "executemany(", "import sqlite3", ".connection", "lib.connect("):
            assert needle not in text, f"{p.name}: {needle}"


_SQL_CALL = re.compile(r"\.(execute|executemany|executescript)\(")


def _sql_outside_catalog(package: Path) -> list[str]:
    """`path:line` of every `.execute(`, `.executemany(` or `.executescript(` in the package's source
    outside its catalog/ (a static scan of the text, docstrings and comments included)."""
    found = []
    for p in sorted(package.rglob("*.py")):
        rel = p.relative_to(package)
        if rel.parts[0] == "catalog":
            continue
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if _SQL_CALL.search(line):
                found.append(f"{rel}:{n}")
    return found


def test_only_the_catalog_runs_sql(tmp_path):
    """Every SQL statement runs in fluxcull/catalog/ (named functions the other layers call)."""
    assert _sql_outside_catalog(ROOT) == []
    # the scan does catch one: a statement run by the keeper model, and one left in the catalog
    (tmp_path / "catalog").mkdir()
    (tmp_path / "keeper").mkdir()
    (tmp_path / "catalog" / "reads.py").write_text("def n(conn):\n    return conn.execute('SELECT 1')\n")
    sql = "import numpy\n\n\ndef f(cur, rows):\n    cur.executemany('X', rows)\n"
    (tmp_path / "keeper" / "score.py").write_text(sql)
    assert _sql_outside_catalog(tmp_path) == ["keeper/score.py:5"]


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"})


def test_import_contracts_hold_and_fail_on_a_wrong_import(tmp_path):
    pytest.importorskip("importlinter")
    ok = _lint(REPO, REPO)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # the same contracts on a copy whose grid widget reads the catalog with sqlite3 itself, and whose
    # embedding store calls into the keeper model (a function-local import counts too)
    shutil.copytree(ROOT, tmp_path / "fluxcull", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    grid = tmp_path / "fluxcull" / "ui" / "grid.py"
    grid.write_text(grid.read_text() + "\n\ndef _peek(path):\n    import sqlite3\n\n    return sqlite3.connect(path)\n")
    store = tmp_path / "fluxcull" / "embedding" / "store.py"
    store.write_text(store.read_text() + "\n\ndef _calibrated(x):\n    from fluxcull.keeper import calibrate\n\n"
                     "    return calibrate\n")
    bad = _lint(tmp_path, tmp_path)
    assert bad.returncode != 0
    assert "BROKEN" in bad.stdout and "fluxcull.ui.grid -> sqlite3" in bad.stdout, bad.stdout
    assert "fluxcull.embedding.store -> fluxcull.keeper.calibrate" in bad.stdout, bad.stdout
    # matching reads the embedding store, so it now reaches the keeper model indirectly: broken too
    assert "fluxcull.matching.similarity -> fluxcull.embedding.store" in bad.stdout, bad.stdout
    assert "Contracts: 3 kept, 3 broken." in bad.stdout, bad.stdout
