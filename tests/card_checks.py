"""Looking at a medication pack's wallet card in the PDF: its panels and the names on it.

WeasyPrint draws a border of one style all round as one stroked, dashed
rectangle (a one-panel card), and borders whose sides differ (the panels of a
folding card: dashed cut lines, dotted folds, open sides) as a filled
rectangle of the border's colour per side, clipped to that side: either way
each panel shows up as a rectangle the size of its border box.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pdfplumber

MM = 72 / 25.4
#: A bank card, ISO/IEC 7810 ID-1.
PANEL = (85.6, 54.0)


@dataclass(frozen=True)
class Card:
    """The card as printed: each panel's size (mm) and the text on the card without spaces."""

    panels: list[tuple[float, float]]
    text: str
    pages: list[int]


def _boxes(page: pdfplumber.page.Page) -> list[tuple[float, float, float, float]]:
    """Panel-sized rectangles: (x0, top, x1, bottom) in points, each place once."""
    found: dict[tuple[int, int], tuple[float, float, float, float]] = {}
    dashed = [line for line in page.lines if line.get("dash") and line["dash"][0]]
    if dashed:  # one stroked, dashed rectangle: its four sides
        box = (
            min(line["x0"] for line in dashed),
            min(line["top"] for line in dashed),
            max(line["x1"] for line in dashed),
            max(line["bottom"] for line in dashed),
        )
        found[(round(box[0]), round(box[1]))] = box
    for rect in page.rects:
        width, height = rect["width"] / MM, rect["height"] / MM
        if 80 <= width <= 90 and height >= 45:
            found[(round(rect["x0"]), round(rect["top"]))] = (
                rect["x0"],
                rect["top"],
                rect["x1"],
                rect["bottom"],
            )
    boxes = list(found.values())

    def inside(small: tuple[float, ...], big: tuple[float, ...]) -> bool:
        x0, top, x1, bottom = small
        return (
            small != big
            and (x0 >= big[0] - 0.5 and top >= big[1] - 0.5 and x1 <= big[2] + 0.5)
            and bottom <= big[3] + 0.5
        )

    # A border's inner edge (clipping each side) lies inside its outer edge: keep the outer.
    return [box for box in boxes if not any(inside(box, other) for other in boxes)]


def card_of(path: Path) -> Card:
    """The wallet card of a pack: its panels on every page and the text inside them."""
    panels: list[tuple[float, float]] = []
    texts: list[str] = []
    pages: list[int] = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            boxes = _boxes(page)
            if not boxes:
                continue
            pages.append(number)
            for x0, top, x1, bottom in sorted(boxes, key=lambda b: (round(b[1]), b[0])):
                panels.append(((x1 - x0) / MM, (bottom - top) / MM))
                text = page.crop((x0, top, x1, bottom)).extract_text() or ""
                texts.append("".join(text.split()))
    return Card(panels, "".join(texts), pages)


def missing_names(card: Card, titles: list[str]) -> list[str]:
    """Titles not printed whole on the card (compared without spaces: names wrap)."""
    return [title for title in titles if "".join(title.split()) not in card.text]


def odd_panels(card: Card) -> list[tuple[float, float]]:
    """Panels that are not the size of a bank card (one that grew, or one cut short)."""
    return [
        (width, height)
        for width, height in card.panels
        if abs(width - PANEL[0]) > 0.5 or abs(height - PANEL[1]) > 0.5
    ]
