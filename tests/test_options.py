"""The option table is the only declaration: everything else is derived from it.

The central test adds one option to the table, and nothing else, then finds it
in ``--help``, in ``medpdf.toml``, in the station's query parsing and in the
cache key; a second, that changes no output, stays out of the key.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from starlette.exceptions import HTTPException

from medpdf.errors import ConfigError
from medpdf.run.contract import RunContext
from medpdf.settings import config, options
from medpdf.settings.kinds import PAPERS, Choice, Number
from medpdf.settings.option import LOOK_COMMANDS, Invalidates, Option
from medpdf.settings.options import OPTIONS

INK = Option(
    "ink_colour",
    Choice(("black", "blue")),
    "black",
    "Colour of the body text.",
    toml=("output", "ink_colour"),
    flag="--ink-colour",
    commands=LOOK_COMMANDS,
    station=True,
    invalidates=Invalidates.OUTPUT,
)
PATIENCE = Option(
    "patience",
    Number(1, 9, whole=True),
    3,
    "How long to wait for nothing in particular.",
    toml=("build", "patience"),
    flag="--patience",
    commands=frozenset({"handouts"}),
)


def _rebuilt_cli() -> ModuleType:
    """The CLI made again from the table as it is now, with the commands of its own modules.

    ``print``, ``pack`` and the others live in modules of their own, imported when first
    called: one an earlier test imported would otherwise keep the flags it was made with.
    """
    import medpdf.cli

    for name in sorted(n for n in sys.modules if n.startswith("medpdf.cli.")):
        if name != "medpdf.cli.flags":
            importlib.reload(sys.modules[name])
    return importlib.reload(medpdf.cli)


@pytest.fixture
def extended(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The table with two more options, and a CLI rebuilt from it (restored afterwards)."""
    monkeypatch.setattr(options, "OPTIONS", (*OPTIONS, INK, PATIENCE))
    yield _rebuilt_cli()
    monkeypatch.undo()
    _rebuilt_cli()


def test_a_new_option_appears_in_the_help_of_the_commands_it_lists(extended: ModuleType) -> None:
    runner = CliRunner()
    for command in ("handout", "handouts", "booklet", "build", "print"):
        shown = runner.invoke(extended.cli, [command, "--help"]).output
        assert "--ink-colour" in shown and "Colour of the body text." in shown, command
        assert "[output] ink_colour" in " ".join(shown.split()), command
    assert "--ink-colour" not in runner.invoke(extended.cli, ["check", "--help"]).output
    assert "--patience" in runner.invoke(extended.cli, ["handouts", "--help"]).output
    assert "--patience" not in runner.invoke(extended.cli, ["handout", "--help"]).output


def test_a_new_option_flag_is_parsed_by_its_own_rule(extended: ModuleType, tmp_path: Path) -> None:
    result = CliRunner().invoke(extended.cli, ["handout", "x", "--ink-colour", "green"])
    assert result.exit_code == 2
    assert 'must be "black" or "blue", not "green"' in result.output


def test_a_new_option_is_read_from_medpdf_toml(extended: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "medpdf.toml"
    path.write_text('[output]\npaper = "letter"\nink_colour = "blue"\n', encoding="utf-8")
    settings = config.load(path)
    assert settings[INK] == "blue" and settings.is_given(INK)
    assert config.make()[INK] == "black"

    path.write_text('[output]\n\nink_colour = "red"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert str(caught.value) == f'{path}:3: output.ink_colour: must be "black" or "blue", not "red"'

    path.write_text("[build]\npatience = 12\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"build.patience: must be a whole number from 1 to 9"):
        config.load(path)


def test_a_new_station_option_is_parsed_from_queries_and_written_back() -> None:
    table = (*OPTIONS, INK, PATIENCE)
    base = options.defaults(table)

    def fail(message: str) -> Exception:
        return HTTPException(400, message)

    chosen = options.from_query({"ink_colour": "BLUE", "patience": "7"}, base, fail, table)
    assert chosen["ink_colour"] == "blue"
    assert chosen["patience"] == 3, "only station options may be set by a request"
    assert "ink_colour=blue" in options.to_query(chosen, table)
    with pytest.raises(HTTPException) as caught:
        options.from_query({"ink_colour": "red"}, base, fail, table)
    assert caught.value.status_code == 400 and "ink_colour must be" in caught.value.detail


def test_only_options_that_change_output_join_the_cache_key(extended: ModuleType) -> None:
    plain = config.make()
    assert plain[INK] == "black" and plain[PATIENCE] == 3
    key = RunContext.of(plain).fingerprint
    assert RunContext.of(plain.replace(ink_colour="blue")).fingerprint != key
    assert RunContext.of(plain.replace(patience=8)).fingerprint == key
    assert RunContext.of(plain.replace(printer="Office")).fingerprint == key
    assert RunContext.of(plain.replace(paper="letter")).fingerprint != key


def test_the_table_is_consistent(repo_root: Path) -> None:
    names = [o.name for o in OPTIONS]
    assert len(names) == len(set(names))
    places = [o.toml for o in OPTIONS if o.toml is not None]
    assert len(places) == len(set(places))
    flags = [o.flag for o in OPTIONS if o.flag is not None]
    assert len(flags) == len(set(flags))
    for option in OPTIONS:
        assert option.help.endswith("."), option.name
        assert (option.flag is None) == (not option.commands), option.name
        if option.station:
            assert option.flag is not None, option.name
    paper = options.PAPER.kind
    assert isinstance(paper, Choice) and paper.choices == tuple(PAPERS)
    for item in PAPERS.values():
        assert (repo_root / "styles" / item.stylesheet).is_file(), item.stylesheet


def test_every_default_passes_its_own_rule() -> None:
    for option in OPTIONS:
        if option.default is None or option.name == "clinic":
            continue
        text = option.kind.to_text(option.default)
        assert option.kind.from_text(text, ValueError) == option.default, option.name
