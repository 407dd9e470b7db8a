"""The station's pages and endpoints, one function per route.

No render happens in the server process: PDFs come from the :class:`Renderer`
(the bounded worker pool), and identical requests in flight share one render.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from medpdf import __version__, printing
from medpdf.content import sources
from medpdf.errors import PrinterChoiceError, PrintError
from medpdf.html import templating
from medpdf.i18n import N_
from medpdf.products.pack import MAX_MEDICINES
from medpdf.run import RunContext
from medpdf.settings import options
from medpdf.settings.kinds import PAPERS
from medpdf.settings.options import PAPER, PRINTER
from medpdf.station import auth, language, printed, review
from medpdf.station.auth import same_origin, user_of
from medpdf.station.forms import print_form
from medpdf.station.jobs import Busy, RenderFailed
from medpdf.station.language import Told
from medpdf.station.printers import (
    NO_PRINTER_CHOSEN,
    NO_PRINTING,
    UNKNOWN_PRINTER,
    printer_problem,
)
from medpdf.station.sessions import User
from medpdf.station.state import MEDIA_TYPES, PREVIEW_POLICY, SentJob, Station

LOGGER = logging.getLogger(__name__)


def _station(request: Request) -> Station:
    station: Station = request.app.state.station
    return station


async def home(request: Request) -> Response:
    """The drug list with a search box; ``?q=`` filters without JavaScript."""
    station = _station(request)
    query = str(request.query_params.get("q", ""))[:200]
    listing = station.listing
    found = listing.hits(query)
    return station.page(
        "home",
        user=user_of(request),
        query=query,
        entries=found,
        total=len(listing.entries) + len(listing.broken),
        suggestions=listing.suggestions(query) if query.strip() and not found else [],
        errors=listing.errors,
    )


async def suggestions(request: Request) -> Response:
    """Close names for a search that matched nothing, for the search box's script."""
    query = str(request.query_params.get("q", ""))[:200]
    found = _station(request).listing.suggestions(query) if query.strip() else []
    return JSONResponse([{"slug": e.slug, "title": e.title} for e in found])


async def drug_list(request: Request) -> Response:
    """Slugs and titles of every drug, for the search box's script (and which are unavailable)."""
    hits = _station(request).listing.hits("")
    return JSONResponse(
        [
            {"slug": h.slug, "title": h.title, **({"unavailable": True} if h.unavailable else {})}
            for h in hits
        ]
    )


async def drug_page(request: Request) -> Response:
    """One drug: its options, a preview and the button that opens the PDF."""
    station = _station(request)
    entry = station.entry(request.path_params["slug"])
    source = station.fresh_source(entry)
    mono = station.monograph(source)
    chosen = station.request_context(request.query_params).config.settings
    printers, no_printing = await station.printers()
    user = user_of(request)
    awaiting = station.review.refused(source)
    return station.page(
        "drug",
        user=user,
        awaiting=language.error_message(station.resources.locale, awaiting) if awaiting else None,
        may_review=review.may_review(user),
        may_print=user is None or user.may_print,
        drug=mono,
        printers=printers.printers if printers else (),
        chosen_printer=station.config[PRINTER] or (printers.default if printers else None),
        no_printing=no_printing,
        sent=_sent_notice(station, entry.slug, request),
        max_copies=MAX_COPIES,
        max_medicines=MAX_MEDICINES,
        options=chosen,
        query=options.to_query(chosen),
        defaults=station.config.settings,
        papers=tuple(PAPERS.values()),
        digest=source.digest[:12],
        lang=entry.lang,
        versions=station.listing.versions(entry),
    )


async def drug_state(request: Request) -> Response:
    """The version of a drug's text, polled by its page to refresh the preview."""
    station = _station(request)
    entry = station.entry(request.path_params["slug"])
    source = station.fresh_source(entry)
    station.monograph(source)  # a broken edit is a 422 the open page warns about
    return JSONResponse(
        {"slug": entry.slug, "title": entry.title, "version": source.digest[:12]},
        headers={"Cache-Control": "no-store"},
    )


async def drug_preview(request: Request) -> Response:
    """The handout as HTML, styled for the screen; no WeasyPrint involved."""
    station = _station(request)
    entry = station.entry(request.path_params["slug"])
    source = station.fresh_source(entry)
    mono = station.monograph(source)
    if not review.may_review(user_of(request)) and (refused := station.review.refused(source)):
        raise refused
    config = station.request_context(request.query_params).config
    html = templating.monograph_html(mono, config, screen_base="/static/")
    return HTMLResponse(html, headers={"Content-Security-Policy": PREVIEW_POLICY})


def busy() -> Told:
    """The answer when the render queue is full: try again shortly (503, Retry-After)."""
    return Told(
        503,
        N_("The printing station is busy rendering other handouts. Try again in a few seconds."),
        headers={"Retry-After": "5"},
    )


async def _handout_bytes(station: Station, source: sources.Source, context: RunContext) -> bytes:
    """The handout PDF, or the error page that says why there is none.

    With ``approved_only`` an edition nobody approved is refused (409, "Awaiting review").
    """
    footer = station.review.footer(source)
    try:
        return await station.renderer.handout(source, context, footer)
    except Busy:
        raise busy() from None
    except RenderFailed as exc:
        raise Told(
            500,
            N_(
                "Making the PDF failed (%(detail)s). "
                "Try again, or ask whoever looks after the station."
            ),
            detail=f"{source.display_path}: {exc}",
        ) from None


async def drug_pdf(request: Request) -> Response:
    """The handout PDF, rendered in a worker on first request and kept."""
    if request.method == "HEAD":  # a HEAD would render and send nothing
        return Response(status_code=405, headers={"Allow": "GET"})
    station = _station(request)
    entry = station.entry(request.path_params["slug"])
    source = station.fresh_source(entry)
    mono = station.monograph(source)  # a content error is a 422 page with its line, not a 500
    context = station.request_context(request.query_params)
    data = await _handout_bytes(station, source, context)
    user = user_of(request)
    await printed.keep_opened(station, data, mono, context, user.name if user else None)
    return printed.pdf_response(data, f"{entry.slug}.pdf")


#: Copies one click may print; more is a mistake at a clinic counter.
MAX_COPIES = 20


def _sent_notice(station: Station, slug: str, request: Request) -> str | None:
    """The "sent" line after printing, from the station's own record of the job."""
    job = station.sent.find(str(request.query_params.get("sent", "")), slug, user_of(request))
    if job is None:
        return None
    locale_dir = station.resources.locale
    if job.copies == 1:
        message = N_("Sent 1 copy to %(printer)s (job %(job)s).")
    else:
        message = N_("Sent %(copies)s copies to %(printer)s (job %(job)s).")
    return language.gettext(
        locale_dir, message, copies=job.copies, printer=job.printer, job=job.job_id
    )


async def drug_print(request: Request) -> Response:
    """Render the handout (or take it from the shelf) and queue it on a CUPS printer."""
    station = _station(request)
    refused = N_("Your account may look at and download handouts, not print them.")
    user = print_allowed(request, refused)
    entry = station.entry(request.path_params["slug"])
    form = await print_form(request, max_fields=10)
    if form is None:  # the browser went away mid-form: nothing to print, nobody to tell
        LOGGER.info("print request for %s dropped before its form arrived", entry.slug)
        return Response(status_code=400)
    context = station.request_context(form)
    copies, printer = await print_target(station, form, user)
    source = station.fresh_source(entry)
    mono = station.monograph(source)
    data = await _handout_bytes(station, source, context)
    paper = context.config[PAPER]
    job = await printed.keep_printed(
        station,
        data,
        mono,
        context,
        lambda: send(data, printer, mono.title, copies, paper),
        printer,
        copies,
        user.name if user else None,
    )
    LOGGER.info(
        "printed %s: %d copies on %s as job %s by %s",
        entry.slug,
        job.copies,
        printer,
        job.job_id,
        user.name if user else "(no accounts)",
    )
    token = station.sent.add(
        SentJob(entry.slug, printer, job.job_id, job.copies, user.name if user else None)
    )
    chosen = options.to_query(context.config.settings)
    return RedirectResponse(f"/drug/{entry.slug}?{chosen}&sent={token}", status_code=303)


def print_allowed(request: Request, refused: str) -> User | None:
    """The user who may print from this request; ``refused`` (an ``N_`` message) otherwise."""
    if not same_origin(request):
        raise Told(403, N_("Printing can only be started from the station's own pages."))
    user = user_of(request)
    if user is not None and not user.may_print:
        raise Told(403, refused)
    return user


async def print_target(station: Station, form: FormData, user: User | None) -> tuple[int, str]:
    """Copies and printer of a print form, after the user's print rate limit."""
    copies_text = str(form.get("copies", "1")).strip()
    if not copies_text.isdigit() or not 1 <= int(copies_text) <= MAX_COPIES:
        raise Told(400, N_("copies must be a whole number from 1 to %(most)s"), most=MAX_COPIES)
    wait = station.prints.take(user.name if user else "")
    if wait:
        raise Told(
            429,
            N_("At most %(most)s print jobs a minute per account. Try again in %(wait)s seconds."),
            headers={"Retry-After": str(max(1, round(wait)))},
            most=station.prints.per_minute,
            wait=f"{wait:.0f}",
        )
    found, _ = await station.printers()
    if found is None:
        raise Told(502, NO_PRINTING)
    wanted = str(form.get("printer", ""))[:200]
    try:
        printer = printing.choose_printer(found, wanted or None)
    except PrintError as exc:
        raise printer_problem(exc, wanted) from None
    except PrinterChoiceError as exc:
        LOGGER.warning("print refused: %s", exc.message)
        if wanted:
            raise Told(400, UNKNOWN_PRINTER, printer=wanted) from None
        raise Told(400, NO_PRINTER_CHOSEN) from None
    return int(copies_text), printer


def send(data: bytes, printer: str, title: str, copies: int, paper: str) -> printing.PrintJob:
    """Hand the PDF to lp from a private temporary file (lp has read it when it returns)."""
    with tempfile.TemporaryDirectory(prefix="medpdf-station-") as folder:
        path = Path(folder) / "handout.pdf"
        path.write_bytes(data)
        return printing.submit(
            path, printer, title=printing.job_title(title), copies=copies, paper=paper
        )


async def booklet_pdf(request: Request) -> Response:
    """The reference booklet as last built by ``medpdf booklet``."""
    target = _station(request).config.booklet_path
    if not target.is_file():
        raise Told(
            404, N_("The booklet has not been built yet. Run “medpdf booklet” on this computer.")
        )
    return FileResponse(
        target,
        media_type="application/pdf",
        content_disposition_type="inline",
        filename="booklet.pdf",
    )


async def static_file(request: Request) -> Response:
    """A stylesheet or script from the list made at start-up."""
    path = _station(request).static.get(request.path_params["path"])
    if path is None:
        raise Told(404, N_("No such file."))
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "text/plain"))


async def no_icon(request: Request) -> Response:
    """Browsers ask for an icon on every visit; there is none, and that is not an error."""
    return Response(status_code=204)


async def health(request: Request) -> Response:
    """For monitoring: what the station holds and is doing now."""
    station = _station(request)
    renderer = station.renderer
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "monographs": len(station.listing.entries),
            "monographs_with_errors": station.listing.errors,
            "renders_running": renderer.running,
            "renders_waiting": renderer.waiting,
            "renders_done": renderer.rendered,
            "workers": station.context.limits.jobs,
            "cached_pdfs": renderer.shelf.count,
            "booklet": station.config.booklet_path.is_file(),
            "printing": station.printing_problem or "ok",
        },
        headers={"Cache-Control": "no-store"},
    )


async def error_page(request: Request, exc: Exception) -> Response:
    """Every error as a page of the station's own look, with a way back."""
    assert isinstance(exc, HTTPException)
    station = _station(request)
    editor_note = getattr(exc, "problem", None)
    message = language.error_message(station.resources.locale, exc)
    if request.url.path.endswith(".json"):  # for the pages' script, which shows it to staff
        return JSONResponse(
            {"error": message, "editor_note": editor_note},
            exc.status_code,
            headers=dict(exc.headers or {}),
        )
    # The title of each status is in the template, in the interface language.
    response = station.page(
        "error",
        status=exc.status_code,
        user=user_of(request),
        code=exc.status_code,
        message=message,
        editor_note=editor_note,
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


#: Every path the station answers; nothing else is served.
ROUTES = [
    Route("/", home),
    Route("/drugs.json", drug_list),
    Route("/suggestions.json", suggestions),
    Route("/drug/{slug:str}.pdf", drug_pdf),
    Route("/drug/{slug:str}.json", drug_state),
    Route("/drug/{slug:str}/preview", drug_preview),
    Route("/drug/{slug:str}/print", drug_print, methods=["POST"]),
    Route("/drug/{slug:str}", drug_page),
    Route("/booklet.pdf", booklet_pdf),
    Route("/printed", printed.printed_page),
    Route("/printed/{number:int}.pdf", printed.printed_pdf),
    Route("/review", review.review_list),
    Route("/review/{slug:str}", review.review_drug),
    Route("/review/{slug:str}/approve", review.approve, methods=["POST"]),
    Route("/health", health),
    Route("/static/{path:path}", static_file),
    Route("/favicon.ico", no_icon),
    Route("/login", auth.login_page, methods=["GET", "POST"]),
    Route("/logout", auth.logout, methods=["POST"]),
]
