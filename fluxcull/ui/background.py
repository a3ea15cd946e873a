"""The window's background work: the Model menu's jobs (retrain, re-score, metrics, explain), the
watched inbox, and what saved settings call for (a new INBOX folder, the stacks computed again after
new burst thresholds). Each job is a workflow of fluxcull.workflows run on the window's job thread;
the panels that show a result (fluxcull.ui.panels) are imported when one is first shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from fluxcull import workflows
from fluxcull.ui.worker import call_job

if TYPE_CHECKING:
    from fluxcull.ui.inbox import InboxWatcher

RETRAIN_TITLE = "Retraining the keeper model"
RESCORE_TITLE = "Scoring photos"
INBOX_TITLE = "Inbox: ingest, embed, score"
STACKS_TITLE = "Computing the stacks again"


def failed_notice(errors: list[dict]) -> str:
    """'⚠ R0001.JPG could not be read (empty file (0 bytes)) and 2 more: see ⚠ Problems'."""
    name = str(errors[0].get("path") or "").rsplit("/", 1)[-1]
    more = f" and {len(errors) - 1} more" if len(errors) > 1 else ""
    return f"⚠ Inbox: {name} could not be read ({errors[0].get('reason')}){more}: see ⚠ Problems"


def inbox_notice(summary: dict) -> str | None:
    """What an inbox job has to say beyond "done": files that failed (in no grid but the Problems
    filter's), or what a change of INBOX folder did."""
    ingest = summary.get("ingest") or {}
    if ingest.get("errors"):
        return failed_notice(ingest["errors"])
    if "detached" in summary:
        found = ingest.get("moved", 0)
        return (f"New INBOX folder: {found} photo{'s' * (found != 1)} found again by their bytes (decisions and "
                f"scores kept), {ingest.get('added', 0)} new, {max(0, summary['detached'] - found)} left "
                "behind in the old folder (no longer shown)")
    return None


def stacks_notice(summary: dict) -> str:
    """'Stacks computed again (at most 10 s apart, similarity at least 0.7): 18 stacks of two or more
    frames, 61 of 92 embedded photos in them'."""
    rule = summary.get("rule") or {}
    return (f"Stacks computed again (at most {rule.get('gap_seconds', 0):g} s apart, similarity at least "
            f"{rule.get('min_similarity', 0):g}): {summary.get('stacks', 0):,} stacks of two or more frames, "
            f"{summary.get('stacked_photos', 0):,} of {summary.get('photos', 0):,} embedded photos in them")


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
        from fluxcull.ui.panels import ModelPanel

        train = train or {}
        self.last_train = train
        self.win.browser.scores_changed()
        self.win.show_dialog(ModelPanel(workflows.model_quality(train), "The model after retraining", self.win))

    def show_metrics(self) -> None:
        from fluxcull.ui.panels import ModelPanel

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
        from fluxcull.ui.panels import ExplainPanel

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
        elif title == INBOX_TITLE and isinstance(payload, dict) and inbox_notice(payload):
            self.win.flash(inbox_notice(payload), 20000)  # said instead of "done"
        elif title == STACKS_TITLE and isinstance(payload, dict):
            self.win.flash(stacks_notice(payload), 15000)
        else:
            self.win.flash(f"{title}: done", 5000)

    # -- saved settings ---------------------------------------------------------------------------
    def settings_saved(self, old_inbox: str, changed: set[str]) -> None:
        """Library settings were saved (`changed`: the settings whose value changed)."""
        self.folders_saved(old_inbox)
        if "bursts" in changed:
            self.restack()

    def restack(self) -> None:
        """Every stack computed again with the library's burst thresholds: each session group's stacks are
        signed with the thresholds they came from, so the update job computes every group (as `fluxcull
        stacks --rebuild` does). A second save while it runs queues a second one, with the newest ones."""
        lib = self.lib
        self.win.flash("New burst thresholds: computing the stacks again…", 5000)
        self.runner.submit(STACKS_TITLE, lambda cancel: workflows.stacks_job(lib, cancel=cancel),
                           on_done=lambda summary: self.win.browser.photos_changed())

    # -- the inbox --------------------------------------------------------------------------------
    def folders_saved(self, old_inbox: str) -> None:
        """Library settings were saved: a new INBOX folder takes over the old one's photos found there
        again (workflows.inbox_moved_job) rather than adding them twice; then watch it."""
        new = self.win.catalog.folders()["inbox"]
        if old_inbox and new and new != old_inbox:
            lib, workers = self.lib, workflows.worker_threads(self.lib)
            self.runner.submit(INBOX_TITLE, lambda cancel: workflows.inbox_moved_job(lib, old_inbox, new, cancel=cancel,
                                                                                      workers=workers),
                               on_done=self._after_inbox, on_fail=lambda reason: self._after_inbox(None))
        self.setup_inbox()

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
            from fluxcull.ui.inbox import InboxWatcher  # a library with an inbox folder only

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
