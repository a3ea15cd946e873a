"""Layers: catalog, media, ingest, matching and the embedding store import neither Qt nor torch."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import fluxcull

ROOT = Path(fluxcull.__file__).parent
HEADLESS_PACKAGES = ("catalog", "media", "ingest", "matching")
EXTRA_MODULES = ("fluxcull.embedding.store", "fluxcull.embedding.features", "fluxcull.embedding.import_worker",
                 "fluxcull.library", "fluxcull.jobs",
                 "fluxcull.cli.ingest_cmd", "fluxcull.cli.query_cmd")


def _modules() -> list[str]:
    names = []
    for pkg in HEADLESS_PACKAGES:
        if not (ROOT / pkg / "__init__.py").is_file():
            continue
        names.append(f"fluxcull.{pkg}")
        names += [f"fluxcull.{pkg}.{m.name}" for m in pkgutil.iter_modules([str(ROOT / pkg)])]
    names += [m for m in EXTRA_MODULES if (ROOT / (m.split(".", 1)[1].replace(".", "/") + ".py")).is_file()]
    return names


def test_headless_layers_import_neither_qt_nor_torch():
    mods = _modules()
    assert "fluxcull.ingest.job" in mods and "fluxcull.media.decode" in mods
    code = (
        "import importlib, json, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'torch', 'torchvision', 'shiboken6'))\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
