"""The loupe: one photo large, zoom to 100% for focus checks, an EXIF panel with the live histogram
(fluxcull.ui.histogram; J paints clipped highlights red and clipped shadows blue), neighbours preloaded."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from fluxcull.catalog.scores import STATE_LABELS, apply_decision, failure_text, keeper_state
from fluxcull.ui import theme
from fluxcull.ui.histogram import HistogramView, HistogramWorker
from fluxcull.ui.images import ImageLoader, ImagePane
from fluxcull.ui.model import marks_text

EXIF_FIELDS = [
    ("File", "path"), ("Taken", "taken_at"), ("Camera", "camera"), ("Lens", "lens"), ("Focal length", "focal"),
    ("Aperture", "aperture"), ("Shutter", "shutter"), ("ISO", "iso"), ("Size", "dimensions"),
    ("Format", "format"), ("GPS", "gps"), ("Folder", "role"), ("Keeper score", "score"), ("Decision", "decision"),
    ("Stars", "stars"), ("Colour label", "label"), ("Shown from", "source"),
]
ROLE_WORDS = {"originals": "Originals", "keepers": "Keeper archive", "inbox": "Inbox"}
DECISION_WORDS = {"keep": "Keep", "reject": "Reject", "none": "Not decided yet"}
# where the image on the screen was decoded from (fluxcull.media.decode's sources); others are not shown
SOURCE_WORDS = {"decode": "the full image", "jpeg-draft": "the JPEG, decoded at screen size",
                "raw-preview": "the camera's preview inside the RAW file", "raw-decode": "the RAW data, developed",
                "embedded-jpeg": "the JPEG preview inside the file"}


def taken_text(rec: dict) -> str:
    """The capture time as a photographer reads it: '2024-03-09 08:00:00 +01:00' (sub-seconds only
    when there are some), else the file's time, said so."""
    taken = (rec.get("taken_at") or "").replace("T", " ")
    if not taken:
        if rec.get("capture_time") is None:
            return ""
        when = dt.datetime.fromtimestamp(rec["capture_time"], dt.timezone.utc)
        return when.strftime("%Y-%m-%d %H:%M:%S") + " (file time)"
    offset = rec.get("taken_offset") or ""
    for sign in ("+", "-"):  # an offset written into the time: set it apart
        head, sep, tail = taken[11:].rpartition(sign)
        if sep and ":" in tail and len(tail) == 5:
            taken, offset = taken[:11] + head, sign + tail
            break
    if taken.endswith("Z"):
        taken, offset = taken[:-1], offset or "UTC"
    if "." in taken[11:]:
        base, frac = taken.rsplit(".", 1)
        taken = base if not frac.strip("0") else f"{base}.{frac.rstrip('0')}"
    return f"{taken} {offset}".strip()


def camera_text(rec: dict) -> str:
    """'RICOH GR III', not 'RICOH IMAGING COMPANY, LTD. RICOH GR III': the make only when the model
    does not already name it."""
    make, model = (rec.get("camera_make") or "").strip(), (rec.get("camera_model") or "").strip()
    brand = make.split()[0].rstrip(",").lower() if make else ""
    if model and brand and model.lower().startswith(brand):
        return model
    return " ".join(x for x in (make, model) if x)


def gps_text(lat, lon) -> str:
    if lat is None or lon is None:
        return ""
    return f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"


def score_line(rec: dict, linked: bool) -> str:
    """'0.87 — Probable keeper (0.8+)', '1.00 — Kept (marked keep)', 'Not scored yet'."""
    score = rec.get("keeper_score")
    if score is None:
        return "Not scored: the file could not be read" if rec.get("status") == "error" else "Not scored yet"
    words = score_words(rec, linked)
    return f"{theme.score_text(score)} — {words[:1].upper()}{words[1:]}"


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
    return {
        "path": (rec.get("path") or "").replace("/", "/\u200b"),  # lets the label wrap at the slashes
        "taken_at": taken_text(rec),
        "camera": camera_text(rec),
        "lens": rec.get("lens") or "",
        "focal": focal,
        "aperture": num(rec.get("aperture"), "f/{:g}"),
        "shutter": shutter_s,
        "iso": num(rec.get("iso"), "{}"),
        "dimensions": f"{rec['width']} × {rec['height']} px" if rec.get("width") and rec.get("height") else "",
        "format": (rec.get("format") or "").upper(),
        "gps": gps_text(rec.get("gps_lat"), rec.get("gps_lon")),
        "role": ROLE_WORDS.get(rec.get("role") or "", rec.get("role") or ""),
        "score": score_line(rec, linked),
        "decision": DECISION_WORDS.get(rec.get("decision") or "none", rec.get("decision") or ""),
        "stars": stars_text(rec.get("rating") or 0),
        "label": (rec.get("color_label") or "").capitalize(),
        "source": "",
    }


def stars_text(stars: int) -> str:
    """'★★★☆☆  3 of 5' (empty for none: the row is hidden)."""
    return f"{'★' * stars}{'☆' * (5 - stars)}  {stars} of 5" if stars else ""


def score_words(rec: dict, linked: bool) -> str:
    """What the photo is in words: 'Kept (marked keep)', 'technical failure: near-black frame', ..."""
    state = keeper_state(rec, linked)
    return failure_text(rec) if state == "failure" else STATE_LABELS[state]


def state_note(rec: dict, linked: bool) -> str:
    """What the caption adds to the score for a photo that is more than its band: a confirmed
    keeper (★), one rejected (☆), a keeper-archive file, a technical failure (⚠) with its reason."""
    state = keeper_state(rec, linked)
    return {"rejected_keeper": "☆ a confirmed keeper of your keeper archive", "confirmed": "★ confirmed keeper",
            "archive": "★ keeper-archive file", "failure": f"⚠ {failure_text(rec)}"}.get(state, "")


def caption_text(rec: dict, linked: bool) -> str:
    """The loupe's caption: file name, the score as stored now, the decision and what the photo is."""
    name = (rec.get("path") or "").rsplit("/", 1)[-1]
    mark = {"keep": "  ✔ KEEP", "reject": "  ✖ REJECT"}.get(rec.get("decision") or "none", "")
    if rec.get("status") == "error":
        return f"{name}    ⚠ could not be read: {rec.get('error') or 'unknown reason'}"
    note = state_note(rec, linked)
    marks = marks_text(rec)
    return (f"{name}    score {theme.score_text(rec.get('keeper_score'))}{mark}{'  ' + note if note else ''}"
            f"{'    ' + marks if marks else ''}")


class InfoPanel(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.setFixedWidth(290)
        outer = QVBoxLayout(self)
        title = QLabel("HISTOGRAM")
        title.setObjectName("panelTitle")
        outer.addWidget(title)
        self.histogram = HistogramView()
        outer.addWidget(self.histogram)
        title = QLabel("INFORMATION")
        title.setObjectName("panelTitle")
        outer.addWidget(title)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight)
        form.setContentsMargins(8, 4, 8, 8)
        form.setVerticalSpacing(5)
        self.form = form
        self.values: dict[str, QLabel] = {}  # the rows: built when the panel is first shown or given a photo
        body = QWidget()
        body.setObjectName("sidePanel")
        inner = QVBoxLayout(body)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(form)
        inner.addStretch(1)
        scroll = QScrollArea()  # the rows scroll on a low screen instead of making the window taller
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        outer.addWidget(scroll, 1)

    def _add_rows(self) -> None:
        """A key and a value label per EXIF_FIELDS entry (about 35 widgets: the window opens on the grid
        without them; they are made before the panel is first shown, inside its scroll area)."""
        if self.values:
            return
        for label, key in EXIF_FIELDS:
            k = QLabel(label)
            k.setObjectName("exifKey")
            v = QLabel()
            v.setWordWrap(True)
            v.setTextInteractionFlags(Qt.TextSelectableByMouse)
            self.form.addRow(k, v)
            self.values[key] = v

    def setVisible(self, visible: bool) -> None:
        if visible:
            self._add_rows()
        super().setVisible(visible)

    def show_record(self, rec: dict, source: str | None = None, linked: bool = False) -> None:
        self._add_rows()
        d = describe(rec, linked)
        d["source"] = SOURCE_WORDS.get(source or "", "")  # a source without words is not shown
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
        self.clipping = False  # J: clipped highlights and shadows painted on the photo
        self.measurer = HistogramWorker(self)
        self.measurer.done.connect(self._on_measured)
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
        self._measure()
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
        self.info.setVisible(self.info.isHidden())
        self._measure()

    def toggle_clipping(self, on: bool | None = None) -> None:
        """J: paint clipped highlights red and clipped shadows blue on the photo (or stop)."""
        self.clipping = (not self.clipping) if on is None else bool(on)
        if not self.clipping:
            self.pane.set_overlay(None)
        self._measure()

    def _measure(self) -> None:
        """Count the image shown, and paint its clipping when J is on, off the GUI thread."""
        image = self.pane.image()
        if self.record is None or image is None:
            self.info.histogram.set_histogram(None)
            return
        if self.info.isHidden() and not self.clipping:
            return  # nothing would show it
        self.measurer.compute((self.record["id"], image.cacheKey()), image, self.clipping)

    def _on_measured(self, key, hist, overlay) -> None:
        image = self.pane.image()
        if self.record is None or image is None or key != (self.record["id"], image.cacheKey()):
            return  # another photo (or a better decode of it) is shown now
        self.info.histogram.set_histogram(hist)
        if self.clipping and not overlay.isNull():
            self.pane.set_overlay(overlay)

    def shutdown(self) -> None:
        self.measurer.shutdown()

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
            self._measure()

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
