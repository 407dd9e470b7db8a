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
import re
from collections.abc import Iterator, Sequence
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


def tidy(data: bytes, *, contents: bool = False) -> bytes:
    """Make a freshly laid-out part ready to merge (see the module docstring).

    Returns ``data`` unchanged when the part carries no structure tree.
    """
    pdf = pikepdf.Pdf.open(io.BytesIO(data))
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return data
    linked = {e.objgen for e in elements(root)}
    parents = NumberTree(root.ParentTree)
    for page in pdf.pages:
        key = page.obj.get("/StructParents")
        if key is None or int(key) not in parents:
            continue
        marks = parents[int(key)]
        loose = {mcid for mcid, e in enumerate(marks) if e.objgen not in linked}
        if loose:
            _pagination_artifacts(page, loose)
            for mcid in loose:
                marks[mcid] = None
    if contents:
        for element in list(elements(root)):
            if Name.Table == element.S:
                _as_toc(element)
    buffer = io.BytesIO()
    pdf.save(buffer)  # elements no longer referenced are not written
    return buffer.getvalue()


# -- main side: the merge ---------------------------------------------------------------


class TreeMerger:
    """Collects the parts' structure into one tree of ``booklet``, part by part, in page order."""

    def __init__(self, booklet: pikepdf.Pdf) -> None:
        self._pdf = booklet
        self.root = booklet.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        self.document = booklet.make_indirect(
            Dictionary(Type=Name.StructElem, S=Name.Document, P=self.root, K=Array())
        )
        self.root.K = Array([self.document])
        self._parents = NumberTree.new(booklet)
        self.root.ParentTree = self._parents.obj
        self._role_map: dict[str, Any] = {}
        self._marks: list[tuple[Any, Any]] = []  # (page, its parent-tree array)
        self._links: list[tuple[Any, Any]] = []  # (annotation, its element)
        self._top: list[tuple[int, Any]] = []  # (booklet page index, top-level element)

    def add(
        self, part: pikepdf.Pdf, sources: Sequence[Any], pages: Sequence[Any], first: int
    ) -> None:
        """Take over ``part``'s tree; ``pages`` are its pages ``sources`` as copied here.

        ``first`` is the booklet index of its first page. A part without a
        tree (laid out untagged) contributes its pages untagged.
        """
        root = part.Root.get("/StructTreeRoot")
        for page in pages:
            if "/StructParents" in page:
                del page["/StructParents"]
            for annot in page.get("/Annots", []):
                if "/StructParent" in annot:
                    del annot["/StructParent"]
        if root is None:
            return
        for role, standard in root.get("/RoleMap", Dictionary()).items():
            self._role_map.setdefault(role, standard)
        page_index = {page.objgen: first + i for i, page in enumerate(sources)}
        # Cut the way up to the part's own root before copying, or the copy would
        # drag the part's whole tree and parent tree along.
        top = [kid for doc in _kids(root) for kid in _kids(doc)]
        for element in top:
            if "/P" in element:
                del element["/P"]
        copied = self._copy(part, Array(top))
        for source, element in zip(top, copied, strict=True):
            element.P = self.document
            page = source.get("/Pg")
            self._top.append((page_index.get(page.objgen, first) if page else first, element))
        parents = NumberTree(root.ParentTree)
        for source, page in zip(sources, pages, strict=True):
            key = source.get("/StructParents")
            if key is not None and int(key) in parents:
                self._marks.append((page, self._copy(part, parents[int(key)])))
            for source_annot, annot in zip(
                source.get("/Annots", []), page.get("/Annots", []), strict=True
            ):
                key = source_annot.get("/StructParent")
                if key is not None and int(key) in parents:
                    self._links.append((annot, self._copy(part, parents[int(key)])))

    def _copy(self, part: pikepdf.Pdf, obj: Any) -> Any:
        """Copy ``obj`` of ``part`` into the booklet; objects copied before are reused."""
        # copy_foreign takes indirect objects only; the wrapper is left unreferenced.
        return self._pdf.copy_foreign(obj if obj.is_indirect else part.make_indirect(obj))

    def finish(self, units: Sequence[int]) -> Any:
        """Write the parent tree and the Document's children; returns the tree root.

        ``units[i]`` says which monograph (or front part) booklet page ``i``
        belongs to: consecutive ``Art`` elements of one unit are joined, as
        WeasyPrint cuts an article into one fragment per page.
        """
        kids: list[Any] = []
        last_unit = -1
        for index, element in self._top:
            unit = units[index] if index < len(units) else -1
            joined = kids[-1] if kids and unit == last_unit else None
            if joined is not None and _joinable(joined) and _joinable(element):
                for kid in _kids(element):
                    kid.P = joined
                    joined.K.append(kid)
            else:
                kids.append(element)
            last_unit = unit
        self.document.K = Array(kids)
        key = 0
        for page, marks in self._marks:
            page.StructParents = key
            self._parents[key] = marks
            key += 1
        for annot, element in self._links:
            annot.StructParent = key
            self._parents[key] = element
            key += 1
        self.root.ParentTreeNextKey = key
        if self._role_map:
            self.root.RoleMap = Dictionary(self._role_map)
        return self.root


def _joinable(element: Any) -> bool:
    # Only element children move: a bare MCID would need a page of its own (an MCR).
    return bool(Name.Art == element.S) and all(_is_element(k) for k in _kids(element))
