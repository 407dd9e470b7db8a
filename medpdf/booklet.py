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
import io
import logging
import math
import subprocess
import time
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from medpdf import model, templating
from medpdf.build import (
    Catalog,
    Entry,
    refusal_warnings,
    render_fingerprint,
    sweep_stale_temps,
    write_atomic,
    write_atomic_with,
)
from medpdf.cache import Cache, digest_of
from medpdf.config import CROSS_DOCUMENT_SCHEME, Config
from medpdf.errors import Diagnostic, Level, MedpdfError, sort_key
from medpdf.sources import Source
from medpdf.workers import Failure, Limits, RenderPool

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


# -- worker side ----------------------------------------------------------------


@dataclass(frozen=True)
class ChunkJob:
    """A chunk to lay out in a worker, and where to put its PDF."""

    chunk: Chunk
    config: Config
    target: Path


@dataclass(frozen=True)
class ChunkDone:
    """Pages per monograph of a chunk written by a worker."""

    page_counts: tuple[int, ...]
    refused_urls: tuple[str, ...]
    sha256: str


def chunk_task(job: ChunkJob) -> ChunkDone | Failure:
    """Worker side: lay out one chunk and write its PDF; errors come back as values."""
    from medpdf import pdf

    try:
        options = templating.page_options(job.config)
        templates = job.config.resources.templates
        htmls = []
        for index, source in enumerate(job.chunk.sources):
            view = templating.monograph_view(model.build(source))
            letter = job.chunk.letter if job.chunk.opens_letter and index == 0 else ""
            htmls.append(templating.render_booklet_entry(view, options, letter, templates))
        resources = job.config.resources
        result = pdf.render_combined(htmls, resources.root, resources.readable_dirs)
        write_atomic(job.target, result.data)
    except MemoryError:
        raise  # the pool reports it with the limit that was hit
    except Exception as exc:
        return Failure.of(exc)
    return ChunkDone(
        result.page_counts, result.refused_urls, hashlib.sha256(result.data).hexdigest()
    )


@dataclass(frozen=True)
class FrontJob:
    """One part of the front pages to lay out in a worker: the cover, or one letter's contents."""

    part: str  # "cover" or "contents"
    toc: tuple[templating.TocGroup, ...]
    first: bool
    info: templating.BookletInfo
    config: Config
    target: Path


def front_task(job: FrontJob) -> ChunkDone | Failure:
    """Worker side: lay out one front part and write its PDF."""
    from medpdf import pdf

    try:
        options = templating.page_options(job.config)
        html = templating.render_booklet_front(
            job.part, job.toc, job.first, job.info, options, job.config.resources.templates
        )
        resources = job.config.resources
        result = pdf.render_combined([html], resources.root, resources.readable_dirs)
        write_atomic(job.target, result.data)
    except MemoryError:
        raise
    except Exception as exc:
        return Failure(f"laying out the booklet's front pages failed: {exc!r}")
    return ChunkDone(result.page_counts, (), hashlib.sha256(result.data).hexdigest())


# -- main side ------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """A monograph's place in the booklet (pages counted from 0 within the body)."""

    slug: str
    title: str
    letter: str
    first_page: int
    pages: int


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


def _chunk_seconds(limits: Limits) -> Callable[[ChunkJob], float]:
    return lambda job: limits.seconds * len(job.chunk.sources)


def _lay_out_chunks(
    chunks: list[Chunk],
    config: Config,
    store: Cache,
    pool: RenderPool,
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
    fingerprint = render_fingerprint(config)
    for attempt in range(2):
        jobs = [ChunkJob(c, config, store.blob_path(c.key)) for c in todo]
        retry: list[Chunk] = []
        for outcome in pool.run(chunk_task, jobs, seconds=_chunk_seconds(pool.limits)):
            chunk = outcome.item.chunk
            result = outcome.result
            if isinstance(result, ChunkDone):
                laid_out += 1
                store.record_blob(chunk.key, result.sha256, {"pages": list(result.page_counts)})
                counts[chunk.key] = result.page_counts
                problems += refusal_warnings(chunk.sources[0].display_path, result.refused_urls)
                if progress is not None:
                    progress(len(chunk.sources))
            elif attempt == 0 and len(chunk.sources) > 1:
                # Find the monograph that failed: lay the others out one by one.
                singles = [
                    _chunk(chunk.letter, chunk.opens_letter and i == 0, [s], fingerprint)
                    for i, s in enumerate(chunk.sources)
                ]
                replaced[chunk.key] = singles
                retry.extend(singles)
            else:
                path = chunk.sources[0].display_path
                problems.append(Diagnostic(path, None, Level.ERROR, result.message))
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


def _front_seconds(limits: Limits) -> Callable[[FrontJob], float]:
    # A letter's contents can run to dozens of pages: more time than one handout.
    return lambda job: limits.seconds * 4


def _contents_guess(group: templating.TocGroup) -> int:
    # About 45 lines a page; corrected by the layout passes.
    return max(1, math.ceil((len(group.entries) + 3) / 45))


def _lay_out_front(
    placed: Sequence[Placed],
    config: Config,
    store: Cache,
    pool: RenderPool,
    clinic: str | None,
) -> tuple[list[str], int]:
    """Lay out cover and contents until the contents' length agrees with the numbers it prints.

    Returns the cache keys of the front parts in order and their page count.
    Parts are laid out in parallel and cached, so after an edit that moves no
    page only the cover (whose date may change) is looked up again.
    """
    info = templating.BookletInfo(BOOKLET_TITLE, clinic, len(placed))
    fingerprint = render_fingerprint(config)
    printed = templating.page_options(config).generated.isoformat()
    groups = _toc(placed, 0)
    # Start from last build's count: after an edit it is almost always still right,
    # and a wrong start costs one extra layout of every letter's contents.
    hint = store.recall("booklet-front-pages")
    front_pages = int(hint) if hint and hint.isdigit() else 2 + sum(map(_contents_guess, groups))
    for _ in range(4):
        jobs: list[FrontJob] = [FrontJob("cover", (), False, info, config, Path())]
        for index, group in enumerate(_toc(placed, front_pages)):
            jobs.append(FrontJob("contents", (group,), index == 0, info, config, Path()))
        keys = [
            digest_of(
                "front", fingerprint, job.part, repr(job.toc), str(job.first), repr(info), printed
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
                todo.append(replace(job, target=store.blob_path(key)))
        for outcome in pool.run(front_task, todo, seconds=_front_seconds(pool.limits)):
            if isinstance(outcome.result, Failure):
                raise MedpdfError(f"medpdf: error: booklet: {outcome.result.message}")
            key = outcome.item.target.stem
            store.record_blob(
                key, outcome.result.sha256, {"pages": list(outcome.result.page_counts)}
            )
            pages[key] = outcome.result.page_counts[0]
        actual = sum(pages[key] for key in keys)
        if actual == front_pages:
            store.remember("booklet-front-pages", str(actual))
            return keys, actual
        front_pages = actual
    raise MedpdfError("medpdf: error: booklet: the contents' page count does not settle")


@dataclass(frozen=True)
class StampStyle:
    """Where and how the booklet-wide page number is drawn (from styles/booklet-stamp.toml)."""

    font: str
    size_pt: float
    color: str
    right_mm: float
    baseline_mm: float
    text: str


def load_stamp_style(styles_dir: Path, large_print: bool = False) -> StampStyle:
    """Read the stamp's geometry; it lives with the other presentation files."""
    with (styles_dir / "booklet-stamp.toml").open("rb") as handle:
        raw = tomllib.load(handle)
    overrides = raw.pop("large_print", {})
    if large_print:
        raw.update(overrides)
    return StampStyle(
        font=str(raw["font"]),
        size_pt=float(raw["size_pt"]),
        color=str(raw["color"]),
        right_mm=float(raw["right_mm"]),
        baseline_mm=float(raw["baseline_mm"]),
        text=str(raw["text"]),
    )


@cache
def _font_file(family: str) -> str:
    """The font file fontconfig picks for ``family``, the same one WeasyPrint uses."""
    found = subprocess.run(
        ["fc-match", "--format=%{file}", family], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not found:
        raise MedpdfError(f"medpdf: error: no font file for '{family}' (is fontconfig set up?)")
    return found


def stamp_pdf(sizes: Sequence[tuple[float, float]], style: StampStyle) -> bytes:
    """One page per booklet page holding only its "Page X of Y", drawn with reportlab.

    WeasyPrint would take ~9 ms a page for this; reportlab takes well under 1 ms.
    """
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font_name = "MedpdfStamp"
    if font_name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(font_name, _font_file(style.font)))
    buffer = io.BytesIO()
    sheet = canvas.Canvas(
        buffer,
        pageCompression=1,
        invariant=1,
        initialFontName=font_name,  # otherwise every page also names Helvetica
        initialFontSize=style.size_pt,
    )
    total = len(sizes)
    for number, (width, height) in enumerate(sizes, start=1):
        sheet.setPageSize((width, height))
        sheet.setFont(font_name, style.size_pt)
        sheet.setFillColor(HexColor(style.color))
        text = style.text.format(page=f"{number:,}", pages=f"{total:,}")
        sheet.drawRightString(width - style.right_mm * mm, style.baseline_mm * mm, text)
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()


def _stamp_key(config: Config, total: int) -> str:
    return digest_of("stamp", render_fingerprint(config), str(total))


def _cached_stamp(store: Cache, config: Config, pages: Sequence[Any]) -> Path:
    """The page-number stamp for this many pages, drawn once per page count and paper."""
    key = _stamp_key(config, len(pages))
    path = store.blob_path(key)
    if store.blob(key) is None:
        sizes = [(float(p.MediaBox[2]), float(p.MediaBox[3])) for p in pages]
        style = load_stamp_style(config.resources.styles, config.large_print)
        data = stamp_pdf(sizes, style)
        write_atomic(path, data)
        store.record_blob(key, hashlib.sha256(data).hexdigest(), {"pages": [len(sizes)]})
    return path


def _assemble(
    front_paths: Sequence[Path],
    chunk_paths: Sequence[Path],
    placed: Sequence[Placed],
    front_pages: int,
    config: Config,
    store: Cache,
    target: Path,
) -> int:
    """Merge, stamp, link and outline; write ``target`` atomically. Returns the page count."""
    import pikepdf

    booklet = pikepdf.Pdf.new()
    opened = []
    # Pages are grafted into the page tree directly and kept in a Python list:
    # pikepdf's PageList re-reads the whole page list on every append or index,
    # which made 18,000 pages take minutes (and outline items by page index, seconds).
    tree = booklet.Root.Pages
    page_objs: list[Any] = []
    for path in [*front_paths, *chunk_paths]:
        part = pikepdf.Pdf.open(path)
        opened.append(part)
        for page in part.pages:
            copied = booklet.copy_foreign(page.obj)
            copied.Parent = tree
            page_objs.append(copied)
    tree.Kids = pikepdf.Array(page_objs)
    tree.Count = len(page_objs)
    total = len(page_objs)

    stamp = pikepdf.Pdf.open(_cached_stamp(store, config, page_objs))
    for obj, overlay in zip(page_objs, stamp.pages, strict=True):
        page = pikepdf.Page(obj)
        page.add_overlay(overlay, pikepdf.Rectangle(page.mediabox))

    def destination(index: int) -> Any:
        return pikepdf.Array([page_objs[index], pikepdf.Name.Fit])

    start = {item.slug: front_pages + item.first_page for item in placed}
    for index in range(front_pages):
        for annot in page_objs[index].get("/Annots", []):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            slug = uri.removeprefix(CROSS_DOCUMENT_SCHEME)
            if uri.startswith(CROSS_DOCUMENT_SCHEME) and slug in start:
                del annot["/A"]
                annot.Dest = destination(start[slug])

    with booklet.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Contents", destination(min(2, total - 1))))
        letter_item: Any = None
        for item in placed:
            if letter_item is None or str(letter_item.title) != item.letter:
                letter_item = pikepdf.OutlineItem(item.letter, destination(start[item.slug]))
                outline.root.append(letter_item)
            letter_item.children.append(
                pikepdf.OutlineItem(item.title, destination(start[item.slug]))
            )

    booklet.Root.Lang = pikepdf.String(config.lang)
    booklet.Root.PageMode = pikepdf.Name.UseOutlines
    booklet.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    booklet.docinfo[pikepdf.Name.Title] = BOOKLET_TITLE
    booklet.docinfo[pikepdf.Name.Creator] = templating.page_options(config).generator
    with booklet.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = BOOKLET_TITLE
        meta["dc:language"] = [config.lang]

    # Streams are copied as they are: re-compressing 70 MB of content streams doubled the time.
    write_atomic_with(
        target,
        lambda handle: booklet.save(handle, stream_decode_level=pikepdf.StreamDecodeLevel.none),
    )
    return total


def build_booklet(
    catalog: Catalog,
    config: Config,
    store: Cache,
    limits: Limits,
    target: Path,
    progress: Callable[[int], None] | None = None,
) -> BookletReport:
    """Build the booklet of every valid monograph, reusing cached chunks."""
    clinic = config.clinic.name if config.clinic is not None else None
    started = time.perf_counter()
    sweep_stale_temps(store.blob_dir)
    sweep_stale_temps(target.parent)
    entries = ordered(catalog.entries)
    titles = {e.slug: e.title for e in entries}
    chunks = plan_chunks(entries, render_fingerprint(config))
    problems: list[Diagnostic] = []
    if not chunks:
        return BookletReport(None, 0, 0, 0, 0, (), time.perf_counter() - started)
    # A chunk is ~24 handouts' worth of layout: recycle workers after fewer tasks.
    chunk_limits = replace(limits, tasks_per_worker=max(1, limits.tasks_per_worker // 5))
    with RenderPool(chunk_limits) as pool:
        counts, used, laid_out = _lay_out_chunks(chunks, config, store, pool, problems, progress)
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
        front_keys, front_pages = _lay_out_front(placed, config, store, pool, clinic)
        LOGGER.info(
            "booklet: %d front pages ready (%.1f s)", front_pages, time.perf_counter() - started
        )
    parts = [*front_keys, *(c.key for c in used)]
    key = digest_of("booklet", render_fingerprint(config), *parts)
    done = store.output_current(target, key)
    if done is not None:  # nothing changed: the booklet on disk is this one
        total = int(done["pages"])
    else:
        total = _assemble(
            [store.blob_path(k) for k in front_keys],
            [store.blob_path(c.key) for c in used],
            placed,
            front_pages,
            config,
            store,
            target,
        )
        store.record_outputs([(target, key, {"pages": total})])
        LOGGER.info(
            "booklet: merged and stamped %d pages (%.1f s)", total, time.perf_counter() - started
        )
    stamp_key = _stamp_key(config, total)
    store.prune_blobs([*parts, stamp_key])
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
