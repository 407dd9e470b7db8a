"""Front and back matter around laid-out monographs, and each finished book.

Given where every monograph falls (from the cached chunks), this stage:

1. cuts the monographs into volumes (:mod:`medpdf.products.booklet.plan`; one
   volume without ``--volume-pages``);
2. lays out each volume's front matter — cover naming its range, the master
   contents (volume 1 of several), disclaimer, the volume's own contents with
   literal page numbers — repeating until the contents' length agrees with
   the numbers it prints;
3. lays out the ingredient index for the back of the last volume, one letter
   per document, with literal page numbers (and volume numbers);
4. when a volume came out longer than allowed, plans again with that much
   less room;
5. merges each volume with :func:`medpdf.pdf.assemble.assemble` (stamp,
   links, outline), cutting a chunk that straddles two volumes with
   :mod:`medpdf.pdf.slices`.

Every laid-out part and every slice is cached by a key of what it shows, so
after one edit only the parts whose numbers moved are laid out again.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from medpdf import i18n
from medpdf.errors import MedpdfError
from medpdf.html import templating
from medpdf.i18n import N_
from medpdf.pdf.assemble import BookletMeta, Placed, assemble
from medpdf.products.booklet import index as ingredient_index
from medpdf.products.booklet.plan import LINES_PER_PAGE, Volume, chunk_spans, plan, volume_path
from medpdf.run.cache import Cache, digest_of
from medpdf.run.contract import (
    FrontJob,
    IndexJob,
    Pdf,
    Rendered,
    RunContext,
    front_task,
    index_task,
)
from medpdf.run.store import write_atomic, write_atomic_with
from medpdf.run.workers import Failure, Runner
from medpdf.settings.config import Config
from medpdf.settings.options import CLINIC, DUPLEX, LANG, LARGE_PRINT

LOGGER = logging.getLogger(__name__)

BOOKLET_TITLE = N_("Drug reference booklet")

#: The booklet's words outside its laid-out pages: its title, the stamp, the outline, and
#: what a screen reader says for a contents link. They come from the pages' catalogs.
PAGE_OF = N_("Page %(page)s of %(pages)s")
PRINTED = N_("Printed %(date)s")
CONTENTS = N_("Contents")
INGREDIENT_INDEX = N_("Ingredient index")
PAGE_LINK = N_("%(title)s, page %(page)s")
VOLUME_OF = N_("Volume %(volume)s of %(volumes)s")


def _translated(config: Config) -> Callable[[str], str]:
    """The booklet language's translation of a message (its catalog, else English)."""
    catalog = i18n.translations(config.resources.locale, i18n.catalog_for(config[LANG]))
    return catalog.gettext


#: Index lines in one laid-out part (about five pages).
INDEX_PART_LINES = 5 * LINES_PER_PAGE


def keep(store: Cache, key: str, made: Pdf) -> Rendered:
    """Write a part a worker made into the cache's blobs; remember its page counts.

    Chunks also bring their monographs' ingredients, for the index.
    """
    result = made.write(store.blob_path(key))
    extra: dict[str, object] = {"pages": list(result.page_counts)}
    if result.ingredients:
        extra["ingredients"] = [list(names) for names in result.ingredients]
    store.record_blob(key, result.sha256, extra)
    return result


def toc(placed: Sequence[Placed], offset: int) -> tuple[templating.TocGroup, ...]:
    """The contents lines, by letter, numbered from ``offset`` front pages."""
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


def _guess(lines: int) -> int:
    return max(1, math.ceil((lines + 3) / LINES_PER_PAGE))


def _run_parts(
    jobs: Sequence[FrontJob | IndexJob],
    keys: Sequence[str],
    task: Callable[..., Pdf],
    store: Cache,
    pool: Runner,
) -> dict[str, int]:
    """Lay out the parts not in the cache (in parallel); page count by key."""
    pages: dict[str, int] = {}
    todo: list[FrontJob | IndexJob] = []
    for key, job in zip(keys, jobs, strict=True):
        extra = store.blob(key)
        if extra is not None:
            pages[key] = int(extra["pages"][0])
        else:
            todo.append(replace(job, key=key))
    # A letter's contents can run to dozens of pages: more time than one handout.
    seconds = pool.limits.seconds * 4
    for outcome in pool.run(task, todo, seconds=lambda _: seconds):
        if isinstance(outcome.result, Failure):
            raise MedpdfError(
                f"booklet: laying out a front or back part failed: {outcome.result.message}"
            )
        key = outcome.item.key
        pages[key] = keep(store, key, outcome.result).page_counts[0]
    return pages


def lay_out_front(
    volume: Volume,
    info: templating.BookletInfo,
    lines: tuple[templating.VolumeLine, ...],
    context: RunContext,
    store: Cache,
    pool: Runner,
) -> tuple[list[str], int]:
    """Lay out cover and contents until the contents' length agrees with the numbers it prints.

    Returns the cache keys of the front parts in order and their page count.
    None carries the date (it is stamped), so another day finds them all cached.
    """
    hint_name = f"booklet-front-pages-{volume.number}"
    hint = store.recall(hint_name)
    guess = 2 + sum(_guess(len(g.entries)) for g in toc(volume.placed, 0))
    front_pages = int(hint) if hint and hint.isdigit() else guess
    for _ in range(4):
        jobs = [FrontJob("cover", (), False, info, context, "", lines)]
        for number, group in enumerate(toc(volume.placed, front_pages)):
            jobs.append(FrontJob("contents", (group,), number == 0, info, context, ""))
        keys = [
            digest_of(
                "front",
                context.fingerprint,
                job.part,
                repr(job.toc),
                str(job.first),
                repr(info),
                repr(job.volumes),
            )
            for job in jobs
        ]
        pages = _run_parts(jobs, keys, front_task, store, pool)
        actual = sum(pages[key] for key in keys)
        if actual == front_pages:
            store.remember(hint_name, str(actual))
            return keys, actual
        front_pages = actual
    raise MedpdfError("booklet: the contents' page count does not settle")


def lay_out_index(
    groups: Sequence[templating.IndexGroup],
    info: templating.BookletInfo,
    context: RunContext,
    store: Cache,
    pool: Runner,
) -> tuple[list[str], int]:
    """Lay out the ingredient index in parts of a few pages each; keys and page count.

    A part holds whole letters, at least :data:`INDEX_PART_LINES` lines unless it
    is the last: small booklets get a compact index, big ones parts to lay out in
    parallel, and an edit re-lays out only the parts whose numbers moved.
    """
    parts: list[list[templating.IndexGroup]] = [[]]
    lines = 0
    for group in groups:
        if lines >= INDEX_PART_LINES:
            parts.append([])
            lines = 0
        parts[-1].append(group)
        lines += ingredient_index.lines_of(group)
    jobs = [IndexJob(tuple(part), i == 0, info, context, "") for i, part in enumerate(parts)]
    keys = [
        digest_of("index", context.fingerprint, repr(job.groups), str(job.first), repr(info))
        for job in jobs
    ]
    pages = _run_parts(jobs, keys, index_task, store, pool)
    return keys, sum(pages[key] for key in keys)


def _stamp_for(context: RunContext, store: Cache, keys: list[str]) -> Callable[..., Path]:
    """Draw (or reuse) the stamp for a book of the given page sizes; its key goes in ``keys``."""
    from medpdf.pdf import stamp

    def draw(sizes: Sequence[tuple[float, float]]) -> Path:
        size_text = ",".join(f"{w:g}x{h:g}" for w, h in sizes[:1])
        key = digest_of(
            "stamp",
            context.fingerprint,
            context.config.printed.isoformat(),
            str(len(sizes)),
            size_text,
        )
        keys.append(key)
        path = store.blob_path(key)
        if store.blob(key) is None:
            config = context.config
            style = stamp.load_style(config.resources.styles, config[LARGE_PRINT], config[DUPLEX])
            _ = _translated(config)
            words = stamp.StampWords(_(PAGE_OF), _(PRINTED), config[LANG])
            data = stamp.stamp_pdf(sizes, style, config.printed, words)
            write_atomic(path, data)
            store.record_blob(key, hashlib.sha256(data).hexdigest(), {"pages": [len(sizes)]})
        return path

    return draw


@dataclass(frozen=True)
class Book:
    """One volume as planned and laid out: its parts in order."""

    volume: Volume
    info: templating.BookletInfo
    front_keys: tuple[str, ...]
    front_pages: int
    back_keys: tuple[str, ...] = ()
    back_pages: int = 0

    @property
    def pages(self) -> int:
        """Front, monographs and index."""
        return self.front_pages + self.volume.body_pages + self.back_pages


@dataclass(frozen=True)
class Bound:
    """What binding made: each file and its page count, and the cache keys it used."""

    files: tuple[tuple[Path, int], ...]
    keys: tuple[str, ...]


def _info(context: RunContext, volume: Volume, count: int) -> templating.BookletInfo:
    clinic = context.config[CLINIC]
    name = clinic.name if clinic else None
    if volume.number == 0:
        return templating.BookletInfo(BOOKLET_TITLE, name, len(volume.placed))
    return templating.BookletInfo(
        BOOKLET_TITLE, name, len(volume.placed), volume.number, count, volume.span
    )


def _books(
    volumes: Sequence[Volume],
    listed: Sequence[ingredient_index.Listed],
    target: Path,
    context: RunContext,
    store: Cache,
    pool: Runner,
) -> list[Book]:
    count = len(volumes) if volumes[0].number else 0
    lines = tuple(
        templating.VolumeLine(v.number, v.span, volume_path(target, v.number).name) for v in volumes
    )
    books: list[Book] = []
    for volume in volumes:
        info = _info(context, volume, count)
        master = lines if volume.number == 1 else ()
        keys, pages = lay_out_front(volume, info, master, context, store, pool)
        books.append(Book(volume, info, tuple(keys), pages))
    where: dict[str, templating.Ref] = {}
    for book in books:
        for item in book.volume.placed:
            page = book.front_pages + item.first_page + 1
            where[item.slug] = templating.Ref(item.slug, item.title, page, book.volume.number)
    groups = ingredient_index.build_index(listed, where, context.config[LANG])
    if groups:
        keys, pages = lay_out_index(groups, books[-1].info, context, store, pool)
        books[-1] = replace(books[-1], back_keys=tuple(keys), back_pages=pages)
    return books


def index_estimate(listed: Sequence[ingredient_index.Listed], lang: str) -> int:
    """Pages the index will take, from its line count (before page numbers are known)."""
    rough = {item.slug: templating.Ref(item.slug, item.title, 0) for item in listed}
    groups = ingredient_index.build_index(listed, rough, lang)
    lines = sum(ingredient_index.lines_of(g) + 2 for g in groups)
    return _guess(lines) + len(groups) // 10


def bind(
    placed: Sequence[Placed],
    listed: Sequence[ingredient_index.Listed],
    limit: int | None,
    target: Path,
    context: RunContext,
    store: Cache,
    pool: Runner,
) -> list[Book]:
    """Plan volumes and lay out their front and back matter."""
    index_pages = index_estimate(listed, context.config[LANG])
    slack = 0
    books: list[Book] = []
    for _ in range(4):
        room = limit - slack if limit else None
        volumes = plan(placed, max(room, 1) if room is not None else None, index_pages)
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


def _body_parts(book: Book, chunk_pages: Sequence[tuple[str, int, int]], store: Cache) -> list[str]:
    """Blob keys of the volume's monograph pages: whole chunks, or slices cut from them."""
    from medpdf.pdf.slices import write_slice

    keys: list[str] = []
    for span in chunk_spans(book.volume, chunk_pages):
        if span.whole:
            keys.append(span.key)
            continue
        key = digest_of("slice", span.key, str(span.start), str(span.stop))
        if store.blob(key) is None:
            path = store.blob_path(key)
            count = write_slice(
                store.blob_path(span.key), span.start, span.stop, write_atomic_with, path
            )
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            store.record_blob(key, digest, {"pages": [count]})
        keys.append(key)
    return keys


def write_books(
    books: Sequence[Book],
    chunk_pages: Sequence[tuple[str, int, int]],
    target: Path,
    context: RunContext,
    store: Cache,
) -> Bound:
    """Merge each volume into its file, unless the file on disk is already this one."""
    files: list[tuple[Path, int]] = []
    kept: list[str] = []
    # The index (in the last volume) links to monographs in the other volumes' files.
    elsewhere = {
        item.slug: (
            volume_path(target, book.volume.number).name,
            book.front_pages + item.first_page,
        )
        for book in books[:-1]
        for item in book.volume.placed
    }
    for book in books:
        path = volume_path(target, book.volume.number)
        body = _body_parts(book, chunk_pages, store)
        parts = [*book.front_keys, *body, *book.back_keys]
        key = digest_of("booklet", context.fingerprint, str(book.volume.number), *parts)
        kept += parts
        done = store.output_current(path, key)
        if done is not None:  # nothing changed: the file on disk is this one
            files.append((path, int(done["pages"])))
            kept += done.get("stamp", [])
            continue
        stamps: list[str] = []
        _ = _translated(context.config)
        title = _(BOOKLET_TITLE)  # a viewer shows it as the window's title
        if book.volume.number:
            title += ", " + _(VOLUME_OF) % {"volume": book.volume.number, "volumes": len(books)}
        meta = BookletMeta(
            title,
            context.config[LANG],
            templating.page_options(context.config).generator,
            contents=_(CONTENTS),
            index=_(INGREDIENT_INDEX),
            page_link=_(PAGE_LINK),
        )
        total = assemble(
            [store.blob_path(k) for k in parts],
            _stamp_for(context, store, stamps),
            book.volume.placed,
            book.front_pages,
            meta,
            write_atomic_with,
            path,
            back_pages=book.back_pages,
            elsewhere=elsewhere if book.back_pages else None,
        )
        store.record_outputs([(path, key, {"pages": total, "stamp": stamps})])
        kept += stamps
        files.append((path, total))
    _remove_stale_volumes(target, {p for p, _ in files}, store)
    return Bound(tuple(files), tuple(kept))


def _remove_stale_volumes(target: Path, written: set[Path], store: Cache) -> None:
    """Volume files of an earlier build that this one did not write (fewer volumes now)."""
    prefix = f"{target.stem}-vol"
    stale = [
        path
        for path in store.recorded_outputs(target.parent)
        if path.name.startswith(prefix) and path.suffix == target.suffix and path not in written
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    if stale:
        store.forget_outputs(stale)
