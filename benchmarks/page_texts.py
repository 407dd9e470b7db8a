"""Extract the text of every page medpdf prints for a sample of the corpus, as JSON.

The output is a fixed point to compare two versions of medpdf against: run this
script once with each version (``--medpdf`` picks how medpdf is run) and compare
the two JSON files with ``compare_texts.py``.

What it does:

1. picks ``--count`` monographs evenly spaced over the sorted paths of
   ``--corpus`` (``<letter>/<slug>.md``; deterministic) and copies them into
   ``WORK/content/<letter>/<slug>.md``; with ``--booklet-count`` the booklet gets
   a sample of its own that size, in ``WORK/booklet-content``;
2. runs ``<medpdf> handouts --content WORK/content``, then
   ``<medpdf> booklet --content WORK/booklet-content`` (or ``WORK/content``) and
   ``--packs`` times ``<medpdf> pack`` with 1, 3, 5, ... medicines taken in
   turn from the handout sample, with ``WORK`` as the working folder, so the PDFs
   land in ``WORK/output/handouts/<slug>.pdf``, ``WORK/output/booklet.pdf`` and
   ``WORK/output/packs/pack-<n>.pdf``;
3. extracts the text of each page with pypdf, collapses every run of whitespace
   to one space, and replaces the printed date with ``<date>`` so that runs made
   on different days compare equal: every ISO date that follows "Printed", and
   that same date anywhere else in the same PDF (pypdf puts the booklet cover's
   "Printed" label and its date far apart);
4. writes ``{"handouts": {slug: [page text, ...]}, "booklet": [page text, ...],
   "packs": {name: [page text, ...]}}``.

Usage::

    python page_texts.py --corpus ../shared/corpus --count 50 --booklet-count 300 \\
        --packs 3 --medpdf "python -m medpdf" --work /tmp/pt-work --out texts.json
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from _common import copy_sample, corpus_files, even_sample
from pypdf import PdfReader

PRINTED_DATE = re.compile(r"(Printed)\s*(\d{4}-\d{2}-\d{2})")


def run_medpdf(
    prefix: Sequence[str], args: Sequence[str], work: Path, allowed: frozenset[int] = frozenset({0})
) -> None:
    """Run ``prefix + args`` in ``work``; exit with its output if its status is not ``allowed``.

    A build exits 1 when some monographs were left out (errors in the sample, or
    files ``check`` calls not a leaflet): their lines go to stderr here, and the
    PDFs it made are compared as usual.
    """
    argv = [*prefix, *args]
    done = subprocess.run(argv, cwd=work, capture_output=True, text=True, check=False)
    if done.returncode == 1 and 1 in allowed:
        left_out = [line for line in done.stderr.splitlines() if line.startswith("left out:")]
        sys.stderr.write("".join(f"page_texts: {line}\n" for line in left_out))
    elif done.returncode not in allowed:
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit(f"page_texts: {shlex.join(argv)} exited with status {done.returncode}")


def normalise(pages: Sequence[str]) -> list[str]:
    """One space between words, and no printed date (see the module docstring)."""
    texts = [" ".join(text.split()) for text in pages]
    dates = {match.group(2) for text in texts for match in PRINTED_DATE.finditer(text)}
    texts = [PRINTED_DATE.sub(r"\1 <date>", text) for text in texts]
    for date in sorted(dates):
        texts = [text.replace(date, "<date>") for text in texts]
    return texts


def page_texts(pdf: Path) -> list[str]:
    """The normalised text of each page of ``pdf``."""
    return normalise([page.extract_text() or "" for page in PdfReader(pdf).pages])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Build handouts and the booklet of an evenly spaced corpus sample with "
        "medpdf and write the text of every page as JSON."
    )
    parser.add_argument("--corpus", type=Path, required=True, help="monograph collection")
    parser.add_argument(
        "--count", type=int, default=50, help="monographs in the sample (default 50)"
    )
    parser.add_argument(
        "--booklet-count",
        type=int,
        default=None,
        help="monographs in the booklet's own sample (default: the handout sample)",
    )
    parser.add_argument("--packs", type=int, default=0, help="medication packs to make (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument(
        "--medpdf",
        default="python -m medpdf",
        help='command prefix that runs medpdf, shell-split (default "python -m medpdf")',
    )
    parser.add_argument(
        "--work",
        type=Path,
        required=True,
        help="working folder (created; must not exist or be empty)",
    )
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    if args.booklet_count is not None and args.booklet_count < 1:
        parser.error("--booklet-count must be at least 1")
    if args.packs < 0:
        parser.error("--packs must not be negative")
    if not args.corpus.is_dir():
        parser.error(f"--corpus {args.corpus} is not a folder")
    if args.work.exists() and any(args.work.iterdir()):
        parser.error(f"--work {args.work} is not empty")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Build, extract and write the JSON; 0 on success."""
    args = parse_args(argv)
    corpus = args.corpus.resolve()
    work = args.work.resolve()
    content = work / "content"
    prefix = shlex.split(args.medpdf)

    files = corpus_files(corpus)
    sample = even_sample(files, args.count)
    copy_sample(sample, corpus, content)
    booklet_content = content
    if args.booklet_count is not None:
        booklet_content = work / "booklet-content"
        copy_sample(even_sample(files, args.booklet_count), corpus, booklet_content)
    builds = frozenset({0, 1})  # 1: some monographs left out, the rest built
    run_medpdf(prefix, ["handouts", "--content", str(content)], work, builds)
    run_medpdf(prefix, ["booklet", "--content", str(booklet_content)], work, builds)
    handouts_dir = work / "output" / "handouts"
    # Slugs of handouts that were made: a sampled file with an error is in no pack.
    slugs = sorted(pdf.stem for pdf in handouts_dir.glob("*.pdf"))
    packs_dir = work / "output" / "packs"
    for number in range(args.packs):
        size = 2 * number + 1
        names = [slugs[(number * 7 + i) % len(slugs)] for i in range(size)]
        target = packs_dir / f"pack-{number + 1}.pdf"
        run_medpdf(prefix, ["pack", *names, "--content", str(content), "-o", str(target)], work)

    handouts = {pdf.stem: page_texts(pdf) for pdf in sorted(handouts_dir.glob("*.pdf"))}
    booklet = page_texts(work / "output" / "booklet.pdf")
    packs = {pdf.stem: page_texts(pdf) for pdf in sorted(packs_dir.glob("*.pdf"))}
    result = {"handouts": handouts, "booklet": booklet, "packs": packs}
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    pages = sum(len(texts) for texts in handouts.values())
    print(
        f"{len(sample)} monographs sampled; {len(handouts)} handouts ({pages} pages), "
        f"booklet {len(booklet)} pages, {len(packs)} packs "
        f"({sum(len(texts) for texts in packs.values())} pages) -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
