"""What page 1 of a medication pack asks the patient to check: prompts and shared ingredients.

Nothing here is an interaction check, and the page says so whatever it finds.
It finds two things among the medicines of one pack:

- **Prompts to ask a pharmacist**, one per pair of medicines, both directions
  merged. A pair gets one when medicine A's leaflet names medicine B (its
  title, generic name, a component or a synonym), or uses a phrase for a drug
  class B belongs to ("blood thinners" for an anticoagulant), or when A and B
  belong to classes that the class table pairs (anticoagulant + NSAID) — in
  that case the prompt names the two classes. A leaflet's words for a class A
  itself belongs to are A describing itself, not a mention of B (two members of
  one class are the table's business: ``duplicate``). Each direction says where
  the leaflet says it: a name where it names B, else the class words.
- **Shared active ingredients**, a warning rather than a prompt: "Both X and Y
  contain paracetamol" (by component, generic name, synonym or translation).
  A pair that shares an ingredient gets no "same class twice" reason: the
  warning says it better.

A translation is told by its own text and by its original's names and
classes: "Ibuprofeno" is an NSAID and contains ibuprofen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from medpdf.content import markdown
from medpdf.content import synonyms as ingredients
from medpdf.content.model import Monograph
from medpdf.products.pack import drug_classes, medicines
from medpdf.products.pack.drug_classes import ClassTable, Membership
from medpdf.products.pack.medicines import Place
from medpdf.products.pack.product_names import name_key


@dataclass(frozen=True)
class Medicine:
    """One medicine of a pack: its monograph and, for a translation, the original's."""

    monograph: Monograph
    original: Monograph | None = None

    @property
    def monographs(self) -> tuple[Monograph, ...]:
        """The monographs that tell what it is: its own, then its original's."""
        return (self.monograph,) if self.original is None else (self.monograph, self.original)


_UNITS = frozenset({"mg", "mcg", "ug", "g", "ml", "unt", "unit", "units", "iu", "meq", "mmol"})


def named_only(name: str) -> Medicine:
    """A medicine known by its name alone: one of a record's list without a leaflet.

    "Warfarin Sodium 5 MG Oral Tablet" is warfarin: its strength and form are left
    out (as the record's names are matched to monographs), so its ingredients and
    classes still count in the prompts and the shared-ingredient warnings.
    """
    keys = [name_key(part) for part in ingredients.split(name)]
    drugs = [k for k in keys if any(w.isalpha() and w not in _UNITS for w in k.split())]
    title = " + ".join(drugs) or name
    path = ""
    blank = Monograph(path, title, path, path, MappingProxyType({}), "", (), None, ())
    return Medicine(blank)


@dataclass(frozen=True)
class Said:
    """What one medicine's leaflet says about the other of a pair, and where."""

    #: Index in the pack of the medicine whose leaflet says it.
    source: int
    #: True when it names the other medicine; else ``phrases`` are its words for a class.
    named: bool
    phrases: tuple[str, ...]
    places: tuple[Place, ...]


@dataclass(frozen=True)
class Prompt:
    """Two medicines of the pack (indices, pack order) to ask a pharmacist about together."""

    first: int
    second: int
    #: The classes of each that the class table pairs (empty when no pair of the table applies).
    first_classes: tuple[str, ...] = ()
    second_classes: tuple[str, ...] = ()
    said: tuple[Said, ...] = ()


@dataclass(frozen=True)
class Shared:
    """Medicines of the pack (indices, two or more) that all contain the same ingredient(s)."""

    medicines: tuple[int, ...]
    #: Each ingredient as the warning names it ("paracetamol (acetaminophen)").
    ingredients: tuple[str, ...]


@dataclass(frozen=True)
class Findings:
    """Everything page 1 says about the pack's medicines taken together."""

    prompts: tuple[Prompt, ...] = ()
    shared: tuple[Shared, ...] = ()
    memberships: tuple[Membership, ...] = field(default=(), compare=False)


def names_of(medicine: Medicine, names: ingredients.Names) -> frozenset[str]:
    """Every name a leaflet may call the medicine, folded: its own, its original's, synonyms."""
    found = set().union(*(medicines.names_of(m) for m in medicine.monographs))
    for monograph in medicine.monographs:
        for ingredient in ingredients.of(monograph, names):
            if ingredient.key not in names.too_general:
                found.update(names.spellings(ingredient.key))
    return frozenset(n for n in found if len(n) >= 3)


def _plain_parts(monograph: Monograph) -> list[tuple[Place, str]]:
    """The leaflet's text by part, as written (for quoting its words); no disclaimer.

    The medicine's own definition ("Apixaban is a blood thinner (anticoagulant)")
    is left out: there the leaflet describes itself, it does not mention others.
    """
    own = drug_classes.definitions(monograph)
    parts = [(Place("intro", ""), markdown.plain_text(monograph.intro))]
    for section in monograph.ordered_sections():
        text = markdown.plain_text(section.body.replace("\n", " "))
        parts.append((medicines.place_of(section), f"{section.heading}. {text}"))
    return [(place, _without(text, own)) for place, text in parts]


def _without(text: str, clauses: tuple[str, ...]) -> str:
    for clause in clauses:
        text = text.replace(clause.strip(), " ")
    return text


def _same_phrase(phrase: str) -> str:
    """Two ways of writing one phrase are one: "blood thinners", "Blood thinner"."""
    folded = " ".join(phrase.casefold().replace("-", " ").split())
    return folded[:-1] if folded.endswith("s") else folded


def _class_words(
    parts: list[tuple[Place, str]], source: Membership, target: Membership, classes: ClassTable
) -> tuple[tuple[str, ...], tuple[Place, ...]]:
    """The phrases a leaflet uses for the classes ``target`` belongs to and ``source`` does not."""
    patterns = [
        c.mention_pattern
        for c in classes.classes
        if c.key in target.classes and c.key not in source.classes and c.mention_pattern
    ]
    phrases: list[str] = []
    places: list[Place] = []
    quoted: set[int] = set()  # one phrase per class is quoted ("NSAIDs", not also "non-steroidal…")
    for place, text in parts:
        for number, pattern in enumerate(patterns):
            found = drug_classes.phrases_in(text, pattern)
            if found and place not in places:
                places.append(place)
            if found and number not in quoted:
                quoted.add(number)
                if _same_phrase(found[0]) not in (_same_phrase(p) for p in phrases):
                    phrases.append(found[0])
    return tuple(phrases), tuple(places)


def _paired_classes(
    first: Membership, second: Membership, classes: ClassTable, shared: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The classes of each medicine that the table pairs, in the table's order."""
    mine: list[str] = []
    theirs: list[str] = []
    for a in classes.classes:
        if a.key not in first.classes:
            continue
        for b in classes.classes:
            if b.key not in second.classes or (shared and a.key == b.key):
                continue
            if classes.paired(a.key, b.key):
                mine += [a.key] if a.key not in mine else []
                theirs += [b.key] if b.key not in theirs else []
    order = [c.key for c in classes.classes]
    return tuple(sorted(mine, key=order.index)), tuple(sorted(theirs, key=order.index))


def shared_ingredients(pack: Sequence[Medicine], names: ingredients.Names) -> tuple[Shared, ...]:
    """Ingredients two or more medicines hold, one warning per group of medicines.

    Ingredients held by the same medicines are one warning ("Both X and Y contain
    codeine and paracetamol"); the warnings follow the pack's order.
    """
    holders: dict[str, list[int]] = {}
    written: dict[str, list[str]] = {}
    for index, medicine in enumerate(pack):
        for monograph in medicine.monographs:
            for ingredient in ingredients.of(monograph, names):
                if index not in holders.setdefault(ingredient.key, []):
                    holders[ingredient.key].append(index)
                written.setdefault(ingredient.key, []).append(ingredient.written)
    groups: dict[tuple[int, ...], list[str]] = {}
    for key, indices in holders.items():
        if len(indices) > 1:
            groups.setdefault(tuple(indices), []).append(ingredients.shown(key, written[key]))
    return tuple(Shared(group, tuple(shown)) for group, shown in sorted(groups.items()))


def findings(
    pack: Sequence[Medicine],
    classes: ClassTable | None = None,
    names: ingredients.Names | None = None,
) -> Findings:
    """The prompts and shared-ingredient warnings of a pack, in the pack's order."""
    classes = classes or drug_classes.table()
    names = names or ingredients.table()
    members = [drug_classes.membership(m.monographs, classes, names) for m in pack]
    shared = shared_ingredients(pack, names)
    sharing = {(i, j) for s in shared for i in s.medicines for j in s.medicines if i < j}
    called = [names_of(m, names) for m in pack]
    folded = [medicines.parts_of(m.monograph) for m in pack]
    parts = [_plain_parts(m.monograph) for m in pack]

    def said(source: int, target: int) -> Said | None:
        named = medicines.named_places(folded[source], called[target] - called[source])
        if named:
            return Said(source, True, (), named)
        phrases, places = _class_words(parts[source], members[source], members[target], classes)
        return Said(source, False, phrases, places) if phrases else None

    prompts = []
    for i in range(len(pack)):
        for j in range(i + 1, len(pack)):
            mine, theirs = _paired_classes(members[i], members[j], classes, (i, j) in sharing)
            both = tuple(s for s in (said(i, j), said(j, i)) if s is not None)
            if both or mine:
                prompts.append(Prompt(i, j, mine, theirs, both))
    return Findings(tuple(prompts), shared, tuple(members))
