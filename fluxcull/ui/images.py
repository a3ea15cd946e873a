"""Large images for the loupe, compare and survey views: a background decoder with a byte-bounded
cache, and `ImagePane`, a zoomable, pannable view of one photo whose view can be synchronised with
another.

Levels: 'full' (every pixel, for 100%), 'screen' (at least SCREEN_SIDE on the shorter side, for a
photo filling a view) and 'tile' (TILE_SIDE, for the survey's tiles: a photo a quarter of the screen
wide is scaled from a few hundred thousand pixels, not from millions). Images are decoded and
converted to the pixmap's format off the GUI thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, QPointF, QRectF, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

SCREEN_SIDE = 1800  # decode size for viewing at fit; 'full' decodes every pixel for 100%
TILE_SIDE = 600     # decode size (shorter side) of a survey tile's photo
LEVELS = ("tile", "screen", "full")  # smallest first


def decode_image(path: str, level: str) -> tuple[QImage, str]:
    """Decode a photo to a QImage off the GUI thread (RAW embedded preview, DCT-scaled JPEG, ...)."""
    from PIL import Image

    from fluxcull.media.decode import load_image  # PIL, rawpy: loaded when a photo is first opened

    img, source = load_image(path, min_side={"screen": SCREEN_SIDE, "tile": TILE_SIDE}.get(level))
    if img.mode != "RGB":
        img = img.convert("RGB")
    if level == "tile" and min(img.size) > TILE_SIDE * 1.1:  # what DCT scaling left over (PIL frees the GIL)
        k = TILE_SIDE / min(img.size)
        img = img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), Image.Resampling.BILINEAR,
                         reducing_gap=2.0)
    w, h = img.size
    # converted here, off the GUI thread, to the format a pixmap holds: QPixmap.fromImage then shares
    # the pixels instead of converting them (about 15 ms per 1800 px photo on the GUI thread)
    return QImage(img.tobytes(), w, h, 3 * w, QImage.Format_RGB888).convertToFormat(QImage.Format_RGB32), source


class _Signals(QObject):
    done = Signal(int, str, QImage, str)    # photo id, level, image, source
    error = Signal(int, str, str)           # photo id, level, reason


class _DecodeTask(QRunnable):
    def __init__(self, loader: "ImageLoader", photo_id: int, path: str, level: str):
        super().__init__()
        self.loader, self.photo_id, self.path, self.level = loader, photo_id, path, level

    def run(self) -> None:
        key = (self.photo_id, self.level)
        with self.loader._lock:
            if key not in self.loader._wanted or key in self.loader._running:
                return  # no longer wanted (the user moved on), or another task has it
            self.loader._running.add(key)
        try:
            image, source = decode_image(self.path, self.level)
        except Exception as exc:  # DecodeError and anything a broken file raises
            self.loader._signals.error.emit(self.photo_id, self.level, str(exc))
            return
        finally:
            with self.loader._lock:
                self.loader._running.discard(key)
        self.loader._signals.done.emit(self.photo_id, self.level, image, source)


class ImageLoader(QObject):
    """Decodes photos in a small thread pool; LRU cache of QImages bounded in bytes."""

    loaded = Signal(int, str)          # photo id, level ('screen' or 'full')
    failed = Signal(int, str)          # photo id, reason

    def __init__(self, max_bytes: int = 640 * 1024 * 1024, threads: int = 2, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.max_bytes = max_bytes
        self._cache: OrderedDict[tuple[int, str], tuple[QImage, int, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._wanted: set = set()
        self._running: set = set()  # keys a task is decoding right now
        self.errors: dict[int, str] = {}
        self._signals = _Signals()
        self._signals.done.connect(self._on_done, Qt.QueuedConnection)
        self._signals.error.connect(self._on_error, Qt.QueuedConnection)

    def image(self, photo_id: int, level: str = "screen") -> QImage | None:
        item = self._cache.get((photo_id, level))
        if item is None:
            return None
        self._cache.move_to_end((photo_id, level))
        return item[0]

    def best(self, photo_id: int) -> QImage | None:
        full = self.image(photo_id, "full")
        return full if full is not None else self.image(photo_id, "screen")

    def best_for(self, photo_id: int, size: QSize) -> QImage | None:
        """The smallest cached image of the photo that fills `size` (in device pixels) once fitted,
        else the largest cached one."""
        found = None
        for level in LEVELS:
            image = self.image(photo_id, level)
            if image is not None:
                found = image
                if image.width() >= size.width() or image.height() >= size.height():
                    return image
        return found

    def source(self, photo_id: int) -> str | None:
        for level in ("full", "screen"):
            item = self._cache.get((photo_id, level))
            if item is not None:
                return item[2]
        return None

    def request(self, wanted: list[tuple[int, str, str]]) -> None:
        """Load these (photo id, path, level) items, first first; forget older requests."""
        self.pool.clear()  # queued tasks not started are dropped; what is still wanted is queued again
        with self._lock:
            self._wanted = {(pid, level) for pid, _, level in wanted}
            running = set(self._running)
        for priority, (pid, path, level) in enumerate(reversed(wanted)):
            key = (pid, level)
            if key in self._cache or key in running or pid in self.errors:
                continue
            self.pool.start(_DecodeTask(self, pid, path, level), priority)

    def _on_done(self, photo_id: int, level: str, image: QImage, source: str) -> None:
        key = (photo_id, level)
        n = image.sizeInBytes()
        old = self._cache.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._cache[key] = (image, n, source)
        self._bytes += n
        while self._bytes > self.max_bytes and len(self._cache) > 1:
            _, (_, m, _) = self._cache.popitem(last=False)
            self._bytes -= m
        self.loaded.emit(photo_id, level)

    def _on_error(self, photo_id: int, level: str, reason: str) -> None:
        self.errors[photo_id] = reason
        self.failed.emit(photo_id, reason)

    def shutdown(self, wait_ms: int = 5000) -> None:
        with self._lock:
            self._wanted = set()
        self.pool.clear()
        self.pool.waitForDone(wait_ms)


REJECT_FRAME = 4  # px: the red frame around a rejected photo in the loupe and compare

class ImagePane(QWidget):
    """One photo, fit to the pane or zoomed (1.0 = 100%, one image pixel per screen pixel).

    The view is (zoom or None for fit, centre x, centre y) with the centre relative to the image,
    so two panes showing photos of different sizes still look at the same part of the frame.
    """

    view_changed = Signal(object, float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(QSize(200, 150))
        self._image: QImage | None = None
        self._pixmap: QPixmap | None = None
        self._full_size = QSize()
        self._fit_cache: QPixmap | None = None
        self._fit_for: QSize | None = None   # the size _fit_cache was made for
        self._overlay: QPixmap | None = None  # the same image with clipped pixels painted (J), when shown
        self.zoom: float | None = None
        self.cx = self.cy = 0.5
        self._drag: QPointF | None = None
        self.message = ""
        # a rejected photo gets a red frame, never dimmed pixels: its exposure must stay judgeable
        self.rejected = False
        self.setFocusPolicy(Qt.NoFocus)

    def set_image(self, image: QImage | None, full_size: QSize | None = None, message: str = "") -> None:
        self._image = image if image is not None and not image.isNull() else None
        self._pixmap = QPixmap.fromImage(self._image) if self._image is not None else None
        self._full_size = QSize(full_size) if full_size is not None and full_size.isValid() else (
            self._image.size() if self._image is not None else QSize())
        if self._image is not None and (self._image.width() > self._full_size.width()):
            self._full_size = self._image.size()
        self._fit_cache = self._fit_for = None
        self._overlay = None
        self.message = message
        self.update()

    def image(self) -> QImage | None:
        """The image shown (decoded or a placeholder), None before one arrives."""
        return self._image

    def set_overlay(self, image: QImage | None) -> None:
        """Show `image` (the shown image with clipped pixels painted, the same size) in its place, or
        the image itself again (None)."""
        ok = image is not None and not image.isNull() and self._image is not None and image.size() == self._image.size()
        self._overlay = QPixmap.fromImage(image) if ok else None
        self._fit_cache = None
        self.update()

    def has_overlay(self) -> bool:
        return self._overlay is not None

    def has_image(self) -> bool:
        return self._pixmap is not None

    def set_view(self, zoom: float | None, cx: float = 0.5, cy: float = 0.5, emit: bool = False) -> None:
        self.zoom = zoom
        self.cx, self.cy = min(max(cx, 0.0), 1.0), min(max(cy, 0.0), 1.0)
        self.update()
        if emit:
            self.view_changed.emit(self.zoom, self.cx, self.cy)

    def toggle_zoom(self, at: QPointF | None = None) -> None:
        if self.zoom is None:
            cx, cy = self._rel_at(at) if at is not None else (self.cx, self.cy)
            self.set_view(1.0, cx, cy, emit=True)
        else:
            self.set_view(None, 0.5, 0.5, emit=True)

    def fit_scale(self) -> float:
        if not self._full_size.isValid() or self._full_size.isEmpty():
            return 1.0
        dpr = self.devicePixelRatioF()
        return min(self.width() * dpr / self._full_size.width(), self.height() * dpr / self._full_size.height(), 1.0)

    def _scale(self) -> float:
        """Screen device pixels per full-resolution image pixel."""
        return self.fit_scale() if self.zoom is None else self.zoom

    def _target_rect(self) -> QRectF:
        dpr = self.devicePixelRatioF()
        s = self._scale() / dpr
        w, h = self._full_size.width() * s, self._full_size.height() * s
        if self.zoom is None:
            return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        x = self.width() / 2 - self.cx * w
        y = self.height() / 2 - self.cy * h
        if w <= self.width():
            x = (self.width() - w) / 2
        if h <= self.height():
            y = (self.height() - h) / 2
        return QRectF(x, y, w, h)

    def _rel_at(self, pos: QPointF) -> tuple[float, float]:
        t = self._target_rect()
        if t.width() <= 0 or t.height() <= 0:
            return 0.5, 0.5
        return (pos.x() - t.left()) / t.width(), (pos.y() - t.top()) / t.height()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#141517"))
        if self._pixmap is None:
            p.setPen(QColor("#8b9099"))
            p.drawText(self.rect(), Qt.AlignCenter, self.message or "")
            return
        target = self._target_rect()
        shown = self._overlay or self._pixmap
        if self.zoom is None:
            self._fit(target, shown)
            p.drawPixmap(target.topLeft(), self._fit_cache)
        else:
            p.setRenderHint(QPainter.SmoothPixmapTransform, self._scale() < 1.0)
            p.drawPixmap(target, shown, QRectF(shown.rect()))
        if self.rejected:
            p.setPen(QPen(QColor("#d64545"), REJECT_FRAME))
            p.setBrush(Qt.NoBrush)
            half = REJECT_FRAME / 2
            p.drawRect(QRectF(self.rect()).adjusted(half, half, -half, -half))
        if self.zoom is not None:
            p.setPen(QColor("#d8dadf"))
            label = f"{self.zoom * 100:.0f}%"
            p.fillRect(QRectF(8, self.height() - 26, 52, 18), QColor(0, 0, 0, 150))
            p.drawText(QRectF(8, self.height() - 26, 52, 18), Qt.AlignCenter, label)

    def _fit(self, target: QRectF, shown: QPixmap) -> None:
        """The photo shown (`shown`: with its clipping overlay or not) smoothly scaled to `target` in
        _fit_cache, made once per size (kept by the size asked for: the aspect ratio may round the
        scaled one a pixel off it; whatever changes the photo shown clears _fit_cache)."""
        dpr = self.devicePixelRatioF()
        want = QSize(max(1, int(target.width() * dpr)), max(1, int(target.height() * dpr)))
        if self._fit_for != want or self._fit_cache is None:
            self._fit_for = want
            self._fit_cache = shown.scaled(want, Qt.KeepAspectRatio, Qt.SmoothTransformation)
            self._fit_cache.setDevicePixelRatio(dpr)

    def fit_size(self) -> QSize:
        """The device pixels the pane fits a photo into (its whole area)."""
        dpr = self.devicePixelRatioF()
        return QSize(int(self.width() * dpr), int(self.height() * dpr))

    def resizeEvent(self, event) -> None:
        self._fit_cache = self._fit_for = None
        super().resizeEvent(event)

    def wheelEvent(self, event) -> None:
        if self._pixmap is None:
            return
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        cur = self._scale()
        new = max(0.05, min(8.0, cur * factor))
        if self.zoom is None and factor < 1:
            return
        cx, cy = self._rel_at(event.position())
        if new <= self.fit_scale() and factor < 1:
            self.set_view(None, 0.5, 0.5, emit=True)
        else:
            self.set_view(new, cx, cy, emit=True)
        event.accept()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton:
            self._drag = event.position()

    def mouseMoveEvent(self, event) -> None:
        if self._drag is None or self.zoom is None:
            return
        t = self._target_rect()
        d = event.position() - self._drag
        self._drag = event.position()
        if t.width() > 0 and t.height() > 0:
            self.set_view(self.zoom, self.cx - d.x() / t.width(), self.cy - d.y() / t.height(), emit=True)

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None

    def mouseDoubleClickEvent(self, event) -> None:
        self.toggle_zoom(event.position())
