"""Where things live, which options a build runs with, and reading ``medpdf.toml``.

The presentation files (``templates/``, ``styles/``, ``assets/``) sit at the
repository root in a checkout and inside the package in a wheel; finding them in
one place keeps every other module free of path guessing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from medpdf.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent

PAPER_SIZES = ("a4", "letter")

#: Links between the separately laid-out parts of the booklet: kept as URIs by
#: the PDF stage, turned into in-document destinations after the merge. Content
#: cannot make them: the sanitizer keeps only http(s) and mailto links.
CROSS_DOCUMENT_SCHEME = "x-dest:"


def _resources_root() -> Path:
    bundled = PACKAGE_DIR / "_resources"
    if (bundled / "templates").is_dir():
        return bundled
    return PACKAGE_DIR.parent


@dataclass(frozen=True)
class Resources:
    """The trusted presentation files; the PDF stage may read these and nothing else."""

    root: Path

    @property
    def templates(self) -> Path:
        """Jinja2 templates."""
        return self.root / "templates"

    @property
    def styles(self) -> Path:
        """Print stylesheets."""
        return self.root / "styles"

    @property
    def assets(self) -> Path:
        """Images and other files templates may reference."""
        return self.root / "assets"

    @property
    def readable_dirs(self) -> tuple[Path, ...]:
        """Folders the restricted URL fetcher may serve files from."""
        return (self.templates, self.styles, self.assets)


DEFAULT_RESOURCES = Resources(_resources_root())


@dataclass(frozen=True)
class ClinicInfo:
    """The clinic a handout is printed for; the logo is already a ``data:`` URI.

    Reading the logo here (not in the PDF stage) keeps the restricted fetcher
    strict and makes the logo's bytes part of the config a cache key is built from.
    """

    name: str | None = None
    address: str | None = None
    phone: str | None = None
    logo_uri: str | None = None


@dataclass(frozen=True)
class Config:
    """Options for one run: everything that changes a PDF, as plain picklable values.

    ``printed`` is fixed when the config is made, so every handout of a run (and
    every worker process) prints the same date.
    """

    content_dir: Path = Path("content")
    output_dir: Path = Path("output")
    paper: str = "a4"
    lang: str = "en"
    large_print: bool = False
    patient_fields: bool = False
    qr_url: str | None = None
    max_grade: int = 8
    printer: str | None = None  # CUPS queue for `medpdf print`; None: CUPS's default
    clinic: ClinicInfo | None = None
    printed: dt.date = field(default_factory=dt.date.today)
    resources: Resources = DEFAULT_RESOURCES

    @property
    def handouts_dir(self) -> Path:
        """Where batch handouts are written."""
        return self.output_dir / "handouts"

    @property
    def booklet_path(self) -> Path:
        """Where the reference booklet is written."""
        return self.output_dir / "booklet.pdf"

    def online_url(self, slug: str) -> str | None:
        """The drug's online page, with the slug percent-encoded; None without ``qr_url``."""
        if self.qr_url is None:
            return None
        return self.qr_url.replace("{slug}", quote(slug, safe=""))


CONFIG_FILE = Path("medpdf.toml")

#: Logos are small images; anything bigger is a mistake (or not a logo).
MAX_LOGO_BYTES = 1024 * 1024

_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

_KEYS: dict[str, frozenset[str]] = {
    "clinic": frozenset({"name", "address", "phone", "logo"}),
    "output": frozenset({"paper", "large_print", "lang", "qr_url"}),
    "check": frozenset({"max_grade"}),
    "print": frozenset({"printer"}),
}


def _show(value: object) -> str:
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


def _key_line(text: str, table: str, key: str | None) -> int | None:
    """Line of ``[table]`` (or of ``key`` inside it): good enough for hand-written files."""
    current = ""
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.strip("[]").split("#")[0].strip().strip("]").strip()
            if key is None and current == table:
                return number
            continue
        if key is not None and current == table:
            name = stripped.split("=", 1)[0].strip().strip("\"'")
            if "=" in stripped and name == key:
                return number
    return None


class _Reader:
    """Validates one parsed TOML document and reports the first problem with its key."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, table: str, key: str | None, message: str) -> ConfigError:
        """An error naming the file, the line when found, and the dotted key."""
        line = _key_line(self.text, table, key)
        name = ".".join(part for part in (table, key) if part)
        return ConfigError(str(self.path), line, f"{name}: {message}")

    def tables(self, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The known tables, refusing unknown sections, keys and non-table values."""
        found: dict[str, dict[str, Any]] = {}
        for name, value in data.items():
            if name not in _KEYS:
                known = ", ".join(f"[{n}]" for n in _KEYS)
                if isinstance(value, dict):
                    raise self.fail(name, None, f"unknown section (known: {known})")
                raise self.fail("", name, f"unknown key outside a section (known: {known})")
            if not isinstance(value, dict):
                raise self.fail("", name, f"must be a table [{name}], not {_show(value)}")
            for key in value:
                if key not in _KEYS[name]:
                    known = ", ".join(sorted(_KEYS[name]))
                    raise self.fail(name, key, f"unknown key (known: {known})")
            found[name] = value
        return found

    def text_value(self, table: dict[str, Any], name: str, key: str) -> str | None:
        """A non-empty single-line string, or None when absent."""
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(name, key, f"must be a string, not {_show(value)}")
        if not value.strip() or "\n" in value:
            raise self.fail(name, key, "must be one non-empty line of text")
        return value.strip()

    def bool_value(self, table: dict[str, Any], name: str, key: str) -> bool | None:
        """True/false, or None when absent."""
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, bool):
            raise self.fail(name, key, f"must be true or false, not {_show(value)}")
        return value

    def logo(self, value: str) -> str:
        """Read the logo file into a ``data:`` URI, refusing anything outside the project."""
        project = self.path.resolve().parent
        candidate = Path(value)
        path = (candidate if candidate.is_absolute() else project / candidate).resolve()
        if not path.is_relative_to(project):
            raise self.fail("clinic", "logo", f"must be inside the project folder {project}")
        mime = _LOGO_TYPES.get(path.suffix.lower())
        if mime is None:
            raise self.fail("clinic", "logo", f"must be an .svg or .png file, not {_show(value)}")
        try:
            if path.stat().st_size > MAX_LOGO_BYTES:
                raise self.fail("clinic", "logo", f"is larger than {MAX_LOGO_BYTES} bytes")
            data = path.read_bytes()
        except OSError as exc:
            raise self.fail(
                "clinic", "logo", f"cannot read {value}: {exc.strerror or exc}"
            ) from None
        looks_right = data.startswith(_PNG_MAGIC) if mime == "image/png" else b"<svg" in data[:4096]
        if not looks_right:
            kind = "PNG" if mime == "image/png" else "SVG"
            raise self.fail("clinic", "logo", f"{value} is not a {kind} image")
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    def clinic(self, table: dict[str, Any]) -> ClinicInfo | None:
        """The [clinic] table; None when it says nothing."""
        logo = self.text_value(table, "clinic", "logo")
        info = ClinicInfo(
            name=self.text_value(table, "clinic", "name"),
            address=self.text_value(table, "clinic", "address"),
            phone=self.text_value(table, "clinic", "phone"),
            logo_uri=self.logo(logo) if logo else None,
        )
        return info if info != ClinicInfo() else None

    def output(self, table: dict[str, Any]) -> dict[str, Any]:
        """Config fields from the [output] table."""
        found: dict[str, Any] = {}
        if (paper := self.text_value(table, "output", "paper")) is not None:
            found["paper"] = check_paper(paper, lambda m: self.fail("output", "paper", m))
        if (large := self.bool_value(table, "output", "large_print")) is not None:
            found["large_print"] = large
        if (lang := self.text_value(table, "output", "lang")) is not None:
            found["lang"] = check_lang(lang, lambda m: self.fail("output", "lang", m))
        if (url := self.text_value(table, "output", "qr_url")) is not None:
            found["qr_url"] = check_qr_url(url, lambda m: self.fail("output", "qr_url", m))
        return found

    def check(self, table: dict[str, Any]) -> dict[str, Any]:
        """Config fields from the [check] table."""
        if "max_grade" not in table:
            return {}
        value = table["max_grade"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20:
            raise self.fail(
                "check", "max_grade", f"must be a whole number 1-20, not {_show(value)}"
            )
        return {"max_grade": value}

    def printing(self, table: dict[str, Any]) -> dict[str, Any]:
        """Config fields from the [print] table."""
        if (name := self.text_value(table, "print", "printer")) is None:
            return {}
        return {"printer": check_printer(name, lambda m: self.fail("print", "printer", m))}


Fail = Callable[[str], Exception]


def check_paper(value: str, fail: Fail) -> str:
    """``a4`` or ``letter`` (any case)."""
    paper = value.strip().lower()
    if paper not in PAPER_SIZES:
        raise fail(f'must be "a4" or "letter", not {_show(value)}')
    return paper


def check_lang(value: str, fail: Fail) -> str:
    """A BCP 47-like tag (``en``, ``pt-BR``, ``zh-Hant-TW``): it becomes ``<html lang>``."""
    if not _LANG_TAG.match(value):
        raise fail(f'must be a language tag such as "en" or "pt-BR", not {_show(value)}')
    return value


def check_qr_url(value: str, fail: Fail) -> str:
    """An http(s) URL with a ``{slug}`` placeholder."""
    if "{slug}" not in value:
        raise fail(f"must contain {{slug}}, not {_show(value)}")
    parts = urlsplit(value.replace("{slug}", "slug"))
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise fail(f"must be an http:// or https:// URL, not {_show(value)}")
    if any(ch.isspace() for ch in value):
        raise fail("must not contain spaces")
    return value


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
        raise fail(f"must be a CUPS printer name, not {_show(value)}")
    if any(ch.isspace() or not ch.isprintable() or ch == "#" for ch in name):
        raise fail(f"a CUPS printer name has no spaces or '#', not {_show(value)}")
    return name


def load(
    path: Path | None = None,
    *,
    content_dir: Path | None = None,
    paper: str | None = None,
    lang: str | None = None,
    large_print: bool | None = None,
    patient_fields: bool | None = None,
    printer: str | None = None,
) -> Config:
    """The run's config: defaults, then ``path`` (or ./medpdf.toml), then the flags.

    A flag left as None was not given and does not override the file. Raises
    :class:`ConfigError` (one line naming the file, line and key, or the flag).
    """
    settings: dict[str, Any] = {}
    if path is None and CONFIG_FILE.is_file():
        path = CONFIG_FILE
    if path is not None:
        settings = read_file(path)
    if content_dir is not None:
        settings["content_dir"] = content_dir
    if paper is not None:
        settings["paper"] = check_paper(paper, lambda m: ConfigError("--paper", None, m))
    if lang is not None:
        settings["lang"] = check_lang(lang, lambda m: ConfigError("--lang", None, m))
    if large_print is not None:
        settings["large_print"] = large_print
    if patient_fields is not None:
        settings["patient_fields"] = patient_fields
    if printer is not None:
        settings["printer"] = check_printer(printer, lambda m: ConfigError("--printer", None, m))
    return Config(**settings)


def read_file(path: Path) -> dict[str, Any]:
    """Config fields set by one TOML file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read config: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), None, "config is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_LINE.search(message)
        line = int(match.group(1)) if match else None
        raise ConfigError(
            str(path), line, f"invalid TOML: {_TOML_LINE.sub('', message).strip()}"
        ) from None
    reader = _Reader(path, text)
    tables = reader.tables(data)
    settings: dict[str, Any] = {}
    settings.update(reader.output(tables.get("output", {})))
    settings.update(reader.check(tables.get("check", {})))
    settings.update(reader.printing(tables.get("print", {})))
    if "clinic" in tables:
        settings["clinic"] = reader.clinic(tables["clinic"])
    return settings
