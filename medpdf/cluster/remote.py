"""The worker side of a cluster build: what a Dask worker runs for each task.

A task carries everything it needs (the monograph's text, the options, the
client's medpdf version and presentation fingerprint), so a worker reads no
file of the client's. Before rendering, the worker checks that it would make
the same PDF: same medpdf version, same code, libraries and presentation
files (a different stylesheet on one worker would otherwise make silently
different PDFs). The render itself runs in a child process of the worker,
started with ``subprocess`` (:mod:`medpdf.cluster.child`), so it works in a
stock ``dask worker`` (a daemon process under its nanny), the time and memory
limits hold for each render exactly as on one machine, and a render that is
killed costs that render only, not the Dask worker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import medpdf
from medpdf.cluster import child
from medpdf.run import Failure, presentation_fingerprint
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


def _here() -> str:
    """The address of the worker running this task, for messages."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "a worker"


def check(call: Call[Any, Any]) -> None:
    """Refuse to render when this worker's medpdf or presentation files differ from the client's."""
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


def run(call: Call[T, R]) -> R | Failure:
    """Check this worker, then render in its bounded child process; failures come back as values."""
    check(call)
    item = _localised(call.item)
    return child.render(call.function, item, call.seconds, call.memory_mib, call.tasks_per_worker)
