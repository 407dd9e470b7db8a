"""The record on disk: a SQLite database in WAL mode and the kept PDFs beside it.

Layout of the record folder (``output/record/`` unless ``[record] folder``)::

    record.sqlite       one row per PDF handed out, and the drugs in it
    pdf/ab/abcd….pdf    each distinct PDF once, named by its SHA-256

Consistency, also against ``kill -9`` at any instant: a PDF is written to a
temporary name, synced and renamed into ``pdf/`` *inside* the write
transaction that inserts its record, and the commit comes last. A killed
writer therefore leaves at worst a PDF no record points to, or a temporary
file; the next writer to open the record removes both (under the same write
lock, so it never takes a file from a writer that is still between rename and
commit). Pruning deletes records first and files after, so no record ever
lacks its PDF. Several processes (the station, ``medpdf print``, packs) write
at once: WAL lets readers go on, ``BEGIN IMMEDIATE`` and a generous busy
timeout queue the writers, and nothing is lost.

A damaged database is reported in one line and left exactly as it is: it is
the clinic's evidence of what was handed out, never a cache to rebuild.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from medpdf.errors import RecordError, UsageError
from medpdf.record.archive import Archive, page_count
from medpdf.record.entries import ACTIONS, PRINTED, Drug, Entry
from medpdf.settings.config import now

DATABASE = "record.sqlite"
ARCHIVE = "pdf"
SCHEMA_VERSION = 1

#: The largest record ID (SQLite's INTEGER PRIMARY KEY is a signed 64-bit number).
MAX_ID = 2**63 - 1

#: Seconds a writer waits for another to commit; a record write takes milliseconds.
BUSY_TIMEOUT = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    action TEXT NOT NULL,
    via TEXT NOT NULL,
    options TEXT NOT NULL,
    pdf TEXT NOT NULL,
    pages INTEGER NOT NULL,
    printer TEXT,
    job TEXT,
    copies INTEGER,
    user TEXT,
    reprint_of INTEGER
);
CREATE TABLE IF NOT EXISTS record_drugs (
    record INTEGER NOT NULL,
    position INTEGER NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    edition TEXT NOT NULL,
    PRIMARY KEY (record, position)
);
CREATE INDEX IF NOT EXISTS records_day ON records(day);
CREATE INDEX IF NOT EXISTS records_pdf ON records(pdf);
CREATE INDEX IF NOT EXISTS record_drugs_slug ON record_drugs(slug);
"""

_COLUMNS = "id, at, day, action, via, options, pdf, pages, printer, job, copies, user, reprint_of"


class Record:
    """One record folder. Holds no connection: each operation opens its own.

    That makes one object safe to share between the station's threads, and
    every process sees the others' commits at once.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._checked = False

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return self.folder / DATABASE

    @property
    def archive(self) -> Archive:
        """The kept PDFs, by SHA-256."""
        return Archive(self.folder / ARCHIVE)

    def pdf_path(self, sha256: str) -> Path:
        """Where the PDF with this SHA-256 is kept."""
        return self.archive.path(sha256)

    # -- opening ----------------------------------------------------------------

    @classmethod
    def open(
        cls, folder: Path, keep_days: int | None = None, today: dt.date | None = None
    ) -> Record:
        """Create or check the record, remove what killed writers left, prune old records.

        Raises :class:`RecordError` (one line) for a damaged or unusable database.
        """
        record = cls(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordError(f"cannot create the record folder {folder}: {exc}") from None
        with record._connection() as db:
            record._check(db)
            # WAL survives a killed writer; FULL would also fsync every commit for a power cut,
            # at about 15 ms a record on this machine's disk (NORMAL: well under 1 ms).
            db.execute("PRAGMA journal_mode=WAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RecordError(
                    f"the record database {record.database} was made by a newer medpdf "
                    f"(schema {version}); use that version"
                )
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        if keep_days is not None:
            record.prune(keep_days, today or dt.date.today())
        record.recover()
        return record

    def recover(self) -> int:
        """Sweep the archive if a writer was killed mid-write (its marker is left); else nothing.

        Walking every kept PDF took 60 ms at 1,622 PDFs and grows with the years; a
        killed writer leaves its marker, so a clean record costs one folder listing.
        """
        if not self.archive.markers():
            return 0
        with self._writing() as db:
            found = self.archive.markers()  # again, under the write lock
            wanted = {row[0] for row in db.execute("SELECT DISTINCT pdf FROM records")}
            removed = self.archive.keep_only(wanted)
            for marker in found:
                if not _alive(marker):
                    marker.unlink(missing_ok=True)
        return removed

    def _check(self, db: sqlite3.Connection) -> None:
        """Fail with one line when SQLite finds the file damaged (once per object)."""
        if self._checked:
            return
        result = db.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise self._damaged(result)
        self._checked = True

    def _damaged(self, reason: object) -> RecordError:
        return RecordError(
            f"the record database {self.database} is damaged ({reason}); it was left as it "
            "is: restore it from a backup, or move it aside to start a new record"
        )

    @contextlib.contextmanager
    def _connection(self, read_only: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode; SQLite's errors become one-line RecordErrors.

        ``read_only`` never creates the database, and opens it even where the folder
        cannot be written (an auditor's read-only copy; see :func:`_reading`).
        """
        db: sqlite3.Connection | None = None
        with contextlib.ExitStack() as stack:
            try:
                if read_only:
                    db = _reading(self.database, stack)
                else:
                    db = sqlite3.connect(self.database, timeout=BUSY_TIMEOUT, isolation_level=None)
                    db.execute("PRAGMA synchronous=NORMAL")
                yield db
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise RecordError(
                        f"the record database {self.database} stayed busy for {BUSY_TIMEOUT:g} s"
                    ) from None
                if "disk is full" in str(exc) or _nearly_full(self.folder):
                    raise self._full() from None  # a full disk also reads "disk I/O error"
                raise RecordError(
                    f"cannot use the record database {self.database}: {exc}"
                ) from None
            except sqlite3.DatabaseError as exc:  # not a database, malformed image
                raise self._damaged(exc) from None
            except OSError as exc:  # writing a kept PDF
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise self._full() from None
                raise RecordError(
                    f"cannot write the record in {self.folder}: {exc.strerror or exc}"
                ) from None
            finally:
                if db is not None:
                    db.close()

    def _full(self) -> RecordError:
        return RecordError(
            f"disk full: the record in {self.folder.absolute()} cannot be written; free some space "
            "on that disk (nothing was handed out without its record)"
        )

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from the start."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- writing ----------------------------------------------------------------

    def keep(
        self,
        pdf: bytes,
        drugs: Sequence[Drug],
        chosen: Iterable[tuple[str, str | None]],
        *,
        action: str,
        via: str,
        day: dt.date,
        printer: str | None = None,
        job: str | None = None,
        copies: int | None = None,
        user: str | None = None,
        reprint_of: int | None = None,
    ) -> Entry:
        """Record one PDF handed out, keeping the PDF itself once per distinct content.

        ``chosen`` are the options as :func:`recorded_options` gives them (only
        those that change a PDF, as text). Returns the new record.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if not drugs:
            raise ValueError("a record names at least one drug")
        pages = page_count(pdf)
        chosen = tuple(sorted(chosen))
        at = now().strftime("%Y-%m-%dT%H:%M:%SZ")
        row = (
            at,
            day.isoformat(),
            action,
            via,
            json.dumps(dict(chosen), sort_keys=True),
            "",  # the PDF's SHA-256, known once it is kept
            pages,
            printer,
            job,
            copies,
            user,
            reprint_of,
        )
        marker: Path | None = None
        try:
            with self._writing() as db:
                # Renamed into place under the write lock, committed after: see the module
                # doc. The marker tells the next writer to sweep, should this one be killed.
                marker = self.archive.mark_writing()
                sha256 = self.archive.put(pdf)
                cursor = db.execute(
                    f"INSERT INTO records ({_COLUMNS}) VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*row[:5], sha256, *row[6:]),
                )
                number = int(cursor.lastrowid or 0)
                db.executemany(
                    "INSERT INTO record_drugs VALUES (?,?,?,?,?)",
                    [(number, i, d.slug, d.title, d.edition) for i, d in enumerate(drugs)],
                )
        except BaseException:
            if marker is not None:  # rolled back: a PDF may be left without its record
                with contextlib.suppress(RecordError):
                    self.recover()
                marker.unlink(missing_ok=True)
            raise
        marker.unlink(missing_ok=True)
        return Entry(
            number,
            at,
            day.isoformat(),
            action,
            via,
            tuple(drugs),
            chosen,
            sha256,
            pages,
            printer,
            job,
            copies,
            user,
            reprint_of,
        )

    def set_job(self, number: int, job: str) -> None:
        """Note the job id CUPS gave, once it has accepted the job."""
        with self._writing() as db:
            db.execute("UPDATE records SET job = ? WHERE id = ?", (job, number))

    def forget(self, number: int) -> None:
        """Remove a record of something that did not happen (CUPS refused the job)."""
        with self._writing() as db:
            pdfs = _pdfs(db, "SELECT pdf FROM records WHERE id = ?", (number,))
            db.execute("DELETE FROM record_drugs WHERE record = ?", (number,))
            db.execute("DELETE FROM records WHERE id = ?", (number,))
            self._remove_unused(db, pdfs)

    def prune(self, keep_days: int, today: dt.date) -> int:
        """Delete records printed more than ``keep_days`` days before ``today``.

        Their PDFs go only when no remaining record points to them (the sweep
        after the commit), so a kept record never loses its edition.
        """
        cutoff = (today - dt.timedelta(days=keep_days)).isoformat()
        with self._writing() as db:
            pdfs = _pdfs(db, "SELECT DISTINCT pdf FROM records WHERE day < ?", (cutoff,))
            old = "SELECT id FROM records WHERE day < ?"
            db.execute(f"DELETE FROM record_drugs WHERE record IN ({old})", (cutoff,))
            removed = db.execute("DELETE FROM records WHERE day < ?", (cutoff,)).rowcount
            self._remove_unused(db, pdfs)
        return int(removed)

    def _remove_unused(self, db: sqlite3.Connection, pdfs: Iterable[str]) -> None:
        """Remove those of ``pdfs`` no record points to any more (under the write lock).

        Removed before the commit: a crash after it leaves a record without its PDF
        only if the commit is then lost, so the file goes after the rows are deleted
        in the same transaction, and a failed removal only leaves an unused file.
        """
        for sha256 in pdfs:
            if db.execute("SELECT 1 FROM records WHERE pdf = ? LIMIT 1", (sha256,)).fetchone():
                continue
            with contextlib.suppress(OSError):
                self.archive.remove(sha256)

    def sweep(self) -> int:
        """Remove kept PDFs no record points to, and temporary files of dead writers.

        Runs under the write lock: a live writer renames and commits while
        holding it, so a file without a record here is truly left over.
        """
        with self._writing() as db:
            wanted = {row[0] for row in db.execute("SELECT DISTINCT pdf FROM records")}
            return self.archive.keep_only(wanted)

    # -- reading ----------------------------------------------------------------

    def entries(
        self,
        name: str | None = None,
        since: dt.date | None = None,
        day: dt.date | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        action: str | None = None,
        prints_first: bool = False,
    ) -> list[Entry]:
        """Records, oldest first: of a drug (slug or title contains ``name``), since a day.

        ``action`` keeps one kind (printed, opened, written); ``prints_first`` puts the
        printed ones before the rest (each part in the order asked for).
        """
        if not self.database.is_file():
            return []  # nothing handed out yet; reading never creates the record
        where = ["1"]
        values: list[Any] = []
        if since is not None:
            where.append("day >= ?")
            values.append(since.isoformat())
        if day is not None:
            where.append("day = ?")
            values.append(day.isoformat())
        if action is not None:
            where.append("action = ?")
            values.append(action)
        if name:
            pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                "EXISTS (SELECT 1 FROM record_drugs d WHERE d.record = records.id AND "
                "(d.slug LIKE ? ESCAPE '\\' OR d.title LIKE ? ESCAPE '\\'))"
            )
            values += [pattern, pattern]
        order = "id DESC" if newest_first else "id ASC"
        if prints_first:
            order = f"action = '{PRINTED}' DESC, {order}"
        bounded = f" LIMIT {int(limit)}" if limit is not None else ""
        query = f"SELECT {_COLUMNS} FROM records WHERE {' AND '.join(where)} ORDER BY {order}"
        with self._connection(read_only=True) as db:
            self._check(db)
            rows = db.execute(query + bounded, values).fetchall()
            drugs = self._drugs(db, [row[0] for row in rows])
        return [_entry(row, drugs.get(row[0], ())) for row in rows]

    def _drugs(self, db: sqlite3.Connection, numbers: list[int]) -> dict[int, tuple[Drug, ...]]:
        found: dict[int, list[Drug]] = {}
        for start in range(0, len(numbers), 500):  # SQLite's bound-parameter limit
            part = numbers[start : start + 500]
            marks = ",".join("?" * len(part))
            for record, slug, title, edition in db.execute(
                "SELECT record, slug, title, edition FROM record_drugs "
                f"WHERE record IN ({marks}) ORDER BY record, position",
                part,
            ):
                found.setdefault(record, []).append(Drug(slug, title, edition))
        return {number: tuple(drugs) for number, drugs in found.items()}

    def entry(self, number: int) -> Entry:
        """One record by its ID; an unknown ID is a usage error (exit 2).

        An ID SQLite cannot hold (beyond 64 bits: ``/printed/9223372036854775808.pdf``)
        is no record either, not an OverflowError.
        """
        if 1 <= number <= MAX_ID and self.database.is_file():
            with self._connection(read_only=True) as db:
                self._check(db)
                row = db.execute(f"SELECT {_COLUMNS} FROM records WHERE id = ?", (number,))
                found = row.fetchone()
                if found is not None:
                    return _entry(found, self._drugs(db, [number]).get(number, ()))
        raise UsageError(f"no record {number} in {self.database}")

    def pdf_of(self, entry: Entry) -> bytes:
        """The exact PDF a record handed out, checked against its SHA-256."""
        path = self.pdf_path(entry.pdf)
        try:
            return self.archive.read(entry.pdf)
        except OSError as exc:
            raise RecordError(
                f"the kept PDF of record {entry.id} is missing ({path}: {exc.strerror or exc})"
            ) from None
        except ValueError:
            raise RecordError(f"the kept PDF of record {entry.id} is damaged ({path})") from None


def _reading(database: Path, stack: contextlib.ExitStack) -> sqlite3.Connection:
    """A read-only connection that never creates the database.

    A WAL database needs its ``-shm`` file, which SQLite cannot make in a folder it
    may not write (an auditor's read-only copy). There it is opened ``immutable``
    (nothing else can be writing there); a copy that still has a ``-wal`` file with
    commits not yet in the database is read from a private temporary copy instead,
    so none of its records are missed.
    """
    uri = database.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT, isolation_level=None)
        db.execute("PRAGMA schema_version").fetchone()  # opens the file (and the WAL index)
        return db
    except sqlite3.OperationalError:
        if os.access(database.parent, os.W_OK) and not _read_only_mount(database.parent):
            raise
    wal = database.with_name(database.name + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        copy = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="medpdf-record-")))
        shutil.copyfile(database, copy / database.name)
        shutil.copyfile(wal, copy / wal.name)
        uri = (copy / database.name).as_uri()
        return sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)


#: Free space below which a failed write is taken to be a full disk: SQLite reports one
#: as "disk I/O error" when growing its WAL index fails, with no errno to tell.
NEARLY_FULL = 1024 * 1024


def _nearly_full(folder: Path) -> bool:
    """True when the disk holding ``folder`` has (almost) no space left."""
    try:
        found = os.statvfs(folder if folder.exists() else folder.parent)
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < NEARLY_FULL


def _read_only_mount(folder: Path) -> bool:
    """True when ``folder`` is on a file system mounted read-only (even root cannot write)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _pdfs(db: sqlite3.Connection, query: str, values: Sequence[Any]) -> list[str]:
    return [row[0] for row in db.execute(query, values)]


def _alive(marker: Path) -> bool:
    """The marker's writer is still running (``.writing.<pid>.<random>``)."""
    pid = marker.name.split(".")[2] if marker.name.count(".") >= 3 else ""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _entry(row: Sequence[Any], drugs: Iterable[Drug]) -> Entry:
    (number, at, day, action, via, chosen, pdf, pages, printer, job, copies, user, again) = row
    values = json.loads(chosen)
    return Entry(
        int(number),
        at,
        day,
        action,
        via,
        tuple(drugs),
        tuple(sorted(values.items())),
        pdf,
        int(pages),
        printer,
        job,
        copies,
        user,
        again,
    )
