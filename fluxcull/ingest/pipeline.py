"""A small staged pipeline: a stage maps a function over tasks, serially in this process or in a
pool of worker processes, yielding results as they complete and checking a CancelToken between
them. Serial mode (workers=1) is what the tests use; production uses every core. Worker
processes end when the process that started them dies (fluxcull.ingest.limits.watch_parent).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from typing import Any, Callable, Iterable, Iterator, Sequence

from fluxcull.jobs import CancelToken


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _mp_context():
    """forkserver where there is one: forking a process that runs Qt or other threads is unsafe."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["fluxcull.ingest.worker"])
        return ctx
    return multiprocessing.get_context("spawn")


def chunked(tasks: Sequence[Any], size_of: Callable[[Any], int], max_items: int = 8,
            max_bytes: int = 4 << 20) -> list[list[Any]]:
    """Group tasks into chunks: small files travel to a worker together, big ones alone."""
    chunks, cur, cur_bytes = [], [], 0
    for t in tasks:
        n = size_of(t)
        if cur and (len(cur) >= max_items or cur_bytes + n > max_bytes):
            chunks.append(cur)
            cur, cur_bytes = [], 0
        cur.append(t)
        cur_bytes += n
    if cur:
        chunks.append(cur)
    return chunks


class Stage:
    """Map `fn_many` (a function of a list of tasks returning a list of results) over chunks.

    If a worker process dies (a decoder crash on a hostile file), the pool is restarted and the
    tasks it held are retried one at a time, alone in the pool; a task that kills a worker again
    becomes `crash_result(task)` instead of taking the whole job down.
    """

    def __init__(self, fn_many: Callable[[list], list], workers: int = 1, in_flight_per_worker: int = 3,
                 crash_result: Callable[[Any], Any] | None = None):
        self.fn_many = fn_many
        self.workers = max(1, int(workers))
        self.in_flight = self.workers * in_flight_per_worker
        self.crash_result = crash_result

    def _pool(self) -> cf.ProcessPoolExecutor:
        from fluxcull.ingest.limits import watch_parent

        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=_mp_context(),
                                      initializer=watch_parent, initargs=(os.getpid(),))

    def run(self, chunks: Iterable[list], cancel: CancelToken | None = None) -> Iterator[Any]:
        cancel = cancel or CancelToken()
        if self.workers == 1:
            for chunk in chunks:
                for task in chunk:
                    cancel.check()
                    yield from self.fn_many([task])
            return
        pool = self._pool()
        pending: dict[cf.Future, tuple[list, bool]] = {}  # future -> (chunk, is_retry)
        retry: list[list] = []
        it = iter(chunks)
        exhausted = False
        try:
            while True:
                if retry:
                    # suspects run alone, so a crash names its file for certain
                    if not pending:
                        chunk = retry.pop()
                        pending[pool.submit(self.fn_many, chunk)] = (chunk, True)
                else:
                    while not exhausted and len(pending) < self.in_flight:
                        try:
                            chunk = next(it)
                        except StopIteration:
                            exhausted = True
                            break
                        pending[pool.submit(self.fn_many, chunk)] = (chunk, False)
                if not pending:
                    return
                done, _ = cf.wait(list(pending), timeout=0.2, return_when=cf.FIRST_COMPLETED)
                broken = False
                for fut in done:
                    chunk, is_retry = pending.pop(fut)
                    try:
                        results = fut.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        if is_retry:  # it ran alone: this task kills its worker
                            if self.crash_result is None:
                                raise
                            yield from (self.crash_result(t) for t in chunk)
                        else:
                            retry += [[t] for t in chunk]
                        continue
                    yield from results
                if broken:  # every other in-flight chunk died with the pool: retry them singly
                    for chunk, _ in pending.values():
                        retry += [[t] for t in chunk]
                    pending.clear()
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = self._pool()
                cancel.check()
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
