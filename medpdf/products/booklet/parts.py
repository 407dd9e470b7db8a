"""The main side of the booklet: laying out every part not already kept, in the workers.

Given the plan (:mod:`.plan`), this lays out

1. every chunk not in the store (a failing chunk is retried monograph by
   monograph, so one bad monograph is left out, not its neighbours);
2. each volume's front matter — cover naming its range, the master contents
   (volume 1 of several), disclaimer, then the volume's own contents with
   literal page numbers, its letters running on (:mod:`.matter`);
3. the ingredient index for the back of the last volume, its letters running
   on, with literal page numbers (and volume numbers) (:mod:`.matter`); its
   parts are laid out with the fronts' first round, for the fronts' presumed
   lengths (again, should a front come out otherwise);
4. and, when a volume came out longer than ``--volume-pages`` allows, plans
   the volumes again with that much less room (:func:`bind`).

Every part is kept in the store (:meth:`medpdf.run.store.Store.keep_part`) by
a key of what it shows, so after one edit only the parts whose numbers moved
are laid out again. The workers run :mod:`.tasks`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from medpdf.errors import Diagnostic, Level
from medpdf.html import booklet_pages
from medpdf.pdf.assemble import Placed
from medpdf.products.booklet import index as ingredient_index
from medpdf.products.booklet.estimate import index_estimate
from medpdf.products.booklet.matter import (
    front_cover,
    keep_part,
    lay_out_front,
    lay_out_index,
    prefetch,
    presumed_front,
)
from medpdf.products.booklet.plan import (
    Chunk,
    Volume,
    make_chunk,
    mirrored,
    plan_volumes,
    volume_path,
)
from medpdf.products.booklet.tasks import (
    EntriesJob,
    entries_task,
)
from medpdf.products.booklet.words import BOOKLET_TITLE
from medpdf.run import Pdf, RunContext, Runner, Store, refusal_warnings
from medpdf.settings.options import CLINIC, COMPACT, LANG

LOGGER = logging.getLogger(__name__)


# -- chunks ----------------------------------------------------------------------------


def _entries_job(chunk: Chunk, context: RunContext) -> EntriesJob:
    letters = tuple(
        chunk.letter if chunk.opens_letter and index == 0 else ""
        for index in range(len(chunk.sources))
    )
    return EntriesJob(chunk.sources, letters, context, chunk.key)


def lay_out_chunks(
    chunks: list[Chunk],
    context: RunContext,
    store: Store,
    pool: Runner,
    problems: list[Diagnostic],
    progress: Callable[[int], None] | None,
    found: dict[str, tuple[tuple[str, ...], ...]],
) -> tuple[dict[str, tuple[int, ...]], list[Chunk], int]:
    """Lay out every chunk not in the cache; a failing chunk is retried monograph by monograph.

    Returns the page counts by chunk key, the chunks finally used (in order)
    and how many were laid out; ``found`` gets each chunk's ingredients.
    """
    counts: dict[str, tuple[int, ...]] = {}
    todo: list[Chunk] = []
    for chunk in chunks:
        extra = store.part(chunk.key)
        if (
            extra is not None
            and len(extra.get("pages", [])) == len(chunk.sources)
            and len(extra.get("ingredients", [])) == len(chunk.sources)
        ):
            counts[chunk.key] = tuple(int(n) for n in extra["pages"])
            found[chunk.key] = tuple(tuple(str(n) for n in names) for names in extra["ingredients"])
            if progress is not None:
                progress(len(chunk.sources))
        else:
            todo.append(chunk)
    laid_out = 0
    replaced: dict[str, list[Chunk]] = {}
    seconds = pool.limits.seconds
    for attempt in range(2):
        by_key = {c.key: c for c in todo}
        jobs = [_entries_job(c, context) for c in todo]
        retry: list[Chunk] = []
        for outcome in pool.run(entries_task, jobs, seconds=lambda j: seconds * len(j.sources)):
            chunk = by_key[outcome.item.key]
            made = outcome.result
            if isinstance(made, Pdf):
                laid_out += 1
                keep_part(store, chunk.key, made)
                found[chunk.key] = made.ingredients
                counts[chunk.key] = made.page_counts
                problems += refusal_warnings(chunk.sources[0].display_path, made.refused_urls)
                if progress is not None:
                    progress(len(chunk.sources))
            elif attempt == 0 and len(chunk.sources) > 1:
                # Find the monograph that failed: lay the others out one by one.
                singles = [
                    make_chunk(
                        chunk.letter, chunk.opens_letter and i == 0, [s], context.fingerprint
                    )
                    for i, s in enumerate(chunk.sources)
                ]
                replaced[chunk.key] = singles
                retry.extend(singles)
            else:
                path = chunk.sources[0].display_path
                problems.append(Diagnostic(path, None, Level.ERROR, made.message))
                if progress is not None:
                    progress(len(chunk.sources))
        todo = retry
        if not todo:
            break
    used: list[Chunk] = []
    for chunk in chunks:
        for part in replaced.get(chunk.key, [chunk]):
            if part.key in counts:
                used.append(part)
    return counts, used, laid_out


@dataclass(frozen=True)
class Book:
    """One volume as planned and laid out: its parts in order."""

    volume: Volume
    info: booklet_pages.BookletInfo
    front_keys: tuple[str, ...]
    front_pages: int
    back_keys: tuple[str, ...] = ()
    back_pages: int = 0
    #: The first page of the contents (0-based), which the outline's "Contents" opens.
    contents_page: int = 0

    @property
    def pages(self) -> int:
        """Front, monographs and index."""
        return self.front_pages + self.volume.body_pages + self.back_pages


def _info(context: RunContext, volume: Volume, count: int) -> booklet_pages.BookletInfo:
    clinic = context.config[CLINIC]
    name = clinic.name if clinic else None
    if volume.number == 0:
        return booklet_pages.BookletInfo(BOOKLET_TITLE, name, len(volume.placed))
    return booklet_pages.BookletInfo(
        BOOKLET_TITLE, name, len(volume.placed), volume.number, count, volume.span
    )


def _where(volumes: Sequence[Volume], front_pages: Sequence[int]) -> dict[str, booklet_pages.Ref]:
    """Where each monograph begins in its volume, for the index, given the fronts' lengths."""
    where: dict[str, booklet_pages.Ref] = {}
    for volume, front in zip(volumes, front_pages, strict=True):
        for item in volume.placed:
            page = front + item.first_page + 1
            where[item.slug] = booklet_pages.Ref(item.slug, item.title, page, volume.number)
    return where


def _books(
    volumes: Sequence[Volume],
    listed: Sequence[ingredient_index.Listed],
    target: Path,
    context: RunContext,
    store: Store,
    pool: Runner,
) -> list[Book]:
    count = len(volumes) if volumes[0].number else 0
    lines = tuple(
        booklet_pages.VolumeLine(v.number, v.span, volume_path(target, v.number).name)
        for v in volumes
    )
    lang = context.config[LANG]
    infos = [_info(context, volume, count) for volume in volumes]
    covers = [
        front_cover(info, context, lines if volume.number == 1 else ())
        for volume, info in zip(volumes, infos, strict=True)
    ]
    guesses = [
        presumed_front(volume, cover, store) for volume, cover in zip(volumes, covers, strict=True)
    ]
    presumed = [guess.pages for guess in guesses]
    groups: tuple[booklet_pages.IndexGroup, ...] | None = None
    if not mirrored(context.config):  # duplex parts are laid out in turn: no batch
        groups = ingredient_index.build_index(listed, _where(volumes, presumed), lang)
        prefetch(
            list(zip(volumes, covers, presumed, strict=True)),
            (groups, infos[-1]) if groups else None,
            context,
            store,
            pool,
        )
    books: list[Book] = []
    for volume, info, cover, guess in zip(volumes, infos, covers, guesses, strict=True):
        front = lay_out_front(volume, cover, guess, context, store, pool)
        books.append(Book(volume, info, front.keys, front.pages, contents_page=front.cover_pages))
    fronts = [book.front_pages for book in books]
    if groups is None or fronts != presumed:
        groups = ingredient_index.build_index(listed, _where(volumes, fronts), lang)
    if groups:
        keys, pages = lay_out_index(groups, books[-1].info, context, store, pool)
        books[-1] = replace(books[-1], back_keys=tuple(keys), back_pages=pages)
    return books


def bind(
    placed: Sequence[Placed],
    listed: Sequence[ingredient_index.Listed],
    limit: int | None,
    target: Path,
    context: RunContext,
    store: Store,
    pool: Runner,
    chunk_firsts: frozenset[str] = frozenset(),
) -> list[Book]:
    """Plan volumes and lay out their front and back matter.

    ``chunk_firsts`` are the slugs that begin a chunk: in the compact booklet only
    they may begin a volume.
    """
    index_pages = index_estimate(listed, context.config[LANG])
    starts: Callable[[Placed], bool] | None = None
    if context.config[COMPACT]:
        starts = lambda item: item.slug in chunk_firsts  # noqa: E731
    elif mirrored(context.config):
        starts = lambda item: item.first_page % 2 == 0  # noqa: E731
    slack = 0
    books: list[Book] = []
    for _ in range(4):
        room = limit - slack if limit else None
        volumes = plan_volumes(
            placed,
            max(room, 1) if room is not None else None,
            index_pages,
            starts,
        )
        books = _books(volumes, listed, target, context, store, pool)
        if not limit:
            break
        over = max(book.pages - limit for book in books)
        if over <= 0:
            break
        LOGGER.info("booklet: a volume has %d pages over %d; planning again", over, limit)
        slack += over
        index_pages = books[-1].back_pages
    else:
        # Only a monograph (or index) longer than a volume can get here: it is not split.
        LOGGER.warning("booklet: a volume has more than %d pages (a part longer than that)", limit)
    return books
