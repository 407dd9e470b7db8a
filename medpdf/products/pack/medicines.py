"""A patient's list of medicines: what each is for, when it is taken, and who mentions whom.

Pure functions over parsed monographs, for the medication pack's first page:

- :func:`purpose` takes the first sentence of a monograph's Usage and shortens
  it to what fits a table cell ("Used to improve glycemic control in adults
  with type 2 diabetes mellitus");
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
from medpdf.content.model import Monograph, Section, SectionKind, components_of

#: The four times of the Universal Medication Schedule, in the order of a day.
TIMES: tuple[str, ...] = ("morning", "noon", "evening", "bedtime")

#: Longest purpose a schedule cell shows, in characters; about two lines of the cell.
PURPOSE_LIMIT = 90
#: Clause boundaries a long purpose is cut at, before falling back to a word boundary.
_CLAUSE_BREAKS = re.compile(
    r",\s|;\s|:\s|\s[-\u2013\u2014]\s|\s(?:such as|including|especially|particularly|"
    r"which|where|when|as well as|along with|and is|but)\s",
    re.IGNORECASE,
)
# A sentence ends at . ! ? followed by a space and a capital, digit or quote; "e.g. the"
# does not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
# "X is (primarily|commonly …) used to/for/in/as …": the purpose starts at "used".
_USED = re.compile(
    r"\b(?:used|prescribed|indicated|taken|given)\s+(?:\w+ly\s+)?(?:to|for|in|as)\b", re.I
)
# Blocks that label something else ("Generic Name: X" in an intro): not what it is for.
_OTHER_LABEL = re.compile(
    r"^(?:generic names?|brand names?|dosage|side effects?|precautions?|notes?)\s*:", re.I
)
#: A purpose shorter than this after cutting a clause is cut at a word instead.
_MIN_CLAUSE = 35


def _blocks(body: str) -> list[str]:
    """Paragraphs and list items of a section body, as plain text, headings left out."""
    found: list[str] = []
    for block in re.split(r"\n\s*\n", body):
        items = re.split(r"\n\s*(?=[*+\u2022-]\s|\d+[.)]\s)", block.strip())
        for item in items:
            lines = [line.strip() for line in item.splitlines() if not line.strip().startswith("#")]
            text = markdown.plain_text(re.sub(r"^(?:[*+\u2022-]|\d+[.)])\s+", "", " ".join(lines)))
            # "Usage:" written as a label at the start of the paragraph (combinations).
            text = re.sub(r"^(?:usage|uses?|indications?)\s*:\s*", "", text, flags=re.I)
            if text and not _OTHER_LABEL.match(text):
                found.append(text)
    return found


def _first_paragraph(body: str) -> str:
    """The first paragraph; one that ends in a colon runs on into the list after it."""
    blocks = _blocks(body)
    if not blocks:
        return ""
    first = blocks[0]
    if first.endswith(":") and len(blocks) > 1:
        # "**Nerve pain:** It can …": the item's label is the condition.
        items = [first_sentence(b.split(":")[0] if ":" in b[:60] else b) for b in blocks[1:4]]
        first = first.rstrip(": ") + " " + ", ".join(items) + "."
    return first


def first_sentence(text: str) -> str:
    """The first sentence of ``text``, without its closing full stop."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return sentence.rstrip(" .!?")


def shorten(text: str, limit: int = PURPOSE_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters at a clause boundary, else at a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cuts = [
        m.start() for m in _CLAUSE_BREAKS.finditer(text) if _MIN_CLAUSE <= m.start() <= limit - 1
    ]
    if cuts:
        return text[: cuts[-1]].rstrip(" ,;:") + "…"
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,;:") + "…"


def _usage_body(monograph: Monograph) -> str:
    """The text of the first Usage section, or of a component's "Usage:" paragraph."""
    found = monograph.sections_of(SectionKind.USAGE)
    if found:
        return found[0].body
    for section in monograph.sections:
        match = re.search(r"^\**\s*(?:usage|uses?)\s*:?\s*\**\s*:?(.+)$", section.body, re.I | re.M)
        if match:
            rest = section.body[match.start(1) :]
            following = re.search(r"^\*\*[^*\n]{1,40}:?\*\*", rest, re.M)  # the next label
            return rest[: following.start()] if following else rest
    return monograph.intro


def purpose(monograph: Monograph, limit: int = PURPOSE_LIMIT) -> str:
    """What the medicine is for, in a few words, from the first sentence of its Usage.

    The subject ("Metformin is primarily") is dropped when the sentence says
    what it is used for; asides in parentheses go; a long rest is cut at a
    clause, then at a word, and marked with an ellipsis. Empty when the
    monograph says nothing usable.
    """
    sentence = first_sentence(_first_paragraph(_usage_body(monograph)))
    sentence = _PARENTHESES.sub("", sentence).strip()
    used = _USED.search(sentence)
    if used is not None and used.start() <= 80:
        sentence = sentence[used.start() :]
    if sentence:
        sentence = sentence[0].upper() + sentence[1:]
    return shorten(sentence, limit)


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


def _place(section: Section) -> Place:
    if section.kind is not None:
        return Place(section.kind.key, section.kind.value)
    return Place("component" if section.component else "other", section.heading)


def _parts(monograph: Monograph) -> list[tuple[Place, str]]:
    """The leaflet's text by part, folded; the disclaimer is not the medicine's text."""
    parts = [(Place("intro", ""), fold(markdown.plain_text(monograph.intro)))]
    for section in monograph.ordered_sections():
        parts.append((_place(section), fold(f"{section.heading} {section.body}")))
    return parts


def _pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    if not names:
        return None
    # Longest first, so "vitamin k2" is tried before "vitamin k"; whole words only.
    alternatives = sorted((re.escape(n) for n in names), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def mentions(monographs: Sequence[Monograph]) -> tuple[Mention, ...]:
    """Each place where one medicine's leaflet names another medicine of the same list.

    A leaflet naming itself is not a mention, nor is a name the two medicines
    share (a combination and one of its components both answer to it). Order:
    the pack's order of the medicine that mentions, then of the one mentioned.
    """
    names = [names_of(m) for m in monographs]
    texts = [_parts(m) for m in monographs]
    found: list[Mention] = []
    for i, source in enumerate(monographs):
        for j, target in enumerate(monographs):
            if i == j:
                continue
            pattern = _pattern(names[j] - names[i])
            if pattern is None:
                continue
            places: list[Place] = []
            for place, text in texts[i]:
                if place not in places and pattern.search(text):
                    places.append(place)
            if places:
                found.append(Mention(source.title, target.title, tuple(places)))
    return tuple(found)
