"""The booklet's stamp overlaid on its pages, as a pagination artifact.

The stamp (:mod:`medpdf.pdf.stamp`) comes as files of up to ``STAMP_PAGES``
pages, one stamp page per booklet page. Each stamp page becomes a form
XObject of its drawing alone, drawn after the page's own content; with
21,000 of them, its dictionary says no more than it must (no optional
``/Type``, one shared bounding box per page size: 0.7 MiB). The stamp files
are opened one at a time and closed again: the whole collection's stamp as
one file took 80 MB to open. What stamp pages share is written once, before
the booklet's pages: the two streams around every page's content, one
bounding box per page size, and the resources. The stamp's font is the same
in every file (the same words and digits), so the resources are shared by
content, not copied once per file.

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
    """The stamp's pages, drawn as form XObjects into the segments that hold their pages."""

    def __init__(
        self, files: Sequence[Path], writer: UpdateWriter, sizes: Sequence[tuple[float, float]]
    ) -> None:
        """Write what every stamp page shares (see the module) through ``writer``."""
        self._files = list(files)
        self._open: tuple[int, pikepdf.Pdf, list[Any]] | None = None
        #: The streams drawn before a page's content and after it (with the stamp).
        self.before = writer.stream(b"/Filter /FlateDecode", zlib.compress(b"q\n"))
        after = b"Q\n" + structure.PAGINATION_ARTIFACT + b"\nq " + NAME.encode() + b" Do Q\nEMC\n"
        self.after = writer.stream(b"/Filter /FlateDecode", zlib.compress(after))
        boxes: dict[tuple[float, float], int] = {}
        shared: dict[bytes, int] = {}  # a stamp's resources, by content
        #: For each booklet page: its stamp file, the page in it, its resources and box.
        self._pages: list[tuple[int, int, int, int]] = []
        for number, path in enumerate(self._files):
            with pikepdf.Pdf.open(path) as stamped:
                copier = Copier(stamped, writer)
                in_file: dict[bytes, int] = {}  # the same, by how this file writes them
                for index, sheet in enumerate(stamped.pages):
                    page = len(self._pages)
                    if page == len(sizes):
                        raise ValueError("the stamp has more pages than the booklet")
                    resources = sheet.obj.get("/Resources", pikepdf.Dictionary())
                    written = resources.unparse()
                    if written not in in_file:
                        digest = hashlib.sha256()
                        _digest(resources, digest, set())
                        if digest.digest() not in shared:
                            shared[digest.digest()] = writer.add(copier.text(resources))
                            copier.drain()
                        in_file[written] = shared[digest.digest()]
                    if sizes[page] not in boxes:
                        boxes[sizes[page]] = writer.add(b"[0 0 %.4f %.4f]" % sizes[page])
                    self._pages.append((number, index, in_file[written], boxes[sizes[page]]))
        if len(self._pages) != len(sizes):
            raise ValueError(f"the stamp has {len(self._pages)} pages, the booklet {len(sizes)}")

    def key(self, first: int, count: int) -> str:
        """What the stamps of booklet pages ``first`` to ``first + count`` are drawn from."""
        drawn = self._pages[first : first + count]
        files = sorted({self._files[number].name for number, _, _, _ in drawn})
        shared = sorted({(resources, box) for _, _, resources, box in drawn})
        return f"{files} {drawn[0][:2] if drawn else ()} {shared}"

    def form(self, writer: UpdateWriter, page: int) -> int:
        """Write booklet page ``page``'s stamp as a form through ``writer``; its number."""
        number, index, resources, box = self._pages[page]
        if self._open is None or self._open[0] != number:
            self.close()
            opened = pikepdf.Pdf.open(self._files[number])
            # Indexing pikepdf's page list reads it again: the pages are listed once.
            self._open = (number, opened, [sheet.obj for sheet in opened.pages])
        sheet = self._open[2][index]
        contents: Any = sheet.Contents
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        data = b"\n".join(stream.read_bytes() for stream in streams)
        return writer.stream(
            b"/Subtype /Form /BBox %d 0 R /Resources %d 0 R /Filter /FlateDecode"
            % (box, resources),
            zlib.compress(data),
        )

    def close(self) -> None:
        """Close the stamp file open for :meth:`form`."""
        if self._open is not None:
            self._open[1].close()
            self._open = None
