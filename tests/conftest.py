"""Shared fixtures: a fresh library per test, the real photos in ../shared/photos, generated photos."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FLUXCULL_KEYMAP"] = ""  # a person's own key map file never changes the keys a test presses

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_PHOTOS = (REPO_ROOT / ".." / "shared" / "photos").resolve()


@pytest.fixture
def shared_photos() -> Path:
    if not (SHARED_PHOTOS / "MANIFEST.tsv").is_file():
        pytest.skip(f"real test photos not found at {SHARED_PHOTOS} (expected ../shared/photos beside the repository)")
    return SHARED_PHOTOS


@pytest.fixture
def library(tmp_path, monkeypatch):
    from fluxcull.library import Library

    lib = Library.open(tmp_path / "library")
    monkeypatch.setenv("FLUXCULL_LIBRARY", str(lib.root))
    return lib


@pytest.fixture
def conn(library):
    c = library.connect()
    yield c
    c.close()


@pytest.fixture
def drifted(library, conn):
    """A library whose taste drifted: recent keepers darker, older ones brighter (modelgen.build_drifted)."""
    import modelgen

    return modelgen.build_drifted(library, conn)
