"""Sending a finished PDF to a CUPS printer through the ``lp`` and ``lpstat`` tools.

The command-line tools, not IPP or pycups: they come with every CUPS client
(Debian's ``cups-client``), honour ``CUPS_SERVER``, ``client.conf`` and
``lpoptions`` exactly as the clinic's other programs do, and need no Python
dependency. They are run without a shell, with a time limit, and under the C
locale so that their English output can be parsed. Printers are checked before
anything is rendered, so a wrong name fails in milliseconds, not after a render.
This module never imports WeasyPrint: it only moves bytes that already exist.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from medpdf.errors import PrinterChoiceError, PrintError, PrinterStopped, PrintUnconfirmed
from medpdf.settings.kinds import PAPERS

#: lpstat answers from the scheduler's memory; lp also uploads the whole PDF.
LPSTAT_TIMEOUT = 15.0
LP_TIMEOUT = 60.0

#: IPP ``name`` values are at most 255 octets; the drug part of a job title stays well inside.
MAX_TITLE_BYTES = 200

CLIENT_PACKAGE = "cups-client"

EN_DASH = "\u2013"

_REQUEST_ID = re.compile(r"request id is (\S+)")


@dataclass(frozen=True)
class Printer:
    """One CUPS queue as ``lpstat`` reports it."""

    name: str
    enabled: bool = True
    accepting: bool = True
    reason: str | None = None  # CUPS's own words for why it is stopped or rejecting


@dataclass(frozen=True)
class Destinations:
    """Every queue the scheduler knows, and the default ``lp`` would use."""

    printers: tuple[Printer, ...]
    default: str | None
    default_note: str | None = None  # lpstat's complaint about LPDEST/PRINTER, if any

    def find(self, name: str) -> Printer | None:
        """The queue called ``name`` (an ``/instance`` suffix names the same queue)."""
        queue = name.split("/", 1)[0]
        for printer in self.printers:
            if printer.name == queue:
                return printer
        for printer in self.printers:  # CUPS matches queue names case-insensitively
            if printer.name.casefold() == queue.casefold():
                return printer
        return None

    def listing(self) -> str:
        """``printers: A (default), B`` — for messages that must say what exists."""
        if not self.printers:
            return "CUPS has no printers yet (an administrator adds them with lpadmin)"
        default = self.default.split("/", 1)[0] if self.default else None
        names = [f"{p.name} (default)" if p.name == default else p.name for p in self.printers]
        return "printers: " + ", ".join(names)


@dataclass(frozen=True)
class PrintJob:
    """A job CUPS accepted."""

    printer: str
    job_id: str
    copies: int
    title: str


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PrintError(
            f"the CUPS client command '{name}' was not found on PATH; "
            f"install the Debian package {CLIENT_PACKAGE} (apt-get install {CLIENT_PACKAGE})"
        )
    return path


def require_client() -> None:
    """Fail before anything is rendered when ``lp`` or ``lpstat`` is missing."""
    for name in ("lp", "lpstat"):
        _tool(name)


def _exec(tool: str, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}  # parseable, English messages
    return subprocess.run(
        [tool, *args],  # argv[0] is how the tool names itself in its messages
        executable=_tool(tool),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _run(tool: str, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a CUPS tool; a hung scheduler becomes a one-line error, not a hung medpdf."""
    try:
        return _exec(tool, args, timeout)
    except subprocess.TimeoutExpired:
        raise PrintError(
            f"{tool} got no answer from the CUPS scheduler at {server()} within {timeout:g} s"
        ) from None


def _message(completed: subprocess.CompletedProcess[str]) -> str:
    """What a failed tool said, on one line."""
    text = completed.stderr.strip() or completed.stdout.strip()
    return " ".join(text.split()) or f"exit status {completed.returncode}"


def server() -> str:
    """Where the CUPS client sends requests (``localhost:631``, a socket path, a host).

    ``lpstat -H`` reads the client configuration only, so it answers even when
    the scheduler does not.
    """
    try:
        shown = _exec("lpstat", ["-H"], LPSTAT_TIMEOUT).stdout.strip()
    except subprocess.TimeoutExpired:
        shown = ""
    return shown or os.environ.get("CUPS_SERVER") or "the configured server"


def require_scheduler() -> None:
    """Fail with one line when the CUPS scheduler is not running or not reachable."""
    completed = _run("lpstat", ["-r"], LPSTAT_TIMEOUT)
    if "scheduler is running" not in completed.stdout.splitlines():
        raise PrintError(
            f"the CUPS scheduler at {server()} is not running or cannot be "
            "reached; start it (service cups start) or set CUPS_SERVER to a running one"
        )


def parse_printers(text: str) -> dict[str, tuple[bool, str | None]]:
    """``lpstat -p`` → name: (enabled, reason), reason being the tab-indented line after it."""
    found: dict[str, tuple[bool, str | None]] = {}
    last: str | None = None
    for line in text.splitlines():
        words = line.split()
        if line.startswith("printer ") and len(words) >= 3:
            last = words[1]
            found[last] = (words[2] != "disabled", None)
        elif line.startswith("\t") and last is not None and line.strip():
            enabled, reason = found[last]
            if reason is None:
                found[last] = (enabled, line.strip())
        else:
            last = None
    return found


def parse_accepting(text: str) -> dict[str, tuple[bool, str | None]]:
    """``lpstat -a`` → name: (accepting, reason)."""
    found: dict[str, tuple[bool, str | None]] = {}
    last: str | None = None
    for line in text.splitlines():
        words = line.split()
        if not line.startswith("\t") and len(words) >= 2:
            last = words[0]
            found[last] = (words[1] == "accepting", None)
        elif line.startswith("\t") and last is not None and line.strip():
            accepting, reason = found[last]
            if reason is None:
                found[last] = (accepting, line.strip())
    return found


def parse_default(text: str) -> str | None:
    """``lpstat -d`` → the default destination, or None."""
    for line in text.splitlines():
        if line.startswith("system default destination:"):
            return line.split(":", 1)[1].strip() or None
    return None


def _listing(option: str) -> str:
    """``lpstat -p`` / ``-a`` output; a scheduler with no queues is an empty listing."""
    completed = _run("lpstat", [option], LPSTAT_TIMEOUT)
    if completed.returncode != 0:
        if "No destinations added" in completed.stderr:
            return ""
        raise PrintError(f"cannot list CUPS printers: {_message(completed)}")
    return completed.stdout


def destinations() -> Destinations:
    """Ask the scheduler for every queue, whether it is enabled and accepting, and the default."""
    require_client()
    require_scheduler()
    states = parse_printers(_listing("-p"))
    accepting = parse_accepting(_listing("-a"))
    printers = []
    for name in sorted(states.keys() | accepting.keys(), key=str.casefold):
        enabled, stop_reason = states.get(name, (True, None))
        takes_jobs, reject_reason = accepting.get(name, (True, None))
        reason = reject_reason if not takes_jobs else stop_reason
        printers.append(Printer(name, enabled, takes_jobs, reason))
    completed = _run("lpstat", ["-d"], LPSTAT_TIMEOUT)
    note = " ".join(completed.stderr.split()) or None
    return Destinations(tuple(printers), parse_default(completed.stdout), note)


def choose_printer(found: Destinations, wanted: str | None) -> str:
    """The destination to send to: ``wanted``, else CUPS's default; it must take jobs now.

    Returns the name to give ``lp -d``: the queue as CUPS spells it, with any
    ``/instance`` the user wrote.
    """
    name = wanted or found.default
    if name is None:
        note = f" ({found.default_note})" if found.default_note else ""
        raise PrinterChoiceError(
            f"no printer given and CUPS has no default printer{note}; use --printer NAME or "
            f'[print] printer = "NAME" in medpdf.toml ({found.listing()})'
        )
    printer = found.find(name)
    if printer is None:
        origin = "" if wanted else " (the CUPS default)"
        raise PrinterChoiceError(f"no printer named '{name}'{origin}; {found.listing()}")
    why = f" ({printer.reason})" if printer.reason else ""
    if not printer.accepting:
        raise PrinterStopped(
            f"printer '{printer.name}' is not accepting jobs{why}; "
            f"an administrator can run: cupsaccept {printer.name}",
            printer.name,
            accepting=False,
        )
    if not printer.enabled:
        raise PrinterStopped(
            f"printer '{printer.name}' is stopped{why}; jobs would wait in the queue; "
            f"an administrator can run: cupsenable {printer.name}",
            printer.name,
            accepting=True,
        )
    instance = name.partition("/")[2]
    return f"{printer.name}/{instance}" if instance else printer.name


def job_title(drug_title: str) -> str:
    """``<Drug> \u2013 patient handout``: what the print queue and the printer's panel show."""
    # The title comes from a monograph: no control characters, one line, bounded length.
    clean = " ".join("".join(ch if ch.isprintable() else " " for ch in drug_title).split())
    if len(clean.encode()) > MAX_TITLE_BYTES:
        cut = clean.encode()[: MAX_TITLE_BYTES - 3].decode(errors="ignore")
        clean = cut.rstrip() + "…"
    return f"{clean or 'Drug'} {EN_DASH} patient handout"


def submit(pdf: Path, printer: str, *, title: str, copies: int = 1, paper: str = "a4") -> PrintJob:
    """Queue ``pdf`` on ``printer``; lp uploads it before returning, so it may be deleted then."""
    if copies < 1:
        raise ValueError("copies must be at least 1")
    args = [
        "-d",
        printer,
        "-t",
        title,
        "-n",
        str(copies),
        "-o",
        f"media={PAPERS[paper].cups_media}",
        str(pdf),
    ]
    check = f"check the queue (lpstat -o {printer}) before printing again"
    try:
        completed = _exec("lp", args, LP_TIMEOUT)
    except subprocess.TimeoutExpired:
        # lp may have uploaded the job and be waiting for the scheduler's answer.
        raise PrintUnconfirmed(
            f"lp did not finish within {LP_TIMEOUT:g} s; printer '{printer}' may have "
            f"queued the job: {check}"
        ) from None
    match = _REQUEST_ID.search(completed.stdout)
    if completed.returncode != 0:
        if match is not None:  # queued, then lp failed: the job may well print
            raise PrintUnconfirmed(
                f"lp failed after printer '{printer}' queued the job as {match.group(1)}: "
                f"{_message(completed)}; {check}"
            )
        raise PrintError(f"printer '{printer}' refused the job: {_message(completed)}")
    if match is None:
        raise PrintUnconfirmed(
            f"lp gave no job id for printer '{printer}' ({_message(completed)}); {check}"
        )
    return PrintJob(printer, match.group(1), copies, title)
