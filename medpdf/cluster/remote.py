"""The worker side of a cluster build: what a Dask worker runs for each task.

A task carries everything it needs (the monograph's text, the options, the
client's medpdf version and presentation fingerprint), so a worker reads no
file of the client's. Before rendering, the worker checks that it would make
the same PDF: same medpdf version, same code, libraries and presentation
files (a different stylesheet on one worker would otherwise make silently
different PDFs). The render itself runs in a local :class:`RenderPool` on the
worker's machine, so the time and memory limits hold for each render exactly
as on one machine, and a render that is killed costs that render only, not
the Dask worker.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import medpdf
from medpdf.run import Failure, Limits, RenderPool, presentation_fingerprint
from medpdf.settings.config import DEFAULT_RESOURCES

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Call(Generic[T, R]):
    """One task as it crosses the network: the function, its input, limits and expectations."""

    function: Callable[[T], R]
    item: T
    seconds: float
    memory_mib: int
    tasks_per_worker: int
    #: The client's medpdf version and presentation fingerprint.
    version: str
    presentation: str


class WorkerMismatch(Exception):
    """A worker would not make the PDF the client would: the whole build stops."""


_pools: dict[tuple[int, int], RenderPool] = {}
_pools_lock = threading.Lock()


def _here() -> str:
    """The address of the worker running this task, for messages."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "a worker"


def _threads() -> int:
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        return 1


#: The Dask setting that lets a worker start its render processes.
NOT_DAEMON = "DASK_DISTRIBUTED__WORKER__DAEMON=False"


def check(call: Call[Any, Any]) -> None:
    """Refuse to render when this worker's medpdf or presentation files differ from the client's.

    Also refuse on a worker that runs as a daemon process (Dask's default):
    Python lets no daemon start processes, and renders need their own.
    """
    if multiprocessing.current_process().daemon:
        raise WorkerMismatch(
            f"Dask worker {_here()} cannot start render processes: start workers with "
            f"{NOT_DAEMON} (Dask's distributed.worker.daemon setting)"
        )
    mine = medpdf.__version__
    if call.version != mine:
        raise WorkerMismatch(
            f"Dask worker {_here()} runs medpdf {mine}, this build medpdf {call.version}: "
            "install the same medpdf on every worker"
        )
    if presentation_fingerprint(DEFAULT_RESOURCES) != call.presentation:
        raise WorkerMismatch(
            f"Dask worker {_here()} has other medpdf code, libraries or presentation files "
            "(templates, styles, assets) than this build: install the same medpdf on every worker"
        )


def _localised(item: T) -> T:
    """The job with the worker's own presentation folder (the same files, checked above)."""
    from medpdf.run import RunContext

    context = getattr(item, "context", None)
    if not isinstance(context, RunContext) or not dataclasses.is_dataclass(item):
        return item
    config = dataclasses.replace(context.config, resources=DEFAULT_RESOURCES)
    moved = dataclasses.replace(context, config=config)
    return dataclasses.replace(item, context=moved)  # type: ignore[type-var]


def _pool(call: Call[Any, Any]) -> RenderPool:
    """The render processes of this worker for these limits, started on first use and kept."""
    key = (call.memory_mib, call.tasks_per_worker)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            limits = Limits(
                jobs=_threads(),
                seconds=call.seconds,
                memory_mib=call.memory_mib,
                tasks_per_worker=call.tasks_per_worker,
            )
            pool = _pools[key] = RenderPool(limits)
        return pool


def run(call: Call[T, R]) -> R | Failure:
    """Check this worker, then render in a bounded process here; failures come back as values."""
    check(call)
    pool = _pool(call)
    future = pool.submit(call.function, _localised(call.item), call.seconds)
    try:
        return future.result()
    except Exception as exc:  # the render process died, timed out or ran out of memory
        return pool.failure(exc, call.seconds)
