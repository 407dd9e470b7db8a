"""Pages a printer would sign off: the page check on fixtures and on real output.

``pagecheck`` reads what is printed and reports under-filled pages and orphaned
headings (see its docstring). The unit tests prove it sees each fault on a PDF
drawn by hand; the corpus tests run it on a fixed-seed sample of real handouts
and on a 300-monograph booklet, and fail on any breach.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pypdf
import pytest
from click.testing import Result
from conftest import invoke_cli
from pagecheck import Frame, PageFill, check, measure
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

# The handout's page margins (styles/handout.css and large-print.css), in mm.
HANDOUT = Frame.mm(22, 24)
LARGE_PRINT = Frame.mm(26, 38)

#: Seeds of the corpus samples: fixed, so a breach found once is found again.
HANDOUT_SEED = 25
BOOKLET_SEED = 300
#: Handouts the issue found with a half-empty page before "Questions and answers".
NAMED = ("ulobetasol-halobetasol", "aspirin", "nitazoxanide-ofloxacin")


# --------------------------------------------------------------------------- fixtures


def _draw(path: Path, pages: Iterable[list[tuple[str, float, bool]]]) -> Path:
    """A PDF whose pages hold the given lines: (text, size, bold), 18 pt apart from the top."""
    sheet = canvas.Canvas(str(path), pagesize=A4)
    height = A4[1]
    for lines in pages:
        y = height - HANDOUT.top - 14
        for text, size, bold in lines:
            sheet.setFont("Helvetica-Bold" if bold else "Helvetica", size)
            sheet.drawString(50, y, text)
            y -= size * 1.5
        sheet.setFont("Helvetica", 8)
        sheet.drawString(50, 30, "Footer: not part of the text area")
        sheet.showPage()
    sheet.save()
    return path


def _full(count: int) -> list[tuple[str, float, bool]]:
    return [(f"Body line {n} of a full page of text.", 12, False) for n in range(count)]


def test_a_full_page_and_a_short_last_page_pass(tmp_path: Path) -> None:
    pdf = _draw(tmp_path / "ok.pdf", [_full(38), _full(5)])
    fills = [page.fill for page in measure(pdf, HANDOUT)]
    assert fills[0] > 0.9 and fills[1] < 0.2
    assert check(pdf, HANDOUT) == []


def test_a_half_empty_page_inside_the_document_is_a_breach(tmp_path: Path) -> None:
    pdf = _draw(tmp_path / "short.pdf", [_full(38), _full(18), _full(38)])
    found = check(pdf, HANDOUT)
    assert [(b.page, b.kind) for b in found] == [(2, "under-filled")]
    assert "of the page empty" in found[0].detail
    # Named as the end of a part (a booklet's monograph), the same page is fine.
    assert check(pdf, HANDOUT, ends=[2]) == []


def test_a_heading_at_the_page_foot_is_a_breach(tmp_path: Path) -> None:
    last_line = [*_full(36), ("Possible side effects", 15, True)]
    one_under = [*_full(35), ("Possible side effects", 15, True), ("Rash", 12, False)]
    two_under = [*_full(34), ("Possible side effects", 15, True), *_full(2)]
    for lines, after in ((last_line, 0), (one_under, 1)):
        pdf = _draw(tmp_path / f"orphan{after}.pdf", [lines, _full(10)])
        found = check(pdf, HANDOUT)
        assert [(b.page, b.kind) for b in found] == [(1, "orphaned heading")], found
        assert f"'Possible side effects' with {after} line(s)" in found[0].detail
    pdf = _draw(tmp_path / "kept.pdf", [two_under, _full(10)])
    assert check(pdf, HANDOUT) == []


def test_a_short_section_ending_at_the_page_foot_is_no_breach(tmp_path: Path) -> None:
    # "Generic name" and its one line end the page; the next section starts over the page.
    page = [*_full(35), ("Generic name", 15, True), ("Aspirin", 12, False)]
    following = [("How it works", 15, True), *_full(5)]
    pdf = _draw(tmp_path / "short-section.pdf", [page, following])
    assert check(pdf, HANDOUT) == []


def test_columns_are_checked_each_on_its_own(tmp_path: Path) -> None:
    # A heading at the foot of the left column of a two-column page.
    path = tmp_path / "columns.pdf"
    sheet = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for x, lines in ((50, [*_full(36), ("Heading", 15, True)]), (width / 2 + 10, _full(37))):
        y = height - HANDOUT.top - 14
        for text, size, bold in lines:
            sheet.setFont("Helvetica-Bold" if bold else "Helvetica", size)
            sheet.drawString(x, y, text[:30])
            y -= size * 1.5
    sheet.showPage()
    sheet.setFont("Helvetica", 12)
    sheet.drawString(50, height - 100, "The end.")
    sheet.showPage()
    sheet.save()
    found = check(path, Frame.mm(22, 24, columns=2))
    assert [(b.page, b.kind) for b in found] == [(1, "orphaned heading")]
    # Read as one column the heading is not at the foot (the right column's lines follow).
    assert check(path, HANDOUT) == []


# --------------------------------------------------------------------------- corpus


def _sample(corpus: Path, count: int, seed: int, named: Iterable[str] = ()) -> list[Path]:
    files = sorted(corpus.glob("*/*.md"))
    chosen = {f.stem: f for f in random.Random(seed).sample(files, count)}
    for slug in named:
        chosen.update({f.stem: f for f in files if f.stem == slug})
    return sorted(chosen.values())


def _link_sample(paths: Iterable[Path], folder: Path) -> Path:
    for path in paths:
        target = folder / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path)
    return folder


def _built(result: Result) -> None:
    """The build made what it could: the collection's content rules leave some out."""
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert "left out:" in result.stderr and ": error: not a leaflet" in result.stdout, (
            result.output[-3000:]
        )


def _report(breaches: dict[str, list[str]], seed: int) -> str:
    lines = [f"{name}: {b}" for name, found in sorted(breaches.items()) for b in found]
    return f"seed {seed}: {len(breaches)} documents with breaches\n" + "\n".join(lines)


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_handouts_have_no_underfilled_page_and_no_orphaned_heading(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = _sample(corpus_dir, 210, HANDOUT_SEED, NAMED)
    content = _link_sample(sample, tmp_path / "content")
    monkeypatch.chdir(tmp_path)
    result = invoke_cli("handouts", "--content", str(content))
    _built(result)
    made = sorted((tmp_path / "output" / "handouts").glob("*.pdf"))
    assert len(made) >= 200, len(made)
    breaches = {pdf.stem: [str(b) for b in check(pdf, HANDOUT)] for pdf in made}
    breaches = {name: found for name, found in breaches.items() if found}
    assert not breaches, _report(breaches, HANDOUT_SEED)


def blank_pages(pages: Sequence[PageFill]) -> set[int]:
    """Pages that say they are left blank on purpose (a duplex booklet's padding)."""
    return {
        page.number
        for page in pages
        if any(
            "intentionallyleftblank" in line.text.replace(" ", "") for c in page.lines for line in c
        )
    }


def booklet_ends(path: Path, pages: Sequence[PageFill], drugs: bool = True) -> set[int]:
    """Pages of a booklet that may end short: the cover, a part's last page, blank pages.

    A part (the contents, a letter, a monograph in the default layout, the index)
    ends on the page before the next outline destination; a duplex blank page and
    the page before it end their part too. Without ``drugs`` (the compact booklet,
    where monographs run on) only the top of the outline starts parts.
    """
    reader = pypdf.PdfReader(path)
    starts: set[int] = set()
    todo: list[Any] = list(reader.outline)
    while todo:
        item = todo.pop()
        if isinstance(item, list):
            if drugs:
                todo += item
        else:
            starts.add(reader.get_destination_page_number(item) + 1)
    blanks = blank_pages(pages)
    return {1} | {n - 1 for n in starts} | blanks | {n - 1 for n in blanks}


@pytest.fixture(scope="module")
def booklet_sample(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 corpus monographs (fixed seed), linked into a content folder of their own."""
    root = tmp_path_factory.mktemp("booklet-sample")
    return _link_sample(_sample(corpus_dir, 300, BOOKLET_SEED), root / "content")


def _build_booklet(content: Path, name: str, *flags: str) -> Path:
    folder = content.parent / name
    folder.mkdir()
    with contextlib.chdir(folder):
        result = invoke_cli("booklet", "--content", str(content), *flags)
    _built(result)
    return folder / "output" / "booklet.pdf"


@pytest.fixture(scope="module")
def default_booklet(booklet_sample: Path) -> Path:
    return _build_booklet(booklet_sample, "default", "--duplex")


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_duplex_booklet_pages_are_full_and_few_are_blank(default_booklet: Path) -> None:
    path = default_booklet
    pages = measure(path, HANDOUT)
    breaches = check(pages, ends=booklet_ends(path, pages))
    assert not breaches, _report({path.name: [str(b) for b in breaches]}, BOOKLET_SEED)
    # Before: every monograph of odd length was followed by a blank page (14.5 %).
    blanks = blank_pages(pages)
    assert len(blanks) <= 0.05 * len(pages), (len(blanks), len(pages))


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_compact_booklet_is_at_most_two_fifths_and_has_no_blank_page(
    booklet_sample: Path, default_booklet: Path
) -> None:
    path = _build_booklet(booklet_sample, "compact", "--duplex", "--compact")
    columns = Frame.mm(22, 24, columns=2)
    pages = measure(path, lambda number: HANDOUT if number <= 2 else columns)
    breaches = check(pages, ends=booklet_ends(path, pages, drugs=False))
    assert not breaches, _report({path.name: [str(b) for b in breaches]}, BOOKLET_SEED)
    default = len(pypdf.PdfReader(default_booklet).pages)
    assert len(pages) <= 0.4 * default, (len(pages), default)
    assert len(blank_pages(pages)) <= 0.01 * len(pages)
