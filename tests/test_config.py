"""medpdf.toml and the flags that override it.

Each bad value must come back as one line naming the file, the line and the
dotted key, and the CLI must exit with status 2 without a traceback.
"""

from __future__ import annotations

import base64
import pickle
from pathlib import Path

import pytest
from conftest import MINIMAL, REPO, invoke_cli, write_monograph

from medpdf.errors import ConfigError
from medpdf.settings import config, options
from medpdf.settings.options import (
    CLINIC,
    LANG,
    LARGE_PRINT,
    MAX_GRADE,
    PAPER,
    PATIENT_FIELDS,
    QR_URL,
)
from medpdf.settings.table_kinds import ClinicInfo

LOGO = REPO / "tests" / "fixtures" / "clinic" / "logo.svg"

FULL = """\
[clinic]
name = "Willowbank Health Centre"
address = "4 Orchard Lane"
phone = "+1 555 0199"
logo = "assets/logo.svg"

[output]
paper = "letter"
large_print = true
lang = "pt-BR"
qr_url = "https://example.org/drugs/{slug}"

[check]
max_grade = 6
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "logo.svg").write_bytes(LOGO.read_bytes())
    write_monograph(tmp_path / "content", "zentorex", MINIMAL.format(title="Zentorex"))
    return tmp_path


def write(folder: Path, text: str, name: str = "medpdf.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- good files


def test_defaults_without_a_file(project: Path) -> None:
    settings = config.load()
    assert (settings[PAPER], settings[LANG], settings[LARGE_PRINT]) == ("a4", "en", False)
    assert settings[QR_URL] is None
    assert settings[CLINIC] is None
    assert settings[MAX_GRADE] == 8
    assert settings[PATIENT_FIELDS] is False
    assert settings.given == frozenset()


def test_full_file_is_read_from_the_working_folder(project: Path) -> None:
    write(project, FULL)
    settings = config.load()
    assert settings[PAPER] == "letter"
    assert settings[LARGE_PRINT] is True
    assert settings[LANG] == "pt-BR"
    assert settings[QR_URL] == "https://example.org/drugs/{slug}"
    assert settings[MAX_GRADE] == 6
    assert settings.is_given(MAX_GRADE)
    assert not settings.is_given(PATIENT_FIELDS)
    clinic = settings[CLINIC]
    assert clinic is not None
    assert clinic.name == "Willowbank Health Centre"
    assert clinic.address == "4 Orchard Lane"
    assert clinic.phone == "+1 555 0199"
    uri = clinic.logo_uri
    assert uri is not None and uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == LOGO.read_bytes()


def test_config_is_frozen_picklable_and_hashable(project: Path) -> None:
    write(project, FULL)
    settings = config.load()
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert hash(settings) == hash(pickle.loads(pickle.dumps(settings)))
    with pytest.raises(AttributeError):
        settings.printed = settings.printed  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings[PAPER] = "a4"  # type: ignore[index]


def test_explicit_config_file_and_relative_logo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    elsewhere = tmp_path / "clinic"
    elsewhere.mkdir()
    (elsewhere / "logo.svg").write_bytes(LOGO.read_bytes())
    path = write(elsewhere, '[clinic]\nname = "X"\nlogo = "logo.svg"\n', "site.toml")
    monkeypatch.chdir(tmp_path)
    clinic = config.load(path)[CLINIC]
    assert clinic is not None and clinic.logo_uri is not None
    assert base64.b64decode(clinic.logo_uri.split(",", 1)[1]) == LOGO.read_bytes()


def test_png_logo(project: Path) -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    (project / "assets" / "logo.png").write_bytes(png)
    write(project, '[clinic]\nlogo = "assets/logo.png"\n')
    clinic = config.load()[CLINIC]
    assert clinic == ClinicInfo(logo_uri="data:image/png;base64," + base64.b64encode(png).decode())


def test_flags_override_the_file(project: Path) -> None:
    write(project, FULL)
    flags = {"paper": "a4", "lang": "fr", "large_print": False, "patient_fields": True}
    settings = config.load(flags=flags)
    assert (settings[PAPER], settings[LANG], settings[LARGE_PRINT]) == ("a4", "fr", False)
    assert settings[PATIENT_FIELDS] is True
    # Flags not given leave the file's values alone.
    assert config.load(flags={"paper": None, "large_print": None})[LARGE_PRINT] is True
    assert config.load(flags={"paper": None})[PAPER] == "letter"


def test_online_url_percent_encodes_the_slug() -> None:
    settings = config.make(qr_url="https://example.org/d/{slug}?from=print")
    assert settings.online_url("café au/lait") == (
        "https://example.org/d/caf%C3%A9%20au%2Flait?from=print"
    )
    assert config.make().online_url("x") is None


# --------------------------------------------------------------------------- bad files

BAD = [
    ('[output]\npaper = "a3"\n', 'medpdf.toml:2: output.paper: must be "a4" or "letter", not "a3"'),
    ("[output]\npaper = 4\n", "medpdf.toml:2: output.paper: must be a string, not 4"),
    (
        '[output]\nlarge_print = "yes"\n',
        'medpdf.toml:2: output.large_print: must be true or false, not "yes"',
    ),
    ('[output]\nlang = "en_GB"\n', "medpdf.toml:2: output.lang: must be a language tag"),
    ('[output]\nlang = "<b>"\n', "medpdf.toml:2: output.lang: must be a language tag"),
    (
        '[output]\nqr_url = "https://example.org/drugs"\n',
        "medpdf.toml:2: output.qr_url: must contain {slug}",
    ),
    (
        '[output]\nqr_url = "javascript:alert({slug})"\n',
        "medpdf.toml:2: output.qr_url: must be an http:// or https:// URL",
    ),
    ('[output]\nqr_url = "https:///{slug}"\n', "medpdf.toml:2: output.qr_url: must be an http"),
    ('[output]\ncolour = "blue"\n', "medpdf.toml:2: output.colour: unknown key"),
    ('[printer]\nname = "x"\n', "medpdf.toml:1: printer: unknown section"),
    ('paper = "a4"\n', "medpdf.toml:1: paper: unknown key outside a section"),
    ('output = "a4"\n', "medpdf.toml:1: output: must be a table [output]"),
    (
        "[check]\nmax_grade = 0\n",
        "medpdf.toml:2: check.max_grade: must be a number from 1 to 20, not 0",
    ),
    (
        "[check]\nmax_grade = 20.5\n",
        "medpdf.toml:2: check.max_grade: must be a number from 1 to 20, not 20.5",
    ),
    ("[check]\nmax_grade = true\n", "medpdf.toml:2: check.max_grade: must be a number, not true"),
    ('[check]\nmax_grade = "8"\n', 'medpdf.toml:2: check.max_grade: must be a number, not "8"'),
    ("[clinic]\nname = 3\n", "medpdf.toml:2: clinic.name: must be a string, not 3"),
    ('[clinic]\nname = "  "\n', "medpdf.toml:2: clinic.name: must be one non-empty line"),
    (
        '[clinic]\nname = "X"\nlogo = "assets/missing.svg"\n',
        "medpdf.toml:3: clinic.logo: cannot read assets/missing.svg",
    ),
    (
        '[clinic]\nlogo = "../outside.svg"\n',
        "medpdf.toml:2: clinic.logo: must be inside the project",
    ),
    (
        '[clinic]\nlogo = "/etc/hostname"\n',
        "medpdf.toml:2: clinic.logo: must be inside the project",
    ),
    ('[clinic]\nlogo = "assets/logo.gif"\n', "medpdf.toml:2: clinic.logo: must be an .svg or .png"),
    (
        '[clinic]\nlogo = "assets/fake.png"\n',
        "medpdf.toml:2: clinic.logo: assets/fake.png is not a PNG",
    ),
    ("[output\npaper = 'a4'\n", "medpdf.toml:1: invalid TOML"),
    ('[output]\npaper = "a4"\npaper = "a4"\n', "medpdf.toml:3: invalid TOML"),
    ("[output]\npaper = \n", "medpdf.toml:2: invalid TOML"),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[b[1].split(": ")[1] for b in BAD])
def test_bad_values_name_file_line_and_key(project: Path, text: str, expected: str) -> None:
    (project / "outside.svg").write_bytes(LOGO.read_bytes())
    (project / "assets" / "logo.gif").write_bytes(b"GIF89a")
    (project / "assets" / "fake.png").write_bytes(b"<svg/>")
    write(project, text)
    with pytest.raises(ConfigError) as caught:
        config.load()
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message


@pytest.mark.parametrize("command", ["check", "handout zentorex", "build"])
@pytest.mark.parametrize(
    ("text", "expected"), [BAD[0], BAD[9], BAD[-3]], ids=["value", "key", "toml"]
)
def test_cli_exits_2_with_one_line(project: Path, command: str, text: str, expected: str) -> None:
    write(project, text)
    result = invoke_cli(*command.split())
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"medpdf: error: {expected}")
    assert not (project / "output").exists()


def test_cli_config_option_and_missing_file(project: Path) -> None:
    write(project, '[output]\npaper = "a3"\n', "other.toml")
    result = invoke_cli("handout", "zentorex", "--config", "other.toml")
    assert result.exit_code == 2
    assert result.stderr.startswith("medpdf: error: other.toml:2: output.paper:")
    result = invoke_cli("check", "--config", "absent.toml")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "medpdf: error: absent.toml: cannot read config: No such file or directory"
    )


def test_cli_bad_lang_flag(project: Path) -> None:
    # A flag is checked by the same rule as output.lang, reported as a click usage error.
    result = invoke_cli("booklet", "--lang", "english please")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: ")
    assert lines_of(result.stderr)[-1] == (
        'Error: Invalid value for \'--lang\': must be a language tag such as "en" or "pt-BR", '
        'not "english please"'
    )
    assert not (project / "output").exists()


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def test_non_utf8_config(project: Path) -> None:
    (project / "medpdf.toml").write_bytes(b"[clinic]\nname = '\xff'\n")
    with pytest.raises(ConfigError, match=r"^medpdf.toml: config is not UTF-8 text$"):
        config.load()


# --------------------------------------------------------------------------- new tables

NEW_TABLES = """\
[output]
patient_fields = true

[check]
max_grade = 8.5

[build]
jobs = 3
time_limit = 30.5
memory_limit = 512

[station]
host = "0.0.0.0"
port = 8123
queue = 0
cache_size = 16
"""


def test_build_station_and_patient_fields_are_read(project: Path) -> None:
    write(project, NEW_TABLES)
    settings = config.load()
    read = {
        option.name: settings[option]
        for option in (
            PATIENT_FIELDS,
            MAX_GRADE,
            options.JOBS,
            options.TIME_LIMIT,
            options.MEMORY_LIMIT,
            options.HOST,
            options.PORT,
            options.QUEUE,
            options.CACHE_SIZE,
        )
    }
    assert read == {
        "patient_fields": True,
        "max_grade": 8.5,
        "jobs": 3,
        "time_limit": 30.5,
        "memory_limit": 512,
        "host": "0.0.0.0",
        "port": 8123,
        "queue": 0,
        "cache_size": 16,
    }
    assert settings.given == frozenset(read)
    # The file's values are the same type the flags give: whole numbers stay int.
    assert isinstance(settings[options.JOBS], int)
    assert isinstance(settings[options.PORT], int)


NEW_BAD = [
    (
        '[clinic]\nname = "Willowbank"\nadress = "4 Orchard Lane"\n',
        "medpdf.toml:3: clinic.adress: unknown key (known: address, logo, name, phone)",
    ),
    (
        "[build]\nworkers = 2\n",
        "medpdf.toml:2: build.workers: unknown key "
        "(known: jobs, memory_limit, scheduler, scheduler_insecure, time_limit)",
    ),
    (
        '[station]\naddress = "x"\n',
        "medpdf.toml:2: station.address: unknown key (known: approved_only, cache_size, certfile, "
        "host, host_names, keyfile, max_connections, port, prints_per_minute, queue, "
        "request_timeout, session_idle, session_max, trusted_proxies, users_file)",
    ),
    (
        "[output]\npatient_field = true\n",
        "medpdf.toml:2: output.patient_field: unknown key (known: ",
    ),
    (
        '[output]\npatient_fields = "yes"\n',
        'medpdf.toml:2: output.patient_fields: must be true or false, not "yes"',
    ),
    (
        "[build]\njobs = 0\n",
        "medpdf.toml:2: build.jobs: must be a whole number of at least 1, not 0",
    ),
    ("[build]\njobs = 2.5\n", "medpdf.toml:2: build.jobs: must be a whole number, not 2.5"),
    (
        "[station]\nport = 70000\n",
        "medpdf.toml:2: station.port: must be a whole number from 0 to 65535, not 70000",
    ),
    (
        "[builds]\njobs = 2\n",
        "medpdf.toml:1: builds: unknown section "
        "(known: [output], [clinic], [formulary], [booklet], [check], [print], [record], [build], "
        "[station])",
    ),
]


@pytest.mark.parametrize(("text", "expected"), NEW_BAD, ids=[b[1].split(": ")[1] for b in NEW_BAD])
def test_bad_values_in_the_new_tables(project: Path, text: str, expected: str) -> None:
    write(project, text)
    with pytest.raises(ConfigError) as caught:
        config.load()
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message
