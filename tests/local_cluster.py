"""A Dask cluster on this machine, started as an operator starts one: ``dask scheduler`` and
``dask worker`` commands with Dask's defaults (nanny on, so each worker is a daemon process),
every process listening on 127.0.0.1 only.

The task functions below are what the tests send to the workers; workers import this module
by name (the cluster's ``PYTHONPATH`` holds this folder).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from waiting import PATIENCE

HERE = Path(__file__).resolve().parent
DASK = str(Path(sys.executable).parent / "dask")


# -- tasks ------------------------------------------------------------------------------


def square(n: int) -> int:
    return n * n


def kills_its_worker(n: int) -> int:
    """In a render child of a Dask worker: kill that worker when given 3."""
    if n == 3:
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(60)
    return n * n


def misbehaving(kind: str) -> str:
    if kind == "sleep":
        time.sleep(60)
    elif kind == "memory":
        return str(len(bytearray(2048 * 1024 * 1024)))
    elif kind == "print":  # a library writing to standard output must not break the channel
        print("noise on stdout")
        os.write(1, b"raw noise on fd 1\n")
    return kind


def set_version(version: str) -> str:
    """On a worker: pretend another medpdf is installed; returns the real version."""
    import medpdf

    previous = medpdf.__version__
    medpdf.__version__ = version
    return previous


def is_daemon() -> bool:
    """On a worker: True when it runs as a daemon process (a nanny's worker does)."""
    return bool(multiprocessing.current_process().daemon)


# -- the cluster --------------------------------------------------------------------------


def wait_for(check: Callable[[], bool], seconds: float = PATIENCE, what: str = "condition") -> None:
    """Wait until ``check()``; the deadline only turns a hang into a failure."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Cluster:
    """A running scheduler and its workers (their ``dask worker`` processes, i.e. the nannies)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    folder: Path
    logs: list[Path] = field(default_factory=list)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())


def _scheduler_address(path: Path) -> str | None:
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["address"])
    except (OSError, ValueError, KeyError):
        return None  # not written yet, or half written


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


@dataclass(frozen=True)
class Tls:
    """One certificate (its own authority) and key that every member of a test cluster shows."""

    cert: Path
    key: Path

    @classmethod
    def make(cls, folder: Path) -> Tls:
        """A throwaway self-signed certificate for 127.0.0.1, good for a day."""
        import datetime as dt
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medpdf test cluster")])
        now = dt.datetime.now(dt.UTC)
        loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([loopback]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        tls = cls(folder / "cluster.crt", folder / "cluster.key")
        tls.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        pkcs8 = serialization.PrivateFormat.PKCS8
        plain = serialization.NoEncryption()
        tls.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, plain))
        return tls

    @property
    def flags(self) -> list[str]:
        return ["--tls-ca-file", str(self.cert), "--tls-cert", str(self.cert),
                "--tls-key", str(self.key)]  # fmt: skip

    @property
    def client_settings(self) -> dict[str, str]:
        """Dask's settings for a client of this cluster."""
        return {
            "distributed.comm.tls.ca-file": str(self.cert),
            "distributed.comm.tls.client.cert": str(self.cert),
            "distributed.comm.tls.client.key": str(self.key),
        }


@contextlib.contextmanager
def dask_cluster(
    folder: Path,
    workers: int = 2,
    scheduler_settings: Mapping[str, str] | None = None,
    tls: Tls | None = None,
) -> Iterator[Cluster]:
    """``dask scheduler`` and ``workers`` x ``dask worker --nthreads 1``, stopped afterwards.

    ``scheduler_settings`` are environment variables for the scheduler only
    (``DASK_DISTRIBUTED__SCHEDULER__...``); the workers get none. With ``tls``
    every member listens on ``tls://127.0.0.1`` and shows that certificate.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    address_file = folder / "scheduler.json"
    host = "tls://127.0.0.1" if tls else "127.0.0.1"
    local = ["--host", host, "--no-dashboard", *(tls.flags if tls else [])]
    started: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(name: str, *args: str, extra: Mapping[str, str] | None = None) -> None:
        log = folder / f"{name}.log"
        logs.append(log)
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [DASK, *args],
                env={**env, **(extra or {})},
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
        started.append(process)

    try:
        start(
            "scheduler",
            "scheduler",
            *local,
            "--port",
            "0",
            "--scheduler-file",
            str(address_file),
            extra=scheduler_settings,
        )
        scheduler = started[0]
        wait_for(
            lambda: _scheduler_address(address_file) is not None or scheduler.poll() is not None,
            what="the scheduler",
        )
        address = _scheduler_address(address_file)
        assert address is not None, logs[0].read_text(errors="replace")
        for number in range(workers):
            scratch = str(folder / f"worker-{number}")
            start(f"worker-{number}", "worker", address, *local, "--nthreads", "1",
                  "--local-directory", scratch)  # fmt: skip
        cluster = Cluster(address, scheduler, started[1:], folder, logs)
        _wait_for_workers(cluster, workers, tls)
        yield cluster
    finally:
        for process in reversed(started):  # workers first: they close cleanly while it lives
            _stop(process)


def _wait_for_workers(cluster: Cluster, count: int, tls: Tls | None) -> None:
    import dask
    from distributed import Client

    settings = tls.client_settings if tls else {}
    with dask.config.set(settings), Client(cluster.address, set_as_default=False) as client:
        wait_for(
            lambda: (
                len(client.scheduler_info(n_workers=-1)["workers"]) >= count
                or any(w.poll() is not None for w in cluster.workers)
            ),
            what=f"{count} workers",
        )
    assert all(w.poll() is None for w in cluster.workers), cluster.log_text()
