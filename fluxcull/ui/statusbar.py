"""The status bar: counts of the grid's query, the position and selection, short messages."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel


def counts_text(c: dict[str, int], total: int) -> str:
    """'16 photos   ✔ 11 keepers (3 kept here)   ✖ 1 rejected   4 undecided   16 scored': keepers are
    the confirmed keepers (linked from the keeper archive) and the photos marked keep. `total`: the
    grid's cells; with stacks collapsed, fewer than the photos ('92 photos in 32 cells')."""
    keepers, kept = c.get("keepers", c.get("keep", 0)), c.get("keep", 0)
    photos = sum(c.get(k, 0) for k in ("keep", "reject", "none"))
    head = f"{total:,} photo{'s' * (total != 1)}"
    if photos > total:
        head = f"{photos:,} photos in {total:,} cell{'s' * (total != 1)}"
    return (f"{head}   ✔ {keepers:,} keeper{'s' * (keepers != 1)} ({kept:,} kept here)   "
            f"✖ {c.get('reject', 0):,} rejected   {c.get('none', 0):,} undecided   {c.get('scored', 0):,} scored")


class StatusLine(QObject):
    def __init__(self, statusbar, job_widget, parent=None):
        super().__init__(parent)
        self.counts_label = QLabel()
        self.selection_label = QLabel()
        self.message_label = QLabel()
        self.message_label.setStyleSheet("color: #e6c36a;")
        statusbar.addWidget(self.counts_label)
        statusbar.addWidget(self.selection_label)
        statusbar.addPermanentWidget(self.message_label)
        statusbar.addPermanentWidget(job_widget)
        self.flash_timer = QTimer(self, singleShot=True)
        self.flash_timer.timeout.connect(self.message_label.clear)
        self.timer = QTimer(self, singleShot=True, interval=120)  # coalesces updates while keys repeat

    def flash(self, text: str, ms: int = 4000) -> None:
        """A short message (kept beside the counts, not over them)."""
        self.message_label.setText(text)
        self.flash_timer.start(ms)

    def show(self, counts: dict[str, int], total: int, selected: int, row: int | None) -> None:
        self.counts_label.setText(counts_text(counts, total))
        pos = f"{row + 1:,} of {total:,}" if row is not None else ""
        self.selection_label.setText((f"{selected} selected   " if selected > 1 else "") + pos)

    def stop(self) -> None:
        self.timer.stop()
        self.flash_timer.stop()
