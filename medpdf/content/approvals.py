"""Approval of editions: which text of each monograph a pharmacist read and let out.

An edition is the SHA-256 of the monograph file (its first 12 hex digits are
the "Version" every handout prints). ``medpdf approve`` and the station's
Approve button record, per monograph, the edition approved, by whom and when,
in ``approvals.toml`` in the content folder: plain text that is reviewed and
versioned with the monographs it speaks of. Each approved edition's text is
kept beside it, in ``_approved/<2 hex>/<sha256>.md`` (the underscore keeps it
out of the collection), so ``medpdf review`` can show a word-level diff
against it in any clone of the content — the print record's archive of PDFs
lives with the output on one machine, and a fresh clone has none.

With ``approved_only`` a monograph whose file is not the approved edition (new,
or changed since) is not printed: builds leave it out, the station says it is
awaiting review. A monograph ``check`` calls *not a leaflet* cannot be approved.

The file is read with tomllib and written here (a small, fixed shape), under a
lock on the archive folder, to a temporary file that is synced and renamed:
two approvals at once never lose one, a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import fcntl
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medpdf.atomic import write_atomic
from medpdf.content.sources import Source
from medpdf.content.word_diff import Hunk as Hunk
from medpdf.content.word_diff import Segment as Segment
from medpdf.content.word_diff import word_diff as word_diff
from medpdf.errors import DiagnosedError, Diagnostic, Level, MedpdfError, UsageError, sort_key
from medpdf.settings.options import APPROVED_ONLY

if TYPE_CHECKING:  # the render path imports Review from here: keep it light
    from medpdf.content.collection import Collection, Entry
    from medpdf.settings.config import Config

#: The approvals file, at the top of the content folder.
FILE_NAME = "approvals.toml"
#: Approved editions' text, by SHA-256, in the content folder (skipped as a monograph: "_").
ARCHIVE = "_approved"
#: Hex digits of an edition shown to people: the footer's "Version".
SHOWN = 12
#: At most this long, one line: a name that reads well in a footer.
MAX_NAME = 80

_HEX = re.compile(r"^[0-9a-f]{64}$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

_HEADER = """\
# Editions of the monographs in this folder that a pharmacist approved, written by
# `medpdf approve` and the printing station's Approve button. An edition is the SHA-256 of
# the monograph file; the text of each approved edition is kept in _approved/ under it, so
# that `medpdf review` can show what changed since. With approved_only, only these
# editions are printed.
"""


class ApprovalsError(MedpdfError):
    """The approvals file or an approved edition cannot be read or written (exit 1)."""


@dataclass(frozen=True)
class Review:
    """What the footer of an approved edition prints: who approved it and on which day."""

    by: str
    on: dt.date


@dataclass(frozen=True)
class Approval:
    """One monograph's approved edition: which file text, who, when."""

    slug: str
    edition: str
    by: str
    #: When, in UTC.
    at: dt.datetime
    #: The file, relative to the content folder, and its title, when approved (for people).
    path: str = ""
    title: str = ""

    @property
    def review(self) -> Review:
        """The footer's words; the day is this computer's local day of the approval."""
        return Review(self.by, self.at.astimezone().date())

    @property
    def version(self) -> str:
        """The edition as the footer prints it."""
        return self.edition[:SHOWN]


class Status(enum.Enum):
    """Where a monograph's file stands against its approval."""

    APPROVED = "approved"
    CHANGED = "changed"
    NEW = "new"


@dataclass(frozen=True)
class Standing:
    """A monograph's status, with the approval it was measured against (if any)."""

    status: Status
    approval: Approval | None

    @property
    def approved(self) -> bool:
        """True when the file is the approved edition."""
        return self.status is Status.APPROVED


def check_name(name: str) -> str:
    """The approver's name as given, or a usage error: one line, printable, not too long."""
    shown = " ".join(name.split())
    if not shown:
        raise UsageError('--by needs the approver\'s name, e.g. --by "A. Pharmacist"')
    if len(shown) > MAX_NAME or not shown.isprintable():
        raise UsageError(f"--by must be a name of at most {MAX_NAME} printable characters")
    return shown


# -- the file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Approvals:
    """The approvals of one content folder, by slug."""

    folder: Path
    by_slug: Mapping[str, Approval]

    @property
    def path(self) -> Path:
        """The approvals file."""
        return self.folder / FILE_NAME

    def standing(self, source: Source) -> Standing:
        """Whether ``source`` (its file now) is the approved edition of its monograph."""
        approval = self.by_slug.get(source.slug)
        if approval is None:
            return Standing(Status.NEW, None)
        if approval.edition == source.digest:
            return Standing(Status.APPROVED, approval)
        return Standing(Status.CHANGED, approval)

    def review_of(self, source: Source) -> Review | None:
        """The footer's "Reviewed by" for ``source``, when its file is the approved edition."""
        standing = self.standing(source)
        return standing.approval.review if standing.approved and standing.approval else None


def load(folder: Path) -> Approvals:
    """The approvals of a content folder (none when it has no approvals file)."""
    path = folder / FILE_NAME
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return Approvals(folder, {})
    except OSError as exc:
        raise ApprovalsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ApprovalsError(f"{path}: not UTF-8 text") from None
    return Approvals(folder, parse(text, path))


def parse(text: str, path: Path) -> dict[str, Approval]:
    """The approvals in an approvals file's text; a problem is one line with its line number."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ApprovalsError(f"{path}: invalid TOML: {exc}") from None
    found: dict[str, Approval] = {}
    for slug, table in data.items():
        where = f"{path}:{_line_of(text, slug)}" if _line_of(text, slug) else str(path)

        def bad(reason: str, where: str = where, slug: str = slug) -> ApprovalsError:
            return ApprovalsError(f"{where}: [{slug}]: {reason}")

        if not isinstance(table, dict):
            raise bad("must be a table of edition, by and at")
        edition, by, at = table.get("edition"), table.get("by"), table.get("at")
        if not isinstance(edition, str) or not _HEX.match(edition):
            raise bad("edition must be the 64 hex digits of the file's SHA-256")
        if not isinstance(by, str) or not by.strip():
            raise bad("by must name who approved it")
        if not isinstance(at, dt.datetime) or at.tzinfo is None:
            raise bad("at must be a date and time with its offset, e.g. 2026-12-10T09:14:05Z")
        path_value, title = table.get("path", ""), table.get("title", "")
        found[slug] = Approval(
            slug,
            edition,
            by.strip(),
            at.astimezone(dt.UTC),
            path_value if isinstance(path_value, str) else "",
            title if isinstance(title, str) else "",
        )
    return found


def _line_of(text: str, slug: str) -> int | None:
    """Line of the table ``[slug]`` (bare or quoted) in the file's text."""
    wanted = {f"[{slug}]", f"[{json.dumps(slug)}]"}
    for number, line in enumerate(text.split("\n"), 1):
        if line.split("#")[0].strip() in wanted:
            return number
    return None


def _string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for every character we write)."""
    return json.dumps(value, ensure_ascii=False)


def _key(slug: str) -> str:
    return slug if _BARE_KEY.match(slug) else _string(slug)


def render(approvals: Iterable[Approval]) -> str:
    """The approvals file's text: a short header, then one table per monograph, by slug."""
    parts = [_HEADER]
    for approval in sorted(approvals, key=lambda a: a.slug):
        at = approval.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts.append(
            f"\n[{_key(approval.slug)}]\n"
            f"edition = {_string(approval.edition)}\n"
            f"path = {_string(approval.path)}\n"
            f"title = {_string(approval.title)}\n"
            f"by = {_string(approval.by)}\n"
            f"at = {at}\n"
        )
    return "".join(parts)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One writer of a folder's approvals at a time (the station and a command may race).

    The lock is on the archive folder itself, so it adds no file to the content.
    """
    archive = folder / ARCHIVE
    archive.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(archive, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


# -- approved editions' text ------------------------------------------------------------


def edition_path(folder: Path, edition: str) -> Path:
    """Where the text of an approved edition is kept."""
    return folder / ARCHIVE / edition[:2] / f"{edition}.md"


def keep_edition(folder: Path, source: Source) -> None:
    """Keep the text of ``source`` as an approved edition (once: it is named by its hash)."""
    target = edition_path(folder, source.digest)
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, source.text.encode("utf-8"))


def edition_text(folder: Path, edition: str) -> str | None:
    """The text of an approved edition, checked against its hash; None when not kept."""
    try:
        data = edition_path(folder, edition).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != edition:
        raise ApprovalsError(
            f"{edition_path(folder, edition)}: damaged (its SHA-256 is not its name)"
        )
    return data.decode("utf-8")


# -- approving --------------------------------------------------------------------------


def approve(
    folder: Path, chosen: Iterable[tuple[Source, str]], by: str, now: dt.datetime | None = None
) -> list[tuple[Approval, bool]]:
    """Approve each (source, title) as it is now, by ``by``; returns (approval, new) pairs.

    ``new`` is False for an edition that was already the approved one (left as it
    was, with its first approver and time). The caller has checked that each is a
    leaflet. Everything is written under one lock: the editions' text first, the
    approvals file last, so a file never names an edition that is not kept.
    """
    name = check_name(by)
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    result: list[tuple[Approval, bool]] = []
    with _locked(folder):
        current = dict(load(folder).by_slug)
        for source, title in chosen:
            earlier = current.get(source.slug)
            if earlier is not None and earlier.edition == source.digest:
                result.append((earlier, False))
                continue
            keep_edition(folder, source)
            approval = Approval(
                source.slug,
                source.digest,
                name,
                moment,
                _relative(source.path, folder),
                title,
            )
            current[source.slug] = approval
            result.append((approval, True))
        if any(new for _, new in result):
            write_atomic(folder / FILE_NAME, render(current.values()).encode("utf-8"))
    return result


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path.name


# -- a collection against its approvals ---------------------------------------------------


def awaiting(standing: Standing, source: Source) -> str:
    """Why an edition is not approved, in one line (``check`` style, and the station's log)."""
    now = source.digest[:SHOWN]
    approval = standing.approval
    if standing.status is Status.NEW or approval is None:
        return f"awaiting review: never approved (version {now})"
    day = approval.review.on.isoformat()
    return (
        f"awaiting review: version {now} changed since {approval.by} approved "
        f"version {approval.version} on {day}"
    )


def for_handout(source: Source, config: Config) -> Review | None:
    """The footer's approval of one handout; with ``approved_only``, refuse any other edition."""
    standing = load(config.content_dir).standing(source)
    if standing.approved and standing.approval is not None:
        return standing.approval.review
    if config[APPROVED_ONLY]:
        message = f"{awaiting(standing, source)}; not handed out (approved_only)"
        raise DiagnosedError(Diagnostic(source.display_path, None, Level.ERROR, message))
    return None


def apply(collection: Collection, approvals: Approvals, only_approved: bool) -> Collection:
    """The collection with each approved edition's review; with ``only_approved``, only those.

    A monograph left out is an error line like any file a build leaves out
    ("awaiting review: ..."), so the build says so, names it and exits 1.
    """
    from medpdf.content.collection import Collection

    kept: list[Entry] = []
    problems: list[Diagnostic] = []
    for entry in collection.entries:
        standing = approvals.standing(entry.source)
        if standing.approved and standing.approval is not None:
            kept.append(dataclasses.replace(entry, review=standing.approval.review))
        elif only_approved:
            message = f"{awaiting(standing, entry.source)}; left out (approved_only)"
            problems.append(Diagnostic(entry.source_path, None, Level.ERROR, message))
        else:
            kept.append(entry)
    found = sorted([*collection.diagnostics, *problems], key=sort_key)
    return Collection(tuple(kept), tuple(found), collection.files_seen)
