"""Approvals in the record: who approved which edition of which monograph, when, how.

The approvals file in the content folder says which edition is approved *now*;
the record keeps every approval ever made on this station or command line, in
the same SQLite database as what was handed out (its own table, made on first
use, so a record from before approvals existed is simply extended). Written in
one short transaction each, under the record's write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from medpdf.content.approvals import Approval
from medpdf.record.store import Record

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    edition TEXT NOT NULL,
    approver TEXT NOT NULL,
    via TEXT NOT NULL,
    user TEXT
)""",
    "CREATE INDEX IF NOT EXISTS approvals_slug ON approvals(slug)",
)


@dataclass(frozen=True)
class Approved:
    """One approval as the record keeps it."""

    id: int
    #: When, in UTC, to the second (ISO 8601).
    at: str
    slug: str
    title: str
    #: The full SHA-256 of the monograph file approved.
    edition: str
    #: The name given as approver (``--by``, or the station account).
    by: str
    #: ``cli`` or ``station``.
    via: str
    #: The station account that pressed Approve; None from the command line.
    user: str | None = None

    def line(self) -> str:
        """One line of ``medpdf review --history``."""
        moment = dt.datetime.fromisoformat(self.at.replace("Z", "+00:00")).astimezone()
        account = f" (account {self.user})" if self.user else ""
        return (
            f"{self.id}  {moment:%Y-%m-%d %H:%M}  approved  {self.title} [{self.edition[:12]}]  "
            f"by {self.by}{account}  via {self.via}"
        )


def note(
    record: Record, approvals: Iterable[Approval], *, via: str, user: str | None = None
) -> list[Approved]:
    """Record approvals just written to the approvals file."""
    made = []
    with record._writing() as db:  # the record's own write transaction and lock
        for statement in _SCHEMA:  # inside the transaction (executescript would commit it)
            db.execute(statement)
        for approval in approvals:
            at = approval.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            cursor = db.execute(
                "INSERT INTO approvals (at, slug, title, edition, approver, via, user) "
                "VALUES (?,?,?,?,?,?,?)",
                (at, approval.slug, approval.title, approval.edition, approval.by, via, user),
            )
            made.append(
                Approved(
                    int(cursor.lastrowid or 0),
                    at,
                    approval.slug,
                    approval.title,
                    approval.edition,
                    approval.by,
                    via,
                    user,
                )
            )
    return made


def history(record: Record, name: str | None = None) -> list[Approved]:
    """Every recorded approval, oldest first; ``name`` keeps a slug or title containing it."""
    if not record.database.is_file():
        return []
    with record._connection() as db:
        exists = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'approvals'"
        ).fetchone()
        if exists is None:
            return []
        rows = db.execute(
            "SELECT id, at, slug, title, edition, approver, via, user FROM approvals ORDER BY id"
        ).fetchall()
    found = [Approved(int(r[0]), *r[1:]) for r in rows]
    if name:
        wanted = name.casefold()
        found = [a for a in found if wanted in a.slug.casefold() or wanted in a.title.casefold()]
    return found
