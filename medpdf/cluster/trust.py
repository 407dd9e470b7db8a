"""Which Dask schedulers medpdf sends work to without being told: decided from the address alone.

Plain ``tcp://`` is neither encrypted nor authenticated. Between machines,
anyone on the network path could read the tasks and, worse, change the PDFs
that come back (a patient handout with other doses), or pose as the
scheduler. So medpdf sends tasks over plain TCP only to a scheduler on this
computer (a loopback address or ``localhost``), to any scheduler over
``tls://``, or where the operator says the network is private and trusted
(``--scheduler-insecure``).

The decision reads the address only: no name is looked up and nothing is
sent, so a refused address costs no traffic. A host name other than
``localhost`` counts as another machine, even one that resolves to loopback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from medpdf.errors import UsageError
from medpdf.settings.options import SCHEDULER_INSECURE

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """True for an address of this computer: 127.0.0.0/8, ::1 (also IPv4-mapped), ``localhost``."""
    if host.lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: it may point anywhere
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def check(address: str, insecure: bool) -> None:
    """Refuse plain TCP to a scheduler on another machine unless ``insecure`` (one line, exit 2)."""
    parts = urlsplit(address)
    if parts.scheme != "tcp" or insecure or is_loopback(parts.hostname or ""):
        return
    table, key = SCHEDULER_INSECURE.toml or ("build", SCHEDULER_INSECURE.name)
    raise UsageError(
        f"refusing to send renders over plain TCP to the Dask scheduler at {address}, "
        "which is not on this computer: anyone on the network between could read the tasks "
        "and alter the PDFs that come back. Use a tls:// address (with Dask's TLS settings), "
        f"or, on a private network you trust, {SCHEDULER_INSECURE.flag} "
        f"({key} = true under [{table}] in medpdf.toml)"
    )
