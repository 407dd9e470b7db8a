"""Variants on the local pool against a Dask cluster on this machine (issue 16).

What is measured, in one run:

1. **local pool**: ``medpdf build --variants FILE --content SAMPLE`` (4 variants:
   A4/Letter x normal/large print) into a fresh ``output/``, as a child process
   timed from start to exit, its peak memory the largest summed RSS of its
   process tree (see ``benchmarks/_common.py``).
2. For each worker count of ``--workers`` (default ``1,2``): a scheduler and
   that many workers started with the real commands (``dask scheduler``,
   ``dask worker --nworkers N --nthreads 1``, Dask's defaults otherwise: nanny
   on, daemonic workers, every process on 127.0.0.1), then the same build with ``--scheduler``
   into a fresh ``output/``. Peak memory is taken for the client (the medpdf
   process tree) and for each worker process tree (its render processes
   included), sampled from /proc. The cluster is stopped afterwards.
3. **per-task overhead**, on the 2-worker cluster: 200 no-op tasks through
   medpdf's own Dask runner (version check, worker's render child, result back),
   wall time per task with both workers busy.
4. **bytes per task**: the pickled size of every handout task of the sample
   (what crosses the network to a worker: source text, options, fingerprint)
   and the PDF that comes back, on average and at most.

Handouts per second = handouts written over all variants / wall time of the build.
Goal (from the issue): the 2-worker cluster costs at most 10% more wall time
than the local pool for the same work.

Usage (from the repository root; needs ``pip install -e '.[cluster]'``)::

    .venv/bin/python benchmarks/variants.py                  # 4 x 300 monographs
    .venv/bin/python benchmarks/variants.py --sample 20 --workers 2   # quick check
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from _common import (
    DEFAULT_CORPUS,
    BenchmarkError,
    Measured,
    TreeSampler,
    copy_sample,
    corpus_files,
    even_sample,
    medpdf_argv,
    positive_int,
    print_environment,
    print_table,
    require_corpus,
    run_measured,
    scratch_folder,
    verdict,
)

VARIANTS = """\
[print]
matrix.paper = ["a4", "letter"]
matrix.large_print = [false, true]
"""
VARIANT_COUNT = 4
LINE = re.compile(
    r"^(?P<variant>[\w-]+): handouts: (?P<built>\d+) built, .*\((?P<pages>\d+) pages\)", re.M
)
BOOKLET_LINE = re.compile(
    r"^(?P<variant>[\w-]+): booklet: .* \((?P<chunks>\d+) chunks laid out", re.M
)
DASK = str(Path(sys.executable).parent / "dask")


def handouts_of(run: Measured, what: str) -> tuple[int, int, int]:
    """Handouts built, their pages and booklet chunks laid out, over every variant."""
    found = LINE.findall(run.stderr)
    chunks = BOOKLET_LINE.findall(run.stderr)
    if run.returncode not in (0, 1) or len(found) != VARIANT_COUNT:
        tail = " | ".join(run.stderr.strip().splitlines()[-3:])
        raise BenchmarkError(f"{what}: medpdf exited {run.returncode}: {tail}")
    built = sum(int(b) for _, b, _ in found)
    pages = sum(int(p) for _, _, p in found)
    return built, pages, sum(int(c) for _, c in chunks)


def wait_for(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise BenchmarkError(f"timed out waiting for {what}")
        time.sleep(0.1)


#: Every process of the benchmark's cluster listens on loopback only, without a dashboard.
LOOPBACK = ("--host", "127.0.0.1", "--no-dashboard")


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int) -> Iterator[tuple[str, list[int]]]:
    """A scheduler and ``workers`` one-thread workers, started as an administrator would."""
    address_file = folder / f"scheduler-{workers}.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [DASK, "scheduler", *LOOPBACK, "--port", "0", "--scheduler-file", str(address_file)],
        **quiet,  # type: ignore[call-overload]
    )
    pool = None
    try:
        wait_for(lambda: address_file.exists() and address_file.stat().st_size, 60, "scheduler")
        address = json.loads(address_file.read_text())["address"]
        worker_args = ["--nworkers", str(workers), "--nthreads", "1", "--memory-limit", "0"]
        pool = subprocess.Popen(
            [DASK, "worker", address, *worker_args, *LOOPBACK],
            **quiet,  # type: ignore[call-overload]
        )
        from distributed import Client

        with Client(address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(workers, timeout=120)
            pids = sorted(client.run(os.getpid).values())
        yield address, pids
    finally:
        for process in (pool, scheduler):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def cluster_build(
    folder: Path, content: Path, variants: Path, workers: int
) -> tuple[Measured, list[float]]:
    """The build on a fresh cluster of ``workers``; peak MiB of each worker's process tree."""
    with dask_cluster(folder, workers) as (address, pids):
        samplers = [TreeSampler(pid) for pid in pids]
        with contextlib.ExitStack() as stack:
            for sampler in samplers:
                stack.enter_context(sampler)
            run = run_measured(
                (
                    *medpdf_argv("build", "--content", str(content), "--variants", str(variants)),
                    *("--scheduler", address),
                ),
                folder,
            )
        return run, [s.peak_bytes / 2**20 for s in samplers]


def per_task_overhead(folder: Path, tasks: int = 200) -> float:
    """Seconds per no-op task through medpdf's Dask runner on a 2-worker cluster."""
    from medpdf.cluster import client
    from medpdf.run.cache import presentation_fingerprint
    from medpdf.run.workers import Limits
    from medpdf.settings.config import DEFAULT_RESOURCES

    with dask_cluster(folder, 2) as (address, _):
        presentation = presentation_fingerprint(DEFAULT_RESOURCES)
        with client.connect(address, presentation) as cluster:
            runner = cluster.runner(Limits(jobs=2))
            # abs: a no-op any process can unpickle (the render processes too).
            list(runner.run(abs, range(4)))  # start each worker's render child
            started = time.perf_counter()
            list(runner.run(abs, range(tasks)))
            return (time.perf_counter() - started) / tasks


def bytes_per_task(content: Path) -> tuple[float, int, float, int]:
    """Mean and largest pickled handout task, mean and largest PDF (from the local build)."""
    from medpdf import __version__
    from medpdf.cluster import remote
    from medpdf.content import sources
    from medpdf.products.handouts import HandoutJob, handout_pdf
    from medpdf.run.contract import RunContext
    from medpdf.settings import config

    context = RunContext.of(config.make(content_dir=content))
    sent = []
    for path in sources.discover(content):
        job = HandoutJob(sources.read(path), context, Path("x.pdf"))
        call = remote.Call(handout_pdf, job, 120.0, 1024, 200, __version__, context.presentation)
        sent.append(len(pickle.dumps(call, protocol=5)))
    pdfs = [p.stat().st_size for p in content.parent.glob("local/output/*/handouts/*.pdf")]
    if not pdfs:
        raise BenchmarkError("no handouts in the local build to size")
    return sum(sent) / len(sent), max(sent), sum(pdfs) / len(pdfs), max(pdfs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sample", type=positive_int, default=300)
    parser.add_argument("--workers", default="1,2", help="worker counts to try, e.g. 1,2")
    parser.add_argument("--keep", type=Path, default=None, help="keep outputs in this folder")
    args = parser.parse_args(argv)
    corpus = require_corpus(args.corpus, "variants.py")
    counts = [int(n) for n in args.workers.split(",")]
    print_environment(corpus, [("sample", f"{args.sample} monographs x {VARIANT_COUNT} variants")])
    with scratch_folder(args.keep, "medpdf-variants-") as folder:
        content = folder / "content"
        copy_sample(even_sample(corpus_files(corpus), args.sample), corpus, content)
        variants = folder / "variants.toml"
        variants.write_text(VARIANTS, encoding="utf-8")
        (folder / "local").mkdir()
        local = run_measured(
            medpdf_argv("build", "--content", str(content), "--variants", str(variants)),
            folder / "local",
        )
        built, pages, chunks = handouts_of(local, "local pool")
        rows = [
            [
                "local pool",
                f"{local.seconds:.1f}",
                f"{built}",
                f"{built / local.seconds:.2f}",
                f"{local.peak_mib:.0f}",
                "-",
            ]
        ]
        walls = {}
        for workers in counts:
            (folder / f"cluster-{workers}").mkdir()
            run, peaks = cluster_build(folder / f"cluster-{workers}", content, variants, workers)
            done, done_pages, _ = handouts_of(run, f"{workers}-worker cluster")
            if (done, done_pages) != (built, pages):
                raise BenchmarkError(
                    f"{workers}-worker cluster made {done} handouts ({done_pages} pages), "
                    f"the local pool {built} ({pages} pages)"
                )
            walls[workers] = run.seconds
            rows.append(
                [
                    f"cluster, {workers} worker{'s' if workers > 1 else ''}",
                    f"{run.seconds:.1f}",
                    f"{done}",
                    f"{done / run.seconds:.2f}",
                    f"{run.peak_mib:.0f}",
                    " / ".join(f"{p:.0f}" for p in peaks),
                ]
            )
        overhead = per_task_overhead(folder)
        sent_mean, sent_max, pdf_mean, pdf_max = bytes_per_task(content)
    print()
    headers = ["build", "wall s", "handouts", "handouts/s", "client MiB", "worker MiB"]
    print_table(headers, rows)
    print()
    tasks = built + chunks
    print(f"tasks per build: {built} handouts + {chunks} booklet chunks (+ front pages)")
    print(f"per-task overhead, no-op task, 2 workers: {overhead * 1000:.1f} ms")
    print(f"bytes sent per handout task: mean {sent_mean:.0f}, max {sent_max}")
    print(f"bytes back per handout (PDF): mean {pdf_mean:.0f}, max {pdf_max}")
    if 2 in walls:
        extra = walls[2] / local.seconds - 1
        print(
            f"2-worker cluster vs local pool: {extra:+.1%} wall time "
            f"({(walls[2] - local.seconds) / tasks * 1000:+.1f} ms per task); "
            f"goal at most +10%: {verdict(extra <= 0.10)}"
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as exc:
        print(f"variants.py: error: {exc}", file=sys.stderr)
        sys.exit(1)
