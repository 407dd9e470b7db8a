"""A patient's medication list from the clinic's record system, as FHIR R4 JSON.

Accepted: a ``Bundle`` (an export, or a search answer with
``_include=MedicationRequest:medication``), a single ``MedicationRequest`` or
``MedicationStatement``, or an NDJSON file (one resource a line, as FHIR bulk
export writes). Out comes a :class:`MedicationList`: the **active** medicines
(``status: active``; stopped, cancelled, completed, on-hold, entered-in-error
and "do not perform" requests are left out and named in ``left_out``), each
with its name, codes, ingredients and strengths, the schedule its dosage says
(:mod:`medpdf.ehr.timing`), its dose, "when needed" and the patient's
instruction.

Each medication resource is validated with ``fhir.resources`` (its R4B models:
for the resources read here, MedicationRequest, MedicationStatement,
Medication, Dosage, Timing and Patient, R4B has the shape of R4). A problem is
one line naming the file, the entry and the field. Input is refused before it
is parsed when it is larger than :data:`MAX_BYTES`, holds more than
:data:`MAX_ENTRIES` entries or nests deeper than :data:`MAX_DEPTH` (a 50 MB
Bundle is refused from its size alone).

The patient's name and birth date are read only when asked (``--with-patient``)
and live only in the returned value: nothing here writes anything.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medpdf.codes import Code
from medpdf.ehr.timing import Schedule, TimingProblem, schedule_of
from medpdf.errors import UsageError

if TYPE_CHECKING:
    from fhir.resources.R4B.codeableconcept import CodeableConcept
    from fhir.resources.R4B.dosage import Dosage
    from fhir.resources.R4B.medication import Medication as FhirMedication
    from fhir.resources.R4B.quantity import Quantity
    from fhir.resources.R4B.ratio import Ratio
    from fhir.resources.R4B.reference import Reference

#: A medication list is a few kilobytes; a whole-record export is not what medpdf reads.
MAX_BYTES = 10 * 1024 * 1024
#: Entries of a Bundle (or lines of an NDJSON file).
MAX_ENTRIES = 5000
#: Nesting of JSON objects and arrays; real medication resources nest about 8 deep.
MAX_DEPTH = 40
#: A patient instruction longer than this is cut at a word (and said so): the row stays a row.
MAX_NOTE = 240

#: The statuses that mean "taking it now".
ACTIVE = "active"
MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement")


class BundleError(UsageError):
    """A medication list medpdf cannot read: one line naming the file, entry and field."""


class TooLarge(BundleError):
    """A medication list over :data:`MAX_BYTES` (the station answers 413)."""


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
class Patient:
    """The patient's name and birth date, read only for ``--with-patient``."""

    name: str
    birth_date: dt.date | None = None


@dataclass(frozen=True)
class MedicationList:
    """The active medicines of a list, what was left out and why, and (if asked) the patient."""

    medications: tuple[Medication, ...]
    #: "Simvastatin 20 mg (stopped)": medicines in the list that are not taken now.
    left_out: tuple[str, ...] = ()
    patient: Patient | None = None
    #: Things worth saying that do not stop the pack (a note shortened).
    notices: tuple[str, ...] = field(default=())


# -- reading the file --------------------------------------------------------------


def read_file(path: Path, with_patient: bool = False) -> MedicationList:
    """The medication list in a file; its size is checked before a byte is read."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _too_large(where, size)
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(
            f"cannot read the medication list {where}: {exc.strerror or exc}"
        ) from None
    return read_bytes(data, where, with_patient)


def _too_large(where: str, size: int) -> TooLarge:
    return TooLarge(
        f"{where}: {size} bytes; a medication list is at most {MAX_BYTES} bytes "
        "(export the patient's medications only)"
    )


def read_bytes(data: bytes, where: str, with_patient: bool = False) -> MedicationList:
    """The medication list in ``data`` (JSON Bundle, one resource, or NDJSON)."""
    if len(data) > MAX_BYTES:
        raise _too_large(where, len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BundleError(f"{where}:{line}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise BundleError(f"{where}: empty; expected a FHIR Bundle, resource or NDJSON")
    _check_depth(text, where)
    resources = list(_resources(text, where))
    return _medication_list(resources, where, with_patient)


# Strings may hold brackets; they are skipped whole (escapes included) when counting depth.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_depth(text: str, where: str) -> None:
    """Refuse JSON nested deeper than :data:`MAX_DEPTH` before the parser recurses into it."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                raise BundleError(
                    f"{where}:{line}: nested more than {MAX_DEPTH} levels deep; "
                    "not a medication list"
                )
        elif token in "]}":
            depth -= 1


def _json_error(where: str, exc: json.JSONDecodeError, first_line: int = 1) -> BundleError:
    return BundleError(f"{where}:{exc.lineno + first_line - 1}: not valid JSON: {exc.msg}")


def _resources(text: str, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each resource with its label for messages ("entry 3 (MedicationRequest/x)")."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise _json_error(where, exc) from None
        yield from _ndjson(text, where)
        return
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise BundleError(f"{where}: not a FHIR resource (no resourceType)")
    if document["resourceType"] != "Bundle":
        yield _label(document, None), document
        return
    entries = document.get("entry", [])
    if not isinstance(entries, list):
        raise BundleError(f"{where}: Bundle.entry must be a list")
    if len(entries) > MAX_ENTRIES:
        raise BundleError(
            f"{where}: {len(entries)} entries; a medication list has at most {MAX_ENTRIES}"
        )
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise BundleError(f"{where}: entry {number}: must be an object")
        resource = entry.get("resource")
        if resource is None:
            continue  # a request-only entry of a transaction: nothing to read
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise BundleError(f"{where}: entry {number}: resource has no resourceType")
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str):
            resource = {**resource, "_medpdf_full_url": full_url}
        yield _label(resource, f"entry {number}"), resource


def _ndjson(text: str, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    lines = text.split("\n")
    if sum(1 for line in lines if line.strip()) > MAX_ENTRIES:
        raise BundleError(f"{where}: more than {MAX_ENTRIES} resources; not a medication list")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BundleError(f"{where}:{number}: not valid JSON: {exc.msg}") from None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise BundleError(f"{where}:{number}: not a FHIR resource (no resourceType)")
        yield _label(resource, f"line {number}"), resource


def _label(resource: Mapping[str, Any], place: str | None) -> str:
    kind = resource["resourceType"]
    ident = resource.get("id")
    name = f"{kind}/{ident}" if isinstance(ident, str) else kind
    return f"{place} ({name})" if place else name


# -- validation ----------------------------------------------------------------------


def _field_path(location: Sequence[int | str]) -> str:
    """``('dosageInstruction', 0, 'timing')`` → ``dosageInstruction[0].timing``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the resource)"


def _validated(model: Any, resource: Mapping[str, Any], where: str, label: str) -> Any:
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


class _Bundle:
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
        model = _validated(Model, resource, self.where, label)
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


def _product(resource: Any, bundle: _Bundle, label: str) -> _Product:
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


def _joined(parts: Sequence[str], separator: str) -> str:
    return separator.join(dict.fromkeys(p for p in parts if p))


def _as_needed(dosage: Dosage) -> tuple[bool, str]:
    if dosage.asNeededBoolean:
        return True, ""
    if dosage.asNeededCodeableConcept is not None:
        return True, _concept_name(dosage.asNeededCodeableConcept)
    return False, ""


def _medication(resource: Any, bundle: _Bundle, label: str, notices: list[str]) -> Medication:
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
    note = _joined(notes, " ")
    if len(note) > MAX_NOTE:
        cut = note.rfind(" ", 0, MAX_NOTE - 1)
        note = note[: cut if cut > 0 else MAX_NOTE - 1].rstrip(" ,;:") + "…"
        notices.append(f"{label}: the patient instruction was shortened to {MAX_NOTE} characters")
    return Medication(
        name=product.name,
        codes=product.codes,
        ingredients=product.ingredients,
        dose=_joined(doses, "; "),
        schedule=schedule,
        as_needed=as_needed,
        as_needed_for=_joined(reasons, ", "),
        note=note,
        source=label,
    )


def _why_left_out(resource: Any) -> str | None:
    """Why a request or statement is not a medicine taken now; None when it is."""
    if resource.status != ACTIVE:
        return str(resource.status)
    if getattr(resource, "doNotPerform", None):
        return "do not perform"
    return None


def _patient(resources: list[tuple[str, dict[str, Any]]], where: str) -> Patient | None:
    from fhir.resources.R4B.patient import Patient as Model

    for label, resource in resources:
        if resource["resourceType"] != "Patient":
            continue
        model = _validated(Model, resource, where, label)
        names = [n for n in (model.name or ()) if n is not None]
        names.sort(key=lambda n: 0 if n.use == "official" else 1 if n.use in (None, "usual") else 2)
        shown = ""
        for name in names:
            shown = name.text or " ".join(
                [*(g for g in (name.given or ()) if g), name.family or ""]
            )
            shown = " ".join(shown.split())
            if shown:
                break
        birth = model.birthDate if isinstance(model.birthDate, dt.date) else None
        if shown or birth:
            return Patient(shown, birth)
    return None


def _medication_list(
    resources: list[tuple[str, dict[str, Any]]], where: str, with_patient: bool
) -> MedicationList:
    from fhir.resources.R4B.medicationrequest import MedicationRequest
    from fhir.resources.R4B.medicationstatement import MedicationStatement

    models = {"MedicationRequest": MedicationRequest, "MedicationStatement": MedicationStatement}
    bundle = _Bundle(resources, where)
    taken: list[Medication] = []
    left_out: list[str] = []
    notices: list[str] = []
    seen = 0
    for label, resource in resources:
        model = models.get(resource["resourceType"])
        if model is None:
            continue
        seen += 1
        validated = _validated(model, resource, where, label)
        medication = _medication(validated, bundle, label, notices)
        why = _why_left_out(validated)
        if why is None:
            taken.append(medication)
        else:
            left_out.append(f"{medication.label} ({why})")
    if not seen:
        raise BundleError(f"{where}: holds no MedicationRequest or MedicationStatement")
    patient = _patient(resources, where) if with_patient else None
    return MedicationList(tuple(_merge_repeats(taken)), tuple(left_out), patient, tuple(notices))


def _merge_repeats(medications: list[Medication]) -> list[Medication]:
    """One row per product: a request and a statement of the same medicine become one.

    Two entries of the same product (same name and codes) keep both schedules and
    both doses, so "5 mg mornings" and "2.5 mg evenings" are both printed.
    """
    kept: list[Medication] = []
    for medication in medications:
        key = (medication.name.casefold(), medication.codes)
        same = next((m for m in kept if (m.name.casefold(), m.codes) == key), None)
        if same is None:
            kept.append(medication)
            continue
        merged = replace(
            same,
            dose=_joined([same.dose, medication.dose], "; "),
            schedule=same.schedule.merged(medication.schedule),
            as_needed=same.as_needed or medication.as_needed,
            as_needed_for=_joined([same.as_needed_for, medication.as_needed_for], ", "),
            note=_joined([same.note, medication.note], " "),
        )
        kept[kept.index(same)] = merged
    return kept
