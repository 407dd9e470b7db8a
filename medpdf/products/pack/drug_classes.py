"""Drug classes: which class a medicine belongs to, and the words leaflets use for a class.

Leaflets speak in classes: Aspirin's "can interact with … blood thinners",
Ibuprofen's "blood thinners, anticoagulants", Warfarin "is an anticoagulant".
The table (``medpdf/data/drug_classes.toml``, shipped in the package) gives,
for each class that matters for common interactions:

- its **members**, as ingredient names (:mod:`medpdf.content.synonyms` folds salts
  and synonyms, so "Acetaminophen" is paracetamol); a medicine belongs to a
  class when an ingredient of its title or generic name is a member;
- the **phrases** leaflets use for it ("blood thinner", "NSAID"), matched as
  whole words, any case, a plural "s"/"es" and hyphens or spaces between words;
- the words that **define** a member (``defined_by``): a medicine the member
  list does not name still belongs when its own leaflet's first Usage or How
  it Works sentence says it is one ("X is a nonsteroidal anti-inflammatory
  drug"). Only the sentence's defining clause counts — after "is", "are",
  "belongs to" or an apposition (", a …"), before "used", "that", "which" —
  so "X is used in patients taking anticoagulants" defines nothing;
- the **pairs** of classes whose members need advice together even where
  neither leaflet mentions the other (anticoagulant + NSAID, SSRI + triptan…).

The table states facts written for medpdf; the pack turns them into prompts to
ask a pharmacist, never into verdicts (:mod:`medpdf.products.pack.interactions`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from medpdf.content import synonyms as ingredients
from medpdf.content.model import Monograph
from medpdf.products.pack import purposes

_SEPARATOR = r"[\s\-\u2010-\u2015]*"
# Where a leaflet's sentence says what the medicine is: "X is a …", "X belongs to …",
# "X, an …, is"; not "X is not a …".
_DEFINES = re.compile(
    r"\b(?:is|are|was|acts as|works as|belongs to)\b(?!\s+not\b)|,\s+(?:a|an)\b", re.IGNORECASE
)
# Where the definition ends and the use or the mechanism begins.
_DEFINITION_ENDS = re.compile(
    r"\b(?:used|prescribed|indicated|designed|given|taken|that|which|who|works|helps|meaning|"
    r"to treat|in patients|in people|for the treatment|component|in the production|"
    r"in the synthesis)\b",
    re.IGNORECASE,
)
# "non-opioid", "non-sedating": the opposite of the phrase.
_NOT_NEGATED = r"(?<!non-)(?<!non )(?<!non\u2010)"
# "an opioid antagonist", "opioid dependence": a phrase naming what the medicine acts against.
_NOT_A_MEMBER = (
    r"(?![\s\-]+(?:receptor[\s\-]+)?(?:antagonist|blocker|antidote|reversal|overdose|"
    r"dependence|withdrawal|addiction|use disorder|toxicity|poisoning|induced|related))"
)
#: A definition starting later than this in its sentence is about something else.
_DEFINES_WITHIN = 100
# A short aside in brackets inside a phrase: "angiotensin-converting enzyme (ACE) inhibitor".
_SHORT_ASIDE = re.compile(r"\s*\([^()]{1,15}\)")


class TableError(ValueError):
    """The class table is inconsistent (a pair names an unknown class, a key twice)."""


@dataclass(frozen=True)
class DrugClass:
    """One class of the table; ``members`` are ingredient keys (:func:`ingredients.Names.key`)."""

    key: str
    members: frozenset[str]
    phrases: tuple[str, ...]
    defined_by: tuple[str, ...] = ()
    #: The class is one medicine: the page names it, with no class label.
    named: bool = False
    #: Two members of this class in one pack need advice.
    duplicate: bool = False
    mention_pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    definition_pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ClassTable:
    """The classes, in the table's order, and the class pairs that need advice together."""

    classes: tuple[DrugClass, ...]
    #: Unordered pairs of class keys, each as a sorted tuple (a class with itself: (k, k)).
    pairs: frozenset[tuple[str, str]]

    def __post_init__(self) -> None:
        keys = [c.key for c in self.classes]
        if len(keys) != len(set(keys)):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            raise TableError(f"class listed twice: {', '.join(twice)}")
        unknown = sorted({k for pair in self.pairs for k in pair} - set(keys))
        if unknown:
            raise TableError(f"pair names a class not in the table: {', '.join(unknown)}")

    def get(self, key: str) -> DrugClass:
        """The class with this key."""
        return next(c for c in self.classes if c.key == key)

    def paired(self, first: str, second: str) -> bool:
        """True when members of the two classes need advice together (either order)."""
        if first == second and self.get(first).duplicate:
            return True
        pair = (first, second) if first <= second else (second, first)
        return pair in self.pairs


def phrase_pattern(phrases: Iterable[str], *, defining: bool = False) -> re.Pattern[str] | None:
    """One pattern for the phrases: whole words, any case, a plural, hyphen or space between.

    "non-opioid" and "non-sedating" are not the phrase; a ``defining`` phrase is not
    followed by "antagonist", "blocker" or "dependence" ("an opioid antagonist").
    """
    alternatives = []
    for phrase in phrases:
        words = [re.escape(w) for w in re.split(r"[\s\-\u2010-\u2015]+", phrase.strip()) if w]
        if words:
            alternatives.append(_SEPARATOR.join(words) + r"(?:s|es)?")
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)  # "blood thinners" before "blood thinner"
    after = _NOT_A_MEMBER if defining else ""
    return re.compile(
        _NOT_NEGATED + r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)" + after, re.IGNORECASE
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TableError(f"{where}: must be a list of texts")
    return tuple(value)


def table_from(data: Mapping[str, Any], names: ingredients.Names | None = None) -> ClassTable:
    """A table from its TOML data; members are folded to ingredient keys with ``names``."""
    names = names or ingredients.table()
    classes = []
    for number, entry in enumerate(data.get("class", []), start=1):
        key = entry.get("key")
        if not isinstance(key, str) or not key:
            raise TableError(f"class {number}: needs a key")
        unknown = set(entry) - {"key", "members", "phrases", "defined_by", "named", "duplicate"}
        if unknown:
            raise TableError(f"class {key}: unknown field {sorted(unknown)[0]!r}")
        members = frozenset(
            k for m in _strings(entry.get("members", []), key) for k in names.keys(m)
        )
        phrases = _strings(entry.get("phrases", []), key)
        defined_by = _strings(entry.get("defined_by", []), key)
        classes.append(
            DrugClass(
                key,
                members,
                phrases,
                defined_by,
                bool(entry.get("named", False)),
                bool(entry.get("duplicate", False)),
                phrase_pattern(phrases),
                phrase_pattern(defined_by, defining=True),
            )
        )
    pairs: set[tuple[str, str]] = set()
    for entry in data.get("pair", []):
        for first in _strings(entry.get("a", []), "pair a"):
            for second in _strings(entry.get("b", []), "pair b"):
                pairs.add((first, second) if first <= second else (second, first))
    return ClassTable(tuple(classes), frozenset(pairs))


@cache
def table() -> ClassTable:
    """The shipped table (``medpdf/data/drug_classes.toml``), read once per process."""
    text = resources.files("medpdf").joinpath("data/drug_classes.toml").read_text("utf-8")
    return table_from(tomllib.loads(text))


def variants(text: str) -> tuple[str, ...]:
    """The text, and the text without short bracketed asides ("enzyme (ACE) inhibitor")."""
    bare = _SHORT_ASIDE.sub("", text)
    return (text,) if bare == text else (text, bare)


def defining_clause(sentence: str) -> str:
    """The part of a sentence that says what the medicine is ("a blood thinner (anticoagulant)").

    Empty when the sentence does not define its subject near its start.
    """
    found = _DEFINES.search(sentence)
    if found is None or found.start() > _DEFINES_WITHIN:
        return ""
    rest = sentence[found.end() :]
    end = _DEFINITION_ENDS.search(rest)
    return rest[: end.start()] if end else rest


@dataclass(frozen=True)
class Membership:
    """The classes a medicine belongs to: by an ingredient's name, or only by its own words."""

    by_name: frozenset[str] = frozenset()
    #: Classes its leaflet's first Usage or How it Works sentence defines it as, and no name does.
    by_text: frozenset[str] = frozenset()

    @property
    def classes(self) -> frozenset[str]:
        """Every class it belongs to."""
        return self.by_name | self.by_text


def definitions(monograph: Monograph) -> tuple[str, ...]:
    """The defining clauses of the monograph's first Usage and How it Works sentences."""
    found = []
    for sentence in (purposes.usage_sentence(monograph), purposes.how_it_works_sentence(monograph)):
        clause = defining_clause(sentence)
        if clause:
            found.append(clause)
    return tuple(found)


def membership(
    monographs: Sequence[Monograph],
    classes: ClassTable | None = None,
    names: ingredients.Names | None = None,
) -> Membership:
    """The classes of one medicine, told by its monograph and (for a translation) its original."""
    classes = classes or table()
    keys = {i.key for m in monographs for i in ingredients.of(m, names)}
    by_name = frozenset(c.key for c in classes.classes if c.members & keys)
    clauses = [v for m in monographs for clause in definitions(m) for v in variants(clause)]
    by_text = frozenset(
        c.key
        for c in classes.classes
        if c.key not in by_name
        and c.definition_pattern is not None
        and any(c.definition_pattern.search(clause) for clause in clauses)
    )
    return Membership(by_name, by_text)


def phrases_in(text: str, pattern: re.Pattern[str]) -> list[str]:
    """The phrases of a class that ``text`` uses, as it writes them, each once."""
    found: list[str] = []
    for variant in variants(text):
        for match in pattern.finditer(variant):
            phrase = " ".join(match.group(0).split())
            if phrase.casefold() not in (f.casefold() for f in found):
                found.append(phrase)
    return found


def report(monographs: Iterable[Monograph], classes: ClassTable | None = None) -> str:
    """The ``check --report`` section: each class's monographs, and those known only by text.

    A monograph the member list misses but whose own words define it as one of
    the class is listed by slug, so that a maintainer can add it to the table
    (or see a definition the rule misreads).
    """
    classes = classes or table()
    names = ingredients.table()
    monographs = list(monographs)
    if not monographs:
        return "drug classes of the medication pack's prompts: no monographs\n"
    counts = {c.key: 0 for c in classes.classes}
    by_text: dict[str, list[str]] = {c.key: [] for c in classes.classes}
    for monograph in monographs:
        found = membership([monograph], classes, names)
        for key in found.classes:
            counts[key] += 1
        for key in sorted(found.by_text):
            by_text[key].append(monograph.slug)
    lines = [
        f"drug classes of the medication pack's prompts: {len(classes.classes)} classes, "
        f"{len(classes.pairs)} class pairs"
    ]
    for drug_class in classes.classes:
        count = counts[drug_class.key]
        line = f"  {drug_class.key}: {count:,} monograph{'' if count == 1 else 's'}"
        if by_text[drug_class.key]:
            line += f"; known only by their own words: {', '.join(by_text[drug_class.key])}"
        lines.append(line)
    return "\n".join(lines) + "\n"
