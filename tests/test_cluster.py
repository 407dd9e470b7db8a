"""Builds on a real Dask cluster: a LocalCluster of two worker processes on this machine.

One cluster serves the module (starting one costs a few seconds). The tests
kill workers and the scheduler for real; every wait is on a condition.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdf
import pytest
from conftest import MINIMAL, invoke_cli, normalised_page_texts, write_monograph
from waiting import PATIENCE

import medpdf
from medpdf import build, config
from medpdf.build.render import RunContext
from medpdf.cache import presentation_fingerprint
from medpdf.errors import ClusterError
from medpdf.workers import Failure, Limits

pytestmark = pytest.mark.cluster

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

from local_cluster import kills_its_worker, misbehaving, set_version, square  # noqa: E402

from medpdf.cluster import client as cluster_client  # noqa: E402  (needs distributed)

TITLES = ["Abrelin", "Brantix", "Cortinel", "Dexomar", "Ebrovan", "Fantorel"]
EPOCH = "1893456000"  # 2030-01-01: every build of this module prints the same date
HERE = Path(__file__).resolve().parent


def wait_for(check: Callable[[], bool], seconds: float = PATIENCE, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def started(
    *args: str, env: dict[str, str] | None = None, stdin: int | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        stdin=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a LocalCluster of two worker processes, run in a process of its own."""
    address_file = tmp_path_factory.mktemp("scheduler") / "address"
    script = str(HERE / "local_cluster.py")
    with started(sys.executable, script, str(address_file), stdin=subprocess.PIPE) as process:
        wait_for(lambda: address_file.exists() or process.poll() is not None, what="the cluster")
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield address_file.read_text(encoding="utf-8")
        assert process.stdin is not None
        process.stdin.close()  # the cluster closes itself
        process.wait(timeout=PATIENCE)


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


def test_time_and_memory_limits_hold_for_each_render_on_a_worker(
    cluster: str, control: distributed.Client
):
    limits = Limits(jobs=1, seconds=2, memory_mib=256)
    with (
        cluster_client.connect(cluster, presentation()) as remote,
        remote.runner(limits) as runner,
    ):
        results = {o.item: o.result for o in runner.run(misbehaving, ["sleep", "memory", "ok"])}
    assert results["ok"] == "ok"
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


def test_an_unreachable_scheduler_is_one_line_and_nothing_is_written(tmp_path: Path, content: Path):
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = invoke_cli("build", "--content", str(content), "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 1
    assert result.stderr == (
        "medpdf: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9 "
        "(no answer within 2 s); is `dask scheduler` running there?\n"
    )
    assert not (tmp_path / "output").exists()


# --------------------------------------------------------------------------- lost scheduler


def test_a_scheduler_lost_mid_build_is_one_line_and_the_next_build_resumes(tmp_path: Path):
    content = tmp_path / "content"
    slugs = [f"drug-{i:02d}" for i in range(16)]
    for slug in slugs:
        write_monograph(content, slug, MINIMAL.format(title=slug.title()))
    bin_dir = Path(sys.executable).parent
    address_file = tmp_path / "scheduler.json"
    scheduler_args = ["scheduler", "--port", "0", "--no-dashboard"]
    with (
        started(
            str(bin_dir / "dask"), *scheduler_args, "--scheduler-file", str(address_file)
        ) as scheduler,
    ):
        wait_for(
            lambda: address_file.exists() and address_file.stat().st_size > 0, what="scheduler"
        )
        worker_args = ["worker", "--scheduler-file", str(address_file), "--nthreads", "1"]
        env = {"DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
        with started(str(bin_dir / "dask"), *worker_args, "--no-dashboard", env=env):
            import json

            address = json.loads(address_file.read_text())["address"]
            handouts = tmp_path / "output" / "handouts"
            medpdf_bin = str(bin_dir / "medpdf")
            build_args = [medpdf_bin, "handouts", "--content", str(content), "--scheduler", address]
            with started(*build_args) as building:
                wait_for(lambda: any(handouts.glob("*.pdf")), what="the first handout")
                scheduler.kill()
                assert building.wait(timeout=PATIENCE) == 1
                assert building.stderr is not None
                stderr = building.stderr.read().decode()
    assert stderr == (
        f"medpdf: error: lost the Dask scheduler at {address}; every PDF finished before "
        "is kept and the next build goes on from there\n"
    )
    kept = sorted(handouts.glob("*.pdf"))
    assert 0 < len(kept) < len(slugs)
    assert not list(handouts.glob(".*"))  # no temporary file left behind
    for pdf in kept:
        assert len(pypdf.PdfReader(pdf).pages) >= 1
    resumed = invoke_cli("handouts", "--content", str(content), "-j", "2")
    assert resumed.exit_code == 0, resumed.output
    built = len(slugs) - len(kept)
    assert f"handouts: {built} built, {len(kept)} unchanged" in resumed.stderr
