"""Slowing down password guessing, and capping how fast one account can print.

Failed logins are counted three ways, each with its own limit:

- per **name at one address** (``pair:NAME@IP``, the person at that computer):
  two failures are free, then each attempt must wait 1 s, 2 s, 4 s … (at most a
  minute), an attempt that comes too early counts as one more failure, and after
  :data:`LOCK_AFTER` failures in a row it is locked for :data:`LOCK_SECONDS`;
- per **name** from anywhere (``user:NAME``): locked after :data:`LOCK_AFTER`
  failures, so guesses spread over many addresses get no further;
- per **address** (``address:IP``, every name tried from it): locked only after
  :data:`ADDRESS_LOCK_AFTER` failures, far above what one clinic's shared computer
  sees, so a colleague's typo never locks out the next person at that computer.

An attempt is counted *before* its password is checked (:meth:`LoginThrottle.begin`)
and taken back when the password proves right: 80 guesses sent at once are
counted as they arrive, and those past the limit are refused before any hash is
computed. A refused attempt is answered honestly (429, ``Retry-After``), never
with the words of a wrong password. Refusing instead of sleeping keeps no
connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

#: Failures in a row before a name (anywhere, or at one address) is locked.
LOCK_AFTER = 10
#: Failures from one address, whatever the names, before it is locked. A clinic's shared
#: computer sees a handful of typos an hour; a hundred in 15 minutes is a guesser.
ADDRESS_LOCK_AFTER = 100
#: How long a lock lasts, and how long failures are remembered.
LOCK_SECONDS = 15 * 60
#: Failures in a row of a name at one address that cost no wait (a mistyped password or two).
FREE_FAILURES = 2
#: The first delay after the free failures, doubled after each further one, capped.
FIRST_DELAY = 1.0
MAX_DELAY = 60.0
#: Names and addresses remembered at once (a flood of made-up names costs memory once).
MAX_TRACKED = 50_000


@dataclass
class _Failures:
    count: int
    last: float


@dataclass(frozen=True)
class Keys:
    """The three counters one login attempt touches."""

    name: str
    pair: str
    address: str

    @classmethod
    def of(cls, name: str, address: str) -> Keys:
        """The keys of ``name`` (case-insensitive) tried from ``address``."""
        folded = name.lower()
        return cls(f"user:{folded}", f"pair:{folded}@{address}", f"address:{address}")


class LoginThrottle:
    """Failed-login counts per name, per name at an address, and per address."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, _Failures] = {}

    def _entry(self, key: str, now: float) -> _Failures | None:
        entry = self._failures.get(key)
        return None if entry is None or now - entry.last > LOCK_SECONDS else entry

    def _delay(self, key: str, count: int) -> float:
        """How long after its last failure ``key`` must wait, given ``count`` failures."""
        if key.startswith("address:"):
            return LOCK_SECONDS if count >= ADDRESS_LOCK_AFTER else 0.0
        if count >= LOCK_AFTER:
            return LOCK_SECONDS
        if key.startswith("user:") or count <= FREE_FAILURES:
            return 0.0
        return min(FIRST_DELAY * 2.0 ** (count - FREE_FAILURES - 1), MAX_DELAY)

    def wait(self, keys: Keys) -> float:
        """Seconds until an attempt with ``keys`` may be checked (0: now)."""
        now = self.clock()
        longest = 0.0
        for key in (keys.name, keys.pair, keys.address):
            entry = self._entry(key, now)
            if entry is not None:
                longest = max(longest, entry.last + self._delay(key, entry.count) - now)
        return max(longest, 0.0)

    def begin(self, keys: Keys) -> float:
        """Admit an attempt (0), counted as a failure until it proves right; or the wait.

        Called before the password is checked, in the event loop (no ``await`` between
        the check and the count), so attempts arriving together are counted in turn.
        An attempt that comes too early counts as a failure of that name at that address
        (never of the name elsewhere): a burst of guesses locks itself out however its
        requests are spread in time, while the person told "try again in N seconds"
        loses nothing by waiting.
        """
        wait = self.wait(keys)
        if wait > 0:
            self._count((keys.pair,))
            return self.wait(keys)
        self._count((keys.name, keys.pair, keys.address))
        return 0.0

    def _count(self, keys: tuple[str, ...]) -> None:
        now = self.clock()
        if len(self._failures) > MAX_TRACKED:
            self._forget(now)
        for key in keys:
            entry = self._entry(key, now)
            if entry is None:
                entry = self._failures[key] = _Failures(0, now)
            entry.count += 1
            entry.last = now

    def locked(self, keys: Keys) -> list[str]:
        """Which of ``keys`` the last counted failure locked (for the log)."""
        now = self.clock()
        found = []
        for key, limit in (
            (keys.name, LOCK_AFTER),
            (keys.pair, LOCK_AFTER),
            (keys.address, ADDRESS_LOCK_AFTER),
        ):
            entry = self._entry(key, now)
            if entry is not None and entry.count == limit:
                found.append(key)
        return found

    def failures(self, key: str) -> int:
        """Failures in a row counted for ``key``."""
        entry = self._entry(key, self.clock())
        return 0 if entry is None else entry.count

    def succeeded(self, keys: Keys) -> None:
        """A right password: the failures of this name at this address were its user's typos.

        They (and the attempt itself, counted by :meth:`begin`) are taken off the name's
        and the address's counts; failures of the name from elsewhere, and of other names
        from this address, stay: a right password proves nothing about them.
        """
        now = self.clock()
        mistakes = self.failures(keys.pair)
        self._failures.pop(keys.pair, None)
        for key in (keys.name, keys.address):
            entry = self._entry(key, now)
            if entry is None:
                continue
            entry.count -= mistakes
            if entry.count <= 0:
                del self._failures[key]

    def _forget(self, now: float) -> None:
        for key, entry in list(self._failures.items()):
            if now - entry.last > LOCK_SECONDS:
                del self._failures[key]


def whole_seconds(wait: float) -> int:
    """A wait as people read it: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait))


#: Password checks run at once. Each Argon2 check takes ~64 MiB and most of a core for
#: about 50 ms; 80 unbounded checks at once took the station from 73 to 459 MiB and
#: a logged-in page 39 s to answer. Two keep one core for everything else.
CHECKS_AT_ONCE = 2
#: Checks that may wait for a turn; an attempt beyond them is turned away (busy).
CHECKS_WAITING = 32


class PasswordChecks:
    """A small semaphore around the expensive part of a login, with a bounded queue."""

    def __init__(self, at_once: int = CHECKS_AT_ONCE, waiting: int = CHECKS_WAITING) -> None:
        self.waiting = waiting
        self._semaphore = asyncio.Semaphore(at_once)
        self._queued = 0

    def full(self) -> bool:
        """True when an attempt now would wait behind too many others."""
        return self._queued >= self.waiting

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one of the check slots (waiting for it if need be)."""
        self._queued += 1
        try:
            await self._semaphore.acquire()
        finally:
            self._queued -= 1
        try:
            yield
        finally:
            self._semaphore.release()


class RateLimit:
    """At most ``per_minute`` events per key in any 60 seconds (a sliding window)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._times: dict[str, deque[float]] = {}

    def take(self, key: str) -> float:
        """0 and the event counted, or the seconds until one more is allowed."""
        now = self.clock()
        times = self._times.setdefault(key, deque())
        while times and now - times[0] >= 60:
            times.popleft()
        if len(times) >= self.per_minute:
            return 60 - (now - times[0])
        times.append(now)
        return 0.0
