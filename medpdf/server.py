"""The clinic printing station: a small local web app over the build stages.

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
import datetime as dt
import functools
import ipaddress
import logging
import os
import re
import socket
import sqlite3
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
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

from medpdf import __version__, build, model, printing, sources, templating
from medpdf.build import Entry, HandoutJob, handout_key, handout_task, render_fingerprint
from medpdf.cache import Cache
from medpdf.config import PAPER_SIZES, Config, Resources, check_paper
from medpdf.errors import MedpdfError, PrinterChoiceError, PrintError, SourceError, UsageError
from medpdf.workers import Failure, Limits, RenderPool

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

_TRUE = frozenset({"1", "true", "on", "yes"})
_FALSE = frozenset({"", "0", "false", "off", "no"})


@dataclass(frozen=True)
class StationSettings:
    """How the station renders and how much it may hold at once."""

    config: Config
    limits: Limits
    #: Renders that may wait for a free worker; more are answered 503.
    queue: int = 64
    #: Size of the folder of rendered PDFs; the least recently used go first.
    cache_mib: int = 512
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
        return self.config.output_dir / ".cache" / "station"


@dataclass(frozen=True)
class HandoutOptions:
    """The handout options a request may set; the rest come from medpdf.toml."""

    paper: str
    large_print: bool
    patient_fields: bool

    @classmethod
    def parse(cls, query: Any, defaults: Config) -> HandoutOptions:
        """Options from a query string; a bad value is the client's error (400)."""
        paper = check_paper(
            str(query.get("paper", defaults.paper)), lambda m: HTTPException(400, f"paper {m}")
        )
        return cls(
            paper=paper,
            large_print=_flag(query, "large_print", defaults.large_print),
            patient_fields=_flag(query, "patient_fields", defaults.patient_fields),
        )

    def query(self, defaults: Config) -> str:
        """The query string that asks for these options again (off is said only when needed)."""
        parts = [f"paper={self.paper}"]
        for name, value, default in (
            ("large_print", self.large_print, defaults.large_print),
            ("patient_fields", self.patient_fields, defaults.patient_fields),
        ):
            if value or default:
                parts.append(f"{name}={int(value)}")
        return "&".join(parts)

    def apply(self, config: Config, today: dt.date) -> Config:
        """The run config of one request: these options, printed today."""
        return dataclasses.replace(
            config,
            paper=self.paper,
            large_print=self.large_print,
            patient_fields=self.patient_fields,
            printed=today,
        )


def _flag(query: Any, name: str, default: bool) -> bool:
    if name not in query:
        return default
    value = str(query[name]).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise HTTPException(400, f"{name} must be 1 or 0")


def fold(text: str) -> str:
    """Case- and accent-free text, so "cafe" finds "Café" and "beta" finds "Beta"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Listing:
    """The drugs the station offers, as scanned from the content folder."""

    entries: tuple[Entry, ...]
    folded: tuple[str, ...]
    by_slug: dict[str, Entry]
    errors: int

    @classmethod
    def of(cls, entries: Iterable[Entry], errors: int) -> Listing:
        """A listing in A-Z order of titles, indexed by slug, with titles folded for search."""
        keyed = sorted((fold(e.title), e.slug, e) for e in entries)
        ordered = tuple(entry for _, _, entry in keyed)
        folded = tuple(title for title, _, _ in keyed)
        return cls(ordered, folded, {e.slug: e for e in ordered}, errors)

    def find(self, slug: str) -> Entry | None:
        """The entry with this slug (an exact lookup: no path is built from it)."""
        return self.by_slug.get(slug)

    def search(self, query: str) -> list[Entry]:
        """Entries whose title or slug contains every word of ``query``.

        Titles that start with the query come first, then those with a word that
        does, then the rest, each in A-Z order.
        """
        words = fold(query).split()
        if not words:
            return list(self.entries)
        ranked: list[tuple[int, str, Entry]] = []
        for title, entry in zip(self.folded, self.entries, strict=True):
            haystack = f"{title} {entry.slug}"
            if not all(word in haystack for word in words):
                continue
            if title.startswith(words[0]):
                rank = 0
            elif f" {words[0]}" in f" {title}" or f"-{words[0]}" in title:
                rank = 1
            else:
                rank = 2
            ranked.append((rank, title, entry))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [entry for _, _, entry in ranked]

    def suggestions(self, query: str) -> list[Entry]:
        """Close names for a query that matched nothing (typos)."""
        return [self.by_slug[slug] for slug in build.suggestions(query, self.entries)]


def scan(content_dir: Path, cache_folder: Path) -> Listing:
    """Scan the content folder, reusing the build cache's parse summaries.

    A build may hold the cache for a while; the station then parses everything
    itself rather than wait or fail.
    """
    try:
        with Cache(cache_folder) as store:
            catalog = build.scan_catalog(content_dir, store)
    except sqlite3.OperationalError as exc:
        LOGGER.info("build cache busy (%s); scanning without it", exc)
        catalog = build.scan_catalog(content_dir, None)
    return Listing.of(catalog.entries, len(catalog.errors))


class PdfShelf:
    """Rendered PDFs on disk, named by their cache key, bounded in total size.

    A file is only ever complete (workers write to a temporary name and
    rename), so presence means valid. Reading touches the file, which makes
    the modification time a least-recently-used order for eviction.
    """

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        build.sweep_stale_temps(folder)
        self._size = sum(p.stat().st_size for p in folder.glob("*.pdf"))

    def path(self, key: str) -> Path:
        """Where the PDF of ``key`` is (or will be) kept."""
        return self.folder / f"{key}.pdf"

    def read(self, key: str) -> bytes | None:
        """The PDF of ``key`` if it is kept, marking it recently used."""
        path = self.path(key)
        try:
            data = path.read_bytes()
            os.utime(path)
        except OSError:
            return None
        return data

    def added(self, key: str) -> None:
        """Account for a new PDF and evict the oldest others while over the limit."""
        with contextlib.suppress(OSError):
            self._size += self.path(key).stat().st_size
        if self._size <= self.max_bytes:
            return
        kept = sorted(self.folder.glob("*.pdf"), key=_mtime)
        self._size = sum(p.stat().st_size for p in kept)
        for old in kept:
            if self._size <= self.max_bytes:
                break
            if old.stem == key:
                continue
            with contextlib.suppress(OSError):
                size = old.stat().st_size
                old.unlink()
                self._size -= size

    @property
    def count(self) -> int:
        """PDFs kept now."""
        return sum(1 for _ in self.folder.glob("*.pdf"))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class Busy(Exception):
    """Too many renders are waiting: the client should try again shortly."""


class RenderFailed(Exception):
    """A render failed in its worker; the message is one line for the page."""


class Renderer:
    """Handout PDFs on demand: cached, shared between identical requests, bounded.

    At most ``limits.jobs`` renders run at once (one per worker) and at most
    ``queue`` more wait; beyond that :class:`Busy` is raised at once, so a
    burst of requests costs a 503, not memory.
    """

    def __init__(self, pool: RenderPool, shelf: PdfShelf, queue: int) -> None:
        self.pool = pool
        self.shelf = shelf
        self.queue = queue
        self.running = 0
        self.rendered = 0
        self._slots = asyncio.Semaphore(pool.limits.jobs)
        self._in_flight: dict[str, asyncio.Task[None]] = {}

    async def handout(self, source: sources.Source, config: Config) -> bytes:
        """The PDF of ``source`` rendered with ``config``, from the shelf when it is there."""
        key = handout_key(source, render_fingerprint(config))
        data = self.shelf.read(key)
        if data is not None:
            return data
        task = self._in_flight.get(key)
        if task is None:
            if len(self._in_flight) >= self.pool.limits.jobs + self.queue:
                raise Busy
            task = asyncio.create_task(self._render(key, source, config))
            self._in_flight[key] = task
            task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        # A client that goes away does not cancel the render: the next one gets it.
        await asyncio.shield(task)
        data = self.shelf.read(key)
        if data is None:  # evicted at once by a tiny cache limit: render was still right
            raise RenderFailed("the rendered PDF could not be kept; raise --cache-size")
        return data

    @property
    def waiting(self) -> int:
        """Renders asked for that wait for a free worker."""
        return len(self._in_flight) - self.running

    async def _render(self, key: str, source: sources.Source, config: Config) -> None:
        await self._slots.acquire()
        self.running += 1
        try:
            job = HandoutJob(source, config, self.shelf.path(key), key)
            future = self.pool.submit(handout_task, job)
            try:
                result = await asyncio.wrap_future(future)
            except Exception as exc:  # the worker died, timed out or raised
                raise RenderFailed(self.pool.failure(exc).message) from None
            if isinstance(result, Failure):
                raise RenderFailed(result.message)
            self.rendered += 1
            self.shelf.added(key)
        finally:
            self.running -= 1
            self._slots.release()


def warm_up(_: object) -> None:
    """Worker side: import the PDF stage so the first request does not pay for it."""
    from medpdf import pdf  # noqa: F401


class Station:
    """The state of one running station: settings, drug list, renderer."""

    def __init__(self, settings: StationSettings) -> None:
        self.settings = settings
        self.config = settings.config
        self.resources = settings.config.resources
        self.listing = scan(self.config.content_dir, self.config.output_dir / ".cache")
        self.static = _static_files(self.resources)
        self.pool = RenderPool(settings.limits)
        shelf = PdfShelf(settings.cache_dir, settings.cache_mib * 1024 * 1024)
        self.renderer = Renderer(self.pool, shelf, settings.queue)
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
                    self._printers = (None, exc.reason.removeprefix("cannot print: "))
                self._printers_asked = time.monotonic()
        return self._printers

    async def refresh(self) -> None:
        """Rescan the content folder (files added, removed or renamed)."""
        async with self._refresh_lock:
            self.listing = await asyncio.to_thread(
                scan, self.config.content_dir, self.config.output_dir / ".cache"
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

    def page(self, name: str, status: int = 200, **context: object) -> HTMLResponse:
        """An HTML page of the station's own templates."""
        html = templating.render_page(
            name,
            self.resources.templates,
            clinic=self.config.clinic,
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
    options = HandoutOptions.parse(request.query_params, station.config)
    printers, no_printing = await station.printers()
    return station.page(
        "drug",
        drug=mono,
        printers=printers.printers if printers else (),
        chosen_printer=station.config.printer or (printers.default if printers else None),
        no_printing=no_printing,
        sent=_sent_notice(request.query_params),
        max_copies=MAX_COPIES,
        options=options,
        query=options.query(station.config),
        defaults=station.config,
        papers=PAPER_SIZES,
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
    options = HandoutOptions.parse(request.query_params, station.config)
    config = options.apply(station.config, dt.date.today())
    view = templating.monograph_view(mono, config.online_url(mono.slug))
    page = dataclasses.replace(templating.page_options(config), screen_base="/static/")
    html = templating.render_handout(view, page, station.resources.templates)
    return HTMLResponse(html, headers={"Content-Security-Policy": _PREVIEW_POLICY})


async def _handout_bytes(station: Station, source: sources.Source, config: Config) -> bytes:
    """The handout PDF, or the error page that says why there is none."""
    try:
        return await station.renderer.handout(source, config)
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
    options = HandoutOptions.parse(request.query_params, station.config)
    data = await _handout_bytes(station, source, options.apply(station.config, dt.date.today()))
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
    options = HandoutOptions.parse(form, station.config)
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
        raise HTTPException(502, exc.reason) from None
    source = station.fresh_source(entry)
    mono = station.monograph(source)
    config = options.apply(station.config, dt.date.today())
    data = await _handout_bytes(station, source, config)
    job = await asyncio.to_thread(_send, data, printer, mono.title, copies, options.paper)
    query = f"{options.query(station.config)}&sent={job.job_id}&copies={job.copies}"
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
            raise HTTPException(502, exc.reason) from None


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
            "workers": station.settings.limits.jobs,
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
        for _ in range(settings.limits.jobs):  # start the workers now, not on first request
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


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket first, so ``--port 0`` can report the port it got."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP given explicitly: asyncio sets TCP_NODELAY on accepted connections
    # only when the listening socket says it is TCP; without it every keep-alive
    # response waits ~40 ms for the client's delayed acknowledgement.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The address a browser should open."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def run(
    settings: StationSettings,
    sock: socket.socket,
    access_log: bool,
    ready: Callable[[Listing], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM); workers stop with the server."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, ready),
            log_level="info" if access_log else "warning",
            access_log=access_log,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
    )
    # uvicorn shuts down gracefully (workers included), then re-raises the
    # signal it caught; Ctrl+C is how staff stop the station, not an error.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
