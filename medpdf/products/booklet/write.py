"""Each finished book: its parts merged into one file, stamped, linked, kept.

For every volume, the parts laid out by :mod:`.parts` are put in order —
front matter, monograph pages (whole chunks, or slices cut from a chunk that
straddles two volumes, :mod:`medpdf.pdf.slices`), the index — and merged by
:func:`medpdf.pdf.assemble.assemble` with the stamp drawn for its pages. A
finished file is keyed by its parts only: an unchanged collection keeps the
file (and the date stamped on it) it already has. Slices, stamps and books are
written through the store (:class:`medpdf.run.store.Store`), which records
each as it writes it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from medpdf.digests import digest_of
from medpdf.html import templating
from medpdf.pdf.assemble import BookletMeta, assemble
from medpdf.products.booklet.parts import Book
from medpdf.products.booklet.plan import chunk_spans, mirrored, volume_path
from medpdf.products.booklet.words import (
    BOOKLET_TITLE,
    CONTENTS,
    INGREDIENT_INDEX,
    PAGE_LINK,
    PAGE_OF,
    PRINTED,
    VOLUME_OF,
    translated,
)
from medpdf.run import RunContext, Store
from medpdf.settings.options import LANG, LARGE_PRINT


def _stamp_for(
    context: RunContext, store: Store, keys: list[str]
) -> Callable[[Sequence[tuple[float, float]]], list[Path]]:
    """Draw (or reuse) the stamp for a book of the given page sizes; its keys go in ``keys``.

    The stamp is drawn in files of :data:`~medpdf.pdf.stamp.STAMP_PAGES` pages,
    each kept by its own key.
    """
    from medpdf.pdf import stamp

    def draw(sizes: Sequence[tuple[float, float]]) -> list[Path]:
        config = context.config
        paths: list[Path] = []
        for start in range(0, len(sizes), stamp.STAMP_PAGES):
            batch = sizes[start : start + stamp.STAMP_PAGES]
            key = digest_of(
                "stamp",
                context.fingerprint,
                config.printed.isoformat(),
                str(len(sizes)),
                ",".join(f"{w:g}x{h:g}" for w, h in batch[:1]),
                str(start),
            )
            keys.append(key)
            if store.part(key) is None:
                style = stamp.load_style(
                    config.resources.styles, config[LARGE_PRINT], mirrored(config)
                )
                _ = translated(config)
                words = stamp.StampWords(_(PAGE_OF), _(PRINTED), config[LANG])
                data = stamp.stamp_pdf(batch, style, config.printed, words, start + 1, len(sizes))
                store.keep_part(key, data, {"pages": [len(batch)]})
            paths.append(store.part_path(key))
        return paths

    return draw


def _body_parts(book: Book, chunk_pages: Sequence[tuple[str, int, int]], store: Store) -> list[str]:
    """Keys of the volume's monograph pages: whole chunks, or slices cut from them."""
    from medpdf.pdf import slices

    keys: list[str] = []
    for span in chunk_spans(book.volume, chunk_pages):
        if span.whole:
            keys.append(span.key)
            continue
        key = digest_of("slice", span.key, str(span.start), str(span.stop))
        if store.part(key) is None:
            cut = functools.partial(
                slices.write_slice, store.part_path(span.key), span.start, span.stop
            )
            store.keep_part(key, cut, {"pages": [span.stop - span.start]})
        keys.append(key)
    return keys


class _Kept:
    """The store as the booklet writer's memo (:class:`medpdf.pdf.assemble.Memo`).

    It notes every key it is asked for and finds, or keeps, so that pruning
    the store keeps them for the next build.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.keys: list[str] = []

    def recall(self, key: str) -> bytes | None:
        data = self._store.part_data(key)
        if data is not None:
            self.keys.append(key)
        return data

    def keep(self, key: str, data: bytes) -> None:
        self._store.keep_part(key, data, {})
        self.keys.append(key)


@dataclass(frozen=True)
class Bound:
    """What writing made: each file and its page count, and the cache keys it used."""

    files: tuple[tuple[Path, int], ...]
    keys: tuple[str, ...]


def write_books(
    books: Sequence[Book],
    chunk_pages: Sequence[tuple[str, int, int]],
    target: Path,
    context: RunContext,
    store: Store,
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
        done = store.current(path, key)
        if done is not None:  # nothing changed: the file on disk is this one
            files.append((path, int(done["pages"])))
            kept += done.get("stamp", []) + done.get("segments", [])
            continue
        stamps: list[str] = []
        _ = translated(context.config)
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
        memo = _Kept(store)
        made = assemble(
            [store.part_path(k) for k in parts],
            _stamp_for(context, store, stamps),
            book.volume.placed,
            book.front_pages,
            meta,
            back_pages=book.back_pages,
            elsewhere=elsewhere if book.back_pages else None,
            contents_page=book.contents_page,
            memo=memo,
        )
        # memo.keys is complete once the file is written, before it is recorded.
        recorded = {"pages": made.pages, "stamp": stamps, "segments": memo.keys}
        store.keep(path, key, made.save, recorded)
        kept += stamps + memo.keys
        files.append((path, made.pages))
    _remove_stale_volumes(target, {p for p, _ in files}, store)
    return Bound(tuple(files), tuple(kept))


def _remove_stale_volumes(target: Path, written: set[Path], store: Store) -> None:
    """Volume files of an earlier build that this one did not write (fewer volumes now)."""
    prefix = f"{target.stem}-vol"
    stale = [
        path
        for path in store.recorded(target.parent)
        if path.name.startswith(prefix) and path.suffix == target.suffix and path not in written
    ]
    if stale:
        store.remove(stale)
