"""End-to-end timing of ``medpdf handout`` against a naive markdown-it + WeasyPrint script.

Both are run the same way: one child process per handout, wall time measured in
this process with ``time.perf_counter`` around ``subprocess.run``, one warm-up
run each that is not counted, and the runs of the two interleaved (alternating
which goes first) so that drift in machine load hits both alike. Peak RSS of
each child comes from GNU ``/usr/bin/time -f %M`` when available, else from
psutil polling, else it is left out. Then the cached repeat: the same command
without ``-o`` into a fresh output folder, once, and again ``--runs`` times
(each must report the handout unchanged). The goals are printed with PASS/FAIL;
the cold one is judged on the median of the paired ratios, which cancels drift
in the machine's speed between pairs, and the ratio of the medians is printed
beside it.

Usage (from the repository root)::

    .venv/bin/python benchmarks/handout.py --runs 5 --corpus-sample 20
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT = REPO / "content"
CORPUS = REPO.parent / "shared" / "corpus"
GNU_TIME = Path("/usr/bin/time")
PSUTIL_POLL_SECONDS = 0.01

#: The baseline, shared with handouts.py: what someone would write in ten minutes.
NAIVE_SCRIPT = Path(__file__).resolve().parent / "naive_handouts.py"


class BenchmarkError(Exception):
    """A failure that ends the benchmark with a one-line message and exit status 1."""


@dataclass(frozen=True)
class Run:
    """One child process: its wall time and, when measurable, its peak RSS."""

    seconds: float
    peak_rss_kib: int | None


@dataclass(frozen=True)
class Job:
    """How to render one handout with one tool."""

    tool: str
    label: str
    argv: tuple[str, ...]
    output: Path


class MemoryProbe:
    """Runs a command and reports its wall time and peak RSS (if any method is available)."""

    def __init__(self) -> None:
        self._psutil: Any = None
        self.method = "none"
        if GNU_TIME.is_file() and os.access(GNU_TIME, os.X_OK) and self._gnu_time_works():
            self.method = "gnu-time"
        else:
            with contextlib.suppress(ImportError):
                self._psutil = importlib.import_module("psutil")
                self.method = "psutil"

    @staticmethod
    def _gnu_time_works() -> bool:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "rss"
            done = subprocess.run(
                [str(GNU_TIME), "-f", "%M", "-o", str(report), sys.executable, "-c", "pass"],
                capture_output=True,
                check=False,
            )
            return done.returncode == 0 and _parse_gnu_time(report) is not None

    def describe(self) -> str:
        """How peak RSS is measured, for the report."""
        if self.method == "gnu-time":
            return f"{GNU_TIME} -f %M (ru_maxrss of the child as reported by the kernel)"
        if self.method == "psutil":
            return (
                f"psutil RSS sampled every {PSUTIL_POLL_SECONDS * 1000:.0f} ms "
                "(a lower bound on the true peak)"
            )
        return "not measured (neither /usr/bin/time nor psutil available)"

    def run(
        self, argv: Sequence[str], scratch: Path, cwd: Path = REPO
    ) -> tuple[Run, subprocess.CompletedProcess[str]]:
        """Run ``argv`` in ``cwd`` to completion and time it."""
        if self.method == "gnu-time":
            report = scratch / "peak-rss.txt"
            report.unlink(missing_ok=True)
            wrapped = [str(GNU_TIME), "-f", "%M", "-o", str(report), *argv]
            started = time.perf_counter()
            done = subprocess.run(wrapped, cwd=cwd, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - started
            return Run(elapsed, _parse_gnu_time(report)), done
        if self.method == "psutil":
            return self._run_psutil(argv, cwd)
        started = time.perf_counter()
        done = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
        return Run(time.perf_counter() - started, None), done

    def _run_psutil(
        self, argv: Sequence[str], cwd: Path
    ) -> tuple[Run, subprocess.CompletedProcess[str]]:
        psutil = self._psutil
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            child = subprocess.Popen(list(argv), cwd=cwd, stdout=out, stderr=err, text=True)
            peak = 0
            try:
                watched = psutil.Process(child.pid)
                while child.poll() is None:
                    with contextlib.suppress(psutil.Error):
                        peak = max(peak, int(watched.memory_info().rss))
                    time.sleep(PSUTIL_POLL_SECONDS)
            except psutil.Error:
                pass
            returncode = child.wait()
            elapsed = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            done = subprocess.CompletedProcess(list(argv), returncode, out.read(), err.read())
        return Run(elapsed, peak // 1024 if peak else None), done


def _parse_gnu_time(report: Path) -> int | None:
    """GNU time writes 'Command exited with non-zero status N' before the value on failure."""
    try:
        lines = report.read_text(encoding="utf-8").split()
    except OSError:
        return None
    if not lines or not lines[-1].isdigit():
        return None
    return int(lines[-1])


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run_job(job: Job, probe: MemoryProbe, scratch: Path) -> Run:
    """Run one handout render and check it produced a PDF; raise BenchmarkError otherwise."""
    job.output.unlink(missing_ok=True)
    run, done = probe.run(job.argv, scratch)
    if done.returncode != 0:
        raise BenchmarkError(
            f"{job.tool} failed on {job.label} (exit {done.returncode}): "
            f"{_last_line(done.stderr or done.stdout)}"
        )
    try:
        with job.output.open("rb") as handle:
            magic = handle.read(5)
    except OSError:
        raise BenchmarkError(
            f"{job.tool} exited 0 on {job.label} but wrote no {job.output}"
        ) from None
    if magic != b"%PDF-":
        raise BenchmarkError(f"{job.tool} wrote {job.output} for {job.label} but it is not a PDF")
    return run


def page_count(pdf: Path) -> str:
    """Pages of a PDF via pypdf, or a note saying why not."""
    try:
        pypdf = importlib.import_module("pypdf")
    except ImportError:
        return "n/a (no pypdf)"
    try:
        return str(len(pypdf.PdfReader(str(pdf)).pages))
    except Exception as exc:
        return f"n/a ({type(exc).__name__})"


def medpdf_job(name: str, content: Path, output: Path, label: str | None = None) -> Job:
    """``python -m medpdf handout NAME --content DIR -o OUTPUT``."""
    argv = (
        sys.executable,
        "-m",
        "medpdf",
        "handout",
        name,
        "--content",
        str(content),
        "-o",
        str(output),
    )
    return Job("medpdf", label or name, argv, output)


def baseline_job(source: Path, out_dir: Path, label: str) -> Job:
    """``python naive_handouts.py OUT_DIR SOURCE``, which writes ``OUT_DIR/00000.pdf``."""
    argv = (sys.executable, str(NAIVE_SCRIPT), str(out_dir), str(source))
    return Job("baseline", label, argv, out_dir / "00000.pdf")


def find_source(content: Path, name: str) -> Path:
    """The .md the baseline reads: ``NAME.md`` anywhere under ``content`` (slug match)."""
    wanted = name.strip().casefold()
    for path in sorted(content.rglob("*.md")):
        if path.stem.casefold() == wanted:
            return path
    raise BenchmarkError(f"no {name}.md under {content} for the baseline to read")


def timed_pairs(
    pairs: Sequence[tuple[Job, Job]], probe: MemoryProbe, scratch: Path
) -> tuple[list[Run], list[Run]]:
    """Run each (medpdf, baseline) pair, alternating which of the two goes first."""
    medpdf_runs: list[Run] = []
    baseline_runs: list[Run] = []
    for index, (mine, naive) in enumerate(pairs):
        if index % 2 == 0:
            medpdf_runs.append(run_job(mine, probe, scratch))
            baseline_runs.append(run_job(naive, probe, scratch))
        else:
            baseline_runs.append(run_job(naive, probe, scratch))
            medpdf_runs.append(run_job(mine, probe, scratch))
    return medpdf_runs, baseline_runs


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def _rss_cell(runs: Sequence[Run]) -> str:
    values = [r.peak_rss_kib for r in runs if r.peak_rss_kib is not None]
    if len(values) != len(runs) or not values:
        return "-"
    return _mib(statistics.median(values))


def print_table(
    title: str, medpdf_runs: Sequence[Run], baseline_runs: Sequence[Run], pages: tuple[str, str]
) -> None:
    """Median/min/max seconds, median peak RSS and pages for both tools, then the ratio."""
    print(title)
    memory = any(r.peak_rss_kib is not None for r in (*medpdf_runs, *baseline_runs))
    header = f"  {'':<10}{'n':>4}{'median s':>11}{'min s':>9}{'max s':>9}"
    if memory:
        header += f"{'peak RSS MiB':>15}"
    header += f"{'pages':>10}"
    print(header)
    for tool, runs, pdf_pages in (
        ("medpdf", medpdf_runs, pages[0]),
        ("baseline", baseline_runs, pages[1]),
    ):
        seconds = [r.seconds for r in runs]
        row = (
            f"  {tool:<10}{len(runs):>4}{statistics.median(seconds):>11.3f}"
            f"{min(seconds):>9.3f}{max(seconds):>9.3f}"
        )
        if memory:
            row += f"{_rss_cell(runs):>15}"
        row += f"{pdf_pages:>10}"
        print(row)
    mine = statistics.median(r.seconds for r in medpdf_runs)
    naive = statistics.median(r.seconds for r in baseline_runs)
    ratio = mine / naive
    if ratio > 1:
        verdict = f"baseline is faster; medpdf takes {ratio:.2f}x its time"
    elif ratio < 1:
        verdict = f"medpdf is faster; it takes {ratio:.2f}x the baseline's time"
    else:
        verdict = "both take the same time"
    print(f"  ratio medpdf/baseline (medians): {ratio:.3f}  ({verdict})")


def _harfbuzz_subset() -> str:
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        listing = subprocess.run(
            [ldconfig, "-p"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return "unknown (ldconfig not runnable)"
    found = [
        line.split("=>")[-1].strip() for line in listing.splitlines() if "harfbuzz-subset" in line
    ]
    return f"yes ({', '.join(found)})" if found else "no"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def print_environment(probe: MemoryProbe) -> None:
    """What the figures depend on."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print("environment")
    print(f"  {'python':<20}{platform.python_version()} ({sys.executable})")
    print(f"  {'weasyprint':<20}{_version('weasyprint')}")
    print(f"  {'markdown-it-py':<20}{_version('markdown-it-py')}")
    print(f"  {'medpdf':<20}{_version('medpdf')}")
    print(f"  {'libharfbuzz-subset':<20}{_harfbuzz_subset()}")
    print(f"  {'nproc':<20}{affinity if affinity is not None else os.cpu_count()}")
    print(f"  {'platform':<20}{platform.platform()}")
    print(f"  {'peak RSS':<20}{probe.describe()}")


def corpus_sample(k: int) -> list[Path]:
    """``k`` monographs spread evenly over the sorted corpus (deterministic)."""
    files = sorted(
        p
        for p in CORPUS.rglob("*.md")
        if p.name.lower() != "readme.md" and not p.name.startswith((".", "_"))
    )
    if k >= len(files):
        return files
    step = len(files) / k
    return [files[int(i * step)] for i in range(k)]


def bench_main(args: argparse.Namespace, probe: MemoryProbe, scratch: Path) -> None:
    """N interleaved runs of medpdf and the baseline on one handout, after a warm-up each."""
    content: Path = args.content.resolve()
    name: str = args.name
    mine = medpdf_job(name, content, scratch / "medpdf.pdf")
    run_job(mine, probe, scratch)  # warm-up, not counted; medpdf's own errors surface first
    source = find_source(content, name)
    other = baseline_job(source, scratch / "baseline", name)
    run_job(other, probe, scratch)  # warm-up, not counted
    medpdf_runs, baseline_runs = timed_pairs([(mine, other)] * args.runs, probe, scratch)
    print()
    print_table(
        f"handout '{name}' from {content}: {args.runs} runs each (after 1 warm-up each)",
        medpdf_runs,
        baseline_runs,
        (page_count(mine.output), page_count(other.output)),
    )
    # Each pair runs back to back, so its ratio cancels the machine's drift between
    # pairs (on a shared machine the baseline alone ranged 0.46-0.82 s in one hour).
    paired = statistics.median(
        m.seconds / b.seconds for m, b in zip(medpdf_runs, baseline_runs, strict=True)
    )
    print(f"  median of the {args.runs} paired ratios medpdf/baseline: {paired:.3f}")
    repeat = bench_cached(args, probe, scratch)
    print()
    print("goals (issue 11)")
    print(
        f"  one handout, cold, <= 1.0x the baseline (paired): {paired:.3f}x {_verdict(paired <= 1)}"
    )
    print(
        f"  the same handout cached, under 0.3 s (median): {repeat:.3f} s  {_verdict(repeat < 0.3)}"
    )


def _verdict(met: bool) -> str:
    return "PASS" if met else "FAIL"


def bench_cached(args: argparse.Namespace, probe: MemoryProbe, scratch: Path) -> float:
    """``medpdf handout NAME`` into its own output folder, then again N times: each reuses it.

    Each repeat must say "unchanged" (the build cache answered): a repeat that
    renders again is an error, not a slow figure.
    """
    workdir = scratch / "cached"
    workdir.mkdir()
    argv = (
        sys.executable,
        "-m",
        "medpdf",
        "handout",
        args.name,
        "--content",
        str(args.content.resolve()),
    )
    first, done = probe.run(argv, scratch, cwd=workdir)
    if done.returncode != 0:
        raise BenchmarkError(f"medpdf failed on {args.name}: {_last_line(done.stderr)}")
    runs: list[float] = []
    for _ in range(args.runs):
        run, done = probe.run(argv, scratch, cwd=workdir)
        if done.returncode != 0 or "unchanged" not in done.stdout:
            raise BenchmarkError(
                f"a repeat of {args.name} did not reuse the cached handout: {done.stdout.strip()}"
            )
        runs.append(run.seconds)
    print()
    print(
        f"cached repeat: `medpdf handout {args.name}` again, {args.runs} runs: median "
        f"{statistics.median(runs):.3f} s, min {min(runs):.3f} s, max {max(runs):.3f} s "
        f"(the first, which rendered: {first.seconds:.3f} s)"
    )
    return statistics.median(runs)


def bench_corpus(k: int, probe: MemoryProbe, scratch: Path) -> None:
    """One timed run of each tool per sampled corpus handout; medians over handouts."""
    if k <= 0:
        return
    print()
    if not CORPUS.is_dir():
        print(f"corpus sample skipped: {CORPUS} is absent")
        return
    chosen = corpus_sample(k)
    pairs: list[tuple[Job, Job]] = []
    for index, source in enumerate(chosen):
        # Each handout gets its own one-file content folder, as content/ holds one file,
        # so medpdf's discovery does not walk all 6,000+ corpus files on every call.
        folder = scratch / "corpus" / f"{index:03d}"
        folder.mkdir(parents=True)
        shutil.copy2(source, folder / source.name)
        label = source.relative_to(CORPUS).as_posix()
        pairs.append(
            (
                medpdf_job(source.stem, folder, folder / "medpdf.pdf", label),
                baseline_job(source, folder / "baseline", label),
            )
        )
    medpdf_runs, baseline_runs = timed_pairs(pairs, probe, scratch)
    medpdf_pages = [page_count(m.output) for m, _ in pairs]
    baseline_pages = [page_count(b.output) for _, b in pairs]
    print_table(
        f"corpus sample: {len(pairs)} handouts from {CORPUS}, 1 run each per tool "
        "(per-handout figures)",
        medpdf_runs,
        baseline_runs,
        (_pages_summary(medpdf_pages), _pages_summary(baseline_pages)),
    )
    ratios = [m.seconds / b.seconds for m, b in zip(medpdf_runs, baseline_runs, strict=True)]
    print(
        f"  per-handout ratio medpdf/baseline: median {statistics.median(ratios):.3f}, "
        f"min {min(ratios):.3f}, max {max(ratios):.3f}"
    )
    bench_batch(chosen, scratch, sum(run.seconds for run in baseline_runs))


def bench_batch(chosen: Sequence[Path], scratch: Path, baseline_total: float) -> None:
    """The same handouts as one ``medpdf build`` (how a clinic renders many)."""
    workdir = scratch / "batch"
    content = workdir / "content"
    content.mkdir(parents=True)
    for source in chosen:
        shutil.copy2(source, content / source.name)
    argv = [sys.executable, "-m", "medpdf", "build", "--content", str(content)]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    built = sorted((workdir / "output" / "handouts").glob("*.pdf"))
    if done.returncode not in (0, 1) or not built:
        raise BenchmarkError(f"medpdf build failed (exit {done.returncode}): {done.stderr}")
    print(
        f"batch: `medpdf build` of the same {len(chosen)} monographs in one process: "
        f"{seconds:.2f} s for {len(built)} PDFs ({seconds / len(built):.3f} s each); "
        f"baseline, one process each: {baseline_total:.2f} s; "
        f"ratio medpdf/baseline {seconds / baseline_total:.3f}"
    )


def _pages_summary(pages: Sequence[str]) -> str:
    numbers = [int(p) for p in pages if p.isdigit()]
    if len(numbers) != len(pages):
        return "n/a"
    return f"{sum(numbers)} total"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Median end-to-end time of `medpdf handout NAME` vs a naive "
        "markdown-it + WeasyPrint script, one process per handout."
    )
    parser.add_argument("--runs", type=int, default=7, help="timed runs per tool (default 7)")
    parser.add_argument(
        "--content",
        type=Path,
        default=DEFAULT_CONTENT,
        help=f"monograph folder (default {DEFAULT_CONTENT})",
    )
    parser.add_argument("--name", default="alefacept", help="drug slug (default alefacept)")
    parser.add_argument(
        "--corpus-sample",
        type=int,
        default=0,
        metavar="K",
        help=f"also time K handouts from {CORPUS}, if present (default 0)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.corpus_sample < 0:
        parser.error("--corpus-sample must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 on success, 1 with a one-line error otherwise."""
    args = parse_args(argv)
    probe = MemoryProbe()
    print_environment(probe)
    try:
        with tempfile.TemporaryDirectory(prefix="medpdf-bench-") as tmp:
            scratch = Path(tmp)
            bench_main(args, probe, scratch)
            bench_corpus(args.corpus_sample, probe, scratch)
    except BenchmarkError as exc:
        print(f"handout.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
