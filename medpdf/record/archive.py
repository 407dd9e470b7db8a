"""The kept PDFs: each distinct PDF once, named by its SHA-256 (``pdf/ab/abcd….pdf``).

Files are only ever complete: written under a temporary name, synced and
renamed (:func:`medpdf.atomic.write_atomic`), the folder synced after,
so a file's presence (at its size) means it is whole. When to write and when
to remove is the record's decision (:mod:`medpdf.record.store`): always under
its database's write lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
from collections.abc import Collection
from pathlib import Path

from medpdf.atomic import sweep_stale_temps, write_atomic

#: The name of a writer's marker starts so: ``.writing.<pid>.<random>``.
WRITING = ".writing."


def page_count(pdf: bytes) -> int:
    """Pages of a PDF; anything that is not one is a caller's mistake (ValueError)."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            return len(document.pages)
    except pikepdf.PdfError as exc:
        raise ValueError(f"not a PDF: {exc}") from None


class Archive:
    """Content-addressed PDFs in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, sha256: str) -> Path:
        """Where the PDF with this SHA-256 is kept."""
        return self.folder / sha256[:2] / f"{sha256}.pdf"

    def put(self, pdf: bytes) -> str:
        """Keep ``pdf`` unless an identical one is kept already; returns its SHA-256."""
        sha256 = hashlib.sha256(pdf).hexdigest()
        target = self.path(sha256)
        if not _complete(target, len(pdf)):
            write_atomic(target, pdf)
            _sync_folder(target.parent)  # the rename is durable before the record says so
        return sha256

    def read(self, sha256: str) -> bytes:
        """The kept PDF, checked against its name; OSError or ValueError when it is not."""
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError("its content does not match its SHA-256")
        return data

    def remove(self, sha256: str) -> None:
        """Remove one kept PDF (the record has just stopped pointing to it)."""
        self.path(sha256).unlink(missing_ok=True)

    def mark_writing(self) -> Path:
        """A marker that a writer is between writing a PDF and committing its record.

        Made before the PDF is written, removed after the commit: one left behind
        (its writer was killed) is how the next writer knows to sweep.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        marker = self.folder / f"{WRITING}{os.getpid()}.{secrets.token_hex(4)}"
        marker.touch()
        return marker

    def markers(self) -> list[Path]:
        """Markers of writers that have not finished, or were killed.

        One listing of the archive's top folder, not a walk through every kept PDF.
        """
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.iterdir() if p.name.startswith(WRITING)]

    def keep_only(self, wanted: Collection[str]) -> int:
        """Remove every PDF not in ``wanted`` and temporaries of writers that are gone."""
        removed = 0
        if not self.folder.is_dir():
            return removed
        for folder in [p for p in self.folder.iterdir() if p.is_dir()]:
            removed += sweep_stale_temps(folder)
            for path in folder.glob("*.pdf"):
                if path.stem not in wanted:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed += 1
        return removed


def _complete(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
