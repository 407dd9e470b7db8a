"""What every request passes before a route sees it: Host, fetch metadata, headers.

- **Host.** A web page on another site can point its own name at the station's
  address (DNS rebinding) and then read the answers as same-origin. Only the
  names the station was told it is reached by (``[station] host_names``, plus
  ``localhost``, plus the loopback names on a loopback station) and literal IP
  addresses (which no other site can own) are answered.
- **Fetch metadata.** Browsers say where a request comes from
  (``Sec-Fetch-Site``). Another site may link to the station's pages (a
  top-level navigation), but nothing else: no PDF render, no preview, no JSON,
  no form post, so a hostile page open in a staff browser cannot fill the queue.
- **Headers.** Every answer says ``nosniff`` and keeps its referrer to the
  station; answers without their own policy (PDFs, JSON, static files) get one
  that forbids loading anything and being framed; answers over https say
  ``Strict-Transport-Security``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse

from medpdf.i18n import N_
from medpdf.station.language import refusal

ASGIApp = Callable[..., Awaitable[None]]

#: The policy of answers that set none themselves.
DEFAULT_POLICY = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

#: Browsers keep to https for this long (a year) after an answer over https.
HSTS = b"max-age=31536000"

#: The refusals, in the request's language (plain text: no page of the station's look).
WRONG_HOST = N_("Invalid host header: this station answers only to its own names.")
OTHER_SITE = N_("The printing station answers only its own pages.")

#: Loopback names a loopback station answers to.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")


def is_loopback(host: str) -> bool:
    """True for an address (or ``localhost``) that only this computer can reach."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def hosts_for(host: str, names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The Host names a station listening on ``host`` answers to (IP literals always)."""
    return (*LOOPBACK_NAMES, *names) if is_loopback(host) else ("localhost", *names)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def host_allowed(host_header: str, allowed: tuple[str, ...]) -> bool:
    """``Host`` (port stripped) is one of ``allowed`` ("*": any) or a literal IP address."""
    if "*" in allowed:
        return True
    if host_header.startswith("["):  # [::1]:8000
        name = host_header[: host_header.find("]") + 1]
    else:
        name = host_header.split(":", 1)[0]
    name = name.lower()
    return bool(name) and (name in allowed or _is_ip(name))


def cross_site_allowed(scope: dict[str, Any], headers: Any) -> bool:
    """True unless another site asked for more than a link to a page."""
    site = headers.get("sec-fetch-site")
    if site in (None, "same-origin", "none"):
        return True
    path: str = scope["path"]
    page = (
        path == "/"
        or path == "/login"
        or path == "/infobutton"  # the EHR's "i" button opens it in a browser
        or (
            path.startswith("/drug/")
            and "." not in path
            and not path.endswith(("/preview", "/print"))
        )
    )
    return (
        page
        and scope["method"] == "GET"
        and headers.get("sec-fetch-mode") == "navigate"
        and headers.get("sec-fetch-dest") in ("document", None)
    )


class Guards:
    """Refuse foreign Host names and cross-site requests; add the common headers."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = HTTPConnection(scope).headers

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent = list(message.get("headers", []))
                names = {name.lower() for name, _ in sent}
                sent += [
                    (b"x-content-type-options", b"nosniff"),
                    # Not no-referrer: with it browsers send Origin: null on form posts
                    # and the station's own forms would be refused.
                    (b"referrer-policy", b"same-origin"),
                ]
                if b"content-security-policy" not in names:
                    sent.append((b"content-security-policy", DEFAULT_POLICY))
                if scope.get("scheme") == "https":
                    # Once a browser has seen the station over https, it never again
                    # sends a password or a page over plain http to it.
                    sent.append((b"strict-transport-security", HSTS))
                message["headers"] = sent
            await send(message)

        if not host_allowed(headers.get("host", ""), self.allowed_hosts):
            response = PlainTextResponse(refusal(scope, WRONG_HOST), status_code=400)
        elif not cross_site_allowed(scope, headers):
            response = PlainTextResponse(refusal(scope, OTHER_SITE), status_code=403)
        else:
            await self.app(scope, receive, send_with_headers)
            return
        await response(scope, receive, send_with_headers)
