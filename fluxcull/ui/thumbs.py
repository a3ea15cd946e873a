"""Thumbnails for the grid: a byte-bounded LRU of pixmaps over background QImage readers.

`ThumbLoader.want(items)` is called with the rows the grid shows (and a screenful of look-ahead);
everything else still queued is dropped (QThreadPool.clear plus a check when a task starts), so
scrolling fast through 400,000 photos never builds a backlog. Tasks read the 512 px disk thumbnail
with QImageReader.setScaledSize (the JPEG reader decodes at 1/2, 1/4, 1/8 scale directly) into a
QImage off the GUI thread; the GUI thread turns it into a QPixmap and caches it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap

from fluxcull.media.thumbs import thumb_path

# originals Qt can read itself, used when a photo has no thumbnail on disk yet
_QT_READABLE = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"}


def thumb_file(lib, thumb_key: str | None) -> Path | None:
    """Where the disk thumbnail of `thumb_key` lives (fluxcull.media.thumbs.thumb_path)."""
    return thumb_path(lib, thumb_key) if thumb_key else None


def source_for(lib, record: dict) -> str | None:
    """The file to read a grid thumbnail from: the disk thumbnail, else a Qt-readable original."""
    p = thumb_file(lib, record.get("thumb_key"))
    if p is not None:
        return str(p)
    path = record.get("path")
    if path and Path(path).suffix.lower() in _QT_READABLE:
        return path
    return None


class PixmapCache:
    """LRU of pixmaps bounded by their size in bytes (width * height * depth / 8)."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024):
        self.max_bytes = int(max_bytes)
        self.nbytes = 0
        self._items: OrderedDict[object, tuple[QPixmap, int]] = OrderedDict()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        return key in self._items

    def get(self, key) -> QPixmap | None:
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[0]

    def put(self, key, pixmap: QPixmap) -> None:
        size = max(1, pixmap.width() * pixmap.height() * max(pixmap.depth(), 8) // 8)
        old = self._items.pop(key, None)
        if old is not None:
            self.nbytes -= old[1]
        self._items[key] = (pixmap, size)
        self.nbytes += size
        while self.nbytes > self.max_bytes and len(self._items) > 1:
            _, (_, n) = self._items.popitem(last=False)
            self.nbytes -= n

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0


class _Emitter(QObject):
    loaded = Signal(object, QImage)  # key, image (null image on failure)


class _ReadTask(QRunnable):
    def __init__(self, loader: "ThumbLoader", key, path: str, side: int):
        super().__init__()
        self.setAutoDelete(True)
        self.loader, self.key, self.path, self.side = loader, key, path, side

    def run(self) -> None:
        loader = self.loader
        with loader._lock:
            if self.key not in loader._wanted or self.key in loader._running:
                return  # scrolled away (or already being read) before this task started
            loader._running.add(self.key)
        try:
            image = read_scaled(self.path, self.side)
        finally:
            with loader._lock:
                loader._running.discard(self.key)
        try:
            loader._emitter.loaded.emit(self.key, image)
        except RuntimeError:  # the loader was deleted while this task read (the window closed)
            return


def placeholder_image(lib, loader: "ThumbLoader", side: int, record: dict) -> QImage | None:
    """A photo's thumbnail as a quick stand-in while the loupe or compare decodes it: from the
    grid's cache where it is there, else read from disk."""
    src = source_for(lib, record)
    if src is None:
        return None
    pix = loader.pixmap((src, side))
    if pix is not None:
        return pix.toImage()
    img = read_scaled(src, 512)
    return None if img.isNull() else img


def read_scaled(path: str, side: int) -> QImage:
    """Read an image file scaled so its longer side is at most `side` (fast JPEG DCT scaling)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > side or size.height() > side):
        reader.setScaledSize(size.scaled(QSize(side, side), Qt.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return QImage()
    if image.width() > side or image.height() > side:  # readers that ignore the scaled size
        image = image.scaled(side, side, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    return image


class ThumbLoader(QObject):
    """Loads (key, path) thumbnails at a pixel size into a PixmapCache; emits `ready(key)`."""

    ready = Signal(object)
    failed = Signal(object)

    def __init__(self, cache: PixmapCache | None = None, threads: int | None = None, parent=None):
        super().__init__(parent)
        self.cache = cache or PixmapCache()
        self.pool = QThreadPool(self)
        if threads:
            self.pool.setMaxThreadCount(int(threads))
        self._lock = threading.Lock()
        self._wanted: set = set()
        self._running: set = set()
        self._failed: set = set()
        self._emitter = _Emitter()
        self._emitter.loaded.connect(self._on_loaded, Qt.QueuedConnection)
        self.requested = self.dropped = self.delivered = 0

    def pixmap(self, key) -> QPixmap | None:
        return self.cache.get(key)

    def is_failed(self, key) -> bool:
        return key in self._failed

    def want(self, items: list[tuple[object, str, int]]) -> int:
        """Replace the wanted set with these (key, path, side) items, nearest first; return queued count."""
        self.pool.clear()  # tasks not started yet are obsolete now
        keys = [k for k, _, _ in items]
        with self._lock:
            self.dropped += len(self._wanted - set(keys) - self._running)
            self._wanted = set(keys)
            running = set(self._running)
        queued = 0
        for priority, (key, path, side) in enumerate(reversed(items)):
            if key in self.cache or key in running or key in self._failed or not path:
                continue
            self.pool.start(_ReadTask(self, key, path, side), priority)
            queued += 1
        self.requested += queued
        return queued

    def _on_loaded(self, key, image: QImage) -> None:
        with self._lock:
            wanted = key in self._wanted
        if image.isNull():
            self._failed.add(key)
            self.failed.emit(key)
            return
        if not wanted:
            return  # arrived after the user scrolled away: not worth a pixmap
        self.cache.put(key, QPixmap.fromImage(image))
        self.delivered += 1
        self.ready.emit(key)

    def idle(self) -> bool:
        return self.pool.activeThreadCount() == 0 and not self._running

    def shutdown(self, wait_ms: int = 3000) -> None:
        with self._lock:
            self._wanted = set()
        self.pool.clear()
        self.pool.waitForDone(wait_ms)
