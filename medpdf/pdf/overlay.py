"""The booklet's stamp overlaid on its pages, as a pagination artifact.

The stamp (:mod:`medpdf.pdf.stamp`) comes as files of up to ``STAMP_PAGES``
pages, one stamp page per booklet page. Each stamp page becomes a form
XObject of its drawing alone, drawn after the page's own content; with
21,000 of them, its dictionary says no more than it must (no optional
``/Type``, one shared bounding box per page size: 0.7 MiB). The stamp files
are opened one at a time and closed again: the whole collection's stamp as
one file took 80 MB to open. The stamp's font is the same in every file (the
same words and digits), so the resources are shared by content, not copied
once per file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf

from medpdf.pdf import structure

#: The stamp's name in each page's resources.
NAME = "/MedpdfStamp"


class _Overlay:
    """Draws a form on top of a page, outside the page's own graphics state.

    pikepdf's ``add_overlay`` would do the drawing, but it splices into the
    page's content stream, where the artifact cannot be told apart, and it
    adds a resource name per page to the resources a chunk's pages share.
    Here the page's stream is kept, and two small streams shared by every
    page go around it; each page gets its own resources naming its stamp.
    """

    def __init__(self, booklet: pikepdf.Pdf) -> None:
        self._before = booklet.make_stream(b"q\n")
        self._after = booklet.make_stream(
            b"Q\n" + structure.PAGINATION_ARTIFACT + b"\nq " + NAME.encode() + b" Do Q\nEMC\n"
        )

    def add(self, page: Any, form: Any) -> None:
        """Overlay ``form`` (drawn for this page's size) on ``page``."""
        contents = page.Contents
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        page.Contents = pikepdf.Array([self._before, *streams, self._after])
        shared = page.get("/Resources", pikepdf.Dictionary())
        resources = pikepdf.Dictionary({k: v for k, v in shared.items()})
        xobjects = pikepdf.Dictionary({k: v for k, v in shared.get("/XObject", {}).items()})
        xobjects[NAME] = form
        resources.XObject = xobjects
        page.Resources = resources


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


def stamp(booklet: pikepdf.Pdf, pages: Sequence[Any], files: Sequence[Path]) -> None:
    """Overlay each of ``pages`` with its page of the stamp ``files`` (in order)."""
    overlay = _Overlay(booklet)
    shared: dict[bytes, Any] = {}  # the booklet's copy of a stamp's resources, by content
    boxes: dict[tuple[float, ...], Any] = {}  # one bounding box per page size, shared
    at = 0
    for path in files:
        with pikepdf.Pdf.open(path) as stamped:
            in_file: dict[bytes, Any] = {}  # the same, by how this file writes them
            for sheet in stamped.pages:
                if at == len(pages):
                    raise ValueError("the stamp has more pages than the booklet")
                page = sheet.obj
                resources = page.get("/Resources", pikepdf.Dictionary())
                written = resources.unparse()
                if written not in in_file:
                    digest = hashlib.sha256()
                    _digest(resources, digest, set())
                    if digest.digest() not in shared:
                        shared[digest.digest()] = booklet.copy_foreign(
                            stamped.make_indirect(resources)
                        )
                    in_file[written] = shared[digest.digest()]
                box = tuple(float(n) for n in page.MediaBox)
                if box not in boxes:
                    boxes[box] = booklet.make_indirect(pikepdf.Array(box))
                contents: Any = page.Contents
                streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
                form = booklet.make_stream(
                    b"\n".join(stream.read_bytes() for stream in streams),
                    Subtype=pikepdf.Name.Form,
                    BBox=boxes[box],
                    Resources=in_file[written],
                )
                overlay.add(pages[at], form)
                at += 1
    if at != len(pages):
        raise ValueError(f"the stamp has {at} pages, the booklet {len(pages)}")
