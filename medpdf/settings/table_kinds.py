"""Kinds of setting that are a whole ``medpdf.toml`` table: the clinic, the formulary.

Each key of such a table is checked on its own and a problem names it
(:class:`KeyedFail`), so ``medpdf.toml:12: clinic.logo: ...`` points at the
line to fix. Files they name (a logo, a formulary list) are read here, inside
the project folder only, so their bytes join the cache key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from medpdf.settings.kinds import Fail, Kind, Text, show

# -- the clinic: a whole [clinic] table ------------------------------------------


@dataclass(frozen=True)
class ClinicInfo:
    """The clinic a handout is printed for; the logo is already a ``data:`` URI.

    Reading the logo here (not in the PDF stage) keeps the restricted fetcher
    strict and makes the logo's bytes part of the cache key.
    """

    name: str | None = None
    address: str | None = None
    phone: str | None = None
    logo_uri: str | None = None


#: Logos are small images; anything bigger is a mistake (or not a logo).
MAX_LOGO_BYTES = 1024 * 1024
_LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class KeyedFail(Exception):
    """A problem with one key inside a table-valued option (``clinic.logo``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Clinic(Kind[ClinicInfo | None]):
    """The ``[clinic]`` table: name, address, phone and a logo file inside the project."""

    keys = ("name", "address", "phone", "logo")
    metavar = "TABLE"

    def from_text(self, text: str, fail: Fail) -> ClinicInfo | None:
        """Not settable as text."""
        raise fail("is set in the [clinic] table of medpdf.toml only")

    def from_toml(self, value: object, fail: Fail, folder: Path) -> ClinicInfo | None:
        """Each key one line of text; the logo read into a ``data:`` URI. None when empty."""
        if not isinstance(value, dict):
            raise fail(f"must be a table [clinic], not {show(value)}")
        for key in value:
            if key not in self.keys:
                raise KeyedFail(key, f"unknown key (known: {', '.join(sorted(self.keys))})")
        fields: dict[str, str | None] = {}
        for key in self.keys:
            raw = value.get(key)

            def failing(message: str, key: str = key) -> Exception:
                return KeyedFail(key, message)

            fields[key] = None if raw is None else Text().from_toml(raw, failing, folder)
        logo = fields.pop("logo")
        info = ClinicInfo(**fields, logo_uri=_logo_uri(logo, folder) if logo else None)
        return info if info != ClinicInfo() else None

    def to_text(self, value: ClinicInfo | None) -> str:
        """Every field, the logo's bytes included, so a new logo changes the cache key."""
        return json.dumps(None if value is None else vars(value), sort_keys=True)


def _logo_uri(value: str, project: Path) -> str:
    """Read the logo file into a ``data:`` URI, refusing anything outside the project."""
    candidate = Path(value)
    path = (candidate if candidate.is_absolute() else project / candidate).resolve()
    if not path.is_relative_to(project):
        raise KeyedFail("logo", f"must be inside the project folder {project}")
    mime = _LOGO_TYPES.get(path.suffix.lower())
    if mime is None:
        raise KeyedFail("logo", f"must be an .svg or .png file, not {show(value)}")
    try:
        if path.stat().st_size > MAX_LOGO_BYTES:
            raise KeyedFail("logo", f"is larger than {MAX_LOGO_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise KeyedFail("logo", f"cannot read {value}: {exc.strerror or exc}") from None
    looks_right = data.startswith(_PNG_MAGIC) if mime == "image/png" else b"<svg" in data[:4096]
    if not looks_right:
        kind = "PNG" if mime == "image/png" else "SVG"
        raise KeyedFail("logo", f"{value} is not a {kind} image")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


# -- the formulary: the monographs a clinic stocks ---------------------------------


@dataclass(frozen=True)
class FormularyList:
    """Names of the monographs a clinic's booklet holds (slugs or titles), as written.

    ``origin`` is where the list was read (a file, or ``medpdf.toml``) and each
    name keeps its line there, so an unknown name is reported at its line.
    """

    origin: str
    names: tuple[tuple[int | None, str], ...]


#: A formulary file is a hand-written list; a bigger file is a mistake.
MAX_FORMULARY_BYTES = 1024 * 1024


def formulary_lines(text: str) -> tuple[tuple[int | None, str], ...]:
    """One name per line; ``#`` starts a comment; blank lines are skipped."""
    found: list[tuple[int | None, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if name:
            found.append((number, name))
    return tuple(found)


@dataclass(frozen=True)
class Formulary(Kind[FormularyList | None]):
    """``--only FILE`` (a text file, one name a line) or ``[formulary] names = [...]``."""

    metavar = "FILE"

    def from_text(self, text: str, fail: Fail) -> FormularyList | None:
        """Read the file named on the command line."""
        return self._read(Path(text.strip()), text, fail)

    def from_toml(self, value: object, fail: Fail, folder: Path) -> FormularyList | None:
        """A list of names, or the name of a file relative to ``medpdf.toml``."""
        if isinstance(value, str):
            path = Path(value)
            return self._read(path if path.is_absolute() else folder / path, value, fail)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"must be a list of names or a file name, not {show(value)}")
        names = tuple((None, v.strip()) for v in value if v.strip())
        return FormularyList(str(folder / "medpdf.toml"), names)

    @staticmethod
    def _read(path: Path, given: str, fail: Fail) -> FormularyList:
        try:
            if path.stat().st_size > MAX_FORMULARY_BYTES:
                raise fail(f"{given} is larger than {MAX_FORMULARY_BYTES} bytes")
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise fail(f"cannot read {show(given)}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise fail(f"{show(given)} is not UTF-8 text") from None
        return FormularyList(str(path), formulary_lines(text))

    def to_text(self, value: FormularyList | None) -> str:
        """The names (not where they came from): the same list is the same booklet."""
        return json.dumps(None if value is None else [n for _, n in value.names])
