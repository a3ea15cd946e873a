"""The filter bar: one widget per find filter declared in fluxcull.catalog.filters (`FIELDS` with
`in_bar`), generated like the settings dialog, so a filter added there appears here. Text fields
(contains, with the catalog's cameras and lenses as suggestions), a date range (from, to: each a
year, month or day, both included), a lowest number (score, stack size), a choice; Save… keeps the
filters as a saved filter (listed beside the sessions), ✕ clears them. Decision, score band, stars
and colour label have their widgets in the toolbar above (fluxcull.ui.toolbar).

`values()` gives the PhotoQuery attributes the bar sets; `set_values()` shows a saved filter's. What a
saved filter sets that the bar has no widget for (`name~…`, an upper score bound) is kept and shown
beside the widgets until cleared."""

from __future__ import annotations

from PySide6.QtCore import QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QCompleter, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QSizePolicy,
                               QSpinBox, QToolButton, QWidget)

from fluxcull.catalog.filters import CHOICE, DATE, FIELDS, NUMBER, TEXT, format_where, last_day, period, period_text

DEBOUNCE_MS = 350
INVALID = "QLineEdit { border: 1px solid #d64545; }"


def add_group(toolbar, label: str, *widgets) -> QWidget:
    """A label and its fields as one toolbar item: a window too narrow for the toolbar hides them
    together behind its » button, never a label without its field."""
    group = QWidget()
    group.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Preferred)  # no stretch: it would widen the label
    row = QHBoxLayout(group)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    row.addWidget(QLabel(label))
    for w in widgets:
        row.addWidget(w)
    toolbar.addWidget(group)
    return group


def _suggestions(catalog, key: str) -> list[str]:
    if key == "camera":
        return sorted({model or make for make, model in catalog.cameras() if model or make}, key=str.lower)
    if key == "lens":
        return catalog.lenses()
    return []


class FindBar(QObject):
    changed = Signal()
    save_wanted = Signal(str)  # a name for the filters shown

    def __init__(self, toolbar, catalog, parent=None):
        super().__init__(parent)
        self.toolbar = toolbar
        self.catalog = catalog  # fluxcull.catalog.Catalog (the cameras and lenses it suggests)
        self.widgets: dict[str, tuple] = {}   # field key -> its widgets
        self.extra: dict = {}                 # attributes set that no widget shows
        self._completers: dict[str, QStringListModel] = {}
        self.timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.timer.timeout.connect(self.changed.emit)
        toolbar.setObjectName("findToolbar")
        for f in FIELDS:
            if f.in_bar:
                self._build(f)
        self.extra_label = QLabel()
        self.extra_label.setStyleSheet("color: #8b9099; padding: 0 6px;")
        toolbar.addWidget(self.extra_label)
        self.save_button = QToolButton()
        self.save_button.setText("Save…")
        self.save_button.setToolTip("Save these filters as a saved filter, listed beside the sessions")
        self.save_button.clicked.connect(self.ask_save)
        toolbar.addWidget(self.save_button)
        self.clear_button = QToolButton()
        self.clear_button.setText("✕")
        self.clear_button.setToolTip("Clear the filter bar")
        self.clear_button.clicked.connect(self.clear)
        toolbar.addWidget(self.clear_button)
        self.refresh_suggestions()
        self._show_state()

    def _build(self, f) -> None:
        tb = self.toolbar
        if f.kind == TEXT:
            edit = QLineEdit()
            edit.setPlaceholderText(f.label if f.key != "text" else "Find: name, folder, camera, lens")
            edit.setClearButtonEnabled(True)
            edit.setFixedWidth(230 if f.key == "text" else 130)
            edit.setToolTip(f"{f.help} ({f.key}~TEXT)")
            edit.textChanged.connect(self._edited)
            edit.returnPressed.connect(self._enter)
            model = QStringListModel(self)
            completer = QCompleter(model, edit)
            completer.setCaseSensitivity(Qt.CaseInsensitive)
            completer.setFilterMode(Qt.MatchContains)
            edit.setCompleter(completer)
            self._completers[f.key] = model
            tb.addWidget(edit)
            self.widgets[f.key] = (edit,)
        elif f.kind == DATE:
            edits = []
            for word in ("from", "to"):
                edit = QLineEdit()
                edit.setPlaceholderText(word)
                edit.setFixedWidth(86)
                edit.setToolTip(f"{f.help}; {'from' if word == 'from' else 'to (included)'}: 2024, 2024-03 or "
                                "2024-03-31")
                edit.textChanged.connect(self._edited)
                edit.returnPressed.connect(self._enter)
                edits.append(edit)
            add_group(tb, f" {f.label} ", *edits)
            self.widgets[f.key] = tuple(edits)
        elif f.kind == NUMBER:
            spin = QSpinBox() if f.integer else QDoubleSpinBox()
            if not f.integer:
                spin.setDecimals(2)
                spin.setSingleStep(0.05)
            step = 1 if f.integer else 0.05
            spin.setRange(f.minimum - step, f.maximum)  # the lowest value, below the range, reads "any"
            spin.setSpecialValueText("any")
            spin.setValue(spin.minimum())
            spin.setToolTip(f.help)
            spin.valueChanged.connect(self._edited)
            add_group(tb, f" {f.label} ≥", spin)
            self.widgets[f.key] = (spin,)
        elif f.kind == CHOICE:
            combo = QComboBox()
            combo.addItem("Any", None)
            for value, words in f.choices:
                combo.addItem(words, value)
            combo.setToolTip(f.help)
            combo.currentIndexChanged.connect(lambda *_: self._edited(now=True))
            add_group(tb, f" {f.label} ", combo)
            self.widgets[f.key] = (combo,)

    # -- reading and setting the widgets --------------------------------------------------------------------
    def values(self) -> dict:
        """The PhotoQuery attributes the bar sets (a date that is not one yet is left out, and marked)."""
        out = dict(self.extra)
        for f in FIELDS:
            ws = self.widgets.get(f.key)
            if ws is None:
                continue
            if f.kind == TEXT:
                text = ws[0].text().strip()
                if text:
                    out[f.attrs[0]] = text
            elif f.kind == DATE:
                for edit, attr, end in ((ws[0], f.attrs[0], False), (ws[1], f.attrs[1], True)):
                    text = edit.text().strip()
                    try:
                        bounds = period(text) if text else None
                    except ValueError:
                        bounds = None
                    edit.setStyleSheet(INVALID if text and bounds is None else "")
                    if bounds is not None:
                        out[attr] = bounds[1] if end else bounds[0]
            elif f.kind == NUMBER:
                spin = ws[0]
                if spin.value() > spin.minimum():
                    out[f.attrs[0]] = spin.value()
            elif f.kind == CHOICE and ws[0].currentData() is not None:
                out[f.attrs[0]] = ws[0].currentData()
        return out

    def set_values(self, values: dict) -> None:
        """Show these attributes (a saved filter's); those no widget shows are kept beside them."""
        values = dict(values)
        for f in FIELDS:
            ws = self.widgets.get(f.key)
            if ws is None:
                continue
            for w in ws:
                w.blockSignals(True)
            if f.kind == TEXT:
                ws[0].setText(str(values.pop(f.attrs[0], "") or ""))
            elif f.kind == DATE:
                low, high = values.pop(f.attrs[0], None), values.pop(f.attrs[1], None)
                whole = period_text(low, high)  # a year, month or day: said once in each field
                ws[0].setText(whole or low or "")
                ws[1].setText(whole or (last_day(high) if high else ""))
                for w in ws:
                    w.setStyleSheet("")
            elif f.kind == NUMBER:
                low = values.get(f.attrs[0])
                if low is None or f.integer or round(low, ws[0].decimals()) == low:  # else kept as written
                    values.pop(f.attrs[0], None)
                    ws[0].setValue(low if low is not None else ws[0].minimum())
            elif f.kind == CHOICE:
                i = ws[0].findData(values.pop(f.attrs[0], None))
                ws[0].setCurrentIndex(max(i, 0))
            for w in ws:
                w.blockSignals(False)
        self.extra = values
        self._show_state()

    def clear(self) -> None:
        self.set_values({})
        self.changed.emit()

    def focus(self) -> None:
        edit = self.widgets.get("text", (None,))[0]
        if edit is not None:
            edit.setFocus()
            edit.selectAll()

    def expression(self) -> str:
        return format_where(self.values())

    def refresh_suggestions(self) -> None:
        """Read the cameras and lenses the catalog has seen (after an ingest)."""
        for key, model in self._completers.items():
            model.setStringList(_suggestions(self.catalog, key))

    # -- events -----------------------------------------------------------------------------------------------
    def _edited(self, *_, now: bool = False) -> None:
        self._show_state()
        if now:
            self.timer.stop()
            self.changed.emit()
        else:
            self.timer.start()

    def _enter(self) -> None:
        self.timer.stop()
        self.changed.emit()
        parent = self.toolbar.parentWidget()
        if parent is not None and hasattr(parent, "mode"):
            parent.mode.widget.setFocus()  # Enter gives the keyboard back to the grid

    def _show_state(self) -> None:
        self.extra_label.setText(f"and {format_where(self.extra)}" if self.extra else "")
        self.extra_label.setVisible(bool(self.extra))
        expr = self.expression()
        self.clear_button.setEnabled(bool(expr))
        self.save_button.setToolTip("Save these filters as a saved filter, listed beside the sessions"
                                    + (f":\n{expr}" if expr else ""))

    def ask_save(self) -> None:
        """Ask for a name (without blocking), then `save_wanted(name)`."""
        from PySide6.QtWidgets import QInputDialog  # the dialog's Qt class: set up when first asked for

        dlg = QInputDialog(self.toolbar.parentWidget())
        dlg.setWindowTitle("Save filter")
        dlg.setLabelText("Name of the saved filter (listed beside the sessions; the same name replaces it):")
        dlg.textValueSelected.connect(self.save_wanted.emit)
        self.dialog = dlg
        dlg.open()
