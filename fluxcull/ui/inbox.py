"""Watches the library's inbox folder and reports photos the catalog does not know yet.

QFileSystemWatcher notices changes in the folder tree at once; a periodic rescan covers what it
misses (network drives, too many folders, events lost). Events are debounced, and a file counts as
arrived only when its size and mtime held still across two looks, so a card still being copied is
not ingested half-written.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from fluxcull.media.formats import is_supported


def scan_folder(folder: Path) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Supported files under `folder` as path -> (size, mtime_ns), and the folders walked."""
    files: dict[str, tuple[int, int]] = {}
    dirs: list[str] = []
    stack = [str(folder)]
    while stack:
        d = stack.pop()
        dirs.append(d)
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file() and is_supported(e.path):
                    st = e.stat()
                    files[e.path] = (st.st_size, st.st_mtime_ns)
            except OSError:
                continue
    return files, dirs


class InboxWatcher(QObject):
    """Emits `arrived(list[str])` with stable files not in the catalog (or changed since ingest)."""

    arrived = Signal(list)

    def __init__(self, catalog, folder: str | Path, *, debounce_ms: int = 1500,
                 rescan_ms: int = 60000, parent=None):
        super().__init__(parent)
        self.catalog = catalog  # fluxcull.catalog.Catalog
        self.folder = Path(folder)
        self._fs = QFileSystemWatcher(self)
        self._fs.directoryChanged.connect(self._poke)
        self._debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self._debounce.timeout.connect(self.scan)
        self._rescan = QTimer(self, interval=rescan_ms)
        self._rescan.timeout.connect(self.scan)
        self._last_seen: dict[str, tuple[int, int]] = {}
        self._reported: dict[str, tuple[int, int]] = {}
        self.scans = 0

    def start(self) -> None:
        """Watch the folder (never created or written to here) and look at it shortly."""
        if self.folder.is_dir():
            self._watch_dirs([str(self.folder)])
        self._rescan.start()
        self._debounce.start()

    def stop(self) -> None:
        self._debounce.stop()
        self._rescan.stop()
        dirs = self._fs.directories()
        if dirs:
            self._fs.removePaths(dirs)

    def active(self) -> bool:
        return self._rescan.isActive()

    def _watch_dirs(self, dirs: list[str]) -> None:
        have = set(self._fs.directories())
        new = [d for d in dirs if d not in have]
        if new:
            self._fs.addPaths(new)

    def _poke(self, _path: str = "") -> None:
        self._debounce.start()  # restarts: many events in a burst make one scan

    def _known(self) -> dict[str, tuple[int, int]]:
        return self.catalog.known_files_under(self.folder)

    def scan(self) -> list[str]:
        """Look at the folder now; emit and return the files that arrived and stood still."""
        self.scans += 1
        if not self.folder.is_dir():
            return []
        files, dirs = scan_folder(self.folder)
        self._watch_dirs(dirs)
        known = self._known()
        ready, settling = [], False
        for path, stamp in files.items():
            if known.get(path) == stamp or self._reported.get(path) == stamp:
                continue
            if self._last_seen.get(path) == stamp:
                ready.append(path)
            else:
                settling = True
        self._last_seen = files
        if settling:
            self._debounce.start()  # look again shortly: those files are still changing
        if ready:
            for p in ready:
                self._reported[p] = files[p]
            self.arrived.emit(sorted(ready))
        return ready
