"""What staff read when a printer cannot take a job; CUPS's own words go to the log.

CUPS says "stopped (Paused for maintenance); an administrator can run: cupsenable
Lab": right for the command line and the log, wrong at a clinic counter. The
station tells staff what happened and whom to ask, in the interface language.
"""

from __future__ import annotations

import logging

from medpdf.errors import PrintError, PrinterStopped, PrintUnconfirmed
from medpdf.i18n import N_
from medpdf.station.language import Told

LOGGER = logging.getLogger(__name__)

#: What staff read when CUPS cannot be used; the reason goes to the log and /health.
NO_PRINTING = N_(
    "Direct printing is not available right now. Use “Open PDF for printing” and print "
    "from the PDF viewer, or ask whoever looks after the station."
)

#: What staff read about a printer; CUPS's own words and commands go to the log.
PAUSED = N_("The printer %(printer)s is paused — ask the person who looks after the printers.")
REJECTING = N_(
    "The printer %(printer)s is not taking jobs — ask the person who looks after the printers."
)
REFUSED = N_(
    "The printer %(printer)s refused the job — ask the person who looks after the printers."
)
UNCONFIRMED = N_(
    "The printer %(printer)s may not have received the job: look at the printer before "
    "printing again, or ask the person who looks after the printers."
)
UNKNOWN_PRINTER = N_("There is no printer called “%(printer)s”: choose one from the list.")
NO_PRINTER_CHOSEN = N_("Choose a printer from the list: this station has no default printer.")


def printer_problem(exc: PrintError, printer: str) -> Told:
    """Staff's words for a print CUPS did not take.

    The details (CUPS's reason, the administrator's command) are logged, not shown.
    """
    LOGGER.warning("print on %s failed: %s", printer or "(default)", exc.message)
    if isinstance(exc, PrinterStopped):
        return Told(502, PAUSED if exc.accepting else REJECTING, printer=exc.printer)
    if isinstance(exc, PrintUnconfirmed):
        return Told(502, UNCONFIRMED, printer=printer)
    if printer:
        return Told(502, REFUSED, printer=printer)
    return Told(502, NO_PRINTING)
