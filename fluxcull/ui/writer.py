"""Catalog work off the GUI thread, in order, on a thread with its own catalog connection.

The window has two: a writer for its decisions, undo and preferences, and a reader for queries
that may take a while on a large catalog (the full id list, counts, the session list).

A keep/reject is shown at once (the model is updated optimistically) and committed within
milliseconds by this thread; when a background job holds SQLite's write lock (a re-score writes
its scores in batches of 20,000 photos, each its own transaction of up to half a second on a
large catalog; fluxcull.catalog.score_writes) the commit waits for it here instead of freezing
the window. Each submitted function gets this thread's `Catalog` (fluxcull.catalog.api).
Writes run in submission order; `flush()` waits for all of them (the window calls it on close).
`CatalogDialog`: a window beside the main one (Drafts, Motifs, Rediscover) with a thread of its own.
"""

from __future__ import annotations

import queue
import threading
import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog

from fluxcull.catalog import Catalog


class _Emitter(QObject):
    done = Signal(object, object, object)  # callback, result, error


class CatalogThread(QObject):
    def __init__(self, lib, parent=None, name: str = "catalog"):
        super().__init__(parent)
        self.lib = lib
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._emitter = _Emitter()
        self._emitter.done.connect(self._on_done, Qt.QueuedConnection)
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name=f"fluxcull-{name}", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[Catalog], Any], on_done: Callable[[Any, str | None], None] | None = None) -> None:
        """Run fn(catalog) on this thread; on_done(result, error) is called on the GUI thread."""
        if not self._thread.is_alive():
            raise RuntimeError("the catalog writer is closed")
        self._pending += 1
        self._queue.put((fn, on_done))

    def idle(self) -> bool:
        return self._pending == 0

    def _run(self) -> None:
        catalog = Catalog.open(self.lib.catalog_path)
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                fn, on_done = item
                result, error = None, None
                try:
                    result = fn(catalog)
                except Exception as exc:  # reported to the window; the next write goes on
                    logging.getLogger(__name__).exception("catalog write failed")
                    error = f"{type(exc).__name__}: {exc}"
                finally:
                    self._queue.task_done()
                self._emitter.done.emit(on_done, result, error)
        finally:
            catalog.close()

    def _on_done(self, on_done, result, error) -> None:
        self._pending -= 1
        if error:
            self.errors.append(error)
        if on_done is not None:
            on_done(result, error)

    def flush(self) -> None:
        """Wait until every submitted write is committed (callbacks run at the next event loop turn)."""
        self._queue.join()

    def close(self, timeout: float = 60.0) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread.is_alive()


CatalogWriter = CatalogThread


class CatalogDialog(QDialog):
    """A window shown beside the main one, not modal (the grid stays usable), that asks its own
    catalog thread (`worker`); closing it stops the thread and what `shutdown` stops."""

    def __init__(self, lib, parent=None, name: str = "catalog"):
        super().__init__(parent)
        self.lib = lib
        self.worker = CatalogThread(lib, self, name=name)
        self.closed = False

    def busy(self) -> bool:
        return not self.worker.idle()

    def open(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()

    def shutdown(self) -> None:
        """What the window stops besides its catalog thread (thumbnail loading)."""

    def done(self, result: int) -> None:
        self._close_down()
        super().done(result)

    def closeEvent(self, event) -> None:
        self._close_down()
        super().closeEvent(event)

    def _close_down(self) -> None:
        if not self.closed:
            self.closed = True
            self.shutdown()
            self.worker.close()
