"""A booklet part's tagged structure, tidied in the worker and kept as data for the merge.

WeasyPrint tags every part it writes (PDF/UA-1), but a plain page merge keeps
none of it. This module runs in the worker, once per cached part
(:func:`tidy`): WeasyPrint marks the text of page margin boxes (running
header, the drug's own "page x of y", the footer disclaimer) as ``Span``
content whose elements it never links into the tree; they become pagination
artifacts, so that every marked-content sequence left is reached from the
tree. Its ``Span`` around every run of text and its grouping ``NonStruct``
elements are dissolved into their parents. The contents' tables become
``TOC`` with one ``TOCI`` per entry. Then the tree is stored in the part as
compact data (:func:`sidecar`), which :mod:`medpdf.pdf.tagmerge` turns into
the booklet's one tree.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
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


def _scope_column_headers(root: Any) -> None:
    """Give header cells ``/Scope``: ``/Column`` in a table's head, ``/Row`` in its body.

    WeasyPrint ties each data cell to its headers with ``/Headers``, but sets
    no ``/Scope`` on the header cells, so a checker cannot tell which way a
    header reads: a header cell in ``<thead>`` heads its column, one in a body
    row (``<th scope="row">``, a schedule's medicine) heads its row.
    """
    for element in elements(root):
        if element.S not in (Name.THead, Name.TBody, Name.Table):
            continue
        scope = Name.Column if Name.THead == element.S else Name.Row
        for row in _kids(element):
            if not (_is_element(row) and Name.TR == row.S):
                continue
            for cell in _kids(row):
                if not (_is_element(cell) and Name.TH == cell.S):
                    continue
                attributes = cell.get("/A")
                if not isinstance(attributes, Dictionary):
                    attributes = cell.A = Dictionary(O=Name.Table)
                if "/Scope" not in attributes:
                    attributes.Scope = scope


def scope_headers(data: bytes) -> bytes:
    """A tagged PDF (a handout, a pack) with its table header cells scoped (see above)."""
    pdf = pikepdf.Pdf.open(io.BytesIO(data))
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return data
    _scope_column_headers(root)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


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


def _columns(found: list[Any]) -> set[tuple[int, int]]:
    """The ``Div`` elements that only hold articles' fragments: a run's page and column boxes.

    A compact booklet's run is one ``div`` set in columns; WeasyPrint tags its box
    on each page, and each column, as a ``Div`` around the fragments of the
    articles in it. They group by layout, not meaning: their kids go to their
    parent, so the articles' fragments sit side by side and the merge joins each
    article's into one ``Art``.
    """
    holds_art: set[tuple[int, int]] = set()
    for element in reversed(found):  # kids before their parents
        if Name.Art == element.S or element.objgen in holds_art:
            parent = element.get("/P")
            if parent is not None and Name.Div == parent.get("/S"):
                holds_art.add(parent.objgen)
    return {
        element.objgen
        for element in found
        if element.objgen in holds_art
        and all(_is_element(kid) for kid in _kids(element))
        and Name.Art != element.S
    }


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
    through = _columns(found)
    found = [element for element in found if element.objgen not in through]
    for element in found:
        ids[element.objgen] = len(ids)

    def parent_of(element: Any) -> int:
        parent = element.get("/P")
        while parent is not None and parent.objgen in through:
            parent = parent.get("/P")
        return ids.get(parent.objgen, -1) if parent is not None else -1

    def element_kids(element: Any) -> Iterator[Any]:
        for kid in _kids(element):
            if _is_element(kid) and kid.objgen in through:
                yield from element_kids(kid)
            else:
                yield kid

    rows: list[list[Any]] = []
    links: list[list[int]] = []
    for element in found:
        page = page_index.get(element.Pg.objgen) if "/Pg" in element else None
        parent = parent_of(element)
        kids: list[Any] = []
        for kid in element_kids(element):
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
#: The links alone (the merge needs them before the rest): ``[[page, annotation, element]]``.
LINKS = Name("/MedpdfLinks")


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
    _scope_column_headers(root)
    if contents:
        for element in list(elements(root)):
            if Name.Table == element.S:
                _as_toc(element)
    tree = _extract(pdf, root)
    links = json.dumps(tree.pop("links"), separators=(",", ":")).encode()
    sidecar = json.dumps(tree, separators=(",", ":")).encode()
    del pdf.Root["/StructTreeRoot"]
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                del annot["/StructParent"]
        if "/StructParents" in page.obj:
            del page.obj["/StructParents"]
    pdf.Root[SIDECAR] = pdf.make_stream(sidecar)
    pdf.Root[LINKS] = pdf.make_stream(links)
    buffer = io.BytesIO()
    pdf.save(buffer)  # the tree's objects, no longer referenced, are not written
    return buffer.getvalue()


def sidecar(part: pikepdf.Pdf) -> dict[str, Any] | None:
    """The tree data :func:`tidy` stored in ``part`` (None: an untagged part)."""
    stream = part.Root.get(SIDECAR)
    if stream is None:
        return None
    return {**json.loads(stream.read_bytes()), "links": link_data(part)}


def link_data(part: pikepdf.Pdf) -> list[list[int]] | None:
    """Only the links of :func:`sidecar`: ``[page, annotation index, element]`` each."""
    stream = part.Root.get(LINKS)
    return None if stream is None else list(json.loads(stream.read_bytes()))


def cut(data: dict[str, Any], links: list[list[int]], start: int, stop: int) -> tuple[Any, Any]:
    """The tree data (:func:`_extract`) and links of pages ``start:stop`` alone, renumbered.

    For a chunk sliced between two volumes (:mod:`medpdf.pdf.slices`): an
    element stays when it is on one of those pages, or has no page and keeps
    a kid; one whose parent went becomes a child of the Document. Volumes are
    cut between monographs, so in practice whole documents stay or go.
    """
    rows = data["elements"]
    kept = [row[1] is not None and start <= row[1] < stop for row in rows]
    # A page-less element stays if anything under it does (children come after parents).
    for index in reversed(range(len(rows))):
        kind, page, parent, kids, extra = rows[index]
        if page is None and not kept[index]:
            kept[index] = any(isinstance(kid, int) and kept[kid] for kid in kids)
    new_index: dict[int, int] = {}
    for index, keep in enumerate(kept):
        if keep:
            new_index[index] = len(new_index)
    out: list[list[Any]] = []
    for index, row in enumerate(rows):
        if not kept[index]:
            continue
        kind, page, parent, kids, extra = row
        moved: list[Any] = []
        for kid in kids:
            if isinstance(kid, int):
                if kid in new_index:
                    moved.append(new_index[kid])
            elif len(kid) == 1:
                moved.append(kid)
            elif start <= kid[0] < stop:
                moved.append([kid[0] - start, kid[1]])
        out.append(
            [
                kind,
                None if page is None else page - start,
                new_index.get(parent, -1),
                moved,
                extra,
            ]
        )
    moved_links = [
        [page - start, annot, new_index[element]]
        for page, annot, element in links
        if start <= page < stop and element in new_index
    ]
    return {**data, "elements": out}, moved_links


def keep_cut(whole: pikepdf.Pdf, part: pikepdf.Pdf, start: int, stop: int) -> None:
    """Store in ``part`` (pages ``start:stop`` of ``whole``) its share of the tree data."""
    stream = whole.Root.get(SIDECAR)
    if stream is None:
        return  # an untagged part: so is its slice
    data = json.loads(stream.read_bytes())
    data, links = cut(data, link_data(whole) or [], start, stop)
    part.Root[SIDECAR] = part.make_stream(json.dumps(data, separators=(",", ":")).encode())
    part.Root[LINKS] = part.make_stream(json.dumps(links, separators=(",", ":")).encode())
