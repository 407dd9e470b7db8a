"""The build side of a cluster build: renders go to a Dask scheduler through ``distributed.Client``.

One :class:`Cluster` (one client connection) serves a whole run, variants
included; each product opens a :class:`DaskRunner` over it. Every task is
submitted at once and the scheduler spreads them over the workers. Faults
map onto what a build already knows:

- a worker that dies mid-task: Dask runs the task again on another worker;
  one that dies again and again (``distributed.scheduler.allowed-failures``,
  3 by default) is given up by the scheduler and reported as that monograph's
  failure, never retried forever;
- a render over its time or memory limit: the worker's own render pool
  reports it as on one machine (see :mod:`medpdf.cluster.remote`);
- a worker with another medpdf or other presentation files, an unreachable
  scheduler or one lost mid-build: the build stops with one line
  (:class:`~medpdf.errors.ClusterError`). Every PDF that came back before is
  already written atomically and recorded in the cache, so the next build
  resumes from there.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any, TypeVar

import dask.config
from distributed import Client, Future, KilledWorker, as_completed

import medpdf
from medpdf.cluster import remote
from medpdf.errors import ClusterError
from medpdf.run import Failure, Limits, Outcome

T = TypeVar("T")
R = TypeVar("R")


def _connect_seconds() -> float:
    """Dask's own connect timeout (``distributed.comm.timeouts.connect``, 30 s by default)."""
    from dask.utils import parse_timedelta

    value = dask.config.get("distributed.comm.timeouts.connect", "30s")
    return float(parse_timedelta(value, default="seconds") or 30)


@dataclass
class Cluster:
    """One connection to a scheduler, shared by every product and variant of a run."""

    client: Client
    address: str
    presentation: str

    def runner(self, limits: Limits) -> DaskRunner:
        """A :class:`~medpdf.run.workers.Runner` whose tasks carry ``limits`` to the workers."""
        return DaskRunner(self, limits)

    def lost(self) -> ClusterError:
        """The one line for a scheduler that went away mid-build."""
        return ClusterError(
            f"lost the Dask scheduler at {self.address}; every PDF finished before is kept "
            "and the next build goes on from there"
        )


def _quiet_dask() -> None:
    """Keep Dask's own log lines (reconnect attempts, tracebacks) off the terminal.

    What went wrong reaches the user as one medpdf line; ``medpdf -v`` shows
    Dask's lines too. Dask's logging settings give its modules levels of their
    own, so each one is quietened, not only the parent.
    """
    if logging.getLogger("medpdf").isEnabledFor(logging.INFO):
        return
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in _DASK_LOGGERS]
    for name in [*_DASK_LOGGERS, *names]:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


_DASK_LOGGERS = ("distributed", "tornado")


@contextlib.contextmanager
def connect(address: str, presentation: str) -> Iterator[Cluster]:
    """Connect to the scheduler at ``address``, or fail with one line."""
    _quiet_dask()
    seconds = _connect_seconds()
    try:
        client = Client(address, timeout=seconds, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        cause = "no answer" if isinstance(exc, TimeoutError) or "Timed out" in str(exc) else exc
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({cause} within {seconds:g} s); "
            "is `dask scheduler` running there?"
        ) from None
    try:
        yield Cluster(client, address, presentation)
    finally:
        with contextlib.suppress(Exception):  # a lost scheduler cannot be told goodbye
            client.close(timeout=5)  # type: ignore[no-untyped-call]


class DaskRunner:
    """Runs tasks on the cluster's workers; outcomes come back as each finishes."""

    def __init__(self, cluster: Cluster, limits: Limits) -> None:
        self.cluster = cluster
        self.limits = limits

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _call(self, function: Callable[[T], R], item: T, seconds: float) -> remote.Call[T, R]:
        return remote.Call(
            function,
            item,
            seconds,
            self.limits.memory_mib,
            self.limits.tasks_per_worker,
            medpdf.__version__,
            self.cluster.presentation,
        )

    def _result(self, future: Future[Any]) -> Any:
        """A task's result or failure; raises for what stops the whole build."""
        try:
            return future.result()
        except KilledWorker as exc:
            return Failure(
                f"its Dask worker died each of the {exc.allowed_failures + 1} times it ran "
                f"(last on {exc.last_worker.address}); given up"
            )
        except remote.WorkerMismatch as exc:
            raise ClusterError(str(exc)) from None
        except CancelledError:
            raise self.cluster.lost() from None
        except OSError:
            raise self.cluster.lost() from None
        except Exception as exc:
            return Failure(f"rendering failed on the cluster: {exc!r}")

    def run(
        self,
        function: Callable[[T], R],
        items: Iterable[T],
        seconds: Callable[[T], float] | None = None,
    ) -> Iterator[Outcome[T, R]]:
        """Submit every item at once; yield each outcome as soon as it comes back."""
        client = self.cluster.client
        pending: dict[Future[Any], T] = {}
        try:
            for item in items:
                timeout = seconds(item) if seconds else self.limits.seconds
                call = self._call(function, item, timeout)
                pending[client.submit(remote.run, call, pure=False)] = item
        except (OSError, CancelledError):
            raise self.cluster.lost() from None
        try:
            for future in as_completed(list(pending), loop=client.loop):  # type: ignore[no-untyped-call]
                item = pending.pop(future)
                yield Outcome(item, self._result(future))
                future.release()
        finally:
            if pending:  # stopped early: free the scheduler of what is left
                with contextlib.suppress(Exception):
                    client.cancel(list(pending))  # type: ignore[no-untyped-call]
