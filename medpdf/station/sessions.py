"""Who is using the station: access settings, the logged-in user, and server-side sessions.

A session lives in the station's memory; the browser holds only its random id,
signed (itsdangerous) so a forged or altered cookie is refused before any
lookup. Keeping sessions on the server is what makes logout, the idle and
absolute limits, and "a changed password or a removed account ends its
sessions" real rather than a promise of the cookie. A restart logs everyone
out, which on a clinic station is a feature.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, Signer

from medpdf.accounts import Account, Accounts


@dataclass(frozen=True)
class Access:
    """How the station lets people in."""

    #: The accounts file; None: no accounts and no login (allowed on loopback only).
    users_file: Path | None = None
    #: Served over https (the cookie is then ``Secure`` and ``__Host-`` prefixed).
    tls: bool = False
    #: Every page says passwords cross the network in clear (non-loopback without TLS).
    cleartext: bool = False
    #: Seconds a session lasts unused, and at most.
    idle_seconds: float = 30 * 60
    max_seconds: float = 12 * 3600
    #: Print jobs one account may send per minute.
    prints_per_minute: int = 10

    @property
    def cookie_name(self) -> str:
        """``__Host-`` makes browsers refuse the cookie unless Secure, host-only, Path=/."""
        return "__Host-medpdf-session" if self.tls else "medpdf-session"


@dataclass(frozen=True)
class User:
    """The person behind a request, as routes (and print records) see it.

    ``request.state.user``; None when the station runs without accounts.
    """

    name: str
    role: str

    @property
    def may_print(self) -> bool:
        """The ``print`` and ``review`` roles may send jobs to printers; ``view`` may not."""
        return self.role in ("print", "review")

    @property
    def may_review(self) -> bool:
        """The ``review`` role sees editions awaiting review and approves them."""
        return self.role == "review"


@dataclass
class Session:
    """One login: whose, when it began and when it was last used."""

    user: str
    #: The account's password hash at login: a new password ends the session.
    password_hash: str
    started: float
    seen: float


#: Sessions held at once; the oldest go first beyond it (a login flood costs memory once).
MAX_SESSIONS = 10_000


class Sessions:
    """The live sessions of one station process."""

    def __init__(self, access: Access, clock: Callable[[], float] = time.monotonic) -> None:
        self.access = access
        self.clock = clock
        # A new key per process: sessions do not survive a restart, so neither need cookies.
        self._signer = Signer(secrets.token_bytes(32), salt="medpdf-session")
        self._live: dict[str, Session] = {}

    def start(self, account: Account) -> str:
        """A new session (always a new id, so a planted cookie is useless); the cookie value."""
        now = self.clock()
        self._prune(now)
        session_id = secrets.token_urlsafe(32)
        self._live[session_id] = Session(account.name, account.hash, now, now)
        return self._signer.sign(session_id).decode("ascii")

    def find(self, cookie: str | None, accounts: Accounts) -> User | None:
        """The user of a live session, or None (and the session forgotten) when it is over."""
        session_id = self._id(cookie)
        session = self._live.get(session_id) if session_id else None
        if session is None or session_id is None:
            return None
        now = self.clock()
        account = accounts.get(session.user)
        expired = (
            now - session.seen > self.access.idle_seconds
            or now - session.started > self.access.max_seconds
        )
        if expired or account is None or account.hash != session.password_hash:
            del self._live[session_id]
            return None
        session.seen = now
        return User(account.name, account.role)

    def end(self, cookie: str | None) -> None:
        """Log out: the id is forgotten, so a copy of the cookie is worth nothing."""
        session_id = self._id(cookie)
        if session_id:
            self._live.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._live)

    def _id(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer.unsign(cookie.encode("ascii", "replace")).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    def _prune(self, now: float) -> None:
        for session_id, session in list(self._live.items()):
            if (
                now - session.seen > self.access.idle_seconds
                or now - session.started > self.access.max_seconds
            ):
                del self._live[session_id]
        while len(self._live) >= MAX_SESSIONS:
            del self._live[next(iter(self._live))]
