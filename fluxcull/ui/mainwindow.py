"""The main window: sources beside the grid, loupe and compare views, culling keys, jobs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import (QComboBox, QLabel, QMainWindow, QSlider, QSplitter, QStackedWidget,
                               QToolButton, QWidget, QSizePolicy)

from fluxcull.catalog.decisions import decide, undo_last
from fluxcull.catalog.queries import PhotoQuery
from fluxcull.jobs import Cancelled
from fluxcull.ui import keymap, theme
from fluxcull.ui.compare import CompareView
from fluxcull.ui.dialogs import KeymapDialog, MetricsDialog, ReportDialog
from fluxcull.ui.grid import DEFAULT_SIDE, MAX_SIDE, MIN_SIDE, GridView
from fluxcull.ui.images import ImageLoader
from fluxcull.ui.inbox import InboxWatcher
from fluxcull.ui.loupe import LoupeView
from fluxcull.ui.model import PhotoListModel
from fluxcull.ui.sessions import ROLE_TITLES, SessionPanel, session_label
from fluxcull.ui.thumbs import PixmapCache, ThumbLoader, read_scaled, source_for
from fluxcull.ui.worker import JobRunner, call_job
from fluxcull.ui.writer import CatalogThread

GRID, LOUPE, COMPARE = 0, 1, 2
RETRAIN_TITLE = "Retraining the keeper model"
RESCORE_TITLE = "Scoring photos"
INBOX_TITLE = "Inbox: ingest, embed, score"
UNDO_SOURCES = ("gui", "compare")


def inbox_job(lib, folder: str, cancel, workers=None):
    """Ingest the inbox folder, then embed and score what arrived (scoring needs a trained model)."""
    from fluxcull.ingest import ingest_job

    summary = {"ingest": (yield from ingest_job(lib, [folder], "inbox", cancel=cancel, workers=workers))}
    try:
        from fluxcull.ml.embed import embed_job
        from fluxcull.ml.score import score_job
    except ImportError as exc:
        summary["not_scored"] = f"keeper model not available: {exc}"
        return summary
    summary["embed"] = yield from embed_job(lib, cancel=cancel, role="inbox")
    try:
        summary["score"] = yield from score_job(lib, cancel=cancel)
    except Cancelled:
        raise
    except Exception as exc:  # e.g. no model trained yet: the photos are in, unscored
        summary["not_scored"] = f"{type(exc).__name__}: {exc}"
    return summary


def retrain_job(lib, cancel):
    """Build pairs from every decision so far, train, evaluate against the active model, re-score."""
    from fluxcull.ml.train import train_job

    return train_job(lib, cancel=cancel)


def rescore_job(lib, cancel):
    from fluxcull.ml.score import score_job

    return score_job(lib, cancel=cancel)


class MainWindow(QMainWindow):
    def __init__(self, lib, *, initial_role: str | None = None, initial_session: int | None = None,
                 watch_inbox: bool = True, inbox_debounce_ms: int = 1500, cache_bytes: int = 384 * 1024 * 1024,
                 thumb_threads: int | None = None):
        super().__init__()
        self.lib = lib
        self.conn = lib.connect()
        role = initial_role if initial_role in ROLE_TITLES else None
        label = ROLE_TITLES[role] if role else "All photos"
        if initial_session is not None:
            row = self.conn.execute("SELECT role, start_at FROM sessions WHERE id = ?", (int(initial_session),)).fetchone()
            if row is None:
                self.conn.close()
                raise LookupError(f"no session with id {initial_session} (see `fluxcull sessions`)")
            role, label = row["role"], f"{ROLE_TITLES[row['role']]} {session_label(dict(row))}"
        self.source = {"label": label, "role": role, "session_id": initial_session}
        self.setWindowTitle(f"fluxcull — {lib.root}")
        self.resize(1480, 920)
        self.auto_advance = True
        self.undo_groups: list[int] = []
        self.dialog = None
        self.last_error: str | None = None
        self.last_train: dict | None = None
        self.inbox_watcher: InboxWatcher | None = None
        self._inbox_again = False
        self.inbox_debounce_ms = inbox_debounce_ms
        self._closed = False

        self.model = PhotoListModel(self.conn, self)
        self._after_load = None
        self.model.loaded.connect(self._on_model_loaded)
        self.thumb_loader = ThumbLoader(PixmapCache(cache_bytes), threads=thumb_threads, parent=self)
        self.image_loader = ImageLoader(parent=self)
        self.runner = JobRunner(self)
        self.writer = CatalogThread(lib, self, name="writer")
        self.reader = CatalogThread(lib, self, name="reader")
        self.runner.finished.connect(self._on_job_finished)

        self.grid = GridView(lib, self.thumb_loader)
        self.grid.setModel(self.model)
        self.grid.activated_photo.connect(lambda row: self.show_loupe(row))
        self.grid.selectionModel().selectionChanged.connect(lambda *a: self._schedule_status())
        self.grid.selectionModel().currentChanged.connect(lambda *a: self._schedule_status())
        self.sessions = SessionPanel(self.conn)
        self.sessions.source_chosen.connect(self.set_source)
        self.loupe = LoupeView(self.conn, self.image_loader, self._thumb_image)
        self.loupe.step.connect(self.step_loupe)
        self.compare = CompareView(self.conn, self.image_loader, self._thumb_image, writer=self.writer)
        self.compare.preferred.connect(self._on_preferred)
        self.compare.exhausted.connect(self._on_compare_exhausted)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.loupe)
        self.stack.addWidget(self.compare)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.sessions)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 1060])
        self.setCentralWidget(splitter)

        self._build_toolbar()
        self._build_status()
        self._build_actions()
        self._status_timer = QTimer(self, singleShot=True, interval=120)
        self._status_timer.timeout.connect(self.update_status)
        self.counts: dict[str, int] = {}

        self.apply_query()
        QTimer.singleShot(0, self._load_sessions)
        if watch_inbox:
            self.setup_inbox()

    # -- building ---------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        tb = self.addToolBar("View")
        tb.setMovable(False)
        self.source_label = QLabel()
        self.source_label.setStyleSheet("color: #d8dadf; font-weight: bold; padding-right: 12px;")
        tb.addWidget(self.source_label)

        def combo(items, tip):
            c = QComboBox()
            for text, data in items:
                c.addItem(text, data)
            c.setToolTip(tip)
            c.currentIndexChanged.connect(lambda *_: self.apply_query())
            tb.addWidget(c)
            return c

        tb.addWidget(QLabel("Sort"))
        self.sort_combo = combo([("Capture time", "time"), ("Keeper score ↓", "score"), ("Keeper score ↑", "score_asc")],
                                "Order of the grid")
        tb.addWidget(QLabel("Decision"))
        self.decision_combo = combo([("Any", None), ("Kept", "keep"), ("Rejected", "reject"), ("Undecided", "none")],
                                    "Show photos with this decision")
        tb.addWidget(QLabel("Score"))
        self.band_combo = combo([("Any", None)] + [(theme.BAND_LABELS[b], b) for b in theme.BAND_LABELS],
                                "Show photos in this keeper-score band")
        tb.addWidget(QLabel("Role"))
        self.role_combo = combo([("All", None), ("Originals", "originals"), ("Keeper archive", "keepers"),
                                 ("Inbox", "inbox")], "Show photos of this role")
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        tb.addWidget(spacer)
        self.advance_button = QToolButton()
        self.advance_button.setText("Auto-advance")
        self.advance_button.setCheckable(True)
        self.advance_button.setChecked(True)
        self.advance_button.setToolTip("Move to the next photo after P / X / U (A)")
        self.advance_button.toggled.connect(self.set_auto_advance)
        tb.addWidget(self.advance_button)
        tb.addWidget(QLabel("Size"))
        self.size_slider = QSlider(Qt.Horizontal)
        self.size_slider.setRange(MIN_SIDE, MAX_SIDE)
        self.size_slider.setValue(DEFAULT_SIDE)
        self.size_slider.setFixedWidth(140)
        self.size_slider.valueChanged.connect(self.grid.set_thumb_side)
        tb.addWidget(self.size_slider)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.counts_label = QLabel()
        self.selection_label = QLabel()
        self.message_label = QLabel()
        self.message_label.setStyleSheet("color: #e6c36a;")
        sb.addWidget(self.counts_label)
        sb.addWidget(self.selection_label)
        sb.addPermanentWidget(self.message_label)
        sb.addPermanentWidget(self.runner.widget)
        self._flash_timer = QTimer(self, singleShot=True)
        self._flash_timer.timeout.connect(self.message_label.clear)

    def flash(self, text: str, ms: int = 4000) -> None:
        """A short message in the status bar (kept beside the counts, not over them)."""
        self.message_label.setText(text)
        self._flash_timer.start(ms)

    def _action(self, name: str, slot, menu, checkable: bool = False) -> QAction:
        keys, text = keymap.ACTIONS[name]
        act = QAction(text.split(":")[0] if len(text) > 40 else text, self)
        act.setShortcuts([QKeySequence(k) for k in keys])
        act.setShortcutContext(Qt.WindowShortcut)
        act.setCheckable(checkable)
        act.setToolTip(text)
        if checkable:
            act.toggled.connect(slot)
        else:
            act.triggered.connect(lambda *_: slot())
        menu.addAction(act)
        self.addAction(act)
        self.actions_by_name[name] = act
        return act

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        mb = self.menuBar()
        m_file = mb.addMenu("&Library")
        self._action("settings", self.open_settings, m_file)
        guide = m_file.addAction("First-run guide…")
        guide.triggered.connect(self.open_first_run)
        m_file.addSeparator()
        quit_ = m_file.addAction("Quit")
        quit_.setShortcut(QKeySequence.Quit)
        quit_.triggered.connect(self.close)

        m_photo = mb.addMenu("&Photo")
        self._action("keep", lambda: self.decide("keep"), m_photo)
        self._action("reject", lambda: self.decide("reject"), m_photo)
        self._action("clear", lambda: self.decide("clear"), m_photo)
        m_photo.addSeparator()
        self._action("undo", self.undo, m_photo)
        adv = self._action("auto_advance", self.set_auto_advance, m_photo, checkable=True)
        adv.setChecked(True)

        m_view = mb.addMenu("&View")
        self._action("grid", self.show_grid, m_view)
        self._action("loupe", self.toggle_loupe, m_view)
        self._action("compare", self.start_compare, m_view)
        m_view.addSeparator()
        self._action("zoom", self.toggle_zoom, m_view)
        self._action("info", self.loupe.toggle_info, m_view)
        self._action("freeze", self.toggle_freeze, m_view)
        self._action("skip_pair", self.compare.skip, m_view)
        m_view.addSeparator()
        self._action("bigger", lambda: self.size_slider.setValue(self.size_slider.value() + 32), m_view)
        self._action("smaller", lambda: self.size_slider.setValue(self.size_slider.value() - 32), m_view)
        self._action("sort_time", lambda: self.sort_combo.setCurrentIndex(0), m_view)
        self._action("sort_score", lambda: self.sort_combo.setCurrentIndex(1), m_view)
        self._action("focus_sessions", self.sessions.setFocus, m_view)

        m_model = mb.addMenu("&Model")
        self._action("retrain", self.retrain, m_model)
        self._action("rescore", self.rescore, m_model)
        metrics = m_model.addAction("Current model metrics…")
        metrics.triggered.connect(self.show_metrics)
        explain = m_model.addAction("Explain this score…")
        explain.triggered.connect(self.explain_current)
        m_model.addSeparator()
        self._action("review", self.open_review, m_model)
        m_model.addSeparator()
        self.watch_action = m_model.addAction("Watch the inbox folder")
        self.watch_action.setCheckable(True)
        self.watch_action.toggled.connect(self._toggle_watch)
        scan = m_model.addAction("Scan the inbox now")
        scan.triggered.connect(lambda: self.inbox_watcher.scan() if self.inbox_watcher else None)

        m_help = mb.addMenu("&Help")
        self._action("keymap", self.show_keymap, m_help)

    # -- sources and queries ------------------------------------------------------------------------
    def _load_sessions(self) -> None:
        """Re-read the source list on the reader thread; show it when it arrives."""
        if self._closed:
            return
        self.reader.submit(SessionPanel.fetch, self._show_sessions)

    def _show_sessions(self, data, error) -> None:
        if self._closed or error:
            return
        self.sessions.reload(data)
        self.sessions.select_source(self.source.get("role"), self.source.get("session_id"))

    def set_source(self, src: dict) -> None:
        self.source = dict(src)
        if self.source.get("role") and self.role_combo.currentData() not in (None, self.source["role"]):
            self.role_combo.blockSignals(True)
            self.role_combo.setCurrentIndex(0)
            self.role_combo.blockSignals(False)
        self.apply_query()
        if self.stack.currentIndex() != GRID:
            self.show_grid()

    def current_query(self) -> PhotoQuery:
        return PhotoQuery(
            role=self.source.get("role") or self.role_combo.currentData(),
            session_id=self.source.get("session_id"),
            decision=self.decision_combo.currentData(),
            band=self.band_combo.currentData(),
            sort=self.sort_combo.currentData() or "time",
        )

    def apply_query(self, keep_current: bool = False, offset: int | None = None) -> None:
        """Run the current query; keep the current photo (and scroll offset) where asked."""
        current_id = self.current_photo_id() if keep_current else None
        self.model.set_query(self.current_query(), self.reader)
        self.source_label.setText(self.source.get("label") or "")

        def place():
            row = self.model.row_of(current_id) if current_id is not None else None
            if self.model.rowCount():
                self.set_current_row(row if row is not None else 0, scroll=offset is None)
            if offset is not None:
                self.grid.verticalScrollBar().setValue(offset)

        place()
        self._after_load = None if self.model.complete else (place if current_id is not None else None)
        self.recount()

    def _on_model_loaded(self) -> None:
        restore, self._after_load = self._after_load, None
        if restore is not None:
            restore()
        self._schedule_status()

    def reload_keeping_position(self) -> None:
        self.apply_query(keep_current=True, offset=self.grid.verticalScrollBar().value())

    # -- status -------------------------------------------------------------------------------------
    def recount(self) -> None:
        """Count decisions and scores of the current query on the reader thread."""
        where, params = self.model.query.where()
        sql = f"SELECT decision, COUNT(*), COUNT(keeper_score) FROM photos{where} GROUP BY decision"

        def count(conn):
            counts = {"keep": 0, "reject": 0, "none": 0, "scored": 0}
            for d, n, scored in conn.execute(sql, params):
                counts[d] = n
                counts["scored"] += scored
            return counts

        self._count_gen = getattr(self, "_count_gen", 0) + 1
        gen = self._count_gen
        self.reader.submit(count, lambda counts, error: self._show_counts(gen, counts, error))

    def _show_counts(self, gen: int, counts, error) -> None:
        if self._closed or error or gen != self._count_gen:
            return
        self.counts = counts
        self.update_status()

    def _schedule_status(self) -> None:
        self._status_timer.start()

    def update_status(self) -> None:
        c = self.counts
        total = self.model.rowCount()
        self.counts_label.setText(
            f"{total:,} photos   ✔ {c.get('keep', 0):,} kept   ✖ {c.get('reject', 0):,} rejected   "
            f"{c.get('none', 0):,} undecided   {c.get('scored', 0):,} scored")
        sel = len(self.grid.selectionModel().selectedRows()) if self.grid.selectionModel() else 0
        row = self.current_row()
        pos = f"{row + 1:,} of {total:,}" if row is not None else ""
        self.selection_label.setText((f"{sel} selected   " if sel > 1 else "") + pos)

    # -- current photo --------------------------------------------------------------------------------
    def current_row(self) -> int | None:
        ix = self.grid.currentIndex()
        return ix.row() if ix.isValid() else None

    def current_photo_id(self) -> int | None:
        row = self.current_row()
        return self.model.photo_id(row) if row is not None else None

    def set_current_row(self, row: int, scroll: bool = True) -> None:
        n = self.model.rowCount()
        if n == 0:
            return
        row = max(0, min(n - 1, row))
        ix = self.model.index(row)
        self.grid.selectionModel().setCurrentIndex(ix, QItemSelectionModel.ClearAndSelect)
        if scroll:
            self.grid.scrollTo(ix)

    def target_rows(self) -> list[int]:
        if self.stack.currentIndex() == GRID:
            rows = sorted(ix.row() for ix in self.grid.selectionModel().selectedRows())
            if rows:
                return rows
        row = self.current_row()
        return [] if row is None else [row]

    # -- culling -------------------------------------------------------------------------------------
    def decide(self, kind: str) -> list[int]:
        """Keep / reject / clear the target photos: shown at once, committed by the writer thread."""
        if self.stack.currentIndex() == COMPARE:
            self.flash("In compare, ← and → choose the better photo", 3000)
            return []
        rows = self.target_rows()
        if not rows:
            return []
        rows = [r for r in rows if self.model.photo_id(r) is not None]  # ids of far rows still loading
        if not rows:
            return []
        ids = [self.model.photo_id(r) for r in rows]
        new = {"keep": "keep", "reject": "reject", "clear": "none"}[kind]
        old = self.model.set_decisions(rows, new)
        for d in old:
            self.counts[d] = self.counts.get(d, 0) - 1
            self.counts[new] = self.counts.get(new, 0) + 1
        self.undo_groups.append(len(ids))
        self.writer.submit(lambda c: decide(c, ids, kind, "gui"),
                           lambda result, error: self._after_write(rows, error))
        if self.stack.currentIndex() == LOUPE:
            self.loupe.set_decision(new)
        if self.auto_advance and len(rows) == 1:
            self.advance(1)
        self._schedule_status()
        return ids

    def _after_write(self, rows: list[int], error: str | None) -> None:
        if self._closed:
            return
        if error:
            self.flash(f"Not saved: {error}", 10000)
            self.model.refresh_all()
            self.recount()
        else:
            self.model.refresh_rows(rows)

    def advance(self, step: int) -> None:
        row = self.current_row()
        if row is None:
            return
        target = row + step
        if 0 <= target < self.model.rowCount():
            if self.stack.currentIndex() == LOUPE:
                self.show_loupe(target)
            else:
                self.set_current_row(target)

    def undo(self) -> None:
        """Undo the last decision group or comparison (on the writer thread, in order)."""
        n = self.undo_groups.pop() if self.undo_groups else 1

        def op(conn):
            out = []
            for _ in range(n):
                r = undo_last(conn, "gui", sources=UNDO_SOURCES)
                if r is None:
                    break
                out.append(r)
            return out

        self.writer.submit(op, self._after_undo)

    def _after_undo(self, undone, error) -> None:
        if self._closed:
            return
        if error or not undone:
            self.flash(f"Undo failed: {error}" if error else "Nothing to undo", 4000)
            return
        self.model.refresh_all()
        self.recount()
        last = undone[-1]
        if self.stack.currentIndex() == LOUPE:
            self.loupe.refresh_record()
        what = "comparison" if last["kind"] == "prefer" else last["kind"]
        self.flash(f"Undid {what}" + (f" of {len(undone)} photos" if len(undone) > 1 else ""), 3000)
        if last["kind"] != "prefer" and len(undone) == 1:
            row = self.model.row_of(last["photo_id"], self.current_row())
            if row is not None:
                if self.stack.currentIndex() == LOUPE:
                    self.show_loupe(row)
                else:
                    self.set_current_row(row)

    def set_auto_advance(self, on: bool) -> None:
        changed = bool(on) != self.auto_advance
        self.auto_advance = bool(on)
        for w in (self.advance_button, self.actions_by_name.get("auto_advance")):
            if w is not None and w.isChecked() != self.auto_advance:
                w.blockSignals(True)
                w.setChecked(self.auto_advance)
                w.blockSignals(False)
        if changed:
            self.flash(f"Auto-advance {'on' if on else 'off'}", 2000)

    # -- views -------------------------------------------------------------------------------------------
    def _thumb_image(self, rec: dict) -> QImage | None:
        src = source_for(self.lib, rec)
        if src is None:
            return None
        pix = self.thumb_loader.pixmap((src, self.grid.decode_side()))
        if pix is not None:
            return pix.toImage()
        img = read_scaled(src, 512)
        return None if img.isNull() else img

    def show_grid(self) -> None:
        self.stack.setCurrentIndex(GRID)
        row = self.current_row()
        if row is not None:
            self.grid.scrollTo(self.model.index(row))
        self.grid.setFocus()

    def toggle_loupe(self) -> None:
        if self.stack.currentIndex() == LOUPE:
            self.show_grid()
        else:
            row = self.current_row()
            if row is not None:
                self.show_loupe(row)

    def show_loupe(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            return
        if self.current_row() != row:
            self.set_current_row(row)
        rec = self.model.record(row)
        if rec is None or rec["id"] is None:
            return
        neighbours = [self.model.record(r) for r in (row + 1, row - 1, row + 2) if 0 <= r < self.model.rowCount()]
        self.stack.setCurrentIndex(LOUPE)
        self.loupe.show_photo(rec, [n for n in neighbours if n and n["id"] is not None])
        self.loupe.setFocus()

    def step_loupe(self, step: int) -> None:
        row = self.current_row()
        if row is not None:
            self.show_loupe(max(0, min(self.model.rowCount() - 1, row + step)))

    def toggle_zoom(self) -> None:
        if self.stack.currentIndex() == LOUPE:
            self.loupe.toggle_zoom()
        elif self.stack.currentIndex() == COMPARE:
            self.compare.toggle_zoom()

    def toggle_freeze(self) -> None:
        if self.stack.currentIndex() == COMPARE:
            self.compare.toggle_freeze()
            self.flash("Champion frozen: challengers come one by one" if self.compare.frozen
                                         else "Champion released", 3000)

    def start_compare(self) -> bool:
        """Compare the two selected photos; three or more: a champion with challengers; else a proposal."""
        rows = sorted(ix.row() for ix in self.grid.selectionModel().selectedRows())
        ids = [i for i in (self.model.photo_id(r) for r in rows) if i is not None]
        session = self.source.get("session_id")
        if session is None and self.current_row() is not None:
            session = self.model.record(self.current_row()).get("session_id")
        if len(ids) >= 3:
            self.compare.frozen = True
            ok = self.compare.start((ids[0], ids[1]), session_id=session, challengers=ids[2:])
        elif len(ids) == 2:
            ok = self.compare.start((ids[0], ids[1]), session_id=session)
        else:
            ok = self.compare.start(None, session_id=session)
        if ok:
            self.stack.setCurrentIndex(COMPARE)
            self.compare.setFocus()
        return ok

    def _on_preferred(self, winner: int, loser: int) -> None:
        self.undo_groups.append(1)
        self.flash(f"Preferred #{winner} over #{loser} (Ctrl+Z undoes)", 3000)

    def _on_compare_exhausted(self) -> None:
        self.flash("No more pairs to compare here", 4000)
        if self.stack.currentIndex() == COMPARE:
            self.show_grid()

    # -- model menu and jobs ----------------------------------------------------------------------------
    def retrain(self) -> None:
        if self.runner.has_queued(RETRAIN_TITLE):
            return
        lib = self.lib
        self.runner.submit(RETRAIN_TITLE, lambda cancel: retrain_job(lib, cancel), on_done=self._after_retrain)

    def rescore(self) -> None:
        if self.runner.has_queued(RESCORE_TITLE):
            return
        lib = self.lib
        self.runner.submit(RESCORE_TITLE, lambda cancel: rescore_job(lib, cancel), on_done=lambda s: self._after_scores())

    def _after_scores(self) -> None:
        self.model.refresh_all()
        self._load_sessions()
        self.recount()
        if self.stack.currentIndex() == LOUPE:
            self.loupe.refresh_record()

    def _after_retrain(self, train) -> None:
        train = train or {}
        self.last_train = train
        self._after_scores()
        primary = (train.get("primary_metric") or {}).get("value")
        new = {"table": train.get("metrics_table"), "primary": primary}
        note = " ".join(train.get("in_words") or []) + f"\nModel v{train.get('version', '?')}: " + (
            "active; the grid shows its scores." if train.get("activated", True) else "not activated.")
        if train.get("reason"):
            note += f" ({train['reason']})"
        scoring = train.get("scoring") or {}
        if isinstance(scoring, dict) and scoring.get("error"):
            note += f" Scoring: {scoring['error']}"
        self.show_dialog(MetricsDialog("New model against the previous one", new, train.get("previous_metrics"),
                                       note, self))

    def show_metrics(self) -> None:
        lib = self.lib

        def report():
            from fluxcull.ml.evaluate import eval_report

            return eval_report(lib)

        self.runner.submit("Evaluating the model", lambda cancel: call_job("evaluate", report),
                           on_done=lambda r: self.show_dialog(ReportDialog("Current model", r, self)))

    def explain_current(self) -> None:
        pid = self.current_photo_id()
        if pid is None:
            return
        lib = self.lib

        def run():
            from fluxcull.ml.explain import explain

            return explain(lib, pid)

        self.runner.submit("Explaining a score", lambda cancel: call_job("explain", run),
                           on_done=lambda r: self.show_dialog(ReportDialog(f"Why photo #{pid} scores as it does", r, self)))

    def _on_job_finished(self, title: str, outcome: str, payload) -> None:
        if outcome == "failed":
            self.last_error = f"{title}: {payload}"
            self.flash(f"{title} failed: {payload}", 15000)
        elif outcome == "cancelled":
            self.flash(f"{title}: cancelled", 5000)
        else:
            self.flash(f"{title}: done", 5000)

    def show_dialog(self, dialog) -> None:
        if self._closed:
            return
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.open()

    # -- inbox -------------------------------------------------------------------------------------------
    def setup_inbox(self) -> None:
        if self.inbox_watcher is not None:
            self.inbox_watcher.stop()
            self.inbox_watcher.deleteLater()
            self.inbox_watcher = None
        folder = self.lib.get_setting(self.conn, "inbox_dir")
        self.watch_action.blockSignals(True)
        self.watch_action.setChecked(bool(folder))
        self.watch_action.setEnabled(bool(folder))
        self.watch_action.blockSignals(False)
        if folder and Path(folder).is_dir():
            self.inbox_watcher = InboxWatcher(self.conn, folder, debounce_ms=self.inbox_debounce_ms, parent=self)
            self.inbox_watcher.arrived.connect(self.on_inbox_arrived)
            self.inbox_watcher.start()

    def _toggle_watch(self, on: bool) -> None:
        if self.inbox_watcher is None:
            return
        if on:
            self.inbox_watcher.start()
        else:
            self.inbox_watcher.stop()

    def on_inbox_arrived(self, paths: list) -> None:
        self.flash(f"{len(paths)} new photo(s) in the inbox", 5000)
        if self.runner.has_queued(INBOX_TITLE):
            self._inbox_again = True
            return
        lib, folder = self.lib, str(self.inbox_watcher.folder)
        from fluxcull.ui.settings import worker_threads

        workers = worker_threads(lib)
        self.runner.submit(INBOX_TITLE, lambda cancel: inbox_job(lib, folder, cancel, workers),
                           on_done=self._after_inbox, on_fail=lambda reason: self._after_inbox(None))

    def _after_inbox(self, summary) -> None:
        self.reload_keeping_position()
        self._load_sessions()
        if summary and summary.get("not_scored"):
            self.flash(f"Inbox ingested; not scored: {summary['not_scored']}", 10000)
        if self._inbox_again and self.inbox_watcher is not None:
            self._inbox_again = False
            self.inbox_watcher.scan()

    # -- dialogs ----------------------------------------------------------------------------------------
    def show_keymap(self) -> None:
        self.show_dialog(KeymapDialog(self))

    def open_settings(self) -> None:
        from fluxcull.ui.settings import SettingsDialog

        dlg = SettingsDialog(self.lib, self.conn, self)
        dlg.accepted.connect(self.setup_inbox)
        self.show_dialog(dlg)

    def open_first_run(self) -> None:
        from fluxcull.ui.settings import FirstRunDialog

        dlg = FirstRunDialog(self.lib, self.conn, self.runner, self)
        dlg.finished.connect(lambda *_: (self.setup_inbox(), self.reload_keeping_position(), self._load_sessions()))
        self.show_dialog(dlg)

    def open_review(self) -> None:
        from fluxcull.ui.review import ReviewDialog

        dlg = ReviewDialog(self.lib, self.conn, self.image_loader, self._thumb_image, self)
        dlg.finished.connect(lambda *_: self._after_scores())
        self.show_dialog(dlg)

    # -- lifetime --------------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every timer, watcher and worker; close the catalog (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.dialog is not None:
            self.dialog.close()
        if self.inbox_watcher is not None:
            self.inbox_watcher.stop()
        self._status_timer.stop()
        self._flash_timer.stop()
        self.grid._request_timer.stop()
        self.grid._repaint_timer.stop()
        self.runner.shutdown()
        self.writer.close()
        self.reader.close()
        self.thumb_loader.shutdown()
        self.image_loader.shutdown()
        self.model.clear()
        self.conn.close()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def first_run_needed(self) -> bool:
        has_photos = self.conn.execute("SELECT 1 FROM photos LIMIT 1").fetchone() is not None
        return not has_photos and not self.lib.get_setting(self.conn, "originals_dir")
