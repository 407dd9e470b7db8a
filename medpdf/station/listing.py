"""The drugs a station offers, and finding one by a few typed letters.

Titles are folded (case and accents removed) once per scan, so a search is
a pass over short strings; a misspelling gets close names from the collection's
own suggestions. The list comes from the same collection scan as builds,
reusing the build cache's parse summaries when the cache can be opened.
"""

from __future__ import annotations

import logging
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from medpdf.content import collection, sources
from medpdf.content.collection import Entry
from medpdf.run import Cache

LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


def fold(text: str) -> str:
    """Case- and accent-free text, so "cafe" finds "Café" and "beta" finds "Beta"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Hit:
    """One line of the search results: a drug, or a file left out for an error.

    A monograph an editor broke is still found by its name, marked temporarily
    unavailable: otherwise a search for "metoprolol" offers only the combination
    product, and a nurse may print the wrong leaflet.
    """

    slug: str
    title: str
    unavailable: bool = False


def title_of_slug(slug: str) -> str:
    """A name for a file that could not be read: its slug in words ("Metoprolol tartrate")."""
    words = slug.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else slug


@dataclass(frozen=True)
class Listing:
    """The drugs the station offers, as scanned from the content folder."""

    entries: tuple[Entry, ...]
    folded: tuple[str, ...]
    by_slug: dict[str, Entry]
    errors: int
    #: Files left out for errors, by slug: their first ``path:line: error:`` line.
    broken: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, entries: Iterable[Entry], errors: int, broken: dict[str, str] | None = None
    ) -> Listing:
        """A listing in A-Z order of titles, indexed by slug, with titles folded for search."""
        keyed = sorted((fold(e.title), e.slug, e) for e in entries)
        ordered = tuple(entry for _, _, entry in keyed)
        folded = tuple(title for title, _, _ in keyed)
        return cls(ordered, folded, {e.slug: e for e in ordered}, errors, broken or {})

    def find(self, slug: str) -> Entry | None:
        """The entry with this slug (an exact lookup: no path is built from it)."""
        return self.by_slug.get(slug)

    def versions(self, entry: Entry) -> list[Entry]:
        """The same drug's monographs in other languages (original and translations)."""
        return [e for e in self.entries if e.drug == entry.drug and e.slug != entry.slug]

    def search(self, query: str) -> list[Entry]:
        """Entries whose title or slug contains every word of ``query``.

        Titles that start with the query come first, then those with a word that
        does, then the rest, each in A-Z order.
        """
        slugs = (e.slug for e in self.entries)
        return _ranked(zip(self.folded, slugs, self.entries, strict=True), query)

    def hits(self, query: str) -> list[Hit]:
        """What a search shows: matching drugs and files left out for errors, ranked together.

        A file left out is marked temporarily unavailable.
        """
        pairs = zip(self.folded, self.entries, strict=True)
        found = [(t, e.slug, Hit(e.slug, e.title)) for t, e in pairs]
        for slug in self.broken:
            hit = Hit(slug, title_of_slug(slug), unavailable=True)
            found.append((fold(hit.title), slug, hit))
        if not fold(query).split():
            return [hit for _, _, hit in sorted(found, key=lambda item: item[0])]
        return _ranked(found, query)

    def suggestions(self, query: str) -> list[Entry]:
        """Close names for a query that matched nothing (typos)."""
        return [self.by_slug[slug] for slug in collection.suggestions(query, self.entries)]


def _ranked(items: Iterable[tuple[str, str, T]], query: str) -> list[T]:
    """Items (folded title, slug, item) whose title or slug has every word of ``query``.

    Titles starting with it come first, then those with a word that does, then the rest.
    """
    words = fold(query).split()
    if not words:
        return [item for _, _, item in items]
    ranked: list[tuple[int, str, T]] = []
    for title, slug, item in items:
        haystack = f"{title} {slug}"
        if not all(word in haystack for word in words):
            continue
        if title.startswith(words[0]):
            rank = 0
        elif f" {words[0]}" in f" {title}" or f"-{words[0]}" in title:
            rank = 1
        else:
            rank = 2
        ranked.append((rank, title, item))
    ranked.sort(key=lambda found: (found[0], found[1]))
    return [item for _, _, item in ranked]


def scan(content_dir: Path, cache_folder: Path, rules: collection.Rules | None = None) -> Listing:
    """Scan the content folder, reusing the build cache's parse summaries.

    A build may hold the cache for a while; the station then parses everything
    itself rather than wait or fail.
    """
    try:
        with Cache(cache_folder) as store:
            found = collection.scan(content_dir, store, rules)
    except sqlite3.OperationalError as exc:
        LOGGER.info("build cache busy (%s); scanning without it", exc)
        found = collection.scan(content_dir, None, rules)
    broken: dict[str, str] = {}
    for problem in found.errors:
        broken.setdefault(sources.slug_for(Path(problem.path)), problem.format())
    return Listing.of(found.entries, len(found.errors), broken)
