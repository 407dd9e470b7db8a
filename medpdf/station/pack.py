"""The station's "My medicines": a medication pack from a list kept in the browser.

The list itself lives only in the browser (localStorage, see
``assets/serve/pack.js``); the station stores nothing about a patient. Each
request carries the whole list as query or form fields, in the words of
``medpdf pack``: ``m=SLUG`` per medicine (in order), ``take=SLUG=morning,evening``
and ``note=SLUG=with food``, plus the handout options. A list loaded from the
clinic's record system (:mod:`medpdf.station.ehr`) adds how each is taken:
``dose=SLUG=1 tablet``, ``meal=SLUG=before`` (with, before, after, between),
``prn=SLUG=knee pain`` (only when needed) and ``notdaily=SLUG``; and its
medicines without a leaflet as ``nl=LABEL`` (a row of page 1 only, whose
``take``, ``note`` and the rest use LABEL as the name). They are checked by
:mod:`medpdf.products.pack` (1 to 20 medicines, time words, note length); every slug
is looked up in the scanned collection, never joined to a path. This module is
the station's front door to the pack: it reads the request and answers in the
station's words; the pack itself (:class:`medpdf.products.pack.Pack`: its
shelf key, its render in the worker pool, its page 1 as HTML for the preview)
is the same as ``medpdf pack`` makes, except that a pack with notes is rendered
privately and never kept, and the record keeps it made again without them (a
line each to write by hand).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from medpdf.errors import UsageError
from medpdf.i18n import N_
from medpdf.products import pack as packs
from medpdf.settings.kinds import PAPERS
from medpdf.settings.options import PAPER, PRINTER
from medpdf.station import language, printed
from medpdf.station.auth import user_of
from medpdf.station.forms import print_form
from medpdf.station.jobs import Busy, RenderFailed
from medpdf.station.language import Told
from medpdf.station.routes import MAX_COPIES, busy, print_allowed, print_target, send
from medpdf.station.state import PREVIEW_POLICY, SentJob, Station

#: Fields one request may carry: a medicine, its times, note, dose, meal, "when needed"
#: and "not daily", 20 times, and the options.
MAX_FIELDS = 7 * packs.MAX_MEDICINES + 10
#: The print form: 20 medicines with notes and doses of 120 characters fit within this.
MAX_FORM_BYTES = 32768
#: How a dose may relate to meals (``meal=SLUG=...``).
MEALS = ("with", "before", "after", "between")
#: The slug the "Sent" notice of a printed pack is kept under.
PACK = "(pack)"


def _station(request: Request) -> Station:
    station: Station = request.app.state.station
    return station


def _fields(params: Any, name: str) -> list[str]:
    return [str(value) for value in params.getlist(name)]


def asked(station: Station, params: Any) -> packs.Pack:
    """The pack a query or form asks for; a bad list is a 400 saying what is wrong."""
    slugs = list(dict.fromkeys(s.strip() for s in _fields(params, "m") if s.strip()))
    labels = [n for n in dict.fromkeys(s.strip() for s in _fields(params, "nl")) if n]
    if not slugs:
        raise Told(400, N_("The list has no medicines: add some from their drug pages."))
    if len(slugs) + len(labels) > packs.MAX_MEDICINES:
        raise Told(400, N_("A pack holds at most %(most)s medicines."), most=packs.MAX_MEDICINES)
    try:
        every = packs.from_flags(
            [*slugs, *labels], _fields(params, "take"), _fields(params, "note")
        )
        taking = _taking(params)
    except UsageError as exc:
        raise _unreadable(exc) from None
    times, notes = dict(every.times), dict(every.notes)
    unlisted = tuple(
        packs.Wanted(
            label,
            times.pop(label, ()),
            notes.pop(label, ""),
            taking.pop(label, packs.Taking()),
        )
        for label in labels
    )
    request = replace(
        every, names=tuple(slugs), times=times, notes=notes, taking=taking, unlisted=unlisted
    )
    try:
        return settled(station, request, params)
    except UsageError as exc:
        raise _unreadable(exc) from None


def settled(station: Station, request: packs.PackRequest, query: Any) -> packs.Pack:
    """The pack ``request`` asks for, each monograph read as the station reads every one.

    A time or note for no medicine of the pack is a :class:`UsageError`: each front
    door (the form, a record's list) says so in its own words.
    """
    entries = [station.entry(slug) for slug in request.names]
    found = [station.fresh_source(entry) for entry in entries]
    monographs = [station.monograph(source) for source in found]
    context = station.request_context(query)
    return packs.Pack.settle(request, found, monographs, [{e.slug} for e in entries], context)


def _pair(value: str, field: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not name.strip():
        raise UsageError(f"{field} {value!r}: expected NAME=VALUE")
    return name.strip(), " ".join(rest.split()) if sep else ""


def _taking(params: Any) -> dict[str, packs.Taking]:
    """How each medicine of a record's list is taken: dose, meal, when needed, not daily."""
    found: dict[str, dict[str, Any]] = {}
    for value in _fields(params, "dose"):
        name, text = _pair(value, "dose")
        if len(text) > packs.MAX_NOTE:
            raise UsageError(f"dose {name}: at most {packs.MAX_NOTE} characters")
        found.setdefault(name, {})["dose"] = text
    for value in _fields(params, "meal"):
        name, meal = _pair(value, "meal")
        if meal not in MEALS:
            raise UsageError(f"meal {name}: '{meal}' is not one of {', '.join(MEALS)}")
        found.setdefault(name, {})["meal"] = meal
    for value in _fields(params, "prn"):
        name, reason = _pair(value, "prn")
        found.setdefault(name, {}).update(as_needed=True, as_needed_for=reason[: packs.MAX_NOTE])
    for value in _fields(params, "notdaily"):
        found.setdefault(value.strip(), {})["daily"] = False
    return {name: packs.Taking(**how) for name, how in found.items() if name}


def _in_station_words(message: str) -> str:
    """The station's words for packlist's messages, which name the command's flags."""
    return message.replace("--take ", "times for ", 1).replace("--note ", "note for ", 1)


def _unreadable(exc: UsageError) -> Told:
    """A list the page's own script would not send: translated, with packlist's detail.

    The detail (which field, which word) stays in English: it names the fields of the
    request (``take``, ``note``), which only a hand-made link or another program gets wrong.
    """
    return Told(
        400,
        N_("The list of medicines could not be read: %(detail)s"),
        detail=_in_station_words(exc.message),
    )


def _approved(station: Station, pack: packs.Pack) -> None:
    """With ``approved_only``, a pack goes out only if every medicine's edition was approved."""
    for source in pack.sources:
        if (refused := station.review.refused(source)) is not None:
            raise refused


async def pack_bytes(station: Station, pack: packs.Pack) -> bytes:
    """The pack PDF from the worker pool (or the shelf), or the error page that says why not.

    With ``approved_only``, a pack holding an edition nobody approved is refused (409).
    A pack with notes (words typed for one patient) is rendered privately, never kept.
    """
    _approved(station, pack)
    try:
        if pack.has_notes:
            return await station.renderer.private(packs.pack_task, pack.job, pack.seconds)
        return await station.renderer.made(pack.key, packs.pack_task, pack.job, pack.seconds)
    except Busy:
        raise busy() from None
    except RenderFailed as exc:
        raise Told(
            500, N_("The medication pack could not be made: %(reason)s"), reason=str(exc)
        ) from None


async def kept_copy(station: Station, pack: packs.Pack, data: bytes | None = None) -> bytes:
    """What the record keeps of a pack handed out: the PDF itself, unless it holds notes.

    ``data`` is the PDF when it was made already. A pack with notes is made again with
    them left out (a line each to write them by hand): the record never holds free
    text typed for a patient.
    """
    if not pack.has_notes:
        return data if data is not None else await pack_bytes(station, pack)
    return await pack_bytes(station, pack.without_notes())


async def pack_page(request: Request) -> Response:
    """The "My medicines" page; its script fills it from the browser's own list."""
    station = _station(request)
    printers, no_printing = await station.printers()
    user = user_of(request)
    job = station.sent.find(str(request.query_params.get("sent", "")), PACK, user)
    sent = None
    if job is not None:
        if job.copies == 1:
            message = N_("Sent 1 copy of the pack to %(printer)s (job %(job)s).")
        else:
            message = N_("Sent %(copies)s copies of the pack to %(printer)s (job %(job)s).")
        sent = language.gettext(
            station.resources.locale,
            message,
            copies=job.copies,
            printer=job.printer,
            job=job.job_id,
        )
    return station.page(
        "pack",
        user=user,
        may_print=user is None or user.may_print,
        printers=printers.printers if printers else (),
        chosen_printer=station.config[PRINTER] or (printers.default if printers else None),
        no_printing=no_printing,
        sent=sent,
        max_copies=MAX_COPIES,
        max_medicines=packs.MAX_MEDICINES,
        max_note=packs.MAX_NOTE,
        times=packs.TIMES,
        options=station.config.settings,
        papers=tuple(PAPERS.values()),
    )


async def pack_preview(request: Request) -> Response:
    """Page 1 of the pack as HTML, styled for the screen; no WeasyPrint involved."""
    station = _station(request)
    pack = asked(station, request.query_params)
    html = pack.schedule_html(screen_base="/static/")
    return HTMLResponse(html, headers={"Content-Security-Policy": PREVIEW_POLICY})


async def pack_pdf(request: Request) -> Response:
    """The pack PDF, rendered in a worker on first request and kept; recorded as handed out."""
    if request.method == "HEAD":
        return Response(status_code=405, headers={"Allow": "GET"})
    station = _station(request)
    pack = asked(station, request.query_params)
    data = await pack_bytes(station, pack)
    kept = await kept_copy(station, pack, data)
    await printed.keep_opened(station, kept, pack.monographs, pack.context, _name(request))
    return printed.pdf_response(data, "my-medicines.pdf")


def _name(request: Request) -> str | None:
    user = user_of(request)
    return user.name if user else None


async def pack_print(request: Request) -> Response:
    """Render the pack (or take it from the shelf) and queue it on a CUPS printer."""
    station = _station(request)
    user = print_allowed(
        request, N_("Your account may look at and download packs, not print them.")
    )
    form = await print_form(request, max_fields=MAX_FIELDS, max_bytes=MAX_FORM_BYTES)
    if form is None:
        return Response(status_code=400)
    pack = asked(station, form)
    _approved(station, pack)
    copies, printer = await print_target(station, form, user)
    data = await pack_bytes(station, pack)
    kept = await kept_copy(station, pack, data)
    title = "My medicines: " + ", ".join(m.title for m in pack.monographs)
    paper = pack.context.config[PAPER]
    job = await printed.keep_printed(
        station,
        kept,
        pack.monographs,
        pack.context,
        lambda: send(data, printer, title, copies, paper),
        printer,
        copies,
        _name(request),
    )
    token = station.sent.add(SentJob(PACK, printer, job.job_id, job.copies, _name(request)))
    return RedirectResponse(f"/pack?sent={token}", status_code=303)


#: The pack's paths; ``app`` adds them to :data:`medpdf.station.routes.ROUTES`.
ROUTES = [
    Route("/pack", pack_page),
    Route("/pack.pdf", pack_pdf),
    Route("/pack/preview", pack_preview),
    Route("/pack/print", pack_print, methods=["POST"]),
]
