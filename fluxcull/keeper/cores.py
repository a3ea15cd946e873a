"""How many threads the keeper model's batch work takes: at most two (a desktop app: the window and
an import share the machine), and only on batches large enough to gain from a second one. Used by
the context inputs (numpy sorts), the trees' predictions and the evaluation's held-out tests."""

from __future__ import annotations

import os

WORKERS = max(1, min(2, os.cpu_count() or 1))
PARALLEL_FROM = 50_000  # photos (rows) from which a batch runs on WORKERS threads


def workers_for(n: int) -> int:
    """Threads for a batch of n photos: WORKERS from PARALLEL_FROM on, else one."""
    return WORKERS if n >= PARALLEL_FROM else 1
