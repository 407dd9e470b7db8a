"""Diagnostics and exceptions shared by every stage.

Every problem medpdf reports to a person goes through :class:`Diagnostic`, so
`check`, `build` and `handout` all print the same one-line
``path:line: level: message`` shape that editors and CI logs can jump to.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Level(enum.Enum):
    """Severity of a diagnostic; errors stop a monograph from being built."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in one source file."""

    path: str
    line: int | None
    level: Level
    message: str

    def format(self) -> str:
        """Render as ``path:line: level: message`` (line omitted when unknown)."""
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        # Messages are printed one per line: never let content smuggle a newline in.
        message = " ".join(self.message.split())
        return f"{where}: {self.level.value}: {message}"

    @property
    def is_error(self) -> bool:
        """True when this diagnostic prevents the monograph from being built."""
        return self.level is Level.ERROR


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, str, str]:
    """Stable report order: by file, then line (file-wide first), level and message."""
    return (diagnostic.path, diagnostic.line or 0, diagnostic.level.value, diagnostic.message)


def count_levels(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    """Return ``(errors, warnings)``."""
    errors = warnings = 0
    for diagnostic in diagnostics:
        if diagnostic.is_error:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


class MedpdfError(Exception):
    """An expected failure, shown to the user as one line, never a traceback.

    Exceptions carry data, not presentation: ``message`` is the bare reason.
    Only the CLI adds ``medpdf: error:``; the station shows ``message`` as it is.
    """

    def __init__(self, message: str) -> None:
        self.message = " ".join(message.split())
        super().__init__(self.message)


class DiagnosedError(MedpdfError):
    """A failure about one file, reported in the ``check`` format (``path:line: error: ...``)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.format())


class SourceError(DiagnosedError):
    """A monograph could not be read or understood."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(Diagnostic(path, line, Level.ERROR, message))


class RenderError(DiagnosedError):
    """Turning a valid monograph into a PDF failed."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(Diagnostic(path, None, Level.ERROR, message))


class UsageError(MedpdfError):
    """The command line asked for something that does not exist (exit status 2)."""


class BusyError(MedpdfError):
    """Another medpdf process holds the output folder (exit status 1)."""


class ClusterError(MedpdfError):
    """The Dask scheduler cannot be reached or was lost, or a worker differs (exit 1)."""


class ConfigError(UsageError):
    """The config file (or a flag) holds a bad value: ``file:line: key: reason``, exit 2."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}")


class PrintError(MedpdfError):
    """CUPS could not take the job: client missing, scheduler down, printer refusing (exit 1).

    The message is squeezed onto one line, because parts of it come from ``lp``
    and ``lpstat``, whose own messages may span several.
    """


class PrinterStopped(PrintError):
    """The printer is paused (``cupsdisable``) or rejects jobs (``cupsreject``).

    ``message`` has CUPS's reason and the administrator's command, for the log and
    the command line; the station tells staff only that the printer is paused.
    """

    def __init__(self, message: str, printer: str, accepting: bool) -> None:
        super().__init__(message)
        self.printer = printer
        self.accepting = accepting


class PrintUnconfirmed(PrintError):
    """``lp`` may have queued the job without confirming it: the print may come out.

    It timed out, failed after the upload, or gave no job id; the record is kept.
    """


class PrinterChoiceError(UsageError):
    """No printer of that name, or none given and no default: a bad command line (exit 2)."""


class RecordError(MedpdfError):
    """The record of what was handed out cannot be read or written (damaged, busy), exit 1.

    A damaged record is reported, never replaced: it is the clinic's evidence.
    """


class ListedUsageError(UsageError):
    """Several bad names in one list (a formulary): one ``path:line: error:`` line each."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("; ".join(d.format() for d in self.diagnostics))
