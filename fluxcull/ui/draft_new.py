"""The Drafts view's New draft… dialog: how many photos, the lowest keeper score a candidate needs,
and whether photos already in an approved draft are left out (`fluxcull draft`'s --size,
--min-score and --exclude-used, with the same defaults)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox

from fluxcull.catalog.drafts import DRAFT_SIZE, STRONG_SCORE


class NewDraftDialog(QDialog):
    def __init__(self, parent=None, size: int = DRAFT_SIZE, min_score: float = STRONG_SCORE):
        super().__init__(parent)
        self.setWindowTitle("New draft")
        self.setMinimumWidth(440)
        form = QFormLayout(self)
        intro = QLabel("The keeper model proposes the draft: the strongest photos, one frame per burst, no two "
                       "alike, in the order they were taken. You change it and approve it.")
        intro.setWordWrap(True)
        form.addRow(intro)
        self.size = QSpinBox()
        self.size.setRange(1, 10000)
        self.size.setValue(size)
        form.addRow("Photos", self.size)
        self.min_score = QDoubleSpinBox()
        self.min_score.setRange(0.0, 1.0)
        self.min_score.setSingleStep(0.05)
        self.min_score.setDecimals(2)
        self.min_score.setValue(min_score)
        self.min_score.setToolTip("A candidate's keeper score is at least this")
        form.addRow("Lowest score", self.min_score)
        self.exclude_used = QCheckBox("Leave out photos already in an approved draft")
        form.addRow(self.exclude_used)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Propose")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        return {"size": self.size.value(), "min_score": round(self.min_score.value(), 2),
                "exclude_used": self.exclude_used.isChecked()}
