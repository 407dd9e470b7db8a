"""One medicine of a FHIR medication list, as the pack needs it.

:mod:`medpdf.ehr.fhir` reads the file and validates each resource; here a
validated ``MedicationRequest`` or ``MedicationStatement`` (and the
``Medication`` it names, contained or in the same Bundle) becomes a
:class:`Medication`: its name, codes, ingredients and strengths, the schedule
its dosage says (:mod:`medpdf.ehr.timing`), its dose, "when needed" and the
patient's instruction. A problem is one line naming the file, the entry and
the field (:class:`BundleError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from medpdf.content.codes import Code
from medpdf.ehr.timing import Schedule, TimingProblem, schedule_of
from medpdf.errors import UsageError
from medpdf.products.pack import Patient

if TYPE_CHECKING:
    from fhir.resources.R4B.codeableconcept import CodeableConcept
    from fhir.resources.R4B.dosage import Dosage
    from fhir.resources.R4B.medication import Medication as FhirMedication
    from fhir.resources.R4B.quantity import Quantity
    from fhir.resources.R4B.ratio import Ratio
    from fhir.resources.R4B.reference import Reference

#: A patient instruction longer than this is cut at a word (and said so): the row stays a row.
MAX_NOTE = 240

#: The statuses that mean "taking it now".
ACTIVE = "active"
MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement")


class BundleError(UsageError):
    """A medication list medpdf cannot read: one line naming the file, entry and field."""


class TooLarge(BundleError):
    """A medication list over :data:`medpdf.ehr.fhir.MAX_BYTES` (the station answers 413)."""


#: A strength written in a product's name: "500 MG", "100 UNT/ML", "49/51 mg", "0.05 mg".
_STRENGTH = re.compile(
    r"\b\d[\d.,]*(?:\s*/\s*\d[\d.,]*)?\s*(?:mg|mcg|µg|g|ml|unt|units?|iu|meq|%)"
    r"(?:\s*/\s*(?:\d[\d.,]*\s*)?(?:ml|g|actuat|hr|h|dose))?(?![\w/])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Ingredient:
    """One ingredient of a medication: its name, codes and strength ("500 mg")."""

    name: str
    codes: tuple[Code, ...] = ()
    strength: str = ""


@dataclass(frozen=True)
class Medication:
    """One active medicine of the list, as the pack needs it."""

    #: The prescribed product's name as the record shows it ("Metformin 500 mg tablet").
    name: str
    #: The product's codes (RxNorm, SNOMED CT, ATC, NDC, a clinic's own).
    codes: tuple[Code, ...]
    ingredients: tuple[Ingredient, ...]
    #: What to take each time ("1 tablet"), else the dosage's text; "" when neither is given.
    dose: str
    schedule: Schedule
    #: Only when needed (``asNeeded``), and for what ("pain"), when said.
    as_needed: bool
    as_needed_for: str
    #: The patient's instruction (``patientInstruction``), e.g. "with a full glass of water".
    note: str
    #: Where it came from, for messages: "entry 3 (MedicationRequest/mr-3)".
    source: str

    @property
    def ingredient_names(self) -> tuple[str, ...]:
        """The ingredients' names, in the record's order."""
        return tuple(i.name for i in self.ingredients)

    @property
    def strength(self) -> str:
        """The strengths of the ingredients ("50 mg / 1000 mg"), "" when none is given."""
        return " / ".join(i.strength for i in self.ingredients if i.strength)

    @property
    def strength_shown(self) -> str:
        """The strength for the pack's row: the ingredients', else the one the name states."""
        if self.strength:
            return self.strength
        found = _STRENGTH.search(self.name)
        return " ".join(found.group().split()) if found else ""

    @property
    def times(self) -> tuple[str, ...]:
        """The schedule's times ticked for it (morning, noon, evening, bedtime)."""
        return self.schedule.times

    @property
    def label(self) -> str:
        """Its name with its strength, unless the name already says a strength."""
        if self.strength and not re.search(r"\d", self.name):
            return f"{self.name} {self.strength}"
        return self.name


@dataclass(frozen=True)
class MedicationList:
    """The active medicines of a list, what was left out and why, and (if asked) the patient."""

    medications: tuple[Medication, ...]
    #: "Simvastatin 20 mg (stopped)": medicines in the list that are not taken now.
    left_out: tuple[str, ...] = ()
    patient: Patient | None = None
    #: Things worth saying that do not stop the pack (a note shortened).
    notices: tuple[str, ...] = field(default=())


# -- validation ----------------------------------------------------------------------


def _field_path(location: Sequence[int | str]) -> str:
    """``('dosageInstruction', 0, 'timing')`` → ``dosageInstruction[0].timing``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the resource)"


def validated(model: Any, resource: Mapping[str, Any], where: str, label: str) -> Any:
    """``resource`` as a ``fhir.resources`` model, or one line naming the field that is wrong."""
    from pydantic import ValidationError

    data = {k: v for k, v in resource.items() if k != "_medpdf_full_url"}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = exc.errors(include_url=False)
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        message = " ".join(str(first["msg"]).split())
        raise BundleError(
            f"{where}: {label}: {_field_path(first['loc'])}: {message}{more}"
        ) from None


# -- the medicines -----------------------------------------------------------------------


def _number(value: Decimal | float | int | None) -> str:
    if value is None:
        return ""
    number = Decimal(str(value)).normalize()
    text = format(number, "f")
    return text


def _quantity(quantity: Quantity | None) -> str:
    if quantity is None or quantity.value is None:
        return ""
    unit = quantity.unit or quantity.code or ""
    return f"{_number(quantity.value)} {unit}".strip()


def _ratio(ratio: Ratio | None) -> str:
    """A strength: "500 mg", or "250 mg/5 mL" when per more than one unit."""
    if ratio is None:
        return ""
    top = _quantity(ratio.numerator)
    bottom = ratio.denominator
    if not top or bottom is None or bottom.value is None:
        return top
    if Decimal(str(bottom.value)) == 1 and (bottom.unit or bottom.code or "") not in (
        "mL",
        "ml",
        "g",
    ):
        return top
    return f"{top}/{_quantity(bottom)}"


def _concept_name(concept: CodeableConcept | None) -> str:
    if concept is None:
        return ""
    if concept.text and concept.text.strip():
        return " ".join(concept.text.split())
    for coding in concept.coding or ():
        if coding is not None and coding.display and coding.display.strip():
            return " ".join(coding.display.split())
    return ""


def _concept_codes(concept: CodeableConcept | None) -> tuple[Code, ...]:
    if concept is None:
        return ()
    found: list[Code] = []
    for coding in concept.coding or ():
        if coding is not None and coding.system and coding.code and coding.code.strip():
            code = Code.of(coding.system, coding.code)
            if code not in found:
                found.append(code)
    return tuple(found)


class Bundle:
    """The resources of one file, and how references between them are followed."""

    def __init__(self, resources: list[tuple[str, dict[str, Any]]], where: str) -> None:
        self.resources = resources
        self.where = where
        self._medications: dict[str, FhirMedication] = {}

    def find(self, reference: str, kind: str) -> tuple[str, dict[str, Any]] | None:
        """The resource a reference names: ``Medication/7``, a full URL or ``urn:uuid:``."""
        for label, resource in self.resources:
            if resource["resourceType"] != kind:
                continue
            full_url = resource.get("_medpdf_full_url")
            if full_url == reference:
                return label, resource
            ident = resource.get("id")
            if isinstance(ident, str) and (
                reference == f"{kind}/{ident}" or reference.endswith(f"/{kind}/{ident}")
            ):
                return label, resource
        return None

    def medication(self, reference: str) -> FhirMedication | None:
        """A Medication of the Bundle, validated the first time it is asked for."""
        if reference in self._medications:
            return self._medications[reference]
        found = self.find(reference, "Medication")
        if found is None:
            return None
        from fhir.resources.R4B.medication import Medication as Model

        label, resource = found
        model = validated(Model, resource, self.where, label)
        self._medications[reference] = model
        return model  # type: ignore[no-any-return]


def _contained(resource: Any, reference: str) -> FhirMedication | None:
    from fhir.resources.R4B.medication import Medication as Model

    wanted = reference[1:]
    for item in resource.contained or ():
        if isinstance(item, Model) and item.id == wanted:
            return item
    return None


def _ingredients(medication: FhirMedication) -> tuple[Ingredient, ...]:
    found: list[Ingredient] = []
    for item in medication.ingredient or ():
        if item is None or item.isActive is False:
            continue
        concept = item.itemCodeableConcept
        name = _concept_name(concept)
        reference: Reference | None = item.itemReference
        if not name and reference is not None and reference.display:
            name = " ".join(reference.display.split())
        if name:
            found.append(Ingredient(name, _concept_codes(concept), _ratio(item.strength)))
    return tuple(found)


@dataclass(frozen=True)
class _Product:
    name: str
    codes: tuple[Code, ...]
    ingredients: tuple[Ingredient, ...]


def _product(resource: Any, bundle: Bundle, label: str) -> _Product:
    """What a request or statement is for: its concept, or the Medication it references."""
    concept = resource.medicationCodeableConcept
    if concept is not None:
        return _Product(_concept_name(concept), _concept_codes(concept), ())
    reference: Reference | None = resource.medicationReference
    target = reference.reference if reference is not None else None
    if reference is None:
        raise BundleError(f"{bundle.where}: {label}: names no medication (medication[x])")
    medication = None
    if target:
        medication = (
            _contained(resource, target) if target.startswith("#") else bundle.medication(target)
        )
    if medication is None:
        if reference.display:
            return _Product(" ".join(reference.display.split()), (), ())
        raise BundleError(
            f"{bundle.where}: {label}: medicationReference '{target}' is not in the file "
            "(export with _include=MedicationRequest:medication, or contained)"
        )
    ingredients = _ingredients(medication)
    name = _concept_name(medication.code) or " + ".join(i.name for i in ingredients)
    return _Product(name, _concept_codes(medication.code), ingredients)


def _dose(dosage: Dosage) -> str:
    for item in dosage.doseAndRate or ():
        if item is None:
            continue
        if item.doseQuantity is not None and (text := _quantity(item.doseQuantity)):
            return text
        span = item.doseRange
        if span is not None and span.low is not None and span.high is not None:
            low, high = _quantity(span.low), _quantity(span.high)
            unit = span.high.unit or span.high.code or ""
            if low and high:
                low_number = low.removesuffix(unit).strip() if unit else low
                return f"{low_number}-{high}"
    return " ".join((dosage.text or "").split())


def joined(parts: Sequence[str], separator: str) -> str:
    return separator.join(dict.fromkeys(p for p in parts if p))


def _as_needed(dosage: Dosage) -> tuple[bool, str]:
    if dosage.asNeededBoolean:
        return True, ""
    if dosage.asNeededCodeableConcept is not None:
        return True, _concept_name(dosage.asNeededCodeableConcept)
    return False, ""


def medication_of(resource: Any, bundle: Bundle, label: str, notices: list[str]) -> Medication:
    product = _product(resource, bundle, label)
    if not product.name:
        raise BundleError(f"{bundle.where}: {label}: the medication has no name or display text")
    statement = resource.get_resource_type() == "MedicationStatement"
    field_name = "dosage" if statement else "dosageInstruction"
    dosages: list[Dosage] = [d for d in (getattr(resource, field_name) or ()) if d is not None]
    schedule = Schedule()
    doses: list[str] = []
    notes: list[str] = []
    as_needed = False
    reasons: list[str] = []
    for number, dosage in enumerate(dosages):
        try:
            this = schedule_of(dosage, f"{field_name}[{number}]")
        except TimingProblem as exc:
            raise BundleError(f"{bundle.where}: {label}: {exc}") from None
        schedule = this if number == 0 else schedule.merged(this)
        doses.append(_dose(dosage))
        notes.append(" ".join((dosage.patientInstruction or "").split()))
        needed, reason = _as_needed(dosage)
        as_needed = as_needed or needed
        reasons.append(reason)
    note = joined(notes, " ")
    if len(note) > MAX_NOTE:
        cut = note.rfind(" ", 0, MAX_NOTE - 1)
        note = note[: cut if cut > 0 else MAX_NOTE - 1].rstrip(" ,;:") + "…"
        notices.append(f"{label}: the patient instruction was shortened to {MAX_NOTE} characters")
    return Medication(
        name=product.name,
        codes=product.codes,
        ingredients=product.ingredients,
        dose=joined(doses, "; "),
        schedule=schedule,
        as_needed=as_needed,
        as_needed_for=joined(reasons, ", "),
        note=note,
        source=label,
    )


def why_left_out(resource: Any) -> str | None:
    """Why a request or statement is not a medicine taken now; None when it is."""
    if resource.status != ACTIVE:
        return str(resource.status)
    if getattr(resource, "doNotPerform", None):
        return "do not perform"
    return None
