"""https for the station, and a clear answer to plain http on its https port.

uvicorn's own TLS hands every connection straight to the TLS handshake, so a
browser that types ``http://station:8443/`` gets its connection closed and a
bare "connection reset". Here each new connection first shows its first byte:
a TLS handshake starts with 22 (a handshake record), and the connection goes
on through asyncio's TLS layer to uvicorn's protocol, exactly as uvicorn would
have set it up; anything else is a plain HTTP request, answered with a short
redirect to the same page over https (when it names one of the station's own
host names) or a plain refusal saying to use https, then closed.

A connection that sends nothing is closed after the request deadline, and at
most as many may wait for their first byte as the station holds connections
(the oldest waiting is closed first), as :mod:`medpdf.station.connections`
does for requests.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from asyncio import sslproto
from collections.abc import Callable
from typing import Any

from medpdf.station.connections import ConnectionLimits
from medpdf.station.guards import host_allowed

LOGGER = logging.getLogger(__name__)

#: The first byte of every TLS connection: a handshake record (RFC 8446, 5.1).
HANDSHAKE = 0x16
#: How much of a plain request is read to find its path and Host before answering.
MAX_PLAIN_BYTES = 8192
#: A Host header and a path safe to put back into a redirect.
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_PATH = re.compile(r"^/(?!/)[\x21-\x7e]{0,2000}$")


def server_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    """The TLS settings of the station: TLS 1.2 or newer, the certificate and its key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    return context


def plain_answer(request: bytes, allowed_hosts: tuple[str, ...]) -> bytes:
    """The whole answer to a plain http request on the https port."""
    head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1", "replace").split("\r\n")
    words = head[0].split(" ")
    path = words[1] if len(words) == 3 and _PATH.match(words[1]) else "/"
    host = ""
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "host":
            host = value.strip()
    if host and _HOST.match(host) and host_allowed(host, allowed_hosts):
        location = f"https://{host}{path}"
        body = f"This printing station answers only https: {location}\n"
        status = "301 Moved Permanently"
        extra = f"Location: {location}\r\n"
    else:
        body = "This printing station answers only https: use https:// instead of http://.\n"
        status = "400 Bad Request"
        extra = ""
    data = body.encode()
    return (
        f"HTTP/1.1 {status}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


class _FirstByte(asyncio.BufferedProtocol):
    """A new connection until its first byte says TLS or plain http."""

    def __init__(self, doors: _Doors, app_protocol: asyncio.BaseProtocol) -> None:
        self.doors = doors
        self.app_protocol = app_protocol
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray(1)
        self.first: int | None = None
        self.chunk = bytearray(2048)
        self.plain = bytearray()
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        loop = asyncio.get_running_loop()
        self.deadline = loop.call_later(self.doors.limits.request_seconds, self.close)
        self.doors.waiting[self] = None
        while len(self.doors.waiting) > self.doors.limits.max_connections:
            next(iter(self.doors.waiting)).close()  # the one that has waited longest

    def close(self) -> None:
        self._done()
        if self.transport is not None:
            self.transport.close()

    def _done(self) -> None:
        self.doors.waiting.pop(self, None)
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._done()

    def get_buffer(self, sizehint: int) -> bytearray:
        # One byte until the first is known, so nothing is read past it; then the rest
        # of a plain request.
        return self.buffer if self.first is None else self.chunk

    def buffer_updated(self, nbytes: int) -> None:
        if self.first is None:
            self.first = self.buffer[0]
            if self.first == HANDSHAKE:
                self._done()
                self._start_tls(bytes(self.buffer))
                return
            self.plain += self.buffer
        else:
            self.plain += self.chunk[:nbytes]
        self._plain_data()

    def _plain_data(self) -> None:
        if b"\r\n\r\n" in self.plain or len(self.plain) >= MAX_PLAIN_BYTES:
            assert self.transport is not None
            self._done()
            self.transport.write(plain_answer(bytes(self.plain), self.doors.allowed_hosts))
            self.transport.close()
            LOGGER.info("answered a plain http request on the https port")

    def _start_tls(self, first: bytes) -> None:
        """Go on as asyncio's own TLS server would, the first byte handed to the TLS layer."""
        assert self.transport is not None
        tls = sslproto.SSLProtocol(
            asyncio.get_running_loop(),
            self.app_protocol,
            self.doors.context,
            None,  # type: ignore[arg-type]  # no one waits for the handshake: it may be None
            server_side=True,
        )
        self.transport.set_protocol(tls)
        tls.connection_made(self.transport)
        buffer = tls.get_buffer(len(first))
        buffer[: len(first)] = first
        tls.buffer_updated(len(first))

    def eof_received(self) -> bool | None:
        self.close()
        return None


class _Doors:
    """What the first-byte protocol of one server needs: TLS settings and limits."""

    def __init__(
        self, context: ssl.SSLContext, limits: ConnectionLimits, allowed_hosts: tuple[str, ...]
    ) -> None:
        self.context = context
        self.limits = limits
        self.allowed_hosts = allowed_hosts
        self.waiting: dict[_FirstByte, None] = {}


def tls_or_plain(
    app_protocol: Callable[..., asyncio.BaseProtocol],
    context: ssl.SSLContext,
    limits: ConnectionLimits,
    allowed_hosts: tuple[str, ...],
) -> Callable[..., asyncio.BaseProtocol]:
    """A protocol factory for uvicorn (``Config(http=...)``): TLS or a plain answer.

    ``app_protocol`` is the class uvicorn would use (its h11 protocol, guarded); uvicorn
    itself is then given no TLS settings, since the connections arrive decrypted.
    """
    doors = _Doors(context, limits, allowed_hosts)

    def factory(**kwargs: Any) -> asyncio.BaseProtocol:
        return _FirstByte(doors, app_protocol(**kwargs))

    return factory
