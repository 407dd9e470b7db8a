"""Copying objects of an open PDF into a file being written, renumbered, one source at a time.

The booklet is written part by part (:mod:`medpdf.pdf.assemble`): holding
the whole book as one pikepdf document took a gigabyte at 21,000 pages. A
:class:`Copier` serves one open source PDF: :meth:`Copier.number` gives a
source object its number in the booklet (the first time, it is queued), and
:meth:`Copier.drain` writes what is queued, each object as qpdf writes it
with its references renumbered, and the objects those refer to after it.
A stream's data is copied as stored, never decoded.

To point a source object at a booklet object that is not in the source (a
page's parent, the stamp drawn on it, a page of another part), the source
gets a :meth:`Copier.proxy`: an empty indirect object whose number is mapped
to the booklet's object and which is itself never written. The source's
objects can then be changed with pikepdf, as if they were the booklet's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pikepdf

from medpdf.pdf.update import UpdateWriter

#: A reference ``n g R`` in qpdf's unparsed form, and the strings to skip over: a
#: literal string (qpdf escapes its parentheses and backslashes) or a hex string.
_TOKENS = re.compile(
    rb"\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f\s]*>|(?<=[\s\[])(\d+) (\d+) R(?=[\s\]>/])",
    re.DOTALL,
)


def inner(unparsed: bytes) -> bytes:
    """The entries of an unparsed dictionary, without its ``<<`` and ``>>``."""
    return unparsed.strip()[2:-2]


class Copier:
    """Copies objects of one source PDF into ``writer`` (see the module)."""

    def __init__(self, source: pikepdf.Pdf, writer: UpdateWriter) -> None:
        self._source = source
        self._writer = writer
        self._numbers: dict[tuple[int, int], int] = {}
        self._queue: list[tuple[int, int]] = []
        self._renumber: Callable[[re.Match[bytes]], bytes] = self._token  # bound once

    def proxy(self, number: int) -> Any:
        """A source object that stands for booklet object ``number`` (never written)."""
        stand_in = self._source.make_indirect(pikepdf.Dictionary())
        self._numbers[stand_in.objgen] = number
        return stand_in

    def alias(self, objgen: tuple[int, int], number: int) -> None:
        """Source object ``objgen`` is booklet object ``number``, written elsewhere."""
        self._numbers[objgen] = number

    def number(self, objgen: tuple[int, int]) -> int:
        """The booklet number of source object ``objgen``, queued for writing when new."""
        known = self._numbers.get(objgen)
        if known is None:
            known = self._numbers[objgen] = self._writer.reserve()
            self._queue.append(objgen)
        return known

    def _token(self, match: re.Match[bytes]) -> bytes:
        if match.group(1) is None:
            return match.group(0)
        return b"%d 0 R" % self.number((int(match.group(1)), int(match.group(2))))

    def text(self, obj: Any) -> bytes:
        """``obj`` as the booklet writes it: qpdf's syntax with references renumbered."""
        return _TOKENS.sub(self._renumber, obj.unparse(resolved=True))

    def write(self, obj: Any, number: int) -> None:
        """Write source object ``obj`` as booklet object ``number`` (a stream with its data)."""
        if isinstance(obj, pikepdf.Stream):
            data = obj.read_raw_bytes()
            head = obj.stream_dict
            if "/Length" in head:
                del head["/Length"]
            self._writer.stream(inner(self.text(head)), data, number)
        else:
            self._writer.add(self.text(obj), number)

    def drain(self) -> None:
        """Write every queued object, and what they refer to in turn."""
        while self._queue:
            objgen = self._queue.pop()
            self.write(self._source.get_object(objgen), self._numbers[objgen])
