"""The station's side of the record: every PDF it hands out is recorded; the "Printed" page.

A PDF leaves the station only after its record is committed, so the record
is never behind what staff handed out; if the record cannot be written the
request fails with one line (a 500 page) instead. The record is written from
a thread (SQLite blocks), each write on its own connection.

``GET /printed`` lists today's records, prints first, each part newest first;
``?drug=`` searches every day by drug slug or title, ``?action=printed`` (or
``opened``, ``written``) keeps one kind. ``GET /printed/<id>.pdf`` opens the exact PDF a
record kept (that is a hand-out too, recorded as a reprint).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response

from medpdf import record
from medpdf.content.model import Monograph
from medpdf.errors import PrintError, RecordError, UsageError
from medpdf.i18n import N_
from medpdf.printing import PrintJob
from medpdf.run import RunContext
from medpdf.settings.config import today
from medpdf.station.auth import user_of
from medpdf.station.language import Told
from medpdf.station.printers import printer_problem
from medpdf.station.state import Station

#: When the record cannot be written or read; the detail (folder, reason) stays as it is.
NOT_HANDED_OUT = N_(
    "The handout was not handed out: the record of what is handed out cannot be written "
    "(%(detail)s). Ask whoever looks after the station."
)
NOT_PRINTED = N_(
    "Nothing was printed: the record of what is handed out cannot be written (%(detail)s). "
    "Ask whoever looks after the station."
)
NO_RECORD_READ = N_(
    "The record of what was handed out cannot be read (%(detail)s). "
    "Ask whoever looks after the station."
)

#: Records one page shows; a search that finds more says so.
PAGE_SIZE = 200


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF shown in the browser's viewer."""
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-cache",
        },
    )


async def keep_opened(
    station: Station,
    data: bytes,
    drug: Monograph | Sequence[Monograph],
    context: RunContext,
    user: str | None,
) -> None:
    """Record a PDF (handout or pack) the station is about to send to a browser, and who asked."""
    chosen = record.recorded_options(context.config.settings)
    try:
        await asyncio.to_thread(
            station.record.keep,
            data,
            _drugs(drug),
            chosen,
            action=record.OPENED,
            via="station",
            day=context.config.printed,
            user=user,
        )
    except RecordError as exc:
        raise Told(500, NOT_HANDED_OUT, detail=exc.message) from None


async def keep_printed(
    station: Station,
    data: bytes,
    drug: Monograph | Sequence[Monograph],
    context: RunContext,
    submit: Callable[[], PrintJob],
    printer: str,
    copies: int,
    user: str | None,
) -> PrintJob:
    """Record a print, send it with ``submit``, note the job id; a refused job is forgotten.

    ``data`` is what the record keeps; ``submit`` sends its own PDF (a pack's with notes).
    """
    try:
        _, job = await asyncio.to_thread(
            record.send,
            station.record,
            data,
            _drugs(drug),
            record.recorded_options(context.config.settings),
            submit,
            via="station",
            day=context.config.printed,
            copies=copies,
            printer=printer,
            user=user,
        )
    except RecordError as exc:
        raise Told(500, NOT_PRINTED, detail=exc.message) from None
    except PrintError as exc:
        raise printer_problem(exc, printer) from None
    return job


async def printed_page(request: Request) -> Response:
    """Today's records, or every record of a drug (``?drug=``), newest first."""
    station: Station = request.app.state.station
    drug = str(request.query_params.get("drug", "")).strip()[:200]
    asked = str(request.query_params.get("action", ""))
    action = asked if asked in record.ACTIONS else None
    day = None if drug else today()
    try:
        found = await asyncio.to_thread(
            station.record.entries,
            name=drug or None,
            day=day,
            newest_first=True,
            limit=PAGE_SIZE + 1,
            action=action,
            prints_first=True,
        )
    except RecordError as exc:
        raise Told(500, NO_RECORD_READ, detail=exc.message) from None
    return station.page(
        "printed",
        user=user_of(request),
        drug=drug,
        day=day,
        action=action or "",
        actions=record.ACTIONS,
        entries=found[:PAGE_SIZE],
        more=len(found) > PAGE_SIZE,
        page_size=PAGE_SIZE,
    )


async def printed_pdf(request: Request) -> Response:
    """The exact PDF a record kept, opened again (and recorded as a reprint)."""
    station: Station = request.app.state.station
    number = int(request.path_params["number"])
    try:
        original = await asyncio.to_thread(station.record.entry, number)
        data = await asyncio.to_thread(station.record.pdf_of, original)
        await asyncio.to_thread(
            station.record.keep,
            data,
            original.drugs,
            original.options,
            action=record.OPENED,
            via="station",
            day=today(),
            reprint_of=original.id,
            user=_user_name(request),
        )
    except UsageError:
        raise Told(404, N_("There is no record %(number)s."), number=number) from None
    except RecordError as exc:
        raise Told(500, NO_RECORD_READ, detail=exc.message) from None
    slug = original.drugs[0].slug if len(original.drugs) == 1 else "handouts"
    return pdf_response(data, f"{slug}-record-{original.id}.pdf")


def _drugs(drug: Monograph | Sequence[Monograph]) -> list[record.Drug]:
    """What the record names: one drug, or each medicine of a pack in its order."""
    return [record.Drug.of(m) for m in ([drug] if isinstance(drug, Monograph) else drug)]


def _user_name(request: Request) -> str | None:
    """Who is logged in, for the record (None when the station has no accounts)."""
    user = user_of(request)
    return user.name if user else None
