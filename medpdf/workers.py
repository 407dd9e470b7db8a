"""Rendering in worker processes, each render bounded in time and memory.

WeasyPrint gives no memory back to the operating system and a hostile document
can lay out for a very long time, so no render runs in the main process:
workers are started with ``spawn``, recycled after a few tasks, limited by
``RLIMIT_AS``, and a task that passes its time limit has its worker killed.
A worker that dies takes only its own task with it; the batch goes on.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, as_completed
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pebble import ProcessExpired, ProcessPool

from medpdf.errors import RenderError, SourceError

T = TypeVar("T")
R = TypeVar("R")

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds for every render; exceeding one fails that render only."""

    jobs: int = field(default_factory=lambda: default_jobs())
    seconds: float = 120.0
    memory_mib: int = 1024
    tasks_per_worker: int = 200

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ValueError("jobs must be at least 1")


def default_jobs() -> int:
    """One worker per CPU this process may use."""
    return max(1, len(os.sched_getaffinity(0)))


def _die_with_parent() -> None:
    """Ask Linux to kill this worker if the build that started it dies (even by SIGKILL).

    Without it, workers of a killed build would go on writing into ``output/``.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pool's own pipes still end them
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _init_worker(memory_mib: int) -> None:
    """Runs first in every worker: cap its address space and quiet WeasyPrint's logs."""
    _die_with_parent()
    limit = memory_mib * MIB
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Failure:
    """Why a task produced nothing, as one line for the build summary."""

    message: str

    @classmethod
    def of(cls, exc: Exception) -> Failure:
        """The message of a task's exception, without the path the caller adds again."""
        if isinstance(exc, SourceError | RenderError):
            line = exc.diagnostic.line
            return cls(f"line {line}: {exc.diagnostic.message}" if line else exc.diagnostic.message)
        return cls(f"rendering failed: {exc!r}")


@dataclass(frozen=True)
class Outcome(Generic[T, R]):
    """One finished task: its input and either a result or a failure."""

    item: T
    result: R | Failure


def _describe(exc: BaseException, limits: Limits, seconds: float) -> str:
    if isinstance(exc, FutureTimeout):
        return f"rendering took longer than the {seconds:g} s limit and was stopped"
    if isinstance(exc, MemoryError):
        return f"rendering needed more than the {limits.memory_mib} MiB memory limit"
    if isinstance(exc, ProcessExpired):
        code = exc.exitcode
        if code is not None and code < 0:
            return (
                f"the render process was killed by signal {-code} "
                f"(memory limit {limits.memory_mib} MiB)"
            )
        return f"the render process died (exit status {code})"
    message = str(exc) or type(exc).__name__
    return f"rendering failed: {message}"


class RenderPool:
    """A bounded pool of spawn-started worker processes.

    Use as a context manager; :meth:`run` yields outcomes as tasks finish, so
    the caller can record each one at once (a build killed midway keeps what
    it recorded).
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._started: ProcessPool | None = None

    @property
    def _pool(self) -> ProcessPool:
        # Started on first use: a build with nothing to render starts no process.
        if self._started is None:
            self._started = ProcessPool(
                max_workers=self.limits.jobs,
                max_tasks=self.limits.tasks_per_worker,
                initializer=_init_worker,
                initargs=(self.limits.memory_mib,),
                context=multiprocessing.get_context("spawn"),
            )
        return self._started

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._started is None:
            return
        if exc_info[0] is None:
            self._started.close()  # type: ignore[no-untyped-call]
        else:
            self._started.stop()  # type: ignore[no-untyped-call]
        self._started.join()

    def submit(
        self, function: Callable[[T], R], item: T, seconds: float | None = None
    ) -> Future[R]:
        """Start one task; its future fails if the worker dies, times out or raises.

        For callers with their own event loop (the web server); :meth:`failure`
        turns such an exception into the one-line message a batch would print.
        """
        timeout = self.limits.seconds if seconds is None else seconds
        future: Future[R] = self._pool.schedule(function, args=(item,), timeout=timeout)
        return future

    def failure(self, exc: BaseException, seconds: float | None = None) -> Failure:
        """What a failed future of :meth:`submit` means, as one line."""
        timeout = self.limits.seconds if seconds is None else seconds
        return Failure(_describe(exc, self.limits, timeout))

    def run(
        self,
        function: Callable[[T], R],
        items: Iterable[T],
        seconds: Callable[[T], float] | None = None,
    ) -> Iterator[Outcome[T, R]]:
        """Run ``function`` on every item; yield each outcome as soon as it is known."""
        pending: dict[Future[R], tuple[T, float]] = {}
        for item in items:
            timeout = seconds(item) if seconds else self.limits.seconds
            pending[self.submit(function, item, timeout)] = (item, timeout)
        for finished in as_completed(pending):
            item, timeout = pending.pop(finished)
            try:
                yield Outcome(item, finished.result())
            except Exception as exc:  # the worker died, timed out or raised
                yield Outcome(item, self.failure(exc, timeout))
