"""The record of what was handed out: which edition of which leaflet, when, how.

A clinic must be able to say which edition of a leaflet a patient got and
print that same edition again after the monograph has changed. Every PDF
medpdf hands out (``medpdf print``, the station's PDF and print button,
``medpdf reprint``, packs) is recorded here with the drugs and their editions
(the content version the footer prints), the options, and the printer and
CUPS job where printed; the exact PDF is kept once per distinct content.
Never patient data: a handout's patient lines are blank and no form text is
kept; a pack's notes (typed for one patient) are left out of the PDF kept here.

For other products (packs): render the PDF, then::

    from medpdf import record
    record.keep(config, pdf_bytes, [record.Drug.of(m) for m in monographs],
                action=record.WRITTEN, via="pack")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from medpdf.errors import PrintError, PrintUnconfirmed
from medpdf.printing import PrintJob, submit
from medpdf.record.entries import (
    ACTIONS,
    OPENED,
    PRINTED,
    WRITTEN,
    Drug,
    Entry,
    as_json,
    line,
    recorded_options,
)
from medpdf.record.store import Record
from medpdf.settings.config import Config
from medpdf.settings.options import KEEP_DAYS, PAPER, RECORD_FOLDER

__all__ = [
    "ACTIONS",
    "OPENED",
    "PRINTED",
    "WRITTEN",
    "Drug",
    "Entry",
    "Record",
    "approvals",
    "as_json",
    "folder_of",
    "keep",
    "line",
    "open_for",
    "print_made",
    "reader_for",
    "recorded_options",
    "send",
]


def folder_of(config: Config) -> Path:
    """``[record] folder``, else ``record/`` in the output folder."""
    chosen = config[RECORD_FOLDER]
    return Path(chosen) if chosen else config.output_dir / "record"


def open_for(config: Config) -> Record:
    """The run's record, checked, cleaned of what killed writers left, and pruned."""
    days = config[KEEP_DAYS]
    return Record.open(
        folder_of(config), keep_days=int(days) if days else None, today=config.printed
    )


def reader_for(config: Config) -> Record:
    """The run's record for reading only: nothing is created, swept or pruned."""
    return Record(folder_of(config))


def keep(
    config: Config,
    pdf: bytes,
    drugs: Sequence[Drug],
    *,
    action: str,
    via: str,
    printer: str | None = None,
    job: str | None = None,
    copies: int | None = None,
    reprint_of: int | None = None,
) -> Entry:
    """Record one PDF handed out with ``config``'s options and printed date; returns the record."""
    return open_for(config).keep(
        pdf,
        drugs,
        recorded_options(config.settings),
        action=action,
        via=via,
        day=config.printed,
        printer=printer,
        job=job,
        copies=copies,
        reprint_of=reprint_of,
    )


def send(
    kept: Record,
    pdf: bytes,
    drugs: Sequence[Drug],
    chosen: Iterable[tuple[str, str | None]],
    submit: Callable[[], PrintJob],
    *,
    via: str,
    day: dt.date,
    copies: int,
    printer: str,
    reprint_of: int | None = None,
    user: str | None = None,
) -> tuple[Entry, PrintJob]:
    """Record a print, hand it to CUPS with ``submit``, then note the job id CUPS gave.

    Recorded first, so a print is never out without its record (killed after
    ``lp``, the record says "job unknown"); forgotten again only when CUPS refused
    it. When ``lp`` may have queued it without confirming (timed out, failed after
    the upload, no job id), the record stays: "not confirmed by CUPS".
    """
    entry = kept.keep(
        pdf,
        drugs,
        chosen,
        action=PRINTED,
        via=via,
        day=day,
        printer=printer,
        copies=copies,
        reprint_of=reprint_of,
        user=user,
    )
    try:
        job = submit()
    except PrintUnconfirmed:
        raise  # it may come out of the printer: the record stays, with no job id
    except PrintError:
        kept.forget(entry.id)  # nothing went out
        raise
    kept.set_job(entry.id, job.job_id)
    return entry, job


def print_made(
    config: Config,
    kept: Record,
    pdf: Path,
    drugs: Sequence[Drug],
    *,
    printer: str,
    title: str,
    copies: int,
    via: str,
    kept_pdf: Path | None = None,
) -> PrintJob:
    """Print a PDF just made with ``config`` (a handout, a pack), recorded with its options.

    ``kept_pdf`` is what the record keeps when the printed PDF holds what a
    record must not (a patient's name): the same document made without it.
    """
    paper = config[PAPER]
    _, job = send(
        kept,
        (kept_pdf or pdf).read_bytes(),
        drugs,
        recorded_options(config.settings),
        lambda: submit(pdf, printer, title=title, copies=copies, paper=paper),
        via=via,
        day=config.printed,
        copies=copies,
        printer=printer,
    )
    return job
