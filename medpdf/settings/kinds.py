"""The kinds of value a setting can hold, each with one parsing rule.

A :class:`Kind` parses a flag, a ``medpdf.toml`` value and a station query
string with the same rule, so the three front doors cannot drift. Parsers take
a ``fail`` callback that turns a reason into the caller's own exception, so
each front door reports the same rule its own way (a ``file:line: key:`` line,
a click usage error, an HTTP 400 page). :mod:`medpdf.settings.options` declares the
settings themselves with these kinds.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

Fail = Callable[[str], Exception]


def show(value: object) -> str:
    """A value as it would be written in TOML, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


# -- kinds: one parsing rule per type of value -----------------------------------


class Kind(Generic[T]):
    """How one type of value is read from text (flags, queries) and from TOML."""

    metavar = "VALUE"

    def from_text(self, text: str, fail: Fail) -> T:
        """A value typed on a command line or sent in a query string."""
        raise NotImplementedError

    def from_toml(self, value: object, fail: Fail, folder: Path) -> T:
        """A value from ``medpdf.toml`` (``folder`` is the file's, for relative paths)."""
        if not isinstance(value, str):
            raise fail(f"must be a string, not {show(value)}")
        return self.from_text(value, fail)

    def to_text(self, value: T) -> str:
        """The value as text that :meth:`from_text` reads back (query strings, cache keys)."""
        return str(value)


@dataclass(frozen=True)
class Choice(Kind[str]):
    """One of a few names, any case."""

    choices: tuple[str, ...]

    @property
    def metavar(self) -> str:  # type: ignore[override]
        """``a4|letter``."""
        return "|".join(self.choices)

    def from_text(self, text: str, fail: Fail) -> str:
        """The name lower-cased, or a failure listing the choices."""
        name = text.strip().lower()
        if name not in self.choices:
            listed = " or ".join(f'"{c}"' for c in self.choices)
            raise fail(f"must be {listed}, not {show(text)}")
        return name


_TRUE = frozenset({"1", "true", "on", "yes"})
_FALSE = frozenset({"", "0", "false", "off", "no"})


@dataclass(frozen=True)
class Boolean(Kind[bool]):
    """On or off: ``--x/--no-x`` on the command line, ``true``/``false`` in TOML, 1/0 in queries."""

    metavar = "1|0"

    def from_text(self, text: str, fail: Fail) -> bool:
        """1/0, true/false, on/off, yes/no."""
        value = text.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise fail(f"must be 1 or 0, not {show(text)}")

    def from_toml(self, value: object, fail: Fail, folder: Path) -> bool:
        """TOML's own booleans only: ``"yes"`` in a settings file is a mistake worth a line."""
        if not isinstance(value, bool):
            raise fail(f"must be true or false, not {show(value)}")
        return value

    def to_text(self, value: bool) -> str:
        """``1`` or ``0``."""
        return "1" if value else "0"


@dataclass(frozen=True)
class Number(Kind[float]):
    """A number within bounds; ``whole`` numbers refuse fractions."""

    low: float
    high: float | None = None
    whole: bool = False

    @property
    def metavar(self) -> str:  # type: ignore[override]
        """``N`` for whole numbers, ``X`` otherwise."""
        return "N" if self.whole else "X"

    def _bounded(self, value: float, fail: Fail) -> float:
        kind = "a whole number" if self.whole else "a number"
        if self.high is None and value < self.low:
            raise fail(f"must be {kind} of at least {self.low:g}, not {value:g}")
        if self.high is not None and not self.low <= value <= self.high:
            raise fail(f"must be {kind} from {self.low:g} to {self.high:g}, not {value:g}")
        return int(value) if self.whole else value

    def from_text(self, text: str, fail: Fail) -> float:
        """Digits (and a decimal point unless whole)."""
        try:
            value = int(text.strip()) if self.whole else float(text.strip())
        except ValueError:
            kind = "a whole number" if self.whole else "a number"
            raise fail(f"must be {kind}, not {show(text)}") from None
        if value != value or value in (float("inf"), float("-inf")):  # NaN, infinity
            raise fail(f"must be a finite number, not {show(text)}")
        return self._bounded(value, fail)

    def from_toml(self, value: object, fail: Fail, folder: Path) -> float:
        """A TOML integer (or float, unless whole)."""
        wanted = (int,) if self.whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, wanted):
            kind = "a whole number" if self.whole else "a number"
            raise fail(f"must be {kind}, not {show(value)}")
        return self.from_text(str(value), fail)

    def to_text(self, value: float) -> str:
        """``8`` rather than ``8.0``."""
        return f"{value:g}"


@dataclass(frozen=True)
class Text(Kind[str]):
    """One line of text, checked by ``check`` when given."""

    check: Callable[[str, Fail], str] | None = None
    metavar: str = "TEXT"

    def from_text(self, text: str, fail: Fail) -> str:
        """Non-empty, one line, then the option's own check."""
        if not text.strip() or "\n" in text:
            raise fail("must be one non-empty line of text")
        value = text.strip()
        return self.check(value, fail) if self.check is not None else value


@dataclass(frozen=True)
class FilePath(Kind[str]):
    """A file's path; in ``medpdf.toml`` a relative path is relative to that file's folder."""

    metavar = "PATH"

    def from_text(self, text: str, fail: Fail) -> str:
        """One non-empty line, taken as given (relative to the working folder)."""
        return Text().from_text(text, fail)

    def from_toml(self, value: object, fail: Fail, folder: Path) -> str:
        """Resolved against the settings file's folder, so the station finds it from anywhere."""
        text = Text().from_toml(value, fail, folder)
        return str(folder / Path(text).expanduser())


_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*$")


@dataclass(frozen=True)
class Names(Kind[tuple[str, ...]]):
    """Host names: comma-separated on a command line, an array in ``medpdf.toml``."""

    metavar = "NAME,..."

    def from_text(self, text: str, fail: Fail) -> tuple[str, ...]:
        """``a.example, b`` → ``("a.example", "b")``, each a valid DNS name, lower-cased."""
        names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
        for name in names:
            if not _HOST_NAME.match(name):
                raise fail(f"must be host names such as printing.clinic.lan, not {show(name)}")
        return names

    def from_toml(self, value: object, fail: Fail, folder: Path) -> tuple[str, ...]:
        """An array of strings (one string is taken as one name)."""
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"must be an array of host names, not {show(value)}")
        return self.from_text(",".join(value), fail)

    def to_text(self, value: tuple[str, ...]) -> str:
        """Comma-separated."""
        return ",".join(value)


class Addresses(Kind[tuple[str, ...]]):
    """IP addresses or networks: comma-separated on a command line, an array in ``medpdf.toml``."""

    metavar = "ADDRESS,..."

    def from_text(self, text: str, fail: Fail) -> tuple[str, ...]:
        """``10.0.0.5, 192.0.2.0/24`` → each in its normal form."""
        found = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                network = ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise fail(
                    f"must be IP addresses or networks such as 10.0.0.5 or 10.0.0.0/24, "
                    f"not {show(part)}"
                ) from None
            single = network.num_addresses == 1
            found.append(str(network.network_address) if single else str(network))
        return tuple(found)

    def from_toml(self, value: object, fail: Fail, folder: Path) -> tuple[str, ...]:
        """An array of strings (one string is taken as one address)."""
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"must be an array of IP addresses, not {show(value)}")
        return self.from_text(",".join(value), fail)

    def to_text(self, value: tuple[str, ...]) -> str:
        """Comma-separated."""
        return ",".join(value)


# -- the checks behind the text options ------------------------------------------

_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def check_lang(value: str, fail: Fail) -> str:
    """A BCP 47-like tag (``en``, ``pt-BR``, ``zh-Hant-TW``): it becomes ``<html lang>``."""
    if not _LANG_TAG.match(value):
        raise fail(f'must be a language tag such as "en" or "pt-BR", not {show(value)}')
    return value


def check_qr_url(value: str, fail: Fail) -> str:
    """An http(s) URL with a ``{slug}`` placeholder."""
    if "{slug}" not in value:
        raise fail(f"must contain {{slug}}, not {show(value)}")
    parts = urlsplit(value.replace("{slug}", "slug"))
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise fail(f"must be an http:// or https:// URL, not {show(value)}")
    if any(ch.isspace() for ch in value):
        raise fail("must not contain spaces")
    return value


def check_record_folder(value: str, fail: Fail) -> str:
    """A folder path (relative ones to the working folder, as ``--content`` and ``--output``)."""
    if "\x00" in value or not value.strip():
        raise fail(f"must be a folder path, not {show(value)}")
    return value.strip()


def check_printer(value: str, fail: Fail) -> str:
    """A CUPS destination name (``Office`` or ``Office/duplex``), as ``lp -d`` takes it.

    CUPS names are printable characters without spaces, tabs, ``/`` or ``#``
    (``/`` only separates an lpoptions instance); refusing others here gives a
    clear line instead of "no printer named" listing printers that look the same.
    """
    name = value.strip()
    queue, slash, instance = name.partition("/")
    bad_instance = bool(slash) and (not instance or "/" in instance)
    if not queue or name.startswith("-") or len(queue) > 127 or bad_instance:
        raise fail(f"must be a CUPS printer name, not {show(value)}")
    if any(ch.isspace() or not ch.isprintable() or ch == "#" for ch in name):
        raise fail(f"a CUPS printer name has no spaces or '#', not {show(value)}")
    return name


def check_scheduler(value: str, fail: Fail) -> str:
    """A Dask scheduler address, ``tcp://HOST:PORT`` or ``tls://HOST:PORT`` (``HOST:PORT``: tcp)."""
    address = value if "://" in value else f"tcp://{value}"
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None or parts.path:
        raise fail(f"must be a scheduler address such as tcp://HOST:8786, not {show(value)}")
    return address


# -- paper: one table for stylesheet, CUPS media and label -----------------------


@dataclass(frozen=True)
class Paper:
    """A page size: the stylesheet that sets it, the name CUPS knows it by, its label."""

    name: str
    stylesheet: str
    cups_media: str
    label: str


PAPERS: Mapping[str, Paper] = {
    paper.name: paper
    for paper in (
        Paper("a4", "paper-a4.css", "A4", "A4 (210 \u00d7 297 mm)"),
        Paper("letter", "paper-letter.css", "Letter", "US Letter (8.5 \u00d7 11 in)"),
    )
}
