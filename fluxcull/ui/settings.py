"""Library settings (folders, backbone, worker threads) and the first-run guide.

Folders live in the catalog's settings table under 'originals_dir', 'keepers_dir', 'inbox_dir';
fluxcull only ever reads them. The first-run guide saves them and runs ingest, embed, match,
train and score as one job with one progress view.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from fluxcull.jobs import CancelToken, chain_jobs

FOLDER_KEYS = (("originals", "originals_dir", "ORIGINALS (the full corpus)"),
               ("keepers", "keepers_dir", "KEEPERS (your keeper archive)"),
               ("inbox", "inbox_dir", "INBOX (new photos, watched)"))


def backbone_choices() -> list[str]:
    """The names fluxcull.ml.backbones.get_backbone accepts (stored under the 'backbone' setting)."""
    from fluxcull.ml.backbones import list_backbones

    return [bb.name for bb in list_backbones()]


def folders(lib, conn) -> dict[str, str]:
    return {role: lib.get_setting(conn, key) or "" for role, key, _ in FOLDER_KEYS}


def worker_threads(lib) -> int | None:
    conn = lib.connect()
    try:
        value = int(lib.get_setting(conn, "worker_threads") or 0)
    except ValueError:
        value = 0
    finally:
        conn.close()
    return value or None


def build_library_job(lib, chosen: dict[str, str], cancel: CancelToken):
    """Ingest every chosen folder, embed, match keepers, train (which re-scores): one generator."""
    from fluxcull.ingest import ingest_job
    from fluxcull.matching import match_job
    from fluxcull.ml.embed import embed_job
    from fluxcull.ml.train import train_job

    workers = worker_threads(lib)
    steps = [
        (lambda r=role: ingest_job(lib, [chosen[r]], r, cancel=cancel, workers=workers))
        for role, _, _ in FOLDER_KEYS if chosen.get(role)
    ]
    steps += [
        lambda: embed_job(lib, cancel=cancel),
        lambda: match_job(lib, cancel=cancel),
        lambda: train_job(lib, cancel=cancel),
    ]
    return chain_jobs(*steps)


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


class SettingsDialog(QDialog):
    def __init__(self, lib, conn, parent=None, title: str = "Library settings"):
        super().__init__(parent)
        self.lib, self.conn = lib, conn
        self.setWindowTitle(title)
        self.form = QFormLayout()
        current = folders(lib, conn)
        self.fields: dict[str, _FolderField] = {}
        for role, _key, label in FOLDER_KEYS:
            f = _FolderField(current[role])
            self.fields[role] = f
            self.form.addRow(label, f)
        self.backbone = QComboBox()
        self.backbone.setEditable(True)
        choices = backbone_choices()
        cur = lib.get_setting(conn, "backbone") or ""
        self.backbone.addItems([""] + [c for c in choices if c])
        self.backbone.setCurrentText(cur)
        self.backbone.setToolTip("Embedding backbone (empty: the default). A change re-embeds every photo.")
        self.form.addRow("Backbone", self.backbone)
        self.threads = QSpinBox()
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText("automatic")
        self.threads.setValue(int(lib.get_setting(conn, "worker_threads") or 0))
        self.form.addRow("Worker threads", self.threads)
        note = QLabel("fluxcull only reads these folders; it never writes into them.")
        note.setObjectName("exifKey")
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(self.form)
        self.layout_.addWidget(note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)

    def chosen(self) -> dict[str, str]:
        return {role: f.value() for role, f in self.fields.items()}

    def validate(self) -> str | None:
        for role, value in self.chosen().items():
            if value and not Path(value).expanduser().is_dir() and role != "inbox":
                return f"{value}: not a folder"
        return None

    def save(self) -> None:
        for role, key, _ in FOLDER_KEYS:
            value = self.fields[role].value()
            self.lib.set_setting(self.conn, key, str(Path(value).expanduser().resolve()) if value else "")
        self.lib.set_setting(self.conn, "backbone", self.backbone.currentText().strip())
        self.lib.set_setting(self.conn, "worker_threads", str(self.threads.value()))

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

    def __init__(self, lib, conn, runner, parent=None):
        super().__init__(lib, conn, parent, title="Welcome to fluxcull")
        self.runner = runner
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
        self.buttons.button(QDialogButtonBox.Save).setEnabled(False)
        self.bar.setVisible(True)
        self.log.setVisible(True)
        self.runner.submit(self._title, lambda cancel: build_library_job(lib, chosen, cancel))

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
