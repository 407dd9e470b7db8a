"""The clinic printing station's web app: its state, routes and middleware.

Staff search the collection, preview a handout with the options they need and
open its PDF for printing. The design follows from where it runs, a shared
clinic computer:

- no render happens in the server process: PDFs are made by the same bounded
  worker pool as batch builds, at most one per worker at a time, and requests
  beyond a short queue are turned away (503) instead of piling up in memory;
- identical requests in flight share one render, and finished PDFs are kept in
  a size-bounded folder under ``output/``, keyed by everything that shapes them;
- every drug request re-reads its monograph, so an editor's change shows on the
  next request; a file watcher refreshes the list when files come and go;
- no file is ever found by joining a request path: drugs are looked up by slug
  in the scanned catalog, static files in a list made at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import ipaddress
import logging
import re
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from medpdf import __version__, model, options, printing, sources, templating
from medpdf.build.catalog import Entry
from medpdf.build.render import RunContext, warm_up
from medpdf.config import Resources, today
from medpdf.errors import MedpdfError, PrinterChoiceError, PrintError, SourceError
from medpdf.options import CACHE_SIZE, CLINIC, PAPER, PAPERS, PRINTER, QUEUE
from medpdf.station.listing import Listing, scan
from medpdf.station.renderer import Busy, PdfShelf, Renderer, RenderFailed
from medpdf.workers import RenderPool

LOGGER = logging.getLogger(__name__)

#: Files the web pages may load: (folder attribute of Resources, subfolder, pattern).
_STATIC = (("styles", "", "*.css"), ("styles", "serve", "*.css"), ("assets", "serve", "*.js"))

#: Media types of the static files the station serves.
_MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

#: Pages may run their own script and nothing else; the preview runs none.
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_PREVIEW_POLICY = (
    "default-src 'none'; img-src data:; style-src 'self'; font-src 'self'; "
    "frame-ancestors 'self'; base-uri 'self'; form-action 'none'"
)


@dataclass(frozen=True)
class StationSettings:
    """How the station renders and how much it may hold at once."""

    #: The run every request starts from (medpdf.toml and the flags); its
    #: station options are what a request may change.
    context: RunContext
    #: Milliseconds the file watcher waits for more changes before rescanning.
    watch_debounce_ms: int = 200
    #: Host names the station answers to ("*": any). A station on loopback
    #: answers only to loopback names, so a web page cannot reach it by DNS rebinding.
    allowed_hosts: tuple[str, ...] = ("*",)
    #: Seconds the list of CUPS printers is reused before lpstat is asked again.
    printers_ttl: float = 10.0

    @property
    def cache_dir(self) -> Path:
        """Rendered PDFs, beside the build cache but never pruned by builds."""
        return self.context.config.cache_dir / "station"


class Station:
    """The state of one running station: settings, drug list, renderer."""

    def __init__(self, settings: StationSettings) -> None:
        self.settings = settings
        self.context = settings.context
        self.config = settings.context.config
        self.resources = self.config.resources
        self.listing = scan(self.config.content_dir, self.config.cache_dir)
        self.static = _static_files(self.resources)
        self.pool = RenderPool(self.context.limits)
        shelf = PdfShelf(settings.cache_dir, int(self.config[CACHE_SIZE]) * 1024 * 1024)
        self.renderer = Renderer(self.pool, shelf, int(self.config[QUEUE]))
        self._refresh_lock = asyncio.Lock()
        self._printers: tuple[printing.Destinations | None, str | None] = (None, None)
        self._printers_asked = -float("inf")
        self._printers_lock = asyncio.Lock()

    async def printers(self) -> tuple[printing.Destinations | None, str | None]:
        """CUPS's printers (asked at most every few seconds), or why there are none."""
        async with self._printers_lock:  # many pages at once share one lookup
            now = time.monotonic()
            if now - self._printers_asked > self.settings.printers_ttl:
                try:
                    found = await asyncio.to_thread(printing.destinations)
                    self._printers = (found, None if found.printers else found.listing())
                except PrintError as exc:
                    self._printers = (None, exc.message)
                self._printers_asked = time.monotonic()
        return self._printers

    async def refresh(self) -> None:
        """Rescan the content folder (files added, removed or renamed)."""
        async with self._refresh_lock:
            self.listing = await asyncio.to_thread(
                scan, self.config.content_dir, self.config.cache_dir
            )
        LOGGER.info("drug list refreshed: %d monographs", len(self.listing.entries))

    async def watch(self, stop: asyncio.Event) -> None:
        """Refresh the drug list whenever a file under the content folder changes."""
        from watchfiles import awatch

        debounce = self.settings.watch_debounce_ms
        async for _ in awatch(
            self.config.content_dir, stop_event=stop, debounce=debounce, recursive=True
        ):
            try:
                await self.refresh()
            except (OSError, MedpdfError) as exc:  # the folder vanished: keep the last list
                LOGGER.warning("cannot rescan %s: %s", self.config.content_dir, exc)

    def entry(self, slug: str) -> Entry:
        """The drug of a URL, or a 404 page."""
        entry = self.listing.find(slug)
        if entry is None:
            shown = slug if len(slug) <= 80 else f"{slug[:80]}…"
            raise HTTPException(404, f"There is no drug called “{shown}” in this collection.")
        return entry

    def fresh_source(self, entry: Entry) -> sources.Source:
        """The monograph as it is on disk now, so an edit shows on the next request."""
        try:
            return sources.read(entry.source.path)
        except SourceError as exc:
            if not entry.source.path.exists():
                raise HTTPException(
                    404, f"“{entry.title}” was removed from the collection."
                ) from None
            raise HTTPException(422, exc.diagnostic.format()) from None

    def monograph(self, source: sources.Source) -> model.Monograph:
        """The model of a source that was valid at scan time but may not be now."""
        try:
            return _parsed(source)
        except SourceError as exc:
            raise HTTPException(422, exc.diagnostic.format()) from None

    def request_context(self, query: Any) -> RunContext:
        """The run of one request: the station options it sets, printed today.

        A bad value is the client's error (400), reported by the option's own rule.
        """
        values = options.from_query(query, self.config.settings, lambda m: HTTPException(400, m))
        config = dataclasses.replace(self.config.replace(**values), printed=today())
        return RunContext(config, self.context.presentation, self.context.limits)

    def page(self, name: str, status: int = 200, **context: object) -> HTMLResponse:
        """An HTML page of the station's own templates."""
        html = templating.render_page(
            name,
            self.resources.templates,
            clinic=self.config[CLINIC],
            booklet=self.config.booklet_path.is_file(),
            version=__version__,
            **context,
        )
        return HTMLResponse(html, status, headers={"Content-Security-Policy": _PAGE_POLICY})


@functools.lru_cache(maxsize=512)
def _parsed(source: sources.Source) -> model.Monograph:
    """Parse a monograph once per version of its text: pages re-read the file, not re-parse it."""
    return model.build(source)


def _static_files(resources: Resources) -> dict[str, Path]:
    """Every file the pages may load, by its URL path below ``/static/``."""
    found: dict[str, Path] = {}
    for attribute, subfolder, pattern in _STATIC:
        base: Path = getattr(resources, attribute)
        folder = base / subfolder if subfolder else base
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(base.parent).as_posix()] = path
    return found


# -- routes -----------------------------------------------------------------------


def _station(request: Request) -> Station:
    station: Station = request.app.state.station
    return station


async def home(request: Request) -> Response:
    """The drug list with a search box; ``?q=`` filters without JavaScript."""
    station = _station(request)
    query = str(request.query_params.get("q", ""))[:200]
    listing = station.listing
    found = listing.search(query)
    return station.page(
        "home",
        query=query,
        entries=found,
        total=len(listing.entries),
        suggestions=listing.suggestions(query) if query.strip() and not found else [],
        errors=listing.errors,
    )


async def drug_list(request: Request) -> Response:
    """Slugs and titles of every drug, for the search box's script."""
    entries = _station(request).listing.entries
    return JSONResponse([{"slug": e.slug, "title": e.title} for e in entries])


async def drug_page(request: Request) -> Response:
    """One drug: its options, a preview and the button that opens the PDF."""
    station = _station(request)
    entry = station.entry(request.path_params["slug"])
    source = station.fresh_source(entry)
    mono = station.monograph(source)
    chosen = station.request_context(request.query_params).config.settings
    printers, no_printing = await station.printers()
    return station.page(
        "drug",
        drug=mono,
        printers=printers.printers if printers else (),
        chosen_printer=station.config[PRINTER] or (printers.default if printers else None),
        no_printing=no_printing,
        sent=_sent_notice(request.query_params),
        max_copies=MAX_COPIES,
        options=chosen,
        query=options.to_query(chosen),
        defaults=station.config.settings,
        papers=tuple(PAPERS.values()),
        digest=source.digest[:12],
        source_path=source.display_path,
    )


async def drug_state(request: Request) -> Response:
    """The version of a drug's text, polled by its page to refresh the preview."""
    station = _station(request)
    entry = station.entry(request.path_params["slug"])
    source = station.fresh_source(entry)
    return JSONResponse(
        {"slug": entry.slug, "title": entry.title, "version": source.digest[:12]},
        headers={"Cache-Control": "no-store"},
    )


async def drug_preview(request: Request) -> Response:
    """The handout as HTML, styled for the screen; no WeasyPrint involved."""
    station = _station(request)
    entry = station.entry(request.path_params["slug"])
    mono = station.monograph(station.fresh_source(entry))
    config = station.request_context(request.query_params).config
    html = templating.monograph_html(mono, config, screen_base="/static/")
    return HTMLResponse(html, headers={"Content-Security-Policy": _PREVIEW_POLICY})


async def _handout_bytes(station: Station, source: sources.Source, context: RunContext) -> bytes:
    """The handout PDF, or the error page that says why there is none."""
    try:
        return await station.renderer.handout(source, context)
    except Busy:
        raise HTTPException(
            503,
            "The printing station is busy rendering other handouts. Try again in a few seconds.",
            headers={"Retry-After": "5"},
        ) from None
    except RenderFailed as exc:
        raise HTTPException(500, f"{source.display_path}: {exc}") from None


async def drug_pdf(request: Request) -> Response:
    """The handout PDF, rendered in a worker on first request and kept."""
    station = _station(request)
    entry = station.entry(request.path_params["slug"])
    source = station.fresh_source(entry)
    station.monograph(source)  # a content error is a 422 page with its line, not a 500
    context = station.request_context(request.query_params)
    data = await _handout_bytes(station, source, context)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{entry.slug}.pdf"',
            "Cache-Control": "no-cache",
        },
    )


#: Copies one click may print; more is a mistake at a clinic counter.
MAX_COPIES = 20

#: The print form is a handful of short fields; anything bigger is not from its page.
MAX_FORM_BYTES = 4096

_JOB_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,127}-[0-9]{1,9}$")


def _sent_notice(query: Any) -> str | None:
    """The "sent" line after printing (the redirect carries the job id CUPS gave)."""
    job = str(query.get("sent", ""))
    if not _JOB_ID.match(job):
        return None
    copies = str(query.get("copies", "1"))
    count = f"{copies} copies" if copies.isdigit() and copies != "1" else "1 copy"
    return f"Sent {count} to {job.rsplit('-', 1)[0]} (job {job})."


def _same_origin(request: Request) -> bool:
    """A form posted by the station's own page, not by another site in the same browser."""
    if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


async def drug_print(request: Request) -> Response:
    """Render the handout (or take it from the shelf) and queue it on a CUPS printer."""
    station = _station(request)
    if not _same_origin(request):
        raise HTTPException(403, "Printing can only be started from the station's own pages.")
    entry = station.entry(request.path_params["slug"])
    size = request.headers.get("content-length", "")
    if not size.isdigit() or int(size) > MAX_FORM_BYTES:
        raise HTTPException(413, "The print form was too large.")
    form = await request.form(max_files=0, max_fields=10)
    context = station.request_context(form)
    copies_text = str(form.get("copies", "1")).strip()
    if not copies_text.isdigit() or not 1 <= int(copies_text) <= MAX_COPIES:
        raise HTTPException(400, f"copies must be a whole number from 1 to {MAX_COPIES}")
    copies = int(copies_text)
    found, problem = await station.printers()
    if found is None:
        raise HTTPException(502, f"Direct printing is not available: {problem}")
    try:
        printer = printing.choose_printer(found, str(form.get("printer", "")) or None)
    except PrinterChoiceError as exc:
        raise HTTPException(400, str(exc)) from None
    except PrintError as exc:
        raise HTTPException(502, exc.message) from None
    source = station.fresh_source(entry)
    mono = station.monograph(source)
    data = await _handout_bytes(station, source, context)
    paper = context.config[PAPER]
    job = await asyncio.to_thread(_send, data, printer, mono.title, copies, paper)
    chosen = options.to_query(context.config.settings)
    query = f"{chosen}&sent={job.job_id}&copies={job.copies}"
    return RedirectResponse(f"/drug/{entry.slug}?{query}", status_code=303)


def _send(data: bytes, printer: str, title: str, copies: int, paper: str) -> printing.PrintJob:
    """Hand the PDF to lp from a private temporary file (lp has read it when it returns)."""
    with tempfile.TemporaryDirectory(prefix="medpdf-station-") as folder:
        path = Path(folder) / "handout.pdf"
        path.write_bytes(data)
        try:
            return printing.submit(
                path, printer, title=printing.job_title(title), copies=copies, paper=paper
            )
        except PrintError as exc:
            raise HTTPException(502, exc.message) from None


async def booklet_pdf(request: Request) -> Response:
    """The reference booklet as last built by ``medpdf booklet``."""
    target = _station(request).config.booklet_path
    if not target.is_file():
        raise HTTPException(
            404, "The booklet has not been built yet. Run “medpdf booklet” on this computer."
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
        raise HTTPException(404, "No such file.")
    return FileResponse(path, media_type=_MEDIA_TYPES.get(path.suffix, "text/plain"))


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
        },
        headers={"Cache-Control": "no-store"},
    )


async def _error_page(request: Request, exc: Exception) -> Response:
    """Every error as a page of the station's own look, with a way back."""
    assert isinstance(exc, HTTPException)
    station = _station(request)
    titles = {
        400: "Bad request",
        403: "Not allowed",
        405: "Not allowed",
        413: "Too large",
        502: "The printer could not take the job",
        404: "Not found",
        422: "This monograph has an error",
        500: "The handout could not be made",
        503: "Busy",
    }
    response = station.page(
        "error",
        status=exc.status_code,
        code=exc.status_code,
        title=titles.get(exc.status_code, "Error"),
        message=exc.detail,
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def create_app(
    settings: StationSettings, ready: Callable[[Listing], None] | None = None
) -> Starlette:
    """The station's ASGI app; the worker pool starts with it and stops with it.

    ``ready`` is called once the collection is scanned and requests are answered.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        station = Station(settings)
        app.state.station = station
        if ready is not None:
            ready(station.listing)
        stop = asyncio.Event()
        watcher = asyncio.create_task(station.watch(stop))
        for _ in range(settings.context.limits.jobs):  # start the workers now, not on first request
            station.pool.submit(warm_up, None)
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(watcher, timeout=5)
            station.pool.__exit__(RuntimeError, None, None)  # stop workers, do not wait

    routes = [
        Route("/", home),
        Route("/drugs.json", drug_list),
        Route("/drug/{slug:str}.pdf", drug_pdf),
        Route("/drug/{slug:str}.json", drug_state),
        Route("/drug/{slug:str}/preview", drug_preview),
        Route("/drug/{slug:str}/print", drug_print, methods=["POST"]),
        Route("/drug/{slug:str}", drug_page),
        Route("/booklet.pdf", booklet_pdf),
        Route("/health", health),
        Route("/static/{path:path}", static_file),
        Route("/favicon.ico", no_icon),
    ]
    handlers = {HTTPException: _error_page}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    # The full drug list is ~700 kB of HTML; the fastest gzip level makes it ~120 kB for
    # a few milliseconds (measured on the whole collection). Small pages are not worth
    # the CPU on a station that mostly serves its own computer; PDFs are compressed already.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=32 * 1024,
        compresslevel=1,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf"),
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    app.add_middleware(_SecurityHeaders)
    return app


def hosts_for(host: str) -> tuple[str, ...]:
    """The Host names a station listening on ``host`` should accept."""
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return ("127.0.0.1", "localhost", "[::1]", "::1") if loopback else ("*",)


class _SecurityHeaders:
    """Headers every response carries: no sniffing, no referrer to other sites.

    Not ``no-referrer``: with it browsers send ``Origin: null`` on form posts, and
    the print form's same-origin check would refuse the station's own page.
    """

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
