"""The reference booklet: every monograph in one PDF (or in volumes), built in cached parts.

One WeasyPrint document for ~18,000 pages would need far more memory than a
clinic machine has, so the booklet is made in stages, one module each:

=============  ==========================================================
module         what it does
=============  ==========================================================
``plan``       order and letters, content-defined chunks, places, volumes
``tasks``      the worker side: lay out a chunk, a front part, an index part
``parts``      the main side: lay out what the store does not hold yet
``matter``     the front and back matter: cover, contents, index, in parts
``write``      merge each volume, stamp and link it, keep it
``index``      the ingredient index at the back
``words``      the booklet's words outside its pages (title, stamp, outline)
=============  ==========================================================

Each chunk is laid out in a worker process, one WeasyPrint document per
monograph (its own "page x of y"), and kept by a key of everything that
shapes it — it carries no booklet-wide page numbers. The front matter
(cover, disclaimer, contents with literal page numbers) and the index are
laid out next; then each volume is merged with pikepdf, the booklet-wide
"Page X of Y" is stamped on every page, the contents links (``x-dest:``
URIs) become real destinations, and the outline is written. An unchanged
rebuild therefore does no layout, and an edit re-lays out one chunk (and
the contents, if page numbers moved). :func:`build_booklet` only orchestrates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from medpdf.content import formulary
from medpdf.content.collection import Collection
from medpdf.errors import Diagnostic, sort_key
from medpdf.products.booklet import parts, plan, write
from medpdf.products.booklet.index import Listed
from medpdf.products.booklet.words import BOOKLET_TITLE
from medpdf.run import RenderPool, RunContext, Runners, Store, sweep_stale_temps
from medpdf.settings.options import COMPACT, FORMULARY, LANG, VOLUME_PAGES

__all__ = ["BOOKLET_TITLE", "BookletReport", "build_booklet"]

LOGGER = logging.getLogger(__name__)


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


def build_booklet(
    collection: Collection,
    context: RunContext,
    store: Store,
    target: Path,
    progress: Callable[[int], None] | None = None,
    runners: Runners = RenderPool,
) -> BookletReport:
    """Build the booklet (or its volumes) of every valid monograph, reusing cached parts.

    It holds the monographs written in the ``[output] lang`` (see
    :func:`.plan.in_language`);
    with a formulary only the ones it names. A finished file
    is keyed by its parts only: an unchanged collection keeps the file (and
    the date stamped on it) it already has.
    """
    started = time.perf_counter()
    store.sweep()
    sweep_stale_temps(target.parent)
    lang = context.config[LANG]
    chosen = plan.in_language(collection.entries, lang)
    entries = plan.ordered(formulary.select(chosen, context.config[FORMULARY]), lang)
    titles = {e.slug: e.title for e in entries}
    chunks = plan.plan_chunks(entries, context.fingerprint, lang, context.config[COMPACT])
    problems: list[Diagnostic] = []
    if not chunks:
        return BookletReport(None, 0, 0, 0, 0, (), time.perf_counter() - started)
    # A chunk is ~24 handouts' worth of layout: recycle workers after fewer tasks.
    limits = context.limits
    chunk_limits = replace(limits, tasks_per_worker=max(1, limits.tasks_per_worker // 5))
    found: dict[str, tuple[tuple[str, ...], ...]] = {}
    with runners(chunk_limits) as pool:
        counts, used, laid_out = parts.lay_out_chunks(
            chunks, context, store, pool, problems, progress, found
        )
        LOGGER.info(
            "booklet: %d of %d chunks laid out (%.1f s)",
            laid_out,
            len(chunks),
            time.perf_counter() - started,
        )
        placed = plan.place(used, counts, titles)
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
        firsts = frozenset(chunk.sources[0].slug for chunk in used)
        books = parts.bind(
            placed, listed, int(limit) if limit else None, target, context, store, pool, firsts
        )
        LOGGER.info("booklet: front and back matter ready (%.1f s)", time.perf_counter() - started)
    chunk_pages: list[tuple[str, int, int]] = []
    page = 0
    for chunk in used:
        chunk_pages.append((chunk.key, page, sum(counts[chunk.key])))
        page += chunk_pages[-1][2]
    bound = write.write_books(books, chunk_pages, target, context, store)
    store.prune_parts([*(c.key for c in used), *bound.keys])
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
