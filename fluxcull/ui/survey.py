"""The survey view (N, as in Lightroom): 2-8 photos, or a whole stack, side by side, each scaled to fit
its tile, so the best of a burst is chosen by elimination.

A click or the arrows choose a photo; P / X / U (or a tile's ✔ / ✖) keep or reject it; / or Delete
(or the tile's ×) eliminates it: it leaves the survey, and each photo still shown is preferred over it
(pairs the keeper model learns from: fluxcull.culling.CullingSession.eliminated; Ctrl+Z brings it back).
Enter keeps the photos that remain. Zoom (Z, the wheel, a double-click) is synchronised across tiles.
Images come from the window's ImageLoader (decoded off the GUI thread, cached): at its 'tile' level
(a few hundred pixels) while the tiles are small, the 'screen' level for two or three large ones, every
pixel of the current photo at 100%; the grid's thumbnail stands in until then.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPen
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from fluxcull.catalog.scores import apply_decision
from fluxcull.culling import file_name
from fluxcull.ui import theme
from fluxcull.ui.compare import marks_html
from fluxcull.ui.delegate import record_pill
from fluxcull.ui.images import TILE_SIDE, ImageLoader, ImagePane
from fluxcull.ui.loupe import state_note

MAX_PHOTOS = 8
ASPECT = 1.5      # the photo shape the tiles are laid out for
CAPTION = 26      # px above each photo


def grid_shape(n: int, width: int, height: int) -> tuple[int, int]:
    """(columns, rows) giving n photos of ASPECT the largest tiles in width x height."""
    best, shape = -1.0, (max(n, 1), 1)
    for cols in range(1, max(n, 1) + 1):
        rows = -(-n // cols)
        w, h = width / cols, height / rows - CAPTION
        fit = min(w, h * ASPECT)
        if fit > best + 1e-9:
            best, shape = fit, (cols, rows)
    return shape


class _Tile(QFrame):
    """One photo of the survey: caption (key, name, score pill, decision, what it is), ✔ ✖ × buttons,
    and the photo scaled to fit."""

    chosen = Signal(int)
    action = Signal(int, str)   # photo id, 'keep' | 'reject' | 'eliminate'

    def __init__(self, photo_id: int, parent=None):
        super().__init__(parent)
        self.photo_id = photo_id
        self.current = False
        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.pill = QLabel()
        self.note = QLabel()
        self.note.setTextFormat(Qt.RichText)
        row = QHBoxLayout()
        row.setContentsMargins(6, 2, 2, 2)
        row.setSpacing(4)
        row.addWidget(self.title)
        row.addWidget(self.pill)
        row.addWidget(self.note, 1)
        for text, kind, tip, colour in (
                ("✔", "keep", "Keep this photo (P)", "#43b96f"), ("✖", "reject", "Reject this photo (X)", "#d9534f"),
                ("×", "eliminate", "Take it out of the survey: the others are preferred over it (/)", "#d8dadf")):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setStyleSheet(f"QToolButton {{ color: {colour}; font-weight: bold; }}")
            b.setFocusPolicy(Qt.NoFocus)
            b.setObjectName(f"survey_{kind}")
            b.clicked.connect(lambda *_, k=kind: self.action.emit(self.photo_id, k))
            row.addWidget(b)
        self.pane = ImagePane()
        self.pane.setMinimumSize(QSize(80, 60))
        self.pane.installEventFilter(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(3, 3, 3, 3)
        lay.setSpacing(0)
        lay.addLayout(row)
        lay.addWidget(self.pane, 1)

    def set_record(self, rec: dict, key: str, linked: bool) -> None:
        self.title.setText(f'<span style="color:#6b7078">[{key}]</span> {escape(file_name(rec))}')
        font = QFont(self.font())
        font.setBold(True)
        self.pill.setPixmap(record_pill(rec, linked, font, dpr=self.devicePixelRatioF()))
        decision = {"keep": '<span style="color:#43b96f">✔ keep</span>',
                    "reject": '<span style="color:#d9534f">✖ reject</span>'}.get(rec.get("decision"), "")
        note = state_note(rec, linked)
        self.note.setText(" ".join(x for x in (decision, marks_html(rec).replace("&nbsp;", ""),
                                                f'<span style="color:#b8bcc4">{escape(note)}</span>' if note else "")
                                   if x))
        self.pane.rejected = rec.get("decision") == "reject"
        self.pane.update()

    def set_current(self, on: bool) -> None:
        if on != self.current:
            self.current = on
            self.update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.current:  # the photo the keys act on: framed in the accent colour
            p = QPainter(self)
            p.setPen(QPen(theme.ACCENT, 2.0))
            p.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 3, 3)
            p.end()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.pane and event.type() == QEvent.MouseButtonPress:
            self.chosen.emit(self.photo_id)
        return False

    def mousePressEvent(self, event) -> None:
        self.chosen.emit(self.photo_id)
        super().mousePressEvent(event)


class SurveyView(QWidget):
    eliminated = Signal(int, list)   # the photo taken out, the photos still shown (each preferred over it)
    decide = Signal(int, str)        # a tile's ✔ / ✖: photo id, 'keep' | 'reject'
    confirmed = Signal(list)         # Enter: the photos that remain
    said = Signal(str)               # a message for the status bar

    def __init__(self, catalog, loader: ImageLoader, thumb_image, parent=None):
        """thumb_image(rec) -> QImage | None: the grid's thumbnail, shown while the photo decodes."""
        super().__init__(parent)
        self.catalog = catalog
        self.loader = loader
        self.thumb_image = thumb_image
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setSpacing(4)
        self.setFocusPolicy(Qt.StrongFocus)
        self.order: list[int] = []       # every photo the survey began with, in its order
        self.ids: list[int] = []         # the photos still shown
        self.records: dict[int, dict] = {}
        self.linked: set[int] = set()
        self.tiles: dict[int, _Tile] = {}  # photo id -> its tile
        self._spare: list[_Tile] = []       # tiles made once, reused by the next survey
        self.current_id: int | None = None
        self.zoom: float | None = None
        loader.loaded.connect(self._on_loaded)

    def name(self, photo_id: int) -> str:
        return file_name(self.records.get(photo_id))

    # -- the photos ------------------------------------------------------------------------------
    def start(self, ids: list[int]) -> None:
        """Show these photos (at most MAX_PHOTOS), the first one current."""
        for tile in self.tiles.values():
            tile.hide()
            tile.set_current(False)
            self._spare.append(tile)
        self.tiles = {}
        self.order = list(dict.fromkeys(int(i) for i in ids))[:MAX_PHOTOS]
        self.records = self.catalog.photos(self.order)
        self.order = [i for i in self.order if i in self.records]
        self.ids = list(self.order)
        self.linked = self.catalog.confirmed_keeper_ids() & set(self.order)
        self.zoom = None
        for pid in self.order:
            tile = self._spare.pop() if self._spare else self._new_tile()
            tile.photo_id = pid
            tile.pane.set_view(None)
            tile.show()
            self.tiles[pid] = tile
        self._captions()
        self._lay_out()
        for pid in self.order:
            rec = self.records[pid]
            image = self.loader.best_for(pid, self._tile_size())
            self.tiles[pid].pane.set_image(image if image is not None else self.thumb_image(rec), self._full_size(pid),
                                           message="decoding…")
        self.set_current(self.ids[0] if self.ids else None)
        self._request()

    def _new_tile(self) -> _Tile:
        tile = _Tile(0, self)
        tile.chosen.connect(self.set_current)
        tile.action.connect(self._on_action)
        tile.pane.view_changed.connect(lambda z, x, y, t=tile: self._sync(t.photo_id, z, x, y))
        return tile

    def set_current(self, photo_id: int | None) -> None:
        self.current_id = photo_id if photo_id in self.tiles else None
        for pid, tile in self.tiles.items():
            tile.set_current(pid == self.current_id)

    def move(self, step: int) -> None:
        if self.ids:
            at = self.ids.index(self.current_id) if self.current_id in self.ids else 0
            self.set_current(self.ids[(at + step) % len(self.ids)])

    def eliminate(self, photo_id: int | None = None) -> bool:
        """Take a photo (the current one) out of the survey: the others are preferred over it."""
        pid = self.current_id if photo_id is None else photo_id
        if pid not in self.ids:
            return False
        if len(self.ids) == 1:
            self.said.emit(f"{self.name(pid)} is the last photo of the survey: Enter keeps it")
            return False
        at = self.ids.index(pid)
        self.ids.remove(pid)
        self.tiles[pid].hide()
        self._captions()
        self._lay_out()
        self._request()  # fewer, larger tiles may want larger images
        if pid == self.current_id:
            self.set_current(self.ids[min(at, len(self.ids) - 1)])
        self.eliminated.emit(pid, list(self.ids))
        return True

    def restore(self, photo_id: int) -> bool:
        """Bring an eliminated photo back (its preferences were undone), in its place, current."""
        if photo_id not in self.order or photo_id in self.ids:
            return False
        self.ids = [i for i in self.order if i in self.ids or i == photo_id]
        self.tiles[photo_id].show()
        self._captions()
        self._lay_out()
        self.set_current(photo_id)
        self._request()
        self.said.emit(f"{self.name(photo_id)} is back in the survey")
        return True

    def confirm(self) -> list[int]:
        """Enter: keep the photos that remain."""
        if self.ids:
            self.confirmed.emit(list(self.ids))
        return list(self.ids)

    def show_decision(self, decision: str) -> None:
        """A decision on the current photo, shown before it is committed (with the score it imposes)."""
        rec = self.records.get(self.current_id)
        if rec is not None:
            apply_decision(rec, decision)
            self._captions()

    def refresh(self) -> None:
        """Read the photos' records again (decisions committed or undone)."""
        if self.order:
            self.records.update(self.catalog.photos(self.order))
            self._captions()

    def toggle_zoom(self) -> None:
        tile = self.tiles.get(self.current_id)
        if tile is not None:
            tile.pane.toggle_zoom()  # the others follow through view_changed
            self._request()

    # -- showing them ----------------------------------------------------------------------------
    def _captions(self) -> None:
        for n, pid in enumerate(self.ids, 1):
            self.tiles[pid].set_record(self.records[pid], str(n), pid in self.linked)

    def _lay_out(self) -> None:
        for tile in [*self.tiles.values(), *self._spare]:
            self.grid.removeWidget(tile)
        cols, rows = grid_shape(len(self.ids), max(self.width(), 1), max(self.height(), 1))
        for n, pid in enumerate(self.ids):
            self.grid.addWidget(self.tiles[pid], n // cols, n % cols)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)

    def _tile_size(self) -> QSize:
        """The device pixels of one tile's photo area, as the tiles are laid out now."""
        cols, rows = grid_shape(len(self.ids), max(self.width(), 1), max(self.height(), 1))
        dpr = self.devicePixelRatioF()
        return QSize(int(self.width() / cols * dpr), int((self.height() / rows - CAPTION) * dpr))

    def _level(self) -> str:
        """'tile' while a tile's photo fits in TILE_SIDE-sized images (a third more: DCT-scaled), else 'screen'."""
        size = self._tile_size()
        return "tile" if min(size.width() / ASPECT, size.height()) <= TILE_SIDE * 4 / 3 else "screen"

    def _full_size(self, pid: int) -> QSize:
        rec = self.records.get(pid, {})
        return QSize(rec.get("width") or 0, rec.get("height") or 0)

    def loaded(self) -> bool:
        """Whether every photo shown has its image at the level the tiles ask for (or failed)."""
        level = self._level()
        return bool(self.ids) and all(self.loader.image(pid, level) is not None or pid in self.loader.errors
                                      for pid in self.ids)

    def _request(self) -> None:
        level = self._level()
        if self.zoom is not None:  # 100%: every pixel, the current photo first
            level = "full"
        ids = sorted(self.ids, key=lambda pid: pid != self.current_id)
        self.loader.request([(pid, self.records[pid]["path"], level) for pid in ids if self.records[pid].get("path")])

    def _sync(self, source: int, zoom, cx: float, cy: float) -> None:
        self.zoom = zoom
        for pid, tile in self.tiles.items():
            if pid != source:
                tile.pane.set_view(zoom, cx, cy)

    def _on_loaded(self, photo_id: int, level: str) -> None:
        tile = self.tiles.get(photo_id)
        if tile is None:
            return
        image = self.loader.image(photo_id, "full") if tile.pane.zoom is not None else None
        image = image or self.loader.best_for(photo_id, self._tile_size())
        if image is not None:
            pane = tile.pane
            zoom, cx, cy = pane.zoom, pane.cx, pane.cy
            pane.set_image(image, self._full_size(photo_id))
            pane.set_view(zoom, cx, cy)

    def _on_action(self, photo_id: int, kind: str) -> None:
        self.set_current(photo_id)
        if kind == "eliminate":
            self.eliminate(photo_id)
        else:
            self.decide.emit(photo_id, kind)

    # -- events ----------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.ids:
            self._lay_out()
            if self.isVisible():
                self._request()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key_Right, Qt.Key_Down):
            self.move(1)
        elif key in (Qt.Key_Left, Qt.Key_Up):
            self.move(-1)
        elif key in (Qt.Key_Slash, Qt.Key_Delete, Qt.Key_Backspace):
            self.eliminate()
        elif key in (Qt.Key_Return, Qt.Key_Enter):
            self.confirm()
        else:
            super().keyPressEvent(event)
