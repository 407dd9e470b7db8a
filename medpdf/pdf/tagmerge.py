"""The booklet's one structure tree, from the parts' tree data.

Each part carries its tree as data (:func:`medpdf.pdf.structure.sidecar`).
As a part's pages are written (:mod:`medpdf.pdf.segment`),
:func:`write_part_tree` writes its elements, in page order, a drug's per-page
``Art`` fragments joined into one, and its leaf of the parent tree; its pages'
parent-tree keys are their booklet page numbers, its links' follow all the
pages. After the last part, :func:`write_root` writes one
``StructTreeRoot`` and one ``Document`` over them, the parent tree, role maps
merged. As pikepdf objects, the tree of 21,000 pages took 1.7 GB and 44 s to
merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from medpdf.pdf.update import UpdateWriter


@dataclass(frozen=True)
class PartTree:
    """What the booklet's root needs of one part's written tree."""

    #: The part's elements directly under the ``Document``.
    tops: tuple[int, ...]
    #: The parent tree's leaf for the part's pages.
    leaf: int
    #: The element of each tagged link, in parent-tree key order.
    links: tuple[int, ...]
    roles: tuple[tuple[str, str], ...]

    def to_json(self) -> list[Any]:
        """The tree as JSON data (a written segment keeps it beside its bytes)."""
        return [list(self.tops), self.leaf, list(self.links), [list(r) for r in self.roles]]

    @classmethod
    def from_json(cls, data: list[Any]) -> PartTree:
        """The tree kept by :meth:`to_json`."""
        tops, leaf, links, roles = data
        return cls(tuple(tops), leaf, tuple(links), tuple((a, b) for a, b in roles))


def write_part_tree(
    writer: UpdateWriter,
    data: dict[str, Any],
    first: int,
    pages: int,
    document: int,
    page_numbers: Sequence[int],
    annot_numbers: dict[tuple[int, int], int],
    body: bool,
) -> PartTree:
    """Write one part's elements and its parent-tree leaf (see the module).

    ``data`` is the part's tree (:func:`medpdf.pdf.structure.sidecar`), its
    pages booklet pages ``first`` on; ``annot_numbers`` gives each tagged
    link's object number by (booklet page, index in its ``/Annots``). The
    ``Art`` fragments of one article are joined only in the body (``body``),
    where a part is a chunk of monographs.
    """
    numbers = _write_part(writer, data, first, document, page_numbers, annot_numbers, body)
    marks: list[list[int | None]] = [[] for _ in range(pages)]
    tops: list[int] = []
    for number, row in zip(numbers, data["elements"], strict=True):
        if number is None:
            continue
        if row[2] == -1:
            tops.append(number)
        for kid in row[3]:
            if isinstance(kid, list) and len(kid) == 1 and row[1] is not None:
                page_marks = marks[row[1]]
                page_marks.extend([None] * (kid[0] + 1 - len(page_marks)))
                page_marks[kid[0]] = number
    nums = b" ".join(
        b"%d [%s]" % (first + index, b" ".join(_ref(n) for n in page_marks))
        for index, page_marks in enumerate(marks)
    )
    leaf = writer.add(b"<</Limits [%d %d] /Nums [%s]>>" % (first, first + pages - 1, nums))
    links = tuple(numbers[element] or 0 for _, _, element in data["links"])
    return PartTree(tuple(tops), leaf, links, tuple(data["roles"].items()))


def write_root(
    writer: UpdateWriter,
    root: int,
    document: int,
    parent_tree: int,
    trees: Sequence[PartTree],
    total: int,
) -> None:
    """The ``StructTreeRoot``, its ``Document`` and parent tree, over the parts' trees.

    Links' parent-tree keys follow the ``total`` pages', in the parts' order.
    """
    leaves = [tree.leaf for tree in trees]
    links = [number for tree in trees for number in tree.links]
    roles: dict[str, str] = {}
    for tree in trees:
        for role, standard in tree.roles:
            roles.setdefault(role, standard)
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
    tops = b" ".join(_ref(n) for tree in trees for n in tree.tops)
    writer.add(b"<</S /Document /P %d 0 R /K [%s]>>" % (root, tops), document)
    role_map = "".join(f" {role} {standard}" for role, standard in sorted(roles.items()))
    writer.add(
        b"<</Type /StructTreeRoot /K %d 0 R /ParentTree %d 0 R /ParentTreeNextKey %d%s>>"
        % (
            document,
            parent_tree,
            total + len(links),
            f" /RoleMap <<{role_map}>>".encode() if roles else b"",
        ),
        root,
    )


def _ref(number: int | None) -> bytes:
    return b"null" if number is None else b"%d 0 R" % number


def _write_part(
    writer: UpdateWriter,
    data: dict[str, Any],
    first: int,
    document: int,
    page_numbers: Sequence[int],
    annot_numbers: dict[tuple[int, int], int],
    in_body: bool,
) -> list[int | None]:
    """Write one part's elements; returns each element's object number (None: joined away)."""
    rows = data["elements"]
    owner = list(range(len(rows)))  # the element that takes over an Art joined into it
    last: int | None = None
    last_unit = -2
    for index, row in enumerate(rows):
        if row[2] != -1:
            continue
        unit = 0 if in_body and row[1] is not None else -1
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
        parent_number = document if parent == -1 else numbers[owner[parent]] or document
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
