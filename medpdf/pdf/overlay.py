"""The booklet's stamp overlaid on its pages, as a pagination artifact.

The stamp (:mod:`medpdf.pdf.stamp`) comes as files of up to ``STAMP_PAGES``
pages, one stamp page per booklet page. Each stamp page becomes a form
XObject of its drawing alone, drawn after the page's own content; with
21,000 of them, its dictionary says no more than it must (no optional
``/Type``, one shared bounding box per page size: 0.7 MiB). The stamp files
are opened one at a time, as the booklet's pages are written, and closed
again: the whole collection's stamp as one file took 80 MB to open. The
stamp's font is the same in every file (the same words and digits), so the
resources are shared by content, not copied once per file.

pikepdf's ``add_overlay`` would do the drawing, but it splices into the
page's content stream, where the artifact cannot be told apart, and it adds
a resource name per page to the resources a chunk's pages share. Here the
page's stream is kept, and two small streams shared by every page go around
it (:attr:`Stamps.before`, :attr:`Stamps.after`); each page gets its own
resources naming its stamp.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf

from medpdf.pdf import structure
from medpdf.pdf.copier import Copier
from medpdf.pdf.update import UpdateWriter

#: The stamp's name in each page's resources.
NAME = "/MedpdfStamp"


def _digest(obj: Any, into: Any, seen: set[tuple[int, int]]) -> None:
    """Feed ``obj`` and everything it refers to into the hash ``into``."""
    if not isinstance(obj, pikepdf.Object):  # a number or boolean, given as Python's
        into.update(repr(obj).encode())
        return
    if obj.is_indirect:
        if obj.objgen in seen:
            into.update(b"@seen")
            return
        seen.add(obj.objgen)
    if isinstance(obj, pikepdf.Stream):
        into.update(obj.read_bytes())
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        for key in sorted(obj.keys()):
            into.update(key.encode())
            _digest(obj[key], into, seen)
    elif isinstance(obj, pikepdf.Array):
        for item in obj:
            _digest(item, into, seen)
    else:
        into.update(obj.unparse())


class Stamps:
    """The stamp's pages, written as form XObjects one booklet page at a time."""

    def __init__(self, files: Sequence[Path], writer: UpdateWriter) -> None:
        self._files = list(files)
        self._writer = writer
        self._open: pikepdf.Pdf | None = None
        self._copier: Copier | None = None
        self._sheets: list[Any] = []
        self._shared: dict[bytes, int] = {}  # a stamp's resources, by content
        self._in_file: dict[bytes, int] = {}  # the same, by how the open file writes them
        self._boxes: dict[bytes, int] = {}  # one bounding box per page size, shared
        #: The streams drawn before a page's content and after it (with the stamp).
        self.before = writer.stream(b"/Filter /FlateDecode", zlib.compress(b"q\n"))
        after = b"Q\n" + structure.PAGINATION_ARTIFACT + b"\nq " + NAME.encode() + b" Do Q\nEMC\n"
        self.after = writer.stream(b"/Filter /FlateDecode", zlib.compress(after))

    def _next(self) -> tuple[Any, Copier]:
        while not self._sheets:
            self.close()
            if not self._files:
                raise ValueError("the booklet has more pages than the stamp")
            self._open = pikepdf.Pdf.open(self._files.pop(0))
            self._copier = Copier(self._open, self._writer)
            self._sheets = [sheet.obj for sheet in self._open.pages]
            self._sheets.reverse()
            self._in_file = {}
        assert self._copier is not None
        return self._sheets.pop(), self._copier

    def form(self) -> int:
        """Write the next page's stamp as a form; its object number."""
        page, copier = self._next()
        resources = page.get("/Resources", pikepdf.Dictionary())
        written = resources.unparse()
        if written not in self._in_file:
            digest = hashlib.sha256()
            _digest(resources, digest, set())
            if digest.digest() not in self._shared:
                self._shared[digest.digest()] = self._writer.add(copier.text(resources))
                copier.drain()
            self._in_file[written] = self._shared[digest.digest()]
        box = copier.text(page.MediaBox)
        if box not in self._boxes:
            self._boxes[box] = self._writer.add(box)
        contents: Any = page.Contents
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        data = b"\n".join(stream.read_bytes() for stream in streams)
        return self._writer.stream(
            b"/Subtype /Form /BBox %d 0 R /Resources %d 0 R /Filter /FlateDecode"
            % (self._boxes[box], self._in_file[written]),
            zlib.compress(data),
        )

    def close(self) -> None:
        """Close the open stamp file."""
        if self._open is not None:
            self._open.close()
            self._open = None

    def finish(self) -> None:
        """Close the last stamp file; a stamp page or file left over is an error."""
        left = len(self._sheets) + len(self._files)
        self.close()
        if left:
            raise ValueError("the stamp has more pages than the booklet")
