"""The booklet merge at full-collection scale: tagged parts vs the same parts untagged.

Laying out the whole corpus takes longer than this benchmark should, and the
merge (``medpdf.pdf.assemble``) is the one step whose cost the tag merge adds
to at booklet scale. So:

1. ``--sample`` monographs (default 96) evenly spaced over the corpus are laid
   out in this process as booklet chunks of 24, exactly as a build's workers
   do (``entries_task``: tagged, tidied). The seconds per chunk are printed.
2. An *untagged* copy of each chunk is made by deleting its structure (the
   tree's data, ``/MarkInfo``, any ``/StructParents`` and ``/StructParent``;
   the marked-content operators stay in the streams, which are copied
   without being decoded): the parts of the merge before tags.
3. For each variant, a child process merges the chunks, repeated until the
   booklet has ``--pages`` pages (default 21,000, the whole collection), with
   the real stamp (drawn before the timer starts), links, outline and
   structure, and saves it. Its wall time and peak RSS (``ru_maxrss`` of the
   child, which does everything in one process) are printed, and the time of
   the same merge again with the surveys, fonts and segments the first one
   kept ("kept"), which is what a rebuild after an edit costs, less one part.

Usage::

    .venv/bin/python benchmarks/booklet_merge.py                  # 96 monographs, 21,000 pages
    .venv/bin/python benchmarks/booklet_merge.py --pages 2000     # quick check
    .venv/bin/python benchmarks/booklet_merge.py --layout DIR     # lay out once, reuse after
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_CORPUS,
    corpus_files,
    even_sample,
    positive_int,
    print_environment,
    print_table,
    require_corpus,
)

SCRIPT = "booklet_merge.py"
CHUNK = 24


def lay_out(files: Sequence[Path], corpus: Path, work: Path) -> dict[str, list[dict[str, Any]]]:
    """Lay the sample out as tagged chunks; returns the manifest of chunk files and page counts."""
    from medpdf.atomic import write_atomic
    from medpdf.content import sources
    from medpdf.products.booklet.tasks import EntriesJob, entries_task
    from medpdf.run.contract import RunContext
    from medpdf.settings import config

    context = RunContext.of(config.make(content_dir=corpus, output_dir=work / "output"))
    chunks = []
    for start in range(0, len(files), CHUNK):
        batch = tuple(sources.read(path) for path in files[start : start + CHUNK])
        target = work / f"tagged-{start // CHUNK}.pdf"
        started = time.perf_counter()
        result = entries_task(EntriesJob(batch, ("",) * len(batch), context, target.name))
        write_atomic(target, result.data)
        seconds = time.perf_counter() - started
        chunks.append({"file": str(target), "pages": list(result.page_counts), "s": seconds})
        print(
            f"  chunk {len(chunks)}: {len(batch)} monographs, {result.pages} pages, {seconds:.1f} s"
        )
    return {"chunks": chunks}


def untagged_copy(path: Path) -> Path:
    """The same chunk without its structure: what the merge got before tags."""
    import pikepdf

    target = path.with_name(path.name.replace("tagged", "untagged"))
    with pikepdf.open(path) as pdf:
        for key in ("/StructTreeRoot", "/MarkInfo", "/MedpdfStructure", "/MedpdfLinks"):
            if key in pdf.Root:
                del pdf.Root[key]
        for page in pdf.pages:
            if "/StructParents" in page.obj:
                del page.obj["/StructParents"]
            for annot in page.obj.get("/Annots", []):
                if "/StructParent" in annot:
                    del annot["/StructParent"]
        pdf.save(target)
    return target


def merge_child(manifest: Path, variant: str, pages: int, out: Path) -> None:
    """Child side: merge the variant's chunks up to ``pages`` pages; print JSON figures."""
    from medpdf.atomic import write_atomic, write_atomic_with
    from medpdf.pdf import stamp
    from medpdf.pdf.assemble import BookletMeta, Placed, assemble
    from medpdf.products.booklet import words as booklet_words
    from medpdf.settings.config import DEFAULT_RESOURCES

    chunks = json.loads(manifest.read_text())["chunks"]
    parts: list[Path] = []
    placed: list[Placed] = []
    first = 0
    while first < pages:
        for chunk in chunks:
            parts.append(Path(chunk[variant]))
            for count in chunk["pages"]:
                slug = f"m{len(placed)}"
                placed.append(Placed(slug, slug, "A", first, count))
                first += count
    sizes_seen: list[int] = []

    # The stamp is drawn before the clock starts (in files, as a build does): it is
    # the same for both variants.
    size = (595.2756, 841.8898)
    style = stamp.load_style(DEFAULT_RESOURCES.styles)
    words = stamp.StampWords(booklet_words.PAGE_OF, booklet_words.PRINTED, "en")
    stamps: list[Path] = []
    for start in range(0, first, stamp.STAMP_PAGES):
        count = min(stamp.STAMP_PAGES, first - start)
        stamps.append(out.with_suffix(f".stamp-{start}.pdf"))
        write_atomic(
            stamps[-1],
            stamp.stamp_pdf([size] * count, style, dt.date(2030, 1, 2), words, start + 1, first),
        )

    def stamp_for(sizes: Sequence[tuple[float, float]]) -> list[Path]:
        sizes_seen.append(len(sizes))
        return stamps

    meta = BookletMeta(
        "Bench", "en", "bench", "Contents", "Ingredient index", booklet_words.PAGE_LINK
    )
    kept = _Kept()
    started = time.perf_counter()
    made = assemble(parts, stamp_for, placed, 0, meta, memo=kept)
    write_atomic_with(out, made.save)
    total = made.pages
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    # The same merge again with what the first one kept (in memory here, in the store in
    # a build): what a rebuild after an edit that moves no page costs, less one part.
    started = time.perf_counter()
    again = assemble(parts, stamp_for, placed, 0, meta, memo=kept)
    write_atomic_with(out, again.save)
    again_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "pages": total,
                "seconds": seconds,
                "peak_bytes": peak,
                "bytes": out.stat().st_size,
                "again_seconds": again_seconds,
            }
        )
    )


class _Kept(dict[str, bytes]):
    """What the merge keeps for the next one, in memory (a build keeps it in its store)."""

    def recall(self, key: str) -> bytes | None:
        return self.get(key)

    def keep(self, key: str, data: bytes) -> None:
        self[key] = data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sample", type=positive_int, default=96)
    parser.add_argument("--pages", type=positive_int, default=21_000)
    parser.add_argument(
        "--layout",
        type=Path,
        help="folder for the laid-out chunks, kept; a later run with it merges them again",
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("MANIFEST", "VARIANT", "PAGES", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        manifest, variant, pages, out = args.child
        merge_child(Path(manifest), variant, int(pages), Path(out))
        return 0
    corpus = require_corpus(args.corpus, SCRIPT)
    print_environment(
        corpus, [("sample", f"{args.sample} monographs"), ("merged", f"{args.pages:,} pages")]
    )
    files = even_sample(corpus_files(corpus), args.sample)
    with contextlib.ExitStack() as stack:
        if args.layout is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="medpdf-merge-")))
        else:
            work = args.layout.resolve()
            work.mkdir(parents=True, exist_ok=True)
        if (work / "manifest.json").exists():
            print(f"reusing the chunks laid out in {work}")
        else:
            print("laying out (tagged, tidied)")
            manifest = lay_out(files, corpus, work)
            for chunk in manifest["chunks"]:
                chunk["tagged"] = chunk["file"]
                chunk["untagged"] = str(untagged_copy(Path(chunk["file"])))
            (work / "manifest.json").write_text(json.dumps(manifest))
        rows = []
        figures = {}
        for variant in ("untagged", "tagged"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(work / "manifest.json"),
                    variant,
                    str(args.pages),
                    str(work / f"{variant}.pdf"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            figures[variant] = result
            rows.append(
                [
                    variant,
                    f"{result['pages']:,}",
                    f"{result['seconds']:.1f}",
                    f"{result['peak_bytes'] / 2**20:,.0f}",
                    f"{result['bytes'] / 2**20:,.0f}",
                    f"{result['again_seconds']:.1f}",
                ]
            )
        print("merge (assemble: copy, structure, stamp overlay, links, outline, save)")
        print_table(["parts", "pages", "seconds", "peak MiB", "file MiB", "kept: s"], rows)
        before, after = figures["untagged"], figures["tagged"]
        time_ratio = after["seconds"] / before["seconds"]
        memory_ratio = after["peak_bytes"] / before["peak_bytes"]
        print(f"tagged / untagged: time x{time_ratio:.2f}, peak memory x{memory_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
