"""Helpers shared by the CLI commands: JSON output and driving a job with a progress bar."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from fluxcull.jobs import Job, Progress, run_job


def emit_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


class ProgressBar:
    """A one-line terminal progress bar with rate and time left; silent when not on a terminal."""

    def __init__(self, stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.last_draw = 0.0
        self.stage = None

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if p.stage != self.stage:
            if self.stage is not None:
                self.stream.write("\n")
            self.stage, self.start = p.stage, now
        elif now - self.last_draw < 0.1 and not (p.total and p.done >= p.total):
            return
        self.last_draw = now
        elapsed = max(now - self.start, 1e-6)
        rate = p.done / elapsed
        if p.total:
            frac = min(p.done / p.total, 1.0)
            bar = "#" * int(frac * 30)
            left = (p.total - p.done) / rate if rate > 0 else float("inf")
            eta = f"{left:5.0f}s left" if left != float("inf") else "   ?s left"
            line = f"{p.stage:<10} [{bar:<30}] {p.done}/{p.total} {rate:6.1f}/s {eta}"
        else:
            line = f"{p.stage:<10} {p.done} {rate:6.1f}/s"
        if p.nbytes:
            line += f" {p.nbytes / elapsed / 1e6:6.1f} MB/s"
        if p.message:
            line += f"  {p.message[:40]}"
        self.stream.write("\r" + line[:150].ljust(150))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.stage is not None:
            self.stream.write("\n")
            self.stream.flush()


def require_positive(args, *names: str) -> None:
    """Raise ValueError naming the option when one of the given integer options is set below 1."""
    for name in names:
        v = getattr(args, name)
        if v is not None and v < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")


def drive(job: Job, *, quiet: bool = False) -> Any:
    """Run a job with a progress bar on stderr (when it is a terminal and not quiet)."""
    bar = ProgressBar(enabled=None if not quiet else False)
    try:
        return run_job(job, bar)
    finally:
        bar.close()
