"""The Drafts view's sequence suggestions side by side (fluxcull.insights.sequence, through
fluxcull.insight_workflows.draft_sequences): each its mode, score against the draft's order now, summary,
the order in small thumbnails, the reasons transition by transition, and Apply."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from fluxcull.ui.draft_strip import DraftThumbs, PhotoStrip

TITLES = {"chronological": "Chronological", "flow": "Flow", "bookends": "Bookends"}


def transition_lines(s: dict) -> list[str]:
    """'3→4  a change of scene, tonal step: darker (-0.12)' per transition."""
    return [f"{t['position']}→{t['position'] + 1}   {', '.join(t['reasons']) or 'nothing to say'}"
            for t in s.get("transitions", [])]


class SuggestionPanel(QFrame):
    apply_wanted = Signal(dict)

    def __init__(self, thumbs: DraftThumbs, parent=None):
        super().__init__(parent)
        self.setObjectName("suggestion")
        self.setStyleSheet("#suggestion { background: #222428; border: 1px solid #33363b; border-radius: 4px; }")
        self.suggestion: dict | None = None
        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #8b9099;")
        self.strip = PhotoStrip(thumbs, icon=44, captions=False)
        self.reasons = QListWidget()
        self.reasons.setWordWrap(True)
        self.reasons.setMinimumHeight(90)
        self.apply_button = QPushButton("Apply this order")
        self.apply_button.clicked.connect(lambda: self.suggestion and self.apply_wanted.emit(self.suggestion))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        for w in (self.title, self.summary, self.strip, self.reasons, self.apply_button):
            lay.addWidget(w)

    def show_suggestion(self, s: dict, current: dict, items: dict[int, dict], editable: bool) -> None:
        self.suggestion = s
        delta = s["score"] - current["score"]
        self.title.setText(f"<b>{TITLES.get(s['mode'], s['mode'])}</b> · score {s['score']:.2f} "
                           f"<span style='color:#8b9099'>({'+' if delta >= 0 else '−'}{abs(delta):.2f} on the "
                           f"order now; {s['moved']} in other places)</span>")
        self.summary.setText(escape(s["summary"]))
        self.strip.show_items([items[i] for i in s["order"] if i in items], lambda k, rec: "")
        self.reasons.clear()
        self.reasons.addItems(transition_lines(s))
        same = s["order"] == current["order"]
        self.apply_button.setEnabled(editable and not same)
        self.apply_button.setText("The draft's order already" if same else "Apply this order")
        self.apply_button.setToolTip("" if editable else "An approved draft: re-open it to change its order")


class SuggestionRow(QWidget):
    """Two or three suggestions side by side."""

    apply_wanted = Signal(dict)

    def __init__(self, thumbs: DraftThumbs, count: int = 3, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.panels = [SuggestionPanel(thumbs) for _ in range(count)]
        for p in self.panels:
            p.apply_wanted.connect(self.apply_wanted)
            lay.addWidget(p, 1)
        self.note = QLabel("Sequence suggestions appear here")
        self.note.setStyleSheet("color: #8b9099;")
        lay.addWidget(self.note)
        self.clear()

    def clear(self, note: str = "Working out sequence suggestions…") -> None:
        for p in self.panels:
            p.setVisible(False)
            p.suggestion = None
        self.note.setText(note)
        self.note.setVisible(True)

    def show_result(self, res: dict, items: dict[int, dict], editable: bool) -> None:
        shown = res.get("suggestions", [])[:len(self.panels)]
        for p, s in zip(self.panels, shown):
            p.show_suggestion(s, res["current"], items, editable)
            p.setVisible(True)
        for p in self.panels[len(shown):]:
            p.setVisible(False)
        self.note.setVisible(not shown)

    def modes(self) -> list[str]:
        return [p.suggestion["mode"] for p in self.panels if not p.isHidden() and p.suggestion]

    def panel(self, mode: str) -> SuggestionPanel | None:
        return next((p for p in self.panels if p.suggestion and p.suggestion["mode"] == mode), None)
