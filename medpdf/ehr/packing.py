"""From a record's medication list to a medication pack request.

Each active medicine of the list (:mod:`medpdf.ehr.fhir`) is matched to its
monograph (:mod:`medpdf.ehr.matching`); the matched ones become the pack's
medicines, with the times, dose, meal, "when needed" and note the list gives
(:class:`medpdf.products.pack.packlist.Taking`); the ones without a monograph are kept as
rows without a leaflet (``unlisted``), listed on the pack's first page. Two
medicines of the list with the same monograph become one row with both
schedules and both doses. The patient's name and birth date travel only
when asked for, in the request, and are never written anywhere.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from medpdf.content import collection
from medpdf.ehr.fhir import MedicationList, read_bytes, read_file
from medpdf.ehr.matching import Index, Matched, match_list
from medpdf.ehr.timing import in_order
from medpdf.errors import UsageError
from medpdf.products.pack import MAX_MEDICINES, PackRequest, Taking, Wanted
from medpdf.run import Cache
from medpdf.settings.config import Config

LOGGER = logging.getLogger(__name__)


def index_of(config: Config) -> tuple[Index, tuple[collection.Entry, ...]]:
    """The collection's index by code and name, as the station's list is made.

    The scan checks what builds and the station check (:meth:`collection.Rules.of`) and
    reuses the build cache's parse summaries where a build or the station made the
    cache (a pack never creates one): on the 6,286 monographs of the real collection
    a six-medicine list took 22.7 s without the cache (every file parsed), 8.6 s
    with it, against 7.3 s for the same pack named by slugs.
    """
    rules = collection.Rules.of(config)
    if config.cache_dir.is_dir():
        try:
            with Cache(config.cache_dir) as store:
                entries = collection.scan(config.content_dir, store, rules).entries
            return Index.of(entries), entries
        except (sqlite3.OperationalError, OSError) as exc:
            LOGGER.info("build cache unavailable (%s); scanning without it", exc)
    entries = collection.scan(config.content_dir, None, rules).entries
    return Index.of(entries), entries


def _joined(parts: Sequence[str], separator: str) -> str:
    return separator.join(dict.fromkeys(p for p in parts if p))


@dataclass(frozen=True)
class _Row:
    times: tuple[str, ...]
    note: str
    taking: Taking


def _row(matched: Matched) -> _Row:
    medication = matched.medication
    schedule = medication.schedule
    strength = medication.strength_shown
    dose = medication.dose
    # A row without a leaflet is titled by the record's name, which may say the strength.
    shown = dose if matched.slug is not None else f"{dose} {medication.label}"
    if strength and strength.casefold() not in shown.casefold():
        dose = _joined([dose, strength], " · ")
    taking = Taking(
        dose=dose,
        meal=schedule.meal,
        as_needed=medication.as_needed,
        as_needed_for=medication.as_needed_for,
        daily=schedule.daily,
    )
    times = schedule.times if schedule.daily and not medication.as_needed else ()
    return _Row(times, medication.note, taking)


def _merged(first: _Row, second: _Row) -> _Row:
    one, two = first.taking, second.taking
    taking = Taking(
        dose=_joined([one.dose, two.dose], "; "),
        meal=one.meal or two.meal,
        as_needed=one.as_needed or two.as_needed,
        as_needed_for=_joined([one.as_needed_for, two.as_needed_for], ", "),
        daily=one.daily and two.daily,
    )
    return _Row(
        in_order([*first.times, *second.times]), _joined([first.note, second.note], " "), taking
    )


def pack_request(
    listed: MedicationList, matched: Sequence[Matched], title: str | None = None
) -> PackRequest:
    """The pack of a matched list: its medicines with their details, the rest unlisted."""
    rows: dict[str, _Row] = {}
    unlisted: list[Wanted] = []
    for item in matched:
        row = _row(item)
        if item.slug is None:
            unlisted.append(Wanted(item.medication.label, row.times, row.note, row.taking))
        elif item.slug in rows:
            rows[item.slug] = _merged(rows[item.slug], row)
        else:
            rows[item.slug] = row
    if not rows:
        labels = ", ".join(m.medication.label for m in matched)
        raise UsageError(f"no medicine of the list has a leaflet in this collection ({labels})")
    if len(rows) + len(unlisted) > MAX_MEDICINES:
        raise UsageError(
            f"the list has {len(rows) + len(unlisted)} active medicines; "
            f"a pack holds at most {MAX_MEDICINES}"
        )
    return PackRequest(
        names=tuple(rows),
        times={slug: row.times for slug, row in rows.items() if row.times},
        notes={slug: row.note for slug, row in rows.items() if row.note},
        title=title,
        taking={slug: row.taking for slug, row in rows.items()},
        unlisted=tuple(unlisted),
        patient=listed.patient,
    )


@dataclass(frozen=True)
class FromRecord:
    """A pack request made from a record's list, and what the list said besides."""

    request: PackRequest
    listed: MedicationList
    matched: tuple[Matched, ...]

    @property
    def report(self) -> list[str]:
        """Lines for the person making the pack: what was left out or has no leaflet."""
        lines = [f"left out (not active): {item}" for item in self.listed.left_out]
        lines += [
            f"no leaflet for {m.medication.label}: listed on page 1"
            for m in self.matched
            if m.slug is None
        ]
        return lines + list(self.listed.notices)


def from_list(
    listed: MedicationList,
    index: Index,
    picks: Mapping[str, str],
    where: str,
    title: str | None = None,
) -> FromRecord:
    """Match a read list and make its pack request (unsure matches are one error line each)."""
    matched = match_list(listed.medications, index, picks, where)
    return FromRecord(pack_request(listed, matched, title), listed, matched)


def from_file(
    path: Path,
    index: Index,
    picks: Mapping[str, str],
    with_patient: bool = False,
) -> FromRecord:
    """The pack request of a FHIR file, named after the file (``output/packs/<stem>.pdf``)."""
    listed = read_file(path, with_patient)
    return from_list(listed, index, picks, str(path), title=path.stem)


def from_bytes(
    data: bytes,
    where: str,
    index: Index,
    picks: Mapping[str, str],
    with_patient: bool = False,
) -> FromRecord:
    """The pack request of FHIR JSON received by the station."""
    listed = read_bytes(data, where, with_patient)
    return from_list(listed, index, picks, where)
