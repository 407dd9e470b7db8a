"""Ask an address whether a Dask scheduler answers there, before ``distributed.Client`` connects.

``Client`` retries a refused connection until its connect timeout (30 s by
default), says "timed out" whether the host name does not resolve, nothing
listens or nobody answers, and reports a service that is not Dask by
whatever its reader chokes on (``MemoryError`` when a banner's first bytes
read as a frame length of exabytes). One attempt here tells them apart, at
once, in one line each:

- the host name does not resolve;
- nothing listens on the port (connection refused), or the network has no route;
- the TLS handshake fails;
- the other side closes the connection, or answers, but not as Dask does;
- no answer within the connect timeout: the one case that takes that long.

The probe opens one connection with Dask's own connector (so ``tls://`` and
Dask's TLS settings apply) and exchanges Dask's handshake, which is all a
scheduler expects of a new connection, so it logs nothing about it. What comes
back is never unpickled.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from medpdf.errors import ClusterError


def check(address: str, seconds: float, connection_args: dict[str, Any]) -> None:
    """Return if a Dask scheduler greets at ``address``; else raise one :class:`ClusterError`."""
    parts = urlsplit(address)
    host, port = parts.hostname or "", parts.port
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ClusterError(
            _unreachable(address, f"the host name {host} does not resolve")
        ) from None
    if parts.scheme == "tls" and connection_args.get("ssl_context") is None:
        raise ClusterError(
            f"{address} is a tls:// address but Dask's settings hold no client certificate: "
            f"set {TLS_SETTINGS} (Dask's configuration)"
        )
    # A loop of its own, in a thread of its own: the caller may be running one already.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="medpdf-probe") as thread:
        problem = thread.submit(asyncio.run, _greet(address, seconds, connection_args)).result()
    if problem is not None:
        raise ClusterError(problem)


def _unreachable(address: str, why: str) -> str:
    return f"cannot reach the Dask scheduler at {address}: {why}"


async def _greet(address: str, seconds: float, connection_args: dict[str, Any]) -> str | None:
    """None when a Dask peer answers the handshake at ``address``; else the line saying why not."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address

    scheme, location = parse_address(address)
    connector = registry.get_backend(scheme).get_connector()  # type: ignore[no-untyped-call]
    try:
        # One attempt: distributed.comm.connect would retry a refusal until its timeout.
        comm = await asyncio.wait_for(
            connector.connect(location, deserialize=False, **connection_args), seconds
        )
    except TimeoutError:
        return _unreachable(
            address, f"no answer within {seconds:g} s (distributed.comm.timeouts.connect)"
        )
    except Exception as exc:
        return _connect_failure(address, exc)
    try:
        await asyncio.wait_for(comm.write(comm.handshake_info()), seconds)
        reply = await asyncio.wait_for(comm.read(), seconds)
    except TimeoutError:
        comm.abort()
        return f"{address} sent no Dask greeting within {seconds:g} s: is it a Dask scheduler?"
    except OSError as exc:  # Dask's CommClosedError is one
        comm.abort()
        return _closed(address, exc)
    except Exception:  # what a reader of Dask frames makes of someone else's bytes
        comm.abort()
        return _not_dask(address)
    await comm.close()
    if not isinstance(reply, dict) or "pickle-protocol" not in reply:
        return _not_dask(address)
    return None


#: Dask's settings a tls:// client needs (also as DASK_DISTRIBUTED__COMM__TLS__... variables).
TLS_SETTINGS = "distributed.comm.tls.ca-file, .client.cert and .client.key"


def _closed(address: str, exc: BaseException) -> str:
    """The line for a peer that closed the connection before greeting as Dask does."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError):
            return _tls_failure(address, cause)
    if address.startswith("tls://"):
        return (
            f"{address} closed the connection after the TLS handshake: does it accept this "
            f"client's certificate? (Dask's settings {TLS_SETTINGS})"
        )
    return (
        f"{address} closed the connection without a Dask greeting: is it a Dask scheduler? "
        "(one that wants tls:// closes tcp:// connections)"
    )


def _tls_failure(address: str, error: ssl.SSLError) -> str:
    reason = error.reason or error.strerror or "no reason given"
    detail = getattr(error, "verify_message", None)
    shown = f"{reason}: {detail}" if detail else reason
    return _unreachable(
        address, f"the TLS handshake failed ({shown}); check Dask's settings {TLS_SETTINGS}"
    )


def _not_dask(address: str) -> str:
    return f"{address} is not a Dask scheduler: what answers there does not speak Dask's protocol"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, through Dask's and Tornado's wrappers."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        real = getattr(current, "real_error", None)  # Tornado's StreamClosedError
        current = real if isinstance(real, BaseException) else current.__cause__
        if current is None and len(seen) == 1:
            current = exc.__context__


def _connect_failure(address: str, exc: BaseException) -> str:
    """The line for a connection that could not be opened (or was closed as it opened)."""
    from distributed.comm.core import CommClosedError

    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return _unreachable(
                address,
                "nothing listens on that port (connection refused); is `dask scheduler` running?",
            )
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return _tls_failure(address, cause)
        if isinstance(cause, socket.gaierror):
            return _unreachable(address, "the host name does not resolve")
    closing = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, CommClosedError)
    if any(isinstance(cause, closing) for cause in causes):
        return _closed(address, exc)
    for cause in causes:
        if isinstance(cause, OSError) and cause.strerror:
            return _unreachable(address, f"cannot connect ({cause.strerror})")
    if isinstance(exc, RuntimeError) and "encryption required" in str(exc):
        return _unreachable(
            address, "Dask's settings require encryption (distributed.comm.require-encryption)"
        )
    return _unreachable(address, f"cannot connect ({type(exc).__name__})")
