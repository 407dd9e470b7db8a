"""The language of the station's own pages (not of the handouts it prints).

Staff choose it from the menu in the page header (``?ui=es``); the choice is
kept in a cookie for that browser. Until they choose, the browser's
``Accept-Language`` is matched against the shipped catalogs with Babel. The
handout's language is a separate choice: which translation of a drug is opened.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import URL, Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medpdf import i18n

#: The query parameter of the language menu, and the cookie that remembers it.
PARAM = "ui"
COOKIE = "medpdf_ui"
#: A year: the station's computer keeps its language until someone changes it.
COOKIE_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Choice:
    """One entry of the language menu: a catalog, its name in itself, its link."""

    catalog: str
    tag: str
    name: str
    href: str


@dataclass(frozen=True)
class Interface:
    """The language one request's pages are shown in, and the menu to change it."""

    catalog: str
    menu: tuple[Choice, ...]

    @property
    def tag(self) -> str:
        """The BCP 47 tag of the catalog, for ``<html lang>`` (``zh-Hans``)."""
        return tag_of(self.catalog)

    @property
    def direction(self) -> str:
        """``rtl`` for Arabic, else ``ltr``."""
        return i18n.direction(self.tag)


def tag_of(catalog: str) -> str:
    """A catalog's BCP 47 tag."""
    return catalog.replace("_", "-")


def shipped(value: str) -> str | None:
    """The shipped catalog a menu or cookie value names exactly, else None."""
    return value if value in i18n.SHIPPED else None


def preferred(header: str) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (``q=0``: not wanted)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(header: str) -> str:
    """The shipped catalog the browser wants most; English when it wants none of them.

    Babel parses each tag; a language without a catalog (German) is skipped so
    that a later choice (``de, es;q=0.8``) still counts.
    """
    for tag in preferred(header):
        locale = i18n.babel_locale(tag)
        if locale is None:
            continue
        catalog = i18n.catalog_for(tag)
        if catalog != i18n.FALLBACK or locale.language == "en":
            return catalog
    return i18n.FALLBACK


def choose(query: QueryParams, cookie: str | None, accept: str) -> tuple[str, bool]:
    """The request's catalog, and whether it was chosen now (so the cookie is set)."""
    asked = shipped(query.get(PARAM, ""))
    if asked is not None:
        return asked, True
    kept = shipped(cookie or "")
    if kept is not None:
        return kept, False
    return negotiate(accept), False


def menu() -> tuple[Choice, ...]:
    """The language menu: this page again in each shipped language.

    Each link is only ``?ui=xx`` (the same path, resolved by the browser): nothing of
    the request (a crafted path or query) is echoed into the page.
    """
    return tuple(
        Choice(catalog, tag_of(catalog), i18n.language_name(tag_of(catalog)), f"?{PARAM}={catalog}")
        for catalog in i18n.SHIPPED
    )


class Told(HTTPException):
    """An error whose message staff read in the interface language.

    ``message`` is a catalog message (marked with :func:`N_`) with ``%(name)s``
    holes; ``detail`` keeps the English for logs and the JSON endpoints' callers.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        **values: object,
    ) -> None:
        super().__init__(status_code, message % values if values else message, headers)
        self.message = message
        self.values = values


def gettext(locale_dir: Path, message: str, **values: object) -> str:
    """``message`` in the current request's interface language, its holes filled."""
    text = i18n.translations(locale_dir, current().catalog).gettext(message)
    return text % values if values else text


def error_message(locale_dir: Path, exc: HTTPException) -> str:
    """What an error page says: a :class:`Told` message translated, else the detail as is."""
    if isinstance(exc, Told):
        return gettext(locale_dir, exc.message, **exc.values)
    return str(exc.detail)


_CURRENT: contextvars.ContextVar[Interface] = contextvars.ContextVar("medpdf_station_interface")


def interface_of(scope: Scope) -> tuple[Interface, bool]:
    """A request's interface language, and whether it was chosen now (the cookie is set)."""
    headers = Headers(scope=scope)
    url = URL(scope=scope)
    cookie = cookie_parser(headers.get("cookie", "")).get(COOKIE)
    catalog, chosen = choose(QueryParams(url.query), cookie, headers.get("accept-language", ""))
    return Interface(catalog, menu()), chosen


def refusal(scope: Scope, message: str) -> str:
    """``message`` in the request's language, for answers made before the app runs (guards)."""
    station = getattr(scope["app"].state, "station", None)
    if station is None:
        return message
    token = _CURRENT.set(interface_of(scope)[0])
    try:
        return gettext(station.resources.locale, message)
    finally:
        _CURRENT.reset(token)


def current() -> Interface:
    """The interface language of the request being answered (English outside one)."""
    return _CURRENT.get(Interface(i18n.FALLBACK, ()))


class InterfaceLanguage:
    """ASGI middleware: picks each request's interface language and keeps a new choice.

    Only a shipped catalog's exact name is ever echoed into the cookie.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        interface, chosen = interface_of(scope)
        catalog = interface.catalog
        token = _CURRENT.set(interface)

        async def keep(message: Message) -> None:
            if chosen and message["type"] == "http.response.start":
                value = f"{COOKIE}={catalog}; Max-Age={COOKIE_AGE}; Path=/; SameSite=Lax; HttpOnly"
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", value.encode())]
            await send(message)

        try:
            await self.app(scope, receive, keep)
        finally:
            _CURRENT.reset(token)
