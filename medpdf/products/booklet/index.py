"""The booklet's ingredient index, built from the model (never from PDF text).

A reader holding a paper booklet finds "Paracetamol" in the index and every
monograph that contains it: the single-drug monograph and each combination.
Which ingredients a monograph names, and which spellings are one name, is
:mod:`medpdf.content.ingredients`' business; here they are grouped.

The printed name of an entry is its most frequent spelling. Entries are in
the booklet language's alphabetical order of their printed names and grouped
by its letters, as the contents are (:mod:`medpdf.content.collation`); a
monograph is listed under an ingredient once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from medpdf.content import collation
from medpdf.content.ingredients import name_key, preferred
from medpdf.html.booklet_pages import IndexEntry, IndexGroup, Ref


@dataclass(frozen=True)
class Listed:
    """A monograph as the index lists it."""

    slug: str
    title: str
    ingredients: tuple[str, ...]


def build_index(
    listed: Iterable[Listed], where: dict[str, Ref], lang: str = "en"
) -> tuple[IndexGroup, ...]:
    """Group monographs by ingredient key; ``where`` gives each monograph's place.

    Order and letters are ``lang``'s (the booklet's language).
    """
    order = collation.for_lang(lang)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    refs: dict[str, dict[str, Ref]] = defaultdict(dict)
    for item in listed:
        place = where.get(item.slug)
        if place is None:
            continue
        for name in item.ingredients:
            key = name_key(name)
            spellings[key][name] += 1
            refs[key][item.slug] = place
    names = {key: preferred(counts) for key, counts in spellings.items()}
    groups: dict[str, list[IndexEntry]] = defaultdict(list)
    for key in order.sorted(refs, lambda k: names[k], lambda k: k):
        places = order.sorted(refs[key].values(), lambda r: r.title, lambda r: r.slug)
        groups[order.letter(names[key])].append(IndexEntry(key, names[key], tuple(places)))
    return tuple(IndexGroup(letter, tuple(entries)) for letter, entries in groups.items())


def entry_lines(entry: IndexEntry) -> int:
    """Printed lines of an entry: a heading line for an ingredient with several monographs."""
    return 1 if len(entry.refs) == 1 else 1 + len(entry.refs)


def lines_of(group: IndexGroup) -> int:
    """Printed lines of a group's entries."""
    return sum(entry_lines(e) for e in group.entries)
