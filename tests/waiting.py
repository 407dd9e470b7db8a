"""How a test waits: for a condition, never for a fixed time.

A step that takes a second on an idle machine can take a minute on a 2-core CI
machine running a booklet build beside the suite. So tests poll for what they
need (a log line, a health answer, a file, a selector) and give up only after
``PATIENCE`` seconds: a last-resort bound, there to end a test that would
otherwise hang, far beyond anything a slow but working machine needs. A test
that fails on it found something that never happened, not something slow.

Every wait in the suite takes its bound from here (Playwright's as
``PATIENCE_MS``); ``MEDPDF_TEST_PATIENCE`` changes it for a run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds before a wait gives up (see the module docstring).
PATIENCE = float(os.environ.get("MEDPDF_TEST_PATIENCE", "300"))
#: The same bound for Playwright, which counts in milliseconds.
PATIENCE_MS = int(PATIENCE * 1000)
#: How often a condition is polled.
POLL = 0.05


def wait_until(
    check: Callable[[], T],
    what: str,
    *,
    seconds: float = PATIENCE,
    gave_up: Callable[[], str] | None = None,
) -> T:
    """Poll ``check`` until it returns something true, and return that.

    ``what`` names the awaited condition for the failure message; ``gave_up``
    adds what is known then (a log, an exit status). Fails after ``seconds``.
    """
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            extra = f"\n{gave_up()}" if gave_up is not None else ""
            raise AssertionError(f"{what}: not so after {seconds:g} s{extra}")
        time.sleep(POLL)
