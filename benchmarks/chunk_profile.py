"""Where the time of one booklet chunk goes: layout, tagging, tidy, writing, and the merge's share.

A chunk of ``--size`` (default 25) consecutive corpus monographs, starting at
``--start`` (default: the middle of the sorted corpus), is laid out in this
process exactly as a booklet worker does it (``medpdf.products.booklet.tasks.
entries_task``: model, templates, one WeasyPrint document per monograph, one
tagged PDF written, its tree kept as data). The process first lays
the chunk out once untimed (a worker's first task parses the stylesheets and
loads the fonts; its later tasks reuse them), then:

1. **profile**: one tagged layout under pyinstrument (a sampling profiler, so
   Python-heavy code is not inflated as with cProfile; wall-clock samples,
   so shares are fair and seconds are inflated on a loaded machine). Every
   sample is put in the class of the innermost frame that names one (see
   ``RULES``; older code's ``structure.tidy`` steps are named too, to profile
   a checkout from before ``parttags``): tidy, WeasyPrint's tagging, writing
   (paint, fonts, pydyf), layout (``render``), HTML (model and templates).
2. **A/B**: the chunk laid out ``--repeat`` times tagged and untagged in turn
   (the benchmark-only switch, ``RunContext.tagged``), CPU time of this
   process per layout; the smallest of each is compared. This is the tagging
   cost as a ratio, robust against a loaded machine.
3. **merge share**: the tagged part merged on its own by the booklet's merge
   (``medpdf.pdf.assemble``, stamp, tree, save), CPU time; the whole book's
   merge is about this per chunk plus a fixed cost.
4. **start-up**: a fresh interpreter importing the worker's modules (CPU and wall).

Usage (from the repository root)::

    .venv/bin/python benchmarks/chunk_profile.py                 # 25 monographs, 3 repeats
    .venv/bin/python benchmarks/chunk_profile.py --start 1200 --repeat 5
    .venv/bin/python benchmarks/chunk_profile.py --html /tmp/profile.html   # pyinstrument page
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, cast

from _common import DEFAULT_CORPUS, REPO, corpus_files, print_table, require_corpus

sys.path.insert(0, str(REPO))

from medpdf.content import model, sources
from medpdf.errors import MedpdfError
from medpdf.products.booklet.tasks import EntriesJob, entries_task
from medpdf.run import Pdf, RunContext
from medpdf.settings import config as settings

SCRIPT = "chunk_profile.py"

#: (path ends with, function or "" for any) -> class; the innermost matching frame wins.
RULES: tuple[tuple[str, str, str], ...] = (
    ("medpdf/pdf/structure.py", "_pagination_artifacts", "tidy: margin text to artifacts"),
    ("medpdf/pdf/structure.py", "_unwrap", "tidy: dissolve Span/NonStruct"),
    ("medpdf/pdf/structure.py", "_extract", "tidy: tree to sidecar data"),
    ("medpdf/pdf/structure.py", "_scope_column_headers", "tidy: scope headers"),
    ("medpdf/pdf/structure.py", "tidy", "tidy: open, save, the rest"),
    ("medpdf/pdf/parttags.py", "", "tidy: tree to data (parttags, no PDF tree)"),
    ("weasyprint/pdf/tags.py", "", "tagging: WeasyPrint's elements"),
    ("weasyprint/document.py", "write_pdf", "writing: paint, fonts, PDF objects"),
    ("weasyprint/document.py", "_render", "layout: WeasyPrint render"),
    ("weasyprint/html.py", "render", "layout: WeasyPrint render"),
    ("medpdf/pdf/typeset.py", "_document", "layout: WeasyPrint render"),
    ("medpdf/html/templating.py", "", "html: model and templates"),
    ("medpdf/content/model.py", "build", "html: model and templates"),
)

#: Imported by a fresh worker before its first chunk (what start-up costs).
WORKER_IMPORTS = "import medpdf.products.booklet.tasks, medpdf.pdf.typeset, medpdf.pdf.structure"


def chunk_sources(files: Sequence[Path], start: int, size: int) -> list[sources.Source]:
    """``size`` consecutive monographs from ``start`` that build (a booklet skips the others)."""
    chosen: list[sources.Source] = []
    for path in files[start:]:
        try:
            source = sources.read(path)
            model.build(source)
        except (MedpdfError, ValueError):
            continue
        chosen.append(source)
        if len(chosen) == size:
            break
    return chosen


def classify(frame: Any, inherited: str, totals: dict[str, float]) -> None:
    """Add each frame's own time to the class of its innermost classified ancestor."""
    here = inherited
    path = (frame.file_path or "").replace("\\", "/")
    for suffix, function, label in RULES:
        if path.endswith(suffix) and function in ("", frame.function):
            here = label
            break
    totals[here] += frame.total_self_time  # includes its synthetic "self" children
    for child in frame.children:
        if not child.is_synthetic:
            classify(child, here, totals)


def profile(job: EntriesJob, html: Path | None) -> tuple[dict[str, float], float]:
    """Seconds per class of one tagged layout of ``job``, and the total sampled."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    entries_task(job)
    profiler.stop()
    if html is not None:
        html.write_text(profiler.output_html(), encoding="utf-8")
    session = profiler.last_session
    if session is None:
        raise RuntimeError("pyinstrument recorded nothing")
    root = session.root_frame()
    totals: dict[str, float] = defaultdict(float)
    if root is not None:
        classify(root, "other", totals)
    return dict(totals), session.duration


def cpu_of(job: EntriesJob) -> tuple[float, Pdf]:
    """CPU seconds of this process for one layout of ``job``, and the part."""
    before = time.process_time()
    made = entries_task(job)
    return time.process_time() - before, made


def merge_cpu(made: Pdf, context: RunContext, folder: Path) -> tuple[float, int]:
    """CPU seconds to merge ``made`` alone as the booklet does, and the merged file's bytes."""
    from medpdf.pdf import stamp
    from medpdf.pdf.assemble import BookletMeta, Placed, assemble

    part = folder / "part.pdf"
    part.write_bytes(made.data)
    placed, page = [], 0
    for number, count in enumerate(made.page_counts):
        placed.append(Placed(f"m{number}", f"Monograph {number}", "A", page, count))
        page += count

    def stamp_for(sizes: Sequence[tuple[float, float]]) -> list[Path] | Path:
        style = stamp.load_style(context.config.resources.styles, False, False)
        words = stamp.StampWords("Page %(page)s of %(pages)s", "Printed %(date)s", "en")
        path = folder / "stamp.pdf"
        path.write_bytes(stamp.stamp_pdf(sizes, style, context.config.printed, words))
        # A checkout from before the stamp was drawn in files took one file.
        return [path] if hasattr(stamp, "STAMP_PAGES") else path

    meta = BookletMeta("Chunk", "en", "medpdf", "Contents", "Index", "%(title)s, page %(page)s")
    before = time.process_time()
    booklet = assemble([part], cast(Any, stamp_for), placed, 0, meta)
    with (folder / "booklet.pdf").open("w+b") as handle:  # older checkouts read it back
        booklet.save(handle)
    return time.process_time() - before, (folder / "booklet.pdf").stat().st_size


def start_up() -> tuple[float, float]:
    """CPU and wall seconds of a fresh interpreter importing a worker's modules."""
    code = (
        "import resource, time; t = time.perf_counter(); "
        f"{WORKER_IMPORTS}; "
        "u = resource.getrusage(resource.RUSAGE_SELF); "
        "print(u.ru_utime + u.ru_stime, time.perf_counter() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    cpu, wall = done.stdout.split()
    return float(cpu), float(wall)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="profile one booklet chunk (see the docstring)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--size", type=int, default=25, help="monographs in the chunk")
    parser.add_argument("--start", type=int, default=None, help="first corpus file (index)")
    parser.add_argument("--repeat", type=int, default=3, help="tagged/untagged layouts each")
    parser.add_argument("--html", type=Path, default=None, help="write pyinstrument's HTML here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Profile one chunk and print the split; 0 on success."""
    args = parse_args(argv)
    corpus = require_corpus(args.corpus, SCRIPT)
    files = corpus_files(corpus)
    start = len(files) // 2 if args.start is None else args.start
    chosen = chunk_sources(files, start, args.size)
    context = RunContext.of(settings.make(content_dir=corpus))
    job = EntriesJob(tuple(chosen), ("",) * len(chosen), context, "profile")
    # A checkout from before the benchmark's switch cannot lay out untagged.
    switch = "tagged" in {field.name for field in fields(RunContext)}
    untagged = replace(job, context=replace(context, tagged=False)) if switch else None
    print(f"chunk: {len(chosen)} monographs from {chosen[0].display_path} (corpus file {start})")
    warm_seconds, made = cpu_of(job)  # what a worker's first chunk pays once
    print(f"first layout (stylesheets, fonts): {warm_seconds:.2f} s CPU, {made.pages} pages")

    totals, sampled = profile(job, args.html)
    print()
    print(f"profile of one tagged layout (pyinstrument, {sampled:.2f} s sampled)")
    rows = [
        [label, f"{seconds:.3f}", f"{seconds / sampled:.1%}"]
        for label, seconds in sorted(totals.items(), key=lambda item: -item[1])
    ]
    print_table(["class", "s", "share"], rows)

    tagged_cpu, untagged_cpu = [], []
    plain = made
    for _ in range(args.repeat):
        tagged_cpu.append(cpu_of(job)[0])
        if untagged is not None:
            seconds, plain = cpu_of(untagged)
            untagged_cpu.append(seconds)
    with tempfile.TemporaryDirectory(prefix="medpdf-chunk-") as folder:
        merged_cpu, merged_bytes = merge_cpu(made, context, Path(folder))
    cpu, wall = start_up()
    best_tagged = min(tagged_cpu)
    best_untagged = min(untagged_cpu) if untagged_cpu else float("nan")
    print()
    print(f"CPU seconds per layout, smallest of {args.repeat} (this process)")
    print_table(
        ["what", "CPU s", "per page ms", "part bytes"],
        [
            ["tagged (as the booklet)", f"{best_tagged:.2f}",
             f"{best_tagged / made.pages * 1000:.1f}", str(len(made.data))],
            ["untagged (benchmark switch)", f"{best_untagged:.2f}",
             f"{best_untagged / plain.pages * 1000:.1f}", str(len(plain.data))]
            if untagged_cpu else ["untagged", "no switch in this checkout", "-", "-"],
            ["merge of the tagged part alone", f"{merged_cpu:.2f}",
             f"{merged_cpu / made.pages * 1000:.1f}", str(merged_bytes)],
            ["worker start-up (imports)", f"{cpu:.2f}", "-", f"wall {wall:.2f} s"],
        ],
    )  # fmt: skip
    if untagged_cpu:
        print(f"tagged / untagged layout CPU: {best_tagged / best_untagged:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
