"""Clinical codes: which code system a code belongs to, however the system is written.

A drug is named by RxNorm, SNOMED CT, ATC or NDC codes, or by a clinic's own
system. Each system has several spellings: FHIR writes a URI
(``http://www.nlm.nih.gov/research/umls/rxnorm``), HL7 Infobutton an OID
(``2.16.840.1.113883.6.88``), FHIR sometimes ``urn:oid:2.16.840.1.113883.6.88``,
and a person editing front matter would rather write ``rxnorm``. :func:`system_key`
turns all of them into one key, so a code given by an EHR in one spelling finds
a monograph whose ``codes:`` list used another. A system medpdf does not know
is kept as written (an OID without ``urn:oid:``), so a clinic's own codes work
as long as both sides spell the system the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class System:
    """A well-known code system: its short name, FHIR URI and HL7 OID."""

    name: str
    label: str
    uri: str
    oid: str


#: The drug code systems medpdf knows by name.
SYSTEMS: tuple[System, ...] = (
    System(
        "rxnorm", "RxNorm", "http://www.nlm.nih.gov/research/umls/rxnorm", "2.16.840.1.113883.6.88"
    ),
    System("snomed", "SNOMED CT", "http://snomed.info/sct", "2.16.840.1.113883.6.96"),
    System("atc", "ATC", "http://www.whocc.no/atc", "2.16.840.1.113883.6.73"),
    System("ndc", "NDC", "http://hl7.org/fhir/sid/ndc", "2.16.840.1.113883.6.69"),
)

_BY_SPELLING: dict[str, System] = {}
for _system in SYSTEMS:
    for _spelling in (_system.name, _system.label, _system.uri, _system.oid):
        _BY_SPELLING[_spelling.casefold()] = _system
    _BY_SPELLING[f"urn:oid:{_system.oid}"] = _system
# Spellings met in the wild: SNOMED's "sct", https URIs, a trailing slash.
_BY_SPELLING["sct"] = SYSTEMS[1]
_BY_SPELLING["snomed-ct"] = SYSTEMS[1]

#: A code is one token: letters, digits and a few separators, at most 64 characters.
_CODE = re.compile(r"^[\w.\-:/]{1,64}$")
#: A system is a short name, an OID or a URI: no spaces, at most 200 characters.
_SYSTEM = re.compile(r"^\S{1,200}$")


def system_key(system: str) -> str:
    """One key for every spelling of a system: ``rxnorm`` for its URI, OID and names."""
    text = system.strip()
    folded = text.casefold().rstrip("/")
    known = _BY_SPELLING.get(folded) or _BY_SPELLING.get(folded.replace("https://", "http://"))
    if known is not None:
        return known.name
    if folded.startswith("urn:oid:"):
        return text[len("urn:oid:") :]
    return text


def label_of(system: str) -> str:
    """What a person calls a system: ``RxNorm`` for any spelling, else the system as written."""
    key = system_key(system)
    known = next((s for s in SYSTEMS if s.name == key), None)
    return known.label if known is not None else key


@dataclass(frozen=True)
class Code:
    """One code of a drug in one system (``system`` as :func:`system_key` gives it)."""

    system: str
    code: str

    @classmethod
    def of(cls, system: str, code: str) -> Code:
        """A code with its system's key, whitespace around either removed."""
        return cls(system_key(system), code.strip())

    def __str__(self) -> str:
        return f"{self.system}|{self.code}"


def check(system: object, code: object) -> str | None:
    """Why ``system`` and ``code`` do not make a code, or None when they do."""
    if not isinstance(system, str) or not _SYSTEM.match(system.strip()):
        return "a system is a name (rxnorm, snomed, atc, ndc), a URI or an OID"
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)  # an unquoted RxNorm code in YAML
    if not isinstance(code, str) or not _CODE.match(code.strip()):
        return "a code is one word of letters, digits, '.', '-', ':' or '/'"
    return None


def parse(text: str) -> Code | None:
    """``SYSTEM|CODE`` (FHIR's token syntax) as a code, or None when it is not one."""
    system, sep, code = text.partition("|")
    if not sep or check(system, code) is not None:
        return None
    return Code.of(system, code)
