"""The reference booklet: every monograph in one PDF, built in cached chunks.

One WeasyPrint document for ~18,000 pages would need far more memory than a
clinic machine has, so the booklet is assembled in stages:

1. the monographs in the booklet's language (``[output] lang``) are sorted by
   title and grouped by letter by that language's rules (:mod:`medpdf.content.collation`),
   and cut into *chunks*
   whose boundaries depend on the slugs themselves (content-defined), so an
   added or deleted monograph changes one chunk, not every later one;
2. each chunk is laid out in a worker process, one WeasyPrint document per
   monograph (its own "page x of y") written as one PDF, and cached by a key
   of everything that shapes it — it carries no booklet-wide page numbers;
3. the front matter (cover, disclaimer, contents with literal page numbers
   from step 2) is laid out, then everything is merged with pikepdf, the
   booklet-wide "Page X of Y" is stamped on every page, the contents links
   (``x-dest:`` URIs) become real destinations, and the outline is written.

An unchanged rebuild therefore does no layout, and an edit re-lays out one
chunk (and the contents, if page numbers moved).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from medpdf.content import collation, formulary, translations
from medpdf.content.collection import Collection, Entry
from medpdf.content.sources import Source
from medpdf.errors import Diagnostic, Level, sort_key
from medpdf.pdf.assemble import Placed
from medpdf.products.booklet import binding
from medpdf.products.booklet.binding import keep
from medpdf.products.booklet.index import Listed
from medpdf.products.handouts import refusal_warnings
from medpdf.run.cache import Cache, digest_of
from medpdf.run.contract import EntriesJob, Pdf, RunContext, entries_task
from medpdf.run.store import sweep_stale_temps
from medpdf.run.workers import RenderPool, Runner, Runners
from medpdf.settings.options import FORMULARY, LANG, VOLUME_PAGES

LOGGER = logging.getLogger(__name__)

#: Average and largest number of monographs per chunk.
CHUNK_TARGET = 24
CHUNK_LIMIT = 48
OTHER_LETTER = collation.OTHER_LETTER
BOOKLET_TITLE = binding.BOOKLET_TITLE


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


def _is_boundary(slug: str) -> bool:
    # Content-defined: whether a chunk ends after this monograph depends on its slug only.
    return int(hashlib.sha256(slug.encode()).hexdigest()[:8], 16) % CHUNK_TARGET == 0


def _chunk(letter: str, opens: bool, items: Sequence[Source], fingerprint: str) -> Chunk:
    parts: list[str] = ["chunk", fingerprint, letter, str(opens)]
    for source in items:
        parts += [source.slug, source.display_path, source.text]
    return Chunk(digest_of(*parts), letter, opens, tuple(items))


def plan_chunks(entries: Sequence[Entry], fingerprint: str, lang: str = "en") -> list[Chunk]:
    """Cut the ordered entries into chunks; changes of ``lang``'s letter always cut."""
    chunks: list[Chunk] = []
    current: list[Source] = []
    letter = ""
    opens = False
    for entry in entries:
        entry_letter = letter_of(entry.title, lang)
        if current and entry_letter != letter:
            chunks.append(_chunk(letter, opens, current, fingerprint))
            current = []
        if not current:
            opens = entry_letter != letter
            letter = entry_letter
        current.append(entry.source)
        if _is_boundary(entry.slug) or len(current) >= CHUNK_LIMIT:
            chunks.append(_chunk(letter, opens, current, fingerprint))
            current, opens = [], False
    if current:
        chunks.append(_chunk(letter, opens, current, fingerprint))
    return chunks


# -- main side ------------------------------------------------------------------


@dataclass(frozen=True)
class BookletReport:
    """What a booklet build did."""

    target: Path | None
    monographs: int
    pages: int
    chunks_laid_out: int
    chunks_reused: int
    problems: tuple[Diagnostic, ...]
    seconds: float
    #: The volume files, with ``--volume-pages`` (``target`` is the first).
    volumes: tuple[Path, ...] = ()

    @property
    def failed(self) -> int:
        """Monographs left out of the booklet."""
        return sum(1 for d in self.problems if d.is_error)


def _entries_job(chunk: Chunk, context: RunContext) -> EntriesJob:
    letters = tuple(
        chunk.letter if chunk.opens_letter and index == 0 else ""
        for index in range(len(chunk.sources))
    )
    return EntriesJob(chunk.sources, letters, context, chunk.key)


def _lay_out_chunks(
    chunks: list[Chunk],
    context: RunContext,
    store: Cache,
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
        extra = store.blob(chunk.key)
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
                result = keep(store, chunk.key, made)
                found[chunk.key] = result.ingredients
                counts[chunk.key] = result.page_counts
                problems += refusal_warnings(chunk.sources[0].display_path, result.refused_urls)
                if progress is not None:
                    progress(len(chunk.sources))
            elif attempt == 0 and len(chunk.sources) > 1:
                # Find the monograph that failed: lay the others out one by one.
                singles = [
                    _chunk(chunk.letter, chunk.opens_letter and i == 0, [s], context.fingerprint)
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


def _place(
    chunks: list[Chunk], counts: dict[str, tuple[int, ...]], titles: dict[str, str]
) -> list[Placed]:
    placed: list[Placed] = []
    page = 0
    for chunk in chunks:
        for source, pages in zip(chunk.sources, counts[chunk.key], strict=True):
            title = titles[source.slug]
            placed.append(Placed(source.slug, title, chunk.letter, page, pages))
            page += pages
    return placed


def build_booklet(
    collection: Collection,
    context: RunContext,
    store: Cache,
    target: Path,
    progress: Callable[[int], None] | None = None,
    runners: Runners = RenderPool,
) -> BookletReport:
    """Build the booklet (or its volumes) of every valid monograph, reusing cached parts.

    It holds the monographs written in the ``[output] lang`` (see :func:`in_language`);
    with a formulary only the ones it names. A finished file
    is keyed by its parts only: an unchanged collection keeps the file (and
    the date stamped on it) it already has.
    """
    started = time.perf_counter()
    sweep_stale_temps(store.blob_dir)
    sweep_stale_temps(target.parent)
    lang = context.config[LANG]
    chosen = in_language(collection.entries, lang)
    entries = ordered(formulary.select(chosen, context.config[FORMULARY]), lang)
    titles = {e.slug: e.title for e in entries}
    chunks = plan_chunks(entries, context.fingerprint, lang)
    problems: list[Diagnostic] = []
    if not chunks:
        return BookletReport(None, 0, 0, 0, 0, (), time.perf_counter() - started)
    # A chunk is ~24 handouts' worth of layout: recycle workers after fewer tasks.
    limits = context.limits
    chunk_limits = replace(limits, tasks_per_worker=max(1, limits.tasks_per_worker // 5))
    found: dict[str, tuple[tuple[str, ...], ...]] = {}
    with runners(chunk_limits) as pool:
        counts, used, laid_out = _lay_out_chunks(
            chunks, context, store, pool, problems, progress, found
        )
        LOGGER.info(
            "booklet: %d of %d chunks laid out (%.1f s)",
            laid_out,
            len(chunks),
            time.perf_counter() - started,
        )
        placed = _place(used, counts, titles)
        if not placed:
            problems.sort(key=sort_key)
            return BookletReport(
                None, 0, 0, laid_out, 0, tuple(problems), time.perf_counter() - started
            )
        listed = [
            Listed(source.slug, titles[source.slug], names)
            for chunk in used
            for source, names in zip(chunk.sources, found[chunk.key], strict=True)
        ]
        limit = context.config[VOLUME_PAGES]
        books = binding.bind(
            placed, listed, int(limit) if limit else None, target, context, store, pool
        )
        LOGGER.info("booklet: front and back matter ready (%.1f s)", time.perf_counter() - started)
    chunk_pages: list[tuple[str, int, int]] = []
    page = 0
    for chunk in used:
        chunk_pages.append((chunk.key, page, sum(counts[chunk.key])))
        page += chunk_pages[-1][2]
    bound = binding.write_books(books, chunk_pages, target, context, store)
    store.prune_blobs([*(c.key for c in used), *bound.keys])
    problems.sort(key=sort_key)
    return BookletReport(
        bound.files[0][0],
        len(placed),
        sum(pages for _, pages in bound.files),
        laid_out,
        len(used) - laid_out,
        tuple(problems),
        time.perf_counter() - started,
        tuple(path for path, _ in bound.files) if books[0].volume.number else (),
    )
