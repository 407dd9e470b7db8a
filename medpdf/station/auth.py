"""Logging in to the station: the gate every request passes, the login page, logout.

Without accounts (a station on loopback with no users file) everyone at this
computer is let in, as before, and ``request.state.user`` is None. With
accounts every path except the public ones (:data:`PUBLIC_PATHS`: the login
page, ``/health``, the stylesheets and scripts) needs a session: pages redirect
to the login page, everything else answers 401. Routes read the user from
``request.state.user`` (a :class:`~medpdf.station.sessions.User`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from medpdf import accounts
from medpdf.i18n import N_
from medpdf.station import language
from medpdf.station.language import Told
from medpdf.station.sessions import User
from medpdf.station.throttle import Keys, whole_seconds

if TYPE_CHECKING:
    from medpdf.station.state import Station

LOGGER = logging.getLogger(__name__)

#: Paths answered without a session: nothing private is in them.
PUBLIC_PATHS = frozenset({"/login", "/health", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/",)

#: The one answer to a wrong password and an unknown name alike.
LOGIN_FAILED = N_(
    "Wrong name or password. After several wrong tries, wait a while before trying again."
)
#: The answer to an attempt refused without checking its password (429).
TOO_MANY = N_("Too many attempts — try again in %(seconds)s seconds.")
#: The answer when more logins wait for a password check than the station takes on (503).
BUSY = N_("Too many logins at once — try again in a few seconds.")

#: The answer to a request for something private without a session (not a page).
LOG_IN_FIRST = N_("Log in first.")

#: The login form is two short fields and a path.
MAX_LOGIN_BYTES = 4096


def user_of(request: Request) -> User | None:
    """The logged-in user (None: the station has no accounts)."""
    user: User | None = request.state.user if hasattr(request.state, "user") else None
    return user


def is_public(path: str) -> bool:
    """True for the paths anyone may load (login page, health, static files)."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def same_origin(request: Request) -> bool:
    """A form posted by the station's own page, not by another site in the same browser."""
    if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


def safe_next(target: str) -> str:
    """Where to go after logging in: a path of this station, never another site."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or "\n" in target:
        return "/"
    return target[:2000]


class RequireLogin:
    """Let a request through only with a live session (when the station has accounts)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        station: Station = scope["app"].state.station
        state = scope.setdefault("state", {})
        if station.accounts is None:
            state["user"] = None
            await self.app(scope, receive, send)
            return
        cookie = HTTPConnection(scope).cookies.get(station.access.cookie_name)
        user = station.sessions.find(cookie, station.accounts)
        state["user"] = user
        path: str = scope["path"]
        if user is None and not is_public(path):
            await _unauthenticated(scope)(scope, receive, send)
            return

        async def send_private(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and not path.startswith(PUBLIC_PREFIXES):
                # Nothing a logged-in user saw stays in the browser's cache: after
                # logout, the back button shows nothing private.
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                message["headers"] = [*headers, (b"cache-control", b"no-store")]
            await send(message)

        await self.app(scope, receive, send_private)


def _unauthenticated(scope: dict[str, Any]) -> Response:
    path: str = scope["path"]
    if path.endswith(".json"):
        said = language.gettext(_locale(scope), LOG_IN_FIRST)
        return JSONResponse({"error": said}, status_code=401)
    if scope["method"] in ("GET", "HEAD") and not path.endswith(".pdf"):
        query = scope.get("query_string", b"").decode("latin-1")
        target = path + (f"?{query}" if query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return PlainTextResponse(language.gettext(_locale(scope), LOG_IN_FIRST), status_code=401)


def _locale(scope: dict[str, Any]) -> Path:
    station: Station = scope["app"].state.station
    return station.resources.locale


async def login_page(request: Request) -> Response:
    """The login form (GET), or a login attempt (POST)."""
    station: Station = request.app.state.station
    target = safe_next(str(request.query_params.get("next", "/")))
    if station.accounts is None:
        return RedirectResponse("/", status_code=303)
    if request.method == "GET":
        if user_of(request) is not None:
            return RedirectResponse(target, status_code=303)
        return station.page("login", next=target, message=None, account="")
    return await _attempt(request, station)


async def _attempt(request: Request, station: Station) -> Response:
    if not same_origin(request):
        raise Told(403, N_("Log in from the station's own login page."))
    size = request.headers.get("content-length", "")
    if not size.isdigit() or int(size) > MAX_LOGIN_BYTES:
        raise Told(413, N_("The login form was too large."))
    try:
        form = await request.form(max_files=0, max_fields=5)
    except ClientDisconnect:
        return Response(status_code=400)
    name = str(form.get("name", "")).strip()[:64]
    password = str(form.get("password", ""))[:1024]
    target = safe_next(str(form.get("next", "/")))
    address = request.client.host if request.client else "unknown"
    keys = Keys.of(name, address)
    throttle = station.logins
    assert station.accounts is not None
    account = station.accounts.get(name)

    def answer(status: int, message: str, **values: object) -> Response:
        shown = language.gettext(station.resources.locale, message, **values)
        return station.page("login", status=status, next=target, message=shown, account=name)

    if station.password_checks.full():
        LOGGER.warning("login for %r from %s refused unchecked: too many at once", name, address)
        response = answer(503, BUSY)
        response.headers["Retry-After"] = "5"
        return response
    # Counted before the check, with no await in between: attempts sent together are
    # counted in turn, and those past the limit never cost a hash.
    wait = throttle.begin(keys)
    if wait > 0:
        seconds = whole_seconds(wait)
        LOGGER.warning(
            "login for %r from %s refused unchecked: %d s to wait after failed logins",
            name,
            address,
            seconds,
        )
        response = answer(429, TOO_MANY, seconds=seconds)
        response.headers["Retry-After"] = str(seconds)
        return response
    async with station.password_checks.turn():
        right = await asyncio.to_thread(accounts.verify, account, password)
    if not right or account is None:
        LOGGER.warning(
            "failed login for %r from %s (%d in a row for the name here, %d from the address)",
            name,
            address,
            throttle.failures(keys.pair),
            throttle.failures(keys.address),
        )
        for key in throttle.locked(keys):
            LOGGER.warning("too many failed logins: %s locked for 15 minutes", key)
        return answer(401, LOGIN_FAILED)
    throttle.succeeded(keys)
    access = station.access
    station.sessions.end(request.cookies.get(access.cookie_name))  # never reuse an id
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        access.cookie_name,
        station.sessions.start(account),
        max_age=int(access.max_seconds),
        path="/",
        secure=access.tls,
        httponly=True,
        samesite="strict",
    )
    LOGGER.info("login: %s (%s) from %s", account.name, account.role, address)
    return response


async def logout(request: Request) -> Response:
    """End the session; the cookie is cleared and its id forgotten."""
    station: Station = request.app.state.station
    if not same_origin(request):
        raise Told(403, N_("Log out from the station's own pages."))
    access = station.access
    station.sessions.end(request.cookies.get(access.cookie_name))
    response = RedirectResponse("/login", status_code=303)
    # "My medicines" (browser storage) must not outlive the session: pack.js forgets it
    # on the way out, and this tells the browser to, should the script not have run.
    response.headers["Clear-Site-Data"] = '"storage"'
    response.delete_cookie(
        access.cookie_name, path="/", secure=access.tls, httponly=True, samesite="strict"
    )
    user = user_of(request)
    if user is not None:
        LOGGER.info("logout: %s", user.name)
    return response
