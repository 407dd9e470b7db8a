"""Slowing down password guessing, and capping how fast one account can print.

Failed logins are counted per account name and per client address. A typo or
two costs nothing; after :data:`FREE_FAILURES` failures the next attempt for that
name (or from that address) must wait, twice as long after each further
failure (1 s, 2 s, 4 s ... up to a minute); after
:data:`LOCK_AFTER` failures in a row it is locked for :data:`LOCK_SECONDS`. An
attempt that comes too early is refused without checking the password, and
answered with the same words as a wrong password, so the answer tells a guesser
nothing. Refusing instead of sleeping keeps no connection open.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Failures in a row before a name or address is locked.
LOCK_AFTER = 10
#: How long a lock lasts, and how long failures are remembered.
LOCK_SECONDS = 15 * 60
#: Failures in a row that cost no wait (a mistyped password or two).
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


class LoginThrottle:
    """Failed-login counts per key (``user:NAME``, ``address:IP``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[str, _Failures] = {}

    def wait(self, keys: Iterable[str]) -> float:
        """Seconds until any of ``keys`` may try again (0: now)."""
        now = self.clock()
        longest = 0.0
        for key in keys:
            entry = self._failures.get(key)
            if entry is None or now - entry.last > LOCK_SECONDS:
                continue
            if entry.count >= LOCK_AFTER:
                delay: float = LOCK_SECONDS
            elif entry.count <= FREE_FAILURES:
                delay = 0.0
            else:
                delay = min(FIRST_DELAY * 2 ** (entry.count - FREE_FAILURES - 1), MAX_DELAY)
            longest = max(longest, entry.last + delay - now)
        return max(longest, 0.0)

    def failed(self, keys: Iterable[str]) -> list[str]:
        """Count a failure for each key; the keys that are now locked."""
        now = self.clock()
        if len(self._failures) > MAX_TRACKED:
            self._forget(now)
        locked = []
        for key in keys:
            entry = self._failures.get(key)
            if entry is None or now - entry.last > LOCK_SECONDS:
                entry = self._failures[key] = _Failures(0, now)
            entry.count += 1
            entry.last = now
            if entry.count == LOCK_AFTER:
                locked.append(key)
        return locked

    def failures(self, key: str) -> int:
        """Failures in a row counted for ``key``."""
        entry = self._failures.get(key)
        return 0 if entry is None or self.clock() - entry.last > LOCK_SECONDS else entry.count

    def succeeded(self, key: str) -> None:
        """A right password clears the count of that account (not of the address)."""
        self._failures.pop(key, None)

    def _forget(self, now: float) -> None:
        for key, entry in list(self._failures.items()):
            if now - entry.last > LOCK_SECONDS:
                del self._failures[key]


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
