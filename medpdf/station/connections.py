"""Connection guards for the station's HTTP server: a request deadline and a connection cap.

uvicorn closes a keep-alive connection that stays idle after a response, but a
connection that never finishes its request (nothing sent, half a request line,
a body shorter than its ``Content-Length``) is kept open for ever. On a shared
network that lets anyone hold sockets and file descriptors until the station
cannot accept more. :func:`guarded_protocol` makes uvicorn's own h11 protocol
close a connection whose request (headers and body) is not complete within a
deadline, and caps the connections held at once: over the cap, the connection
that has waited longest for its request is closed to make room, so a flood of
silent sockets cannot lock staff out.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

LOGGER = logging.getLogger(__name__)

#: Their states in which the client still owes part of a request.
_RECEIVING = (h11.IDLE, h11.SEND_BODY)


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a request may take to arrive and how many connections are held."""

    #: Seconds from the first byte awaited to the end of the request body.
    request_seconds: float = 10.0
    #: Connections held at once.
    max_connections: int = 500


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's arrival."""

    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_since = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    # -- the deadline ------------------------------------------------------------

    def _watch(self) -> None:
        """Arm the deadline while a request is owed, disarm it once it has arrived."""
        if self.transport.is_closing() or self.conn.their_state not in _RECEIVING:
            self._disarm()
        elif self.conn.their_state is h11.SEND_BODY or self.timeout_keep_alive_task is None:
            # Idle between requests is the keep-alive timer's business; bytes of a
            # new request (which cancel that timer) start the deadline.
            self._arm()

    def _arm(self) -> None:
        if self._deadline is None:
            self._waiting_since = self.loop.time()
            self._deadline = self.loop.call_later(self.limits.request_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing() and self.conn.their_state in _RECEIVING:
            LOGGER.debug("closed a connection whose request did not arrive in time")
            self.transport.close()

    # -- the cap -------------------------------------------------------------------

    def _make_room(self) -> None:
        """Close the connection that has waited longest for its request (maybe this one)."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, GuardedH11Protocol) and c._deadline is not None
        ]
        oldest = min(waiting, key=lambda c: c._waiting_since, default=self)
        if oldest is self:
            # Nobody is merely waiting: every held connection is being answered.
            LOGGER.warning("connection limit (%d) reached", self.limits.max_connections)
        oldest._disarm()
        oldest.transport.close()


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """The protocol class to hand uvicorn (``Config(http=...)``) with these limits."""
    return type("StationH11Protocol", (GuardedH11Protocol,), {"limits": limits})
