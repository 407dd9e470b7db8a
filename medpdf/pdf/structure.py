"""The booklet's tagged structure: tidy each laid-out part, then merge their trees into one.

WeasyPrint tags every part it writes (PDF/UA-1), but a plain page merge keeps
none of it: the pages arrive with ``/StructParents`` keys into parent trees
that were left behind. This module keeps the tags across the merge.

Worker side, once per cached part (:func:`tidy`): WeasyPrint marks the text of
page margin boxes (running header, the drug's own "page x of y", the footer
disclaimer) as ``Span`` content whose structure elements it never links into
the tree; they become pagination artifacts, so that every marked-content
sequence left is reached from the tree. The contents' tables become ``TOC``
with one ``TOCI`` per entry.

Main side (:class:`TreeMerger`): one ``StructTreeRoot`` with one ``Document``
element; each part's elements under it in page order (a monograph's
per-page ``Art`` fragments joined into one ``Art``), the parent tree and the
pages' ``/StructParents`` and the links' ``/StructParent`` renumbered, role
maps merged.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, NumberTree

#: How WeasyPrint (pydyf) opens a marked-content sequence with an MCID.
_MARKED = re.compile(rb"/(\w+)(\s*)<<\s*/MCID\s+(\d+)\s*>>(\s*)BDC")

PAGINATION_ARTIFACT = b"/Artifact <</Type /Pagination>> BDC"


def _is_element(obj: Any) -> bool:
    return isinstance(obj, Dictionary) and "/S" in obj and obj.get("/Type") != Name.OBJR


def _kids(element: Any) -> list[Any]:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def elements(root: Any) -> Iterator[Any]:
    """Every structure element under ``root`` (a tree root or an element), depth first, in order."""
    stack = list(reversed(_kids(root)))
    while stack:
        element = stack.pop()
        if _is_element(element):
            yield element
            stack.extend(reversed(_kids(element)))


# -- worker side: one part --------------------------------------------------------------


def _pagination_artifacts(page: Any, mcids: set[int]) -> None:
    """Turn the marked content ``mcids`` of ``page`` into pagination artifacts."""

    def replace(match: re.Match[bytes]) -> bytes:
        return PAGINATION_ARTIFACT if int(match.group(3)) in mcids else match.group(0)

    contents = page.Contents
    streams = list(contents) if isinstance(contents, Array) else [contents]
    for stream in streams:
        stream.write(_MARKED.sub(replace, stream.read_bytes()))


def _as_toc(table: Any) -> None:
    """A contents table as a ``TOC``: each row a ``TOCI``, the title cell its ``Reference``."""
    table.S = Name.TOC
    rows: list[Any] = []
    for kid in _kids(table):
        if _is_element(kid) and kid.S in (Name.THead, Name.TBody, Name.TFoot):
            rows.extend(_kids(kid))  # row groups mean nothing in a TOC
        else:
            rows.append(kid)
    for row in rows:
        if _is_element(row):
            row.P = table
    table.K = Array(rows)
    for row in rows:
        if not (_is_element(row) and row.S == Name.TR):
            continue
        row.S = Name.TOCI
        for cell in _kids(row):
            if _is_element(cell):
                linked = any(Name.Link == e.S for e in elements(cell))
                cell.S = Name.Reference if linked else Name.NonStruct
                if "/A" in cell:
                    del cell["/A"]  # table-cell attributes
                if "/ID" in cell:
                    del cell["/ID"]


#: Keys of an element that carries no meaning beyond its type.
_PLAIN_KEYS = frozenset({"/Type", "/S", "/K", "/Pg", "/P"})


def _is_wrapper(kid: Any, parent: Any) -> bool:
    """A ``Span`` or ``NonStruct`` that only groups: its content can go to ``parent`` directly.

    WeasyPrint wraps every run of text in a ``Span`` of its own: half of all
    elements, and each one costs memory in the booklet merge.
    """
    return (
        _is_element(kid)
        and kid.S in (Name.Span, Name.NonStruct)
        and set(kid.keys()) <= _PLAIN_KEYS
        and "/Pg" in parent
        and "/Pg" in kid
        and kid.Pg.objgen == parent.Pg.objgen
        and all(isinstance(inner, int) or _is_element(inner) for inner in _kids(kid))
    )


def _unwrap(root: Any, marks_of: dict[tuple[int, int], Any]) -> None:
    """Replace wrapper elements by their content, deepest first; the parent tree follows."""
    for element in reversed(list(elements(root))):
        kids = _kids(element)
        if not any(_is_wrapper(kid, element) for kid in kids):
            continue
        merged: list[Any] = []
        for kid in kids:
            if not _is_wrapper(kid, element):
                merged.append(kid)
                continue
            for inner in _kids(kid):
                if isinstance(inner, int):
                    marks_of[element.Pg.objgen][inner] = element
                else:
                    inner.P = element
                merged.append(inner)
        element.K = Array(merged)


def _extract(pdf: pikepdf.Pdf, root: Any) -> dict[str, Any]:
    """The part's tree as plain data: what the merge needs, without a PDF object per element.

    ``elements[i]`` is ``[type, page, parent, kids, extra]``: the type as PDF
    syntax, the page index within the part (or None), the parent's index (-1:
    the Document), the kids (an element index, ``[mcid]``, or ``[page,
    annotation index]`` for a link annotation) and any other keys as PDF syntax.
    """
    page_index = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
    annot_index = {
        annot.objgen: (index, number)
        for index, page in enumerate(pdf.pages)
        for number, annot in enumerate(page.obj.get("/Annots", []))
    }
    ids: dict[tuple[int, int], int] = {}
    # The part's own Document element is left out: its children go under the booklet's.
    documents = [kid for kid in _kids(root) if _is_element(kid) and Name.Document == kid.S]
    found = [element for document in documents for element in elements(document)]
    for element in found:
        ids[element.objgen] = len(ids)
    rows: list[list[Any]] = []
    links: list[list[int]] = []
    for element in found:
        page = page_index.get(element.Pg.objgen) if "/Pg" in element else None
        parent = ids.get(element.P.objgen, -1) if "/P" in element else -1
        kids: list[Any] = []
        for kid in _kids(element):
            if isinstance(kid, int):
                kids.append([kid])
            elif _is_element(kid):
                kids.append(ids[kid.objgen])
            elif kid.get("/Type") == Name.OBJR and kid.Obj.objgen in annot_index:
                where = list(annot_index[kid.Obj.objgen])
                kids.append(where)
                links.append([*where, ids[element.objgen]])
            elif kid.get("/Type") == Name.MCR and page is not None:
                kids.append([int(kid.MCID)])  # WeasyPrint's are on the element's page
        extra = b" ".join(
            Name(key).unparse() + b" " + value.unparse()
            for key, value in element.items()
            if key not in _PLAIN_KEYS
        )
        rows.append([element.S.unparse().decode(), page, parent, kids, extra.decode("latin-1")])
    roles = {
        Name(key).unparse().decode(): value.unparse().decode()
        for key, value in root.get("/RoleMap", Dictionary()).items()
    }
    return {"elements": rows, "links": links, "roles": roles}


#: Where a tidied part keeps its tree as data (see :func:`_extract`).
SIDECAR = Name("/MedpdfStructure")


def tidy(data: bytes, *, contents: bool = False) -> bytes:
    """Make a freshly laid-out part ready to merge (see the module docstring).

    The part's tree is stored as data in the part (a stream under
    :data:`SIDECAR`) and the PDF objects of the tree are dropped: 21,000
    pages of elements as pikepdf objects took 1.7 GB and 44 s to merge.
    Returns ``data`` unchanged when the part carries no structure tree.
    """
    pdf = pikepdf.Pdf.open(io.BytesIO(data))
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return data
    linked = {e.objgen for e in elements(root)}
    parents = NumberTree(root.ParentTree)
    marks_of: dict[tuple[int, int], Any] = {}
    for page in pdf.pages:
        key = page.obj.get("/StructParents")
        if key is None or int(key) not in parents:
            continue
        marks = marks_of[page.obj.objgen] = parents[int(key)]
        loose = {mcid for mcid, e in enumerate(marks) if e.objgen not in linked}
        if loose:
            _pagination_artifacts(page, loose)
            for mcid in loose:
                marks[mcid] = None
    _unwrap(root, marks_of)
    if contents:
        for element in list(elements(root)):
            if Name.Table == element.S:
                _as_toc(element)
    sidecar = json.dumps(_extract(pdf, root), separators=(",", ":")).encode()
    del pdf.Root["/StructTreeRoot"]
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                del annot["/StructParent"]
        if "/StructParents" in page.obj:
            del page.obj["/StructParents"]
    pdf.Root[SIDECAR] = pdf.make_stream(sidecar)
    buffer = io.BytesIO()
    pdf.save(buffer)  # the tree's objects, no longer referenced, are not written
    return buffer.getvalue()


def _sidecar(part: pikepdf.Pdf) -> dict[str, Any] | None:
    stream = part.Root.get(SIDECAR)
    return None if stream is None else dict(json.loads(stream.read_bytes()))


# -- main side: the merge ---------------------------------------------------------------


class TagWriter:
    """Writes the booklet's one structure tree, from the parts' data, after the booklet.

    Before saving, :meth:`add` numbers the parent-tree keys of pages and links
    (``/StructParents``: the booklet page index; links follow the pages) and
    :meth:`prepare` puts a placeholder ``/StructTreeRoot`` in the catalog.
    After saving, :meth:`append` reads the object numbers the pages, links and
    placeholder got, and appends the tree as an incremental update (ISO
    32000-1, 7.5.6): written straight to the file, part by part, so that the
    tree never sits in memory as PDF objects.
    """

    def __init__(self) -> None:
        self._parts: list[tuple[pikepdf.Pdf, int]] = []  # (part, its first booklet page)
        self._link_annots: list[Any] = []  # link annotations in parent-tree key order

    def add(self, part: pikepdf.Pdf, pages: Sequence[Any], first: int) -> None:
        """Take note of ``part``, whose pages were copied into the booklet as ``pages``."""
        sidecar = _sidecar(part)
        if sidecar is None:  # an untagged part (laid out before tags): its pages stay so
            return
        self._parts.append((part, first))
        for index, page in enumerate(pages):
            page.StructParents = first + index
        for page, number, _ in sidecar["links"]:
            self._link_annots.append(pages[page].Annots[number])

    def prepare(self, booklet: pikepdf.Pdf, total: int) -> Any:
        """Number the links and return the placeholder tree root for the catalog."""
        for key, annot in enumerate(self._link_annots, start=total):
            annot.StructParent = key
        return booklet.make_indirect(Dictionary(Type=Name.StructTreeRoot))

    def append(self, handle: Any, units: Sequence[int]) -> None:
        """Append the tree to the booklet just saved to ``handle`` (see the class docstring).

        ``units[i]`` says which monograph booklet page ``i`` belongs to:
        consecutive ``Art`` elements of one unit are joined, as WeasyPrint cuts
        an article into one fragment per page.
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
            sidecar = _sidecar(part)
            assert sidecar is not None
            for role, standard in sidecar["roles"].items():
                roles.setdefault(role, standard)
            numbers = _write_part(
                writer, sidecar, first, document, page_numbers, annot_numbers, units, top
            )
            pages = len(part.pages)
            marks: list[list[int | None]] = [[] for _ in range(pages)]
            for number, row in zip(numbers, sidecar["elements"], strict=True):
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
            links += [numbers[element] or 0 for _, _, element in sidecar["links"]]
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
    sidecar: dict[str, Any],
    first: int,
    document: int,
    page_numbers: Sequence[int],
    annot_numbers: dict[tuple[int, int], int],
    units: Sequence[int],
    top: list[int],
) -> list[int | None]:
    """Write one part's elements; returns each element's object number (None: joined away)."""
    rows = sidecar["elements"]
    owner = list(range(len(rows)))  # the element that takes over an Art joined into it
    last: int | None = None
    last_unit = -2
    for index, row in enumerate(rows):
        if row[2] != -1:
            continue
        unit = units[first + row[1]] if row[1] is not None else -1
        joinable = row[0] == "/Art" and all(isinstance(k, int) for k in row[3])
        if last is not None and joinable and unit == last_unit:
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
