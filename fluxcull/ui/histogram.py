"""The loupe's live histogram (luminance and R, G, B) and its clipping warning (J), computed off the
GUI thread from the image the loupe shows (the counts and the overlay: fluxcull.media.histogram).

`HistogramWorker.compute(key, image, overlay)` hands the image to one worker thread; `done(key,
Histogram, QImage)` comes back on the GUI thread (the QImage is the image with clipped pixels painted,
or a null image when no overlay was asked for). A newer request makes older results stale: they are
dropped, never shown on the wrong photo.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

if TYPE_CHECKING:  # numpy and the counting load with the first histogram, not with the window
    import numpy as np

    from fluxcull.media.histogram import Histogram

CHANNELS = (("red", QColor(230, 70, 70, 110)), ("green", QColor(80, 200, 90, 110)), ("blue", QColor(80, 130, 240, 110)))
LUMINANCE_PEN = QColor("#e8e8e8")


def image_array(image: QImage) -> "np.ndarray":
    """An (h, w, 3) uint8 copy of a QImage's RGB pixels (any format; safe on any thread)."""
    import numpy as np

    img = image.convertToFormat(QImage.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def array_image(rgb: "np.ndarray") -> QImage:
    import numpy as np

    h, w, _ = rgb.shape
    data = np.ascontiguousarray(rgb)
    return QImage(data.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class _Signals(QObject):
    done = Signal(object, object, QImage)  # key, Histogram, overlay (null: none asked)


class _Task(QRunnable):
    def __init__(self, worker: "HistogramWorker", key, image: QImage, overlay: bool, serial: int):
        super().__init__()
        self.worker, self.key, self.image, self.overlay, self.serial = worker, key, image, overlay, serial

    def run(self) -> None:
        if self.serial != self.worker._serial:
            return  # a newer image came meanwhile
        from fluxcull.media.histogram import clipping_overlay, histogram

        rgb = image_array(self.image)
        hist = histogram(rgb)
        over = array_image(clipping_overlay(rgb)) if self.overlay and self.serial == self.worker._serial else QImage()
        if self.serial == self.worker._serial:
            self.worker._signals.done.emit(self.key, hist, over)


class HistogramWorker(QObject):
    done = Signal(object, object, QImage)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._serial = 0
        self._lock = threading.Lock()
        self._signals = _Signals()
        self._signals.done.connect(self._deliver, Qt.QueuedConnection)

    def compute(self, key, image: QImage | None, overlay: bool) -> None:
        """Count `image` (and paint its clipping overlay when asked) on the worker thread."""
        with self._lock:
            self._serial += 1
            serial = self._serial
        self.pool.clear()
        if image is not None and not image.isNull():
            self.pool.start(_Task(self, key, QImage(image), overlay, serial))

    def _deliver(self, key, hist, overlay) -> None:
        self.done.emit(key, hist, overlay)

    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0

    def shutdown(self, wait_ms: int = 5000) -> None:
        with self._lock:
            self._serial += 1
        self.pool.clear()
        self.pool.waitForDone(wait_ms)


def share_text(count: int, total: int) -> str:
    """'2.3%', '<0.1%' for a few pixels (never a 0.0% beside a lit triangle), '0%' for none."""
    if not count or not total:
        return "0%"
    share = count / total * 100
    return "<0.1%" if share < 0.05 else f"{share:.1f}%"


class HistogramView(QWidget):
    """R, G and B as translucent areas, luminance as a line; the corner triangles light up (blue
    left, red right) when shadows or highlights are clipped; the shares clipped below them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.hist: Histogram | None = None
        self.setToolTip("Histogram of the photo shown: luminance (line) and red, green, blue. The corner "
                        "triangles light up when highlights (red) or shadows (blue) are clipped; J marks those "
                        "pixels on the photo")

    def set_histogram(self, hist: Histogram | None) -> None:
        self.hist = hist
        self.update()

    def summary(self) -> str:
        h = self.hist
        if h is None:
            return ""
        return (f"Shadows clipped {share_text(h.clipped_shadows, h.pixels)}   "
                f"Highlights clipped {share_text(h.clipped_highlights, h.pixels)}")

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        area = QRectF(self.rect()).adjusted(1, 1, -1, -15)
        p.fillRect(self.rect(), QColor("#17181b"))
        h = self.hist
        if h is None or not h.pixels:
            return
        # the tallest level (the extremes left out, where clipping piles up) fills the height
        top = max(max(int(c[1:-1].max()) for c in (h.red, h.green, h.blue, h.luminance)), 1)

        def path(counts, closed: bool) -> QPainterPath:
            pts = [QPointF(area.left() + area.width() * i / 255.0,
                           area.bottom() - area.height() * min(float(c) / top, 1.0)) for i, c in enumerate(counts)]
            pp = QPainterPath(QPointF(area.left(), area.bottom()) if closed else pts[0])
            for pt in pts:
                pp.lineTo(pt)
            if closed:
                pp.lineTo(QPointF(area.right(), area.bottom()))
                pp.closeSubpath()
            return pp

        p.setPen(Qt.NoPen)
        for name, colour in CHANNELS:
            p.setBrush(colour)
            p.drawPath(path(getattr(h, name), True))
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(LUMINANCE_PEN, 1.2))
        p.drawPath(path(h.luminance, False))
        for on, colour, x, sign in ((h.clipped_shadows, QColor("#3a7bff"), area.left() + 2, 1),
                                    (h.clipped_highlights, QColor("#ff3b3b"), area.right() - 2, -1)):
            tri = QPolygonF([QPointF(x, area.top() + 2), QPointF(x + sign * 9, area.top() + 2),
                             QPointF(x, area.top() + 11)])
            p.setPen(QPen(QColor("#8b9099"), 1))
            p.setBrush(colour if on else Qt.NoBrush)
            p.drawPolygon(tri)
        p.setPen(QColor("#8b9099"))  # the shares clipped under their triangles: shadows left, highlights right
        band = QRectF(2, self.height() - 14, self.width() - 4, 14)
        p.drawText(band, Qt.AlignLeft | Qt.AlignVCenter, f"Shadows {share_text(h.clipped_shadows, h.pixels)}")
        p.drawText(band, Qt.AlignRight | Qt.AlignVCenter, f"{share_text(h.clipped_highlights, h.pixels)} highlights")
