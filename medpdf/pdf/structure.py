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


def _slim(root: Any) -> None:
    """Drop what costs memory in a 21,000-page merge and says nothing.

    ``/Type /StructElem`` is optional, and a lone kid needs no array around
    it (ISO 32000-1, 14.7.2); each is an object of its own in the merge.
    """
    for element in elements(root):
        if "/Type" in element:
            del element["/Type"]
        kids = element.get("/K")
        if isinstance(kids, Array) and len(kids) == 1:
            element.K = kids[0]


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
    _slim(root)
    if contents:
        for element in list(elements(root)):
            if Name.Table == element.S:
                _as_toc(element)
    buffer = io.BytesIO()
    # Elements no longer referenced are not written. Object streams: opening a
    # part whose thousands of objects each have an xref entry of their own
    # cost the merge ~2 KB per object before any was read.
    pdf.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate)
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

    def add(self, path: Path, pages: Sequence[Any], first: int) -> list[Any]:
        """Take over the tree of the part at ``path``, whose ``pages`` were copied already.

        Returns the page objects the booklet must use instead of ``pages``
        (the same dictionaries, under the objects the tree points to).
        ``first`` is the booklet index of its first page. A part without a
        tree (laid out untagged) contributes its pages untagged.

        The tree is copied from an instance of the part of its own, closed
        straight away: the instance the pages came from stays open until the
        booklet is written (page streams are copied from it lazily), and every
        element it had parsed would stay in memory with it, doubling the cost
        of the tree. Its pages and annotations stand in as small placeholder
        objects while copying, which then take over the copied pages' content.
        """
        for page in pages:
            if "/StructParents" in page:
                del page["/StructParents"]
        with pikepdf.Pdf.open(path) as part:
            root = part.Root.get("/StructTreeRoot")
            if root is None:
                return list(pages)
            for role, standard in root.get("/RoleMap", Dictionary()).items():
                self._role_map.setdefault(role, standard)
            keys = [page.obj.get("/StructParents") for page in part.pages]
            annots = [[a.objgen for a in page.obj.get("/Annots", [])] for page in part.pages]
            stand_ins = [page.obj.objgen for page in part.pages]
            for index, objgen in enumerate(stand_ins):
                part._replace_object(objgen, Dictionary(MedpdfPage=first + index))
            # Cut the way up to the part's own root, or the copy would drag the
            # whole tree and parent tree along.
            top = [kid for doc in _kids(root) for kid in _kids(doc)]
            for element in top:
                if "/P" in element:
                    del element["/P"]
            for element in self._copy(part, Array(top)):
                element.P = self.document
                self._top.append(
                    (int(element.Pg.MedpdfPage) if "/Pg" in element else first, element)
                )
            parents = NumberTree(root.ParentTree)
            result = []
            for index, page in enumerate(pages):
                final = self._copy(part, part.get_object(stand_ins[index]))
                own = [self._copy(part, part.get_object(og)) for og in annots[index]]
                self._pdf._replace_object(final.objgen, Dictionary(dict(page.items())))
                if own:
                    final.Annots = Array(own)
                result.append(final)
                key = keys[index]
                if key is not None and int(key) in parents:
                    self._marks.append((final, self._copy(part, parents[int(key)])))
                for annot in own:
                    key = annot.get("/StructParent")
                    del annot["/StructParent"]
                    if key is not None and int(key) in parents:
                        self._links.append((annot, self._copy(part, parents[int(key)])))
        return result

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
                moved = _kids(element)
                for kid in moved:
                    kid.P = joined
                joined.K = Array([*_kids(joined), *moved])
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
