"""Every setting medpdf has, declared once.

Each :class:`Option` states its type (a :class:`Kind`, whose one rule parses a
flag, a ``medpdf.toml`` value and a station query string alike), its default,
its place in ``medpdf.toml``, its command-line flag and help, the commands that
take it, whether the printing station may set it per request, and what a change
to it invalidates. :mod:`medpdf.settings.config` (the TOML reader and ``Config``),
:mod:`medpdf.cli` (the flags), the station's query parsing and the render
fingerprint (an allowlist of the options that change a PDF) are all derived
from :data:`OPTIONS`: a new option is one entry here.

The kinds of value (and their parsing rules) live in :mod:`medpdf.settings.kinds`,
what an option is (:class:`Option`) in :mod:`medpdf.settings.option`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from medpdf.settings.kinds import (
    PAPERS,
    Addresses,
    Boolean,
    Choice,
    Fail,
    FilePath,
    Names,
    Number,
    Text,
    check_lang,
    check_printer,
    check_qr_url,
    check_record_folder,
    check_scheduler,
)
from medpdf.settings.option import (
    BATCH_COMMANDS,
    HANDOUT_COMMANDS,
    LOOK_COMMANDS,
    RENDER_COMMANDS,
    Invalidates,
    Option,
)
from medpdf.settings.table_kinds import Clinic, ClinicInfo, Formulary, FormularyList

PAPER: Option[str] = Option(
    "paper",
    Choice(tuple(PAPERS)),
    "a4",
    "Page size.",
    toml=("output", "paper"),
    flag="--paper",
    commands=LOOK_COMMANDS,
    station=True,
    invalidates=Invalidates.OUTPUT,
)
LARGE_PRINT: Option[bool] = Option(
    "large_print",
    Boolean(),
    False,
    "Body text 16 pt, headings and margins scaled.",
    toml=("output", "large_print"),
    flag="--large-print",
    commands=LOOK_COMMANDS,
    station=True,
    invalidates=Invalidates.OUTPUT,
)
LANG: Option[str] = Option(
    "lang",
    Text(check_lang, metavar="TAG"),
    "en",
    "Language wanted, e.g. es or pt-BR: the booklet holds the monographs in that language, "
    "in its alphabetical order, and speaks it; handout, pack and print take each medicine's "
    "translation into it where there is one (a pack says on page 1 which have none).",
    toml=("output", "lang"),
    flag="--lang",
    commands=frozenset({"booklet", "build", "handout", "pack", "print"}),
    invalidates=Invalidates.OUTPUT,
)
CONTENT_LANG: Option[str] = Option(
    "content_lang",
    Text(check_lang, metavar="TAG"),
    "en",
    "Language of monographs whose front matter has no lang:, e.g. en.",
    toml=("output", "content_lang"),
    flag="--content-lang",
    commands=RENDER_COMMANDS | {"check"},
    invalidates=Invalidates.OUTPUT,
)
ALSO: Option[str | None] = Option(
    "also",
    Text(check_lang, metavar="LANG"),
    None,
    "Put the drug's translation into LANG beside it, section by section (bilingual handout).",
    flag="--also",
    commands=frozenset({"handout", "print"}),
    invalidates=Invalidates.OUTPUT,
)
PATIENT_FIELDS: Option[bool] = Option(
    "patient_fields",
    Boolean(),
    False,
    "Blank lines for patient name, prescriber and date on page 1.",
    toml=("output", "patient_fields"),
    flag="--patient-fields",
    commands=HANDOUT_COMMANDS,
    station=True,
    invalidates=Invalidates.OUTPUT,
)
QR_URL: Option[str | None] = Option(
    "qr_url",
    Text(check_qr_url, metavar="URL"),
    None,
    "Web address of each drug's online page, with {slug}; adds a QR code to handouts.",
    toml=("output", "qr_url"),
    invalidates=Invalidates.OUTPUT,
)
CLINIC: Option[ClinicInfo | None] = Option(
    "clinic",
    Clinic(),
    None,
    "The clinic's name, address, phone and logo, printed above each handout's title.",
    toml=("clinic", None),
    invalidates=Invalidates.OUTPUT,
)
FORMULARY: Option[FormularyList | None] = Option(
    "formulary",
    Formulary(),
    None,
    "Build the booklet of only the monographs named in FILE "
    "(one slug or title a line, # comments); none: every monograph.",
    toml=("formulary", "names"),
    flag="--only",
    commands=frozenset({"booklet", "build"}),
)
VOLUME_PAGES: Option[float | None] = Option(
    "volume_pages",
    Number(8, whole=True),
    None,
    "Split the booklet into bound volumes of at most N pages (booklet-vol01.pdf, ...), "
    "cut between monographs; none: one booklet.",
    toml=("booklet", "volume_pages"),
    flag="--volume-pages",
    commands=frozenset({"booklet", "build"}),
)
DUPLEX: Option[bool] = Option(
    "duplex",
    Boolean(),
    False,
    "Booklet for two-sided printing: mirrored margins with a wider inner margin; "
    "each part (front matter, a run of monographs, the index) starts on a right-hand "
    "page (a left page left empty says so).",
    toml=("booklet", "duplex"),
    flag="--duplex",
    commands=frozenset({"booklet", "build"}),
    invalidates=Invalidates.OUTPUT,
)
COMPACT: Option[bool] = Option(
    "compact",
    Boolean(),
    False,
    "Compact booklet, set like a formulary: two columns of 9 pt text, monographs "
    "running on, the first and last drug of each page in its running heads.",
    toml=("booklet", "compact"),
    flag="--compact",
    commands=frozenset({"booklet", "build"}),
    invalidates=Invalidates.OUTPUT,
)
MAX_GRADE: Option[float] = Option(
    "max_grade",
    Number(1, 20),
    8.0,
    "Warn for each monograph whose Flesch-Kincaid reading grade is above this; "
    "without it, check prints one summary line.",
    toml=("check", "max_grade"),
    flag="--max-grade",
    commands=frozenset({"check"}),
)
PRINTER: Option[str | None] = Option(
    "printer",
    Text(check_printer, metavar="NAME"),
    None,
    "CUPS printer (queue) name; none: CUPS's default.",
    toml=("print", "printer"),
    flag="--printer",
    commands=frozenset({"print", "reprint"}),
)
RECORD_FOLDER: Option[str | None] = Option(
    "record_folder",
    Text(check_record_folder, metavar="DIR"),
    None,
    "Folder of the record of what was handed out (SQLite database and kept PDFs); "
    "none: record/ in the output folder.",
    toml=("record", "folder"),
)
KEEP_DAYS: Option[float | None] = Option(
    "keep_days",
    Number(1, whole=True),
    None,
    "Days a record is kept; older ones are pruned, with PDFs no kept record points to; "
    "none: keep everything.",
    toml=("record", "keep_days"),
)
JOBS: Option[float | None] = Option(
    "jobs",
    Number(1, whole=True),
    None,
    "Render processes to run at once; none: one per CPU.",
    toml=("build", "jobs"),
    flag="--jobs",
    commands=BATCH_COMMANDS,
)
TIME_LIMIT: Option[float] = Option(
    "time_limit",
    Number(1),
    120.0,
    "Seconds one handout may take to render (a booklet chunk of n monographs: n times that).",
    toml=("build", "time_limit"),
    flag="--time-limit",
    commands=RENDER_COMMANDS,
)
MEMORY_LIMIT: Option[float] = Option(
    "memory_limit",
    Number(128, whole=True),
    1024,
    "Memory (address space) one render may use, in MiB.",
    toml=("build", "memory_limit"),
    flag="--memory-limit",
    commands=RENDER_COMMANDS,
)
SCHEDULER: Option[str | None] = Option(
    "scheduler",
    Text(check_scheduler, metavar="tcp://HOST:PORT"),
    None,
    "Dask scheduler to send renders to (needs medpdf[cluster]); none: worker processes here.",
    toml=("build", "scheduler"),
    flag="--scheduler",
    commands=frozenset({"handouts", "booklet", "build"}),
)
SCHEDULER_INSECURE: Option[bool] = Option(
    "scheduler_insecure",
    Boolean(),
    False,
    "Allow sending renders over plain tcp:// (unencrypted, unauthenticated) to a Dask "
    "scheduler on another machine: only on a private network you trust. Not needed for "
    "tls:// or a scheduler on this computer.",
    toml=("build", "scheduler_insecure"),
    flag="--scheduler-insecure",
    commands=frozenset({"handouts", "booklet", "build"}),
)
HOST: Option[str] = Option(
    "host",
    Text(metavar="ADDRESS"),
    "127.0.0.1",
    "Address the station listens on.",
    toml=("station", "host"),
    flag="--host",
    commands=frozenset({"serve"}),
)
PORT: Option[float] = Option(
    "port",
    Number(0, 65535, whole=True),
    8000,
    "Port the station listens on (0: any free port).",
    toml=("station", "port"),
    flag="--port",
    commands=frozenset({"serve"}),
)
QUEUE: Option[float] = Option(
    "queue",
    Number(0, whole=True),
    64,
    "Renders that may wait for a free worker; more requests get 503 Busy.",
    toml=("station", "queue"),
    flag="--queue",
    commands=frozenset({"serve"}),
)
CACHE_SIZE: Option[float] = Option(
    "cache_size",
    Number(1, whole=True),
    512,
    "MiB of rendered PDFs the station keeps; the least recently used go first.",
    toml=("station", "cache_size"),
    flag="--cache-size",
    commands=frozenset({"serve"}),
)

REQUEST_TIMEOUT: Option[float] = Option(
    "request_timeout",
    Number(1, 600),
    10.0,
    "Seconds a client may take to send a whole request (headers and body); "
    "slower connections are closed.",
    toml=("station", "request_timeout"),
    flag="--request-timeout",
    commands=frozenset({"serve"}),
)
MAX_CONNECTIONS: Option[float] = Option(
    "max_connections",
    Number(10, 10000, whole=True),
    500,
    "Connections the station holds at once; over it, the one waiting longest "
    "for its request is closed.",
    toml=("station", "max_connections"),
    flag="--max-connections",
    commands=frozenset({"serve"}),
)
USERS_FILE: Option[str | None] = Option(
    "users_file",
    FilePath(),
    None,
    "The station's accounts file; none: ~/.config/medpdf/users.json (or under $XDG_CONFIG_HOME).",
    toml=("station", "users_file"),
    flag="--users-file",
    commands=frozenset({"serve", "users"}),
)
HOST_NAMES: Option[tuple[str, ...]] = Option(
    "host_names",
    Names(),
    (),
    "Host names staff type to reach the station (comma-separated), besides its address; "
    "requests naming any other host are refused.",
    toml=("station", "host_names"),
    flag="--host-names",
    commands=frozenset({"serve"}),
)
TRUSTED_PROXIES: Option[tuple[str, ...]] = Option(
    "trusted_proxies",
    Addresses(),
    (),
    "Addresses of reverse proxies in front of the station (comma-separated, networks "
    "allowed) whose X-Forwarded-For and X-Forwarded-Proto are believed; from anyone else "
    "these headers are ignored. Default: none.",
    toml=("station", "trusted_proxies"),
    flag="--trusted-proxies",
    commands=frozenset({"serve"}),
)
CERTFILE: Option[str | None] = Option(
    "certfile",
    FilePath(),
    None,
    "TLS certificate (PEM) for https; needs --keyfile.",
    toml=("station", "certfile"),
    flag="--certfile",
    commands=frozenset({"serve"}),
)
KEYFILE: Option[str | None] = Option(
    "keyfile",
    FilePath(),
    None,
    "TLS private key (PEM) of --certfile.",
    toml=("station", "keyfile"),
    flag="--keyfile",
    commands=frozenset({"serve"}),
)
SESSION_IDLE: Option[float] = Option(
    "session_idle",
    Number(1, 24 * 60, whole=True),
    30,
    "Minutes a login lasts without use.",
    toml=("station", "session_idle"),
    flag="--session-idle",
    commands=frozenset({"serve"}),
)
SESSION_MAX: Option[float] = Option(
    "session_max",
    Number(1, 7 * 24, whole=True),
    12,
    "Hours a login lasts at most, used or not.",
    toml=("station", "session_max"),
    flag="--session-max",
    commands=frozenset({"serve"}),
)
PRINTS_PER_MINUTE: Option[float] = Option(
    "prints_per_minute",
    Number(1, 1000, whole=True),
    10,
    "Print jobs one account may send per minute.",
    toml=("station", "prints_per_minute"),
    flag="--prints-per-minute",
    commands=frozenset({"serve"}),
)
APPROVED_ONLY: Option[bool] = Option(
    "approved_only",
    Boolean(),
    False,
    "Hand out only editions a pharmacist approved (medpdf approve): builds leave the "
    "others out and the station shows them as awaiting review.",
    toml=("station", "approved_only"),
    flag="--approved-only",
    commands=frozenset({"handout", "handouts", "booklet", "build", "print", "serve"}),
)

#: The table every other place derives from.
OPTIONS: tuple[Option[Any], ...] = (
    PAPER,
    LARGE_PRINT,
    LANG,
    CONTENT_LANG,
    ALSO,
    PATIENT_FIELDS,
    QR_URL,
    CLINIC,
    FORMULARY,
    VOLUME_PAGES,
    DUPLEX,
    COMPACT,
    MAX_GRADE,
    PRINTER,
    RECORD_FOLDER,
    KEEP_DAYS,
    JOBS,
    TIME_LIMIT,
    MEMORY_LIMIT,
    SCHEDULER,
    SCHEDULER_INSECURE,
    HOST,
    PORT,
    QUEUE,
    CACHE_SIZE,
    REQUEST_TIMEOUT,
    MAX_CONNECTIONS,
    USERS_FILE,
    HOST_NAMES,
    TRUSTED_PROXIES,
    CERTFILE,
    KEYFILE,
    SESSION_IDLE,
    SESSION_MAX,
    PRINTS_PER_MINUTE,
    APPROVED_ONLY,
)


def table_or_all(table: Iterable[Option[Any]] | None) -> tuple[Option[Any], ...]:
    """``table``, or the module's :data:`OPTIONS` as it is at call time (tests extend it)."""
    return tuple(OPTIONS if table is None else table)


def defaults(table: Iterable[Option[Any]] | None = None) -> dict[str, Any]:
    """Every option's default, by name."""
    return {option.name: option.default for option in table_or_all(table)}


def for_command(command: str, table: Iterable[Option[Any]] | None = None) -> list[Option[Any]]:
    """The options whose flag ``command`` takes, in table order."""
    return [o for o in table_or_all(table) if o.flag is not None and command in o.commands]


def output_values(values: Mapping[str, Any], table: Iterable[Option[Any]] | None = None) -> str:
    """The options that change a PDF, as stable text for cache keys (an allowlist)."""
    shown = {
        o.name: o.kind.to_text(values[o.name]) for o in table_or_all(table) if o.changes_output
    }
    return json.dumps(shown, sort_keys=True)


def from_query(
    query: Mapping[str, str],
    values: Mapping[str, Any],
    fail: Fail,
    table: Iterable[Option[Any]] | None = None,
) -> dict[str, Any]:
    """``values`` with the station options a request sets; absent ones keep their value."""
    changed = dict(values)
    for option in table_or_all(table):
        if option.station and option.name in query:
            name = option.name

            def failing(message: str, name: str = name) -> Exception:
                return fail(f"{name} {message}")

            changed[name] = option.kind.from_text(str(query[name]), failing)
    return changed


def to_query(values: Mapping[str, Any], table: Iterable[Option[Any]] | None = None) -> str:
    """The query string that asks the station for these station options again."""
    chosen = [o for o in table_or_all(table) if o.station]
    return urlencode([(o.name, o.kind.to_text(values[o.name])) for o in chosen])
