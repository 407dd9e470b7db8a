"""Cold, unchanged, one-edit and add+delete builds of ``medpdf booklet`` vs one naive document.

For each size N of ``--sizes`` (default ``1000,all``): N monographs evenly spaced
over the sorted corpus paths (or all of them) are copied into a scratch content
folder, and ``medpdf booklet --content CONTENT`` is run four times in the same
working folder (so the same ``output/`` and cache):

1. **cold**: fresh ``output/``. The page count of the summary line is checked
   against pypdf's count of ``output/booklet.pdf``.
2. **unchanged**: nothing changed; the summary must say ``0 chunks laid out``.
3. **one edit**: a sentence is appended to the first paragraph of the Usage
   section of one monograph (one whose title is unique in the sample), so its
   page count may change.
4. **add + delete**: one monograph is copied under a new slug
   (``<slug>-benchmark-copy``) with a new unique title (``<title> (benchmark
   copy)``), and another one is deleted.

Each run is a child process timed with ``time.perf_counter`` in this process
(start-up included); its peak memory is the largest sum of RSS over the process
and all its descendants, polled from /proc every 0.2 s (``benchmarks/_common.py``;
shared pages count once per process, so this is an upper estimate). Pages and
chunks come from medpdf's summary line.

Baseline, for N = ``--baseline-size`` (default 1000) only, in the same run before
medpdf: one Python process builds ONE HTML document of all N monographs with
markdown-it (naive front-matter stripping, each monograph in a section with
``page-break-before``, a contents list at the front whose entries use
``leader('.') target-counter(attr(href), page)``, an ``@page`` footer with
``counter(page)`` of ``counter(pages)``) and calls WeasyPrint's ``write_pdf``
once. Its pages are counted with pypdf afterwards (not timed). The ratios
medpdf cold / naive for wall time and peak memory are printed.

Goals (from the issue), computed from the figures measured in this run:
the whole corpus cold in at most 10 minutes with peak memory of all processes
together at most 1.5 GB (1.5e9 bytes); the one-edit rebuild in at most 30 s (both
judged on the ``all`` size; with only smaller sizes they are NOT MEASURED and the
largest size is shown for information); the unchanged rebuild lays out no chunk
(every size).

The compact booklet (``--compact``: two columns, monographs run on), for every
size in the same run unless ``--no-compact``: a cold build of the same sample in
a folder of its own, reported beside the default cold build (wall time, per
monograph, peak memory, pages). Its goals: at most 40 % of the default booklet's
pages, no slower per monograph, and within the same memory bound (1.5 GB, and
no more than the default build's peak).

With ``--untagged-too``, for every size in the same run: a cold build of the
same sample with tagging switched off (the benchmark-only environment variable
``MEDPDF_BENCHMARK_UNTAGGED=1``, which is part of medpdf's cache key), in a
folder of its own, once before the tagged builds and once after them (A-B-A:
a machine whose speed drifts during a long run moves both, and their mean is
compared), beside the tagged cold build: wall and CPU time (the command's and
its workers'), peak memory, the ratios tagged / untagged and how far the two
untagged builds differ. Goal: tagged no more than 5 % above untagged (judged on
CPU time, which a loaded machine disturbs less than wall time; both are shown).

The merge alone at the whole collection's size, tagged parts against the same
parts untagged, is ``benchmarks/booklet_merge.py``.

Usage (from the repository root; run the full version on a quiet machine)::

    .venv/bin/python benchmarks/booklet.py                         # 1000 + all, baseline 1000
    .venv/bin/python benchmarks/booklet.py --keep /tmp/bb          # ... keeping outputs
    .venv/bin/python benchmarks/booklet.py --sizes 40 --baseline-size 40   # quick check
    .venv/bin/python benchmarks/booklet.py --volume-pages 800      # bound volumes
    .venv/bin/python benchmarks/booklet.py --sizes 300 --skip-baseline --duplex  # 300, two-sided
    .venv/bin/python benchmarks/booklet.py --sizes 100 --baseline-size 100 --no-compact \
        --untagged-too                                             # tagged against untagged
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import (
    BOOKLET_SUMMARY,
    DEFAULT_CORPUS,
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

SCRIPT = "booklet.py"
COMPACT_PAGES_GOAL = 0.40
UNTAGGED_GOAL = 1.05
#: medpdf.run.contract.UNTAGGED_VARIABLE: builds the booklet without tags (benchmarks only).
UNTAGGED_ENV = {"MEDPDF_BENCHMARK_UNTAGGED": "1"}
COLD_GOAL_SECONDS = 600.0
MEMORY_GOAL_BYTES = 1_500_000_000
EDIT_GOAL_SECONDS = 30.0
EDIT_SENTENCE = (
    "This sentence was added by the booklet benchmark to change the text of one monograph, "
    "and it is long enough that the monograph may need one more line or even one more page."
)

# The naive single-document build: what someone would write in half an hour.
NAIVE_SCRIPT = """\
import html
import sys
from pathlib import Path

import markdown_it
import weasyprint

listing, out = Path(sys.argv[1]), sys.argv[2]
md = markdown_it.MarkdownIt()
contents, sections = [], []
for index, name in enumerate(listing.read_text(encoding="utf-8").splitlines()):
    text = Path(name).read_text(encoding="utf-8")
    title, body = Path(name).stem, text
    if text.startswith("---"):
        parts = text.split("---", 2)
        if len(parts) == 3:
            body = parts[2]
            for line in parts[1].splitlines():
                if line.startswith("title:"):
                    title = line[len("title:"):].strip().strip("'\\"")
    contents.append(f"<li><a href='#m{index}'>{html.escape(title)}</a></li>")
    sections.append(f"<section id='m{index}'>{md.render(body)}</section>")
css = (
    "@page { size: A4; margin: 2cm;"
    " @bottom-center { content: 'Page ' counter(page) ' of ' counter(pages); font-size: 9pt } }"
    "body { font-family: 'DejaVu Sans'; font-size: 12pt }"
    "section { page-break-before: always }"
    ".contents { list-style: none; padding: 0 }"
    ".contents a { color: black; text-decoration: none }"
    ".contents a::after { content: leader('.') target-counter(attr(href), page) }"
)
document = (
    "<html><head><meta charset='utf-8'><style>" + css + "</style></head><body>"
    "<h1>Drug reference</h1><ul class='contents'>" + "".join(contents) + "</ul>"
    + "".join(sections)
    + "</body></html>"
)
weasyprint.HTML(string=document).write_pdf(out)
"""

TITLE_LINE = re.compile(r"^title:[ \t]*(?P<title>.*?)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Step:
    """One medpdf booklet run and what its summary line said."""

    size: str
    sample: int
    label: str
    run: Measured
    monographs: int
    pages: int
    laid_out: int
    reused: int
    left_out: int
    pdf_pages: int | None = None


@dataclass(frozen=True)
class Baseline:
    """The naive single-document build."""

    size: int
    run: Measured
    pages: int | None


def naive_title(path: Path) -> str:
    """The front-matter title as a naive reader sees it (for picking unique ones)."""
    found = TITLE_LINE.search(path.read_text(encoding="utf-8"))
    return found.group("title").strip("'\"").casefold() if found else path.stem


def unique_title_files(files: Sequence[Path]) -> list[Path]:
    """The files whose title no other file of ``files`` has (so medpdf keeps them)."""
    titles = [naive_title(path) for path in files]
    counts = Counter(titles)
    return [path for path, title in zip(files, titles, strict=True) if counts[title] == 1]


def append_to_usage(path: Path) -> str:
    """Add :data:`EDIT_SENTENCE` to the first paragraph of the Usage section (or first one)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    headings = [i for i, line in enumerate(lines) if re.match(r"#{2,6}\s", line)]
    usage = [i for i in headings if lines[i].lstrip("#").strip().casefold().startswith("usage")]
    if not headings:
        raise BenchmarkError(f"{path} has no section heading to put the edit under")
    start = (usage or headings)[0] + 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = start
    while end + 1 < len(lines) and lines[end + 1].strip() and not lines[end + 1].startswith("#"):
        end += 1
    if start >= len(lines) or lines[start].startswith("#"):
        lines.insert(start, EDIT_SENTENCE + "\n")
    else:
        lines[end] = lines[end].rstrip() + " " + EDIT_SENTENCE
    path.write_text("\n".join(lines), encoding="utf-8")
    return "Usage" if usage else lines[headings[0]].lstrip("#").strip()


def copy_with_new_title(source: Path) -> Path:
    """Copy ``source`` to ``<slug>-benchmark-copy.md`` with a new title in front matter and H1."""
    text = source.read_text(encoding="utf-8")
    found = TITLE_LINE.search(text)
    if found is None:
        raise BenchmarkError(f"{source} has no 'title:' line to change")
    old = found.group("title").strip().strip("'\"")
    new = f"{old} (benchmark copy)"
    quoted = new.replace("\\", "\\\\").replace('"', '\\"')
    text = text[: found.start()] + f'title: "{quoted}"' + text[found.end() :]
    text = re.sub(r"^# .*$", lambda _: f"# {new}", text, count=1, flags=re.MULTILINE)
    target = source.with_name(f"{source.stem}-benchmark-copy.md")
    if target.exists():
        raise BenchmarkError(f"{target} already exists")
    target.write_text(text, encoding="utf-8")
    return target


#: Extra ``medpdf booklet`` flags of this run (``--volume-pages N``), set by ``main``.
EXTRA_FLAGS: list[str] = []


def run_step(
    size: str,
    sample: int,
    label: str,
    content: Path,
    workdir: Path,
    jobs: int | None,
    env: dict[str, str] | None = None,
) -> Step:
    """``medpdf booklet --content CONTENT`` in ``workdir`` (its ``output/`` and cache)."""
    argv = ["booklet", "--content", str(content), *EXTRA_FLAGS]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    run = run_measured(medpdf_argv(*argv), workdir, env)
    summary = parse_summary(BOOKLET_SUMMARY, run, f"{label} (N={size})")
    step = Step(
        size,
        sample,
        label,
        run,
        int(summary["monographs"]),
        int(summary["pages"]),
        int(summary["laid_out"]),
        int(summary["reused"]),
        int(summary["failed"]),
    )
    print(
        f"  N={size} {label}: {step.monographs} monographs, {step.pages} pages, "
        f"{step.laid_out} chunks laid out, {step.reused} reused, {step.left_out} left out, "
        f"exit {run.returncode}, {run.seconds:.1f} s, {run.cpu_seconds:.1f} s CPU",
        flush=True,
    )
    return step


def bench_size(
    size: str, chosen: Sequence[Path], corpus: Path, workdir: Path, jobs: int | None
) -> list[Step]:
    """The four medpdf runs on one sample, each with its own change to the content."""
    content = workdir / "content"
    copy_sample(chosen, corpus, content)
    copies = [content / path.relative_to(corpus) for path in chosen]
    candidates = unique_title_files(copies)
    if len(candidates) < 3:
        raise BenchmarkError(f"N={size}: fewer than 3 monographs with unique titles to edit")
    edited = candidates[len(candidates) // 2]
    copied = candidates[len(candidates) // 4]
    deleted = candidates[(3 * len(candidates)) // 4]

    n = len(chosen)
    cold = run_step(size, n, "cold", content, workdir, jobs)
    made = sorted((workdir / "output").glob("booklet-vol*.pdf")) if EXTRA_FLAGS else []
    counted = [pdf_pages(path) for path in made] or [pdf_pages(workdir / "output" / "booklet.pdf")]
    pages = None if None in counted else sum(n for n in counted if n is not None)
    cold = dataclasses.replace(cold, pdf_pages=pages)
    unchanged = run_step(size, n, "unchanged", content, workdir, jobs)

    section = append_to_usage(edited)
    print(f"    edit: one sentence appended in {section} of {edited.relative_to(content)}")
    one_edit = run_step(size, n, "one edit", content, workdir, jobs)

    added = copy_with_new_title(copied)
    deleted.unlink()
    print(
        f"    add: {added.relative_to(content)} (copy of {copied.relative_to(content)}, "
        f"new title); delete: {deleted.relative_to(content)}"
    )
    add_delete = run_step(size, n, "add + delete", content, workdir, jobs)
    return [cold, unchanged, one_edit, add_delete]


def bench_compact(
    size: str, chosen: Sequence[Path], corpus: Path, workdir: Path, jobs: int | None
) -> Step:
    """A cold ``medpdf booklet --compact`` of the same sample, in a folder of its own."""
    content = workdir / "content"
    copy_sample(chosen, corpus, content)
    EXTRA_FLAGS.append("--compact")
    try:
        cold = run_step(size, len(chosen), "compact cold", content, workdir, jobs)
    finally:
        EXTRA_FLAGS.remove("--compact")
    made = sorted((workdir / "output").glob("booklet-vol*.pdf"))
    counted = [pdf_pages(path) for path in made] or [pdf_pages(workdir / "output" / "booklet.pdf")]
    pages = None if None in counted else sum(n for n in counted if n is not None)
    return dataclasses.replace(cold, pdf_pages=pages)


def bench_untagged(
    size: str, chosen: Sequence[Path], corpus: Path, workdir: Path, jobs: int | None, label: str
) -> Step:
    """A cold build of the same sample with tagging switched off, in a folder of its own."""
    content = workdir / "content"
    copy_sample(chosen, corpus, content)
    return run_step(size, len(chosen), label, content, workdir, jobs, UNTAGGED_ENV)


#: The untagged cold builds, before and after the tagged ones (A-B-A).
UNTAGGED_LABELS = ("untagged cold", "untagged again")


def beside_cold(steps: Sequence[Step], label: str) -> list[tuple[Step, Step]]:
    """Each step called ``label`` with the default cold build of the same size before it."""
    return [
        (cold, other)
        for other in steps
        if other.label == label
        for cold in steps
        if cold.label == "cold" and cold.size == other.size
    ]


def print_untagged(steps: Sequence[Step]) -> bool:
    """Tagged cold builds beside untagged ones, per size; True when the goal passes.

    The tagged build is compared with the mean of the untagged builds before and
    after it; their difference shows how much the machine drifted meanwhile.
    """
    pairs = beside_cold(steps, UNTAGGED_LABELS[0])
    if not pairs:
        return True
    print()
    print("tagged against untagged (cold builds of the same sample; CPU: the command and workers)")
    ok = True
    rows = []
    for tagged, first in pairs:
        plain = [first] + [
            s for s in steps if s.label == UNTAGGED_LABELS[1] and s.size == first.size
        ]
        for step in (first, tagged, *plain[1:]):
            name = "tagged" if step is tagged else step.label.replace(" cold", "")
            rows.append([step.size, name, f"{step.run.seconds:.1f}", f"{step.run.cpu_seconds:.1f}",
                         f"{step.run.peak_mib:.0f}", str(step.pages)])  # fmt: skip
        plain_wall = sum(s.run.seconds for s in plain) / len(plain)
        plain_cpu = sum(s.run.cpu_seconds for s in plain) / len(plain)
        wall = tagged.run.seconds / plain_wall
        cpu = tagged.run.cpu_seconds / max(plain_cpu, 1e-9)
        peak = tagged.run.peak_bytes / max(max(s.run.peak_bytes for s in plain), 1)
        rows.append(["", f"tagged / untagged (mean of {len(plain)})", f"{wall:.3f}", f"{cpu:.3f}",
                     f"{peak:.2f}", ""])  # fmt: skip
        if len(plain) > 1:
            drift = plain[-1].run.cpu_seconds / max(plain[0].run.cpu_seconds, 1e-9)
            rows.append(["", "untagged again / untagged", "", f"{drift:.3f}", "", ""])
        ok = ok and cpu <= UNTAGGED_GOAL
        print_table(["N", "booklet", "cold wall s", "cold CPU s", "peak MiB", "pages"], rows)
        rows = []
        print(
            f"  [{verdict(cpu <= UNTAGGED_GOAL)}] tagged CPU <= {UNTAGGED_GOAL:.2f} x untagged: "
            f"{cpu:.3f} (wall {wall:.3f})"
        )
    return ok


def print_compact(steps: Sequence[Step]) -> bool:
    """The compact booklet beside the default one, per size; True when its goals pass."""
    pairs = beside_cold(steps, "compact cold")
    if not pairs:
        return True
    print()
    print("compact booklet against the default one (cold builds of the same sample)")
    rows = []
    ok = True
    for default, compact in pairs:
        ratio = compact.pages / max(default.pages, 1)
        per_default = default.run.seconds / max(default.monographs, 1)
        per_compact = compact.run.seconds / max(compact.monographs, 1)
        for step, per in ((default, per_default), (compact, per_compact)):
            rows.append(
                [
                    step.size,
                    "default" if step is default else "compact",
                    f"{step.run.seconds:.1f}",
                    f"{per * 1000:.0f}",
                    f"{step.run.peak_mib:.0f}",
                    str(step.pages),
                ]
            )
        pages_ok = ratio <= COMPACT_PAGES_GOAL
        speed_ok = per_compact <= per_default
        memory_ok = (
            compact.run.peak_bytes <= MEMORY_GOAL_BYTES
            and compact.run.peak_bytes <= default.run.peak_bytes
        )
        ok = ok and pages_ok and speed_ok and memory_ok
        rows.append(["", "compact / default", f"{compact.run.seconds / default.run.seconds:.2f}",
                     f"{per_compact / per_default:.2f}",
                     f"{compact.run.peak_bytes / max(default.run.peak_bytes, 1):.2f}",
                     f"{ratio:.2f}"])  # fmt: skip
        print_table(["N", "booklet", "cold wall s", "ms/monograph", "peak MiB", "pages"], rows)
        rows = []
        print(
            f"  [{verdict(pages_ok)}] pages <= {COMPACT_PAGES_GOAL:.0%} of the default "
            f"booklet's: {compact.pages} / {default.pages} = {ratio:.1%}"
        )
        print(
            f"  [{verdict(speed_ok)}] no slower per monograph: {per_compact * 1000:.0f} ms "
            f"against {per_default * 1000:.0f} ms"
        )
        print(
            f"  [{verdict(memory_ok)}] peak memory within 1.5 GB and the default build's: "
            f"{compact.run.peak_mib:.0f} MiB against {default.run.peak_mib:.0f} MiB"
        )
    return ok


def run_baseline(chosen: Sequence[Path], corpus: Path, workdir: Path) -> Baseline:
    """The naive single-document build of ``chosen`` (copied, like medpdf's input)."""
    content = workdir / "content"
    copy_sample(chosen, corpus, content)
    script = workdir / "naive_booklet.py"
    script.write_text(NAIVE_SCRIPT, encoding="utf-8")
    listing = workdir / "files.txt"
    listing.write_text(
        "".join(f"{content / path.relative_to(corpus)}\n" for path in chosen), encoding="utf-8"
    )
    out = workdir / "naive-booklet.pdf"
    run = run_measured([sys.executable, str(script), str(listing), str(out)], workdir)
    if run.returncode != 0 or not out.is_file():
        raise BenchmarkError(
            f"naive booklet failed (exit {run.returncode}): {last_lines(run.stderr or run.stdout)}"
        )
    baseline = Baseline(len(chosen), run, pdf_pages(out))
    print(
        f"  N={len(chosen)} naive single document: {baseline.pages} pages, "
        f"{run.seconds:.1f} s, {run.peak_mib:.0f} MiB",
        flush=True,
    )
    return baseline


def print_results(steps: Sequence[Step], baseline: Baseline | None) -> None:
    """Every run in one table, then the baseline and the ratios."""
    print()
    print("results (peak MiB: largest sum of RSS over the process tree; procs: most at once)")
    rows = [
        [
            step.size,
            step.label,
            f"{step.run.seconds:.2f}",
            f"{step.run.peak_mib:.0f}",
            str(step.run.peak_processes),
            str(step.monographs),
            str(step.pages),
            "-" if step.pdf_pages is None else str(step.pdf_pages),
            str(step.laid_out),
            str(step.reused),
            str(step.left_out),
        ]
        for step in steps
    ]
    if baseline is not None:
        rows.append(
            [
                str(baseline.size),
                "naive one document",
                f"{baseline.run.seconds:.2f}",
                f"{baseline.run.peak_mib:.0f}",
                str(baseline.run.peak_processes),
                str(baseline.size),
                "-",
                "n/a" if baseline.pages is None else str(baseline.pages),
                "-",
                "-",
                "-",
            ]
        )
    print_table(
        [
            "N",
            "step",
            "wall s",
            "peak MiB",
            "procs",
            "monographs",
            "pages",
            "pypdf pages",
            "laid out",
            "reused",
            "left out",
        ],
        rows,
    )
    for step in steps:
        if step.pdf_pages is not None and step.pdf_pages != step.pages:
            print(
                f"  WARNING: N={step.size} {step.label}: summary says {step.pages} pages, "
                f"pypdf counts {step.pdf_pages} in the booklet"
            )
    if baseline is None:
        return
    cold = next(
        (s for s in steps if s.label == "cold" and s.sample == baseline.size),
        None,
    )
    if cold is None:
        return
    print()
    print(f"ratios medpdf cold / naive one document (N={baseline.size})")
    print(
        f"  wall   {cold.run.seconds:.2f} s / {baseline.run.seconds:.2f} s = "
        f"{cold.run.seconds / baseline.run.seconds:.2f}"
    )
    print(
        f"  memory {cold.run.peak_mib:.0f} MiB / {baseline.run.peak_mib:.0f} MiB = "
        f"{cold.run.peak_bytes / max(baseline.run.peak_bytes, 1):.2f}"
    )


def print_goals(steps: Sequence[Step], all_label: str) -> bool:
    """Each goal with the figure it is judged on; True when every measured goal passes."""
    print()
    print("goals")
    whole = [s for s in steps if s.size == all_label]
    largest = max(steps, key=lambda s: s.sample).size
    judged = whole or [s for s in steps if s.size == largest]
    note = "" if whole else f" -- whole corpus not run; N={largest} shown for information"

    by_label = {s.label: s for s in judged}
    cold, edit = by_label["cold"], by_label["one edit"]
    cold_ok: bool | None = (
        cold.run.seconds <= COLD_GOAL_SECONDS and cold.run.peak_bytes <= MEMORY_GOAL_BYTES
    )
    edit_ok: bool | None = edit.run.seconds <= EDIT_GOAL_SECONDS
    if not whole:
        cold_ok = edit_ok = None
    print(
        f"  [{verdict(cold_ok)}] whole corpus cold <= {COLD_GOAL_SECONDS / 60:.0f} min and "
        f"peak <= 1.5 GB: {cold.run.seconds:.1f} s, {cold.run.peak_bytes / 1e9:.2f} GB "
        f"({cold.run.peak_mib:.0f} MiB){note}"
    )
    print(
        f"  [{verdict(edit_ok)}] one-edit rebuild <= {EDIT_GOAL_SECONDS:.0f} s: "
        f"{edit.run.seconds:.1f} s, {edit.laid_out} chunks laid out{note}"
    )
    unchanged = [s for s in steps if s.label == "unchanged"]
    layout_ok = all(s.laid_out == 0 for s in unchanged)
    detail = ", ".join(f"N={s.size}: {s.laid_out} laid out" for s in unchanged)
    print(f"  [{verdict(layout_ok)}] unchanged rebuild lays out no chunk: {detail}")
    return layout_ok and cold_ok is not False and edit_ok is not False


def parse_sizes(text: str) -> list[str]:
    """``1000,all`` -> ['1000', 'all']."""
    sizes = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    for size in sizes:
        if size != "all":
            positive_int(size)
    return sizes


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="medpdf booklet (cold, unchanged, one edit, add+delete) vs one naive "
        "WeasyPrint document; see the module docstring for what is measured."
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"monograph collection (default {DEFAULT_CORPUS})",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=["1000", "all"],
        help="comma-separated monograph counts, 'all' for the whole corpus (default 1000,all)",
    )
    parser.add_argument(
        "--baseline-size",
        type=positive_int,
        default=1000,
        metavar="N",
        help="build the naive single document for this many monographs (default 1000)",
    )
    parser.add_argument("--skip-baseline", action="store_true", help="no naive baseline")
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        help="passed to medpdf --jobs (default: medpdf's own, one per CPU)",
    )
    parser.add_argument(
        "--volume-pages",
        type=positive_int,
        default=None,
        metavar="N",
        help="passed to medpdf: bound volumes of at most N pages (pages: all volumes)",
    )
    parser.add_argument(
        "--duplex", action="store_true", help="passed to medpdf: booklets for two-sided printing"
    )
    parser.add_argument(
        "--no-compact", action="store_true", help="no compact booklet beside the default one"
    )
    parser.add_argument(
        "--untagged-too",
        action="store_true",
        help="also a cold build without tags (benchmark-only switch); prints tagged / untagged",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="work in DIR (created; must be empty) and leave everything there",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measured goal passes, 1 otherwise or on error."""
    args = parse_args(argv)
    if args.volume_pages:
        EXTRA_FLAGS[:] = ["--volume-pages", str(args.volume_pages)]
    if args.duplex:
        EXTRA_FLAGS.append("--duplex")
    corpus = require_corpus(args.corpus, SCRIPT)
    files = corpus_files(corpus)
    all_label = f"all ({len(files)})"
    sizes: list[tuple[str, list[Path]]] = []
    for size in dict.fromkeys(args.sizes):
        if size == "all" or int(size) >= len(files):
            sizes.append((all_label, list(files)))
        else:
            sizes.append((size, even_sample(files, int(size))))
    print_environment(
        corpus,
        [
            ("corpus files", str(len(files))),
            ("sizes", ", ".join(label for label, _ in sizes)),
            ("baseline", "skipped" if args.skip_baseline else f"N={args.baseline_size}"),
            ("medpdf --jobs", str(args.jobs) if args.jobs else "medpdf's default"),
        ],
    )
    try:
        with scratch_folder(args.keep, "medpdf-bench-booklet-") as scratch:
            print()
            print("running", flush=True)
            baseline: Baseline | None = None
            if not args.skip_baseline:
                chosen = even_sample(files, args.baseline_size)
                baseline = run_baseline(chosen, corpus, scratch / f"naive-{len(chosen)}")
            steps: list[Step] = []
            for label, chosen in sizes:
                folder = scratch / ("all" if label == all_label else f"n{label}")
                untagged = [
                    folder.with_name(f"{folder.name}-{name}") for name in ("untagged", "again")
                ]
                if args.untagged_too:
                    steps.append(
                        bench_untagged(
                            label, chosen, corpus, untagged[0], args.jobs, UNTAGGED_LABELS[0]
                        )
                    )
                steps += bench_size(label, chosen, corpus, folder, args.jobs)
                if args.untagged_too:
                    steps.append(
                        bench_untagged(
                            label, chosen, corpus, untagged[1], args.jobs, UNTAGGED_LABELS[1]
                        )
                    )
                if not args.no_compact:
                    compact = folder.with_name(folder.name + "-compact")
                    steps.append(bench_compact(label, chosen, corpus, compact, args.jobs))
            print_results(steps, baseline)
            ok = print_goals(steps, all_label)
            ok = print_compact(steps) and ok
            ok = print_untagged(steps) and ok
            if args.keep is not None:
                print(f"\noutputs kept in {scratch}")
    except BenchmarkError as exc:
        print(f"{SCRIPT}: error: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
