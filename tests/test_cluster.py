"""Builds on a real Dask cluster, started as an operator starts one.

``dask scheduler`` and two ``dask worker`` processes with Dask's defaults (nanny
on, so every worker is a daemon process), all on 127.0.0.1 (see
``tests/local_cluster.py``). One cluster serves the module (starting one costs
a few seconds). The tests kill workers and the scheduler for real; every wait
is on a condition. The errors of a scheduler address that cannot be used are
tested against loopback services of the test's own and a name under
``.invalid``, which never resolves.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pypdf
import pytest
from conftest import MINIMAL, invoke_cli, normalised_page_texts, write_monograph
from waiting import PATIENCE

import medpdf
from medpdf import products as build
from medpdf.cluster import trust
from medpdf.errors import ClusterError, UsageError
from medpdf.run.cache import presentation_fingerprint
from medpdf.run.contract import RunContext
from medpdf.run.workers import Failure, Limits
from medpdf.settings import config

pytestmark = pytest.mark.cluster

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

from local_cluster import (  # noqa: E402
    Tls,
    dask_cluster,
    is_daemon,
    kills_its_worker,
    misbehaving,
    set_version,
    square,
    wait_for,
)

from medpdf.cluster import client as cluster_client  # noqa: E402  (needs distributed)

TITLES = ["Abrelin", "Brantix", "Cortinel", "Dexomar", "Ebrovan", "Fantorel"]
EPOCH = "1893456000"  # 2030-01-01: every build of this module prints the same date
#: Scheduler settings of the module's cluster (the workers keep Dask's defaults).
SCHEDULER_SETTINGS = {
    # A task whose worker dies twice is given up (Dask's default is 3 deaths).
    "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
    # One task per one-thread worker at a time: a worker that dies takes only the
    # task it was running (Dask counts a death against every task a worker holds).
    "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a stock scheduler with two stock workers, stopped after the module."""
    folder = tmp_path_factory.mktemp("dask")
    with dask_cluster(folder, workers=2, scheduler_settings=SCHEDULER_SETTINGS) as running:
        yield running.address


@pytest.fixture
def control(cluster: str) -> Iterator[distributed.Client]:
    """The test's own client, to look at and tamper with the workers."""
    with distributed.Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=PATIENCE)
        yield client


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cluster") / "content"
    for title in TITLES:
        write_monograph(folder, title.lower(), MINIMAL.format(title=title))
    return folder


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)  # no medpdf.toml of the repository is read


@pytest.fixture(scope="module")
def local(content: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same collection built by the local pool: what the cluster must reproduce."""
    output = tmp_path_factory.mktemp("local") / "output"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        args = ["build", "--content", str(content), "-j", "2"]
        patch.chdir(output.parent)
        result = invoke_cli(*args)
    assert result.exit_code == 0, result.output
    return output


def pages_of(output: Path) -> dict[str, list[str]]:
    found = {p.name: normalised_page_texts(p) for p in (output / "handouts").glob("*.pdf")}
    if (output / "booklet.pdf").exists():
        found["booklet.pdf"] = normalised_page_texts(output / "booklet.pdf")
    return found


def test_the_cluster_makes_the_same_pdfs_as_the_local_pool(
    cluster: str, content: Path, local: Path, tmp_path: Path
):
    args = ["build", "--content", str(content), "--scheduler", cluster]
    result = invoke_cli(*args)
    assert result.exit_code == 0, result.output
    assert f"handouts: {len(TITLES)} built" in result.stderr
    expected = pages_of(local)
    assert len(expected) == len(TITLES) + 1
    assert pages_of(tmp_path / "output") == expected
    again = invoke_cli(*args)  # the cache is the same as a local build's
    assert f"handouts: 0 built, {len(TITLES)} unchanged" in again.stderr


def test_two_variants_are_built_in_one_run_on_the_cluster(
    cluster: str, content: Path, tmp_path: Path
):
    file = tmp_path / "variants.toml"
    file.write_text('[a4]\npaper = "a4"\n[big]\nmatrix.paper = ["letter"]\nlarge_print = true\n')
    args = ["build", "--content", str(content), "--variants", str(file)]
    result = invoke_cli(*args, "--scheduler", cluster)
    assert result.exit_code == 0, result.output
    for name, width in (("a4", 595), ("big-letter", 612)):
        assert f"{name}: handouts: {len(TITLES)} built" in result.stderr
        handout = pypdf.PdfReader(tmp_path / "output" / name / "handouts" / "abrelin.pdf")
        assert round(float(handout.pages[0].mediabox.width)) == width
    booklets = [
        pypdf.PdfReader(tmp_path / "output" / n / "booklet.pdf") for n in ("a4", "big-letter")
    ]
    assert len(booklets[1].pages) > len(booklets[0].pages)  # large print runs longer


def kill_one_worker_on_first_result(
    pid: int,
) -> Callable[[str, int], contextlib.AbstractContextManager[Callable[[int], None]]]:
    killed = threading.Event()

    @contextlib.contextmanager
    def progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
        def advance(_: int) -> None:
            if not killed.is_set():
                killed.set()
                os.kill(pid, signal.SIGKILL)

        yield advance

    return progress


def test_a_worker_killed_mid_build_costs_nothing_and_the_pdfs_are_the_same(
    cluster: str,
    control: distributed.Client,
    content: Path,
    local: Path,
    tmp_path: Path,
):
    victim = min(control.run(os.getpid).values())
    settings = config.make(content_dir=content, output_dir=tmp_path / "output")
    context = RunContext.of(settings)
    with cluster_client.connect(cluster, context.presentation) as remote:
        report = build.run(
            context,
            handouts=True,
            booklet_target=settings.booklet_path,
            progress=kill_one_worker_on_first_result(victim),
            runners=remote.runner,
        )
    assert report.problems == []
    assert len(report.handouts.built) == len(TITLES)  # type: ignore[union-attr]
    assert victim not in control.run(os.getpid).values()
    assert pages_of(tmp_path / "output") == pages_of(local)


def test_a_task_that_kills_its_worker_every_time_is_given_up_and_the_rest_finish(
    cluster: str, control: distributed.Client
):
    with (
        cluster_client.connect(cluster, presentation()) as remote,
        remote.runner(Limits(jobs=1, seconds=PATIENCE)) as runner,
    ):
        results = {o.item: o.result for o in runner.run(kills_its_worker, range(6))}
    assert {n: results[n] for n in (0, 1, 2, 4, 5)} == {0: 0, 1: 1, 2: 4, 4: 16, 5: 25}
    failure = results[3]
    assert isinstance(failure, Failure)
    assert failure.message.startswith("its Dask worker died each of the 2 times it ran")
    assert "\n" not in failure.message


def test_time_and_memory_limits_hold_for_each_render_on_a_stock_daemonic_worker(
    cluster: str, control: distributed.Client
):
    # What an operator's `dask worker` gives: a daemon process, which may start no
    # multiprocessing children. The render child is started with subprocess instead.
    assert set(control.run(is_daemon).values()) == {True}
    limits = Limits(jobs=1, seconds=PATIENCE, memory_mib=256)
    kinds = ["sleep", "memory", "print", "ok"]
    with (
        cluster_client.connect(cluster, presentation()) as remote,
        remote.runner(limits) as runner,
    ):
        # Only the sleeper has a short limit: a render child started on a busy
        # machine may take longer than 2 s to finish the others.
        short = lambda kind: 2 if kind == "sleep" else PATIENCE  # noqa: E731
        results = {o.item: o.result for o in runner.run(misbehaving, kinds, seconds=short)}
    assert results["ok"] == "ok"
    assert results["print"] == "print"
    assert results["sleep"] == Failure("rendering took longer than the 2 s limit and was stopped")
    assert results["memory"] == Failure("rendering needed more than the 256 MiB memory limit")


def presentation() -> str:
    return presentation_fingerprint(config.DEFAULT_RESOURCES)


def test_a_worker_with_another_medpdf_version_stops_the_build_with_one_line(
    cluster: str, control: distributed.Client, content: Path, tmp_path: Path
):
    control.run(set_version, "0.0.0-other")
    try:
        args = ["handouts", "--content", str(content), "--scheduler", cluster]
        result = invoke_cli(*args)
    finally:
        control.run(set_version, medpdf.__version__)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("medpdf: error: Dask worker tcp://")
    assert lines[0].endswith(
        f"runs medpdf 0.0.0-other, this build medpdf {medpdf.__version__}: "
        "install the same medpdf on every worker"
    )
    assert list((tmp_path / "output" / "handouts").glob("*.pdf")) == []


def test_a_worker_with_other_presentation_files_is_refused(cluster: str):
    with (
        cluster_client.connect(cluster, "another-fingerprint") as remote,
        remote.runner(Limits(jobs=1)) as runner,
        pytest.raises(ClusterError, match="other medpdf code, libraries or presentation files"),
    ):
        list(runner.run(square, [1, 2]))


# --------------------------------------------------------------------------- unusable addresses


@contextlib.contextmanager
def service(kind: str) -> Iterator[str]:
    """A loopback TCP service that is no Dask scheduler; yields its ``tcp://`` address.

    ``banner`` speaks first (as SSH or SMTP do), ``http`` answers what it is sent
    with an HTTP error, ``close`` closes each connection at once.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                if kind == "banner":
                    connection.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
                elif kind == "http":
                    connection.recv(4096)
                    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                if kind != "close":
                    connection.settimeout(30)
                    with contextlib.suppress(OSError):
                        connection.recv(4096)  # until the client hangs up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux); close() does not
        listener.close()
        thread.join()


@contextlib.contextmanager
def closed_port() -> Iterator[str]:
    """A loopback port bound by nobody listening: a connection to it is refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))  # bound, never listening: no one else can take it
        yield f"tcp://127.0.0.1:{holder.getsockname()[1]}"


def build_failing(content: Path, *args: str) -> tuple[str, float]:
    """``medpdf build`` that must fail with exit 1: its standard error and how long it took.

    Dask's connect timeout is set far above anything these errors may take, so an
    error that waited for it instead of saying what happened fails the test.
    """
    with dask.config.set({"distributed.comm.timeouts.connect": "300s"}):
        started = time.monotonic()
        result = invoke_cli("build", "--content", str(content), *args)
        seconds = time.monotonic() - started
    assert result.exit_code == 1, result.output
    return result.stderr, seconds


@pytest.mark.parametrize("kind", ["banner", "http"])
def test_a_service_that_is_not_a_dask_scheduler_is_one_line_at_once(
    kind: str, content: Path, tmp_path: Path
):
    with service(kind) as address:
        stderr, seconds = build_failing(content, "--scheduler", address)
    assert stderr == (
        f"medpdf: error: {address} is not a Dask scheduler: "
        "what answers there does not speak Dask's protocol\n"
    )
    assert seconds < 150, f"took {seconds:.1f} s: it waited for the connect timeout"
    assert not list(tmp_path.rglob("*.pdf"))


def test_a_service_that_closes_the_connection_is_one_line_without_dask_internals(
    content: Path, tmp_path: Path
):
    with service("close") as address:
        stderr, seconds = build_failing(content, "--scheduler", address)
    assert stderr == (
        f"medpdf: error: {address} closed the connection without a Dask greeting: "
        "is it a Dask scheduler? (one that wants tls:// closes tcp:// connections)\n"
    )
    assert seconds < 150, f"took {seconds:.1f} s: it waited for the connect timeout"


def test_nothing_listening_is_said_at_once(content: Path, tmp_path: Path):
    with closed_port() as address:
        stderr, seconds = build_failing(content, "--scheduler", address)
    assert stderr == (
        f"medpdf: error: cannot reach the Dask scheduler at {address}: nothing listens on "
        "that port (connection refused); is `dask scheduler` running?\n"
    )
    assert seconds < 150, f"took {seconds:.1f} s: it waited for the connect timeout"
    assert not list(tmp_path.rglob("*.pdf"))


def test_a_host_name_that_does_not_resolve_is_said_at_once(content: Path):
    # .invalid never resolves (RFC 6761); --scheduler-insecure: a name is another machine.
    address = "tcp://render-1.invalid:8786"
    stderr, seconds = build_failing(content, "--scheduler", address, "--scheduler-insecure")
    assert stderr == (
        f"medpdf: error: cannot reach the Dask scheduler at {address}: "
        "the host name render-1.invalid does not resolve\n"
    )
    assert seconds < 150, f"took {seconds:.1f} s: it waited for the connect timeout"


def test_a_tls_address_without_dask_tls_settings_is_one_line(content: Path):
    with closed_port() as address:
        tls = address.replace("tcp://", "tls://")
        stderr, _ = build_failing(content, "--scheduler", tls)
    assert stderr == (
        f"medpdf: error: {tls} is a tls:// address but Dask's settings hold no client "
        "certificate: set distributed.comm.tls.ca-file, .client.cert and .client.key "
        "(Dask's configuration)\n"
    )


def test_a_tls_cluster_builds_and_a_client_without_its_certificate_is_one_line(
    content: Path, tmp_path: Path
):
    tls = Tls.make(tmp_path)
    with dask_cluster(tmp_path / "tls", workers=1, tls=tls) as secure:
        assert secure.address.startswith("tls://127.0.0.1:")
        with dask.config.set(tls.client_settings):
            built = invoke_cli("handouts", "--content", str(content), "--scheduler", secure.address)
        assert built.exit_code == 0, built.output
        assert f"handouts: {len(TITLES)} built" in built.stderr
        stranger = Tls.make(tmp_path / "stranger")  # a certificate of another authority
        shutil.rmtree(tmp_path / "output")  # work to do again
        with dask.config.set(stranger.client_settings):
            stderr, _ = build_failing(content, "--scheduler", secure.address)
        plain = secure.address.replace("tls://", "tcp://")
        shutil.rmtree(tmp_path / "output", ignore_errors=True)
        plain_stderr, _ = build_failing(content, "--scheduler", plain)
    assert stderr.startswith(
        f"medpdf: error: cannot reach the Dask scheduler at {secure.address}: "
        "the TLS handshake failed ("
    )
    assert stderr.endswith(
        "); check Dask's settings distributed.comm.tls.ca-file, .client.cert and .client.key\n"
    )
    assert plain_stderr == (
        f"medpdf: error: {plain} closed the connection without a Dask greeting: "
        "is it a Dask scheduler? (one that wants tls:// closes tcp:// connections)\n"
    )


#: ``medpdf ARGS`` in this process, then the Dask modules it imported, as JSON.
BUILD_AND_LIST_DASK = """
import json, sys
from medpdf.cli import main
sys.argv = ["medpdf", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))))
"""


def test_an_unchanged_rebuild_needs_no_scheduler(content: Path, tmp_path: Path):
    first = invoke_cli("build", "--content", str(content), "-j", "2")
    assert first.exit_code == 0, first.output
    booklet = (tmp_path / "output" / "booklet.pdf").read_bytes()
    with closed_port() as address:  # in a process of its own: to see what it imports
        args = ["build", "--content", str(content), "--scheduler", address]
        again = subprocess.run(
            [sys.executable, "-c", BUILD_AND_LIST_DASK, *args],
            capture_output=True,
            text=True,
            check=False,
        )
    assert again.returncode == 0, again.stderr
    assert f"handouts: 0 built, {len(TITLES)} unchanged" in again.stderr
    assert "(0 chunks laid out, " in again.stderr
    assert again.stdout.strip().splitlines()[-1] == "[]"  # no Dask module was imported
    assert (tmp_path / "output" / "booklet.pdf").read_bytes() == booklet
    # One changed monograph is work: then the scheduler is needed, and its absence said.
    changed = tmp_path / "content"
    for source in content.glob("*.md"):
        write_monograph(changed, source.stem, source.read_text(encoding="utf-8"))
    write_monograph(changed, "abrelin", MINIMAL.format(title="Abrelin") + "\nEdited.\n")
    with closed_port() as address:
        stderr, _ = build_failing(changed, "--scheduler", address)
    assert "nothing listens on that port (connection refused)" in stderr


# --------------------------------------------------------------------------- who gets tasks


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:8786",
        "tcp://127.8.9.10:8786",
        "tcp://[::1]:8786",
        "tcp://localhost:8786",
        "tcp://LOCALHOST:8786",
        "tcp://[::ffff:127.0.0.1]:8786",
        "tls://192.0.2.10:8786",
        "tls://render-1.clinic.example:8786",
    ],
)
def test_loopback_and_tls_schedulers_need_no_leave(address: str):
    trust.check(address, insecure=False)


@pytest.mark.parametrize(
    "address",
    [
        "tcp://192.0.2.10:8786",
        "tcp://0.0.0.0:8786",
        "tcp://10.1.2.3:8786",
        "tcp://[2001:db8::1]:8786",
        "tcp://render-1.clinic.example:8786",
        "tcp://localhost.clinic.example:8786",
    ],
)
def test_plain_tcp_to_another_machine_needs_scheduler_insecure(address: str):
    with pytest.raises(UsageError, match="refusing to send renders over plain TCP"):
        trust.check(address, insecure=False)
    trust.check(address, insecure=True)


def test_plain_tcp_to_another_machine_is_refused_before_any_traffic(
    monkeypatch: pytest.MonkeyPatch, content: Path, tmp_path: Path
):
    attempts: list[object] = []

    def no_traffic(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError("the network was used")

    for module, name in [(socket, "getaddrinfo"), (socket, "create_connection"),
                         (socket.socket, "connect"), (socket.socket, "connect_ex")]:  # fmt: skip
        monkeypatch.setattr(module, name, no_traffic)
    for address in ("tcp://192.0.2.10:8786", "render-1.clinic.example:8786"):
        result = invoke_cli("build", "--content", str(content), "--scheduler", address)
        assert result.exit_code == 2, result.output
        shown = address if "://" in address else f"tcp://{address}"
        assert result.stderr == (
            f"medpdf: error: refusing to send renders over plain TCP to the Dask scheduler at "
            f"{shown}, which is not on this computer: anyone on the network between could read "
            "the tasks and alter the PDFs that come back. Use a tls:// address (with Dask's TLS "
            "settings), or, on a private network you trust, --scheduler-insecure "
            "(scheduler_insecure = true under [build] in medpdf.toml)\n"
        )
    assert attempts == []
    assert not (tmp_path / "output").exists()


def test_scheduler_insecure_can_be_set_in_medpdf_toml(content: Path, tmp_path: Path):
    (tmp_path / "medpdf.toml").write_text(
        '[build]\nscheduler = "tcp://render-1.invalid:8786"\nscheduler_insecure = true\n'
    )
    stderr, _ = build_failing(content)
    assert stderr.endswith("the host name render-1.invalid does not resolve\n")


# --------------------------------------------------------------------------- lost scheduler


def render_children(workers: list[subprocess.Popen[bytes]]) -> list[psutil.Process]:
    """The render children under these ``dask worker`` processes (nanny, worker, child)."""
    found = []
    for worker in workers:
        for process in psutil.Process(worker.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "medpdf.cluster.child" in process.cmdline():
                    found.append(process)
    return found


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_scheduler_lost_mid_build_is_one_line_the_workers_stop_and_a_new_cluster_resumes(
    tmp_path: Path,
):
    content = tmp_path / "content"
    slugs = [f"drug-{i:02d}" for i in range(16)]
    for slug in slugs:
        write_monograph(content, slug, MINIMAL.format(title=slug.title()))
    medpdf_bin = str(Path(sys.executable).parent / "medpdf")
    handouts = tmp_path / "output" / "handouts"
    with dask_cluster(tmp_path / "first", workers=1) as first:
        args = [medpdf_bin, "handouts", "--content", str(content), "--scheduler", first.address]
        with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as building:
            wait_for(lambda: any(handouts.glob("*.pdf")), what="the first handout")
            children = render_children(first.workers)
            assert children, first.log_text()
            first.scheduler.kill()
            assert building.wait(timeout=PATIENCE) == 1
            assert building.stderr is not None
            stderr = building.stderr.read().decode()
        # A stock worker whose scheduler is gone closes itself, its render child with it.
        wait_for(lambda: all(w.poll() is not None for w in first.workers), what="workers to stop")
        wait_for(lambda: all(gone(c) for c in children), what="render children to stop")
        assert "/medpdf/" not in first.log_text()  # no traceback through medpdf's code
    assert stderr == (
        f"medpdf: error: lost the Dask scheduler at {first.address}; every PDF finished before "
        "is kept and the next build goes on from there\n"
    )
    kept = sorted(handouts.glob("*.pdf"))
    assert 0 < len(kept) < len(slugs)
    assert not list(handouts.glob(".*"))  # no temporary file left behind
    for pdf in kept:
        assert len(pypdf.PdfReader(pdf).pages) >= 1
    # What docs/running/cluster.md tells an operator: start a scheduler and workers, build again.
    with dask_cluster(tmp_path / "second", workers=1) as second:
        resumed = invoke_cli("handouts", "--content", str(content), "--scheduler", second.address)
    assert resumed.exit_code == 0, resumed.output
    built = len(slugs) - len(kept)
    assert f"handouts: {built} built, {len(kept)} unchanged" in resumed.stderr
