"""The compact booklet (--compact, [booklet] compact): a formulary's two columns, run on.

Built from the booklet tests' invented collection (a long Acmotril, short others)
and checked as a reader and a printer would: fewer pages, every page with the
disclaimer and "Page X of Y", the contents and outline pointing at the page where
each title is printed, running heads naming the first and last drug begun on the
page, no title alone at a column foot, no blank page in duplex, the same tags as
the default booklet (one Art per drug, opened by its H1) and a clean pdfua check.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pypdf
import pytest
from conftest import invoke_cli, normalised_page_texts
from pagecheck import Frame, check
from pikepdf import Name
from test_booklet import ORDER, make, write_collection
from test_booklet_structure import assert_marks_match_the_tree, assert_pdfua_clean, kids, walk

from medpdf.products.booklet import plan

HEADER_BAND = 20 * 72 / 25.4  # the running heads sit above the 22 mm top margin


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_collection(tmp_path_factory.mktemp("compact") / "content")


@pytest.fixture(scope="module")
def books(collection: Path) -> dict[str, Path]:
    """The same collection as a default booklet, a compact one and a compact duplex one."""
    made = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "COMPACT_LIMIT", 4)  # two runs in letter A's group and more
        for name, options in (
            ("default", {}),
            ("compact", {"compact": True}),
            ("duplex", {"compact": True, "duplex": True}),
        ):
            report = make(collection, collection.parent / name, **options)
            assert report.target is not None and report.monographs == len(ORDER)
            made[name] = report.target
    return made


def outline(path: Path) -> list[tuple[str, int, int]]:
    """(title, level, 1-based page) of every outline entry, in order."""
    reader = pypdf.PdfReader(path)
    found: list[tuple[str, int, int]] = []

    def visit(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                visit(item, level + 1)
            else:
                found.append((item.title, level, reader.get_destination_page_number(item) + 1))

    visit(reader.outline, 0)
    return found


def bodies(path: Path) -> list[str]:
    """Each page's text below the running heads, whitespace normalised."""
    with pdfplumber.open(path) as pdf:
        return [
            " ".join((page.crop((0, HEADER_BAND, page.width, page.height)).extract_text()).split())
            for page in pdf.pages
        ]


def heads(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [
            " ".join((page.crop((0, 0, page.width, HEADER_BAND)).extract_text() or "").split())
            for page in pdf.pages
        ]


def body_pages(path: Path) -> int:
    """Pages from the first monograph to the index."""
    entries = outline(path)
    first = next(page for _, level, page in entries if level == 1)
    return entries[-1][2] - first


def test_compact_booklet_takes_far_fewer_pages(books: dict[str, Path]) -> None:
    # Here six letters of one or two short monographs each start a page; the corpus
    # test measures the collection (at most 40 % of the default booklet's pages).
    default, compact = body_pages(books["default"]), body_pages(books["compact"])
    assert compact <= 0.6 * default, (compact, default)
    total = len(pypdf.PdfReader(books["compact"]).pages)
    assert total < len(pypdf.PdfReader(books["default"]).pages)


def test_every_page_has_the_disclaimer_and_page_x_of_y(books: dict[str, Path]) -> None:
    texts = normalised_page_texts(books["compact"])
    for number, text in enumerate(texts, 1):
        assert "not medical advice" in text, number
        assert f"Page {number} of {len(texts)}" in text, number


def test_outline_and_contents_open_the_page_where_each_title_is_printed(
    books: dict[str, Path],
) -> None:
    path = books["compact"]
    entries = outline(path)
    drugs = [(title, page) for title, level, page in entries if level == 1]
    assert [title for title, _ in drugs] == ORDER
    letters = [title for title, level, _ in entries if level == 0]
    assert letters[0] == "Contents" and letters[-1] == "Ingredient index"
    texts = bodies(path)
    for title, page in drugs:
        assert title in texts[page - 1], (title, page)
    # The contents' numbers are those pages too, and they run on in columns.
    contents = next(t for t in texts if t.startswith("Contents"))
    for title, page in drugs:
        assert re.search(rf"{re.escape(title)} {page}\b", contents), (title, contents)
    # Monographs share pages: fewer pages hold a title than there are drugs.
    assert len({page for _, page in drugs}) < len(drugs)


def test_running_heads_name_the_first_and_last_drug_begun_on_the_page(
    books: dict[str, Path],
) -> None:
    path = books["compact"]
    drugs = [(title, page) for title, level, page in outline(path) if level == 1]
    header = heads(path)
    for page in {page for _, page in drugs}:
        begun = [title for title, at in drugs if at == page]
        assert header[page - 1].startswith(begun[0]), (page, header[page - 1])
        assert header[page - 1].endswith(begun[-1]), (page, header[page - 1])


def test_no_title_is_left_alone_at_a_column_foot(books: dict[str, Path]) -> None:
    path = books["compact"]
    texts = bodies(path)
    first_body = next(n for n, t in enumerate(texts, 1) if t.startswith("A "))
    frame = Frame.mm(22, 24, columns=2)
    breaches = [b for b in check(path, frame) if b.kind == "orphaned heading"]
    assert not [b for b in breaches if b.page >= first_body], breaches


def test_duplex_compact_has_no_blank_page_and_the_same_margins_on_both_sides(
    books: dict[str, Path],
) -> None:
    path = books["duplex"]
    texts = normalised_page_texts(path)
    assert not [n for n, t in enumerate(texts, 1) if "intentionally left blank" in t]
    assert len(texts) == len(normalised_page_texts(books["compact"]))
    with pdfplumber.open(path) as pdf:
        lefts = {round(min(c["x0"] for c in page.chars)) for page in pdf.pages[2:]}
    assert max(lefts) - min(lefts) <= 3, lefts  # 18 mm on every page, left or right


def test_tags_are_the_default_booklets(books: dict[str, Path]) -> None:
    path = books["compact"]
    assert_marks_match_the_tree(path)
    with pikepdf.open(path) as pdf:
        document = kids(pdf.Root.StructTreeRoot)[0]
        articles = [k for k in kids(document) if Name.Art == k.S]
        assert len(articles) == len(ORDER)
        for article in articles:
            types = [e.S for e, _ in walk(article)]
            assert Name.H1 in types and types.index(Name.H1) < types.index(Name.H2)
        assert not [k for k in kids(document) if Name.Div == k.S]  # no column boxes
    assert_pdfua_clean(path)


def test_compact_is_a_booklet_setting_too(collection: Path, tmp_path: Path) -> None:
    (tmp_path / "medpdf.toml").write_text("[booklet]\ncompact = true\n", encoding="utf-8")
    with contextlib.chdir(tmp_path):
        result = invoke_cli("booklet", "--content", str(collection), "-j", "1")
    assert result.exit_code == 0, result.output
    made = tmp_path / "output" / "booklet.pdf"
    # Set in two columns: text on both halves of a monograph page.
    with pdfplumber.open(made) as pdf:
        page = pdf.pages[len(pdf.pages) // 2]
        xs = [c["x0"] for c in page.chars if c["top"] > HEADER_BAND]
    assert min(xs) < page.width / 3 and max(xs) > page.width / 2
