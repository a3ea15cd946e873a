"""The toolbar above the grid: the source shown, sort and filters (decision, score band, stars of at
least N, colour label, role: the widgets of those declared filters of fluxcull.catalog.filters), the
Problems filter (files that failed to ingest, with their reasons), auto-advance, thumbnail size; below
it the filter bar (fluxcull.ui.findbar: text, camera, lens, dates, score, file type, stack size, saved
filters)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QSlider, QToolButton, QWidget

from fluxcull.catalog.filters import BY_KEY
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.catalog.ratings import MAX_STARS
from fluxcull.catalog.scores import BAND_DEFS
from fluxcull.ui import theme
from fluxcull.ui.findbar import FindBar, add_group
from fluxcull.ui.grid import DEFAULT_SIDE, MAX_SIDE, MIN_SIDE

COMBO_CHARS = 16  # the widest a filter's box gets, in characters
SORTS = [("Capture time", "time"), ("Keeper score ↓", "score"), ("Keeper score ↑", "score_asc")]
DECISIONS = [("Any", None), ("Kept", "keep"), ("Rejected", "reject"), ("Undecided", "none")]
STARS = [("Any", None)] + [("★" * n + ("+" if n < MAX_STARS else ""), n) for n in range(1, MAX_STARS + 1)]
LABELS = [("Any", None)] + [(words, value) for value, words in BY_KEY["label"].choices]
ROLES = [("All", None), ("Originals", "originals"), ("Keeper archive", "keepers"), ("Inbox", "inbox")]


class FilterBar(QObject):
    """Builds its widgets into `toolbar`; `changed` when the sort or a filter changes."""

    changed = Signal()

    def __init__(self, toolbar, parent=None, find_toolbar=None, catalog=None):
        super().__init__(parent)
        tb = toolbar
        tb.setMovable(False)
        self.source_label = QLabel()
        self.source_label.setStyleSheet("color: #d8dadf; font-weight: bold; padding-right: 12px;")
        tb.addWidget(self.source_label)

        def combo(title, items, tip):
            c = QComboBox()
            for text, data in items:
                c.addItem(text, data)
            if max(len(text) for text, _ in items) > COMBO_CHARS:
                # not as wide as its longest value (the toolbar must fit the window on a 1920-pixel
                # screen); the list that opens shows every value whole
                c.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
                c.setMinimumContentsLength(COMBO_CHARS)
                c.view().setMinimumWidth(c.view().sizeHintForColumn(0) + 24)
            c.setToolTip(tip)
            c.currentIndexChanged.connect(lambda *_: self.changed.emit())
            add_group(tb, title, c)
            return c

        self.sort_combo = combo("Sort", SORTS, "Order of the grid")
        self.decision_combo = combo("Decision", DECISIONS, "Show photos with this decision")
        self.band_combo = combo("Score", [("Any", None)] + [(b.label, b.name) for b in BAND_DEFS],
                                "Show photos in this keeper-score band")
        self.stars_combo = combo("Stars", STARS, "Show photos with at least this many stars (keys 1-5 give stars)")
        self.label_combo = combo("Label", LABELS, "Show photos with this colour label, any, or none (keys 6-9 give "
                                 "one)")
        self.role_combo = combo("Role", ROLES, "Show photos of this role")
        self.problems_button = QToolButton()
        self.problems_button.setCheckable(True)
        self.problems_button.toggled.connect(lambda *_: self.changed.emit())
        tb.addWidget(self.problems_button)
        self.set_problem_count(0)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        tb.addWidget(spacer)
        self.advance_button = QToolButton()
        self.advance_button.setText("Auto-advance")
        self.advance_button.setCheckable(True)
        self.advance_button.setChecked(True)
        self.advance_button.setToolTip("Move to the next photo after P / X / U (A)")
        tb.addWidget(self.advance_button)
        self.size_slider = QSlider(Qt.Horizontal)
        self.size_slider.setRange(MIN_SIDE, MAX_SIDE)
        self.size_slider.setValue(DEFAULT_SIDE)
        self.size_slider.setFixedWidth(140)
        self.size_slider.setToolTip("Thumbnail size (also View → Larger / Smaller thumbnails)")
        add_group(tb, "Size", self.size_slider)
        self.find = FindBar(find_toolbar, catalog, self) if find_toolbar is not None else None
        for bar in (tb, find_toolbar):
            if bar is not None:
                theme.show_overflow(bar)
        if self.find is not None:
            self.find.changed.connect(self.changed.emit)

    def set_problem_count(self, n: int) -> None:
        """How many files failed to ingest: the Problems filter's label (usable while there are any)."""
        self.problems_button.setText(f"⚠ Problems ({n:,})")
        self.problems_button.setEnabled(n > 0 or self.problems_button.isChecked())
        self.problems_button.setToolTip(
            f"Show the {n:,} file{'s' * (n != 1)} that could not be read, each with the reason" if n
            else "No file failed to ingest")

    def query(self, source: dict) -> PhotoQuery:
        """The grid's query: the source (a role or a session) with the sort and filters; with
        Problems, the files of the source's role that failed to ingest (they belong to no session)."""
        if self.problems_button.isChecked():
            return PhotoQuery(role=source.get("role") or self.role_combo.currentData(), status="error", sort="path")
        return PhotoQuery(role=source.get("role") or self.role_combo.currentData(), session_id=source.get("session_id"),
                          sort=self.sort_combo.currentData() or "time", **self._filters())

    def _toolbar_filters(self) -> tuple[tuple[QComboBox, str], ...]:
        """The toolbar's widgets of declared filters, with the PhotoQuery attribute each sets."""
        return ((self.decision_combo, "decision"), (self.band_combo, "band"), (self.stars_combo, "min_rating"),
                (self.label_combo, "label"))

    def _filters(self) -> dict:
        """The PhotoQuery attributes of the toolbar's filters and the filter bar (an entry of the toolbar
        set to Any leaves the bar's value for that attribute, shown beside its widgets, in force)."""
        out = self.find.values() if self.find is not None else {}
        for combo, attr in self._toolbar_filters():
            if combo.currentData() is not None or attr not in out:
                out[attr] = combo.currentData()
        return out

    def filter_values(self, source: dict) -> dict:
        """What a saved filter keeps of the view: the role, the Decision, Score, Stars and Label filters and
        the filter bar (a session is left out: a saved filter searches the whole library)."""
        out = {"role": source.get("role") or self.role_combo.currentData(), **self._filters()}
        return {k: v for k, v in out.items() if v is not None}

    def apply_values(self, values: dict) -> None:
        """Show a saved filter's values (without a signal: the caller runs the query); the role is the
        source's. A value no toolbar entry offers (stars>=0) is left to the filter bar, which shows it
        beside its widgets."""
        values = dict(values)
        values.pop("role", None)
        for combo, attr in self._toolbar_filters():
            i = combo.findData(values.get(attr))
            if i >= 0 or values.get(attr) is None:
                values.pop(attr, None)
            combo.blockSignals(True)
            combo.setCurrentIndex(max(i, 0))
            combo.blockSignals(False)
        if self.find is not None:
            self.find.set_values(values)

    def show_everything(self) -> None:
        """Decision, score, stars and label filters to Any, the filter bar cleared (without a signal: the
        caller runs the query)."""
        for c, _ in self._toolbar_filters():
            c.blockSignals(True)
            c.setCurrentIndex(0)
            c.blockSignals(False)
        if self.find is not None:
            self.find.set_values({})

    def follow_source(self, source: dict) -> None:
        """A source of one role: the role filter shows 'All' rather than contradict it."""
        if source.get("role") and self.role_combo.currentData() not in (None, source["role"]):
            self.role_combo.blockSignals(True)
            self.role_combo.setCurrentIndex(0)
            self.role_combo.blockSignals(False)
        self.source_label.setText(source.get("label") or "")
