"""The booklet's one structure tree, written after the merged pages from the parts' tree data.

Each part carries its tree as data (:func:`medpdf.pdf.structure.sidecar`).
Before the booklet is saved, :meth:`TagWriter.add` numbers the parent-tree
keys of pages and links (``/StructParents``: the booklet page index; links
follow the pages) and :meth:`TagWriter.prepare` puts a placeholder
``/StructTreeRoot`` in the catalog. After saving, :meth:`TagWriter.append`
reads the object numbers the pages, links and placeholder got and appends the
tree as an incremental update (ISO 32000-1, 7.5.6): one ``StructTreeRoot``,
one ``Document``, each part's elements under it in page order, a drug's
per-page ``Art`` fragments joined into one, the parent tree, role maps merged.
It is written straight to the file, part by part: as pikepdf objects, the
tree of 21,000 pages took 1.7 GB and 44 s to merge.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Dictionary, Name

from medpdf.pdf.structure import link_data, sidecar


class TagWriter:
    """Writes the booklet's one structure tree, from the parts' data (see the module)."""

    def __init__(self) -> None:
        self._parts: list[tuple[pikepdf.Pdf, int]] = []  # (part, its first booklet page)
        self._link_annots: list[Any] = []  # link annotations in parent-tree key order

    def add(self, part: pikepdf.Pdf, pages: Sequence[Any], first: int) -> None:
        """Take note of ``part``, whose pages were copied into the booklet as ``pages``."""
        links = link_data(part)
        if links is None:  # an untagged part (laid out before tags): its pages stay so
            return
        self._parts.append((part, first))
        for index, page in enumerate(pages):
            page.StructParents = first + index
        for page, number, _ in links:
            self._link_annots.append(pages[page].Annots[number])

    def prepare(self, booklet: pikepdf.Pdf, total: int) -> Any:
        """Number the links and return the placeholder tree root for the catalog."""
        for key, annot in enumerate(self._link_annots, start=total):
            annot.StructParent = key
        return booklet.make_indirect(Dictionary(Type=Name.StructTreeRoot))

    def append(self, handle: Any, units: Sequence[int]) -> None:
        """Append the tree to the booklet just saved to ``handle`` (see the class docstring).

        ``units[i]`` says which part (a chunk of monographs) booklet page ``i``
        belongs to, -1 for none: consecutive ``Art`` elements of one unit are
        joined unless the later one begins an article (its ``H1``), as
        WeasyPrint cuts an article into one fragment per page (and per column).
        """
        handle.flush()
        with pikepdf.Pdf.open(Path(f"/proc/self/fd/{handle.fileno()}")) as saved:
            page_numbers = [page.obj.objgen[0] for page in saved.pages]
            annot_numbers = {
                (index, number): annot.objgen[0]
                for index, page in enumerate(saved.pages)
                for number, annot in enumerate(page.obj.get("/Annots", []))
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
        writer = _ObjectWriter(handle, size)
        document = writer.reserve()
        parent_tree = writer.reserve()
        top: list[int] = []
        leaves: list[int] = []
        links: list[int] = []
        roles: dict[str, str] = {}
        for part, first in self._parts:
            data = sidecar(part)
            assert data is not None
            for role, standard in data["roles"].items():
                roles.setdefault(role, standard)
            numbers = _write_part(
                writer, data, first, document, page_numbers, annot_numbers, units, top
            )
            pages = len(part.pages)
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
    writer: _ObjectWriter,
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
    numbers: list[int | None] = [
        writer.reserve() if owner[index] == index else None for index in range(len(rows))
    ]
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


class _ObjectWriter:
    """Appends numbered objects to a PDF file and closes them with an xref section."""

    def __init__(self, handle: Any, first_free: int) -> None:
        self._handle = handle
        self._position = handle.tell()
        self._next = first_free
        self._first_new = first_free
        self._offsets: dict[int, int] = {}

    def reserve(self) -> int:
        """A new object number, to be written later."""
        self._next += 1
        return self._next - 1

    def add(self, body: bytes, number: int | None = None) -> int:
        """Write object ``number`` (a new one if None) with ``body``; returns its number."""
        if number is None:
            number = self.reserve()
        data = b"%d 0 obj\n%s\nendobj\n" % (number, body)
        self._handle.write(data)
        self._offsets[number] = self._position
        self._position += len(data)
        return number

    def finish(self, fixed: bytes, previous: int) -> None:
        """The xref section and trailer of the update."""
        numbers = sorted(self._offsets)
        sections: list[bytes] = []
        run: list[int] = []
        for number in numbers:
            if run and number != run[-1] + 1:
                sections.append(self._section(run))
                run = []
            run.append(number)
        if run:
            sections.append(self._section(run))
        self._handle.write(
            b"xref\n0 1\n0000000000 65535 f\r\n%s"
            b"trailer\n<</Size %d %s /Prev %d>>\nstartxref\n%d\n%%%%EOF\n"
            % (b"".join(sections), self._next, fixed, previous, self._position)
        )

    def _section(self, run: list[int]) -> bytes:
        entries = b"".join(b"%010d 00000 n\r\n" % self._offsets[n] for n in run)
        return b"%d %d\n%s" % (run[0], len(run), entries)
