"""The printing station's accounts: a small users file of names, roles and Argon2 hashes.

The file is JSON (``{"users": {"name": {"role": "print", "hash": "$argon2id$..."}}}``),
written atomically (a temporary file beside it, then a rename) and readable by
its owner only (mode 0600), so a crash never leaves half a file and other local
users cannot copy the hashes. Passwords are hashed with Argon2id (argon2-cffi,
its default, memory-hard parameters); they are never stored or logged.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from medpdf.errors import ConfigError, UsageError

LOGGER = logging.getLogger(__name__)

#: What an account may do: ``view`` searches, previews and downloads; ``print`` also prints;
#: ``review`` also approves editions (the pharmacist).
ROLES = ("view", "print", "review")

#: Names are short and plain, so they read well in logs and print records.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

#: Shorter passwords are refused: the station may be reachable from the whole network.
MIN_PASSWORD = 10

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """The hash checked when a name is unknown, so it costs as long as a wrong password.

    Made on first use: hashing takes ~100 ms, which every command would pay at import.
    """
    return _HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class Account:
    """One member of staff: name, role and the Argon2 hash of the password."""

    name: str
    role: str
    hash: str

    @property
    def may_print(self) -> bool:
        """True for the ``print`` and ``review`` roles."""
        return self.role in ("print", "review")


def default_path() -> Path:
    """``$XDG_CONFIG_HOME/medpdf/users.json`` (``~/.config/...``).

    Outside the project folder, so it is never committed or served with the monographs.
    """
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "medpdf" / "users.json"


def check_name(name: str) -> str:
    """A valid account name, or a usage error saying what one looks like."""
    if not _NAME.match(name):
        raise UsageError(
            f"account name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    """A password long enough to be worth hashing."""
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must be at least {MIN_PASSWORD} characters long")
    return password


def hash_password(password: str) -> str:
    """The Argon2id hash of a password."""
    return _HASHER.hash(password)


def verify(account: Account | None, password: str) -> bool:
    """True when ``password`` is the account's; an unknown account costs the same time."""
    try:
        return _HASHER.verify(account.hash if account else _dummy_hash(), password) and (
            account is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def load(path: Path) -> dict[str, Account]:
    """Every account in the file (none when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
        users = data["users"]
        return {
            name: Account(check_name(name), _role(entry["role"]), str(entry["hash"]))
            for name, entry in users.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError, UsageError):
        raise ConfigError(
            str(path), None, "damaged users file; fix it, or remove it and add the accounts again"
        ) from None


def _role(role: object) -> str:
    if role not in ROLES:
        raise ValueError(role)
    return str(role)


def save(path: Path, accounts: Mapping[str, Account]) -> None:
    """Write the file atomically, readable and writable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {
        "users": {
            name: {"role": account.role, "hash": account.hash}
            for name, account in sorted(accounts.items())
        }
    }
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, 0o600)  # before a byte is written
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Accounts:
    """The users file as a running station sees it: re-read when it changes on disk.

    ``medpdf users add/remove/passwd`` take effect without a restart; a removed
    account or a changed password ends that account's sessions (see sessions).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._accounts: dict[str, Account] = {}
        self.get("")  # read now, so a damaged file stops the station at start

    def _current(self) -> dict[str, Account]:
        try:
            info = self.path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            try:
                self._accounts = load(self.path) if stamp else {}
            except ConfigError as exc:
                if self._stamp is None and not self._accounts:
                    raise  # at start: the station must not run on a damaged file
                LOGGER.error("%s; keeping the accounts read before", exc.message)
            self._stamp = stamp
        return self._accounts

    def get(self, name: str) -> Account | None:
        """The account of that name, as the file says now."""
        return self._current().get(name)

    def __len__(self) -> int:
        return len(self._current())
