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
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from medpdf.errors import RecordError, UsageError
from medpdf.record.archive import Archive, page_count
from medpdf.record.entries import ACTIONS, Drug, Entry

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
        record.sweep()
        return record

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
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode; SQLite's errors become one-line RecordErrors."""
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(self.database, timeout=BUSY_TIMEOUT, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise RecordError(
                    f"the record database {self.database} stayed busy for {BUSY_TIMEOUT:g} s"
                ) from None
            raise RecordError(f"cannot use the record database {self.database}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # not a database, malformed image
            raise self._damaged(exc) from None
        finally:
            if db is not None:
                db.close()

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
        at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._writing() as db:
            # Renamed into place under the write lock, committed after: see the module doc.
            sha256 = self.archive.put(pdf)
            cursor = db.execute(
                f"INSERT INTO records ({_COLUMNS}) VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    at,
                    day.isoformat(),
                    action,
                    via,
                    json.dumps(dict(chosen), sort_keys=True),
                    sha256,
                    pages,
                    printer,
                    job,
                    copies,
                    user,
                    reprint_of,
                ),
            )
            number = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO record_drugs VALUES (?,?,?,?,?)",
                [(number, i, d.slug, d.title, d.edition) for i, d in enumerate(drugs)],
            )
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
            db.execute("DELETE FROM record_drugs WHERE record = ?", (number,))
            db.execute("DELETE FROM records WHERE id = ?", (number,))
        self.sweep()

    def prune(self, keep_days: int, today: dt.date) -> int:
        """Delete records printed more than ``keep_days`` days before ``today``.

        Their PDFs go only when no remaining record points to them (the sweep
        after the commit), so a kept record never loses its edition.
        """
        cutoff = (today - dt.timedelta(days=keep_days)).isoformat()
        with self._writing() as db:
            old = "SELECT id FROM records WHERE day < ?"
            db.execute(f"DELETE FROM record_drugs WHERE record IN ({old})", (cutoff,))
            removed = db.execute("DELETE FROM records WHERE day < ?", (cutoff,)).rowcount
        self.sweep()
        return int(removed)

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
    ) -> list[Entry]:
        """Records, oldest first: of a drug (slug or title contains ``name``), since a day."""
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
        if name:
            pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                "EXISTS (SELECT 1 FROM record_drugs d WHERE d.record = records.id AND "
                "(d.slug LIKE ? ESCAPE '\\' OR d.title LIKE ? ESCAPE '\\'))"
            )
            values += [pattern, pattern]
        order = "DESC" if newest_first else "ASC"
        bounded = f" LIMIT {int(limit)}" if limit is not None else ""
        query = f"SELECT {_COLUMNS} FROM records WHERE {' AND '.join(where)} ORDER BY id {order}"
        with self._connection() as db:
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
            with self._connection() as db:
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
