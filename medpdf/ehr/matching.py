"""Which monograph is a medicine of the record's list about: by code, else by name, never a guess.

A medicine of the list (:class:`medpdf.ehr.fhir.Medication`) or of an
Infobutton request (:class:`Query`) is looked up in this order:

1. **by code**: a code of the product or of its only ingredient that a
   monograph declares in its front matter (``codes:``), whatever spelling
   of the code system each side uses (:mod:`medpdf.content.codes`);
2. **by name**, the names the pack already answers to: a monograph's title,
   its slug and, for a combination ("Pallidone + Quessar"), its set of
   components, compared with accents, case, strength and dose form
   ("20 MG Oral Tablet") and salt words ("hydrochloride") left out. A
   combination product matches only the monograph of the same components,
   never one of them alone. Translations answer to their own titles
   ("Zorvatina") and stand for their drug.

One drug found is a match. Several (two monographs declare the code; a
display names one drug, an ingredient another) is **ambiguous**; none, but
names that are close ("Pallidone" for "Pallidone + Quessar"), is **weak**:
neither is ever chosen silently, the candidates are listed and a person
picks (``--fhir-pick NAME=SLUG``, or ``NAME=none`` for no leaflet). Nothing
found and nothing close means the collection has no leaflet for it: the pack
lists it on its first page ("No leaflet for …").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from medpdf.content.codes import Code
from medpdf.content.collection import Entry
from medpdf.content.model import components_of
from medpdf.ehr.fhir import Medication
from medpdf.errors import Diagnostic, Level, ListedUsageError, UsageError
from medpdf.products.pack import (
    BRACKETS,
    FORM_WORDS,
    UNIT_WORDS,
    name_key,
    without_salt,
)

#: A close name scores at least this (rapidfuzz WRatio, 0-100) to be offered as a candidate.
CLOSE = 86
#: Candidates listed for one unsure medicine.
MAX_CANDIDATES = 5
#: What ``--fhir-pick NAME=none`` says: no leaflet for this medicine.
NONE = "none"


def _keys(text: str, bare: bool) -> set[str]:
    """The name's key, or (``bare``) its key without salt words; empty when it has none."""
    key = name_key(text)
    key = without_salt(key) if bare else key
    return {key} if key else set()


def _is_name(key: str) -> bool:
    """True when a key holds a word of a drug's name, not only a strength, unit or form."""
    return any(
        not word[0].isdigit() and word not in UNIT_WORDS and word not in FORM_WORDS
        for word in key.split()
    )


def _parts(text: str) -> frozenset[str]:
    """The components a combination's name lists ("A + B 5 mg/10 mg" → {a, b}), else empty.

    A strength written with a slash ("100 UNT/ML") splits a name too; its pieces that
    are only numbers, units and forms are not components.
    """
    parts = components_of(BRACKETS.sub(" ", text))
    keys = frozenset(without_salt(name_key(part)) for part in parts)
    keys = frozenset(key for key in keys if _is_name(key))
    return keys if len(keys) > 1 else frozenset()


@dataclass(frozen=True)
class Candidate:
    """A monograph offered for a medicine: its slug and title."""

    slug: str
    title: str

    def __str__(self) -> str:
        return f"{self.slug} ({self.title})"


@dataclass(frozen=True)
class Query:
    """What is known of a medicine: its name, codes and ingredients' names and codes."""

    name: str
    codes: tuple[Code, ...] = ()
    ingredients: tuple[str, ...] = ()
    ingredient_codes: tuple[Code, ...] = ()
    #: Other names it is shown by (the codings' display texts).
    also: tuple[str, ...] = ()

    @classmethod
    def of(cls, medication: Medication) -> Query:
        """The query of a medicine of the record's list."""
        single = medication.ingredients[0].codes if len(medication.ingredients) == 1 else ()
        return cls(medication.name, medication.codes, medication.ingredient_names, single)


@dataclass(frozen=True)
class Found:
    """The one monograph (the drug's original) for a medicine, and how it was found."""

    slug: str
    title: str
    #: "code", "name" or "picked".
    how: str


@dataclass(frozen=True)
class Unsure:
    """Ambiguous (several drugs) or weak (only close names): the candidates to choose from."""

    candidates: tuple[Candidate, ...]
    ambiguous: bool


@dataclass(frozen=True)
class NoLeaflet:
    """The collection has no monograph for it (or a person said so with ``=none``)."""

    picked: bool = False


Outcome = Found | Unsure | NoLeaflet


@dataclass(frozen=True)
class Index:
    """A collection's monographs by code and by name, each pointing at its drug."""

    titles: Mapping[str, str]
    by_code: Mapping[Code, frozenset[str]]
    by_name: Mapping[str, frozenset[str]]
    #: The same without salt words ("metformin" for "Metformin Hydrochloride").
    by_bare: Mapping[str, frozenset[str]]
    by_parts: Mapping[frozenset[str], frozenset[str]]
    #: Folded names per drug, for close names.
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Every slug (translations too) → its drug, for ``--fhir-pick``.
    drug_of: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Index:
        """The index of a collection's entries (translations stand for their drug)."""
        titles: dict[str, str] = {}
        by_code: dict[Code, set[str]] = {}
        by_name: dict[str, set[str]] = {}
        by_bare: dict[str, set[str]] = {}
        by_parts: dict[frozenset[str], set[str]] = {}
        names: dict[str, set[str]] = {}
        drug_of: dict[str, str] = {}
        for entry in entries:
            drug = entry.drug
            drug_of[entry.slug] = drug
            if entry.translation_of is None or drug not in titles:
                titles[drug] = entry.title
            for text in entry.codes:
                system, _, code = text.partition("|")
                by_code.setdefault(Code.of(system, code), set()).add(drug)
            for bare, found in ((False, by_name), (True, by_bare)):
                for key in _keys(entry.title, bare) | _keys(entry.slug.replace("-", " "), bare):
                    found.setdefault(key, set()).add(drug)
                    names.setdefault(drug, set()).add(key)
            parts = _parts(entry.title)
            if parts:
                by_parts.setdefault(parts, set()).add(drug)
        return cls(
            titles,
            {k: frozenset(v) for k, v in by_code.items()},
            {k: frozenset(v) for k, v in by_name.items()},
            {k: frozenset(v) for k, v in by_bare.items()},
            {k: frozenset(v) for k, v in by_parts.items()},
            {k: tuple(sorted(v)) for k, v in names.items()},
            drug_of,
        )

    def candidate(self, drug: str) -> Candidate:
        """The candidate of a drug slug."""
        return Candidate(drug, self.titles.get(drug, drug))

    def _by_codes(self, codes: Iterable[Code]) -> set[str]:
        found: set[str] = set()
        for code in codes:
            found |= self.by_code.get(code, frozenset())
        return found

    def _by_names(self, query: Query, bare: bool) -> set[str]:
        """Drugs named by the query's names exactly (or, ``bare``, without salt words)."""
        keyed = self.by_bare if bare else self.by_name
        combination = len(query.ingredients) > 1
        found: set[str] = set()
        for text in (query.name, *query.also):
            parts = _parts(text)
            if parts:
                found |= self.by_parts.get(parts, frozenset())
            elif not combination:
                for key in _keys(text, bare):
                    found |= keyed.get(key, frozenset())
        if combination:
            parts = frozenset(without_salt(name_key(i)) for i in query.ingredients)
            found |= self.by_parts.get(parts, frozenset())
        else:
            for ingredient in query.ingredients:
                for key in _keys(ingredient, bare):
                    found |= keyed.get(key, frozenset())
        return found

    def close(self, query: Query) -> list[str]:
        """Drugs whose names are close to the query's (typos, one part of a combination)."""
        from rapidfuzz import fuzz, process

        wanted = {name_key(t) for t in (query.name, *query.also, *query.ingredients)} - {""}
        choices = {f"{drug}\n{name}": name for drug, keys in self.names.items() for name in keys}
        best: dict[str, float] = {}
        for key in wanted:
            for _, score, choice in process.extract(
                key, choices, scorer=fuzz.WRatio, limit=MAX_CANDIDATES * 4, score_cutoff=CLOSE
            ):
                drug = choice.split("\n", 1)[0]
                best[drug] = max(score, best.get(drug, 0.0))
        return sorted(best, key=lambda drug: (-best[drug], drug))[:MAX_CANDIDATES]

    def match(self, query: Query) -> Outcome:
        """The one drug of the query, or the candidates, or no leaflet."""
        by_code = self._by_codes(query.codes) or self._by_codes(query.ingredient_codes)
        if len(by_code) == 1:
            drug = by_code.pop()
            return Found(drug, self.titles[drug], "code")
        if by_code:
            return Unsure(tuple(self.candidate(d) for d in sorted(by_code)), ambiguous=True)
        by_name = self._by_names(query, bare=False) or self._by_names(query, bare=True)
        if len(by_name) == 1:
            drug = by_name.pop()
            return Found(drug, self.titles[drug], "name")
        if by_name:
            return Unsure(tuple(self.candidate(d) for d in sorted(by_name)), ambiguous=True)
        close = self.close(query)
        if close:
            return Unsure(tuple(self.candidate(d) for d in close), ambiguous=False)
        return NoLeaflet()


# -- a whole list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Matched:
    """A medicine of the list and its monograph's drug slug (None: no leaflet)."""

    medication: Medication
    slug: str | None
    how: str


def parse_picks(values: Sequence[str]) -> dict[str, str]:
    """``--fhir-pick NAME=SLUG`` (or ``NAME=none``) flags as a mapping of folded names."""
    picks: dict[str, str] = {}
    for value in values:
        name, sep, slug = value.partition("=")
        if not sep or not name.strip() or not slug.strip():
            raise UsageError(f"--fhir-pick {value!r}: expected NAME=SLUG (or NAME=none)")
        picks[name.strip().casefold()] = slug.strip().casefold()
    return picks


def _answers_to(medication: Medication) -> set[str]:
    """What a ``--fhir-pick`` NAME may say: the name, its label, an ingredient, a code."""
    names = {medication.name, medication.label, *medication.ingredient_names}
    names |= {str(code) for code in medication.codes}
    names |= {code.code for code in medication.codes}
    return {n.strip().casefold() for n in names}


def _unsure_line(medication: Medication, outcome: Unsure) -> str:
    listed = ", ".join(str(c) for c in outcome.candidates)
    kind = "several monographs match" if outcome.ambiguous else "no monograph matches for sure"
    return (
        f"{medication.source} '{medication.label}': {kind} ({listed}); choose one with "
        f'--fhir-pick "{medication.name}=SLUG", or "{medication.name}=none" for no leaflet'
    )


def match_each(
    medications: Sequence[Medication], index: Index, picks: Mapping[str, str]
) -> tuple[Matched | tuple[Medication, Unsure], ...]:
    """Each medicine's drug, or the medicine with its candidates when unsure.

    A pick that names no medicine of the list, or a slug the collection lacks, is
    a usage error: a typo must not leave a medicine matched by a guess.
    """
    used: set[str] = set()
    found: list[Matched | tuple[Medication, Unsure]] = []
    for medication in medications:
        answers = _answers_to(medication)
        pick = next((name for name in picks if name in answers), None)
        if pick is not None:
            used.add(pick)
            slug = picks[pick]
            if slug == NONE:
                found.append(Matched(medication, None, "picked"))
            elif slug in index.drug_of:
                found.append(Matched(medication, slug, "picked"))
            else:
                raise UsageError(f"--fhir-pick {pick}={slug}: no monograph '{slug}'")
            continue
        outcome = index.match(Query.of(medication))
        if isinstance(outcome, Found):
            found.append(Matched(medication, outcome.slug, outcome.how))
        elif isinstance(outcome, NoLeaflet):
            found.append(Matched(medication, None, "none"))
        else:
            found.append((medication, outcome))
    unused = sorted(set(picks) - used)
    if unused:
        labels = ", ".join(m.label for m in medications)
        raise UsageError(f"--fhir-pick {unused[0]}: not a medicine of the list ({labels})")
    return tuple(found)


def match_list(
    medications: Sequence[Medication], index: Index, picks: Mapping[str, str], where: str
) -> tuple[Matched, ...]:
    """Each medicine's drug; every unsure one is named with its candidates, all at once."""
    found: list[Matched] = []
    problems: list[Diagnostic] = []
    for item in match_each(medications, index, picks):
        if isinstance(item, Matched):
            found.append(item)
        else:
            medication, outcome = item
            problems.append(Diagnostic(where, None, Level.ERROR, _unsure_line(medication, outcome)))
    if problems:
        raise ListedUsageError(problems)
    return tuple(found)
