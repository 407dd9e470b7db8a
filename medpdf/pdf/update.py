"""A PDF body written object by object, compressed: a whole file, or an incremental update.

The booklet is written part by part (:mod:`medpdf.pdf.assemble`), its
structure tree last (:mod:`medpdf.pdf.tagmerge`). Hundreds of thousands of
small dictionaries written as plain objects made the tagged booklet twice the
size of the untagged one, so :class:`UpdateWriter` packs every object that is
not a stream into object streams (ISO 32000-1, 7.5.7) and ends with a
cross-reference stream (7.5.8); for an incremental update (7.5.6) its
``/Prev`` is the saved file's. Both are allowed in PDF/A-2 and read by every
reader. Objects are written as they come; only their places are kept.
"""

from __future__ import annotations

import re
import struct
import zlib
from array import array
from typing import BinaryIO

#: Objects per object stream: large enough to compress well (500 rather than 200
#: made the booklet of 21,000 pages 0.2 MiB smaller; 1,000 hardly more), small
#: enough that a reader looking up one object inflates little.
OBJECTS_PER_STREAM = 500
#: zlib's default: level 9 made the tree 2 % smaller and its writing 45 % slower.
LEVEL = 6
#: A segment's numbers are rounded up to a multiple of this (:meth:`UpdateWriter.segment`).
#: Small, because qpdf ignores an object whose number is over a third of the file's
#: size in bytes (a sanity check): a segment must not hold many more numbers than
#: it has bytes.
NUMBERS_STEP = 64


def _up_predicted(rows: bytes, width: int) -> bytes:
    """``rows`` of ``width`` bytes with PNG "Up" prediction: each row prefixed by its type, 2.

    Each byte becomes its difference from the byte above, modulo 256, computed
    for all bytes at once: every byte widened to a 16-bit lane, 256 added to
    the minuends so that no lane borrows from the next, two integer
    subtractions' worth of work instead of a Python loop over 4 MB.
    """
    size, count = len(rows), len(rows) // width
    minuend = bytearray(2 * size)
    minuend[0::2] = rows
    minuend[1::2] = b"\x01" * size
    subtrahend = bytearray(2 * size)
    subtrahend[2 * width :: 2] = rows[:-width]
    lanes = int.from_bytes(minuend, "little") - int.from_bytes(subtrahend, "little")
    differences = lanes.to_bytes(2 * size, "little")[0::2]
    out = bytearray(count * (width + 1))
    out[0 :: width + 1] = b"\x02" * count
    for column in range(width):
        out[column + 1 :: width + 1] = differences[column::width]
    return bytes(out)


class UpdateWriter:
    """Appends numbered objects to a PDF file, then the update's cross-reference stream."""

    def __init__(self, handle: BinaryIO, first_free: int) -> None:
        self._handle = handle
        self._position = handle.tell()
        self._first = self._next = first_free
        # Cross-reference entries: (1, offset, 0) for an object in the file, (2, stream,
        # index) for one in an object stream. New objects' in three arrays (7 bytes each
        # rather than a tuple in a dict: the tree of 21,000 pages has 640,000 objects);
        # objects of the saved file that the update replaces in a dict.
        self._kinds = array("B")
        self._fields = array("Q")
        self._indices = array("H")
        self._replaced: dict[int, tuple[int, int, int]] = {}
        self._pending: list[tuple[int, bytes]] = []

    def reserve(self) -> int:
        """A new object number, to be written later."""
        self._next += 1
        self._kinds.append(0)
        self._fields.append(0)
        self._indices.append(0)
        return self._next - 1

    def reserve_many(self, count: int) -> range:
        """``count`` new object numbers, to be written later."""
        self._kinds.frombytes(bytes(count))
        self._fields.frombytes(bytes(8 * count))
        self._indices.frombytes(bytes(2 * count))
        self._next += count
        return range(self._next - count, self._next)

    def begin_segment(self) -> int:
        """Where a segment taken next (:meth:`take`) must begin; objects waiting are written."""
        self._flush()
        return self._next

    def segment(self) -> bytes:
        """Every object's place, for :meth:`take`; the numbers the segment holds.

        A segment holds the numbers it used rounded up to :data:`NUMBERS_STEP`:
        an edit that adds an object or two to a segment leaves the next one's
        numbers where they were. The numbers it did not use stay free.
        """
        self._flush()
        used = self._next - self._first
        self.reserve_many(-(-max(used, 1) // NUMBERS_STEP) * NUMBERS_STEP - used)
        replaced = sorted(self._replaced.items())
        return b"".join(
            [
                struct.pack(">QQQ", self._first, self._next - self._first, len(replaced)),
                *(struct.pack(">QBQH", n, *entry) for n, entry in replaced),
                self._kinds.tobytes(),
                self._fields.tobytes(),
                self._indices.tobytes(),
            ]
        )

    def take(self, data: bytes, entries: bytes) -> None:
        """Write a segment another writer made (its bytes and :meth:`segment`) here, now.

        The segment's numbers must begin at this writer's next one; its
        objects' offsets are moved by where the segment lands in the file.
        """
        self._flush()
        shift = self._position
        self._handle.write(data)
        self._position += len(data)
        first, count, replaced = struct.unpack_from(">QQQ", entries)
        if first != self._next:
            raise ValueError(f"a segment begins at {first}, not at {self._next}")
        at = 24
        for _ in range(replaced):
            number, kind, field, index = struct.unpack_from(">QBQH", entries, at)
            self._enter(number, kind, field + shift if kind == 1 else field, index)
            at += 19
        kinds = array("B", entries[at : at + count])
        fields = array("Q")
        fields.frombytes(entries[at + count : at + 9 * count])
        indices = array("H")
        indices.frombytes(entries[at + 9 * count : at + 11 * count])
        for place, kind in enumerate(kinds):
            if kind == 1:
                fields[place] += shift
        self._kinds.extend(kinds)
        self._fields.extend(fields)
        self._indices.extend(indices)
        self._next += count

    def _enter(self, number: int, kind: int, field: int, index: int) -> None:
        if number < self._first:
            self._replaced[number] = (kind, field, index)
            return
        at = number - self._first
        self._kinds[at], self._fields[at], self._indices[at] = kind, field, index

    def add(self, body: bytes, number: int | None = None) -> int:
        """Write object ``number`` (a new one if None) with ``body`` (not a stream)."""
        if number is None:
            number = self.reserve()
        self._pending.append((number, body))
        if len(self._pending) >= OBJECTS_PER_STREAM:
            self._flush()
        return number

    def stream(self, head: bytes, data: bytes, number: int | None = None) -> int:
        """Write a stream object now: ``head`` holds its dictionary's entries but ``/Length``."""
        if number is None:
            number = self.reserve()
        self._write(number, head, data)
        return number

    def _write(self, number: int, head: bytes, data: bytes) -> None:
        """One stream object in the file, at the current position."""
        self._enter(number, 1, self._position, 0)
        chunk = b"%d 0 obj\n<<%s /Length %d>>\nstream\n%s\nendstream\nendobj\n" % (
            number,
            head,
            len(data),
            data,
        )
        self._handle.write(chunk)
        self._position += len(chunk)

    def _flush(self) -> None:
        """Pack the pending objects into one object stream."""
        if not self._pending:
            return
        stream = self.reserve()
        offsets: list[bytes] = []
        bodies: list[bytes] = []
        at = 0
        for index, (number, body) in enumerate(self._pending):
            offsets.append(b"%d %d" % (number, at))
            bodies.append(body)
            at += len(body) + 1
            self._enter(number, 2, stream, index)
        header = b" ".join(offsets) + b"\n"
        data = zlib.compress(header + b"\n".join(bodies) + b"\n", LEVEL)
        self._write(
            stream,
            b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(offsets), len(header)),
            data,
        )
        self._pending = []

    def finish(self, trailer: bytes, previous: int | None) -> None:
        """The cross-reference stream; ``trailer`` holds ``/Root`` and the like.

        ``previous``: the saved file's cross-reference offset, for an update;
        None for a whole file, whose table then starts with object 0 (free).
        """
        self._flush()
        xref = self.reserve()
        self._enter(xref, 1, self._position, 0)
        # Only the numbers in use are listed, in runs (/Index): a number reserved but never
        # written, or left over at the end of a segment, is simply absent, so free, and
        # the table holds no row for it.
        runs: list[list[int]] = [[0, 1]] if previous is None else []
        for number in sorted(self._replaced):
            if runs and number == runs[-1][0] + runs[-1][1]:
                runs[-1][1] += 1
            else:
                runs.append([number, 1])
        kinds = self._kinds.tobytes()
        used = [(m.start(), m.end()) for m in re.finditer(b"[^\x00]+", kinds)]
        runs += [[self._first + start, end - start] for start, end in used]
        index = b" ".join(b"%d %d" % (start, count) for start, count in runs)
        # Rows of 7 bytes; each stored as the difference from the row above (the PNG "Up"
        # predictor, 7.4.4.4), which turns the rising offsets into runs that compress well.
        rows = bytearray(7 * sum(count for _, count in runs))
        at = 0
        if previous is None:  # object 0 heads the (empty) list of free objects
            struct.pack_into(">BIH", rows, at, 0, 0, 65535)
            at += 7
        for number in sorted(self._replaced):
            struct.pack_into(">BIH", rows, at, *self._replaced[number])
            at += 7
        fields, indices = self._fields, self._indices
        for start, end in used:
            for place in range(start, end):
                struct.pack_into(">BIH", rows, at, kinds[place], fields[place], indices[place])
                at += 7
        start = self._position
        self._write(
            xref,
            b"/Type /XRef /Size %d /Index [%s] /W [1 4 2]%s %s /Filter /FlateDecode"
            b" /DecodeParms <</Predictor 12 /Columns 7>>"
            % (self._next, index, b"" if previous is None else b" /Prev %d" % previous, trailer),
            zlib.compress(_up_predicted(bytes(rows), 7), LEVEL),
        )
        self._handle.write(b"startxref\n%d\n%%%%EOF\n" % start)
