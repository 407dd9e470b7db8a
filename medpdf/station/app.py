"""The clinic printing station's ASGI app: routes, lifespan and middleware.

Staff search the collection, preview a handout with the options they need and
open its PDF for printing. The design follows from where it runs, a shared
clinic computer: PDFs are made by the same bounded worker pool as batch builds,
requests beyond a short queue are turned away (503) instead of piling up in
memory, and finished PDFs are kept in a size-bounded folder under ``output/``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from medpdf.run import warm_up
from medpdf.station import ehr, pack, routes
from medpdf.station.auth import RequireLogin
from medpdf.station.guards import Guards
from medpdf.station.language import InterfaceLanguage
from medpdf.station.listing import Listing
from medpdf.station.state import Station, StationSettings


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

    handlers = {HTTPException: routes.error_page}
    app = Starlette(
        routes=[*routes.ROUTES, *pack.ROUTES, *ehr.ROUTES],
        lifespan=lifespan,
        exception_handlers=handlers,
    )
    # The full drug list is ~700 kB of HTML; the fastest gzip level makes it ~120 kB for
    # a few milliseconds (measured on the whole collection). Small pages are not worth
    # the CPU on a station that mostly serves its own computer; PDFs are compressed already.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=32 * 1024,
        compresslevel=1,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf"),
    )
    app.add_middleware(RequireLogin)
    app.add_middleware(InterfaceLanguage)
    app.add_middleware(Guards, allowed_hosts=settings.allowed_hosts)
    return app
