"""A booklet part's structure tree as data, made while the part is written: no PDF tree at all.

A booklet part carries its structure tree as data for the merge
(:func:`medpdf.pdf.structure.sidecar`), never as PDF objects. It used to be
written by WeasyPrint as a tree of PDF objects, opened again with pikepdf,
tidied, turned into data and saved once more: tagging made a chunk's layout
20 % dearer, half of it WeasyPrint's tree (whose every element asked pydyf for
the references of all pages: quadratic in a chunk's pages) and half the
pikepdf round trip. :mod:`medpdf.pdf.typeset` now lets WeasyPrint build the
tree's elements (its own rules: lists, tables, links, figures) as plain
dictionaries outside the PDF, and :func:`attach` does the rest on them before
the part is written:

* WeasyPrint marks the text of page margin boxes (running header, the drug's
  own "page x of y", the footer disclaimer) as ``Span`` content whose
  elements it never links into the tree; it becomes pagination artifacts in
  the page's content (operators not yet written), so every marked-content
  sequence left is reached from the tree;
* its ``Span`` around every run of text and its grouping ``NonStruct``
  elements are dissolved into their parents (half of all elements);
* table header cells get their ``/Scope``; a contents part's tables become
  ``TOC`` with one ``TOCI`` per entry, the title cell its ``Reference``;
* a compact run's column and page ``Div`` boxes, which only hold fragments of
  articles, give their kids to their parent;
* the tree is stored as compact data in the catalog (:data:`SIDECAR_KEY`,
  :data:`LINKS_KEY`), the format :mod:`medpdf.pdf.tagmerge` reads.

The elements are pydyf dictionaries (WeasyPrint's PDF writer); references
between them are ``b"N 0 R"`` in their own numbering, except a link's
``/Obj``, which names the annotation in the part.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pydyf

#: The catalog key of the tree data (``{"elements": rows, "roles": {}}``; see :func:`_rows`).
SIDECAR_KEY = "MedpdfStructure"
#: The catalog key of the links alone (the merge needs them first): ``[[page, annotation,
#: element]]``.
LINKS_KEY = "MedpdfLinks"

#: Keys of an element that carry no meaning beyond its type (also the data's own columns).
_PLAIN_KEYS = frozenset({"Type", "S", "K", "Pg", "P"})


@dataclass(eq=False)
class _Node:
    """One structure element while it is tidied."""

    kind: str  # "/P"
    page: int | None
    extra: dict[str, Any]  # the other keys, pydyf values
    parent: _Node | None = None
    #: Element, MCID (int), or the (page, annotation index) of a link annotation.
    kids: list[_Node | int | tuple[int, int]] = field(default_factory=list)


def _number(reference: bytes) -> int:
    return int(reference[:-4])  # b"12 0 R": WeasyPrint's elements are all generation 0


def _walk(node: _Node) -> Iterator[_Node]:
    """Every element under ``node`` (not itself), depth first, in order."""
    stack = [kid for kid in reversed(node.kids) if isinstance(kid, _Node)]
    while stack:
        element = stack.pop()
        yield element
        stack.extend(kid for kid in reversed(element.kids) if isinstance(kid, _Node))


def _tree(
    elements: Sequence[Any], document: Any, pages: dict[bytes, int], annots: dict[bytes, Any]
) -> tuple[_Node, set[int]]:
    """The tree under ``document`` as nodes, wrappers dissolved; the numbers of all it reached.

    Elements are numbered as listed. A ``Span`` or ``NonStruct`` that only groups
    content on its parent's page gives its kids to the parent as it is met (WeasyPrint
    wraps every run of text in one: half of all elements), so no node is made for it.
    The numbers reached include those dissolved: an MCID marked by an element
    outside them is a margin box's.
    """
    reached: set[int] = set()

    def is_link(kid: bytes) -> bool:  # an OBJR whose annotation the part holds
        target = elements[_number(kid)]
        return bool(target.get("Type") == "/OBJR" and target["Obj"] in annots)

    def is_wrapper(element: Any, parent: _Node) -> bool:
        return (
            element["S"] in ("/Span", "/NonStruct")
            and element.keys() <= _PLAIN_KEYS
            and parent.page is not None
            and "Pg" in element
            and pages[element["Pg"]] == parent.page
            and not any(not isinstance(kid, int) and is_link(kid) for kid in element["K"])
        )

    def fill(node: _Node, kids: Sequence[Any]) -> None:
        for kid in kids:
            if isinstance(kid, int):
                node.kids.append(kid)
                continue
            number = _number(kid)
            target = elements[number]
            if target.get("Type") == "/OBJR":
                if target["Obj"] in annots:
                    node.kids.append(annots[target["Obj"]])
                continue
            reached.add(number)
            if is_wrapper(target, node):
                fill(node, target["K"])
            else:
                node.kids.append(made(target, node))

    def made(element: Any, parent: _Node | None) -> _Node:
        page = pages[element["Pg"]] if "Pg" in element else None
        extra = {key: value for key, value in element.items() if key not in _PLAIN_KEYS}
        node = _Node(element["S"], page, extra, parent)
        fill(node, element["K"])
        return node

    reached.add(document.number)
    return made(document, None), reached


def _scope_headers(document: _Node) -> None:
    """Header cells scoped: ``/Column`` in a table's head, ``/Row`` in its body (see tables)."""
    for element in _walk(document):
        if element.kind not in ("/THead", "/TBody", "/Table"):
            continue
        scope = "/Column" if element.kind == "/THead" else "/Row"
        for row in element.kids:
            if not (isinstance(row, _Node) and row.kind == "/TR"):
                continue
            for cell in row.kids:
                if not (isinstance(cell, _Node) and cell.kind == "/TH"):
                    continue
                attributes = cell.extra.get("A")
                if not isinstance(attributes, dict):
                    attributes = cell.extra["A"] = pydyf.Dictionary({"O": "/Table"})
                attributes.setdefault("Scope", scope)


def _empty(element: _Node) -> bool:
    """Whether ``element`` holds no content at all (no marked content, no link), however deep."""
    return all(isinstance(kid, _Node) and _empty(kid) for kid in element.kids)


def _as_toc(table: _Node) -> None:
    """A contents table as a ``TOC``: each row a ``TOCI``, the title cell its ``Reference``."""
    table.kind = "/TOC"
    rows: list[_Node | int | tuple[int, int]] = []
    for kid in table.kids:
        if isinstance(kid, _Node) and kid.kind in ("/THead", "/TBody", "/TFoot"):
            rows.extend(kid.kids)  # row groups mean nothing in a TOC
        else:
            rows.append(kid)
    # The empty header row that contents tables repeat at breaks (booklet-front.css) holds
    # nothing to read: no entry.
    rows = [row for row in rows if not (isinstance(row, _Node) and _empty(row))]
    for row in rows:
        if isinstance(row, _Node):
            row.parent = table
    table.kids = rows
    for row in rows:
        if not (isinstance(row, _Node) and row.kind == "/TR"):
            continue
        row.kind = "/TOCI"
        for cell in row.kids:
            if isinstance(cell, _Node):
                linked = any(e.kind == "/Link" for e in _walk(cell))
                cell.kind = "/Reference" if linked else "/NonStruct"
                cell.extra.pop("A", None)  # table-cell attributes
                cell.extra.pop("ID", None)


def _columns(found: list[_Node]) -> set[_Node]:
    """The ``Div`` elements that only hold articles' fragments: a compact run's pages and columns.

    A compact booklet's run is one ``div`` set in columns; WeasyPrint tags its
    box on each page, and each column, as a ``Div`` around the fragments of the
    articles in it. They group by layout, not meaning: their kids go to their
    parent, so the articles' fragments sit side by side and the merge joins
    each article's into one ``Art``.
    """
    holds_art: set[_Node] = set()
    for element in reversed(found):  # kids before their parents
        parent = element.parent
        held = element.kind == "/Art" or element in holds_art
        if held and parent is not None and parent.kind == "/Div":
            holds_art.add(parent)
    return {
        element
        for element in holds_art
        if element.kind != "/Art" and all(isinstance(kid, _Node) for kid in element.kids)
    }


def _extra(node: _Node) -> str:
    """The element's other keys as PDF syntax, sorted by key (as pikepdf lists them)."""
    if not node.extra:
        return ""
    # A one-item array's syntax without its brackets: the value's, from pydyf's public API.
    return " ".join(
        f"/{key} " + pydyf.Array([node.extra[key]]).data[1:-1].decode("latin-1")
        for key in sorted(node.extra)
    )


def _rows(document: _Node) -> tuple[list[list[Any]], list[list[int]]]:
    """The elements as ``[type, page, parent, kids, extra]`` rows, and the links."""
    found = list(_walk(document))
    through = _columns(found)
    found = [element for element in found if element not in through]
    ids = {element: index for index, element in enumerate(found)}

    def parent_of(element: _Node) -> int:
        parent = element.parent
        while parent is not None and parent in through:
            parent = parent.parent
        return ids.get(parent, -1) if parent is not None else -1

    def kids_of(element: _Node) -> Iterator[_Node | int | tuple[int, int]]:
        for kid in element.kids:
            if isinstance(kid, _Node) and kid in through:
                yield from kids_of(kid)
            else:
                yield kid

    rows: list[list[Any]] = []
    links: list[list[int]] = []
    for element in found:
        kids: list[Any] = []
        for kid in kids_of(element):
            if isinstance(kid, int):
                kids.append([kid])
            elif isinstance(kid, _Node):
                kids.append(ids[kid])
            else:
                kids.append(list(kid))
                links.append([*kid, ids[element]])
        rows.append([element.kind, element.page, parent_of(element), kids, _extra(element)])
    return rows, links


def _artifacts(stream: Any, mcids: set[int]) -> None:
    """Turn the marked content ``mcids`` of a page's (unwritten) content into artifacts."""
    operators = stream.stream
    left = set(mcids)
    # From the end: WeasyPrint draws the margin boxes last.
    for index in range(len(operators) - 1, 0, -1):
        operator = operators[index]
        if isinstance(operator, pydyf.Dictionary) and operator.get("MCID") in left:
            left.remove(operator["MCID"])
            operators[index - 1] = "/Artifact"  # was the element's tag ("/Span")
            operators[index] = pydyf.Dictionary({"Type": "/Pagination"})
            if not left:
                return


def attach(
    pdf: Any,
    elements: Sequence[Any],
    document: Any,
    marks: Sequence[dict[int, bytes]],
    page_streams: Sequence[Any],
    contents: bool,
) -> None:
    """Store the tree of ``elements`` in ``pdf`` (a pydyf PDF not yet written) as data.

    ``elements[n]`` is the element numbered ``n`` (``document`` the part's
    Document), ``marks[p]`` maps page ``p``'s MCIDs to their elements.
    """
    page_objects = [pdf.objects[number] for number in pdf.pages["Kids"][::3]]
    pages = {page.reference: index for index, page in enumerate(page_objects)}
    annots = {
        annot: (index, position)
        for index, page in enumerate(page_objects)
        for position, annot in enumerate(page.get("Annots", ()))
    }
    root, reached = _tree(elements, document, pages, annots)
    for page, stream, page_marks in zip(page_objects, page_streams, marks, strict=True):
        page.pop("StructParents", None)
        loose = {mcid for mcid, to in page_marks.items() if _number(to) not in reached}
        if loose:
            _artifacts(stream, loose)
    _scope_headers(root)
    if contents:
        for element in list(_walk(root)):
            if element.kind == "/Table":
                _as_toc(element)
    rows, links = _rows(root)
    tree = {"elements": rows, "roles": {}}
    for key, data in ((SIDECAR_KEY, tree), (LINKS_KEY, links)):
        stream = pydyf.Stream([json.dumps(data, separators=(",", ":")).encode()], compress=True)
        pdf.add_object(stream)
        pdf.catalog[key] = stream.reference
    pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})
    pdf.catalog["MarkInfo"] = pydyf.Dictionary({"Marked": "true"})
