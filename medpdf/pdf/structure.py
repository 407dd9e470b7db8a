"""Tagged structure in finished PDFs: a booklet part's tree data, a handout's header cells.

A booklet part carries its structure tree as data, not as PDF objects
(:mod:`medpdf.pdf.parttags` makes it while the part is written):
:func:`sidecar` and :func:`link_data` read it for the merge
(:mod:`medpdf.pdf.tagmerge`), :func:`cut` and :func:`keep_cut` share it out
when a chunk is sliced between two volumes. A handout or pack keeps
WeasyPrint's tree; :func:`scope_headers` gives its table header cells a
``/Scope``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name

from medpdf.pdf import parttags

#: How a pagination artifact (the booklet's stamp) opens in a page's content.
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


#: Where a part keeps its tree as data (see :mod:`medpdf.pdf.parttags`).
SIDECAR = Name("/" + parttags.SIDECAR_KEY)
#: The links alone (the merge needs them before the rest): ``[[page, annotation, element]]``.
LINKS = Name("/" + parttags.LINKS_KEY)


def sidecar(part: pikepdf.Pdf) -> dict[str, Any] | None:
    """The tree data stored in ``part`` (see :mod:`.parttags`; None: an untagged part)."""
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
