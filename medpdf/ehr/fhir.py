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

What one medicine becomes is :mod:`medpdf.ehr.medications`' business; here
the file is read. Each medication resource is validated with ``fhir.resources`` (its R4B models:
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
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from medpdf.ehr.medications import ACTIVE as ACTIVE
from medpdf.ehr.medications import MAX_NOTE as MAX_NOTE
from medpdf.ehr.medications import MEDICATION_TYPES as MEDICATION_TYPES
from medpdf.ehr.medications import Bundle, joined, medication_of, validated, why_left_out
from medpdf.ehr.medications import BundleError as BundleError
from medpdf.ehr.medications import Ingredient as Ingredient
from medpdf.ehr.medications import Medication as Medication
from medpdf.ehr.medications import MedicationList as MedicationList
from medpdf.ehr.medications import TooLarge as TooLarge
from medpdf.products.pack import Patient

#: A medication list is a few kilobytes; a whole-record export is not what medpdf reads.
MAX_BYTES = 10 * 1024 * 1024
#: Entries of a Bundle (or lines of an NDJSON file).
MAX_ENTRIES = 5000
#: Nesting of JSON objects and arrays; real medication resources nest about 8 deep.
MAX_DEPTH = 40

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


def _patient(resources: list[tuple[str, dict[str, Any]]], where: str) -> Patient | None:
    from fhir.resources.R4B.patient import Patient as Model

    for label, resource in resources:
        if resource["resourceType"] != "Patient":
            continue
        model = validated(Model, resource, where, label)
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
    bundle = Bundle(resources, where)
    taken: list[Medication] = []
    left_out: list[str] = []
    notices: list[str] = []
    seen = 0
    for label, resource in resources:
        model = models.get(resource["resourceType"])
        if model is None:
            continue
        seen += 1
        checked = validated(model, resource, where, label)
        medication = medication_of(checked, bundle, label, notices)
        why = why_left_out(checked)
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
            dose=joined([same.dose, medication.dose], "; "),
            schedule=same.schedule.merged(medication.schedule),
            as_needed=same.as_needed or medication.as_needed,
            as_needed_for=joined([same.as_needed_for, medication.as_needed_for], ", "),
            note=joined([same.note, medication.note], " "),
        )
        kept[kept.index(same)] = merged
    return kept
