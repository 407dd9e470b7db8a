"""A print professional's page check, on any PDF: how full each page is, and orphaned headings.

This module knows nothing of medpdf: it reads what is printed (pdfplumber) and
judges it as a printer would, given where the page's text area (the *frame*)
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
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber

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
    """One line of text in one column: its baseline, size and whether it is a heading."""

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


def _is_bold(char: dict[str, Any]) -> bool:
    return "bold" in str(char.get("fontname", "")).lower()


def _body_size(chars: Iterable[dict[str, Any]]) -> float:
    """The size most of the text is set in (by character count)."""
    sizes = Counter(round(float(c["size"]), 1) for c in chars if not c["text"].isspace())
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _lines(
    chars: Sequence[dict[str, Any]], width: float, frame: Frame, body: float
) -> tuple[tuple[Line, ...], ...]:
    """The frame's characters as lines, per column, top to bottom."""
    columns: list[list[list[dict[str, Any]]]] = [[] for _ in range(frame.columns)]
    for char in sorted(chars, key=lambda c: (float(c["bottom"]), float(c["x0"]))):
        middle = (float(char["x0"]) + float(char["x1"])) / 2
        column = min(frame.columns - 1, int(middle / (width / frame.columns)))
        found = columns[column]
        # One line: baselines within a third of the body size (sub/superscripts ride along).
        if found and abs(float(found[-1][-1]["bottom"]) - float(char["bottom"])) <= body / 3:
            found[-1].append(char)
        else:
            found.append([char])
    result: list[tuple[Line, ...]] = []
    for column, groups in enumerate(columns):
        lines = []
        for group in groups:
            visible = [c for c in group if not c["text"].isspace()]
            if not visible:
                continue
            size = statistics.median(float(c["size"]) for c in visible)
            bold = sum(_is_bold(c) for c in visible) > len(visible) / 2
            text = "".join(c["text"] for c in sorted(group, key=lambda c: float(c["x0"])))
            lines.append(
                Line(
                    column,
                    min(float(c["top"]) for c in visible),
                    max(float(c["bottom"]) for c in visible),
                    text.strip(),
                    bold and size >= body + 0.9,
                )
            )
        result.append(tuple(lines))
    return tuple(result)


def measure(path: Path | str, frame_of: Callable[[int], Frame] | Frame) -> list[PageFill]:
    """Each page's fill and lines; ``frame_of`` gives a page's frame from its 1-based number."""
    pages: list[PageFill] = []
    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            frame = frame_of if isinstance(frame_of, Frame) else frame_of(page.page_number)
            top, bottom = frame.top, float(page.height) - frame.bottom
            inside = [
                c
                for c in page.chars
                if float(c["top"]) >= top - 1 and float(c["bottom"]) <= bottom + 1
            ]
            body = _body_size(inside)
            lines = _lines(inside, float(page.width), frame, body)
            fills = [
                (max(line.bottom for line in column) - top) / (bottom - top) if column else 0.0
                for column in lines
            ]
            fill = max(fills) if frame.parallel else sum(fills) / len(fills)
            pages.append(PageFill(page.page_number, min(1.0, max(0.0, fill)), lines))
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
    path: Path | str,
    frame_of: Callable[[int], Frame] | Frame,
    ends: Iterable[int] = (),
    max_empty: float = 0.30,
    min_after: int = 2,
) -> list[Breach]:
    """Every breach in the PDF at ``path``; ``ends`` are 1-based pages that may end short."""
    pages = measure(path, frame_of)
    exempt = set(ends) | {len(pages)}
    found = [
        Breach(page.number, "under-filled", f"{1 - page.fill:.0%} of the page empty")
        for page in pages
        if page.number not in exempt and 1 - page.fill > max_empty
    ]
    found += _orphans(pages, min_after, exempt)
    return sorted(found, key=lambda b: b.page)
