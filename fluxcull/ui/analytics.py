"""Library ▸ Analytics: the analytics plots with a chooser of which (keeper density by hour, month,
year and place, session length against density, motif frequency over time) above the taste-drift
table (what recent decisions prefer against the archive's older ones).

A plot is drawn by matplotlib's Agg backend into PNG bytes (fluxcull.insight_workflows.analytics_plot) and
read into a QImage off the GUI thread, on this window's own job runner (fluxcull.ui.worker: a
retrain running in the main window does not hold it up, and its progress and Cancel show here);
only the QPixmap is made on the GUI thread. Plots drawn once are kept while the window is open.
Everything it shows is worded by fluxcull.insight_workflows (taste_drift_view); this module lays it out.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QSizePolicy,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from fluxcull import insight_workflows
from fluxcull.ui.worker import JobRunner, call_job

PLOT_DPI = 100
CLEAR = QColor("#f2c230")   # a preference that moved clearly (|z| >= 2)


def png_image(png: bytes) -> QImage:
    """PNG bytes as a QImage (safe off the GUI thread, unlike a QPixmap)."""
    img = QImage.fromData(png, "PNG")
    if img.isNull():
        raise ValueError("the plot could not be read back as an image")
    return img


def _table(heads: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(heads))
    t.setHorizontalHeaderLabels(heads)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QTableWidget.NoEditTriggers)
    t.setSelectionBehavior(QTableWidget.SelectRows)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _fill(t: QTableWidget, heads: list[str], rows: list[list[str]], clear: list[bool] | None = None) -> None:
    t.setColumnCount(len(heads))
    t.setHorizontalHeaderLabels(heads)
    t.setRowCount(len(rows))
    for i, cells in enumerate(rows):
        for j, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if j and not text[:1].isalpha():  # numbers right, names and words left
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if clear and clear[i]:
                item.setForeground(CLEAR)
            t.setItem(i, j, item)


def open_analytics(win) -> "AnalyticsDialog":
    """Library ▸ Analytics: the window over `win` (a MainWindow), which closes it with its other dialogs."""
    dlg = AnalyticsDialog(win.lib, win)
    win.show_dialog(dlg)
    return dlg


class _PlotLabel(QLabel):
    """The plot's place: says when its room changed."""

    resized = None

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.resized is not None:
            self.resized()


class AnalyticsDialog(QDialog):
    def __init__(self, lib, parent=None):
        super().__init__(parent)
        self.lib = lib
        self.setWindowTitle("Analytics")
        self.resize(1280, 980)
        self.runner = JobRunner(self)
        self.images: dict[str, QImage] = {}
        self.errors: dict[str, str] = {}
        self.pending: set[str] = set()
        self.drift: dict | None = None
        self.drift_error: str | None = None

        self.chooser = QComboBox()
        for key, title in insight_workflows.analytics_plots():
            self.chooser.addItem(title, key)
        self.chooser.currentIndexChanged.connect(lambda *_: self.show_plot())
        top = QHBoxLayout()
        top.addWidget(QLabel("Plot:"))
        top.addWidget(self.chooser)
        top.addStretch(1)
        top.addWidget(self.runner.widget)

        self.plot = _PlotLabel("Drawing…")
        self.refit = QTimer(self, singleShot=True, interval=200)   # redraw once a resize has settled
        self.refit.timeout.connect(self._refit)
        self.plot.resized = self._plot_resized
        self.plot.setAlignment(Qt.AlignCenter)
        self.plot.setMinimumSize(480, 270)
        self.plot.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)   # the pixmap follows the room, not back

        drift = QWidget()
        dl = QVBoxLayout(drift)
        dl.setContentsMargins(0, 0, 0, 0)
        head = QLabel("<b>Taste drift</b>: what your recent decisions prefer, against the archive's older ones")
        self.drift_summary = QLabel("Comparing…")
        self.drift_summary.setWordWrap(True)
        self.drift_summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.tables = QWidget()   # shown when there is a comparison
        tl = QVBoxLayout(self.tables)
        tl.setContentsMargins(0, 0, 0, 0)
        self.features = _table(["feature"])
        self.motifs = _table(["motif"])
        self.motifs.setVisible(False)
        note = QLabel("AUC: the chance that a keeper has more of it than another photo of its time (0.5: no "
                      "preference). d: the same as a difference of means in standard deviations. Change and z: "
                      "recent minus archive; in gold where |z| ≥ 2, unlikely from chance alone. n: keepers/others.")
        note.setWordWrap(True)
        tl.addWidget(self.features, 3)
        tl.addWidget(self.motifs, 1)
        tl.addWidget(note)
        self.tables.setVisible(False)
        dl.addWidget(head)
        dl.addWidget(self.drift_summary)
        dl.addWidget(self.tables, 1)
        dl.addStretch(0)   # takes the room while the tables are hidden

        self.drift_panel = drift
        self.split = split = QSplitter(Qt.Vertical)
        split.addWidget(self.plot)
        split.addWidget(drift)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 360])
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addWidget(buttons)
        self._started = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:   # the plot is drawn for the room it has once the window is laid out
            self._started = True
            self.show_plot()
            self._load_drift()

    # -- plots -----------------------------------------------------------------------------------------------
    def current_key(self) -> str:
        return self.chooser.currentData()

    def show_plot(self) -> None:
        key = self.current_key()
        if key in self.images:
            self._show_image(self.images[key])
        elif key in self.errors:
            self.plot.setPixmap(QPixmap())
            self.plot.setText(f"This plot could not be drawn: {self.errors[key]}")
        else:
            self.plot.setPixmap(QPixmap())
            self.plot.setText("Drawing…")
            self._request(key)

    def _request(self, key: str) -> None:
        if key in self.pending:
            return
        self.pending.add(key)
        lib = self.lib
        w = max(self.plot.width(), 640) / PLOT_DPI
        h = max(self.plot.height(), 360) / PLOT_DPI
        self.runner.submit(f"Drawing {self.chooser.currentText().lower()}",
                           lambda cancel: call_job("plot", lambda: png_image(
                               insight_workflows.analytics_plot(lib, key, width=w, height=h, dpi=PLOT_DPI))),
                           on_done=lambda img: self._plotted(key, img),
                           on_fail=lambda reason: self._plotted(key, None, reason))

    def _plotted(self, key: str, img: QImage | None, reason: str | None = None) -> None:
        self.pending.discard(key)
        if img is None:
            self.errors[key] = reason or "cancelled"
        else:
            self.images[key] = img
        if key == self.current_key():
            self.show_plot()

    def _show_image(self, img: QImage) -> None:
        pix = QPixmap.fromImage(img)
        if pix.size() != self.plot.size():
            pix = pix.scaled(self.plot.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.plot.setPixmap(pix)

    def _plot_resized(self) -> None:
        if self.current_key() in self.images:
            self._show_image(self.images[self.current_key()])
            self.refit.start()

    def _refit(self) -> None:
        """Draw the plot again for a room clearly other than it was drawn for (scaled up it would blur,
        scaled down its words would shrink; its shape follows the room)."""
        key = self.current_key()
        img = self.images.get(key)
        w, h = max(self.plot.width(), 640), max(self.plot.height(), 360)   # as _request draws it
        if img is not None and (abs(w / img.width() - 1) > 0.15 or abs(h / img.height() - 1) > 0.15):
            del self.images[key]   # still shown, scaled, until the new one comes
            self._request(key)

    # -- taste drift ---------------------------------------------------------------------------------------
    def _load_drift(self) -> None:
        lib = self.lib
        self.runner.submit("Comparing recent taste with the archive",
                           lambda cancel: call_job("drift", lambda: insight_workflows.taste_drift_view(lib)),
                           on_done=self._drifted, on_fail=self._drift_failed)

    def _drifted(self, view: dict | None) -> None:
        self.drift = view or {}
        self.drift_summary.setText(self.drift.get("summary") or "")
        _fill(self.features, self.drift.get("feature_heads") or ["feature"], self.drift.get("features") or [],
              self.drift.get("feature_clear"))
        _fill(self.motifs, self.drift.get("motif_heads") or ["motif"], self.drift.get("motifs") or [])
        self.motifs.setVisible(bool(self.drift.get("motifs")))
        self.tables.setVisible(bool(self.drift.get("features")))
        if not self.drift.get("features"):   # a sentence only: the plot takes the room
            self.split.setSizes([sum(self.split.sizes()) - self.drift_panel.sizeHint().height(),
                                 self.drift_panel.sizeHint().height()])

    def _drift_failed(self, reason: str) -> None:
        self.drift_error = reason
        self.drift_summary.setText(f"Taste drift could not be computed: {reason}")

    # -- state, for tests and screenshots --------------------------------------------------------------------
    def loaded(self) -> bool:
        """The chosen plot is shown (or its failure) and the drift table has arrived (or its failure)."""
        key = self.current_key()
        return (key in self.images or key in self.errors) and (self.drift is not None or self.drift_error is not None)

    def done(self, result: int) -> None:
        self.refit.stop()
        self.runner.shutdown()
        super().done(result)
