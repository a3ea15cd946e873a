"""Library > Export decisions…: the dialog that chooses where the XMP sidecars go, the background job
(fluxcull.workflows.export_xmp_job on the window's job thread, its progress bar in the status bar),
and the summary shown when it ends."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QLabel, QListWidget, QRadioButton,
                               QVBoxLayout)

from fluxcull import workflows

EXPORT_TITLE = "Exporting decisions to XMP"

INTRO = ("Writes each decided, rated or labelled photo's keep or reject (star rating, colour label, pick "
         "flag), its stars and colour label, and its keeper score into an XMP sidecar, which Lightroom, Capture One, darktable and digiKam read. A sidecar that "
         "exists already is merged: its other fields are kept as they are.")
SIDECAR_WARNING = ("⚠ This writes .xmp files into your photo folders, beside your originals. An existing "
                   "sidecar is merged (its other fields kept) and its previous version is saved in {backup}. "
                   "The photos themselves are never changed.")


class ExportDialog(QDialog):
    """Where to write; Export starts the job on the window's runner."""

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.setWindowTitle("Export decisions")
        self.mirror = workflows.xmp_mirror_folder(win.lib)
        lay = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.mirror_radio = QRadioButton(f"Into a mirror folder inside the library (recommended):\n{self.mirror}")
        self.sidecar_radio = QRadioButton("Beside the originals, in your photo folders")
        self.mirror_radio.setChecked(True)
        lay.addWidget(self.mirror_radio)
        lay.addWidget(self.sidecar_radio)
        self.warning = QLabel(SIDECAR_WARNING.format(backup=self.mirror.parent / "backup"))
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #e0a030; font-weight: bold;")
        self.warning.setVisible(False)
        lay.addWidget(self.warning)
        self.all_photos = QCheckBox("Every other photo too (its keeper score and band)")
        lay.addWidget(self.all_photos)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.sidecar_radio.toggled.connect(self.warning.setVisible)

    def destination(self) -> str:
        return "sidecar" if self.sidecar_radio.isChecked() else "mirror"

    def accept(self) -> None:
        lib, dest, decided_only = self.win.lib, self.destination(), not self.all_photos.isChecked()
        win = self.win
        super().accept()
        win.runner.submit(EXPORT_TITLE,
                          lambda cancel: workflows.export_xmp_job(lib, dest=dest, decided_only=decided_only,
                                                                  cancel=cancel),
                          on_done=lambda summary: win.show_dialog(ExportSummary(summary or {}, win)))


def summary_lines(s: dict) -> list[str]:
    """An export's summary in sentences."""
    where = ("beside your photos" if s.get("destination") == "sidecar" else f"into {s.get('folder')}")
    lines = [f"{s.get('photos', 0)} photos exported {where}.",
             f"Written: {s.get('written', 0)} sidecars. Unchanged (already up to date): {s.get('unchanged', 0)}."]
    problems = len(s.get("skipped", [])) + len(s.get("errors", []))
    if problems:
        lines.append(f"Not written: {problems} (listed below with the reason).")
    if s.get("backups"):
        lines.append(f"The sidecars replaced were saved in {s['backups']}.")
    return lines


class ExportSummary(QDialog):
    def __init__(self, summary: dict, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Decisions exported")
        self.resize(640, 320)
        lay = QVBoxLayout(self)
        self.text = QLabel("\n".join(summary_lines(summary)))
        self.text.setWordWrap(True)
        lay.addWidget(self.text)
        self.problems = QListWidget()
        for e in summary.get("skipped", []) + summary.get("errors", []):
            self.problems.addItem(f"{e['path']}: {e['reason']}")
        self.problems.setVisible(self.problems.count() > 0)
        lay.addWidget(self.problems)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
