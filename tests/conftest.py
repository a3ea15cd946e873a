"""Shared fixtures: a fresh library per test, the real photos in ../shared/photos, generated photos, the
main window on the test's library (`open_window`, `window`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FLUXCULL_KEYMAP"] = ""  # a person's own key map file never changes the keys a test presses
# Tests embed in float32 unless they ask otherwise (FLUXCULL_PRECISION=int8 pytest ... runs them in int8):
# building the int8 model takes tens of seconds per library, and auto would pick it on most CPUs.
os.environ.setdefault("FLUXCULL_PRECISION", "fp32")

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


@pytest.fixture(scope="session")
def exported_onnx(tmp_path_factory):
    """The default backbone exported to ONNX once for the whole test run."""
    from fluxcull.embedding.backbones import get_backbone
    from fluxcull.embedding.onnx_backend import ensure_onnx

    return ensure_onnx(get_backbone(), tmp_path_factory.mktemp("onnx-cache"))


@pytest.fixture
def with_onnx(exported_onnx):
    """with_onnx(lib): give a library the verified ONNX export (as after a first run), so that a test's
    embedding does not export it again."""
    import shutil

    def give(lib):
        dest = lib.cache_dir / "onnx"
        dest.mkdir(parents=True, exist_ok=True)
        for f in (exported_onnx, exported_onnx.with_suffix(".json")):
            shutil.copy(f, dest / f.name)
        return lib

    return give


@pytest.fixture
def conn(library):
    c = library.connect()
    yield c
    c.close()


@pytest.fixture
def open_window(qtbot, library):
    """Opens the main window on the test's library (once the test has filled it), shown and exposed, the
    grid focused; after the test it is closed and nothing it started may still run."""
    opened = []

    def open_(size=(1200, 800), **options):
        from fluxcull.ui.mainwindow import MainWindow

        win = MainWindow(library, watch_inbox=False, **options)
        qtbot.addWidget(win)
        win.resize(*size)
        win.show()
        qtbot.waitExposed(win)
        win.grid.setFocus()
        opened.append(win)
        return win

    yield open_
    for win in opened:
        win.close()
        assert win.runner.current is None
        assert not win.status.timer.isActive() and not win.grid._request_timer.isActive()
        assert win.thumb_loader.pool.activeThreadCount() == 0 and win.image_loader.pool.activeThreadCount() == 0
        assert not win.writer.alive() and not win.reader.alive()


@pytest.fixture
def window(open_window, library, conn, tmp_path):
    """The main window on two sessions of six generated photos (uigen.fill_catalog); `window.ids`: the
    photos in capture order."""
    from uigen import fill_catalog

    ids = fill_catalog(library, conn, tmp_path / "photos", sessions=2, per_session=6)
    win = open_window()
    win.ids = ids
    return win


@pytest.fixture
def drifted(library, conn):
    """A library whose taste drifted: recent keepers darker, older ones brighter (modelgen.build_drifted)."""
    import modelgen

    return modelgen.build_drifted(library, conn)
