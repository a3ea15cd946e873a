"""Model ▸ Issue drafts…: the Drafts view. The drafts on the left (proposed or approved) with the
history of the one chosen; on the right that draft as a strip of thumbnails in order, which a drag,
Ctrl+←/→ or the buttons reorder and Delete thins; the alternatives proposed for the photo chosen
(fluxcull.insights.alternatives), one of which takes its place; two or three sequence suggestions
side by side with their reasons, one of which is applied; approve, re-open, and export (contact
sheet PDF, CSV, photos into a folder: fluxcull.insights.draft_export); New draft… has the keeper model
propose another (fluxcull.ui.draft_new asks for its size and lowest score).

Every change is a catalog call (fluxcull.catalog.api.Catalog: set_draft_order, remove_from_draft,
swap_in_draft, approve_draft, reopen_draft), made on this view's own catalog thread, as are the
suggestions, the alternatives and the exports (fluxcull.insight_workflows): the window never waits on them.
Only a proposed draft changes; an approved one is re-opened first (the catalog refuses otherwise).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu,
                               QPushButton, QSplitter, QToolButton, QVBoxLayout, QWidget)

from fluxcull import insight_workflows
from fluxcull.ui.draft_new import NewDraftDialog
from fluxcull.ui.draft_strip import ID_ROLE, DraftThumbs, PhotoStrip, name, when
from fluxcull.ui.draft_suggestions import TITLES, SuggestionRow
from fluxcull.ui.theme import score_text
from fluxcull.ui.writer import CatalogDialog

HINT = "Drag to reorder · Ctrl+← / Ctrl+→ move the chosen photo · Delete takes it out"


def _score(rec: dict) -> float | None:
    return rec.get("keeper_score") if rec.get("keeper_score") is not None else rec.get("score")


def history_line(e: dict) -> str:
    d, kind = e["detail"], e["kind"]
    extra = {"sequenced": lambda: f" ({d.get('mode')})", "removed": lambda: f" (photo {d.get('photo_id')})",
             "swapped": lambda: f" (photo {d.get('photo_id')} → {d.get('by')})"}.get(kind, lambda: "")()
    return f"{(e['at'] or '')[:16].replace('T', ' ')}  {kind}{extra}"


def _message(error: str) -> str:
    """A catalog thread's 'InvalidValue: why' as the reason alone."""
    return error.split(": ", 1)[-1]


class DraftsDialog(CatalogDialog):
    def __init__(self, lib, catalog, parent=None):
        super().__init__(lib, parent, name="drafts")
        self.setWindowTitle("Issue drafts")
        self.resize(1480, 940)
        self.catalog = catalog
        self.thumbs = DraftThumbs(lib, self)
        self.draft: dict | None = None
        self.alternatives: list[dict] = []
        self.suggestions: dict | None = None
        self.asked = {"suggestions": 0, "alternatives": 0}  # the latest question of each: older answers are dropped

        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._draft_chosen)
        self.history = QListWidget()
        left = QWidget()
        left.setMinimumWidth(230)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        for w in (self._title("Drafts"), self.list, self._title("History"), self.history):
            ll.addWidget(w)
        ll.setStretch(1, 3)
        ll.setStretch(3, 2)

        self.header = QLabel()
        self.header.setTextFormat(Qt.RichText)
        self.new_button = QPushButton("New draft…")
        self.new_button.setToolTip("Let the keeper model propose a draft (as `fluxcull draft` does)")
        self.new_button.clicked.connect(self._ask_new)
        self.approve_button = QPushButton("Approve")
        self.approve_button.clicked.connect(self.approve)
        self.reopen_button = QPushButton("Re-open")
        self.reopen_button.setToolTip("Make the approved draft a proposal again, to change it")
        self.reopen_button.clicked.connect(self.reopen)
        self.export_button = QToolButton()
        self.export_button.setText("Export ▾")
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Contact sheet (PDF)…", lambda: self._ask_export("pdf"))
        menu.addAction("Photos into a folder…", lambda: self._ask_export("files"))
        menu.addAction("List (CSV)…", lambda: self._ask_export("csv"))
        self.export_button.setMenu(menu)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        for w in (self.new_button, self.approve_button, self.reopen_button, self.export_button):
            top.addWidget(w)

        self.strip = PhotoStrip(self.thumbs, icon=150)
        self.strip.reordered.connect(self._reordered)
        self.strip.remove_wanted.connect(lambda pid: self.remove(pid))
        self.strip.currentRowChanged.connect(lambda *_: self._ask_alternatives())
        self.left_button = QPushButton("◀ Move left")
        self.left_button.clicked.connect(lambda: self.strip.move_current(-1))
        self.right_button = QPushButton("Move right ▶")
        self.right_button.clicked.connect(lambda: self.strip.move_current(1))
        self.remove_button = QPushButton("Take out")
        self.remove_button.clicked.connect(lambda: self.remove())
        self.hint = QLabel(HINT)
        self.hint.setStyleSheet("color: #8b9099;")
        edit = QHBoxLayout()
        for w in (self.left_button, self.right_button, self.remove_button):
            edit.addWidget(w)
        edit.addWidget(self.hint, 1)

        self.alt_title = QLabel()
        self.alt_strip = PhotoStrip(self.thumbs, icon=84)
        self.alt_strip.itemDoubleClicked.connect(lambda *_: self.swap())
        self.swap_button = QPushButton("Swap in")
        self.swap_button.setToolTip("Put the chosen alternative in the photo's place")
        self.swap_button.clicked.connect(lambda: self.swap())
        alt_row = QHBoxLayout()
        alt_row.addWidget(self.alt_strip, 1)
        alt_row.addWidget(self.swap_button, 0, Qt.AlignVCenter)

        self.suggest = SuggestionRow(self.thumbs)
        self.suggest.apply_wanted.connect(self.apply_suggestion)
        self.said = QLabel()
        self.said.setWordWrap(True)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(top)
        rl.addWidget(self.strip)
        rl.addLayout(edit)
        rl.addWidget(self.alt_title)
        rl.addLayout(alt_row)
        rl.addWidget(self._title("Sequence suggestions"))
        rl.addWidget(self.suggest, 1)
        rl.addWidget(self.said)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([260, 1200])
        QVBoxLayout(self).addWidget(split)
        self.reload()

    @staticmethod
    def _title(text: str) -> QLabel:
        lab = QLabel(text)
        lab.setObjectName("panelTitle")
        return lab

    # -- what is shown ---------------------------------------------------------------------------------
    def reload(self, select: int | None = None) -> None:
        """The drafts list again (the draft `select`, else the one shown, else the newest, chosen)."""
        want = select if select is not None else (self.draft or {}).get("id")
        drafts = self.catalog.drafts()
        self.list.blockSignals(True)
        self.list.clear()
        for d in drafts:
            item = QListWidgetItem(f"Draft {d['id']} · {d['size']} photos\n{d['status']} · {d['created_at'][:10]}")
            item.setData(ID_ROLE, d["id"])
            self.list.addItem(item)
        self.list.blockSignals(False)
        ids = [d["id"] for d in drafts]
        if not ids:
            self.draft = None
            self.header.setText("No drafts yet: <b>New draft…</b> (or <code>fluxcull draft</code>) proposes one: "
                                "N strong photos, diverse, in sequence")
            for w in (self.approve_button, self.reopen_button, self.export_button, self.left_button,
                      self.right_button, self.remove_button, self.swap_button):
                w.setEnabled(False)
            self.hint.setText("")
            self.alt_title.setText("")
            self.reopen_button.setVisible(False)
            self.suggest.clear("")
            return
        row = ids.index(want) if want in ids else 0
        self.list.blockSignals(True)
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        self.show_draft(ids[row])

    def _draft_chosen(self, row: int) -> None:
        if row >= 0:
            self.show_draft(int(self.list.item(row).data(ID_ROLE)))

    def editable(self) -> bool:
        return self.draft is not None and self.draft["status"] == "proposed"

    def show_draft(self, draft_id: int, photo: int | None = None) -> None:
        """Draft `draft_id` in the strip (photo `photo`, else the one chosen, stays chosen), its
        history, and the suggestions and alternatives asked anew."""
        chosen = photo if photo is not None else (self.strip.current_id() if self.draft and
                                                  self.draft["id"] == draft_id else None)
        d = self.catalog.draft(draft_id)
        if d is None:
            return self.reload()
        self.draft = d
        ok = self.editable()
        state = "proposed — yours to change and approve" if ok else f"approved {(d['approved_at'] or '')[:10]}"
        self.header.setText(f"<b>Draft {d['id']}</b> · {len(d['items'])} photos · {escape(state)}")
        self.strip.set_editable(ok)
        self.strip.blockSignals(True)
        self.strip.show_items(d["items"], lambda k, rec: f"{k}. {name(rec)}\n{when(rec)} · {score_text(_score(rec))}",
                              lambda k, rec: f"{name(rec)}\n{rec.get('place') or ''}")
        self.strip.select_id(chosen)
        if self.strip.currentRow() < 0 and self.strip.count():
            self.strip.setCurrentRow(0)
        self.strip.blockSignals(False)
        for w in (self.left_button, self.right_button, self.remove_button):
            w.setEnabled(ok)
        for button, on in ((self.approve_button, ok), (self.reopen_button, not ok)):  # the one that applies
            button.setEnabled(on)
            button.setVisible(on)
        self.export_button.setEnabled(True)
        self.hint.setText(HINT if ok else "Approved: re-open the draft to change it")
        self.history.clear()
        self.history.addItems([history_line(e) for e in self.catalog.draft_history(draft_id)])
        self._ask_suggestions()
        self._ask_alternatives()

    # -- questions for the catalog thread ---------------------------------------------------------------
    def _ask(self, what: str, fn, done) -> None:
        self.asked[what] += 1
        token = self.asked[what]

        def answered(result, error):
            if not self.closed and self.asked[what] == token:
                done(result, error)

        self.worker.submit(fn, answered)

    def _ask_suggestions(self) -> None:
        lib, did = self.lib, self.draft["id"]
        self.suggestions = None
        self.suggest.clear()
        self._ask("suggestions", lambda cat: insight_workflows.draft_sequences(lib, cat, did), self._suggested)

    def _suggested(self, res, error) -> None:
        if error:
            self.suggest.clear(f"No sequence suggestions: {_message(error)}")
            return
        self.suggestions = res
        self.suggest.show_result(res, {it["photo_id"]: it for it in self.draft["items"]}, self.editable())

    def _ask_alternatives(self) -> None:
        pid = self.strip.current_id()
        self.alternatives = []
        self.alt_strip.show_items([], lambda k, r: "")
        self.swap_button.setEnabled(False)
        if self.draft is None or pid is None:
            self.alt_title.setText("Alternatives: choose a photo of the draft")
            return
        self.alt_title.setText(f"Alternatives for {escape(self._name(pid))}: looking…")
        lib, did = self.lib, self.draft["id"]
        self._ask("alternatives", lambda cat: insight_workflows.draft_alternatives(lib, cat, did, pid),
                  lambda res, err: self._alternatives_ready(pid, res, err))

    def _alternatives_ready(self, pid: int, res, error) -> None:
        if error:
            self.alt_title.setText(f"No alternatives for {self._name(pid)}: {_message(error)}")
            return
        self.alternatives = res or []
        self.alt_strip.show_items(self.alternatives, lambda k, a: f"{name(a)}\n{score_text(a['score'])} · {a['reason']}",
                                  lambda k, a: f"{name(a)}: {a['reason']}, taken {when(a)}")
        if self.alternatives:
            self.alt_strip.setCurrentRow(0)
        verb = "double-click or Swap in to put one in its place" if self.editable() else "re-open the draft to swap"
        self.alt_title.setText(f"Alternatives for {self._name(pid)} ({verb})" if self.alternatives else
                               f"No alternatives for {self._name(pid)}: no other strong photo fits the draft's rules")
        self.swap_button.setEnabled(self.editable() and bool(self.alternatives))

    def _name(self, pid: int) -> str:
        rec = next((it for it in (self.draft or {}).get("items", []) if it["photo_id"] == pid), {"photo_id": pid})
        return name(rec)

    # -- changes (catalog calls on the view's thread; the draft is shown again when each is saved) ----------
    def _change(self, fn, said: str, photo: int | None = None) -> None:
        did = self.draft["id"]

        def saved(result, error):
            if self.closed:
                return
            self.say(_message(error) if error else said)
            self.reload(select=did)
            if photo is not None and self.draft and self.draft["id"] == did:
                self.strip.select_id(photo)

        self.worker.submit(fn, saved)

    def _reordered(self, ids: list[int]) -> None:
        did = self.draft["id"]
        self._change(lambda cat: cat.set_draft_order(did, ids), "Order saved", self.strip.current_id())

    def move(self, step: int) -> bool:
        return self.strip.move_current(step)

    def remove(self, photo_id: int | None = None) -> None:
        pid = photo_id if photo_id is not None else self.strip.current_id()
        if pid is None or self.draft is None:
            return
        did = self.draft["id"]
        self._change(lambda cat: cat.remove_from_draft(did, pid), f"{self._name(pid)} taken out of the draft")

    def swap(self, index: int | None = None) -> None:
        pid, row = self.strip.current_id(), self.alt_strip.currentRow() if index is None else index
        if pid is None or not 0 <= row < len(self.alternatives) or self.draft is None:
            return
        alt, did = self.alternatives[row], self.draft["id"]
        self._change(lambda cat: cat.swap_in_draft(did, pid, alt["photo_id"], alt["score"]),
                     f"{name(alt)} in place of {self._name(pid)}", alt["photo_id"])

    def _ask_new(self) -> None:
        dlg = NewDraftDialog(self)
        if dlg.exec():
            self.propose(**dlg.values())

    def propose(self, size: int, min_score: float, exclude_used: bool = False) -> None:
        """Have the keeper model propose a draft (on the view's thread); shown when stored."""
        lib = self.lib
        self.say("Proposing a draft…")

        def done(res, error):
            if self.closed:
                return
            if error or res["draft"] is None:
                why = _message(error) if error else res["reason"]
                self.say(f"No draft: {why}")
                if self.draft is None:  # the empty view: said at the top, beside the button just pressed
                    self.header.setText(f"No draft: {escape(why)}. <b>New draft…</b> with fewer photos or a lower "
                                        "score?")
                return
            self.say(f"Draft {res['draft']} proposed: {len(res['items'])} photos from {res['candidates']} candidates")
            self.reload(select=res["draft"])

        self.worker.submit(lambda cat: insight_workflows.propose_draft(lib, cat, size, min_score, exclude_used), done)

    def approve(self) -> None:
        if self.draft is not None:
            did = self.draft["id"]
            self._change(lambda cat: cat.approve_draft(did), f"Draft {did} approved")

    def reopen(self) -> None:
        if self.draft is not None:
            did = self.draft["id"]
            self._change(lambda cat: cat.reopen_draft(did), f"Draft {did} re-opened: a proposal again")

    def apply_suggestion(self, s: dict) -> None:
        if self.draft is None:
            return
        did, order, mode, score = self.draft["id"], list(s["order"]), s["mode"], s["score"]
        self._change(lambda cat: cat.set_draft_order(did, order, kind="sequenced", mode=mode, score=score),
                     f"{TITLES.get(mode, mode)} order applied")

    def _ask_export(self, kind: str) -> None:
        did = self.draft["id"]
        if kind == "files":
            path = QFileDialog.getExistingDirectory(self, "Put the draft's photos into")
        else:
            ext = {"pdf": "PDF (*.pdf)", "csv": "CSV (*.csv)"}[kind]
            path, _ = QFileDialog.getSaveFileName(self, "Export the draft", f"draft-{did}.{kind}", ext)
        if path:
            self.export_to(kind, path)

    def export_to(self, kind: str, path: str, mode: str = "copy") -> None:
        """Export the draft shown as `kind` ('pdf', 'csv', 'files') to `path`; said when done."""
        lib, did = self.lib, self.draft["id"]
        self.say("Exporting…")

        def done(out, error):
            if error:
                self.say(f"Export failed: {_message(error)}")
            elif out["format"] == "files":
                self.say(f"{out['written']} photos {'copied' if out['mode'] == 'copy' else 'linked'} into "
                         f"{out['folder']}; {len(out['skipped'])} there already, {len(out['errors'])} failed")
            else:
                self.say(f"Draft {did} written to {out['path']}")

        self.worker.submit(lambda cat: insight_workflows.export_draft(lib, cat, did, kind, path, mode),
                           lambda out, error: None if self.closed else done(out, error))

    def say(self, text: str) -> None:
        self.said.setText(text)

    # -- lifetime -------------------------------------------------------------------------------------------
    def loaded(self) -> bool:
        """Nothing asked is outstanding and every thumbnail shown is there (for a screenshot)."""
        return not self.busy() and self.thumbs.idle()

    def shutdown(self) -> None:
        self.thumbs.shutdown()


def open_drafts(win) -> DraftsDialog:
    """Model ▸ Issue drafts…: the view on the window's library."""
    dlg = DraftsDialog(win.lib, win.catalog, win)
    win.show_dialog(dlg)
    return dlg
