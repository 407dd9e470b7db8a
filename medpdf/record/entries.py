"""What one record says: the drugs and editions handed out, how, when and where.

Frozen values, read back from the database or made by :meth:`Record.keep`;
:func:`line` and :func:`as_json` are the two ways the command line shows them.
Nothing here can hold patient data: a record has no free-text field a person
types into, only the drug, its edition, the options, the printer and the job.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medpdf.settings import options

if TYPE_CHECKING:
    from medpdf.content.model import Monograph

#: Hex digits of the monograph's SHA-256 that the footer prints as "Version".
EDITION_DIGITS = 12

#: What happened to the PDF.
PRINTED = "printed"  # handed to CUPS
OPENED = "opened"  # sent to a browser by the station
WRITTEN = "written"  # written to a file (``reprint -o``, packs)
ACTIONS = (PRINTED, OPENED, WRITTEN)


@dataclass(frozen=True)
class Drug:
    """One drug in a handed-out PDF, with the edition of its text."""

    slug: str
    title: str
    #: The content version the footer shows: the first 12 hex digits of the
    #: SHA-256 of the monograph file.
    edition: str

    @classmethod
    def of(cls, monograph: Monograph) -> Drug:
        """The drug and edition a monograph was rendered from."""
        return cls(monograph.slug, monograph.title, monograph.digest[:EDITION_DIGITS])


@dataclass(frozen=True)
class Entry:
    """One record: a PDF handed out once (printed, opened or written)."""

    id: int
    #: When, in UTC, to the second (ISO 8601).
    at: str
    #: The day it was handed out (YYYY-MM-DD; for a new PDF the date printed on it).
    day: str
    action: str
    #: Which front door: ``cli``, ``station`` or ``pack``.
    via: str
    drugs: tuple[Drug, ...]
    #: The options that shaped the PDF, as option name → text (the clinic by name).
    options: tuple[tuple[str, str | None], ...]
    #: SHA-256 of the kept PDF: its name in the archive.
    pdf: str
    pages: int
    printer: str | None = None
    job: str | None = None
    copies: int | None = None
    #: The station user, once the station has users; None until then.
    user: str | None = None
    #: The record whose PDF this one handed out again.
    reprint_of: int | None = None

    @property
    def option_values(self) -> Mapping[str, str | None]:
        """``options`` as a mapping."""
        return dict(self.options)

    @property
    def local_time(self) -> str:
        """``2026-12-01 17:03`` in this computer's time zone."""
        moment = dt.datetime.fromisoformat(self.at.replace("Z", "+00:00")).astimezone()
        return moment.strftime("%Y-%m-%d %H:%M")

    @property
    def options_summary(self) -> str:
        """``A4, large print`` — the options a person at the counter would name."""
        values = self.option_values
        shown = [str(values.get("paper") or "?").upper().replace("LETTER", "Letter")]
        if values.get("large_print") == "1":
            shown.append("large print")
        if values.get("patient_fields") == "1":
            shown.append("patient fields")
        if values.get("lang") not in (None, "en"):
            shown.append(f"lang {values['lang']}")
        return ", ".join(shown)

    @property
    def destination(self) -> str:
        """Where it went: the printer and job, or how it was handed out."""
        if self.action == PRINTED:
            job = f"job {self.job}" if self.job else "job unknown (not confirmed by CUPS)"
            copies = f", {self.copies} copies" if self.copies and self.copies > 1 else ""
            return f"{self.printer} {job}{copies}"
        return "opened in a browser" if self.action == OPENED else "written to a file"


def recorded_options(settings: Mapping[str, Any]) -> tuple[tuple[str, str | None], ...]:
    """The options that change a PDF (the option table's allowlist), as text.

    The clinic is kept by name: its address and logo are in the PDF itself.
    """
    shown: list[tuple[str, str | None]] = []
    for option in options.OPTIONS:
        if not option.changes_output or option.name not in settings:
            continue
        value = settings[option.name]
        if value is None:
            shown.append((option.name, None))
        elif option is options.CLINIC:
            shown.append((option.name, getattr(value, "name", None)))
        else:
            shown.append((option.name, option.kind.to_text(value)))
    return tuple(shown)


def drugs_text(entry: Entry) -> str:
    """``Alefacept [1a2b3c4d5e6f]``, drugs joined by ``+``."""
    return " + ".join(f"{d.title} [{d.edition}]" for d in entry.drugs)


def line(entry: Entry) -> str:
    """One line of ``medpdf history``, starting with the record's ID."""
    again = f" (reprint of {entry.reprint_of})" if entry.reprint_of else ""
    return (
        f"{entry.id}  {entry.local_time}  {entry.action}  {drugs_text(entry)}  "
        f"{entry.options_summary}  {entry.destination}{again}  via {entry.via}"
    )


def as_json(entry: Entry) -> str:
    """One JSON object on one line, for scripts."""
    return json.dumps(
        {
            "id": entry.id,
            "at": entry.at,
            "day": entry.day,
            "action": entry.action,
            "via": entry.via,
            "drugs": [
                {"slug": d.slug, "title": d.title, "edition": d.edition} for d in entry.drugs
            ],
            "options": entry.option_values,
            "pdf_sha256": entry.pdf,
            "pages": entry.pages,
            "printer": entry.printer,
            "job": entry.job,
            "copies": entry.copies,
            "user": entry.user,
            "reprint_of": entry.reprint_of,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
