"""What earlier builds did, so an unchanged rebuild does no parsing and no layout.

Everything is keyed by a digest of all that affects the output: the monograph
text, the templates/styles/assets, the run options and the versions of medpdf's
code and of the libraries that shape a page. The store is SQLite (atomic
commits survive a killed build); cached files carry a SHA-256 that is checked
before use. A damaged database is deleted and rebuilt: the worst a bad cache
can cost is time, never a wrong PDF.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from medpdf.content.collection import Summary
from medpdf.digests import digest_of, files_digest, software_fingerprint
from medpdf.settings.config import Resources

LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION = 2


def _stat_signature(folders: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file: cheap to take, changes with any edit."""
    found: list[tuple[str, int, int]] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            with contextlib.suppress(OSError):
                stat = path.stat()
                found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


@cache
def _presentation(resources: Resources, signature: tuple[tuple[str, int, int], ...]) -> str:
    from medpdf.content import glyphs  # the installed fonts change what a page looks like

    fonts = glyphs.for_styles(resources.styles).fingerprint
    folders = (*resources.readable_dirs, resources.locale)
    return digest_of(software_fingerprint(), files_digest(folders), fonts)


def presentation_fingerprint(resources: Resources) -> str:
    """Code, libraries, templates, styles, assets, catalogs and fonts: what a PDF's look is.

    Hashing every file costs ~1 ms; it is redone only when a file's size or
    modification time changed, so a run (or the station, per request) may ask
    as often as it likes and still see an edited stylesheet.
    """
    return _presentation(resources, _stat_signature((*resources.readable_dirs, resources.locale)))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS summaries (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outputs (
    target TEXT PRIMARY KEY, key TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, extra TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
    key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, extra TEXT NOT NULL);
"""


class Cache:
    """The build cache of one output folder (``<output>/.cache``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.blob_dir = folder / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self._db_path = folder / "medpdf.sqlite3"
        try:
            self._db = self._connect()
        except sqlite3.OperationalError:
            raise  # busy or unreadable now (another process writing): not damage
        except sqlite3.DatabaseError as exc:
            LOGGER.warning("build cache %s is damaged (%s); starting a new one", folder, exc)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{self._db_path}{suffix}").unlink()
            self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            if row is not None and row[0] != str(SCHEMA_VERSION):
                db.executescript("DELETE FROM summaries; DELETE FROM outputs; DELETE FROM blobs;")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            db.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        """Close the database; everything recorded is already committed."""
        self._db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- small facts remembered between builds ----------------------------

    def recall(self, name: str) -> str | None:
        """A value stored with :meth:`remember`; a hint, never trusted for output."""
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def remember(self, name: str, value: str) -> None:
        """Keep a small value for the next build."""
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    # -- parse summaries -------------------------------------------------

    def summaries(self, keys: Iterable[str]) -> dict[str, Summary]:
        """The stored summaries among ``keys``."""
        found: dict[str, Summary] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            query = f"SELECT key, value FROM summaries WHERE key IN ({marks})"
            for key, value in self._db.execute(query, batch):
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    raw = json.loads(value)
                    found[key] = Summary(
                        raw["title"],
                        tuple((p[0], p[1], p[2]) for p in raw["problems"]),
                        raw.get("lang"),
                        raw.get("translation_of"),
                        tuple(str(c) for c in raw.get("codes", ())),
                    )
        return found

    def put_summaries(self, items: Iterable[tuple[str, Summary]]) -> None:
        """Store parse results in one transaction."""
        rows = [
            (
                key,
                json.dumps(
                    {
                        "title": s.title,
                        "problems": [list(p) for p in s.problems],
                        "lang": s.lang,
                        "translation_of": s.translation_of,
                        "codes": list(s.codes),
                    }
                ),
            )
            for key, s in items
        ]
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO summaries VALUES (?, ?)", rows)

    # -- outputs written to the output folder ----------------------------

    def output_current(self, target: Path, key: str) -> dict[str, Any] | None:
        """The extra data recorded with ``target`` if it was built from ``key`` and is untouched."""
        row = self._db.execute(
            "SELECT key, size, mtime_ns, extra FROM outputs WHERE target = ?", (str(target),)
        ).fetchone()
        if row is None or row[0] != key:
            return None
        try:
            stat = target.stat()
        except OSError:
            return None
        if stat.st_size != row[1] or stat.st_mtime_ns != row[2]:
            return None
        extra: dict[str, Any] = json.loads(row[3])
        return extra

    def record_outputs(self, items: Iterable[tuple[Path, str, dict[str, Any]]]) -> None:
        """Remember which key each target was built from, once in place (``Store.keep``)."""
        rows = []
        for target, key, extra in items:
            stat = target.stat()
            rows.append((str(target), key, stat.st_size, stat.st_mtime_ns, json.dumps(extra)))
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?)", rows)

    def recorded_outputs(self, folder: Path) -> list[Path]:
        """Targets this cache knows it wrote inside ``folder``."""
        prefix = str(folder) + "/"
        rows = self._db.execute("SELECT target FROM outputs").fetchall()
        return [Path(t) for (t,) in rows if t.startswith(prefix)]

    def forget_outputs(self, targets: Iterable[Path]) -> None:
        """Drop records of targets that were removed."""
        with self._transaction():
            self._db.executemany(
                "DELETE FROM outputs WHERE target = ?", [(str(t),) for t in targets]
            )

    # -- blobs: cached intermediate files (booklet chunks) ---------------

    def blob_path(self, key: str) -> Path:
        """Where the blob of ``key`` lives (written by a worker, then recorded).

        A blob is a PDF unless its key names its own kind (``<digest>.json``).
        """
        return self.blob_dir / (key if "." in key else f"{key}.pdf")

    def blob(self, key: str) -> dict[str, Any] | None:
        """The extra data of a stored blob whose file is present and intact."""
        found = self.blob_data(key)
        return None if found is None else found[1]

    def blob_data(self, key: str) -> tuple[bytes, dict[str, Any]] | None:
        """A stored blob's bytes and extra data, if its file is present and intact."""
        row = self._db.execute("SELECT sha256, extra FROM blobs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        path = self.blob_path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != row[0]:
            LOGGER.info("cached %s is damaged; rebuilding it", path.name)
            return None
        extra: dict[str, Any] = json.loads(row[1])
        return data, extra

    def record_blob(self, key: str, sha256: str, extra: dict[str, Any]) -> None:
        """Record a blob whose file is already in place (``Store.keep_part``)."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", (key, sha256, json.dumps(extra))
            )

    def prune_blobs(self, keep: Iterable[str]) -> int:
        """Delete blobs not in ``keep``: the cache holds one booklet's worth, not history."""
        wanted = set(keep)
        stale = [k for (k,) in self._db.execute("SELECT key FROM blobs") if k not in wanted]
        with self._transaction():
            self._db.executemany("DELETE FROM blobs WHERE key = ?", [(k,) for k in stale])
        names = {self.blob_path(key).name for key in wanted}
        removed = 0
        for path in self.blob_dir.iterdir():
            # A hidden name is a writer's temporary file (swept by Store.sweep).
            if path.name not in names and not path.name.startswith("."):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
        return removed

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
