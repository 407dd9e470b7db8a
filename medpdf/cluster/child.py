"""A Dask worker's render child: each render in a process of its own, started with ``subprocess``.

A stock ``dask worker`` runs under a nanny, which starts the worker as a
daemon process, and Python's ``multiprocessing`` (so the local pool too)
refuses to start children from a daemon. ``subprocess`` has no such rule. So
each worker thread that runs medpdf tasks keeps one child,
``python -m medpdf.cluster.child MIB PID``, which:

- caps its own address space at MIB (``RLIMIT_AS``) and dies with the worker
  (the same start-up as a local pool's process: :func:`~medpdf.run.workers.init_render_process`);
- renders the tasks it is sent one after another, each through
  :func:`~medpdf.run.workers.guarded`, so a task's exception comes back as a value.

The worker thread stops the child when a render passes its time limit (and
reports it), after a memory failure, and after ``tasks_per_worker`` tasks
(WeasyPrint gives no memory back); the next task starts a new one. So both
limits hold per render as on one machine, and a killed render costs that
render only, never the Dask worker.

The channel is the child's standard input and output: frames of an 8-byte
length and a pickle. Pickle is safe here: both ends are this worker's own
medpdf, and a task is what the worker has already unpickled from the
scheduler. The child points its file descriptor 1 at standard error, so a
library that prints cannot corrupt the channel.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any, TypeVar

from medpdf.run import (
    Failure,
    died_message,
    guarded,
    init_render_process,
    memory_message,
    overtime_message,
)

T = TypeVar("T")
R = TypeVar("R")

_LENGTH = struct.Struct("!Q")

#: How long a new child may take to start (import medpdf, set its limits) before
#: it counts as failed; a render's own time limit starts once it is ready.
START_SECONDS = 120.0


# -- the child ----------------------------------------------------------------------


def _read_frame(stream: IO[bytes]) -> bytes | None:
    """One frame from ``stream``; None at its end (the worker closed the pipe or died)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    body = stream.read(length)
    return body if len(body) == length else None


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _answer(request: bytes) -> tuple[str, Any]:
    """Run one request; what goes back: ``("done", result or Failure)`` or ``("memory", None)``."""
    try:
        function, item = pickle.loads(request)
    except MemoryError:
        return "memory", None
    except Exception as exc:  # e.g. the task's module cannot be imported here
        return "done", Failure(f"rendering failed: cannot read the task: {exc!r}")
    try:
        return "done", guarded(function, item)
    except MemoryError:
        return "memory", None


def main(argv: list[str] | None = None) -> None:
    """The child's loop: read a task, render it, send the outcome back, until the pipe closes."""
    memory, parent = (argv if argv is not None else sys.argv[1:])[:2]
    channel = os.dup(1)
    os.dup2(2, 1)  # print() and stray C output go to the worker's log, not the channel
    init_render_process(int(memory), int(parent))
    requests = sys.stdin.buffer
    _write_frame(channel, pickle.dumps(("ready", os.getpid())))
    while (request := _read_frame(requests)) is not None:
        status, value = _answer(request)
        try:
            data = pickle.dumps((status, value), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            status, data = "memory", pickle.dumps(("memory", None))
        except Exception as exc:  # a result that cannot be pickled
            failure = Failure(f"rendering failed: cannot send the result back: {exc!r}")
            data = pickle.dumps(("done", failure))
        _write_frame(channel, data)
        if status == "memory":  # its heap is suspect now: the worker starts a new child
            return


# -- the worker's side ----------------------------------------------------------------


class _Overtime(Exception):
    """The child did not answer before the deadline."""


class RenderChild:
    """One render child process, owned by the worker thread that started it."""

    def __init__(self, memory_mib: int) -> None:
        self.memory_mib = memory_mib
        self.tasks = 0
        # The child finds modules (medpdf, a task's own) where this worker does.
        path = os.pathsep.join(p or os.curdir for p in sys.path)
        env = {**os.environ, "PYTHONPATH": path}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "medpdf.cluster.child", str(memory_mib), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._ready = False

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _receive(self, deadline: float) -> tuple[str, Any] | None:
        """The child's next answer; None when it ended without one."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        head = _read_exactly(fd, _LENGTH.size, deadline)
        if head is None:
            return None
        body = _read_exactly(fd, _LENGTH.unpack(head)[0], deadline)
        if body is None:
            return None
        answer: tuple[str, Any] = pickle.loads(body)
        return answer

    def _ended(self) -> Failure:
        """Why the child ended without an answer, once it has ended."""
        self.stop()
        return Failure(died_message(self.process.returncode, self.memory_mib))

    def render(self, function: Callable[[T], R], item: T, seconds: float) -> R | Failure:
        """Run one task in the child within ``seconds``; every problem comes back as a Failure."""
        try:
            request = pickle.dumps((function, item), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # e.g. a function defined inside another
            return Failure(f"rendering failed: cannot send the task to a render process: {exc!r}")
        try:
            if not self._ready:
                if self._receive(time.monotonic() + START_SECONDS) is None:
                    return self._ended()
                self._ready = True
            assert self.process.stdin is not None
            self.process.stdin.write(_LENGTH.pack(len(request)) + request)
            self.process.stdin.flush()
            self.tasks += 1
            answer = self._receive(time.monotonic() + seconds)
        except _Overtime:
            self.stop()
            if not self._ready:
                return Failure(f"the render process did not start within {START_SECONDS:g} s")
            return Failure(overtime_message(seconds))
        except BrokenPipeError:  # it died before reading the task
            return self._ended()
        if answer is None:
            return self._ended()
        status, value = answer
        if status == "memory":
            self.stop()
            return Failure(memory_message(self.memory_mib))
        result: R | Failure = value
        return result

    def stop(self) -> None:
        """End the child now (it is idle, or past its limit) and reap it."""
        if self.alive:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def close(self) -> None:
        """Let an idle child finish: it exits when its input closes."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.stop()


def _read_exactly(fd: int, size: int, deadline: float) -> bytes | None:
    """``size`` bytes from ``fd`` before ``deadline``; None at end of file.

    ``poll``, not ``select``: a busy Dask worker may hold descriptors above 1024.
    """
    data = bytearray()
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(max(1, math.ceil(left * 1000))):
            raise _Overtime
        chunk = os.read(fd, min(size - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


_mine = threading.local()


def render(
    function: Callable[[T], R],
    item: T,
    seconds: float,
    memory_mib: int,
    tasks_per_worker: int,
) -> R | Failure:
    """Run one task in this thread's render child, started (or renewed) as needed.

    One child per worker thread: a worker with n threads renders n at once.
    It is kept between tasks (starting Python and WeasyPrint again costs about
    as much as a render) and renewed after ``tasks_per_worker`` tasks, after a
    failure that ended it, or for another memory limit.
    """
    child: RenderChild | None = getattr(_mine, "child", None)
    if child is not None and (
        not child.alive or child.memory_mib != memory_mib or child.tasks >= tasks_per_worker
    ):
        child.close()
        child = None
    if child is None:
        child = _mine.child = RenderChild(memory_mib)
    return child.render(function, item, seconds)


if __name__ == "__main__":
    main()
