"""The Drafts view's strips of thumbnails: a draft in order (drag, Ctrl+←/→ to reorder, Delete to
remove), a photo's alternatives, a sequence suggestion in small.

Thumbnails come from the grid's loading (fluxcull.ui.thumbs: the disk thumbnail read scaled by a
QThreadPool off the GUI thread, into a byte-bounded pixmap cache), one `DraftThumbs` for the whole
view, so that a photo shown in several strips is read once. A strip is a QListWidget in icon mode
with static movement: a drag within it moves the row (QAbstractItemModel.moveRow), which
`reordered` reports with the new order of photo ids.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

from fluxcull.ui.thumbs import PixmapCache, ThumbLoader, source_for

ID_ROLE = Qt.UserRole
KEY_ROLE = Qt.UserRole + 1


def when(rec: dict) -> str:
    """The capture date and time as taken ('2024-03-09 08:00'), else from the file time; '' unknown."""
    taken = (rec.get("taken_at") or "").replace("T", " ")[:16]
    if taken:
        return taken
    if rec.get("capture_time") is None:
        return ""
    return dt.datetime.fromtimestamp(float(rec["capture_time"]), dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def name(rec: dict) -> str:
    return Path(rec.get("path") or "").name or f"photo {rec.get('photo_id')}"


class DraftThumbs(QObject):
    """Thumbnails for every strip of the view: what they show is wanted, nothing else."""

    SIDE = 256  # read at this size once; each strip scales it to its icons

    def __init__(self, lib, parent=None, cache_bytes: int = 96 * 1024 * 1024):
        super().__init__(parent)
        self.lib = lib
        self.loader = ThumbLoader(PixmapCache(cache_bytes), threads=2, parent=self)
        self.loader.ready.connect(self._arrived)
        self.loader.failed.connect(lambda key: None)
        self.strips: list[QListWidget] = []
        self._blank = QPixmap(self.SIDE * 3 // 2, self.SIDE)
        self._blank.fill(QColor("#2a2d32"))

    def key(self, rec: dict) -> str | None:
        """The file the thumbnail is read from (the cache's key: one size in this view)."""
        return source_for(self.lib, {"thumb_key": rec.get("thumb_key"), "path": rec.get("path")})

    def icon(self, key) -> QIcon:
        pix = self.loader.pixmap(key) if key is not None else None
        return QIcon(pix if pix is not None else self._blank)

    def request(self) -> None:
        """Want the thumbnails of every item of every strip (the main strip's first)."""
        items, seen = [], set()
        for strip in self.strips:
            for row in range(strip.count()):
                key = strip.item(row).data(KEY_ROLE)
                if key is not None and key not in seen:
                    seen.add(key)
                    items.append((key, key, self.SIDE))
        self.loader.want(items)

    def _arrived(self, key) -> None:
        icon = self.icon(key)
        for strip in self.strips:
            for row in range(strip.count()):
                if strip.item(row).data(KEY_ROLE) == key:
                    strip.item(row).setIcon(icon)

    def idle(self) -> bool:
        """Every thumbnail shown is there (or could not be read)."""
        if not self.loader.idle():
            return False
        for strip in self.strips:
            for row in range(strip.count()):
                key = strip.item(row).data(KEY_ROLE)
                if key is not None and key not in self.loader.cache and not self.loader.is_failed(key):
                    return False
        return True

    def shutdown(self) -> None:
        self.loader.shutdown()


class PhotoStrip(QListWidget):
    """Photos side by side, in order, each its thumbnail and a caption."""

    reordered = Signal(list)   # the photo ids in their new order (a drag, or Ctrl+←/→)
    remove_wanted = Signal(int)

    def __init__(self, thumbs: DraftThumbs, icon: int = 150, captions: bool = True, parent=None):
        super().__init__(parent)
        self.thumbs = thumbs
        thumbs.strips.append(self)
        self.setViewMode(QListView.IconMode)
        self.setFlow(QListView.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Static)  # a drop moves the row, not the icon to a free place
        self.setResizeMode(QListView.Adjust)
        self.setIconSize(QSize(icon * 3 // 2, icon))
        self.setSpacing(4 if captions else 2)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setWordWrap(True)
        self.setFixedHeight(icon + (62 if captions else 22))
        self.captions = captions
        self.editable = False
        self._loading = False
        self.model().rowsMoved.connect(self._moved)

    def set_editable(self, on: bool) -> None:
        """Drag to reorder, Ctrl+←/→ and Delete: only while the draft may change."""
        self.editable = on
        self.setDragDropMode(QAbstractItemView.InternalMove if on else QAbstractItemView.NoDragDrop)
        self.setDefaultDropAction(Qt.MoveAction)

    def show_items(self, recs: list[dict], caption, tooltip=None) -> None:
        """Show these records (photo_id, path, thumb_key, ...) with caption(k, rec) under each."""
        current = self.current_id()
        self._loading = True
        try:
            self.clear()
            for k, rec in enumerate(recs, 1):
                key = self.thumbs.key(rec)
                item = QListWidgetItem(self.thumbs.icon(key), caption(k, rec) if self.captions else "")
                item.setData(ID_ROLE, int(rec["photo_id"]))
                item.setData(KEY_ROLE, key)
                item.setTextAlignment(Qt.AlignHCenter | Qt.AlignTop)
                item.setToolTip(tooltip(k, rec) if tooltip else name(rec))
                self.addItem(item)
        finally:
            self._loading = False
        self.select_id(current)
        self.thumbs.request()

    def ids(self) -> list[int]:
        return [int(self.item(r).data(ID_ROLE)) for r in range(self.count())]

    def current_id(self) -> int | None:
        item = self.currentItem()
        return None if item is None else int(item.data(ID_ROLE))

    def select_id(self, photo_id: int | None) -> None:
        ids = self.ids()
        if photo_id in ids:
            self.setCurrentRow(ids.index(photo_id))

    def move_current(self, step: int) -> bool:
        """Move the current photo `step` places (Ctrl+← / Ctrl+→); reported by `reordered`."""
        row = self.currentRow()
        if not self.editable or row < 0 or not 0 <= row + step < self.count():
            return False
        self._loading = True
        try:
            item = self.takeItem(row)
            self.insertItem(row + step, item)
            self.setCurrentRow(row + step)
        finally:
            self._loading = False
        self.reordered.emit(self.ids())
        return True

    def _moved(self, *_):
        if not self._loading and self.editable:
            self.reordered.emit(self.ids())

    def keyPressEvent(self, event) -> None:
        ctrl = event.modifiers() & (Qt.ControlModifier | Qt.AltModifier)
        if ctrl and event.key() in (Qt.Key_Left, Qt.Key_Right):
            self.move_current(-1 if event.key() == Qt.Key_Left else 1)
            return
        if event.key() in (Qt.Key_Delete, Qt.Key_Backspace) and self.editable and self.current_id() is not None:
            self.remove_wanted.emit(self.current_id())
            return
        super().keyPressEvent(event)
