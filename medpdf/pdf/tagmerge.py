"""The booklet's one structure tree, written after the merged pages from the parts' tree data.

Each part carries its tree as data (:func:`medpdf.pdf.structure.sidecar`).
While the booklet is merged, :meth:`TagWriter.add` keeps each part's data
(still compressed: the part itself is closed once its pages are copied),
numbers the parent-tree keys of pages and links (``/StructParents``: the
booklet page index; links follow the pages), and :meth:`TagWriter.prepare`
puts a placeholder ``/StructTreeRoot`` in the catalog. After saving,
:meth:`TagWriter.append` reads the object numbers the pages, links and
placeholder got and appends the tree as an incremental update
(:mod:`medpdf.pdf.update`, in object streams): one ``StructTreeRoot``, one
``Document``, each part's elements under it in page order, a drug's
per-page ``Art`` fragments joined into one, the parent tree, role maps
merged. It is written straight to the file, part by part: as pikepdf
objects, the tree of 21,000 pages took 1.7 GB and 44 s to merge.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pikepdf
from pikepdf import Dictionary, Name

from medpdf.pdf.structure import SIDECAR, link_data
from medpdf.pdf.update import UpdateWriter


@dataclass(frozen=True)
class _Part:
    """What the tree needs of a merged part once the part is closed."""

    #: The part's tree data (:func:`medpdf.pdf.structure.sidecar`), zlib-compressed JSON.
    packed: bytes
    links: list[list[int]]
    first: int
    pages: int

    @classmethod
    def of(cls, part: pikepdf.Pdf, links: list[list[int]], first: int) -> _Part:
        """Keep ``part``'s tree data as stored (re-compressed if it was not Flate)."""
        stream = part.Root[SIDECAR]
        if stream.get("/Filter") == Name.FlateDecode and "/DecodeParms" not in stream:
            packed = stream.read_raw_bytes()
        else:
            packed = zlib.compress(stream.read_bytes())
        return cls(packed, links, first, len(part.pages))

    def data(self) -> dict[str, Any]:
        """The tree data, as :func:`medpdf.pdf.structure.sidecar` gives it."""
        return {**json.loads(zlib.decompress(self.packed)), "links": self.links}


class TagWriter:
    """Writes the booklet's one structure tree, from the parts' data (see the module)."""

    def __init__(self) -> None:
        self._parts: list[_Part] = []
        self._link_annots: list[Any] = []  # link annotations in parent-tree key order
        self._link_pages: set[int] = set()  # booklet pages that have links

    def add(self, part: pikepdf.Pdf, pages: Sequence[Any], first: int) -> None:
        """Take note of ``part``, whose pages were copied into the booklet as ``pages``."""
        links = link_data(part)
        if links is None:  # an untagged part (laid out before tags): its pages stay so
            return
        self._parts.append(_Part.of(part, links, first))
        for index, page in enumerate(pages):
            page.StructParents = first + index
        for page, number, _ in links:
            self._link_annots.append(pages[page].Annots[number])
            self._link_pages.add(first + page)

    def prepare(self, booklet: pikepdf.Pdf, total: int) -> Any:
        """Number the links and return the placeholder tree root for the catalog."""
        for key, annot in enumerate(self._link_annots, start=total):
            annot.StructParent = key
        self._link_annots = []  # the booklet's objects: not kept past its saving
        return booklet.make_indirect(Dictionary(Type=Name.StructTreeRoot))

    def append(self, handle: BinaryIO, units: Sequence[int]) -> None:
        """Append the tree to the booklet just saved to ``handle`` (see the class docstring).

        ``units[i]`` says which part (a chunk of monographs) booklet page ``i``
        belongs to, -1 for none: consecutive ``Art`` elements of one unit are
        joined unless the later one begins an article (its ``H1``), as
        WeasyPrint cuts an article into one fragment per page (and per column).
        """
        handle.flush()
        with pikepdf.Pdf.open(Path(f"/proc/self/fd/{handle.fileno()}")) as saved:
            # The booklet's page tree is one flat list (medpdf.pdf.assemble): its
            # references give the pages' numbers without reading 21,000 pages back.
            kids = saved.Root.Pages.Kids
            page_numbers = [kid.objgen[0] for kid in kids]
            if len(page_numbers) != int(saved.Root.Pages.Count):
                raise ValueError("the booklet's page tree is not one flat list")
            annot_numbers = {
                (index, number): annot.objgen[0]
                for index in sorted(self._link_pages)
                for number, annot in enumerate(kids[index].get("/Annots", []))
                if "/StructParent" in annot
            }
            root_number = saved.Root.StructTreeRoot.objgen[0]
            trailer = saved.trailer
            size = int(trailer.Size)
            fixed = b"/Root %d 0 R" % saved.Root.objgen[0]
            if "/Info" in trailer:
                fixed += b" /Info %d 0 R" % trailer.Info.objgen[0]
            if "/ID" in trailer:
                fixed += b" /ID " + trailer.ID.unparse()
        handle.seek(0, os.SEEK_END)
        # The handle is write-only; Linux gives the same file to read as /proc/self/fd/N.
        with Path(f"/proc/self/fd/{handle.fileno()}").open("rb") as reader:
            reader.seek(max(0, handle.tell() - 1024))
            tail = reader.read()
        previous = int(tail[tail.rindex(b"startxref") + 9 :].split()[0])
        writer = UpdateWriter(handle, size)
        document = writer.reserve()
        parent_tree = writer.reserve()
        top: list[int] = []
        leaves: list[int] = []
        links: list[int] = []
        roles: dict[str, str] = {}
        for part in self._parts:
            data, first, pages = part.data(), part.first, part.pages
            for role, standard in data["roles"].items():
                roles.setdefault(role, standard)
            numbers = _write_part(
                writer, data, first, document, page_numbers, annot_numbers, units, top
            )
            marks: list[list[int | None]] = [[] for _ in range(pages)]
            for number, row in zip(numbers, data["elements"], strict=True):
                if number is None:
                    continue
                for kid in row[3]:
                    if isinstance(kid, list) and len(kid) == 1 and row[1] is not None:
                        page_marks = marks[row[1]]
                        page_marks.extend([None] * (kid[0] + 1 - len(page_marks)))
                        page_marks[kid[0]] = number
            nums = b" ".join(
                b"%d [%s]" % (first + index, b" ".join(_ref(n) for n in page_marks))
                for index, page_marks in enumerate(marks)
            )
            leaves.append(
                writer.add(b"<</Limits [%d %d] /Nums [%s]>>" % (first, first + pages - 1, nums))
            )
            links += [numbers[element] or 0 for _, _, element in data["links"]]
        total = len(page_numbers)
        for start in range(0, len(links), 512):
            chunk = links[start : start + 512]
            nums = b" ".join(b"%d %d 0 R" % (total + start + i, n) for i, n in enumerate(chunk))
            leaves.append(
                writer.add(
                    b"<</Limits [%d %d] /Nums [%s]>>"
                    % (total + start, total + start + len(chunk) - 1, nums)
                )
            )
        writer.add(b"<</Kids [%s]>>" % b" ".join(_ref(n) for n in leaves), parent_tree)
        writer.add(
            b"<</S /Document /P %d 0 R /K [%s]>>" % (root_number, b" ".join(_ref(n) for n in top)),
            document,
        )
        role_map = "".join(f" {role} {standard}" for role, standard in sorted(roles.items()))
        writer.add(
            b"<</Type /StructTreeRoot /K %d 0 R /ParentTree %d 0 R /ParentTreeNextKey %d%s>>"
            % (
                document,
                parent_tree,
                total + len(links),
                f" /RoleMap <<{role_map}>>".encode() if roles else b"",
            ),
            root_number,
        )
        writer.finish(fixed, previous)


def _ref(number: int | None) -> bytes:
    return b"null" if number is None else b"%d 0 R" % number


def _write_part(
    writer: UpdateWriter,
    data: dict[str, Any],
    first: int,
    document: int,
    page_numbers: Sequence[int],
    annot_numbers: dict[tuple[int, int], int],
    units: Sequence[int],
    top: list[int],
) -> list[int | None]:
    """Write one part's elements; returns each element's object number (None: joined away)."""
    rows = data["elements"]
    owner = list(range(len(rows)))  # the element that takes over an Art joined into it
    last: int | None = None
    last_unit = -2
    for index, row in enumerate(rows):
        if row[2] != -1:
            continue
        unit = units[first + row[1]] if row[1] is not None else -1
        joinable = row[0] == "/Art" and all(isinstance(k, int) for k in row[3])
        opens = joinable and any(rows[k][0] == "/H1" for k in row[3])
        if last is not None and joinable and not opens and unit == last_unit != -1:
            owner[index] = last
            rows[last][3] = rows[last][3] + row[3]
        else:
            last = index if joinable else None
        last_unit = unit
    kept = [index for index in range(len(rows)) if owner[index] == index]
    numbers: list[int | None] = [None] * len(rows)
    for index, reserved in zip(kept, writer.reserve_many(len(kept)), strict=True):
        numbers[index] = reserved
    for index, row in enumerate(rows):
        number = numbers[index]
        if number is None:
            continue
        kind, page, parent, kids, extra = row
        if parent == -1:
            top.append(number)
            parent_number = document
        else:
            parent_number = numbers[owner[parent]] or document
        items = []
        for kid in kids:
            if isinstance(kid, int):
                items.append(_ref(numbers[kid]))
            elif len(kid) == 1:
                items.append(b"%d" % kid[0])
            else:
                items.append(
                    b"<</Type /OBJR /Obj %d 0 R /Pg %d 0 R>>"
                    % (annot_numbers[(first + kid[0], kid[1])], page_numbers[first + kid[0]])
                )
        body = b"<</S " + kind.encode() + b" /P " + _ref(parent_number)
        if page is not None:
            body += b" /Pg " + _ref(page_numbers[first + page])
        if items:
            body += b" /K " + (items[0] if len(items) == 1 else b"[" + b" ".join(items) + b"]")
        if extra:
            body += b" " + extra.encode("latin-1")
        writer.add(body + b">>", number)
    return numbers
