"""Library settings and the first-run guide, generated from the declarations of
fluxcull.catalog.settings (one field per setting shown in the dialog, by its kind; a JSON setting
declared by its parts, such as the burst thresholds, one number box per part). `changed` names the
settings a Save stored, for the window to act on (stacks computed again after new burst thresholds).

fluxcull only ever reads the ORIGINALS, KEEPERS and INBOX folders. The first-run guide saves them
and runs the "build library" workflow (fluxcull.workflows) as one job with one progress view.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from fluxcull import workflows
from fluxcull.catalog.settings import CHOICE, FOLDER, FOLDER_ROLES, INT, JSON, SETTINGS, Setting

SUGGESTIONS = {"backbones": workflows.backbone_names}  # named lists a TEXT setting offers
IN_USE = {"backbones": workflows.active_backbone_name}  # what an empty TEXT setting means, shown instead
NOTES = {  # said under a setting's field: what a change does
    "bursts": "Frames this close in time and this alike are one stack (a burst). A change computes every stack "
              "again when you save, in the background (fluxcull stacks --rebuild on the command line); the "
              "keeper model compares frames within the new stacks from its next retrain.",
}


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("exifKey")
    label.setWordWrap(True)
    return label


class _FolderField(QWidget):
    def __init__(self, value: str, parent=None):
        super().__init__(parent)
        self.edit = QLineEdit(value)
        self.edit.setMinimumWidth(360)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(browse)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Choose a folder", self.edit.text() or str(Path.home()))
        if d:
            self.edit.setText(d)

    def value(self) -> str:
        return self.edit.text().strip()


class _PartsField(QWidget):
    """The numbers of a JSON setting declared by its parts, a box each; value() holds those that differ
    from their default (a key left out means the default)."""

    def __init__(self, s: Setting, value: dict, parent=None):
        super().__init__(parent)
        self.setting = s
        self.boxes: dict[str, QSpinBox | QDoubleSpinBox] = {}
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for p in s.parts:
            box = QDoubleSpinBox() if p.decimals else QSpinBox()
            if p.decimals:
                box.setDecimals(p.decimals)
                box.setSingleStep(10 ** -p.decimals * (5 if p.decimals > 1 else 1))
            box.setRange(p.minimum, p.maximum)
            box.setSuffix(p.suffix)
            box.setToolTip(p.description)
            box.setObjectName(p.key)
            try:
                box.setValue(float(value.get(p.key, p.default)) if p.decimals else int(value.get(p.key, p.default)))
            except (TypeError, ValueError):  # unreadable stored value: offer the default
                box.setValue(p.default)
            lay.addWidget(QLabel(p.label))
            lay.addWidget(box)
            self.boxes[p.key] = box
        lay.addStretch(1)

    def value(self) -> dict:
        out = {}
        for p in self.setting.parts:
            v = self.boxes[p.key].value()
            v = round(v, p.decimals) if p.decimals else int(v)
            if v != p.default:
                out[p.key] = v
        return out


def make_field(s: Setting, value):
    """An editor for one setting, holding `value`; each has value()."""
    if s.kind == FOLDER:
        return _FolderField(value or "")
    if s.kind == JSON:
        return _PartsField(s, value if isinstance(value, dict) else {})
    if s.kind == INT:
        w = QSpinBox()
        w.setRange(s.minimum if s.minimum is not None else -10**9, s.maximum if s.maximum is not None else 10**9)
        if s.zero or (s.default == 0 and s.minimum == 0):
            w.setSpecialValueText(s.zero or "automatic")
        w.setValue(int(value))
        return w
    w = QComboBox()
    if s.kind == CHOICE:
        w.addItems(list(s.choices))
        w.value = w.currentText
    else:  # TEXT: free text, with suggestions where the declaration names a list
        w.setEditable(True)
        names = SUGGESTIONS[s.suggestions]() if s.suggestions else []
        w.addItems([n for n in names if n] or [""])
        w.value = lambda: w.currentText().strip()
    w.setCurrentText(str(value))
    return w


class SettingsDialog(QDialog):
    def __init__(self, catalog, parent=None, title: str = "Library settings"):
        super().__init__(parent)
        self.catalog = catalog
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.declared = {s.key: s for s in SETTINGS if s.in_dialog and (s.kind != JSON or s.parts)}
        self.changed: set[str] = set()  # the settings the last save stored
        self.fields: dict[str, QWidget] = {}
        self.shown: dict = {}  # the value each field opened with: only a changed one is saved
        for key, s in self.declared.items():
            try:
                value = catalog.setting(key)
            except ValueError:  # unreadable stored text: offer the default
                value = s.default
            if value == "" and s.suggestions in IN_USE:  # empty means "the one in use": name it
                value = IN_USE[s.suggestions](catalog)
            f = self.fields[key] = make_field(s, value)
            f.setToolTip(s.description)
            self.form.addRow(s.label, f)
            self.shown[key] = f.value()
            if key in NOTES:
                self.form.addRow("", _note(NOTES[key]))
        note = _note("fluxcull only reads these folders; it never writes into them.")
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(self.form)
        self.layout_.addWidget(note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)

    def values(self) -> dict:
        return {key: f.value() for key, f in self.fields.items()}

    def chosen(self) -> dict[str, str]:
        """The folders by role."""
        return {role: self.fields[key].value() for role, key in FOLDER_ROLES.items()}

    def validate(self) -> str | None:
        for key, value in self.values().items():
            problem = self.declared[key].validate(value)
            if problem:
                return problem
        return None

    def save(self) -> None:
        """Store the settings whose value changed (and every folder: the dialog is their editor)."""
        for key, value in self.values().items():
            s = self.declared[key]
            try:
                current = self.catalog.setting(key)
            except ValueError:
                current = None
            if s.kind == FOLDER or (value != current and value != self.shown.get(key)):
                self.catalog.set_setting(key, value)
                if value != current:
                    self.changed.add(key)

    def _save(self) -> None:
        problem = self.validate()
        if problem:
            self.buttons.button(QDialogButtonBox.Save).setToolTip(problem)
            QLabel(problem, self).show()
            return
        self.save()
        self.accept()


class FirstRunDialog(SettingsDialog):
    """Choose the folders, then build the library in one go with one progress view."""

    def __init__(self, lib, catalog, runner, parent=None):
        super().__init__(catalog, parent, title="Welcome to fluxcull")
        self.lib, self.runner = lib, runner
        intro = QLabel(
            "Choose where your photos are. fluxcull reads the ORIGINALS (every frame you shot) and your "
            "KEEPERS archive (the ones you kept), links each keeper to its original, learns your taste from "
            "them and scores every photo. New photos in the INBOX are scored as they arrive."
        )
        intro.setWordWrap(True)
        self.layout_.insertWidget(0, intro)
        self.stage = QLabel("")
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumHeight(140)
        self.log.setVisible(False)
        for w in (self.stage, self.bar, self.log):
            self.layout_.insertWidget(self.layout_.count() - 1, w)
        self.buttons.button(QDialogButtonBox.Save).setText("Build library")
        self.outcome: str | None = None
        runner.progressed.connect(self._on_progress)
        runner.finished.connect(self._on_finished)
        self._title = "Building the library"

    def _save(self) -> None:
        problem = self.validate()
        if problem or not self.chosen().get("originals"):
            self.stage.setText(problem or "Choose at least the ORIGINALS folder.")
            return
        self.save()
        chosen = {r: str(Path(v).expanduser().resolve()) for r, v in self.chosen().items() if v}
        if chosen.get("inbox"):
            Path(chosen["inbox"]).mkdir(parents=True, exist_ok=True)
        lib = self.lib
        workers = workflows.worker_threads(lib)
        self.buttons.button(QDialogButtonBox.Save).setEnabled(False)
        self.bar.setVisible(True)
        self.log.setVisible(True)
        self.runner.submit(self._title,
                           lambda cancel: workflows.build_library_job(lib, chosen, cancel=cancel, workers=workers))

    def _on_progress(self, p) -> None:
        if self.runner.current is None or self.runner.current.title != self._title:
            return
        if p.stage != self.stage.text().split(":")[0]:
            self.log.appendPlainText(f"{p.stage}…")
        self.stage.setText(f"{p.stage}: {p.done}" + (f"/{p.total}" if p.total else "") + (f"  {p.message}" if p.message else ""))
        if p.total:
            self.bar.setRange(0, int(p.total))
            self.bar.setValue(min(int(p.done), int(p.total)))
        else:
            self.bar.setRange(0, 0)

    def _on_finished(self, title: str, outcome: str, payload) -> None:
        if title != self._title:
            return
        self.outcome = outcome
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if outcome == "ok" else 0)
        if outcome == "ok":
            self.log.appendPlainText("Done: every photo is scored.")
            self.buttons.button(QDialogButtonBox.Cancel).setText("Open the library")
        else:
            self.log.appendPlainText(f"{outcome}: {payload or ''}")
            self.buttons.button(QDialogButtonBox.Save).setEnabled(True)

    def reject(self) -> None:
        if self.runner.current is not None and self.runner.current.title == self._title and self.outcome is None:
            self.runner.cancel()
        super().reject()

    def done(self, r: int) -> None:
        try:
            self.runner.progressed.disconnect(self._on_progress)
            self.runner.finished.disconnect(self._on_finished)
        except (RuntimeError, TypeError):
            pass
        super().done(r)
