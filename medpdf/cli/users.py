"""``medpdf users``: the printing station's accounts (add, remove, list, passwd).

Passwords are asked on the terminal (typed twice, not echoed) or read from
standard input with ``--password-stdin`` for scripts; never from a flag, where
they would show in the shell history and the process list.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from medpdf import accounts
from medpdf.cli.flags import config_option, friendly_errors, load_settings, table_options
from medpdf.errors import UsageError
from medpdf.settings.options import USERS_FILE

_password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)


def users_path(config_file: Path | None, given: dict[str, Any]) -> Path:
    """``--users-file``, else ``[station] users_file``, else the default place."""
    settings = load_settings("users", config_file, Path("content"), given)
    chosen = settings[USERS_FILE]
    return Path(chosen) if chosen else accounts.default_path()


def on_terminal() -> bool:
    """True when a person can be asked (standard input is a terminal)."""
    return sys.stdin.isatty()


def read_password(from_stdin: bool) -> str:
    """The new password, from standard input or typed twice on the terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise UsageError("--password-stdin: standard input held no password")
    else:
        if not on_terminal():
            raise UsageError("no terminal to ask the password on; use --password-stdin")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return accounts.check_password(password)


@click.group()
def users() -> None:
    """Accounts of the printing station (needed when it listens beyond this computer)."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(accounts.ROLES),
    default="print",
    show_default=True,
    help="view: search, preview and download; print: also print; review: also approve "
    "editions (medpdf approve at the station).",
)
@_password_stdin
@config_option
@table_options("users")
@friendly_errors
def add(name: str, role: str, password_stdin: bool, config_file: Path | None, **given: Any) -> None:
    """Add an account."""
    path = users_path(config_file, given)
    found = accounts.load(path)
    if accounts.check_name(name) in found:
        raise UsageError(f"there is already an account named {name!r}; see medpdf users passwd")
    password = read_password(password_stdin)
    found[name] = accounts.Account(name, role, accounts.hash_password(password))
    accounts.save(path, found)
    click.echo(f"added {name} ({role}) to {path}", err=True)


@users.command("remove")
@click.argument("name")
@config_option
@table_options("users")
@friendly_errors
def remove(name: str, config_file: Path | None, **given: Any) -> None:
    """Remove an account; its sessions end at its next request."""
    path = users_path(config_file, given)
    found = accounts.load(path)
    if found.pop(name, None) is None:
        raise UsageError(f"no account named {name!r} in {path}")
    accounts.save(path, found)
    click.echo(f"removed {name} from {path}", err=True)


@users.command("list")
@config_option
@table_options("users")
@friendly_errors
def list_command(config_file: Path | None, **given: Any) -> None:
    """List the accounts and their roles."""
    path = users_path(config_file, given)
    found = accounts.load(path)
    if not found:
        click.echo(f"no accounts in {path}; add one with: medpdf users add NAME", err=True)
    for name, account in sorted(found.items()):
        click.echo(f"{name}\t{account.role}")


@users.command("passwd")
@click.argument("name")
@_password_stdin
@config_option
@table_options("users")
@friendly_errors
def passwd(name: str, password_stdin: bool, config_file: Path | None, **given: Any) -> None:
    """Set an account's password; its sessions end at their next request."""
    path = users_path(config_file, given)
    found = accounts.load(path)
    account = found.get(name)
    if account is None:
        raise UsageError(f"no account named {name!r} in {path}")
    password = read_password(password_stdin)
    found[name] = accounts.Account(name, account.role, accounts.hash_password(password))
    accounts.save(path, found)
    click.echo(f"changed the password of {name}", err=True)
