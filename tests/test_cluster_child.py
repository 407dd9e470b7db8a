"""The render child a Dask worker thread keeps (``python -m medpdf.cluster.child``), without Dask.

What a stock worker needs of it: it starts from a daemon process (where
multiprocessing may start nothing), holds the time and memory limits per render,
costs one render when it dies, and is renewed after ``tasks_per_worker`` tasks.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from multiprocessing.queues import Queue
from typing import Any

import pytest
from waiting import PATIENCE

from medpdf.cluster import child
from medpdf.run.workers import Failure

MIB = 256


def square(n: int) -> int:
    return n * n


def pid(_: object) -> int:
    return os.getpid()


def misbehaving(kind: str) -> str:
    if kind == "sleep":
        time.sleep(60)
    elif kind == "memory":
        return str(len(bytearray(2048 * 1024 * 1024)))  # 2 GiB, far above the limit
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "raise":
        raise RuntimeError("boom")
    elif kind == "print":
        print("noise on stdout")
        os.write(1, b"raw noise on fd 1\n")
    return kind


@pytest.fixture(autouse=True)
def _own_child() -> Any:
    """Each test starts with no child in this thread and leaves none behind."""
    yield
    kept = getattr(child._mine, "child", None)
    if kept is not None:
        kept.close()
        del child._mine.child


def render_in_a_daemon(queue: Queue[Any]) -> None:
    queue.put((multiprocessing.current_process().daemon, child.render(square, 7, 60, MIB, 10)))


def test_a_daemon_process_can_render_through_its_child():
    # A nanny's dask worker is such a process: multiprocessing would refuse here.
    context = multiprocessing.get_context("spawn")
    queue: Queue[Any] = context.Queue()
    process = context.Process(target=render_in_a_daemon, args=(queue,), daemon=True)
    process.start()
    try:
        assert queue.get(timeout=PATIENCE) == (True, 49)
    finally:
        process.join(timeout=PATIENCE)


def test_each_kind_of_failure_is_one_line_and_the_next_task_gets_a_new_child():
    # Only "sleep" gets the short limit: a task's time includes the new child importing this
    # module to unpickle it, which a busy machine can stretch past 2 s.
    results = {
        kind: child.render(misbehaving, kind, 2 if kind == "sleep" else PATIENCE, MIB, 50)
        for kind in ["ok", "sleep", "memory", "kill", "raise", "print", "after"]
    }
    assert results["ok"] == "ok"
    assert results["sleep"] == Failure("rendering took longer than the 2 s limit and was stopped")
    assert results["memory"] == Failure("rendering needed more than the 256 MiB memory limit")
    assert results["kill"] == Failure(
        "the render process was killed by signal 9 (memory limit 256 MiB)"
    )
    assert results["raise"] == Failure("rendering failed: RuntimeError('boom')")
    assert results["print"] == "print"  # stray output went to stderr, not into the channel
    assert results["after"] == "after"


def test_the_child_is_kept_between_tasks_and_renewed_after_tasks_per_worker():
    pids = [child.render(pid, None, 60, MIB, 3) for _ in range(7)]
    assert pids[0] != os.getpid()
    assert [len(set(pids[i : i + 3])) for i in (0, 3)] == [1, 1]
    assert len(set(pids)) == 3  # 3 + 3 + 1 tasks
    other_limit = child.render(pid, None, 60, 2 * MIB, 3)
    assert other_limit not in pids


def test_a_task_that_cannot_reach_the_child_is_a_failure_and_the_child_goes_on():
    def local(n: int) -> int:  # pragma: no cover - never runs: plain pickle cannot send it
        return n

    assert child.render(square, 3, 60, MIB, 10) == 9
    failed = child.render(local, 3, 60, MIB, 10)
    assert isinstance(failed, Failure)
    assert failed.message.startswith("rendering failed: cannot send the task to a render process")
    assert child.render(square, 4, 60, MIB, 10) == 16


def test_a_child_whose_parent_is_not_the_one_that_started_it_exits_at_once():
    # What a child sees when its worker died before it could ask to die with it.
    # (A worker that is process 1 of a container is a parent like any other.)
    wrong = subprocess.run(
        [sys.executable, "-m", "medpdf.cluster.child", str(MIB), "1"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=PATIENCE,
        check=False,
    )
    assert (wrong.returncode, wrong.stdout) == (1, b"")
