"""One QThread adapter that drives any fluxcull.jobs generator, and the status-bar runner around it.

`JobWorker` runs `make_job(cancel_token)` in its own thread: each `Progress` becomes a
`progress` signal (throttled to ~20 per second so a fast job cannot flood the event loop), the
summary a `succeeded` signal, `Cancelled` a `cancelled` signal, any other exception `failed`.
`JobRunner` runs workers one at a time from a queue and shows the progress with a Cancel button.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from fluxcull.errors import FluxcullError
from fluxcull.jobs import CancelToken, Cancelled, Job, Progress

log = logging.getLogger(__name__)

MakeJob = Callable[[CancelToken], Job]


class JobWorker(QThread):
    progress = Signal(object)        # Progress
    succeeded = Signal(object)       # the job's summary
    failed = Signal(str)             # a readable reason
    cancelled = Signal()

    def __init__(self, title: str, make_job: MakeJob, parent=None):
        super().__init__(parent)
        self.title = title
        self.make_job = make_job
        self.token = CancelToken()
        self.result: Any = None
        self.error: str | None = None
        self.min_interval = 0.05

    def cancel(self) -> None:
        self.token.cancel()

    def run(self) -> None:
        last = 0.0
        pending: Progress | None = None
        try:
            job = self.make_job(self.token)
            while True:
                try:
                    p = next(job)
                except StopIteration as stop:
                    self.result = stop.value
                    break
                now = time.monotonic()
                if now - last >= self.min_interval or (p.total and p.done >= p.total):
                    self.progress.emit(p)
                    last, pending = now, None
                else:
                    pending = p
            if pending is not None:
                self.progress.emit(pending)
            if self.token.cancelled:
                self.cancelled.emit()
            else:
                self.succeeded.emit(self.result)
        except Cancelled:
            self.cancelled.emit()
        except FluxcullError as exc:  # bad input or a busy library: the message says what to do
            self.error = str(exc)
            log.info("%s: %s", self.title, exc)
            self.failed.emit(self.error)
        except Exception as exc:  # a failing job must not take the app down: report it (and log the bug)
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("job %r failed", self.title)
            self.failed.emit(self.error)


def call_job(stage: str, fn: Callable[[], Any]) -> Job:
    """A one-step job around a plain call (so it runs off the GUI thread like the others)."""
    yield Progress(stage, 0, 1)
    result = fn()
    yield Progress(stage, 1, 1)
    return result


_STILL_RUNNING: set = set()  # workers outliving their closed window, until they end


class JobRunner(QObject):
    """Runs titled jobs one after another; a status-bar widget shows the running one."""

    started = Signal(str)
    progressed = Signal(object)
    finished = Signal(str, str, object)  # title, outcome (ok|failed|cancelled), summary or reason
    idle = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._queue: deque = deque()
        self.current: JobWorker | None = None
        self.widget = _ProgressWidget(self)
        self.history: list[tuple[str, str, Any]] = []
        self.closed = False

    def submit(self, title: str, make_job: MakeJob, on_done: Callable[[Any], None] | None = None,
               on_fail: Callable[[str], None] | None = None) -> None:
        if self.closed:  # its window is closing: a late timer or click starts nothing
            return
        self._queue.append((title, make_job, on_done, on_fail))
        if self.current is None:
            self._next()

    def busy(self) -> bool:
        return self.current is not None or bool(self._queue)

    def has_queued(self, title: str) -> bool:
        return any(t == title for t, *_ in self._queue) or (self.current is not None and self.current.title == title)

    def cancel(self) -> None:
        if self.current is not None:
            self.current.cancel()

    def _next(self) -> None:
        if not self._queue:
            self.current = None
            self.widget.setVisible(False)
            self.idle.emit()
            return
        title, make_job, on_done, on_fail = self._queue.popleft()
        w = JobWorker(title, make_job, self)
        w.on_done, w.on_fail = on_done, on_fail
        self.current = w
        # bound methods of this (GUI-thread) object: Qt queues them onto the GUI thread
        w.progress.connect(self._on_progress)
        w.succeeded.connect(self._on_succeeded)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        self.widget.begin(title)
        self.started.emit(title)
        w.start()

    def _on_progress(self, p: Progress) -> None:
        self.widget.update_progress(p)
        self.progressed.emit(p)

    def _on_succeeded(self, summary) -> None:
        self._done(self.current, "ok", summary, self.current.on_done)

    def _on_failed(self, reason: str) -> None:
        self._done(self.current, "failed", reason, self.current.on_fail)

    def _on_cancelled(self) -> None:
        self._done(self.current, "cancelled", None, None)

    def _done(self, w: JobWorker, outcome: str, payload, callback) -> None:
        w.wait()
        self.history.append((w.title, outcome, payload))
        if callback is not None:
            try:
                callback(payload)
            except Exception:
                log.exception("callback of job %r failed", w.title)
        self.finished.emit(w.title, outcome, payload)
        w.deleteLater()
        self._next()

    def shutdown(self, wait_ms: int = 10000) -> None:
        """Cancel everything and wait for the running worker (window closing); refuse new jobs. A
        worker that does not end in time (a step that cannot be cancelled) is kept alive until it
        does: a QThread destroyed with its window while it runs aborts the whole process."""
        self.closed = True
        self._queue.clear()
        w = self.current
        if w is not None:
            w.cancel()
            if not w.wait(wait_ms):
                w.setParent(None)
                _STILL_RUNNING.add(w)
                w.finished.connect(lambda w=w: _STILL_RUNNING.discard(w))


class _ProgressWidget(QWidget):
    def __init__(self, runner: JobRunner):
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(runner.cancel)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        self.setVisible(False)

    def begin(self, title: str) -> None:
        self.label.setText(title)
        self.bar.setRange(0, 0)
        self.setVisible(True)

    def update_progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, int(p.total))
            self.bar.setValue(min(int(p.done), int(p.total)))
            self.bar.setFormat(f"{p.done}/{p.total}")
        else:
            self.bar.setRange(0, 0)
        text = p.stage if not p.message else f"{p.stage}: {p.message}"
        self.label.setText(text[:60])
