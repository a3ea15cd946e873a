"""The window's background work: the Model menu's jobs (retrain, re-score, metrics, explain) and
the watched inbox. Each job is a workflow of fluxcull.workflows run on the window's job thread."""

from __future__ import annotations

from PySide6.QtCore import QObject

from fluxcull import workflows
from fluxcull.ui.panels import ExplainPanel, ModelPanel
from fluxcull.ui.inbox import InboxWatcher
from fluxcull.ui.worker import call_job

RETRAIN_TITLE = "Retraining the keeper model"
RESCORE_TITLE = "Scoring photos"
INBOX_TITLE = "Inbox: ingest, embed, score"


class BackgroundJobs(QObject):
    def __init__(self, win, *, inbox_debounce_ms: int = 1500):
        super().__init__(win)
        self.win = win
        self.lib, self.runner = win.lib, win.runner
        self.inbox_watcher: InboxWatcher | None = None
        self.inbox_debounce_ms = inbox_debounce_ms
        self._inbox_again = False
        self.last_error: str | None = None
        self.last_train: dict | None = None
        self.runner.finished.connect(self._on_job_finished)

    # -- the Model menu ---------------------------------------------------------------------------
    def retrain(self) -> None:
        if self.runner.has_queued(RETRAIN_TITLE):
            return
        lib = self.lib
        self.runner.submit(RETRAIN_TITLE, lambda cancel: workflows.retrain_job(lib, cancel=cancel),
                           on_done=self._after_retrain)

    def rescore(self) -> None:
        if self.runner.has_queued(RESCORE_TITLE):
            return
        lib = self.lib
        self.runner.submit(RESCORE_TITLE, lambda cancel: workflows.rescore_job(lib, cancel=cancel),
                           on_done=lambda s: self.win.browser.scores_changed())

    def _after_retrain(self, train) -> None:
        train = train or {}
        self.last_train = train
        self.win.browser.scores_changed()
        self.win.show_dialog(ModelPanel(workflows.model_quality(train), "The model after retraining", self.win))

    def show_metrics(self) -> None:
        lib = self.lib
        self.runner.submit("Evaluating the model", lambda cancel: call_job("evaluate", lambda: workflows.model_report(lib)),
                           on_done=lambda r: self.win.show_dialog(
                               ModelPanel(workflows.model_quality(r or {}), "Model quality", self.win)))

    def explain_current(self) -> None:
        pid = self.win.browser.current_photo_id()
        if pid is None:
            return
        lib = self.lib
        self.runner.submit("Explaining a score",
                           lambda cancel: call_job("explain", lambda: workflows.explain_photo(lib, pid)),
                           on_done=self.show_explanation)

    def show_explanation(self, report) -> None:
        view = workflows.explanation_view(report or {})
        records = self.win.catalog.photos([k["id"] for k in view["nearest"]])
        thumbs = {pid: self.win._thumb_image(rec) for pid, rec in records.items()}
        self.win.show_dialog(ExplainPanel(view, thumbs, self.win.browser.show_photo, self.win))

    def _on_job_finished(self, title: str, outcome: str, payload) -> None:
        if outcome == "failed":
            self.last_error = f"{title}: {payload}"
            self.win.flash(f"{title} failed: {payload}", 15000)
        elif outcome == "cancelled":
            self.win.flash(f"{title}: cancelled", 5000)
        else:
            self.win.flash(f"{title}: done", 5000)

    # -- the inbox --------------------------------------------------------------------------------
    def setup_inbox(self) -> None:
        """(Re)start watching the library's inbox folder, as the settings now say."""
        self.stop_inbox()
        if self.inbox_watcher is not None:
            self.inbox_watcher.deleteLater()
            self.inbox_watcher = None
        folder = self.win.catalog.inbox_folder()
        action = self.win.actions_by_name["watch_inbox"]
        action.blockSignals(True)
        action.setChecked(folder is not None)
        action.setEnabled(folder is not None)
        action.blockSignals(False)
        if folder is not None and folder.is_dir():
            self.inbox_watcher = InboxWatcher(self.win.catalog, folder, debounce_ms=self.inbox_debounce_ms, parent=self)
            self.inbox_watcher.arrived.connect(self.on_inbox_arrived)
            self.inbox_watcher.start()

    def watch_inbox(self, on: bool) -> None:
        if self.inbox_watcher is None:
            return
        if on:
            self.inbox_watcher.start()
        else:
            self.inbox_watcher.stop()

    def scan_inbox(self) -> None:
        if self.inbox_watcher is not None:
            self.inbox_watcher.scan()

    def stop_inbox(self) -> None:
        if self.inbox_watcher is not None:
            self.inbox_watcher.stop()

    def on_inbox_arrived(self, paths: list) -> None:
        self.win.flash(f"{len(paths)} new photo(s) in the inbox", 5000)
        if self.runner.has_queued(INBOX_TITLE):
            self._inbox_again = True
            return
        lib, folder = self.lib, str(self.inbox_watcher.folder)
        workers = workflows.worker_threads(lib)
        self.runner.submit(INBOX_TITLE,
                           lambda cancel: workflows.inbox_arrived_job(lib, folder, cancel=cancel, workers=workers),
                           on_done=self._after_inbox, on_fail=lambda reason: self._after_inbox(None))

    def _after_inbox(self, summary) -> None:
        self.win.browser.photos_changed()
        if summary and summary.get("not_scored"):
            self.win.flash(f"Inbox ingested; not scored: {summary['not_scored']}", 10000)
        if self._inbox_again and self.inbox_watcher is not None:
            self._inbox_again = False
            self.inbox_watcher.scan()
