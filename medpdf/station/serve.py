"""Running the station: the listening socket and the ASGI server (uvicorn)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable

from medpdf.errors import UsageError
from medpdf.station.app import create_app
from medpdf.station.listing import Listing
from medpdf.station.state import StationSettings


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
