"""Handout PDFs on demand: rendered in the worker pool, shared, bounded, and kept on a shelf.

No render happens in the server process. At most one render runs per worker
and a short queue waits; beyond that a request is turned away at once
(:class:`Busy`, a 503) instead of piling up in memory. Identical requests in
flight share one render, and finished PDFs are kept in a size-bounded folder,
keyed by the handout's layout key and the day it is printed for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from medpdf.content.approvals import Review
from medpdf.content.sources import Source
from medpdf.digests import digest_of
from medpdf.products.handouts import HandoutJob, handout_key, handout_task
from medpdf.run import Failure, Rendered, RenderPool, RunContext, sweep_stale_temps

J = TypeVar("J")


class PdfShelf:
    """Rendered PDFs on disk, named by their cache key, bounded in total size.

    A file is only ever complete (workers write to a temporary name and
    rename), so presence means valid. Reading touches the file, which makes
    the modification time a least-recently-used order for eviction.
    """

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        sweep_stale_temps(folder)
        self._size = sum(p.stat().st_size for p in folder.glob("*.pdf"))

    def path(self, key: str) -> Path:
        """Where the PDF of ``key`` is (or will be) kept."""
        return self.folder / f"{key}.pdf"

    def read(self, key: str) -> bytes | None:
        """The PDF of ``key`` if it is kept, marking it recently used."""
        path = self.path(key)
        try:
            data = path.read_bytes()
            os.utime(path)
        except OSError:
            return None
        return data

    def added(self, key: str) -> None:
        """Account for a new PDF and evict the oldest others while over the limit."""
        with contextlib.suppress(OSError):
            self._size += self.path(key).stat().st_size
        if self._size <= self.max_bytes:
            return
        kept = sorted(self.folder.glob("*.pdf"), key=_mtime)
        self._size = sum(p.stat().st_size for p in kept)
        for old in kept:
            if self._size <= self.max_bytes:
                break
            if old.stem == key:
                continue
            with contextlib.suppress(OSError):
                size = old.stat().st_size
                old.unlink()
                self._size -= size

    @property
    def count(self) -> int:
        """PDFs kept now."""
        return sum(1 for _ in self.folder.glob("*.pdf"))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class Busy(Exception):
    """Too many renders are waiting: the client should try again shortly."""


class RenderFailed(Exception):
    """A render failed in its worker; the message is one line for the page."""


class Renderer:
    """Handout PDFs on demand: cached, shared between identical requests, bounded.

    At most ``limits.jobs`` renders run at once (one per worker) and at most
    ``queue`` more wait; beyond that :class:`Busy` is raised at once, so a
    burst of requests costs a 503, not memory.
    """

    def __init__(self, pool: RenderPool, shelf: PdfShelf, queue: int) -> None:
        self.pool = pool
        self.shelf = shelf
        self.queue = queue
        self.running = 0
        self.rendered = 0
        self._slots = asyncio.Semaphore(pool.limits.jobs)
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        #: Private renders running or waiting (:meth:`private`), within the same bound.
        self._private = 0

    async def handout(
        self, source: Source, context: RunContext, review: Review | None = None
    ) -> bytes:
        """The PDF of ``source`` rendered in ``context``, from the shelf when it is there.

        Kept per day: a handout printed today says so in its footer (and who
        approved its edition, ``review``).
        """
        key = digest_of(
            handout_key(source, context, review=review), context.config.printed.isoformat()
        )
        return await self.made(
            key, handout_task, lambda target: HandoutJob(source, context, target, review=review)
        )

    async def made(
        self,
        key: str,
        task: Callable[[J], Rendered],
        job_of: Callable[[Path], J],
        seconds: float | None = None,
    ) -> bytes:
        """The PDF kept under ``key``, else ``task(job_of(target))`` run in a worker.

        Any task that writes its PDF atomically to the job's target will do
        (a handout, a medication pack); ``seconds`` overrides the time limit.
        """
        data = self.shelf.read(key)
        if data is not None:
            return data
        running = self._in_flight.get(key)
        if running is None:
            if len(self._in_flight) >= self.pool.limits.jobs + self.queue:
                raise Busy
            job = job_of(self.shelf.path(key))
            running = asyncio.create_task(self._render(key, task, job, seconds))
            self._in_flight[key] = running
            running.add_done_callback(lambda _: self._in_flight.pop(key, None))
        # A client that goes away does not cancel the render: the next one gets it.
        await asyncio.shield(running)
        data = self.shelf.read(key)
        if data is None:  # evicted at once by a tiny cache limit: render was still right
            raise RenderFailed("the rendered PDF could not be kept; raise --cache-size")
        return data

    async def private(
        self, task: Callable[[J], Rendered], job_of: Callable[[Path], J], seconds: float | None
    ) -> bytes:
        """A PDF that must not be kept (a patient's name on it): never shelved nor shared.

        Rendered into a private temporary folder, read, and the folder removed.
        """
        if len(self._in_flight) + self._private >= self.pool.limits.jobs + self.queue:
            raise Busy
        self._private += 1
        try:
            with tempfile.TemporaryDirectory(prefix="medpdf-private-") as folder:
                target = Path(folder) / "private.pdf"
                await self._run(task, job_of(target), seconds)
                return target.read_bytes()
        finally:
            self._private -= 1

    @property
    def waiting(self) -> int:
        """Renders asked for that wait for a free worker."""
        return len(self._in_flight) + self._private - self.running

    async def _render(
        self, key: str, task: Callable[[J], Rendered], job: J, seconds: float | None
    ) -> None:
        await self._run(task, job, seconds)
        self.shelf.added(key)

    async def _run(self, task: Callable[[J], Rendered], job: J, seconds: float | None) -> None:
        await self._slots.acquire()
        self.running += 1
        try:
            future = self.pool.submit(task, job, seconds)
            try:
                result = await asyncio.wrap_future(future)
            except Exception as exc:  # the worker died, timed out or raised
                raise RenderFailed(self.pool.failure(exc, seconds).message) from None
            if isinstance(result, Failure):
                raise RenderFailed(result.message)
            self.rendered += 1
        finally:
            self.running -= 1
            self._slots.release()
