"""The ingredients a monograph names, and when two names are one (from the model, never PDF text).

A reader holding a paper booklet finds "Paracetamol" in the index and every
monograph that contains it: the single-drug monograph and each combination
(:mod:`medpdf.products.booklet.index` lists them). This module says which
names a monograph gives and which spellings are one name.

Where ingredients come from
    * the components of the title: ``A + B``, ``A / B``, ``A & B``;
    * the components of the generic name (the ``### Generic Name`` section),
      split the same way, when the monograph states one short generic name.

    Bracketed and parenthesised text is left out ("Testosterone (Injection)"
    is Testosterone, "Rifampicin [Rifampin]" is Rifampicin), and so is any
    part that reads like prose rather than a name (more than six words, or
    over 60 characters, or with sentence punctuation).

How names are judged the same (the index key, :func:`name_key`)
    1. Unicode compatibility form, accents dropped: "Ébrovan" = "Ebrovan";
    2. case ignored: "Folic acid" = "Folic Acid";
    3. hyphens and runs of spaces are one space: "Levo-carnitine" =
       "Levo carnitine";
    4. a space or hyphen between a letter and a number is dropped: "Vitamin
       B 12" = "Vitamin B-12" = "Vitamin B12", "Omega 3" = "Omega-3".

    Nothing else is merged: "Sulphate" and "Sulfate", or "Levosalbutamol" and
    "Levalbuterol", may be the same substance, but deciding that is an
    editor's call. ``medpdf check --report`` lists such near-duplicates
    (:func:`near_duplicates`) so they can be written one way.

The printed name of an ingredient is its most frequent spelling (ties: the
one with fewest spaces, then the first in alphabetical order): :func:`preferred`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from medpdf.content.model import Monograph

_SPLIT = re.compile(r"\s*[+/&]\s*")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_PROSE = re.compile(r"[.,;:!?*]")
_LETTER_NUMBER = re.compile(r"(?<=\b[a-z])[\s-]+(?=\d)|(?<=[a-z])[\s-]+(?=\d+\b)")
_SPACES = re.compile(r"[\s\-\u2010-\u2015]+")
_MAX_WORDS = 6
_MAX_CHARS = 60


def _strip_bracketed(text: str) -> str:
    previous = None
    while previous != text:  # nested brackets, innermost first
        previous, text = text, _BRACKETED.sub(" ", text)
    return re.sub(r"[()\[\]{}]", " ", text)


def split_names(text: str) -> tuple[str, ...]:
    """The ingredient names a title or generic name lists, as written (tidied)."""
    names: list[str] = []
    for part in _SPLIT.split(_strip_bracketed(text)):
        name = " ".join(part.split()).strip(" -")
        if not name or not any(c.isalpha() for c in name):
            continue
        if len(name) > _MAX_CHARS or len(name.split()) > _MAX_WORDS or _PROSE.search(name):
            continue
        names.append(name)
    return tuple(names)


#: Words that describe a product, not an ingredient: alone as a component of a title
#: ("Rotavirus vaccine live attenuated +oral") they would be an index entry of their own.
DESCRIPTORS = frozenset(
    {
        "adsorbed", "attenuated", "capsule", "capsules", "conjugated", "cream", "drops",
        "er", "forte", "gel", "inactivated", "injection", "live", "lotion", "ointment",
        "oral", "plain", "purified", "recombinant", "sr", "solution", "suspension",
        "syrup", "tablet", "tablets", "topical", "xr",
    }
)  # fmt: skip


def junk_names(text: str) -> list[tuple[str, str]]:
    """Components of a title or generic name that would make a junk index entry, and why.

    A component cut short ("Omega-", "Pyridoxal-": the index would list "Omega")
    or one that is only a descriptor ("attenuated", "oral").
    """
    found: list[tuple[str, str]] = []
    for part in _SPLIT.split(_strip_bracketed(text)):
        written = " ".join(part.split())
        name = written.strip(" -")
        if not name or not any(c.isalpha() for c in name):
            continue
        if written.endswith("-"):
            found.append((written, f"ends with a hyphen; the index would list it as {name!r}"))
        elif name.casefold() in DESCRIPTORS:
            found.append((written, "is a descriptor, not an ingredient"))
    return found


def ingredients_of(monograph: Monograph) -> tuple[str, ...]:
    """Every ingredient the monograph's title and generic name name, each once."""
    found: dict[str, str] = {}
    sources = [monograph.title]
    if monograph.generic_name:
        sources.append(monograph.generic_name)
    for text in sources:
        for name in split_names(text):
            found.setdefault(name_key(name), name)
    return tuple(found.values())


def name_key(name: str) -> str:
    """The key under which spellings of one name are listed together (see the module doc)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _SPACES.sub(" ", text).strip()
    return _LETTER_NUMBER.sub("", text)


def _preference(name: str, counts: Counter[str]) -> tuple[int, int, str]:
    # The most frequent spelling; on a tie the one with fewest spaces ("Vitamin B12").
    return (-counts[name], name.count(" "), name)


def preferred(counts: Counter[str]) -> str:
    """The spelling an ingredient is printed under, among those counted."""
    return min(counts, key=lambda n: _preference(n, counts))


# -- near-duplicates, for check --report ------------------------------------------

_SPELLING = (("ph", "f"), ("ae", "e"), ("oe", "e"), ("y", "i"), ("aluminium", "aluminum"))


def _loose(key: str) -> str:
    loose = re.sub(r"[^a-z0-9]", "", key)
    for old, new in _SPELLING:
        loose = loose.replace(old, new)
    return loose


@dataclass(frozen=True)
class NearDuplicate:
    """Ingredient names that are probably one substance written two ways."""

    names: tuple[str, str]
    monographs: int
    score: float


def near_duplicates(monographs: Sequence[Monograph], cutoff: float = 90.0) -> list[NearDuplicate]:
    """Pairs of distinct index keys that differ by spelling or a small typo.

    Two names are reported when they are equal after loose spelling rules
    (ph/f, ae/e, y/i, punctuation: "Sulphate"/"Sulfate") or when their
    normalised similarity (rapidfuzz ``ratio``) reaches ``cutoff``; short names
    (under 6 letters) only by the first rule, as "Zinc"/"Iron" look alike.
    """
    from rapidfuzz import fuzz, process

    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for monograph in monographs:
        for name in ingredients_of(monograph):
            spellings[name_key(name)][name] += 1
    keys = sorted(spellings)
    found: dict[tuple[str, str], float] = {}
    by_loose: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_loose[_loose(key)].append(key)
    for same in by_loose.values():
        for other in same[1:]:
            found[(same[0], other)] = 100.0
    long_keys = [k for k in keys if len(k) >= 6]
    for a in long_keys:
        for b, score, _ in process.extract(
            a, long_keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        ):
            if a < b and _loose(a) != _loose(b) and not _differ_by_number(a, b):
                found.setdefault((a, b), float(score))

    def shown(key: str) -> str:
        return preferred(spellings[key])

    return sorted(
        (
            NearDuplicate(
                (shown(a), shown(b)),
                sum(spellings[a].values()) + sum(spellings[b].values()),
                score,
            )
            for (a, b), score in found.items()
        ),
        key=lambda d: (-d.score, d.names),
    )


def _differ_by_number(a: str, b: str) -> bool:
    # "Vitamin B1" / "Vitamin B2", "Factor VII" / "Factor VIII": different substances.
    return re.sub(r"[\divx]+\b", "", a) == re.sub(r"[\divx]+\b", "", b)


def report(duplicates: Sequence[NearDuplicate], limit: int = 40) -> str:
    """The ``check --report`` section on ingredient names that look like near-duplicates."""
    lines = [f"ingredient names that look like near-duplicates: {len(duplicates)}"]
    for item in duplicates[:limit]:
        first, second = item.names
        lines.append(f"  {first!r} / {second!r} ({item.monographs} monographs)")
    if len(duplicates) > limit:
        lines.append(f"  ... and {len(duplicates) - limit} more")
    return "\n".join(lines) + "\n"
