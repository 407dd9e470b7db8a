"""What a medication pack is asked to hold: names, times, doses and notes, from flags or a file.

``medpdf pack aspirin metformin --take metformin=morning,evening --dose
metformin="500 mg, 1 tablet" --note metformin="with food"`` and a ``--from``
file say the same thing::

    name = "my-medicines"          # optional: output/packs/<name>.pdf
    [[medicine]]
    name = "metformin"
    take = ["morning", "evening"]  # or "morning, evening"
    dose = "500 mg, 1 tablet"
    note = "with food"

Nothing here knows the collection: names are matched to monographs by
:class:`medpdf.products.pack.Pack`, which calls :meth:`PackRequest.settle` to
tie each time, dose and note to a medicine of the pack. Every problem is one line naming the flag or
the file and line (exit status 2); nothing about the patient is stored.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from medpdf.errors import ConfigError, UsageError
from medpdf.products.pack.medicines import TIMES


@dataclass(frozen=True)
class Patient:
    """The patient's name and birth date, printed on page 1 only for ``--with-patient``.

    Read from a record's list (:mod:`medpdf.ehr.fhir`); never stored.
    """

    name: str
    birth_date: dt.date | None = None


#: A pack holds this many medicines at most: the schedule and the wallet card stay readable.
MAX_MEDICINES = 20
#: A note is a short instruction ("with food"), not a letter.
MAX_NOTE = 120
#: A dose and strength ("5 mg, 1 tablet") fits under the name on the schedule and the card.
MAX_DOSE = 60
_SLUGGISH = re.compile(r"[^a-z0-9]+")


def parse_times(text: str | Sequence[str], where: str) -> tuple[str, ...]:
    """``"morning, evening"`` or ``["morning", "evening"]`` → the times in the order of a day."""
    words = re.split(r"[,\s]+", text) if isinstance(text, str) else list(text)
    wanted: set[str] = set()
    for word in words:
        if not isinstance(word, str):
            raise UsageError(f"{where}: times must be words, not {word!r}")
        folded = word.strip().casefold()
        if not folded:
            continue
        if folded not in TIMES:
            raise UsageError(
                f"{where}: '{word.strip()}' is not a time of day; "
                f"use {', '.join(TIMES[:-1])} or {TIMES[-1]}"
            )
        wanted.add(folded)
    if not wanted:
        raise UsageError(f"{where}: no time given; use {', '.join(TIMES)}")
    return tuple(t for t in TIMES if t in wanted)


def _note(text: str, where: str) -> str:
    note = " ".join(text.split())
    if len(note) > MAX_NOTE:
        raise UsageError(f"{where}: a note is at most {MAX_NOTE} characters, not {len(note)}")
    return note


def _dose(text: str, where: str) -> str:
    dose = " ".join(text.split())
    if not dose:
        raise UsageError(f'{where}: no dose given; write it as "5 mg, 1 tablet"')
    if len(dose) > MAX_DOSE:
        raise UsageError(f"{where}: a dose is at most {MAX_DOSE} characters, not {len(dose)}")
    return dose


def _split_pair(value: str, flag: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"{flag} {value!r}: expected NAME=VALUE")
    return name.strip(), rest


@dataclass(frozen=True)
class Taking:
    """How a medicine is taken beyond its times, when a record's list says (``--fhir``)."""

    #: What to take each time ("1 tablet"), or the prescription's own words.
    dose: str = ""
    #: "with", "before", "after" or "between" meals; None when no meal is named.
    meal: str | None = None
    #: Only when needed, and for what ("knee pain").
    as_needed: bool = False
    as_needed_for: str = ""
    #: False when not taken every day (weekly...): nothing is ticked, the row says so.
    daily: bool = True


@dataclass(frozen=True)
class Wanted:
    """One medicine of the pack as asked for; ``times`` empty means boxes to tick by hand."""

    name: str
    times: tuple[str, ...] = ()
    note: str = ""
    taking: Taking = Taking()
    #: A line left for a note written by hand (where a typed note was left out).
    note_line: bool = False

    def without_note(self) -> Wanted:
        """The same medicine with its note left out and a line to write it by hand.

        What a kept copy holds: a note is free text typed for one patient.
        """
        return replace(self, note="", note_line=bool(self.note) or self.note_line)


@dataclass(frozen=True)
class PackRequest:
    """Names in the order given, with times, notes and doses keyed by the name given for them."""

    names: tuple[str, ...]
    times: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)
    #: The output file's name (without ``.pdf``), when the request names the pack.
    title: str | None = None
    #: Doses, meals and "when needed" by name, from a record's list (``--fhir``).
    taking: Mapping[str, Taking] = field(default_factory=dict)
    #: Medicines of a record's list that have no leaflet: listed on page 1, never dropped.
    unlisted: tuple[Wanted, ...] = ()
    #: The patient's name and birth date (``--with-patient``): printed, never stored.
    patient: Patient | None = None
    #: Dose and strength by name (``--dose``, ``dose =``): they replace a record's dose.
    doses: Mapping[str, str] = field(default_factory=dict)

    def settle(self, medicines: Sequence[tuple[str, Iterable[str]]]) -> tuple[Wanted, ...]:
        """Tie times, notes and doses to the pack's medicines: ``(title, names it answers to)``.

        A name that is not one of the pack's medicines is a usage error, so
        a typo in ``--take`` never silently leaves a row without its times.
        """
        keys = [{n.strip().casefold() for n in names} for _, names in medicines]
        times: list[tuple[str, ...]] = [() for _ in medicines]
        notes = ["" for _ in medicines]

        def index_of(name: str, flag: str) -> int:
            folded = name.strip().casefold()
            for index, answers in enumerate(keys):
                if folded in answers:
                    return index
            titles = ", ".join(title for title, _ in medicines)
            raise UsageError(f"{flag} {name}: not a medicine of this pack ({titles})")

        for name, value in self.times.items():
            times[index_of(name, "--take")] = value
        for name, text in self.notes.items():
            notes[index_of(name, "--note")] = text
        taking = [Taking() for _ in medicines]
        for name, how in self.taking.items():
            taking[index_of(name, "--fhir")] = how
        for name, text in self.doses.items():
            index = index_of(name, "--dose")
            taking[index] = replace(taking[index], dose=text)
        return tuple(
            Wanted(title, t, n, k)
            for (title, _), t, n, k in zip(medicines, times, notes, taking, strict=True)
        )


def from_flags(
    names: Sequence[str],
    takes: Sequence[str],
    notes: Sequence[str],
    base: PackRequest | None = None,
    doses: Sequence[str] = (),
) -> PackRequest:
    """The request of the command line, added to a ``--from`` file's (flags win)."""
    times = dict(base.times) if base else {}
    texts = dict(base.notes) if base else {}
    strengths = dict(base.doses) if base else {}
    for value in takes:
        name, rest = _split_pair(value, "--take")
        times[name] = parse_times(rest, f"--take {name}")
    for value in notes:
        name, rest = _split_pair(value, "--note")
        texts[name] = _note(rest, f"--note {name}")
    for value in doses:
        name, rest = _split_pair(value, "--dose")
        strengths[name] = _dose(rest, f"--dose {name}")
    all_names = (*(base.names if base else ()), *names)
    if base is None:
        return PackRequest(tuple(all_names), times, texts, doses=strengths)
    return replace(base, names=tuple(all_names), times=times, notes=texts, doses=strengths)


def _line_of(text: str, needle: str, after: str | None = None) -> int | None:
    """The first line holding ``needle`` (after the first line holding ``after``, if given)."""
    start = (_line_of(text, after) or 0) if after else 0
    for number, line in enumerate(text.splitlines(), start=1):
        if number > start and needle in line:
            return number
    return None


def read_file(path: Path) -> PackRequest:
    """A pack request from a TOML file; each problem names the file and, where known, the line."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the medicine list {where}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, None, f"not valid TOML: {exc}") from None

    def fail(message: str, needle: str | None = None, after: str | None = None) -> ConfigError:
        return ConfigError(where, _line_of(text, needle, after) if needle else None, message)

    unknown = sorted(set(data) - {"name", "medicine"})
    if unknown:
        raise fail(f"unknown key '{unknown[0]}' (keys: name, medicine)", unknown[0])
    title = data.get("name")
    if title is not None and (not isinstance(title, str) or not slug_of(title)):
        raise fail('name: must be a short text such as "my-medicines"', "name")
    entries = data.get("medicine", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise fail("medicine: write each one as a [[medicine]] table", "medicine")
    names: list[str] = []
    times: dict[str, tuple[str, ...]] = {}
    notes: dict[str, str] = {}
    doses: dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        names.append(_entry(entry, number, times, notes, doses, fail))
    title = slug_of(title) if title else path.stem
    return PackRequest(tuple(names), times, notes, title, doses=doses)


def _entry(
    entry: Mapping[str, Any],
    number: int,
    times: dict[str, tuple[str, ...]],
    notes: dict[str, str],
    doses: dict[str, str],
    fail: Any,
) -> str:
    label = f"medicine {number}"
    name = entry.get("name")
    anchor = f'"{name}"' if isinstance(name, str) else None
    unknown = sorted(set(entry) - {"name", "take", "dose", "note"})
    if unknown:
        message = f"{label}: unknown key '{unknown[0]}' (keys: name, take, dose, note)"
        raise fail(message, unknown[0], anchor)
    if not isinstance(name, str) or not name.strip():
        raise fail(f"{label}: needs a name")
    take = entry.get("take")
    key = "take"
    try:
        if take is not None:
            if not isinstance(take, str | list):
                raise UsageError(f"{label}: take must be a list of times")
            times[name] = parse_times(take, f"{label} ({name}): take")
        note = entry.get("note")
        key = "note"
        if note is not None:
            if not isinstance(note, str):
                raise UsageError(f"{label} ({name}): note must be text")
            notes[name] = _note(note, f"{label} ({name}): note")
        dose = entry.get("dose")
        key = "dose"
        if dose is not None:
            if not isinstance(dose, str):
                raise UsageError(f'{label} ({name}): dose must be text such as "5 mg, 1 tablet"')
            doses[name] = _dose(dose, f"{label} ({name}): dose")
    except UsageError as exc:
        raise fail(exc.message, key, anchor) from None
    return name.strip()


def slug_of(text: str) -> str:
    """A file name from free text: lower-case letters, digits and hyphens, at most 80."""
    return _SLUGGISH.sub("-", text.casefold()).strip("-")[:80].strip("-")
