"""The wallet card's panels: every medicine's whole name, in as many bank-card panels as it takes.

A card shown to a doctor in an emergency must never cut a name ("Clopidog…").
So names wrap, and the card grows by panels instead: each panel is the size of
a bank card (ISO/IEC 7810 ID-1, 85.6 by 54 mm), side by side two to a row,
joined along fold lines, the whole cut out along a dashed line. The first
panel carries the heading and the patient's name line; the last the lines for
allergies and an emergency contact, and the key to M / N / E / B.

Which medicine goes on which panel is decided here, before layout, by
measuring each name (and dose) in the card's type: the advance widths of
DejaVu Sans Bold (the card's typeface, ``styles/fonts.css``), CJK characters a
full em, anything else as wide as a capital M. The sizes below are the ones
``styles/pack.css`` lays the card out with (``.card-standard`` and
``.card-large``); the measure errs wide, and a panel whose rows still come out
taller grows rather than clip (``min-height``), so a wrong guess costs a taller
panel, never a name.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_PT = 25.4 / 72  # millimetres per point
# Advance widths of DejaVu Sans Bold, in em (its hmtx table, rounded up).
_WIDTHS = {
    **dict.fromkeys("ijl'", 0.35),
    **dict.fromkeys("ftr/", 0.50),
    **dict.fromkeys(" ,.:;!|", 0.39),
    **dict.fromkeys("()[]-", 0.47),
    **dict.fromkeys("acesz", 0.69),
    **dict.fromkeys("bdghknopquvxy0123456789", 0.73),
    **dict.fromkeys("IJ", 0.38),
    **dict.fromkeys("EFLT", 0.70),
    **dict.fromkeys("mMW&", 1.10),
    **dict.fromkeys("w+", 0.93),
}
_CAPITAL = 0.86  # the other capitals
_UNKNOWN = 1.0  # CJK ideographs, symbols, scripts not measured here


def char_width(char: str) -> float:
    """One character's advance, in em (erring wide)."""
    if char in _WIDTHS:
        return _WIDTHS[char]
    if char.isupper():
        return _CAPITAL
    if char.isascii():
        return 0.73
    if unicodedata.east_asian_width(char) in {"W", "F"}:
        return 1.0
    return _UNKNOWN


def lines_needed(text: str, width_mm: float, size_pt: float) -> int:
    """Lines ``text`` takes at ``size_pt`` in a column ``width_mm`` wide, wrapped at spaces.

    A word wider than the column breaks anywhere, as the card's ``overflow-wrap:
    anywhere`` lets it.
    """
    em = size_pt * _PT
    lines, used = 1, 0.0
    for word in text.split():
        word_mm = sum(char_width(c) for c in word) * em
        space = char_width(" ") * em if used else 0.0
        if used and used + space + word_mm > width_mm:
            lines, used, space = lines + 1, 0.0, 0.0
        if word_mm <= width_mm:
            used += space + word_mm
            continue
        for char in word:  # a word longer than the line: broken where it reaches the edge
            step = char_width(char) * em
            if used and used + space + step > width_mm:
                lines, used, space = lines + 1, 0.0, 0.0
            used += space + step
            space = 0.0
    return lines


@dataclass(frozen=True)
class CardSize:
    """One mode's card: type sizes in points, lengths in millimetres (as styles/pack.css)."""

    name_pt: float
    heading_pt: float
    small_pt: float
    #: Width of each of the four time columns.
    time_column: float
    #: Lines the key ("M = Morning · …") may take.
    key_lines: int = 1
    line_height: float = 1.25
    panel_width: float = 85.6
    panel_height: float = 54.0
    padding_x: float = 3.0
    padding_y: float = 2.5
    #: Vertical padding and rule of one row of the list.
    row_extra: float = 1.0
    #: Space a line to write on takes beyond its text line (allergies, emergency contact).
    write_extra: float = 2.0

    def line(self, size_pt: float) -> float:
        """Height of one line of type at ``size_pt``."""
        return size_pt * self.line_height * _PT

    @property
    def name_width(self) -> float:
        """Width the name column leaves for text."""
        return self.panel_width - 2 * self.padding_x - 4 * self.time_column - 1.0

    @property
    def room(self) -> float:
        """Height inside a panel, less a margin for what the measure cannot know."""
        return (self.panel_height - 2 * self.padding_y - 1.0) * 0.98

    def row_height(self, text: str) -> float:
        """Height of one medicine's row."""
        return lines_needed(text, self.name_width, self.name_pt) * self.line(self.name_pt) + (
            self.row_extra
        )

    @property
    def header(self) -> float:
        """The list's header row (Medicine M N E B)."""
        return self.line(self.small_pt) + self.row_extra

    @property
    def top(self) -> float:
        """The first panel's heading and the patient's name line."""
        return self.line(self.heading_pt) + self.line(self.name_pt) + self.write_extra + 2.0

    @property
    def bottom(self) -> float:
        """The last panel's allergies and emergency contact lines and the key."""
        written = 2 * (self.line(self.name_pt) + self.write_extra)
        return written + self.key_lines * self.line(self.small_pt) + 1.0


#: A4 and Letter handouts; large print (names at 12 pt, wider tick columns).
STANDARD = CardSize(name_pt=8, heading_pt=10, small_pt=6.5, time_column=6.0)
LARGE = CardSize(name_pt=12, heading_pt=14, small_pt=9, time_column=8.5, key_lines=2)
#: Empty rows left on a short list, to add a medicine by hand.
MOST_BLANKS = 3


@dataclass(frozen=True)
class Panel:
    """One bank-card panel: the medicines it lists (indices into the pack), in order."""

    rows: tuple[int, ...]
    #: It carries the heading and the name line.
    first: bool
    #: It carries the allergies and emergency contact lines and the key.
    last: bool
    #: Empty rows to fill in by hand.
    blanks: int = 0


def panels(entries: Sequence[str], size: CardSize = STANDARD) -> tuple[Panel, ...]:
    """The card's panels for these entries (each a medicine's name and dose), in order."""
    found: list[Panel] = []
    current: list[int] = []
    used = size.top + size.header
    for index, entry in enumerate(entries):
        height = size.row_height(entry)
        if current and used + height > size.room:
            found.append(Panel(tuple(current), first=not found, last=False))
            current, used = [], size.header
        current.append(index)
        used += height
    blank = size.line(size.name_pt) + size.row_extra
    if used + size.bottom > size.room and current:
        found.append(Panel(tuple(current), first=not found, last=False))
        current, used = [], size.header
    spare = max(0, math.floor((size.room - used - size.bottom) / blank))
    found.append(Panel(tuple(current), first=not found, last=True, blanks=min(MOST_BLANKS, spare)))
    return tuple(found)
