"""Where the per-file work runs: in this process, or in a pool of worker processes.

An executor has one method, ``imap(function, items)``: call ``function`` on every item and
yield the results **in the order of the items** (so that a run's output does not depend on
which worker finished first). The runner takes any object with that method, which is the
seam for other engines (a cluster, a Spark context).

Worker processes, not threads: the engine holds the GIL between Arrow kernels. They are
started by a fork server that has imported odse once (``forkserver`` on Linux; ``spawn``
elsewhere), never forked from a process whose Arrow threads are running.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # loaded with the first pool: a run with nothing new never needs them
    import multiprocessing.context
    from concurrent.futures import Future, ProcessPoolExecutor

POOL_MIN_FILES = 32
"""Fewer files than this are ingested in the runner's own process: starting the workers
(each imports the engine) would cost more than it saves."""
PRELOAD = ["odse.pipeline.worker", "odse.api", "odse.validation", "odse.enrichment"]


class Executor(Protocol):
    """What the runner needs from an executor."""

    def imap(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Yield ``function(item)`` for every item, in the items' order."""
        ...  # pragma: no cover


class InProcess:
    """Run every item in this process, one after another (``-j 1``)."""

    def imap(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            yield function(item)


class ProcessPool:
    """Run items in ``jobs`` worker processes; at most ``window`` results wait in memory."""

    def __init__(self, jobs: int, window: int | None = None) -> None:
        self.jobs = max(1, int(jobs))
        self.window = window or 2 * self.jobs + 2
        self._pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._failed: BaseException | None = None

    def start(self) -> None:
        """Start the workers now, in the background: they import the engine while the
        caller plans (the first worker's start waits for the fork server's imports, a few
        tenths of a second the caller need not wait for)."""
        if self._pool is None and self._starting is None:
            self._starting = threading.Thread(target=self._start, name="odse-pool-start",
                                              daemon=True)
            self._starting.start()

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor

        pool = None
        try:
            pool = ProcessPoolExecutor(self.jobs, mp_context=_context())
            for _ in range(self.jobs):
                pool.submit(_ready)
            self._pool = pool
        except BaseException as exc:  # raised where the pool is first used
            self._failed = exc
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def _started(self, *, check: bool = True) -> ProcessPoolExecutor | None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._failed is not None and check:
            failed, self._failed = self._failed, None
            raise failed
        return self._pool

    def close(self) -> None:
        """Stop workers started by :meth:`start` and not used (a failure to start them is
        not raised here: ``close`` runs while another error is on its way)."""
        pool = self._started(check=False)
        self._failed = None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def imap(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        self.start()
        pool = self._started()
        assert pool is not None
        self._pool = None
        with pool:
            pending: deque[Future[Any]] = deque()
            source = iter(items)
            try:
                for item in source:
                    pending.append(pool.submit(function, item))
                    if len(pending) >= self.window:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()


def prestart() -> None:
    """Start the fork server now, without waiting for it (Linux; elsewhere nothing): it
    imports the engine while this process goes on, and the first pool's workers then fork
    from it at once. A run that needs no pool after all leaves it to exit with this process
    (it exits when its parent does), so nothing waits for it either way."""
    if not sys.platform.startswith("linux"):
        return
    _context()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _ready() -> None:
    """A task that does nothing: submitted to start a worker."""


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    if sys.platform.startswith("linux"):
        from odse import without_pandas

        context = multiprocessing.get_context("forkserver")
        # the command line's process does without pandas, and its workers can too (no code
        # of a caller's runs in them, and the fork server serves no one else); a library
        # caller's workers are left alone
        alone = without_pandas.blocked() and without_pandas.process_is_the_command_line()
        first = ["odse.pipeline.pandas_blocked"] if alone else []
        context.set_forkserver_preload([*first, *PRELOAD])
        return context
    return multiprocessing.get_context("spawn")


def default_jobs() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def for_jobs(jobs: int | None, files: int | None = None) -> Executor:
    """The executor for ``-j N``: a process pool, or this process for ``-j 1`` and for
    fewer than ``POOL_MIN_FILES`` files."""
    jobs = default_jobs() if jobs is None else jobs
    if jobs <= 1 or (files is not None and files < POOL_MIN_FILES):
        return InProcess()
    return ProcessPool(jobs)
