"""``medpdf users``: the station's accounts file, through the command line."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from medpdf import accounts
from medpdf.cli import cli


def run(path: Path, *args: str, password: str | None = None) -> object:
    result = CliRunner().invoke(cli, ["users", *args, "--users-file", str(path)], input=password)
    assert "Traceback" not in result.output
    return result


def test_add_list_passwd_remove(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "users.json"
    added = run(path, "add", "anna", "--password-stdin", password="first password\n")
    assert added.exit_code == 0, added.output  # type: ignore[attr-defined]
    run(path, "add", "victor", "--role", "view", "--password-stdin", password="victor's pass\n")
    # Owner only, no temporary file left beside it.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["users.json"]
    data = json.loads(path.read_text())
    assert data["users"]["anna"]["role"] == "print"
    assert data["users"]["anna"]["hash"].startswith("$argon2id$")
    assert "first password" not in path.read_text()
    listed = run(path, "list")
    assert listed.stdout == "anna\tprint\nvictor\tview\n"  # type: ignore[attr-defined]
    found = accounts.load(path)
    assert accounts.verify(found["anna"], "first password")
    assert not accounts.verify(found["anna"], "first passwort")
    assert not accounts.verify(None, "first password")
    changed = run(path, "passwd", "anna", "--password-stdin", password="second password\n")
    assert changed.exit_code == 0  # type: ignore[attr-defined]
    found = accounts.load(path)
    assert accounts.verify(found["anna"], "second password")
    assert found["anna"].role == "print"
    assert run(path, "remove", "victor").exit_code == 0  # type: ignore[attr-defined]
    assert set(accounts.load(path)) == {"anna"}


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["add", "anna", "--password-stdin"], "short\n", "at least 10 characters"),
        (["add", "anna"], None, "no terminal to ask the password on; use --password-stdin"),
        (["add", "bad name", "--password-stdin"], "long enough pw\n", "account name 'bad name'"),
        (["remove", "nobody"], None, "no account named 'nobody'"),
        (["passwd", "nobody", "--password-stdin"], "long enough pw\n", "no account named"),
        (["add", "anna", "--password-stdin"], "\n", "standard input held no password"),
    ],
)
def test_mistakes_are_one_line(
    tmp_path: Path, args: list[str], password: str | None, message: str
) -> None:
    path = tmp_path / "users.json"
    result = CliRunner().invoke(cli, ["users", *args, "--users-file", str(path)], input=password)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not path.exists()


def test_an_existing_name_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    run(path, "add", "anna", "--password-stdin", password="first password\n")
    again = run(path, "add", "anna", "--password-stdin", password="other password\n")
    assert again.exit_code == 2  # type: ignore[attr-defined]
    assert "already an account named 'anna'" in again.stderr  # type: ignore[attr-defined]
    assert accounts.verify(accounts.load(path)["anna"], "first password")


def test_the_password_is_asked_twice_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # medpdf.cli.users the module (the package's attribute of that name is the command).
    monkeypatch.setattr(sys.modules["medpdf.cli.users"], "on_terminal", lambda: True)
    path = tmp_path / "users.json"
    result = run(path, "add", "anna", password="typed password\ntyped password\n")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "typed password" not in result.output  # type: ignore[attr-defined]
    assert accounts.verify(accounts.load(path)["anna"], "typed password")


def test_the_users_file_setting_and_a_damaged_file(tmp_path: Path) -> None:
    (tmp_path / "medpdf.toml").write_text('[station]\nusers_file = "staff/users.json"\n')
    result = CliRunner().invoke(
        cli,
        ["users", "add", "anna", "--password-stdin", "--config", str(tmp_path / "medpdf.toml")],
        input="long enough pw\n",
    )
    assert result.exit_code == 0, result.output
    target = tmp_path / "staff" / "users.json"
    assert set(accounts.load(target)) == {"anna"}
    target.write_text("{not json")
    listed = CliRunner().invoke(cli, ["users", "list", "--users-file", str(target)])
    assert listed.exit_code == 2
    assert "damaged users file" in listed.stderr
