"""Where things live, the settings a run uses, and reading ``medpdf.toml``.

Settings are the options of :mod:`medpdf.settings.options`: this module only applies
that table (defaults, then the file, then the flags) and knows nothing of any
single option. The presentation files (``templates/``, ``styles/``,
``assets/``) sit at the repository root in a checkout and inside the package
in a wheel; finding them here keeps every other module free of path guessing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from medpdf.errors import ConfigError
from medpdf.settings import options
from medpdf.settings.kinds import show
from medpdf.settings.option import Option
from medpdf.settings.options import QR_URL
from medpdf.settings.table_kinds import KeyedFail

PACKAGE_DIR = Path(__file__).resolve().parent.parent

T = TypeVar("T")

CONFIG_FILE = Path("medpdf.toml")


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
    def locale(self) -> Path:
        """Message catalogs (``<catalog>/LC_MESSAGES/medpdf.po`` and its compiled ``.mo``)."""
        return self.root / "locale"

    @property
    def readable_dirs(self) -> tuple[Path, ...]:
        """Folders the restricted URL fetcher may serve files from."""
        return (self.templates, self.styles, self.assets)


DEFAULT_RESOURCES = Resources(_resources_root())


def today() -> dt.date:
    """The date printed on what is made now.

    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention, also honoured by
    Sphinx) fixes it, so a build can be reproduced or dated on purpose.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.date.today()


def now() -> dt.datetime:
    """The moment (UTC) a record says something was handed out, by the same clock as :func:`today`.

    With ``SOURCE_DATE_EPOCH`` both are that moment, so a record's time and the
    date printed on its PDF (its ``day``) never disagree.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC)


def _default_values() -> tuple[tuple[str, Any], ...]:
    return tuple(options.defaults().items())


@dataclass(frozen=True)
class Config:
    """The settings of one run, as plain picklable, hashable values.

    ``values`` holds every option of the table, by name; read one with
    ``config[options.PAPER]``. ``given`` names those a file or flag set (the
    rest are defaults). ``printed`` is fixed when the config is made, so every
    document of a run (and every worker) prints the same date.
    """

    content_dir: Path = Path("content")
    output_dir: Path = Path("output")
    values: tuple[tuple[str, Any], ...] = field(default_factory=_default_values)
    given: frozenset[str] = frozenset()
    printed: dt.date = field(default_factory=today)
    resources: Resources = DEFAULT_RESOURCES

    @cached_property
    def settings(self) -> Mapping[str, Any]:
        """``values`` as a mapping (cached: frozen dataclasses still have a ``__dict__``)."""
        return dict(self.values)

    def __getitem__(self, option: Option[T]) -> T:
        value: T = self.settings[option.name]
        return value

    def is_given(self, option: Option[Any]) -> bool:
        """True when a file or flag set the option, rather than its default."""
        return option.name in self.given

    def replace(self, **changes: Any) -> Config:
        """The same config with some option values changed (already validated)."""
        unknown = set(changes) - set(self.settings)
        if unknown:
            raise KeyError(f"no such option: {', '.join(sorted(unknown))}")
        merged = {**self.settings, **changes}
        return Config(
            self.content_dir,
            self.output_dir,
            tuple(merged.items()),
            self.given | set(changes),
            self.printed,
            self.resources,
        )

    @property
    def handouts_dir(self) -> Path:
        """Where batch handouts are written."""
        return self.output_dir / "handouts"

    @property
    def booklet_path(self) -> Path:
        """Where the reference booklet is written."""
        return self.output_dir / "booklet.pdf"

    @property
    def cache_dir(self) -> Path:
        """The build cache beside the outputs."""
        return self.output_dir / ".cache"

    def online_url(self, slug: str) -> str | None:
        """The drug's online page, with the slug percent-encoded; None without ``qr_url``."""
        url = self[QR_URL]
        if url is None:
            return None
        return url.replace("{slug}", quote(slug, safe=""))


def make(
    *,
    content_dir: Path = Path("content"),
    output_dir: Path = Path("output"),
    printed: dt.date | None = None,
    resources: Resources = DEFAULT_RESOURCES,
    **values: Any,
) -> Config:
    """A config from Python values (tests, benchmarks): defaults with ``values`` on top."""
    base = Config(content_dir, output_dir, printed=printed or today(), resources=resources)
    return base.replace(**values) if values else base


# -- medpdf.toml ---------------------------------------------------------------------

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def key_line(text: str, table: str, key: str | None) -> int | None:
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


def _layout(table: Iterable[Option[Any]]) -> dict[str, dict[str | None, Option[Any]]]:
    """TOML table name → key → option (key None: the whole table is one option)."""
    found: dict[str, dict[str | None, Option[Any]]] = {}
    for option in table:
        if option.toml is not None:
            name, key = option.toml
            found.setdefault(name, {})[key] = option
    return found


class _Reader:
    """Validates one parsed TOML document against the option table."""

    def __init__(self, path: Path, text: str, table: Iterable[Option[Any]]) -> None:
        self.path = path
        self.text = text
        self.layout = _layout(table)

    def fail(self, table: str, key: str | None, message: str) -> ConfigError:
        """An error naming the file, the line when found, and the dotted key."""
        line = key_line(self.text, table, key)
        name = ".".join(part for part in (table, key) if part)
        return ConfigError(str(self.path), line, f"{name}: {message}")

    def read(self, data: dict[str, Any]) -> dict[str, Any]:
        """Option values by name, refusing unknown tables and keys and bad values."""
        known = ", ".join(f"[{n}]" for n in self.layout)
        found: dict[str, Any] = {}
        folder = self.path.resolve().parent
        for name, value in data.items():
            keys = self.layout.get(name)
            if keys is None:
                if isinstance(value, dict):
                    raise self.fail(name, None, f"unknown section (known: {known})")
                raise self.fail("", name, f"unknown key outside a section (known: {known})")
            if not isinstance(value, dict):
                raise self.fail("", name, f"must be a table [{name}], not {show(value)}")
            whole = keys.get(None)
            if whole is not None:
                found[whole.name] = self._value(whole, name, None, value, folder)
                continue
            for key, raw in value.items():
                option = keys.get(key)
                if option is None:
                    listed = ", ".join(sorted(k for k in keys if k is not None))
                    raise self.fail(name, key, f"unknown key (known: {listed})")
                found[option.name] = self._value(option, name, key, raw, folder)
        return found

    def _value(
        self, option: Option[Any], table: str, key: str | None, raw: object, folder: Path
    ) -> Any:
        try:
            return option.kind.from_toml(raw, lambda m: self.fail(table, key, m), folder)
        except KeyedFail as exc:  # a key inside a table-valued option
            raise self.fail(table, exc.key, exc.message) from None


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and data; a problem is a :class:`ConfigError` with its line."""
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
    return text, data


def read_file(path: Path, table: Iterable[Option[Any]] | None = None) -> dict[str, Any]:
    """Option values set by one TOML file, by option name."""
    text, data = read_toml(path)
    return _Reader(path, text, options.table_or_all(table)).read(data)


def load(
    path: Path | None = None,
    *,
    content_dir: Path | None = None,
    output_dir: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    table: Iterable[Option[Any]] | None = None,
) -> Config:
    """The run's config: defaults, then ``path`` (or ./medpdf.toml), then the flags.

    ``flags`` holds values already parsed by each option's rule (the CLI does
    that); a flag left as None was not given and does not override the file.
    Raises :class:`ConfigError` (one line naming the file, line and key).
    """
    table = options.table_or_all(table)
    if path is None and CONFIG_FILE.is_file():
        path = CONFIG_FILE
    settings = read_file(path, table) if path is not None else {}
    settings.update({name: value for name, value in (flags or {}).items() if value is not None})
    values = {**options.defaults(table), **settings}
    return Config(
        content_dir=content_dir if content_dir is not None else Path("content"),
        output_dir=output_dir if output_dir is not None else Path("output"),
        values=tuple(values.items()),
        given=frozenset(settings),
    )
