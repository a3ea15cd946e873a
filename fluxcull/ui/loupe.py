"""The loupe: one photo large, zoom to 100% for focus checks, an EXIF panel, neighbours preloaded."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from fluxcull.catalog.scores import STATE_LABELS, apply_decision, failure_text, keeper_state
from fluxcull.ui import theme
from fluxcull.ui.images import ImageLoader, ImagePane

EXIF_FIELDS = [
    ("File", "path"), ("Taken", "taken_at"), ("Camera", "camera"), ("Lens", "lens"), ("Focal length", "focal"),
    ("Aperture", "aperture"), ("Shutter", "shutter"), ("ISO", "iso"), ("Size", "dimensions"),
    ("Format", "format"), ("GPS", "gps"), ("Role", "role"), ("Keeper score", "score"), ("Decision", "decision"),
    ("Decoded from", "source"),
]


def describe(rec: dict, linked: bool = False) -> dict[str, str]:
    """Readable EXIF values of a photos row (`linked`: an original linked from the keeper archive)."""
    def num(v, fmt):
        return fmt.format(v) if v is not None else ""

    shutter = rec.get("shutter")
    if shutter:
        shutter_s = f"1/{round(1 / shutter)} s" if shutter < 0.5 else f"{shutter:g} s"
    else:
        shutter_s = ""
    focal = num(rec.get("focal_length"), "{:g} mm")
    if rec.get("focal_length_35mm"):
        focal += f" ({rec['focal_length_35mm']:g} mm eq.)"
    score = rec.get("keeper_score")
    taken = rec.get("taken_at") or ""
    if not taken and rec.get("capture_time") is not None:
        taken = dt.datetime.fromtimestamp(rec["capture_time"], dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") + " (file time)"
    return {
        "path": (rec.get("path") or "").replace("/", "/\u200b"),  # lets the label wrap at the slashes
        "taken_at": taken.replace("T", " ") + (
            f" {rec['taken_offset']}" if rec.get("taken_offset") and rec["taken_offset"] not in taken else ""),
        "camera": " ".join(x for x in (rec.get("camera_make"), rec.get("camera_model")) if x),
        "lens": rec.get("lens") or "",
        "focal": focal,
        "aperture": num(rec.get("aperture"), "f/{:g}"),
        "shutter": shutter_s,
        "iso": num(rec.get("iso"), "{}"),
        "dimensions": f"{rec['width']} × {rec['height']}" if rec.get("width") and rec.get("height") else "",
        "format": (rec.get("format") or "").upper(),
        "gps": f"{rec['gps_lat']:.5f}, {rec['gps_lon']:.5f}" if rec.get("gps_lat") is not None and rec.get("gps_lon") is not None else "",
        "role": rec.get("role") or "",
        "score": ("not scored" if score is None else f"{score:.3f}") + f" ({score_words(rec, linked)})",
        "decision": rec.get("decision") or "none",
        "source": "",
    }


def score_words(rec: dict, linked: bool) -> str:
    """What the photo is in words: 'Kept (marked keep)', 'technical failure: near-black frame', ..."""
    state = keeper_state(rec, linked)
    return failure_text(rec) if state == "failure" else STATE_LABELS[state]


def caption_text(rec: dict, linked: bool) -> str:
    """The loupe's caption: file name, the score as stored now, the decision and what the photo is."""
    name = (rec.get("path") or "").rsplit("/", 1)[-1]
    state = keeper_state(rec, linked)
    mark = {"keep": "  ✔ KEEP", "reject": "  ✖ REJECT"}.get(rec.get("decision") or "none", "")
    if rec.get("status") == "error":
        return f"{name}    ⚠ could not be read: {rec.get('error') or 'unknown reason'}"
    extra = {"rejected_keeper": "  ☆ a confirmed keeper of your keeper archive", "confirmed": "  ★ confirmed keeper",
             "archive": "  ★ keeper-archive file", "failure": f"  ⚠ {failure_text(rec)}"}.get(state, "")
    return f"{name}    score {theme.score_text(rec.get('keeper_score'))}{mark}{extra}"


class InfoPanel(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.setFixedWidth(290)
        outer = QVBoxLayout(self)
        title = QLabel("INFORMATION")
        title.setObjectName("panelTitle")
        outer.addWidget(title)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight)
        form.setContentsMargins(8, 4, 8, 8)
        form.setVerticalSpacing(5)
        self.form = form
        self.values: dict[str, QLabel] = {}
        for label, key in EXIF_FIELDS:
            k = QLabel(label)
            k.setObjectName("exifKey")
            v = QLabel()
            v.setWordWrap(True)
            v.setTextInteractionFlags(Qt.TextSelectableByMouse)
            form.addRow(k, v)
            self.values[key] = v
        outer.addLayout(form)
        outer.addStretch(1)

    def show_record(self, rec: dict, source: str | None = None, linked: bool = False) -> None:
        d = describe(rec, linked)
        d["source"] = source or ""
        for key, label in self.values.items():
            text = d.get(key, "")
            label.setText(text)
            self.form.setRowVisible(label, bool(text))


class LoupeView(QWidget):
    step = Signal(int)  # -1 previous, +1 next

    def __init__(self, catalog, loader: ImageLoader, thumb_image, parent=None):
        """thumb_image(rec) -> QImage | None gives a quick placeholder while the photo decodes."""
        super().__init__(parent)
        self.catalog = catalog  # fluxcull.catalog.Catalog
        self.loader = loader
        self.thumb_image = thumb_image
        self.pane = ImagePane()
        self.info = InfoPanel()
        self.caption = QLabel()
        self.caption.setObjectName("panelTitle")
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(0)
        left.addWidget(self.caption)
        left.addWidget(self.pane, 1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(left, 1)
        lay.addWidget(self.info)
        self.setFocusPolicy(Qt.StrongFocus)
        self.record: dict | None = None
        self.linked = False  # the photo shown is an original linked from the keeper archive
        self.neighbours: list[dict] = []
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)

    def show_photo(self, rec: dict, neighbours: list[dict]) -> None:
        """Show `rec` (a grid record) and preload its neighbours (records, nearest first)."""
        full = self.catalog.photo(rec["id"]) or rec
        self.record = full
        self.linked = self.catalog.is_confirmed_keeper(full["id"])
        self.neighbours = neighbours
        size = QSize(full.get("width") or 0, full.get("height") or 0)
        image = self.loader.best(full["id"])
        if image is None:
            thumb = self.thumb_image(rec)
            self.pane.set_image(thumb, size, message="decoding…")
        else:
            self.pane.set_image(image, size)
        if self.pane.zoom is not None:
            self.pane.set_view(self.pane.zoom, self.pane.cx, self.pane.cy)
        self._update_caption()
        self.info.show_record(full, self.loader.source(full["id"]), self.linked)
        self._request()

    def refresh_record(self) -> None:
        if self.record is not None:
            self.record = self.catalog.photo(self.record["id"]) or self.record
            self.linked = self.catalog.is_confirmed_keeper(self.record["id"])
            self.info.show_record(self.record, self.loader.source(self.record["id"]), self.linked)
            self._update_caption()
            self.pane.rejected = self.record.get("decision") == "reject"
            self.pane.update()

    def set_decision(self, decision: str) -> None:
        """Show a decision made but perhaps not committed yet, with the score it imposes."""
        if self.record is not None:
            self.record = dict(self.record)
            apply_decision(self.record, decision)
            self.info.show_record(self.record, self.loader.source(self.record["id"]), self.linked)
            self._update_caption()
            self.pane.update()

    def _update_caption(self) -> None:
        rec = self.record or {}
        self.caption.setText(caption_text(rec, self.linked))
        self.pane.rejected = (rec.get("decision") or "none") == "reject"

    def _request(self) -> None:
        if self.record is None:
            return
        wanted = [(self.record["id"], self.record["path"], "screen")]
        if self.pane.zoom is not None:
            wanted.insert(0, (self.record["id"], self.record["path"], "full"))
        wanted += [(n["id"], n["path"], "screen") for n in self.neighbours if n.get("path")]
        self.loader.request(wanted)

    def toggle_zoom(self) -> None:
        self.pane.toggle_zoom()
        self._request()

    def toggle_info(self) -> None:
        self.info.setVisible(not self.info.isVisible())

    def _on_loaded(self, photo_id: int, level: str) -> None:
        if self.record is None or photo_id != self.record["id"]:
            return
        image = self.loader.best(photo_id)
        if image is not None:
            zoom, cx, cy = self.pane.zoom, self.pane.cx, self.pane.cy
            self.pane.set_image(image, QSize(self.record.get("width") or 0, self.record.get("height") or 0))
            self.pane.set_view(zoom, cx, cy)
            self.pane.rejected = self.record.get("decision") == "reject"
            self.info.show_record(self.record, self.loader.source(photo_id), self.linked)

    def _on_failed(self, photo_id: int, reason: str) -> None:
        if self.record is not None and photo_id == self.record["id"] and not self.pane.has_image():
            self.pane.set_image(None, message=f"cannot show this photo: {reason}")

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Left, Qt.Key_Up):
            self.step.emit(-1)
        elif event.key() in (Qt.Key_Right, Qt.Key_Down):
            self.step.emit(1)
        else:
            super().keyPressEvent(event)
