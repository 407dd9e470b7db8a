"""The build side of a cluster build: renders go to a Dask scheduler through ``distributed.Client``.

One :class:`Cluster` (one client connection) serves a whole run, variants
included; each product opens a :class:`DaskRunner` over it. Every task is
submitted at once and the scheduler spreads them over the workers. Faults
map onto what a build already knows:

- a worker that dies mid-task: Dask runs the task again on another worker;
  one that dies again and again (``distributed.scheduler.allowed-failures``,
  3 by default) is given up by the scheduler and reported as that monograph's
  failure, never retried forever;
- a render over its time or memory limit: the worker's render child
  reports it as on one machine (see :mod:`medpdf.cluster.child`);
- a worker with another medpdf or other presentation files: the build stops
  with one line (:class:`~medpdf.errors.ClusterError`);
- a scheduler that cannot be used: one line saying what happened (the name
  does not resolve, nothing listens, it is not a Dask scheduler, ...) as soon
  as it is known (:mod:`medpdf.cluster.probe`);
- a scheduler lost mid-build: one line. Every PDF that came back before is
  already written atomically and recorded in the cache, so the next build
  resumes from there.

The connection opens with the first task, and Dask (about a second to
import) is imported then: a build whose PDFs are all in the cache neither
pays for Dask nor touches the network, so an unchanged rebuild succeeds even
while the scheduler is down.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any, TypeVar

import medpdf
from medpdf.cluster import probe, remote
from medpdf.errors import ClusterError
from medpdf.run import Failure, Limits, Outcome

if TYPE_CHECKING:
    from distributed import Client, Future

T = TypeVar("T")
R = TypeVar("R")


def _connect_seconds() -> float:
    """Dask's own connect timeout (``distributed.comm.timeouts.connect``, 30 s by default)."""
    import dask.config
    from dask.utils import parse_timedelta

    value = dask.config.get("distributed.comm.timeouts.connect", "30s")
    return float(parse_timedelta(value, default="seconds") or 30)


class Cluster:
    """One connection to a scheduler, shared by every product and variant of a run.

    It is opened by the first task submitted (see :attr:`client`), not before.
    """

    def __init__(self, address: str, presentation: str) -> None:
        self.address = address
        self.presentation = presentation
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        """The connection, opened now if this is the first task of the run."""
        if self._client is None:
            self._client = _open(self.address)
        return self._client

    def runner(self, limits: Limits) -> DaskRunner:
        """A :class:`~medpdf.run.workers.Runner` whose tasks carry ``limits`` to the workers."""
        return DaskRunner(self, limits)

    def lost(self) -> ClusterError:
        """The one line for a scheduler that went away mid-build."""
        return ClusterError(
            f"lost the Dask scheduler at {self.address}; every PDF finished before is kept "
            "and the next build goes on from there"
        )

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):  # a lost scheduler cannot be told goodbye
                self._client.close(timeout=5)  # type: ignore[no-untyped-call]


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


def _open(address: str) -> Client:
    """Connect to the scheduler at ``address``, or fail with one line saying why."""
    try:
        from distributed import Client
        from distributed.security import Security
    except ImportError as exc:
        raise ClusterError(
            f"--scheduler needs Dask distributed ({exc.name} is not installed): "
            "pip install 'medpdf[cluster]'"
        ) from None
    _quiet_dask()
    seconds = _connect_seconds()
    security = Security()  # type: ignore[no-untyped-call]  # Dask's TLS settings, as Client reads them
    arguments = security.get_connection_args("client")  # type: ignore[no-untyped-call]
    probe.check(address, seconds, arguments)
    try:
        client: Client = Client(  # type: ignore[no-untyped-call]
            address, timeout=seconds, set_as_default=False, security=security
        )
    except (OSError, TimeoutError):  # it went away between the probe and now
        raise ClusterError(
            f"cannot use the Dask scheduler at {address}: no answer within {seconds:g} s "
            "(distributed.comm.timeouts.connect)"
        ) from None
    return client


@contextlib.contextmanager
def connect(address: str, presentation: str) -> Iterator[Cluster]:
    """The run's :class:`Cluster` at ``address``, closed afterwards; it connects on first use."""
    cluster = Cluster(address, presentation)
    try:
        yield cluster
    finally:
        cluster.close()


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
        from distributed import KilledWorker

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
        """Submit every item at once; yield each outcome as soon as it comes back.

        With no items it returns at once, without connecting.
        """
        todo = list(items)
        if not todo:
            return
        client = self.cluster.client
        from distributed import as_completed

        pending: dict[Future[Any], T] = {}
        try:
            for item in todo:
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
