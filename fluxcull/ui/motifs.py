"""Library ▸ Motifs…: the stored motifs (fluxcull.insights.motifs, `fluxcull motifs`), one row each:
a mosaic of its most typical photos, its name (double-click to edit; saved through the catalog,
Catalog.rename_motif), its size, first and last capture date and keeper rate. A click on a motif
shows its photos in the main grid (the find filter `motif=ID`, so the filter bar says what is shown
and the filter can be saved). With no motif stored, the window says how motifs are made and offers
to cluster the keepers now.

Every read, rename and clustering runs on this window's own catalog thread (fluxcull.ui.writer)
through fluxcull.insight_workflows; the mosaics come from the grid's thumbnail loading
(fluxcull.ui.thumbs, off the GUI thread), painted together once their thumbnails arrive.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRect, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from fluxcull import insight_workflows
from fluxcull.ui.thumbs import PixmapCache, ThumbLoader, source_for
from fluxcull.ui.writer import CatalogDialog

HEADS = ("Photos", "Name", "Size", "First", "Last", "Keeper rate")
NAME_COLUMN = 1
ID_ROLE = Qt.UserRole
TILE = QSize(96, 64)      # one photo of a mosaic
EMPTY_TEXT = ("No motifs yet. Motifs are your recurring scenes: your keepers clustered by look. Make them with "
              "`fluxcull motifs` on the command line, or here with “Find motifs” (it needs the photos embedded "
              "and some keepers; it runs in the background).")


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.0f}%"


class Mosaics(QObject):
    """Thumbnails for the motifs' mosaics: read once (fluxcull.ui.thumbs), painted side by side."""

    SIDE = 192

    def __init__(self, lib, parent=None):
        super().__init__(parent)
        self.lib = lib
        self.loader = ThumbLoader(PixmapCache(32 * 1024 * 1024), threads=2, parent=self)
        self.loader.ready.connect(lambda key: self.arrived and self.arrived(key))
        self.loader.failed.connect(lambda key: None)
        self.arrived = None   # arrived(key): the window repaints the mosaics that show it

    def keys(self, photos: list[dict]) -> list[str | None]:
        return [source_for(self.lib, {"thumb_key": p.get("thumb_key"), "path": p.get("path")}) for p in photos]

    def want(self, keys: list[str]) -> None:
        self.loader.want([(k, k, self.SIDE) for k in dict.fromkeys(keys) if k is not None])

    def icon(self, keys: list[str | None], count: int = 3) -> QIcon:
        pix = QPixmap(TILE.width() * count + 2 * (count - 1), TILE.height())
        pix.fill(QColor("#2a2d32"))
        p = QPainter(pix)
        for k, key in enumerate(keys[:count]):
            thumb = self.loader.pixmap(key) if key is not None else None
            if thumb is not None:
                scaled = thumb.scaled(TILE, Qt.KeepAspectRatioByExpanding, Qt.SmoothTransformation)
                src = QRect((scaled.width() - TILE.width()) // 2, (scaled.height() - TILE.height()) // 2,
                            TILE.width(), TILE.height())
                p.drawPixmap(QRect(k * (TILE.width() + 2), 0, TILE.width(), TILE.height()), scaled, src)
        p.end()
        return QIcon(pix)

    def idle(self, keys: list[str]) -> bool:
        return self.loader.idle() and all(k in self.loader.cache or self.loader.is_failed(k) for k in keys if k)

    def shutdown(self) -> None:
        self.loader.shutdown()


class MotifsDialog(CatalogDialog):
    def __init__(self, lib, show_where=None, parent=None):
        """`show_where(expression, label)`: show what a find expression selects in the main grid."""
        super().__init__(lib, parent, name="motifs")
        self.setWindowTitle("Motifs")
        self.resize(1100, 720)
        self.show_where = show_where
        self.mosaics = Mosaics(lib, self)
        self.mosaics.arrived = self._arrived
        self.motifs: list[dict] = []
        self.keys: dict[int, list] = {}   # motif id -> its mosaic's thumbnail keys
        self._filling = False

        self.status = QLabel("Reading the motifs…")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.compute_button = QPushButton("Find motifs")
        self.compute_button.setToolTip("Cluster your keepers by look into motifs now (as `fluxcull motifs`); names "
                                       "you gave stay with the motifs that persist")
        self.compute_button.clicked.connect(self.compute)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.compute_button, 0, Qt.AlignTop)

        self.table = t = QTableWidget(0, len(HEADS))
        t.setHorizontalHeaderLabels(HEADS)
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(TILE.height() + 8)
        t.setIconSize(QSize(TILE.width() * 3 + 4, TILE.height()))
        t.setSelectionBehavior(QTableWidget.SelectRows)
        t.setSelectionMode(QTableWidget.SingleSelection)
        t.setEditTriggers(QTableWidget.DoubleClicked | QTableWidget.EditKeyPressed)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        t.horizontalHeader().setSectionResizeMode(NAME_COLUMN, QHeaderView.Stretch)
        t.itemChanged.connect(self._edited)
        t.cellClicked.connect(lambda row, col: self.show_motif(row))
        hint = QLabel("A click shows the motif's photos in the grid · double-click a name to change it")
        hint.setStyleSheet("color: #8b9099;")
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(t, 1)
        lay.addWidget(hint)
        lay.addWidget(buttons)
        self.reload()

    # -- reading ---------------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.worker.submit(insight_workflows.stored_motifs, self._loaded)

    def _loaded(self, motifs, error) -> None:
        if self.closed:
            return
        if error:
            self.status.setText(f"The motifs could not be read: {error.split(': ', 1)[-1]}")
            return
        self.motifs = motifs or []
        self.status.setText(f"{len(self.motifs)} motifs among your keepers, largest first." if self.motifs
                            else EMPTY_TEXT)
        self.compute_button.setText("Find motifs again" if self.motifs else "Find motifs")
        self._fill()

    def _fill(self) -> None:
        self._filling = True
        t = self.table
        t.setRowCount(len(self.motifs))
        self.keys = {}
        for row, m in enumerate(self.motifs):
            keys = self.mosaics.keys(m.get("photos") or [])
            self.keys[m["id"]] = keys
            mosaic = QTableWidgetItem(self.mosaics.icon(keys), "")
            cells = [mosaic, QTableWidgetItem(m.get("name") or f"Motif {m['id']}"), QTableWidgetItem(str(m["size"])),
                     QTableWidgetItem(m.get("first") or "—"), QTableWidgetItem(m.get("last") or "—"),
                     QTableWidgetItem(rate_text(m.get("keeper_rate")))]
            for col, item in enumerate(cells):
                item.setData(ID_ROLE, m["id"])
                if col != NAME_COLUMN:
                    item.setFlags(item.flags() & ~Qt.ItemIsEditable)
                if col >= 2:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                t.setItem(row, col, item)
            cells[NAME_COLUMN].setToolTip(f"Motif {m['id']}: `fluxcull photos --where motif={m['id']}`")
            if not m.get("name"):
                cells[NAME_COLUMN].setForeground(QColor("#8b9099"))
        self._filling = False
        self.mosaics.want([k for keys in self.keys.values() for k in keys])

    def _arrived(self, key) -> None:
        for row, m in enumerate(self.motifs):
            keys = self.keys.get(m["id"]) or []
            if key in keys and self.table.item(row, 0) is not None:
                self.table.item(row, 0).setIcon(self.mosaics.icon(keys))

    # -- changes ---------------------------------------------------------------------------------------------
    def _edited(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != NAME_COLUMN:
            return
        mid, name = int(item.data(ID_ROLE)), item.text().strip()
        m = next(m for m in self.motifs if m["id"] == mid)
        if name in (m.get("name") or "", f"Motif {mid}"):
            return
        m["name"] = name or None

        def saved(ok, error):
            if not self.closed and (error or not ok):
                self.status.setText(f"Motif {mid} could not be renamed: {error or 'it is gone'} (read again)")
                self.reload()

        self.worker.submit(lambda cat: cat.rename_motif(mid, name), saved)

    def compute(self) -> None:
        lib = self.lib
        self.compute_button.setEnabled(False)
        self.status.setText("Clustering your keepers into motifs…")

        def done(res, error):
            if self.closed:
                return
            self.compute_button.setEnabled(True)
            if error:
                self.status.setText(f"Motifs could not be found: {error.split(': ', 1)[-1]}")
                return
            self.reload()

        self.worker.submit(lambda cat: insight_workflows.compute_motifs(lib, cat), done)

    def show_motif(self, row: int) -> None:
        if not 0 <= row < len(self.motifs) or self.show_where is None:
            return
        m = self.motifs[row]
        self.show_where(f"motif={m['id']}", f"Motif: {m.get('name') or m['id']}")

    # -- lifetime --------------------------------------------------------------------------------------------
    def loaded(self) -> bool:
        """Nothing asked is outstanding and every mosaic's thumbnails are there (for a screenshot)."""
        return not self.busy() and self.mosaics.idle([k for keys in self.keys.values() for k in keys])

    def shutdown(self) -> None:
        self.mosaics.shutdown()


def open_motifs(win) -> MotifsDialog:
    """Library ▸ Motifs…: the view on the window's library; a motif chosen is shown in its grid."""
    dlg = MotifsDialog(win.lib, lambda where, label: win.browser.show_where(where, label), win)
    win.show_dialog(dlg)
    return dlg
