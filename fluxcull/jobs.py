"""Long jobs are plain generators of `Progress`; a `CancelToken` stops them between items.

The CLI drives a job with a terminal progress bar (`drive` in fluxcull.cli.common); the GUI drives
the same generator from one QThread worker adapter (fluxcull.ui.worker). A job returns its summary
as the generator's return value (StopIteration.value); `run_job` collects it. The pipeline's
workflows (build library, inbox arrived, retrain, re-score) are composed of jobs in
fluxcull.workflows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterator


@dataclass
class Progress:
    stage: str
    done: int
    total: int | None = None
    message: str = ""
    nbytes: int = 0  # bytes processed so far, where the job knows it


class Cancelled(Exception):
    """Raised inside a job when its CancelToken was set."""


@dataclass
class CancelToken:
    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


Job = Generator[Progress, None, Any]


def run_job(job: Job, on_progress: Callable[[Progress], None] | None = None) -> Any:
    """Drive a job to completion, calling on_progress for each update; return its summary."""
    while True:
        try:
            p = next(job)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(p)


def chain_jobs(*jobs: Callable[[], Job]) -> Iterator[Progress]:
    """Run several jobs one after another as one generator; returns the list of summaries."""
    results = []
    for make in jobs:
        results.append((yield from make()))
    return results
