"""Throughput of ``medpdf handouts`` (many handouts, worker processes, cache) vs a naive loop.

What is measured, in one run (each step a separate child process, timed in this
process with ``time.perf_counter`` from start to exit, its peak memory taken as
the largest sum of RSS over the process and all its descendants, polled from
/proc every 0.2 s -- see ``benchmarks/_common.py``):

1. **naive cold**: one Python process that imports markdown_it and weasyprint once,
   then for each sampled monograph strips the front matter naively, renders the
   Markdown with markdown-it, wraps it in minimal CSS (A4, DejaVu Sans 12 pt, as
   the baseline of ``benchmarks/handout.py``) and calls
   ``weasyprint.HTML(string=...).write_pdf(path)``, one after another.
2. **md2pdf cold**: ``md2pdf -W 2 -i FILE -i FILE ...`` (md2pdf 3.1, installed
   with the dev tools; ``--md2pdf-workers`` sets ``-W``), a common Markdown to
   PDF tool on the same WeasyPrint, over its own copy of the sample (it writes
   each PDF beside its Markdown file). Unstyled, untagged: a floor for speed,
   not a handout.
3. **medpdf cold**: ``medpdf handouts --content SAMPLE`` into a fresh ``output/``.
4. **medpdf unchanged**: the same command again (everything should be unchanged).
5. Unless ``--skip-full``: **medpdf cold full corpus** (``--content CORPUS`` into a
   fresh ``output/``; long, 10+ minutes on 2 cores) and **medpdf unchanged full
   corpus** (the same again). ``--full-output DIR`` skips the cold full build and
   times only the unchanged rebuild in DIR, a folder whose ``output/`` holds an
   earlier ``medpdf handouts --content CORPUS`` run made with the same medpdf
   (e.g. ``KEEP/full`` of an earlier run with ``--keep KEEP``). That rebuild
   writes to DIR's cache as any rebuild does.

The sample (``--sample N``, default 500) is N monographs evenly spaced over the
sorted corpus paths, copied into a scratch content folder (``<letter>/<slug>.md``).
Both tools read the same copies. Pages of the naive PDFs are counted with pypdf
afterwards (not timed); medpdf's pages come from its summary line. medpdf leaves
out monographs with duplicate titles (the corpus has 48), so it may write fewer
handouts than the naive loop; throughput is handouts written per second of wall
time. Before anything is timed, one ``import weasyprint, medpdf`` warms the OS
file cache so neither tool pays for it alone.

Goals (from the issues), computed from the figures measured in this run:
medpdf cold throughput at least 2.5x the naive loop's and at least 1.5x md2pdf's
(tagged PDF/A-2a + PDF/UA-1 handouts against untagged ones); the unchanged rebuild of
every handout of the corpus in under 10 s (wall time of the whole command).

Usage (from the repository root; run the full version on a quiet machine)::

    .venv/bin/python benchmarks/handouts.py                      # 500 + full corpus
    .venv/bin/python benchmarks/handouts.py --keep /tmp/hb       # ... keeping outputs
    .venv/bin/python benchmarks/handouts.py --full-output /tmp/hb/full  # reuse full build
    .venv/bin/python benchmarks/handouts.py --sample 30 --skip-full     # quick check
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import (
    DEFAULT_CORPUS,
    HANDOUTS_SUMMARY,
    BenchmarkError,
    Measured,
    copy_sample,
    corpus_files,
    even_sample,
    last_lines,
    medpdf_argv,
    parse_summary,
    pdf_pages,
    positive_int,
    print_environment,
    print_table,
    require_corpus,
    run_measured,
    scratch_folder,
    verdict,
)

SCRIPT = "handouts.py"
SPEEDUP_GOAL = 2.5
MD2PDF_GOAL = 1.5
#: md2pdf, from the dev tools, beside this interpreter.
MD2PDF = Path(sys.executable).parent / "md2pdf"
#: The baseline, shared with handout.py: a serial loop as someone would write it in ten minutes.
NAIVE_SCRIPT = Path(__file__).resolve().parent / "naive_handouts.py"
UNCHANGED_GOAL_SECONDS = 10.0


@dataclass(frozen=True)
class Row:
    """One measured step of the table."""

    label: str
    monographs: int
    handouts: int
    pages: int | None
    run: Measured
    built: int | None = None

    @property
    def per_second(self) -> float:
        """Handouts written (or found unchanged) per second of wall time."""
        return self.handouts / self.run.seconds if self.run.seconds > 0 else 0.0


def warm_up(cwd: Path) -> None:
    """Load weasyprint and medpdf once so the OS file cache is warm for both tools."""
    subprocess.run(
        [sys.executable, "-c", "import weasyprint, markdown_it, medpdf.cli"],
        cwd=cwd,
        capture_output=True,
        check=False,
    )


def run_naive(files: Sequence[Path], workdir: Path) -> Row:
    """The serial loop over ``files`` in one process; PDFs checked and counted afterwards."""
    workdir.mkdir(parents=True)
    out = workdir / "pdf"
    argv = [sys.executable, str(NAIVE_SCRIPT), str(out), *map(str, files)]
    run = run_measured(argv, workdir)
    if run.returncode != 0:
        raise BenchmarkError(
            f"naive loop failed (exit {run.returncode}): {last_lines(run.stderr or run.stdout)}"
        )
    pdfs = sorted(out.glob("*.pdf"))
    if len(pdfs) != len(files):
        raise BenchmarkError(f"naive loop wrote {len(pdfs)} PDFs for {len(files)} monographs")
    counts = [pdf_pages(pdf) for pdf in pdfs]
    pages = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    return Row("naive serial loop, cold", len(files), len(pdfs), pages, run)


def run_md2pdf(files: Sequence[Path], workdir: Path, workers: int) -> Row:
    """``md2pdf -W workers`` over a copy of ``files`` (it writes each PDF beside its source)."""
    if not MD2PDF.exists():
        raise BenchmarkError(f"{MD2PDF} not found: install the dev tools (make setup)")
    workdir.mkdir(parents=True)
    copies = []
    for number, path in enumerate(files):
        copy = workdir / f"{number:05d}-{path.name}"
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    argv = [str(MD2PDF), "-W", str(workers)]
    for copy in copies:
        argv += ["-i", str(copy)]
    run = run_measured(argv, workdir)
    if run.returncode != 0:
        raise BenchmarkError(
            f"md2pdf failed (exit {run.returncode}): {last_lines(run.stderr or run.stdout)}"
        )
    pdfs = sorted(workdir.glob("*.pdf"))
    counts = [pdf_pages(pdf) for pdf in pdfs]
    pages = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    return Row(f"md2pdf -W {workers}, cold", len(files), len(pdfs), pages, run)


def run_medpdf(
    label: str, content: Path, workdir: Path, jobs: int | None, monographs: int
) -> tuple[Row, dict[str, float]]:
    """``medpdf handouts --content CONTENT`` in ``workdir`` (whose ``output/`` it uses)."""
    argv = ["handouts", "--content", str(content)]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    run = run_measured(medpdf_argv(*argv), workdir)
    summary = parse_summary(HANDOUTS_SUMMARY, run, label)
    built = int(summary["built"])
    handouts = built + int(summary["unchanged"])
    row = Row(label, monographs, handouts, int(summary["pages"]), run, built)
    print(
        f"  {label}: {built} built, {int(summary['unchanged'])} unchanged, "
        f"{int(summary['failed'])} failed, exit {run.returncode}, {run.seconds:.1f} s",
        flush=True,
    )
    return row, summary


def full_workdir(full_output: Path) -> Path:
    """The folder to run in for ``--full-output``: it must hold ``output/handouts``."""
    folder = full_output.resolve()
    if folder.name == "output" and (folder / "handouts").is_dir():
        return folder.parent
    if not (folder / "output" / "handouts").is_dir():
        raise BenchmarkError(
            f"--full-output {full_output}: no output/handouts in it; pass the folder an "
            "earlier `medpdf handouts --content CORPUS` ran in (e.g. KEEP/full)"
        )
    return folder


def print_results(rows: Sequence[Row], naive: Row) -> None:
    """The table of every step, with throughput relative to the naive loop."""
    print()
    print("results (peak MiB: largest sum of RSS over the process tree; procs: most at once)")
    table = [
        [
            row.label,
            str(row.monographs),
            str(row.handouts),
            "-" if row.built is None else str(row.built),
            f"{row.run.seconds:.2f}",
            f"{row.per_second:.2f}",
            "n/a" if row.pages is None else str(row.pages),
            f"{row.run.peak_mib:.0f}",
            str(row.run.peak_processes),
            f"{row.per_second / naive.per_second:.2f}x" if naive.per_second else "n/a",
            f"{1000 * row.run.cpu_seconds / row.built:.0f}" if row.built else "-",
        ]
        for row in rows
    ]
    print_table(
        [
            "step",
            "monographs",
            "handouts",
            "built",
            "wall s",
            "handouts/s",
            "pages",
            "peak MiB",
            "procs",
            "vs naive/s",
            "CPU ms/built",
        ],
        table,
    )


def print_goals(
    naive: Row,
    md2pdf: Row,
    cold: Row,
    sample_rebuild: Row,
    full_rebuild: Row | None,
    skipped: str,
) -> bool:
    """Each goal with the figure it is judged on; True when every measured goal passes."""
    print()
    print("goals")
    speed_ok = True
    for other, goal in ((naive, SPEEDUP_GOAL), (md2pdf, MD2PDF_GOAL)):
        ratio = cold.per_second / other.per_second if other.per_second else 0.0
        ok = ratio >= goal
        speed_ok = speed_ok and ok
        print(
            f"  [{verdict(ok)}] medpdf cold throughput >= {goal}x {other.label}: "
            f"{cold.per_second:.2f} vs {other.per_second:.2f} handouts/s = {ratio:.2f}x "
            f"(on {cold.monographs} monographs)"
        )
    rebuild_ok: bool | None = None
    if full_rebuild is None:
        detail = (
            f"{skipped}; the unchanged rebuild of the {sample_rebuild.monographs}-monograph "
            f"sample took {sample_rebuild.run.seconds:.2f} s"
        )
    else:
        rebuild_ok = full_rebuild.run.seconds < UNCHANGED_GOAL_SECONDS and full_rebuild.built == 0
        detail = (
            f"{full_rebuild.run.seconds:.2f} s wall for {full_rebuild.handouts} handouts "
            f"({full_rebuild.built} rebuilt) of {full_rebuild.monographs} monographs"
        )
        if full_rebuild.built:
            detail += "; not a pure unchanged rebuild (stale --full-output or a cache miss)"
    print(
        f"  [{verdict(rebuild_ok)}] unchanged rebuild of every corpus handout "
        f"< {UNCHANGED_GOAL_SECONDS:.0f} s: {detail}"
    )
    return speed_ok and rebuild_ok is not False


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="medpdf handouts (cold and unchanged) vs a naive serial WeasyPrint loop; "
        "see the module docstring for what is measured."
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"monograph collection (default {DEFAULT_CORPUS})",
    )
    parser.add_argument(
        "--sample",
        type=positive_int,
        default=500,
        metavar="N",
        help="monographs in the evenly spaced sample (default 500)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        help="passed to medpdf --jobs (default: medpdf's own, one per CPU)",
    )
    parser.add_argument(
        "--md2pdf-workers",
        type=positive_int,
        default=2,
        metavar="N",
        help="md2pdf's -W, its worker processes (default 2)",
    )
    parser.add_argument(
        "--skip-full",
        action="store_true",
        help="skip the full-corpus builds (the cold one takes 10+ minutes)",
    )
    parser.add_argument(
        "--full-output",
        type=Path,
        default=None,
        metavar="DIR",
        help="time only the unchanged full-corpus rebuild, in DIR, which holds the output/ "
        "of an earlier full build with the same medpdf (e.g. KEEP/full of a --keep run)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="work in DIR (created; must be empty) and leave everything there",
    )
    args = parser.parse_args(argv)
    if args.skip_full and args.full_output is not None:
        parser.error("--skip-full and --full-output exclude each other")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measured goal passes, 1 otherwise or on error."""
    args = parse_args(argv)
    corpus = require_corpus(args.corpus, SCRIPT)
    files = corpus_files(corpus)
    chosen = even_sample(files, args.sample)
    print_environment(
        corpus,
        [
            ("corpus files", str(len(files))),
            ("sample", f"{len(chosen)} evenly spaced"),
            ("medpdf --jobs", str(args.jobs) if args.jobs else "medpdf's default"),
        ],
    )
    try:
        reused = None if args.full_output is None else full_workdir(args.full_output)
        with scratch_folder(args.keep, "medpdf-bench-handouts-") as scratch:
            content = scratch / "sample" / "content"
            copy_sample(chosen, corpus, content)
            copies = [content / path.relative_to(corpus) for path in chosen]
            warm_up(scratch)
            print()
            print("running", flush=True)
            naive = run_naive(copies, scratch / "naive")
            print(f"  {naive.label}: {naive.handouts} PDFs, {naive.run.seconds:.1f} s", flush=True)
            md2pdf = run_md2pdf(copies, scratch / "md2pdf", args.md2pdf_workers)
            print(f"  {md2pdf.label}: {md2pdf.handouts} PDFs, {md2pdf.run.seconds:.1f} s")
            sample_dir = scratch / "sample"
            cold, _ = run_medpdf("medpdf cold", content, sample_dir, args.jobs, len(chosen))
            rebuild, _ = run_medpdf("medpdf unchanged", content, sample_dir, args.jobs, len(chosen))
            rows = [naive, md2pdf, cold, rebuild]
            full_rebuild: Row | None = None
            skipped = "not measured (--skip-full)"
            if not args.skip_full:
                if reused is not None:
                    workdir = reused
                    print(f"  reusing the full build in {workdir} (cold full build not timed)")
                else:
                    workdir = scratch / "full"
                    workdir.mkdir()
                    full_cold, _ = run_medpdf(
                        "medpdf cold, full corpus", corpus, workdir, args.jobs, len(files)
                    )
                    rows.append(full_cold)
                full_rebuild, _ = run_medpdf(
                    "medpdf unchanged, full corpus", corpus, workdir, args.jobs, len(files)
                )
                rows.append(full_rebuild)
            print_results(rows, naive)
            ok = print_goals(naive, md2pdf, cold, rebuild, full_rebuild, skipped)
            if args.keep is not None:
                print(f"\noutputs kept in {scratch}")
    except BenchmarkError as exc:
        print(f"{SCRIPT}: error: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
