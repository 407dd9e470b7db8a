"""Worker processes: each task bounded in time and memory, a dying worker costs one task."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from waiting import PATIENCE, wait_until

from medpdf.run.workers import Failure, Limits, RenderPool

#: How long a task told to "sleep" sleeps: far beyond any limit, so only a stop ends it.
SLEEP = 3600


def well_behaved(n: int) -> int:
    return n * n


def misbehaving(kind: str) -> str:
    if kind == "sleep":
        time.sleep(SLEEP)
    elif kind == "memory":
        hog = bytearray(2048 * 1024 * 1024)  # 2 GiB, far above the limit
        return str(len(hog))
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "raise":
        raise RuntimeError("boom")
    return kind


def test_results_come_back_for_every_item():
    with RenderPool(Limits(jobs=2, seconds=PATIENCE)) as pool:
        outcomes = list(pool.run(well_behaved, range(20)))
    assert sorted((o.item, o.result) for o in outcomes) == [(n, n * n) for n in range(20)]


def test_each_kind_of_failure_is_one_line_and_the_rest_finish():
    limits = Limits(jobs=2, seconds=PATIENCE, memory_mib=256, tasks_per_worker=5)
    kinds = ["ok-1", "sleep", "ok-2", "memory", "ok-3", "kill", "raise", "ok-4"]
    started = time.monotonic()
    with RenderPool(limits) as pool:
        # Only the sleeper has a short limit: on a busy machine a worker started after
        # the memory hog may take longer than 2 s to reach its task.
        results = {
            o.item: o.result
            for o in pool.run(misbehaving, kinds, seconds=lambda k: 2 if k == "sleep" else PATIENCE)
        }
    assert time.monotonic() - started < SLEEP  # the sleeping task was stopped, not waited for
    assert {k: results[k] for k in kinds if k.startswith("ok")} == {
        "ok-1": "ok-1",
        "ok-2": "ok-2",
        "ok-3": "ok-3",
        "ok-4": "ok-4",
    }
    messages = {k: r.message for k, r in results.items() if isinstance(r, Failure)}
    assert messages["sleep"] == "rendering took longer than the 2 s limit and was stopped"
    assert messages["memory"] == "rendering needed more than the 256 MiB memory limit"
    assert messages["kill"].startswith("the render process was killed by signal 9")
    # Every task runs under workers.guarded: what it raises reads as in every product.
    assert messages["raise"] == "rendering failed: RuntimeError('boom')"
    assert all("\n" not in m for m in messages.values())


def test_workers_die_with_a_killed_parent(tmp_path: Path):
    """A build killed by SIGKILL must not leave workers writing into output/."""
    pids_file = tmp_path / "pids"
    script = textwrap.dedent(
        f"""
        import os, sys, threading, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from medpdf.run.workers import Limits, RenderPool
        from test_workers import misbehaving
        pool = RenderPool(Limits(jobs=2, seconds=300))
        work = lambda: list(pool.run(misbehaving, ["sleep", "sleep"]))
        threading.Thread(target=work, daemon=True).start()
        import glob

        def children():  # workers are started by the pool's thread, so read every task
            found = []
            for tasks in glob.glob(f"/proc/{{os.getpid()}}/task/*/children"):
                found += open(tasks).read().split()
            return found

        def is_worker(pid):
            try:
                return b"spawn_main" in open(f"/proc/{{pid}}/cmdline", "rb").read()
            except OSError:
                return False

        deadline = time.monotonic() + {PATIENCE}
        while sum(map(is_worker, children())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        open({str(pids_file)!r}, "w").write(" ".join(children()))
        time.sleep({SLEEP})
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script])

    def started() -> bool:
        assert parent.poll() is None, f"the parent exited ({parent.returncode})"
        return pids_file.exists() and bool(pids_file.read_text().strip())

    wait_until(started, "the pool started its workers")
    workers = [int(p) for p in pids_file.read_text().split()]
    assert len(workers) >= 2
    parent.kill()
    parent.wait()
    wait_until(
        lambda: not [p for p in workers if _running(p)],
        "every worker has exited",
        gave_up=lambda: str([p for p in workers if _running(p)]),
    )


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
