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
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from medpdf.errors import DiagnosedError, Diagnostic
from medpdf.settings.config import Config
from medpdf.settings.options import JOBS, MEMORY_LIMIT, TIME_LIMIT

if TYPE_CHECKING:  # pebble (and asyncio with it, 17 ms) is imported when a pool starts
    from pebble import ProcessPool

T = TypeVar("T")
R = TypeVar("R")

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds for every render; exceeding one fails that render only."""

    jobs: int = field(default_factory=lambda: default_jobs())
    seconds: float = TIME_LIMIT.default
    memory_mib: int = int(MEMORY_LIMIT.default)
    tasks_per_worker: int = 200

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ValueError("jobs must be at least 1")

    @classmethod
    def of(cls, config: Config) -> Limits:
        """The limits the options of ``config`` ask for."""
        jobs = config[JOBS]
        return cls(
            jobs=int(jobs) if jobs is not None else default_jobs(),
            seconds=float(config[TIME_LIMIT]),
            memory_mib=int(config[MEMORY_LIMIT]),
        )


def default_jobs() -> int:
    """One worker per CPU this process may use."""
    return max(1, len(os.sched_getaffinity(0)))


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this worker if the build that started it dies (even by SIGKILL).

    Without it, workers of a killed build would go on writing into ``output/``.
    ``parent`` is the starter's process id: a parent that died before prctl took
    effect shows as another parent (init, or a container's subreaper), whereas
    a parent that is process 1 itself (medpdf or a Dask worker as a
    container's first process) is no death.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pool's own pipes still end them
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def init_render_process(memory_mib: int, parent: int) -> None:
    """Runs first in every render process: cap its address space and quiet WeasyPrint's logs.

    The local pool's workers run it as their initializer, a Dask worker's render
    child (:mod:`medpdf.cluster.child`) as its first step; ``parent`` is the
    process id of the process that started it.
    """
    _die_with_parent(parent)
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
    #: The problem in ``check`` form, when the task found one in its file.
    diagnostic: Diagnostic | None = None

    @classmethod
    def of(cls, exc: Exception) -> Failure:
        """The message of a task's exception, without the path the caller adds again."""
        if isinstance(exc, DiagnosedError):
            found = exc.diagnostic
            message = f"line {found.line}: {found.message}" if found.line else found.message
            return cls(message, found)
        return cls(f"rendering failed: {exc!r}")


def guarded(function: Callable[[T], R], item: T) -> R | Failure:
    """Run one task; its exceptions come back as a :class:`Failure` value.

    The one wrapper every worker task goes through, so a failure reads the same
    whichever product it belongs to. MemoryError is left to the pool, which
    reports it with the limit that was hit.
    """
    try:
        return function(item)
    except MemoryError:
        raise
    except Exception as exc:
        return Failure.of(exc)


@dataclass(frozen=True)
class Outcome(Generic[T, R]):
    """One finished task: its input and either a result or a failure."""

    item: T
    result: R | Failure


def overtime_message(seconds: float) -> str:
    """The line for a render stopped at its time limit (wherever it ran)."""
    return f"rendering took longer than the {seconds:g} s limit and was stopped"


def memory_message(memory_mib: int) -> str:
    """The line for a render that hit its memory limit."""
    return f"rendering needed more than the {memory_mib} MiB memory limit"


def died_message(exitcode: int | None, memory_mib: int) -> str:
    """The line for a render process that ended without an answer."""
    if exitcode is not None and exitcode < 0:
        signal_number = -exitcode
        return (
            f"the render process was killed by signal {signal_number} "
            f"(memory limit {memory_mib} MiB)"
        )
    return f"the render process died (exit status {exitcode})"


def _describe(exc: BaseException, limits: Limits, seconds: float) -> str:
    if isinstance(exc, FutureTimeout):
        return overtime_message(seconds)
    if isinstance(exc, MemoryError):
        return memory_message(limits.memory_mib)
    from pebble import ProcessExpired

    if isinstance(exc, ProcessExpired):
        return died_message(exc.exitcode, limits.memory_mib)
    message = str(exc) or type(exc).__name__
    return f"rendering failed: {message}"


class Runner(Protocol):
    """What builds submit their tasks through, whichever machines run them.

    The default is :class:`RenderPool` on this machine; ``--scheduler`` swaps
    in :class:`medpdf.cluster.DaskRunner`. Either way a task's exception, a
    dead worker or a passed limit comes back as a :class:`Failure` outcome,
    and outcomes come back as they finish so the caller records each at once.
    """

    @property
    def limits(self) -> Limits:
        """The bounds every task of this runner runs under."""
        ...

    def run(
        self,
        function: Callable[[T], R],
        items: Iterable[T],
        seconds: Callable[[T], float] | None = None,
    ) -> Iterator[Outcome[T, R]]:
        """Run ``function`` on every item; yield each outcome as soon as it is known."""
        ...

    def __enter__(self) -> Runner: ...

    def __exit__(self, *exc_info: object) -> None: ...


#: Opens a runner under the given limits; each product opens its own (booklet
#: chunks recycle workers sooner than handouts do).
Runners = Callable[[Limits], Runner]


class RenderPool:
    """A bounded pool of spawn-started worker processes: the default :class:`Runner`.

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
            from pebble import ProcessPool

            self._started = ProcessPool(
                max_workers=self.limits.jobs,
                max_tasks=self.limits.tasks_per_worker,
                initializer=init_render_process,
                initargs=(self.limits.memory_mib, os.getpid()),
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
    ) -> Future[R | Failure]:
        """Start one task; its future fails if the worker dies, times out or raises.

        For callers with their own event loop (the web server); :meth:`failure`
        turns such an exception into the one-line message a batch would print.
        """
        timeout = self.limits.seconds if seconds is None else seconds
        future: Future[R | Failure] = self._pool.schedule(
            guarded, args=(function, item), timeout=timeout
        )
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
        pending: dict[Future[R | Failure], tuple[T, float]] = {}
        for item in items:
            timeout = seconds(item) if seconds else self.limits.seconds
            pending[self.submit(function, item, timeout)] = (item, timeout)
        for finished in as_completed(pending):
            item, timeout = pending.pop(finished)
            try:
                yield Outcome(item, finished.result())
            except Exception as exc:  # the worker died, timed out or raised
                yield Outcome(item, self.failure(exc, timeout))


class _Overtime(BaseException):
    """Raised in the main thread by the alarm of :func:`run_here`."""


def run_here(function: Callable[[T], R], item: T, limits: Limits) -> R | Failure:
    """Run one task in this process, under the same time and memory limits as a worker.

    A one-shot command renders one document: spawning a worker that imports
    WeasyPrint again cost ~0.4 s, more than the render. The time limit is an
    alarm (a render is Python between short calls into Pango, so the alarm is
    taken within milliseconds); the memory limit is ``limits.memory_mib`` of
    address space on top of what the process holds now, lifted afterwards.
    """

    def overtime(signum: int, frame: object) -> None:
        raise _Overtime

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    budget = _address_space() + limits.memory_mib * MIB
    if hard != resource.RLIM_INFINITY:
        budget = min(budget, hard)
    previous = signal.signal(signal.SIGALRM, overtime)
    resource.setrlimit(resource.RLIMIT_AS, (budget, hard))
    signal.setitimer(signal.ITIMER_REAL, limits.seconds)
    try:
        return guarded(function, item)
    except (_Overtime, MemoryError) as exc:
        reason = FutureTimeout() if isinstance(exc, _Overtime) else exc
        return Failure(_describe(reason, limits, limits.seconds))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int:
    """Bytes of virtual memory this process maps now (Linux), 0 where unknown."""
    try:
        with Path("/proc/self/statm").open(encoding="ascii") as handle:
            return int(handle.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def stop_helpers() -> None:
    """Stop multiprocessing's resource tracker, so a command leaves no process behind.

    Spawned pools start it; it would only notice that its parent is gone some
    time after the command has exited, and a supervisor waiting on the process
    group would see it still running.
    """
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker  # no public way to stop it
    if getattr(tracker, "_pid", None) is not None:
        tracker._stop()  # type: ignore[attr-defined]
