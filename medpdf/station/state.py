"""The station's state: its settings, the scanned collection, printers and renderer.

One :class:`Station` lives for the app's lifetime; routes reach it through
``request.app.state``. Every drug request re-reads its monograph, so an editor's
change shows on the next request; a file watcher refreshes the list when files
come and go. No file is ever found by joining a request path: drugs are looked
up by slug in the scanned collection, static files in a list made at start-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import (
    HTMLResponse,
)

from medpdf import __version__, i18n, printing, record
from medpdf.accounts import Accounts
from medpdf.content import model, sources
from medpdf.content.collection import Entry, Rules
from medpdf.errors import MedpdfError, PrintError, SourceError
from medpdf.html import templating
from medpdf.run import RenderPool, RunContext
from medpdf.settings import options
from medpdf.settings.config import Resources, today
from medpdf.settings.options import CACHE_SIZE, CLINIC, QUEUE
from medpdf.station import language
from medpdf.station.jobs import PdfShelf, Renderer
from medpdf.station.listing import scan
from medpdf.station.review import desk_of
from medpdf.station.sessions import Access, Sessions, User
from medpdf.station.throttle import LoginThrottle, PasswordChecks, RateLimit

LOGGER = logging.getLogger(__name__)

#: Files the web pages may load: (folder attribute of Resources, subfolder, pattern).
_STATIC = (("styles", "", "*.css"), ("styles", "serve", "*.css"), ("assets", "serve", "*.js"))

#: Media types of the static files the station serves.
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

#: Pages may run their own script and nothing else; the preview runs none.
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PREVIEW_POLICY = (
    "default-src 'none'; img-src data:; style-src 'self'; font-src 'self'; "
    "frame-ancestors 'self'; base-uri 'self'; form-action 'none'"
)


class Unavailable(language.Told):
    """A monograph an editor broke: staff read that it is temporarily unavailable.

    The ``path:line: error:`` line is kept for editors (the log and a fold-out).
    """

    def __init__(self, problem: str) -> None:
        super().__init__(
            422,
            i18n.N_(
                "This drug is temporarily unavailable: its monograph has an error that an "
                "editor needs to fix. Try again later, or ask an editor."
            ),
        )
        self.problem = problem
        LOGGER.info("monograph unavailable: %s", problem)


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
    #: Accounts, sessions and limits (the default: no accounts, for loopback).
    access: Access = dataclasses.field(default_factory=Access)

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
        self.rules = Rules.of(self.config)
        self.listing = scan(self.config.content_dir, self.config.cache_dir, self.rules)
        self.static = _static_files(self.resources)
        self.pool = RenderPool(self.context.limits)
        shelf = PdfShelf(settings.cache_dir, int(self.config[CACHE_SIZE]) * 1024 * 1024)
        self.renderer = Renderer(self.pool, shelf, int(self.config[QUEUE]))
        # Checked, swept and pruned once at start; a damaged one stops the station.
        self.record = record.open_for(self.config)
        self._refresh_lock = asyncio.Lock()
        self._printers: tuple[printing.Destinations | None, str | None] = (None, None)
        self._printers_asked = -float("inf")
        self._printers_lock = asyncio.Lock()
        #: Why direct printing is unavailable (for the log and /health), or None.
        self.printing_problem: str | None = None
        self.access = settings.access
        self.accounts = Accounts(self.access.users_file) if self.access.users_file else None
        self.sessions = Sessions(self.access)
        self.logins = LoginThrottle()
        self.password_checks = PasswordChecks()
        self.prints = RateLimit(self.access.prints_per_minute)
        self.sent = SentJobs()
        #: Approvals: the approvals file, approved_only, the Approve rate (station/review.py).
        self.review = desk_of(self.config)

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
                if self._printers[1] and self._printers[1] != self.printing_problem:
                    LOGGER.warning("direct printing unavailable: %s", self._printers[1])
                self.printing_problem = self._printers[1]
                self._printers_asked = time.monotonic()
        return self._printers

    async def refresh(self) -> None:
        """Rescan the content folder (files added, removed or renamed)."""
        async with self._refresh_lock:
            self.listing = await asyncio.to_thread(
                scan, self.config.content_dir, self.config.cache_dir, self.rules
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
            problem = self.listing.broken.get(slug)
            if problem is not None:
                raise Unavailable(problem)
            raise language.Told(
                404,
                i18n.N_("There is no drug called “%(name)s” in this collection."),
                name=shown,
            )
        return entry

    def fresh_source(self, entry: Entry) -> sources.Source:
        """The monograph as it is on disk now, so an edit shows on the next request."""
        try:
            return sources.read(entry.source.path)
        except SourceError as exc:
            if not entry.source.path.exists():
                raise language.Told(
                    404,
                    i18n.N_("“%(title)s” was removed from the collection."),
                    title=entry.title,
                ) from None
            raise Unavailable(exc.diagnostic.format()) from None

    def monograph(self, source: sources.Source) -> model.Monograph:
        """The model of a source that was valid at scan time but may not be now."""
        try:
            return parsed(source)
        except SourceError as exc:
            raise Unavailable(exc.diagnostic.format()) from None

    def request_context(self, query: Any) -> RunContext:
        """The run of one request: the station options it sets, printed today.

        A bad value is the client's error (400), reported by the option's own rule.
        """
        values = options.from_query(query, self.config.settings, _bad_option)
        return self.context.with_options(printed=today(), **values)

    def page(
        self, name: str, status: int = 200, user: User | None = None, **context: object
    ) -> HTMLResponse:
        """An HTML page of the station's own templates (``user``: who is logged in)."""
        interface = language.current()
        html = templating.render_page(
            name,
            self.resources.templates,
            interface.catalog,
            ui=interface,
            clinic=self.config[CLINIC],
            booklet=self.config.booklet_path.is_file(),
            version=__version__,
            user=user,
            accounts=self.accounts is not None,
            cleartext=self.access.cleartext,
            pack_minutes=int(self.access.idle_seconds // 60),
            **context,
        )
        return HTMLResponse(html, status, headers={"Content-Security-Policy": _PAGE_POLICY})


@dataclass(frozen=True)
class SentJob:
    """A job the station handed to CUPS: what the "Sent" line after printing says."""

    slug: str
    printer: str
    job_id: str
    copies: int
    #: The account that printed (None: a station without accounts).
    user: str | None


class SentJobs:
    """The station's own record of recent jobs, by a random token.

    The page after printing shows a job only when the token names one the
    station sent for that drug and that user, so a crafted URL cannot show a
    "Sent" line for a job that never was.
    """

    def __init__(self, keep: int = 256) -> None:
        self.keep = keep
        self._jobs: OrderedDict[str, SentJob] = OrderedDict()

    def add(self, job: SentJob) -> str:
        """Remember a job; the token the page after printing asks about."""
        token = secrets.token_urlsafe(16)
        self._jobs[token] = job
        while len(self._jobs) > self.keep:
            self._jobs.popitem(last=False)
        return token

    def find(self, token: str, slug: str, user: User | None) -> SentJob | None:
        """The job of ``token`` if it was this drug's and this user's."""
        job = self._jobs.get(token)
        name = user.name if user else None
        if job is None or job.slug != slug or job.user != name:
            return None
        return job


def _bad_option(detail: str) -> language.Told:
    """A handout option only a hand-made link gets wrong: translated, with the rule's detail."""
    return language.Told(
        400,
        i18n.N_(
            "A handout option has a value this station does not take (%(detail)s): "
            "use the options on the drug's page."
        ),
        detail=detail,
    )


@functools.lru_cache(maxsize=512)
def parsed(source: sources.Source) -> model.Monograph:
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
