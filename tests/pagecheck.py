"""A print professional's page check, on any PDF: how full each page is, and orphaned headings.

This module knows nothing of medpdf: it reads what is printed and judges it
as a printer would, given where the page's text area (the *frame*)
is. Two faults are reported:

- **an under-filled page**: the lowest line of text in the frame is so high that
  more than ``max_empty`` of the frame's height is left empty below it. A
  document's last page is exempt (it ends where the text ends), and so are the
  pages the caller names as ends (in a booklet, each monograph's last page);
- **an orphaned heading**: a heading (bold, larger than the page's body text)
  that is the last text of its column, or is followed by fewer than
  ``min_after`` lines there while its section goes on in the next column or
  page. A short section that ends right there (the next column starts with a
  heading) is no fault.

Columns are found from the frame: ``columns=2`` splits it at its middle. With
``parallel`` columns (a bilingual page: the two languages side by side, each
one's text running down its own column) a page's fill is that of its fuller
column; with flowing ones (a two-column booklet) it is their mean.

Text is read with pypdfium2 (PDFium, which pdfplumber itself uses to draw
pages): each character's baseline, size and font. pdfplumber's own parser
(pdfminer) took 67 s for a 1,046-page booklet, PDFium takes about 10 s.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MM = 72 / 25.4


@dataclass(frozen=True)
class Frame:
    """The text area of a page: its top and bottom margins in points, and its columns."""

    top: float
    bottom: float
    columns: int = 1
    parallel: bool = False

    @classmethod
    def mm(cls, top: float, bottom: float, columns: int = 1, parallel: bool = False) -> Frame:
        """A frame from margins in millimetres, as a stylesheet gives them."""
        return cls(top * MM, bottom * MM, columns, parallel)


@dataclass(frozen=True)
class Line:
    """One line of text in one column: its top and baseline, and whether it is a heading."""

    column: int
    top: float
    bottom: float
    text: str
    heading: bool


@dataclass(frozen=True)
class PageFill:
    """How much of a page's frame its text fills (0 to 1), and its lines by column."""

    number: int  # 1-based
    fill: float
    lines: tuple[tuple[Line, ...], ...]


@dataclass(frozen=True)
class Breach:
    """One fault a printer would send back."""

    page: int  # 1-based
    kind: str  # "under-filled" or "orphaned heading"
    detail: str

    def __str__(self) -> str:
        return f"p{self.page}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Char:
    """One printed character: its baseline (from the page's top), left edge, size and weight."""

    text: str
    x: float
    baseline: float
    size: float
    bold: bool


def _chars(page: Any, height: float) -> list[Char]:
    """The page's characters, from PDFium's text page."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    text_page = page.get_textpage()
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    x, y = ctypes.c_double(), ctypes.c_double()
    found = []
    for index in range(text_page.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(text_page, index)
        if not code or (chr(code).isspace() and chr(code) != " "):
            continue  # line ends PDFium makes up; spaces stay, between words
        pdfium_c.FPDFText_GetCharOrigin(text_page, index, ctypes.byref(x), ctypes.byref(y))
        pdfium_c.FPDFText_GetFontInfo(text_page, index, name, len(name), ctypes.byref(flags))
        size = pdfium_c.FPDFText_GetFontSize(text_page, index)
        bold = (
            b"bold" in name.value.lower()
            or pdfium_c.FPDFText_GetFontWeight(text_page, index) >= 600
        )
        found.append(Char(chr(code), x.value, height - y.value, size, bold))
    text_page.close()
    return found


def _body_size(chars: Iterable[Char]) -> float:
    """The size most of the text is set in (by character count)."""
    sizes = Counter(round(c.size, 1) for c in chars if c.text != " ")
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _lines(
    chars: Sequence[Char], width: float, frame: Frame, body: float
) -> tuple[tuple[Line, ...], ...]:
    """The frame's characters as lines, per column, top to bottom.

    A heading is a line set mostly in bold at 7 % or more above the body size
    (a 13 pt subheading over 12 pt text; a bold question at body size is not one).
    """
    columns: list[list[list[Char]]] = [[] for _ in range(frame.columns)]
    for char in sorted(chars, key=lambda c: (c.baseline, c.x)):
        column = min(frame.columns - 1, int(char.x / (width / frame.columns)))
        found = columns[column]
        # One line: baselines within a third of the body size (sub/superscripts ride along).
        if found and abs(found[-1][-1].baseline - char.baseline) <= body / 3:
            found[-1].append(char)
        else:
            found.append([char])
    result: list[tuple[Line, ...]] = []
    for column, groups in enumerate(columns):
        lines = []
        for group in groups:
            visible = [c for c in group if c.text != " "]
            if not visible:
                continue
            size = statistics.median(c.size for c in visible)
            bold = sum(c.bold for c in visible) > len(visible) / 2
            text = "".join(c.text for c in sorted(group, key=lambda c: c.x)).strip()
            lines.append(
                Line(
                    column,
                    min(c.baseline - c.size * 0.75 for c in visible),
                    max(c.baseline for c in visible),
                    text,
                    bold and size >= body * 1.07,
                )
            )
        result.append(tuple(lines))
    return tuple(result)


def measure(path: Path | str, frame_of: Callable[[int], Frame] | Frame) -> list[PageFill]:
    """Each page's fill and lines; ``frame_of`` gives a page's frame from its 1-based number."""
    import pypdfium2 as pdfium

    pages: list[PageFill] = []
    pdf = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            number = index + 1
            width, height = page.get_width(), page.get_height()
            frame = frame_of if isinstance(frame_of, Frame) else frame_of(number)
            top, bottom = frame.top, height - frame.bottom
            inside = [c for c in _chars(page, height) if top - 1 <= c.baseline <= bottom + 1]
            page.close()
            lines = _lines(inside, width, frame, _body_size(inside))
            fills = [
                (max(line.bottom for line in column) - top) / (bottom - top) if column else 0.0
                for column in lines
            ]
            fill = max(fills) if frame.parallel else sum(fills) / len(fills)
            pages.append(PageFill(number, min(1.0, max(0.0, fill)), lines))
    finally:
        pdf.close()
    return pages


def _orphans(pages: Sequence[PageFill], min_after: int, ends: set[int]) -> list[Breach]:
    """Headings at the foot of a column with fewer than ``min_after`` lines under them.

    On a page that ends its part (``ends``) a heading with a line under it is
    complete: nothing of it goes on over the page.
    """
    found: list[Breach] = []
    # Columns in reading order: each column of each page, the next one after it.
    flow = [(page, column) for page in pages for column in page.lines]
    for index, (page, column) in enumerate(flow):
        if not column:
            continue
        # The last heading block of the column and the lines after it.
        last = max((i for i, line in enumerate(column) if line.heading), default=None)
        if last is None:
            continue
        start = last
        while start > 0 and column[start - 1].heading:
            start -= 1
        after = len(column) - 1 - last
        if after >= min_after:
            continue
        following = next((c for _, c in flow[index + 1 :] if c), ())
        last_column = column is page.lines[-1]
        section_ends = bool(following) and following[0].heading
        part_ends = last_column and page.number in ends
        if after > 0 and (section_ends or part_ends):
            continue  # a short section that ends here; the next one starts over there
        if not following:
            continue  # the end of the document
        heading = " ".join(line.text for line in column[start : last + 1])
        found.append(
            Breach(page.number, "orphaned heading", f"{heading!r} with {after} line(s) under it")
        )
    return found


def check(
    path: Path | str | Sequence[PageFill],
    frame_of: Callable[[int], Frame] | Frame | None = None,
    ends: Iterable[int] = (),
    max_empty: float = 0.30,
    min_after: int = 2,
) -> list[Breach]:
    """Every breach in the PDF at ``path`` (or in pages already measured).

    ``ends`` are 1-based pages that may end short.
    """
    if isinstance(path, (str, Path)):
        if frame_of is None:
            raise ValueError("a frame is needed to measure a PDF")
        pages: Sequence[PageFill] = measure(path, frame_of)
    else:
        pages = path
    exempt = set(ends) | {len(pages)}
    found = [
        Breach(page.number, "under-filled", f"{1 - page.fill:.0%} of the page empty")
        for page in pages
        if page.number not in exempt and 1 - page.fill > max_empty
    ]
    found += _orphans(pages, min_after, exempt)
    return sorted(found, key=lambda b: b.page)
