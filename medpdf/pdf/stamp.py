"""The booklet's stamp: "Page X of Y" and the printed date, drawn on top of laid-out pages.

Chunks of the booklet are laid out once and cached, so nothing that changes
with the whole (the page count) or with the day (the printed date) can be in
them; it is drawn here, one small page per booklet page, and overlaid after
the merge. WeasyPrint would take ~9 ms a page for this; reportlab takes well
under 1 ms. Where and how it is drawn lives with the other presentation
files, in ``styles/booklet-stamp.toml``; what it says is the booklet
language's (:class:`StampWords`).

reportlab draws a font's glyphs one after another: right for Latin, Greek or
Cyrillic words, wrong for a script that joins or reorders its letters (Arabic,
Hebrew) and impossible where the font has no glyphs (Chinese). There the stamp
says only what every reader reads: ``4 / 5`` and the ISO date. On a
right-to-left page it sits on the left, in the footer's box for it.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from medpdf import i18n
from medpdf.errors import MedpdfError


@dataclass(frozen=True)
class StampStyle:
    """Where and how the booklet-wide page number and the date are drawn."""

    font: str
    size_pt: float
    color: str
    right_mm: float
    baseline_mm: float
    #: The two lines where the language's words cannot be drawn: numbers only.
    plain_text: str
    date_size_pt: float
    date_baseline_mm: float
    plain_date_text: str
    #: Duplex: the right margin of left-hand (even) pages, which is the inner one.
    left_page_right_mm: float | None = None

    def edge_mm(self, number: int) -> float:
        """How far from the page's edge page ``number`` (from 1) ends its stamp.

        The right edge, or the left one on a right-to-left page: such a book
        mirrors its pages, so the distances by page number are the same.
        """
        if self.left_page_right_mm is not None and number % 2 == 0:
            return self.left_page_right_mm
        return self.right_mm


@dataclass(frozen=True)
class StampWords:
    """What the stamp says, in the booklet's language (its catalog's translations)."""

    #: "Page %(page)s of %(pages)s", translated.
    page: str
    #: "Printed %(date)s", translated.
    printed: str
    #: The booklet's language (BCP 47): its digit grouping, its writing direction.
    lang: str

    @property
    def rtl(self) -> bool:
        """True when the booklet's pages run right to left."""
        return i18n.is_rtl(self.lang)


def load_style(styles_dir: Path, large_print: bool = False, duplex: bool = False) -> StampStyle:
    """Read the stamp's geometry; it lives with the other presentation files."""
    with (styles_dir / "booklet-stamp.toml").open("rb") as handle:
        raw = tomllib.load(handle)
    overrides = raw.pop("large_print", {})
    mirrored = raw.pop("duplex", {})
    if large_print:
        raw.update(overrides)
    if duplex:
        raw.update(mirrored)
    return StampStyle(
        font=str(raw["font"]),
        size_pt=float(raw["size_pt"]),
        color=str(raw["color"]),
        right_mm=float(raw["right_mm"]),
        baseline_mm=float(raw["baseline_mm"]),
        plain_text=str(raw["plain_text"]),
        date_size_pt=float(raw["date_size_pt"]),
        date_baseline_mm=float(raw["date_baseline_mm"]),
        plain_date_text=str(raw["plain_date_text"]),
        left_page_right_mm=(
            float(raw["left_page_right_mm"]) if "left_page_right_mm" in raw else None
        ),
    )


@cache
def _font_file(family: str) -> str:
    """The font file fontconfig picks for ``family``, the same one WeasyPrint uses."""
    found = subprocess.run(
        ["fc-match", "--format=%{file}", family], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not found:
        raise MedpdfError(f"no font file for '{family}' (is fontconfig set up?)")
    return found


def _drawable(font: Any, words: StampWords) -> bool:
    """Whether reportlab can set ``words`` as written with ``font``.

    Left to right, and a glyph for every character: scripts that join or
    reorder letters are written right to left here (Arabic, Hebrew), and the
    stamp's font has no glyphs for the others (Chinese, Devanagari).
    """
    sample = (words.page % {"page": "1", "pages": "2"}) + (words.printed % {"date": "2026"})
    covered = font.face.charToGlyph
    return not words.rtl and all(ord(char) in covered for char in sample)


#: Booklet pages per stamp file. The stamp of the whole collection drawn as one file
#: took 140 MB to draw and 80 MB to open again; in files of this many pages, a few.
STAMP_PAGES = 2000


def stamp_pdf(
    sizes: Sequence[tuple[float, float]],
    style: StampStyle,
    printed: dt.date,
    words: StampWords,
    first: int = 1,
    total: int | None = None,
) -> bytes:
    """One page per booklet page holding only its "Page X of Y" and the printed date.

    ``sizes`` are those of pages ``first`` (from 1) onwards of a booklet of
    ``total`` pages (by default, these pages alone).
    """
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font_name = "MedpdfStamp"
    if font_name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(font_name, _font_file(style.font)))
    buffer = io.BytesIO()
    sheet = canvas.Canvas(
        buffer,
        pageCompression=1,
        invariant=1,
        initialFontName=font_name,  # otherwise every page also names Helvetica
        initialFontSize=style.size_pt,
    )
    total = len(sizes) if total is None else total
    # The date stays ISO in every language: it fits the footer's box, which a long
    # date in Spanish ("31 de diciembre de 2026") would not.
    if _drawable(pdfmetrics.getFont(font_name), words):
        date_line = words.printed % {"date": printed.isoformat()}
        pages = i18n.number(total, words.lang)

        def page_line(number: int) -> str:
            return words.page % {"page": i18n.number(number, words.lang), "pages": pages}
    else:
        date_line = style.plain_date_text.format(date=printed.isoformat())

        def page_line(number: int) -> str:
            return style.plain_text.format(page=f"{number:,}", pages=f"{total:,}")

    rtl = words.rtl
    for number, (width, height) in enumerate(sizes, start=first):
        sheet.setPageSize((width, height))
        sheet.setFillColor(HexColor(style.color))
        edge = style.edge_mm(number) * mm
        for text, size, baseline in (
            (page_line(number), style.size_pt, style.baseline_mm),
            (date_line, style.date_size_pt, style.date_baseline_mm),
        ):
            sheet.setFont(font_name, size)
            if rtl:
                sheet.drawString(edge, baseline * mm, text)
            else:
                sheet.drawRightString(width - edge, baseline * mm, text)
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()
