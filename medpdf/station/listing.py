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

from medpdf.content import collection, sources
from medpdf.content.collection import Entry
from medpdf.run import Cache

LOGGER = logging.getLogger(__name__)


def fold(text: str) -> str:
    """Case- and accent-free text, so "cafe" finds "Café" and "beta" finds "Beta"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


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
        words = fold(query).split()
        if not words:
            return list(self.entries)
        ranked: list[tuple[int, str, Entry]] = []
        for title, entry in zip(self.folded, self.entries, strict=True):
            haystack = f"{title} {entry.slug}"
            if not all(word in haystack for word in words):
                continue
            if title.startswith(words[0]):
                rank = 0
            elif f" {words[0]}" in f" {title}" or f"-{words[0]}" in title:
                rank = 1
            else:
                rank = 2
            ranked.append((rank, title, entry))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [entry for _, _, entry in ranked]

    def suggestions(self, query: str) -> list[Entry]:
        """Close names for a query that matched nothing (typos)."""
        return [self.by_slug[slug] for slug in collection.suggestions(query, self.entries)]


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
