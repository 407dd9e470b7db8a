"""A Dask LocalCluster of two worker processes, run as a process of its own for the tests.

``python tests/local_cluster.py ADDRESS_FILE`` starts the cluster, writes the
scheduler's address to ADDRESS_FILE and runs until its standard input closes.
It runs apart from pytest, as a scheduler does in real use: a build run
in-process by the tests stops multiprocessing's resource tracker on exit,
which would wait forever on a cluster whose workers hold its pipe.

The task functions below are what the tests send to the workers; workers
import this module by name (its folder is their ``sys.path[0]``).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path


def square(n: int) -> int:
    return n * n


def kills_its_worker(n: int) -> int:
    """In a render process on a Dask worker: kill that worker when given 3."""
    if n == 3:
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(60)
    return n * n


def misbehaving(kind: str) -> str:
    if kind == "sleep":
        time.sleep(60)
    elif kind == "memory":
        return str(len(bytearray(2048 * 1024 * 1024)))
    return kind


def set_version(version: str) -> str:
    """On a worker: pretend another medpdf is installed; returns the real version."""
    import medpdf

    previous = medpdf.__version__
    medpdf.__version__ = version
    return previous


def main(address_file: Path) -> None:
    import dask
    import distributed

    settings = {
        # Renders run in processes of their own, which a daemon process may not start.
        "distributed.worker.daemon": False,
        # A task whose worker dies twice is given up (Dask's default is 3 deaths).
        "distributed.scheduler.allowed-failures": 1,
        # One task per one-thread worker at a time: a worker that dies takes only the
        # task it was running (Dask counts a death against every task a worker holds).
        "distributed.scheduler.worker-saturation": 1.0,
    }
    # Kept set while the cluster lives: the nanny reads it again when it restarts a worker.
    with (
        dask.config.set(settings),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            scheduler_port=0,
            dashboard_address=None,
            memory_limit=0,
        ) as cluster,
    ):
        partial = address_file.with_suffix(".partial")
        partial.write_text(cluster.scheduler_address, encoding="utf-8")
        partial.replace(address_file)  # the test waits for the file: never half of it
        sys.stdin.read()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
