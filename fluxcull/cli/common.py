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


MAX_LIST_LINES = 1_000_000   # photos named in one --from file
MAX_LINE_BYTES = 4096        # longer than any path


def read_ref_lines(source: str) -> list[str]:
    """Photo ids or paths from a file (or '-' for stdin), one a line, '#' comments skipped.

    Read line by line with a cap on each line's length and on the number of lines, so a wrong file
    (a folder, /dev/zero, a photo) is refused with a clear message instead of filling memory."""
    import os

    from fluxcull.errors import UserError

    if source == "-":
        fh, name, close = sys.stdin.buffer, "standard input", False
    else:
        if os.path.isdir(source):
            raise UserError(f"--from {source}: is a folder; give a text file with one photo id or path a line")
        try:
            fh, name, close = open(source, "rb"), source, True
        except FileNotFoundError:
            raise UserError(f"--from {source}: no such file") from None
        except OSError as exc:
            raise UserError(f"--from {source}: cannot be read ({exc.strerror or exc})") from None
    refs: list[str] = []
    try:
        for n in range(1, MAX_LIST_LINES + 2):
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            if n > MAX_LIST_LINES:
                raise UserError(f"--from {name}: more than {MAX_LIST_LINES} lines; split the list")
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                raise UserError(f"--from {name}: line {n} is longer than {MAX_LINE_BYTES} bytes: "
                                "not a list of photo ids or paths")
            if b"\0" in raw:
                raise UserError(f"--from {name}: line {n} holds binary data: not a list of photo ids or paths")
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise UserError(f"--from {name}: line {n} is not valid UTF-8 text") from None
            if line and not line.startswith("#"):
                refs.append(line)
    finally:
        if close:
            fh.close()
    return refs
