"""Library ▸ Rediscover…: the probable keepers among the originals nobody ever decided on
(fluxcull.insights.rediscover, `fluxcull rediscover`), by session: the session's date, place, how
many it proposes and its best score, the session with the best photo first, and a first row for all
of them. "Show in grid" (or a double-click) shows the chosen row's photos in the main grid through
the find filter `rediscover=yes` (the same rule in SQL, fluxcull.catalog.insight_reads.REDISCOVER_SQL),
in that session or in every photo, so the filter bar says what is shown and it can be saved.

The list is read on this window's own catalog thread (fluxcull.ui.writer) through
fluxcull.insight_workflows.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from fluxcull import insight_workflows
from fluxcull.ui.theme import score_text
from fluxcull.ui.writer import CatalogDialog

HEADS = ("Session", "Place", "Photos", "Best score")
WHERE = "rediscover=yes"
ALL = -1   # the first row's id: every session


def session_words(s: dict) -> str:
    start = str(s.get("start_at") or "")
    if s.get("session_id") is None:
        return "No session"
    return f"{start[:10]}  {start[11:16]}".strip() if start else f"Session {s['session_id']}"


class RediscoverDialog(CatalogDialog):
    def __init__(self, lib, show_where=None, parent=None):
        """`show_where(expression, label, session_id)`: show what an expression selects in the grid."""
        super().__init__(lib, parent, name="rediscover")
        self.setWindowTitle("Rediscover")
        self.resize(820, 600)
        self.show_where = show_where
        self.result: dict | None = None

        self.status = QLabel("Looking for probable keepers nobody decided on…")
        self.status.setWordWrap(True)
        self.table = t = QTableWidget(0, len(HEADS))
        t.setHorizontalHeaderLabels(HEADS)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QTableWidget.NoEditTriggers)
        t.setSelectionBehavior(QTableWidget.SelectRows)
        t.setSelectionMode(QTableWidget.SingleSelection)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        t.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        t.cellDoubleClicked.connect(lambda row, col: self.show_in_grid(row))
        self.show_button = QPushButton("Show in grid")
        self.show_button.setToolTip(f"Show the chosen session's proposals (or all of them) in the grid: {WHERE}")
        self.show_button.clicked.connect(lambda: self.show_in_grid(self.table.currentRow()))
        self.show_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.show_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addWidget(t, 1)
        lay.addLayout(bottom)
        self.worker.submit(insight_workflows.rediscover_sessions, self._loaded)

    def _loaded(self, res, error) -> None:
        if self.closed:
            return
        if error:
            self.status.setText(f"Rediscovery could not be read: {error.split(': ', 1)[-1]}")
            return
        self.result = res
        sessions = res["sessions"]
        if not sessions:
            self.status.setText(f"No original scoring {res['min_score']:g} or more is left undecided: nothing to "
                                "rediscover (the keeper model scores the photos: Model ▸ Retrain).")
            return
        self.status.setText(f"{res['photos']} originals the keeper model scores {res['min_score']:g} or more were "
                            f"never kept, linked or decided on, in {len(sessions)} sessions. A list to look at again: "
                            "it decides nothing.")
        rows = [{"session_id": ALL, "words": "All sessions", "place": "", "count": res["photos"],
                 "best": sessions[0]["best"]}]
        rows += [{**s, "words": session_words(s)} for s in sessions]
        self.table.setRowCount(len(rows))
        for r, s in enumerate(rows):
            cells = [s["words"], s.get("place") or "", str(s["count"]), score_text(s["best"])]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, s["session_id"])
                if c >= 2:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.setCurrentCell(0, 0)
        self.show_button.setEnabled(True)

    def row_session(self, row: int):
        """The chosen row's session id (ALL: every session; None: photos of no session)."""
        item = self.table.item(row, 0)
        return None if item is None else item.data(Qt.UserRole)

    def show_in_grid(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is None or self.show_where is None:
            return
        sid = item.data(Qt.UserRole)
        if sid == ALL or sid is None:   # photos of no session: among every photo
            self.show_where(WHERE, "Rediscover: every session")
        else:
            self.show_where(WHERE, f"Rediscover: {item.text()}", int(sid))

    def loaded(self) -> bool:
        return not self.busy()


def open_rediscover(win) -> RediscoverDialog:
    """Library ▸ Rediscover…: the view on the window's library; a session chosen is shown in its grid."""
    dlg = RediscoverDialog(win.lib, lambda where, label, sid=None: win.browser.show_where(where, label, sid), win)
    win.show_dialog(dlg)
    return dlg
