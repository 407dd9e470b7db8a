"""Pages of front matter and index, guessed before they are laid out.

Volumes are cut from these guesses, and the contents are first laid out with
page numbers that assume the guessed length: each wrong guess costs the
contents one more layout (their numbers move), so the guess counts the lines a
long title wraps onto and the lines a page really holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from medpdf.html import booklet_pages
from medpdf.pdf.assemble import Placed
from medpdf.products.booklet import index as ingredient_index

#: Contents lines on one page (10.5 pt at 1.45 line height on A4: 44 on a full page of
#: the 1,000-monograph booklet).
LINES_PER_PAGE = 44
#: Characters of a title on one contents line; a longer one is counted as wrapping. Some
#: titles of 66 to 76 characters wrap and some do not (glyphs differ in width); 66 gives the
#: pages of each of the whole collection's seven contents parts and of the 1,000's one.
TITLE_CHARS = 66


def title_lines(title: str) -> int:
    """Contents lines a title takes."""
    return 1 + (len(title) - 1) // TITLE_CHARS


def contents_estimate(lines: int, letters: int, heading: bool = True) -> int:
    """Pages of contents of ``lines`` title lines: they run on, two lines per letter heading.

    ``heading``: under the contents' heading (three lines), as the first part is.
    """
    return math.ceil((lines + 3 * heading + 2 * letters) / LINES_PER_PAGE) if lines else 0


def parts_estimate(parts: Sequence[Sequence[booklet_pages.TocGroup]]) -> int:
    """Pages of contents laid out in these parts: each begins a page, the first under the heading.

    A cut costs the part-filled page before it, which a count of all the lines
    together misses (the whole collection's seven parts: 146 pages guessed, 151 laid out).
    """
    return sum(
        contents_estimate(
            sum(title_lines(entry.title) for group in part for entry in group.entries),
            len(part),
            heading=number == 0,
        )
        for number, part in enumerate(parts)
    )


def master_estimate(master: int) -> int:
    """Pages of the master contents of ``master`` volumes (volume 1 of several), after the cover."""
    return math.ceil((master + 6) / LINES_PER_PAGE) if master else 0


def front_estimate(items: Sequence[Placed], master: int = 0) -> int:
    """Cover and disclaimer, the contents, the master contents."""
    lines = sum(title_lines(p.title) for p in items)
    contents = contents_estimate(lines, len({p.letter for p in items}))
    return 2 + contents + master_estimate(master)


def guess_pages(lines: int) -> int:
    """Pages that ``lines`` contents or index lines take, with a heading."""
    return max(1, math.ceil((lines + 3) / LINES_PER_PAGE))


def index_estimate(listed: Sequence[ingredient_index.Listed], lang: str) -> int:
    """Pages the index will take, from its line count (before page numbers are known)."""
    rough = {item.slug: booklet_pages.Ref(item.slug, item.title, 0) for item in listed}
    groups = ingredient_index.build_index(listed, rough, lang)
    lines = sum(ingredient_index.lines_of(g) + 2 for g in groups)
    return guess_pages(lines) + len(groups) // 10
