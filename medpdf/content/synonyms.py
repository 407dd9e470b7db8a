"""Which active ingredients a medicine holds, named one way whatever the label says.

"Paracetamol", "Acetaminophen" and "Ibuprofen + Paracetamol" all hold one
ingredient, paracetamol; "Metoprolol Succinate" and "Metoprolol Tartrate" are
both metoprolol; "Co-codamol" is codeine and paracetamol. The medication pack
warns when two of its medicines hold the same one (taking both can mean too
much), and the drug-class table (:mod:`medpdf.products.pack.drug_classes`) names its members
the same way, so a class knows "Acetaminophen" by "paracetamol".

Names come from the title and the generic name, split at ``+``, ``/``, ``&``
and " and " (bracketed asides left out), then, in this order: the synonym
groups and British "co-" names of ``medpdf/data/ingredients.toml``, then salt
words dropped from the end ("Sertraline Hydrochloride"). Nothing else is
merged: two different spellings the table does not know stay two ingredients.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from medpdf.content.model import Monograph

_SPLIT = re.compile(r"\s*[+/&]\s*|\s+and\s+", re.IGNORECASE)
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
#: A part of a title or generic name longer than this is prose, not a name.
_MAX_WORDS = 6


def fold(text: str) -> str:
    """A name as compared: accents removed, case folded, punctuation to single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", bare.casefold()).split())


@dataclass(frozen=True)
class Names:
    """The ingredient table: synonyms, "co-" names and salt words (all folded)."""

    #: Any name of a synonym group -> the group's first name.
    canonical: dict[str, str]
    #: Any name of a group -> every name of it (for finding a medicine in a leaflet).
    group: dict[str, tuple[str, ...]]
    combinations: dict[str, tuple[str, ...]]
    salts: frozenset[str]
    kept_whole: frozenset[str]
    #: Ingredients whose names do not say a leaflet means one medicine ("potassium").
    too_general: frozenset[str] = frozenset()

    def keys(self, name: str) -> tuple[str, ...]:
        """The ingredient(s) a name stands for: ``"Co-codamol"`` -> ("codeine", "paracetamol")."""
        folded = fold(name)
        if folded in self.combinations:
            return tuple(self.key(part) for part in self.combinations[folded])
        return (self.key(folded),) if folded else ()

    def key(self, name: str) -> str:
        """One ingredient's name as compared: its synonym group's first name, without salt."""
        words = fold(name).split()
        while words:
            joined = " ".join(words)
            if joined in self.canonical:
                return self.canonical[joined]
            if len(words) == 1 or words[-1] not in self.salts:
                break
            rest = " ".join(words[:-1])
            if rest in self.kept_whole:
                break
            words = words[:-1]
        joined = " ".join(words)
        return self.canonical.get(joined, joined)

    def spellings(self, key: str) -> tuple[str, ...]:
        """Every name of the ingredient ``key`` (itself alone when the table has no group)."""
        return self.group.get(key, (key,))


@cache
def table() -> Names:
    """The shipped table (``medpdf/data/ingredients.toml``), read once per process."""
    text = resources.files("medpdf").joinpath("data/ingredients.toml").read_text("utf-8")
    return names_from(tomllib.loads(text))


def names_from(data: dict[str, object]) -> Names:
    """A table from its TOML data (tests pass their own)."""
    canonical: dict[str, str] = {}
    group: dict[str, tuple[str, ...]] = {}
    for names in data.get("synonyms", []):  # type: ignore[attr-defined]
        folded = tuple(fold(n) for n in names)
        for name in folded:
            canonical[name] = folded[0]
            group[name] = folded
    combinations = {
        fold(name): tuple(fold(p) for p in parts)
        for name, parts in dict(data.get("combinations", {})).items()  # type: ignore[call-overload]
    }
    salts_data: dict[str, list[str]] = dict(data.get("salts", {}))  # type: ignore[call-overload]
    names_data: dict[str, list[str]] = dict(data.get("names", {}))  # type: ignore[call-overload]
    return Names(
        canonical,
        group,
        combinations,
        frozenset(fold(w) for w in salts_data.get("words", [])),
        frozenset(fold(w) for w in salts_data.get("kept_whole", [])),
        frozenset(fold(w) for w in names_data.get("too_general", [])),
    )


def split(text: str) -> tuple[str, ...]:
    """The names a title or generic name lists, as written: "A + B (Combination)" -> (A, B)."""
    previous = None
    while previous != text:  # nested brackets, innermost first
        previous, text = text, _BRACKETED.sub(" ", text)
    text = re.sub(r"[()\[\]{}]", " ", text)
    found = []
    for part in _SPLIT.split(text):
        name = " ".join(part.split()).strip(" -,.;:")
        if name and any(c.isalpha() for c in name) and len(name.split()) <= _MAX_WORDS:
            found.append(name)
    return tuple(found)


@dataclass(frozen=True)
class Ingredient:
    """One active ingredient of a medicine: its key and how this medicine's label writes it."""

    key: str
    written: str


def of(monograph: Monograph, names: Names | None = None) -> tuple[Ingredient, ...]:
    """The ingredients a monograph's title and generic name name, each once, title first."""
    names = names or table()
    found: dict[str, Ingredient] = {}
    sources = [monograph.title]
    if monograph.generic_name and len(monograph.generic_name) <= 120:
        sources.append(monograph.generic_name)
    for text in sources:
        for written in split(text):
            keys = names.keys(written)
            for key in keys:
                # A "co-" name stands for several: each is written as its own name.
                shown = key if len(keys) > 1 else " ".join(written.lower().split())
                found.setdefault(key, Ingredient(key, shown))
    return tuple(found.values())


def shown(key: str, written: Iterable[str]) -> str:
    """An ingredient as a warning names it: its key, with labels' other names after it.

    ``"paracetamol"`` and ``"acetaminophen"`` -> "paracetamol (acetaminophen)"; a
    label that already contains the key adds nothing ("potassium chloride").
    """
    others: list[str] = []
    for name in written:
        if re.search(rf"(?<!\w){re.escape(key)}(?!\w)", fold(name)) is None and name not in others:
            others.append(name)
    return f"{key} ({', '.join(others)})" if others else key
