"""The thumbnail grid: one QListView in wrapping list mode with a fixed grid size.

The view works out which rows are on screen from the scroll offset (uniform cells make it
arithmetic), asks the ThumbLoader for them plus a screenful ahead in the scrolling direction, and
repaints once per batch of thumbnails that arrive.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QAbstractItemView, QListView

from fluxcull.ui.delegate import FOOTER, MARGIN, PAD, ThumbDelegate
from fluxcull.ui.thumbs import ThumbLoader, source_for

MIN_SIDE, MAX_SIDE, DEFAULT_SIDE = 96, 480, 176


class GridView(QListView):
    activated_photo = Signal(int)  # row double-clicked or Enter
    visible_changed = Signal(int, int)

    def __init__(self, lib, loader: ThumbLoader, parent=None):
        super().__init__(parent)
        self.lib = lib
        self.loader = loader
        self.thumb_side = DEFAULT_SIDE
        self.no_upscale = False
        self.show_unscored = False
        self.empty_text = ""  # shown in the grid when its query finds no photo (fluxcull.ui.empty)
        self._last_offset = 0
        self._direction = 1
        self.setViewMode(QListView.ListMode)
        self.setFlow(QListView.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.SinglePass)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setMouseTracking(False)
        self.setItemDelegate(ThumbDelegate(self))
        self._apply_grid()

        self._request_timer = QTimer(self, singleShot=True, interval=0)
        self._request_timer.timeout.connect(self.request_visible)
        self._repaint_timer = QTimer(self, singleShot=True, interval=12)
        self._repaint_timer.timeout.connect(self.viewport().update)
        self.verticalScrollBar().valueChanged.connect(self._on_scroll)
        loader.ready.connect(self._on_thumb)
        loader.failed.connect(self._on_thumb)
        self.doubleClicked.connect(lambda ix: self.activated_photo.emit(ix.row()))

    # -- position -------------------------------------------------------------------------------
    def current_row(self) -> int | None:
        ix = self.currentIndex()
        return ix.row() if ix.isValid() else None

    def selected_rows(self) -> list[int]:
        return sorted(ix.row() for ix in self.selectionModel().selectedRows())

    def set_current_row(self, row: int, scroll: bool = True) -> None:
        """Make `row` (clamped) the current and only selected row; scroll to it."""
        n = self.model().rowCount()
        if n == 0:
            return
        ix = self.model().index(max(0, min(n - 1, row)), 0)
        self.selectionModel().setCurrentIndex(ix, QItemSelectionModel.ClearAndSelect)
        if scroll:
            self.scrollTo(ix)

    def stop_timers(self) -> None:
        self._request_timer.stop()
        self._repaint_timer.stop()

    # -- geometry -------------------------------------------------------------------------------
    def _apply_grid(self) -> None:
        """Cells of the chosen size, widened so the columns fill the row (no ragged right edge)."""
        side = self.thumb_side
        base_w = side + 2 * (PAD + MARGIN)
        # the width the layout wraps at whether or not the scroll bar shows
        vw = self.maximumViewportSize().width() - self.verticalScrollBar().sizeHint().width() - 2
        cols = max(1, vw // base_w) if vw > 0 else 1
        cell_w = max(base_w, vw // cols) if vw > 0 else base_w
        size = QSize(cell_w, side + 2 * (PAD + MARGIN) + FOOTER)
        if size != self.gridSize():
            self.setGridSize(size)
            self.executeDelayedItemsLayout()  # visible_range() relies on the new layout at once
        self.verticalScrollBar().setSingleStep(max(20, size.height() // 3))

    def set_thumb_side(self, side: int) -> None:
        side = max(MIN_SIDE, min(MAX_SIDE, int(side)))
        if side == self.thumb_side:
            return
        current = self.currentIndex()
        self.thumb_side = side
        self._apply_grid()
        self.doItemsLayout()
        if current.isValid():
            self.scrollTo(current, QAbstractItemView.PositionAtCenter)
        self.schedule_requests()

    def columns(self) -> int:
        """Cells per line, read from the layout itself (the first row that starts a new line)."""
        model = self.model()
        n = model.rowCount() if model is not None else 0
        if n == 0:
            return 1
        y0 = self.rectForIndex(model.index(0)).y()
        for k in range(1, min(n, 512)):
            if self.rectForIndex(model.index(k)).y() != y0:
                return k
        return min(n, 512)

    def visible_range(self) -> tuple[int, int]:
        """(first, last) rows at least partly on screen; (0, -1) when empty."""
        model = self.model()
        n = model.rowCount() if model is not None else 0
        if n == 0:
            return 0, -1
        gh = max(1, self.gridSize().height())
        cols = self.columns()
        off = self.verticalOffset()
        first = (off // gh) * cols
        last = ((off + self.viewport().height() - 1) // gh) * cols + cols - 1
        return min(first, n - 1), min(last, n - 1)

    # -- thumbnails -------------------------------------------------------------------------------
    def decode_side(self) -> int:
        return int(round(self.thumb_side * self.devicePixelRatioF()))

    def thumb_source(self, rec: dict) -> str | None:
        """The file the cell's thumbnail is read from (remembered in the cached record)."""
        try:
            return rec["_src"]
        except KeyError:
            src = rec["_src"] = source_for(self.lib, rec)
            return src

    def thumb_cache_key(self, rec: dict):
        src = self.thumb_source(rec)
        return None if src is None else (src, self.decode_side())

    def schedule_requests(self) -> None:
        self._request_timer.start()

    def request_visible(self) -> None:
        model = self.model()
        first, last = self.visible_range()
        if model is None or last < first:
            self.loader.want([])
            return
        n = model.rowCount()
        span = last - first + 1
        if self._direction >= 0:
            ahead = range(last + 1, min(n, last + 1 + span))
            behind = range(max(0, first - span // 2), first)
        else:
            ahead = range(max(0, first - span), first)
            behind = range(last + 1, min(n, last + 1 + span // 2))
        rows = list(range(first, last + 1)) + (list(ahead) if self._direction >= 0 else list(reversed(ahead)))
        rows += list(behind)
        side = self.decode_side()
        items, seen = [], set()
        for row in rows:
            rec = model.record(row)
            src = self.thumb_source(rec) if rec else None
            if src is None:
                continue
            key = (src, side)
            if key not in seen:
                seen.add(key)
                items.append((key, src, side))
        self.loader.want(items)
        self.visible_changed.emit(first, last)

    def _on_scroll(self, value: int) -> None:
        self._direction = 1 if value >= self._last_offset else -1
        self._last_offset = value
        # at once, not on the next pass of the event loop: that pass paints the new rows'
        # placeholders first (5-10 ms at 400,000 rows), and the reads would wait for it
        self._request_timer.stop()
        self.request_visible()

    def _on_thumb(self, _key) -> None:
        if not self._repaint_timer.isActive():
            self._repaint_timer.start()

    # -- events -------------------------------------------------------------------------------
    def dataChanged(self, top_left, bottom_right, roles=()) -> None:
        """Repaint what changed. QListView's own handler schedules a relayout of every row (about
        20 ms at 400,000 rows) although cells never change size; so it is not called."""
        if top_left == bottom_right and top_left.isValid():
            self.viewport().update(self.visualRect(top_left))
        else:
            self.viewport().update()

    def setModel(self, model) -> None:
        super().setModel(model)
        model.modelReset.connect(self.schedule_requests)
        model.dataChanged.connect(lambda *a: self.schedule_requests())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_grid()
        self.schedule_requests()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.schedule_requests()

    def set_empty_text(self, text: str) -> None:
        self.empty_text = text
        self.viewport().update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        model = self.model()
        if self.empty_text and model is not None and model.rowCount() == 0:
            p = QPainter(self.viewport())
            p.setPen(QColor("#b4b8bf"))
            f = p.font()
            f.setPointSizeF(f.pointSizeF() * 1.2)
            p.setFont(f)
            r = self.viewport().rect()
            w = min(r.width() - 40, 640)
            p.drawText(r.adjusted((r.width() - w) // 2, 0, -(r.width() - w) // 2, 0),
                       Qt.AlignCenter | Qt.TextWordWrap, self.empty_text)
            p.end()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.currentIndex().isValid():
            self.activated_photo.emit(self.currentIndex().row())
            return
        super().keyPressEvent(event)
        # Qt scrolls only when the current cell changes: Home on the first photo, with the grid
        # scrolled away by the mouse, would leave the view where it was
        if event.key() in (Qt.Key_Home, Qt.Key_End) and self.currentIndex().isValid():
            self.scrollTo(self.currentIndex())

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.ControlModifier:
            step = 16 if event.angleDelta().y() > 0 else -16
            self.set_thumb_side(self.thumb_side + step)
            event.accept()
            return
        super().wheelEvent(event)
