"""The booklet's outline (bookmarks), written object by object as the booklet's last objects.

Contents first, then each letter (open) with its drugs, then the index. A
letter item opens the letter's first monograph. pikepdf's outline helper
needs the whole booklet in memory; this needs only the pages' object numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pikepdf

from medpdf.pdf.update import UpdateWriter

#: An outline entry: its title and the object number of the page it opens.
Entry = tuple[str, int]


def write_outline(
    writer: UpdateWriter,
    contents: Entry,
    drugs: Sequence[tuple[str, Entry]],
    index: Entry | None,
) -> int:
    """The outline: contents, each letter with its drugs (open), and the index; its root.

    ``drugs`` are in the booklet's order, each with its letter.
    """
    tops: list[tuple[str, int, list[Entry]]] = [(*contents, [])]
    for letter, (title, page) in drugs:
        if len(tops) == 1 or tops[-1][0] != letter:
            tops.append((letter, page, []))
        tops[-1][2].append((title, page))
    if index is not None:
        tops.append((*index, []))
    root = writer.reserve()
    top_numbers = writer.reserve_many(len(tops))
    for at, (title, page, kids) in enumerate(tops):
        kid_numbers = writer.reserve_many(len(kids))
        for kid_at, (kid_title, kid_page) in enumerate(kids):
            _item(writer, kid_numbers, kid_at, kid_title, kid_page, top_numbers[at], b"")
        family = (
            b" /First %d 0 R /Last %d 0 R /Count %d" % (kid_numbers[0], kid_numbers[-1], len(kids))
            if kids
            else b""
        )
        _item(writer, top_numbers, at, title, page, root, family)
    shown = len(tops) + sum(len(kids) for _, _, kids in tops)
    return writer.add(
        b"<</Type /Outlines /First %d 0 R /Last %d 0 R /Count %d>>"
        % (top_numbers[0], top_numbers[-1], shown),
        root,
    )


def _item(
    writer: UpdateWriter,
    siblings: Sequence[int],
    at: int,
    title: str,
    page: int,
    parent: int,
    extra: bytes,
) -> None:
    """One outline item among ``siblings``, opening ``page`` (an object number)."""
    body = b"<</Title %s /Parent %d 0 R /Dest [%d 0 R /Fit]" % (
        pikepdf.String(title).unparse(),
        parent,
        page,
    )
    if at:
        body += b" /Prev %d 0 R" % siblings[at - 1]
    if at + 1 < len(siblings):
        body += b" /Next %d 0 R" % siblings[at + 1]
    writer.add(body + extra + b">>", siblings[at])
