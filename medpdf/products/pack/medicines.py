"""A patient's list of medicines: when each is taken, and who names whom.

Pure functions over parsed monographs, for the medication pack's first page
(what each medicine is for is :mod:`medpdf.products.pack.purposes`; the prompts built from
these mentions and from drug classes are :mod:`medpdf.products.pack.interactions`):

- :func:`mentions` finds where one medicine's leaflet names another medicine
  of the same pack: its title, its generic name or a component of a
  combination, as whole words, ignoring case and accents. It is a prompt to ask
  a pharmacist, never a verdict about an interaction, so it says where the
  name appears and nothing more.

The request itself (names, ``--take``, ``--note``, ``--from`` files) is read
by :mod:`medpdf.products.pack.packlist`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from medpdf.content import markdown
from medpdf.content.model import Monograph, Section, components_of

#: The four times of the Universal Medication Schedule, in the order of a day.
TIMES: tuple[str, ...] = ("morning", "noon", "evening", "bedtime")

# -- mentions -------------------------------------------------------------------------


def fold(text: str) -> str:
    """Text for matching names: accents removed, case folded, punctuation to spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", bare.casefold()).split())


#: Names shorter than this are not looked for: "K" or "D3" would match everywhere.
_MIN_NAME = 3
#: A generic name longer than this many words is a description, not a name.
_MAX_NAME_WORDS = 5


def names_of(monograph: Monograph) -> frozenset[str]:
    """Every name a leaflet could call this medicine by, folded: title, generic name, components."""
    found = {fold(monograph.title), *components_of(monograph.title)}
    generic = monograph.generic_name
    if generic and len(generic.split()) <= _MAX_NAME_WORDS:
        found.add(fold(generic))
    return frozenset(name for name in found if len(name) >= _MIN_NAME)


@dataclass(frozen=True)
class Place:
    """A part of a leaflet: a section key ("how_it_works", "intro") and its own heading."""

    key: str
    heading: str


@dataclass(frozen=True)
class Mention:
    """``source``'s leaflet names ``target`` (a medicine of the same pack) in ``places``."""

    source: str
    target: str
    places: tuple[Place, ...]


def place_of(section: Section) -> Place:
    """Where in a leaflet a section is: its standard kind, or its own heading."""
    if section.kind is not None:
        return Place(section.kind.key, section.kind.value)
    return Place("component" if section.component else "other", section.heading)


def parts_of(monograph: Monograph) -> list[tuple[Place, str]]:
    """The leaflet's text by part, folded; the disclaimer is not the medicine's text."""
    parts = [(Place("intro", ""), fold(markdown.plain_text(monograph.intro)))]
    for section in monograph.ordered_sections():
        parts.append((place_of(section), fold(f"{section.heading} {section.body}")))
    return parts


def _pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    if not names:
        return None
    # Longest first, so "vitamin k2" is tried before "vitamin k"; whole words only.
    alternatives = sorted((re.escape(n) for n in names), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def mentions(
    monographs: Sequence[Monograph], names: Sequence[frozenset[str]] | None = None
) -> tuple[Mention, ...]:
    """Each place where one medicine's leaflet names another medicine of the same list.

    ``names`` are the names each medicine answers to (default :func:`names_of`;
    the pack adds synonyms and a translation's original names). A leaflet
    naming itself is not a mention, nor is a name the two medicines share (a
    combination and one of its components both answer to it). Order: the
    pack's order of the medicine that mentions, then of the one mentioned.
    """
    names = list(names) if names is not None else [names_of(m) for m in monographs]
    texts = [parts_of(m) for m in monographs]
    found: list[Mention] = []
    for i, source in enumerate(monographs):
        for j, target in enumerate(monographs):
            if i == j:
                continue
            places = named_places(texts[i], names[j] - names[i])
            if places:
                found.append(Mention(source.title, target.title, places))
    return tuple(found)


def named_places(parts: list[tuple[Place, str]], names: frozenset[str]) -> tuple[Place, ...]:
    """The parts of a leaflet (:func:`parts_of`) that use one of ``names`` (folded)."""
    pattern = _pattern(names)
    if pattern is None:
        return ()
    places: list[Place] = []
    for place, text in parts:
        if place not in places and pattern.search(text):
            places.append(place)
    return tuple(places)
