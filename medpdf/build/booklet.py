"""The reference booklet: every monograph in one PDF, built in cached chunks.

One WeasyPrint document for ~18,000 pages would need far more memory than a
clinic machine has, so the booklet is assembled in stages:

1. monographs are sorted by title, grouped by letter and cut into *chunks*
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
import math
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from medpdf import templating
from medpdf.build.catalog import Catalog, Entry
from medpdf.build.handouts import refusal_warnings
from medpdf.build.outputs import sweep_stale_temps, write_atomic, write_atomic_with
from medpdf.build.render import (
    EntriesJob,
    FrontJob,
    Pdf,
    Rendered,
    RunContext,
    entries_task,
    front_task,
)
from medpdf.cache import Cache, digest_of
from medpdf.errors import Diagnostic, Level, MedpdfError, sort_key
from medpdf.options import CLINIC, LANG, LARGE_PRINT
from medpdf.pdf.assemble import BookletMeta, Placed, assemble
from medpdf.sources import Source
from medpdf.workers import Failure, RenderPool, Runner, Runners

LOGGER = logging.getLogger(__name__)

#: Average and largest number of monographs per chunk.
CHUNK_TARGET = 24
CHUNK_LIMIT = 48
OTHER_LETTER = "#"
BOOKLET_TITLE = "Drug reference booklet"


def letter_of(title: str) -> str:
    """The A-Z group of a title; accents are ignored, anything else groups under ``#``."""
    for char in unicodedata.normalize("NFKD", title):
        if char.isalnum():
            upper = char.upper()
            return upper if "A" <= upper <= "Z" else OTHER_LETTER
    return OTHER_LETTER


def _order_key(entry: Entry) -> tuple[bool, str, str, str]:
    letter = letter_of(entry.title)
    return (letter == OTHER_LETTER, letter, entry.title.casefold(), entry.slug)


def ordered(entries: Iterable[Entry]) -> list[Entry]:
    """Alphabetical by title, letters A-Z first and ``#`` last."""
    return sorted(entries, key=_order_key)


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


def plan_chunks(entries: Sequence[Entry], fingerprint: str) -> list[Chunk]:
    """Cut the ordered entries into chunks; letter changes always cut."""
    chunks: list[Chunk] = []
    current: list[Source] = []
    letter = ""
    opens = False
    for entry in entries:
        entry_letter = letter_of(entry.title)
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


def _keep(store: Cache, key: str, made: Pdf) -> Rendered:
    """Write a part that came back from a worker into the cache's blobs, and record it."""
    result = made.write(store.blob_path(key))
    store.record_blob(key, result.sha256, {"pages": list(result.page_counts)})
    return result


def _lay_out_chunks(
    chunks: list[Chunk],
    context: RunContext,
    store: Cache,
    pool: Runner,
    problems: list[Diagnostic],
    progress: Callable[[int], None] | None,
) -> tuple[dict[str, tuple[int, ...]], list[Chunk], int]:
    """Lay out every chunk not in the cache; a failing chunk is retried monograph by monograph.

    Returns the page counts by chunk key, the chunks finally used (in order)
    and how many were laid out.
    """
    counts: dict[str, tuple[int, ...]] = {}
    todo: list[Chunk] = []
    for chunk in chunks:
        extra = store.blob(chunk.key)
        if extra is not None and len(extra.get("pages", [])) == len(chunk.sources):
            counts[chunk.key] = tuple(int(n) for n in extra["pages"])
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
                result = _keep(store, chunk.key, made)
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


def _toc(placed: Sequence[Placed], offset: int) -> tuple[templating.TocGroup, ...]:
    groups: list[templating.TocGroup] = []
    current: list[templating.TocEntry] = []
    letter = ""
    for item in placed:
        if item.letter != letter and current:
            groups.append(templating.TocGroup(letter, tuple(current)))
            current = []
        letter = item.letter
        current.append(templating.TocEntry(item.slug, item.title, offset + item.first_page + 1))
    if current:
        groups.append(templating.TocGroup(letter, tuple(current)))
    return tuple(groups)


def _contents_guess(group: templating.TocGroup) -> int:
    # About 45 lines a page; corrected by the layout passes.
    return max(1, math.ceil((len(group.entries) + 3) / 45))


def _lay_out_front(
    placed: Sequence[Placed], context: RunContext, store: Cache, pool: Runner
) -> tuple[list[str], int]:
    """Lay out cover and contents until the contents' length agrees with the numbers it prints.

    Returns the cache keys of the front parts in order and their page count.
    Parts are laid out in parallel and cached; none carries the date (it is
    stamped), so a build on another day finds them all in the cache.
    """
    clinic = context.config[CLINIC]
    info = templating.BookletInfo(BOOKLET_TITLE, clinic.name if clinic else None, len(placed))
    groups = _toc(placed, 0)
    # Start from last build's count: after an edit it is almost always still right,
    # and a wrong start costs one extra layout of every letter's contents.
    hint = store.recall("booklet-front-pages")
    front_pages = int(hint) if hint and hint.isdigit() else 2 + sum(map(_contents_guess, groups))
    # A letter's contents can run to dozens of pages: more time than one handout.
    seconds = pool.limits.seconds * 4
    for _ in range(4):
        # Keys are set once known; a job's key does not depend on the job's own key field.
        jobs = [FrontJob("cover", (), False, info, context, "")]
        for index, group in enumerate(_toc(placed, front_pages)):
            jobs.append(FrontJob("contents", (group,), index == 0, info, context, ""))
        keys = [
            digest_of(
                "front", context.fingerprint, job.part, repr(job.toc), str(job.first), repr(info)
            )
            for job in jobs
        ]
        pages: dict[str, int] = {}
        todo: list[FrontJob] = []
        for key, job in zip(keys, jobs, strict=True):
            extra = store.blob(key)
            if extra is not None:
                pages[key] = int(extra["pages"][0])
            else:
                todo.append(replace(job, key=key))
        for outcome in pool.run(front_task, todo, seconds=lambda _: seconds):
            if isinstance(outcome.result, Failure):
                raise MedpdfError(
                    f"booklet: laying out the front pages failed: {outcome.result.message}"
                )
            key = outcome.item.key
            pages[key] = _keep(store, key, outcome.result).page_counts[0]
        actual = sum(pages[key] for key in keys)
        if actual == front_pages:
            store.remember("booklet-front-pages", str(actual))
            return keys, actual
        front_pages = actual
    raise MedpdfError("booklet: the contents' page count does not settle")


def _stamp_key(context: RunContext, sizes: Sequence[tuple[float, float]]) -> str:
    size_text = ",".join(f"{w:g}x{h:g}" for w, h in sizes[:1])
    return digest_of(
        "stamp", context.fingerprint, context.config.printed.isoformat(), str(len(sizes)), size_text
    )


def _stamp_for(context: RunContext, store: Cache, keys: list[str]) -> Callable[..., Path]:
    """Draw (or reuse) the stamp for a booklet of the given page sizes; its key goes in ``keys``."""
    from medpdf.pdf import stamp

    def draw(sizes: Sequence[tuple[float, float]]) -> Path:
        key = _stamp_key(context, sizes)
        keys.append(key)
        path = store.blob_path(key)
        if store.blob(key) is None:
            config = context.config
            style = stamp.load_style(config.resources.styles, config[LARGE_PRINT])
            data = stamp.stamp_pdf(sizes, style, config.printed)
            write_atomic(path, data)
            store.record_blob(key, hashlib.sha256(data).hexdigest(), {"pages": [len(sizes)]})
        return path

    return draw


def build_booklet(
    catalog: Catalog,
    context: RunContext,
    store: Cache,
    target: Path,
    progress: Callable[[int], None] | None = None,
    runners: Runners = RenderPool,
) -> BookletReport:
    """Build the booklet of every valid monograph, reusing cached chunks.

    The finished booklet is keyed by its parts only: an unchanged collection
    keeps the booklet (and the date stamped on it) it already has.
    """
    started = time.perf_counter()
    sweep_stale_temps(store.blob_dir)
    sweep_stale_temps(target.parent)
    entries = ordered(catalog.entries)
    titles = {e.slug: e.title for e in entries}
    chunks = plan_chunks(entries, context.fingerprint)
    problems: list[Diagnostic] = []
    if not chunks:
        return BookletReport(None, 0, 0, 0, 0, (), time.perf_counter() - started)
    # A chunk is ~24 handouts' worth of layout: recycle workers after fewer tasks.
    limits = context.limits
    chunk_limits = replace(limits, tasks_per_worker=max(1, limits.tasks_per_worker // 5))
    with runners(chunk_limits) as pool:
        counts, used, laid_out = _lay_out_chunks(chunks, context, store, pool, problems, progress)
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
        front_keys, front_pages = _lay_out_front(placed, context, store, pool)
        LOGGER.info(
            "booklet: %d front pages ready (%.1f s)", front_pages, time.perf_counter() - started
        )
    parts = [*front_keys, *(c.key for c in used)]
    key = digest_of("booklet", context.fingerprint, *parts)
    kept = [*parts]
    done = store.output_current(target, key)
    if done is not None:  # nothing changed: the booklet on disk is this one
        total = int(done["pages"])
        kept += done.get("stamp", [])
    else:
        stamps: list[str] = []
        meta = BookletMeta(
            BOOKLET_TITLE, context.config[LANG], templating.page_options(context.config).generator
        )
        total = assemble(
            [store.blob_path(k) for k in parts],
            _stamp_for(context, store, stamps),
            placed,
            front_pages,
            meta,
            write_atomic_with,
            target,
        )
        store.record_outputs([(target, key, {"pages": total, "stamp": stamps})])
        kept += stamps
        LOGGER.info(
            "booklet: merged and stamped %d pages (%.1f s)", total, time.perf_counter() - started
        )
    store.prune_blobs(kept)
    problems.sort(key=sort_key)
    return BookletReport(
        target,
        len(placed),
        total,
        laid_out,
        len(used) - laid_out,
        tuple(problems),
        time.perf_counter() - started,
    )
