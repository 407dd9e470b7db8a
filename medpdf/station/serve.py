"""Running the station: its access plan, the listening socket and the ASGI server (uvicorn)."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpdf import accounts
from medpdf.errors import UsageError
from medpdf.run import RunContext
from medpdf.settings.config import Config
from medpdf.settings.options import (
    CERTFILE,
    HOST,
    HOST_NAMES,
    KEYFILE,
    MAX_CONNECTIONS,
    PRINTS_PER_MINUTE,
    REQUEST_TIMEOUT,
    SESSION_IDLE,
    SESSION_MAX,
    TRUSTED_PROXIES,
    USERS_FILE,
)
from medpdf.station.app import create_app
from medpdf.station.connections import ConnectionLimits, guarded_protocol
from medpdf.station.guards import hosts_for, is_loopback
from medpdf.station.listing import Listing
from medpdf.station.sessions import Access
from medpdf.station.state import StationSettings
from medpdf.station.tls import server_context, tls_or_plain


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


def url_of(sock: socket.socket, tls: bool = False) -> str:
    """The address a browser should open."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}/"


def run(
    settings: StationSettings,
    sock: socket.socket,
    access_log: bool,
    ready: Callable[[Listing], None] | None = None,
    limits: ConnectionLimits | None = None,
    tls: tuple[str, str] | None = None,
    proxies: tuple[str, ...] = (),
) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM); workers stop with the server.

    ``tls`` is (certificate file, key file): https (:mod:`medpdf.station.tls`).
    ``proxies`` (``[station] trusted_proxies``) are the only addresses whose
    ``X-Forwarded-For``/``-Proto`` count; uvicorn's default believes them from
    127.0.0.1, which let any local program log in and be throttled as any address.
    """
    import uvicorn

    limits = limits or ConnectionLimits()
    protocol: Any = guarded_protocol(limits)
    if tls is not None:
        # TLS is set up here rather than by uvicorn, so that plain http on this port gets
        # an answer (a redirect to https) instead of a closed connection.
        protocol = tls_or_plain(protocol, server_context(*tls), limits, settings.allowed_hosts)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, ready),
            http=protocol,
            log_level="info" if access_log else "warning",
            access_log=access_log,
            lifespan="on",
            timeout_graceful_shutdown=5,
            proxy_headers=bool(proxies),
            forwarded_allow_ips=list(proxies),
        )
    )
    # uvicorn shuts down gracefully (workers included), then re-raises the
    # signal it caught; Ctrl+C is how staff stop the station, not an error.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])


@dataclass(frozen=True)
class Plan:
    """Everything ``medpdf serve`` decided from its settings before listening."""

    settings: StationSettings
    limits: ConnectionLimits
    tls: tuple[str, str] | None
    loopback: bool
    #: Reverse proxies whose forwarded headers count (``[station] trusted_proxies``).
    proxies: tuple[str, ...] = ()


def plan(config: Config) -> Plan:
    """Check the access settings and make the station's; one clear line when they cannot work.

    Beyond loopback the station needs accounts; TLS needs a certificate and
    its key that load.
    """
    host = config[HOST]
    loopback = is_loopback(host)
    chosen = config[USERS_FILE]
    users_file = Path(chosen) if chosen else accounts.default_path()
    has_accounts = len(accounts.load(users_file)) > 0
    if not loopback and not has_accounts:
        raise UsageError(
            f"listening on {host} lets other computers in, so the station needs accounts; "
            f"add one with: medpdf users add NAME (users file: {users_file})"
        )
    tls = _tls_files(config[CERTFILE], config[KEYFILE])
    access = Access(
        users_file=users_file if has_accounts else None,
        tls=tls is not None,
        cleartext=not loopback and tls is None,
        idle_seconds=config[SESSION_IDLE] * 60,
        max_seconds=config[SESSION_MAX] * 3600,
        prints_per_minute=int(config[PRINTS_PER_MINUTE]),
    )
    station = StationSettings(
        RunContext.of(config),
        allowed_hosts=hosts_for(host, config[HOST_NAMES]),
        access=access,
    )
    limits = ConnectionLimits(config[REQUEST_TIMEOUT], int(config[MAX_CONNECTIONS]))
    proxies = config[TRUSTED_PROXIES]
    return Plan(station, limits, tls, loopback, proxies)


def _tls_files(certfile: str | None, keyfile: str | None) -> tuple[str, str] | None:
    """Both files or neither; a pair that does not load is one line, not a traceback."""
    if certfile is None and keyfile is None:
        return None
    if certfile is None or keyfile is None:
        raise UsageError("https needs both --certfile and --keyfile")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(
            f"cannot use the TLS certificate {certfile} with {keyfile}: {reason}"
        ) from None
    return certfile, keyfile
