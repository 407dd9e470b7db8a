"""The booklet per language: its monographs, and their order and letters by that language.

The fixture collection (tests/fixtures/collation) has English originals without
``lang:``, Spanish and Chinese translations of some of them and one Spanish
original. The booklets are read back from their contents pages and index.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest
from conftest import invoke_cli, normalised_page_texts, write_monograph

from medpdf.content import collation
from medpdf.pdf import stamp
from medpdf.products.booklet import words as booklet_words
from medpdf.settings.config import DEFAULT_RESOURCES

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures" / "collation"

#: (contents heading, running title) of the booklet in each language.
WORDS = {
    "en": ("Contents", "Reference booklet"),
    "es": ("Índice", "Manual de consulta"),
    "zh-Hans": ("目录", "参考手册"),
}

Groups = list[tuple[str, list[tuple[str, int]]]]


def build(folder: Path, name: str, *flags: str, content: Path = FIXTURES) -> Path:
    target = folder / f"{name}.pdf"
    # In the folder: the build's cache and lock (output/) are its own, not those of
    # a build another test runs at the same time.
    with contextlib.chdir(folder):
        result = invoke_cli(
            "booklet", "--content", str(content), "-o", str(target), "-j", "1", *flags
        )
    assert result.exit_code == 0, result.output
    return target


def contents(path: Path, lang: str) -> Groups:
    """The contents pages as (letter, [(title, page), ...]) in printed order.

    The contents start on page 3 (after cover and disclaimer), their letters
    running on, and end before the page its first line points to. A letter is
    the one-character word before a line's title.
    """
    heading, running = WORDS[lang]
    texts = normalised_page_texts(path)
    assert texts[2].startswith(heading + " ")
    groups: Groups = []
    page, first_entry = 2, None
    while first_entry is None or page < first_entry - 1:
        body = texts[page].removeprefix(heading + " ").split(f" {running} ")[0]
        for title, number in re.findall(r"(.+?) (\d+)(?: |$)", body):
            letter, _, rest = title.partition(" ")
            if len(letter) == 1 and rest:
                groups.append((letter, []))
                title = rest
            groups[-1][1].append((title, int(number)))
        first_entry = first_entry or groups[0][1][0][1]
        page += 1
    return groups


def titles(groups: Groups) -> list[str]:
    return [title for _, lines in groups for title, _ in lines]


def printed(groups: Groups) -> str:
    """The groups as the ingredient index prints them (one ingredient a monograph here)."""
    return " ".join(
        letter + " " + " ".join(f"{title} {page}" for title, page in lines)
        for letter, lines in groups
    )


@pytest.fixture(scope="module")
def booklets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("booklet-lang")
    return {
        "en": build(folder, "en"),
        "es": build(folder, "es", "--lang", "es"),
        "zh-Hans": build(folder, "zh", "--lang", "zh-Hans"),
    }


def test_spanish_booklet_sorts_and_groups_by_spanish_rules(booklets):
    groups = contents(booklets["es"], "es")
    # "Ácido" under A (not after Z, not under "#"); "Ñ" its own letter after N.
    assert [(letter, [t for t, _ in lines]) for letter, lines in groups] == [
        ("A", ["Ácido fólico", "Azitromicina"]),
        ("N", ["Nistatina"]),
        ("Ñ", ["Ñandurina"]),
        ("O", ["Ondansetrón", "Oxibutinina"]),
    ]
    # The ingredient index (the last page) follows the same order and letters.
    index = normalised_page_texts(booklets["es"])[-1]
    assert index.startswith("Índice de principios activos ")
    assert printed(groups) in index


def test_spanish_booklet_holds_spanish_monographs_only(booklets):
    texts = " ".join(normalised_page_texts(booklets["es"]))
    # Translations and the Spanish original; none of the English originals (no lang:,
    # so in the default [output] content_lang, en) although --lang is es.
    for english in ("Folic Acid", "Azithromycin", "Nystatin", "Ondansetron", "Amoxicillin"):
        assert english not in texts
    assert "Oxibutinina" in texts
    # Its footer names it by its slug and edition, never by its file.
    assert "oxibutinina · versión" in texts.lower()
    assert ".md" not in texts


def test_chinese_booklet_is_in_pinyin_order(booklets):
    groups = contents(booklets["zh-Hans"], "zh-Hans")
    # Code-point order would be 二 对 布 阿 青; pinyin is a, bu, dui, er, qing.
    assert [(letter, [t for t, _ in lines]) for letter, lines in groups] == [
        ("A", ["阿莫西林"]),
        ("B", ["布洛芬"]),
        ("D", ["对乙酰氨基酚"]),
        ("E", ["二甲双胍"]),
        ("Q", ["青霉素"]),
    ]
    index = normalised_page_texts(booklets["zh-Hans"])[-1]
    assert index.startswith("活性成分索引 ")
    assert printed(groups) in index


def test_english_booklet_leaves_translations_out(booklets):
    groups = contents(booklets["en"], "en")
    assert titles(groups) == [
        "Amoxicillin",
        "Azithromycin",
        "Folic Acid",
        "Ibuprofen",
        "Metformin",
        "Nandurine",
        "Nystatin",
        "Ondansetron",
        "Paracetamol",
        "Penicillin",
    ]
    assert [letter for letter, _ in groups] == ["A", "F", "I", "M", "N", "O", "P"]


def test_content_lang_names_the_language_of_unmarked_monographs(tmp_path: Path):
    content = tmp_path / "content"
    for slug, title in (("nodriza", "Ñu"), ("nube", "Nube"), ("eter", "Éter")):
        write_monograph(content, slug, f"---\ntitle: {title}\n---\nTexto.\n")
    # Without lang:, they are English (the default content_lang): no Spanish booklet.
    empty = tmp_path / "empty.pdf"
    result = invoke_cli("booklet", "--content", str(content), "-o", str(empty), "--lang", "es")
    assert result.exit_code == 0, result.output
    assert not empty.exists()
    spanish = build(tmp_path, "es", "--lang", "es", "--content-lang", "es", content=content)
    groups = contents(spanish, "es")
    assert [(letter, [t for t, _ in lines]) for letter, lines in groups] == [
        ("E", ["Éter"]),
        ("N", ["Nube"]),
        ("Ñ", ["Ñu"]),
    ]


def test_formulary_names_the_drug_in_a_translated_booklet(tmp_path: Path):
    only = tmp_path / "only.txt"
    only.write_text("folic-acid\nNistatina\n", encoding="utf-8")
    path = build(tmp_path, "es", "--lang", "es", "--only", str(only))
    assert titles(contents(path, "es")) == ["Ácido fólico", "Nistatina"]


@pytest.mark.parametrize(
    ("lang", "ranked", "letters"),
    [
        ("es", ["Ábaco", "azul", "nz", "ñu", "Oca"], ["A", "A", "N", "Ñ", "O"]),
        ("en", ["ebola", "Ébrovan", "(R)-dose", "zinc", "5-FU"], ["E", "E", "R", "Z", "#"]),
        ("zh-Hans", ["阿莫西林", "青霉素", "Zinc"], ["A", "Q", "Z"]),
        ("ar", ["أموكسيسيلين", "باراسيتامول", "Zinc"], ["\u0627", "\u0628", "#"]),  # alef, beh
    ],
)
def test_collation_order_and_letters(lang: str, ranked: list[str], letters: list[str]):
    order = collation.for_lang(lang)
    assert order.sorted(reversed(ranked), lambda w: w, lambda w: w) == ranked
    assert [order.letter(w) for w in ranked] == letters


# ------------------------------------------------------------------- the booklet's own words

LANGUAGES = Path(__file__).parent / "fixtures" / "languages"
MM = 72 / 25.4
ISO_DATE = r"\d{4}-\d{2}-\d{2}"


def outline_and_links(path: Path) -> tuple[list[str], list[str]]:
    """The outline's top-level titles, and what the links of the contents pages say."""
    with pikepdf.open(path) as pdf:
        # The file's title (a viewer's window title) is in the booklet's language too.
        title = str(pdf.docinfo["/Title"])
        assert str(pdf.open_metadata()["dc:title"]) == title
        with pdf.open_outline() as outline:
            top = [str(item.title) for item in outline.root]
        said = [
            str(annot.Contents)
            for page in pdf.pages[2:4]
            for annot in page.get("/Annots", [])
            if "/Contents" in annot
        ]
    return [title, *top], said


@pytest.mark.parametrize(
    ("lang", "stamp_line", "outline", "link"),
    [
        # Spanish words, as the pages' own.
        (
            "es",
            "Página {page} de {pages} Impreso el ",
            ("Manual de consulta de medicamentos", "Índice", "Índice de principios activos"),
            r"Ácido fólico, página \d+",
        ),
        # The stamp's font has no Chinese glyphs: numbers and the ISO date, no English.
        (
            "zh-Hans",
            "{page} / {pages} ",
            ("药品参考手册", "目录", "活性成分索引"),
            r"阿莫西林，第 \d+ 页",  # noqa: RUF001 (Chinese punctuation)
        ),
    ],
)
def test_booklet_stamps_outlines_and_links_in_its_language(
    booklets, lang: str, stamp_line: str, outline: tuple[str, str, str], link: str
):
    texts = normalised_page_texts(booklets[lang])
    for number, text in enumerate(texts, start=1):
        line = re.escape(stamp_line.format(page=number, pages=len(texts)))
        assert re.search(line + ISO_DATE, text), text
        assert "Page " not in text and "Printed" not in text
    top, said = outline_and_links(booklets[lang])
    assert (top[0], top[1], top[-1]) == outline
    assert any(re.fullmatch(link, s) for s in said), said


def test_arabic_booklet_stamp_sits_in_the_empty_box_on_the_left(tmp_path: Path):
    path = build(tmp_path, "ar", "--lang", "ar", content=LANGUAGES)
    with pdfplumber.open(path) as pdf:
        total = len(pdf.pages)
        for number, page in enumerate(pdf.pages, start=1):
            words = page.extract_words()
            stamp = [
                w
                for w in words
                if re.fullmatch(ISO_DATE, w["text"]) or w["text"] in (str(number), "/", str(total))
            ]
            # In the bottom margin's left quarter: the footer's "5 October" is not the stamp.
            stamp = [
                w for w in stamp if w["bottom"] > page.height - 22 * MM and w["x1"] < page.width / 4
            ]
            assert {w["text"] for w in stamp} >= {str(number), "/", str(total)}, words[-12:]
            date = next(w for w in stamp if re.fullmatch(ISO_DATE, w["text"]))
            assert abs(date["x0"] - 18 * MM) < 1, date  # from the left margin, as rtl.css puts it
            others = [c for c in page.chars if not any(_inside(c, w) for w in stamp)]
            for word in stamp:  # nothing else is drawn where the stamp is
                assert not [c for c in others if _overlaps(c, word)], (number, word["text"])
    top, said = outline_and_links(path)
    assert top[1] == "المحتويات"
    assert any(s.startswith("إيبوبروفين، صفحة ") for s in said), said


def _inside(char: dict[str, Any], word: dict[str, Any]) -> bool:
    return bool(
        char["x0"] >= word["x0"] - 0.1
        and char["x1"] <= word["x1"] + 0.1
        and char["top"] >= word["top"] - 0.1
        and char["bottom"] <= word["bottom"] + 0.1
    )


def _overlaps(char: dict[str, Any], word: dict[str, Any]) -> bool:
    return bool(
        char["x0"] < word["x1"]
        and char["x1"] > word["x0"]
        and char["top"] < word["bottom"]
        and char["bottom"] > word["top"]
    )


@pytest.mark.parametrize(("lang", "rtl"), [("en", False), ("ar", True)])
def test_duplex_stamp_keeps_to_each_page_s_outer_margin(lang: str, rtl: bool):
    """Page 1 is a right-hand page in a left-to-right book and a left-hand one in Arabic."""
    style = stamp.load_style(DEFAULT_RESOURCES.styles, duplex=True)
    words = stamp.StampWords(booklet_words.PAGE_OF, booklet_words.PRINTED, lang)
    a4 = (595.28, 841.89)
    data = stamp.stamp_pdf([a4, a4], style, dt.date(2030, 1, 2), words)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page, edge_mm in zip(pdf.pages, (12, 24), strict=True):
            date = next(w for w in page.extract_words() if w["text"] == "2030-01-02")
            if rtl:
                assert abs(date["x0"] - edge_mm * MM) < 0.5, (page.page_number, date)
            else:
                assert abs(page.width - date["x1"] - edge_mm * MM) < 0.5, (page.page_number, date)
