"""Where everything goes, decided before anything is laid out or written.

1. The monographs in the booklet's language (``[output] lang``) are sorted by
   title and grouped by letter by that language's rules
   (:mod:`medpdf.content.collation`), and cut into *chunks* whose boundaries
   depend on the slugs themselves (content-defined), so an added or deleted
   monograph changes one chunk, not every later one.
2. Once the chunks are laid out, every monograph has its *place*: the body
   page it starts on and its page count.
3. ``--volume-pages N`` cuts the ordered monographs into *volumes* of at most N
   pages each, front matter and (in the last volume) the ingredient index
   included. Cuts fall between monographs, never inside one; when a letter
   begins within the last tenth of a volume, the cut moves back to it, so a
   letter is not split over two books for the sake of a few pages. In a duplex
   booklet a volume begins only with a monograph that starts on a right-hand
   page (an even body page: every chunk has an even page count), as its
   layout assumed; in the compact booklet, where monographs share pages, only
   with a chunk. The plan
   works from the places and an estimate of each volume's front matter (cover,
   disclaimer, contents) and of the index; when a laid-out volume comes out
   longer than N, :func:`medpdf.products.booklet.parts.bind` plans again with
   that much less room. Without ``--volume-pages`` the whole booklet is one
   "volume" with no volume number, written to ``booklet.pdf``.
4. The contents lines of a volume are numbered from its front pages.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from medpdf.content import collation, translations
from medpdf.content.collection import Entry
from medpdf.content.sources import Source
from medpdf.digests import digest_of
from medpdf.html import booklet_pages
from medpdf.pdf.assemble import Placed
from medpdf.products.booklet.estimate import contents_estimate, front_estimate, title_lines
from medpdf.settings.config import Config
from medpdf.settings.options import COMPACT, DUPLEX

#: Average and largest number of monographs per chunk.
CHUNK_TARGET = 24
CHUNK_LIMIT = 48
#: The same for the compact booklet, whose chunk is one run of two columns: a chunk's
#: end leaves its last page part-filled, so a run is a whole letter when it has at most
#: COMPACT_LIMIT monographs (~120 pages); only a longer letter is cut, by content (up to
#: ~850 in a letter). A run of 192 took 550 MB to lay out (96: 330 MB): 1.6 GB in all.
COMPACT_TARGET = 64
COMPACT_LIMIT = 96


def mirrored(config: Config) -> bool:
    """Whether the booklet has left and right pages: duplex, except the compact booklet."""
    return bool(config[DUPLEX]) and not config[COMPACT]


# -- chunks ----------------------------------------------------------------------------


def letter_of(title: str, lang: str = "en") -> str:
    """The letter group of a title in ``lang`` ("Ácido" under A); others under ``#``."""
    return collation.for_lang(lang).letter(title)


def ordered(entries: Iterable[Entry], lang: str = "en") -> list[Entry]:
    """Alphabetical by title in ``lang``'s collation, its letters first and ``#`` last."""
    return collation.for_lang(lang).sorted(entries, lambda e: e.title, lambda e: e.slug)


def in_language(entries: Iterable[Entry], lang: str) -> list[Entry]:
    """The monographs written in ``lang``: originals and translations alike.

    Tags match as RFC 4647 basic filtering does: an ``es`` booklet holds ``es``
    and ``es-MX`` monographs, a ``zh-Hans`` booklet only ``zh-Hans`` ones.
    """
    wanted = translations.primary(lang)
    return [
        e
        for e in entries
        if (tag := translations.primary(e.lang)) == wanted or tag.startswith(wanted + "-")
    ]


@dataclass(frozen=True)
class Chunk:
    """Consecutive monographs of one letter, laid out together and cached as one PDF."""

    key: str
    letter: str
    opens_letter: bool
    sources: tuple[Source, ...]


def _is_boundary(slug: str, target: int) -> bool:
    # Content-defined: whether a chunk ends after this monograph depends on its slug only.
    return int(hashlib.sha256(slug.encode()).hexdigest()[:8], 16) % target == 0


def make_chunk(letter: str, opens: bool, items: Sequence[Source], fingerprint: str) -> Chunk:
    """A chunk of these monographs, keyed by everything that shapes its layout."""
    parts: list[str] = ["chunk", fingerprint, letter, str(opens)]
    for source in items:
        parts += [source.slug, source.display_path, source.text]
    return Chunk(digest_of(*parts), letter, opens, tuple(items))


def plan_chunks(
    entries: Sequence[Entry], fingerprint: str, lang: str = "en", compact: bool = False
) -> list[Chunk]:
    """Cut the ordered entries into chunks; changes of ``lang``'s letter always cut.

    ``compact``: a letter of at most :data:`COMPACT_LIMIT` monographs is one chunk.
    """
    target, limit = (COMPACT_TARGET, COMPACT_LIMIT) if compact else (CHUNK_TARGET, CHUNK_LIMIT)
    letters = [letter_of(entry.title, lang) for entry in entries]
    sizes = Counter(letters)
    chunks: list[Chunk] = []
    current: list[Source] = []
    letter = ""
    opens = False
    for entry, entry_letter in zip(entries, letters, strict=True):
        if current and entry_letter != letter:
            chunks.append(make_chunk(letter, opens, current, fingerprint))
            current = []
        if not current:
            opens = entry_letter != letter
            letter = entry_letter
        current.append(entry.source)
        whole = compact and sizes[letter] <= limit
        if not whole and (_is_boundary(entry.slug, target) or len(current) >= limit):
            chunks.append(make_chunk(letter, opens, current, fingerprint))
            current, opens = [], False
    if current:
        chunks.append(make_chunk(letter, opens, current, fingerprint))
    return chunks


def place(
    chunks: Sequence[Chunk], counts: dict[str, tuple[int, ...]], titles: dict[str, str]
) -> list[Placed]:
    """Each monograph's place in the body: its first page (from 0) and its page count."""
    placed: list[Placed] = []
    page = 0
    for chunk in chunks:
        for source, pages in zip(chunk.sources, counts[chunk.key], strict=True):
            title = titles[source.slug]
            placed.append(Placed(source.slug, title, chunk.letter, page, pages))
            page += pages
    return placed


# -- volumes ---------------------------------------------------------------------------

#: A letter starting this close to a volume's end (a fraction of N) moves the cut back to it.
LETTER_PULL = 0.1


@dataclass(frozen=True)
class Volume:
    """Consecutive monographs bound as one book; pages counted from 0 within its body."""

    number: int  # 1-based; 0 for a booklet in one volume
    placed: tuple[Placed, ...]
    #: Where the volume's monographs start among all body pages.
    body_start: int = 0

    @property
    def span(self) -> str:
        """The range its cover names: "Cefaclor - Dexamethasone" (en dash).

        Empty for a volume that holds only the index: the templates name it,
        in the booklet's language.
        """
        if not self.placed:
            return ""
        first, last = self.placed[0].title, self.placed[-1].title
        return first if first == last else f"{first} \u2013 {last}"

    @property
    def body_pages(self) -> int:
        """Pages of monographs in the volume."""
        return sum(p.pages for p in self.placed)


def volume_path(target: Path, number: int) -> Path:
    """``booklet.pdf`` → ``booklet-vol01.pdf`` (two digits sort well up to 99 volumes)."""
    if number == 0:
        return target
    return target.with_name(f"{target.stem}-vol{number:02d}{target.suffix}")


def _cut(items: list[Placed], limit: int) -> int:
    """Where to end a full volume: before a letter that starts near the end, else at the end."""
    tail = 0
    for index in range(len(items) - 1, 0, -1):
        tail += items[index].pages
        if tail > limit * LETTER_PULL:
            break
        if items[index].letter != items[index - 1].letter:
            return index
    return len(items)


def _allowed_cut(items: Sequence[Placed], cut: int, starts: Callable[[Placed], bool]) -> int:
    """``cut`` moved back until ``items[cut]``, the next volume's first, may start a volume.

    In a duplex booklet that is a monograph on an even page (every chunk has an
    even page count and a letter starts a chunk, so one is never far); in the
    compact booklet, the first of a chunk (monographs share its pages). Only a
    volume shorter than a chunk may find none: then the cut stays.
    """
    moved = cut
    while 0 < moved < len(items) and not starts(items[moved]):
        moved -= 1
    return moved if moved > 0 else cut


def _fits(items: Sequence[Placed], extra: int, limit: int) -> bool:
    return front_estimate(items) + sum(p.pages for p in items) + extra <= limit


def plan_volumes(
    placed: Sequence[Placed],
    limit: int | None,
    index_pages: int,
    may_start: Callable[[Placed], bool] | None = None,
) -> list[Volume]:
    """Cut ``placed`` into volumes of at most ``limit`` pages (estimated; None: one volume).

    Volume 1's master contents and the last volume's index are reserved for.
    A single monograph longer than a volume gets a volume of its own. With
    ``may_start``, a volume begins only with a monograph it accepts (see
    :func:`_allowed_cut`).
    """
    if not limit:
        return [Volume(0, tuple(placed))]
    groups: list[list[Placed]] = []
    current: list[Placed] = []
    pages = 0
    letters: Counter[str] = Counter()
    lines = 0  # contents lines of ``current`` and ``item``
    master = 1  # pages for the master contents, in volume 1 only
    for item in placed:
        letters[item.letter] += 1
        lines += title_lines(item.title)
        front = 2 + contents_estimate(lines, len(letters))
        if current and front + pages + item.pages + (master if not groups else 0) > limit:
            cut = _cut(current, limit)
            if may_start is not None:
                cut = _allowed_cut([*current, item], cut, may_start)
            groups.append(current[:cut])
            current = current[cut:]
            pages = sum(p.pages for p in current)
            letters = Counter(p.letter for p in [*current, item])
            lines = sum(title_lines(p.title) for p in [*current, item])
        current.append(item)
        pages += item.pages
    groups.append(current)
    # The index goes at the back of the last volume: move monographs on until it fits
    # (into a volume of their own; the index alone may need one too).
    last = groups[-1]
    keep = 0
    while keep < len(last) and (
        not _fits(last[keep:], index_pages, limit)
        or (may_start is not None and keep > 0 and not may_start(last[keep]))
    ):
        keep += 1
    if keep:
        groups[-1:] = [last[:keep], last[keep:]]
    starts = [0]
    for group in groups:
        starts.append(starts[-1] + sum(p.pages for p in group))
    return [_rebased(i, g, starts[i - 1]) for i, g in enumerate(groups, 1)]


def _rebased(number: int, items: Sequence[Placed], start: int) -> Volume:
    rebased = tuple(replace(p, first_page=p.first_page - start) for p in items)
    return Volume(number, rebased, start)


@dataclass(frozen=True)
class Span:
    """Part of a chunk that falls in a volume: pages ``start:stop`` of the chunk's PDF."""

    key: str
    start: int
    stop: int
    whole: bool


def chunk_spans(volume: Volume, chunk_pages: Sequence[tuple[str, int, int]]) -> list[Span]:
    """The parts of chunks that hold the volume's monographs, in order.

    ``chunk_pages`` gives each chunk as (key, first body page, page count).
    """
    body_start = volume.body_start
    body_stop = body_start + volume.body_pages
    found: list[Span] = []
    for key, first, count in chunk_pages:
        start = max(first, body_start)
        stop = min(first + count, body_stop)
        if start < stop:
            whole = start == first and stop == first + count
            found.append(Span(key, start - first, stop - first, whole))
    return found


# -- contents and estimates --------------------------------------------------------------


def toc(placed: Sequence[Placed], offset: int) -> tuple[booklet_pages.TocGroup, ...]:
    """The contents lines, by letter, numbered from ``offset`` front pages."""
    groups: list[booklet_pages.TocGroup] = []
    current: list[booklet_pages.TocEntry] = []
    letter = ""
    for item in placed:
        if item.letter != letter and current:
            groups.append(booklet_pages.TocGroup(letter, tuple(current)))
            current = []
        letter = item.letter
        current.append(booklet_pages.TocEntry(item.slug, item.title, offset + item.first_page + 1))
    if current:
        groups.append(booklet_pages.TocGroup(letter, tuple(current)))
    return tuple(groups)


#: Contents or index lines in one part (~27 pages; the whole index as one document
#: needed the 1 GB render limit). Parts lay out in parallel: 1,000 monographs' index
#: (~1,700 lines) keeps both workers busy. Fixed: pages must not depend on the machine.
PART_LINES = 1200

Group = TypeVar("Group", booklet_pages.TocGroup, booklet_pages.IndexGroup)


def runs(
    groups: Sequence[Group], lines: Callable[[Any], int], budget: int | None = None
) -> list[tuple[Group, ...]]:
    """Cut contents or index letters into parts of at most ``budget`` lines (``lines``: an entry's).

    A cut falls before a letter, so a part begins with its heading; only a
    letter longer than a part is cut between entries, and its rest goes on
    under its heading again. Each part begins a page: that is the price of a
    cut, a part-filled page at most once per part.
    """
    budget = PART_LINES if budget is None else budget
    parts: list[tuple[Group, ...]] = []
    current: list[Group] = []
    used = 0
    for group in groups:
        size = 2 + sum(lines(entry) for entry in group.entries)
        if current and used + size > budget:
            parts.append(tuple(current))
            current, used = [], 0
        taken: list[Any] = []
        taken_lines = 2
        for entry in group.entries:
            n = lines(entry)
            if taken and used + taken_lines + n > budget:
                current.append(replace(group, entries=tuple(taken)))
                parts.append(tuple(current))
                current, used, taken, taken_lines = [], 0, [], 2
            taken.append(entry)
            taken_lines += n
        current.append(replace(group, entries=tuple(taken)))
        used += taken_lines
    if current:
        parts.append(tuple(current))
    return parts
