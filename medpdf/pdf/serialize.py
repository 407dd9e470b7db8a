"""Each object of a PDF serialized once, its streams compressed at zlib's default level.

pydyf, WeasyPrint's writer, serializes an object whenever its bytes are asked
for, and a stream's serialization is its compression, at zlib level 9:

* a PDF/A file carries a file identifier, which pydyf makes by hashing the
  serialization of every object before serializing them all again to write
  them: each font subset and page of a handout was compressed twice;
* level 9 took 5 % of a booklet chunk's CPU time more than level 6 (zlib's
  default) for 2.9 % smaller parts (one 25-monograph chunk, 2.75 vs 2.62 s).

The writer is handed objects whose bytes are made here, once, streams at level 6.
"""

from __future__ import annotations

import zlib
from typing import Any

import pydyf

#: zlib's own default: most of level 9's size for half its time on page content.
LEVEL = 6


def _stream_bytes(stream: Any) -> bytes:
    """A compressed stream as pydyf writes it, at :data:`LEVEL`."""
    # pydyf's serialization of the bare content: "<</Length n>>\nstream\n" content "\nendstream"
    plain: bytes = pydyf.Stream(stream.stream).data
    content = plain[plain.index(b"\nstream\n") + len(b"\nstream\n") : -len(b"\nendstream")]
    compressor = zlib.compressobj(level=LEVEL)
    packed = compressor.compress(content) + compressor.flush()
    extra = pydyf.Dictionary({**stream.extra, "Filter": "/FlateDecode", "Length": len(packed)})
    return b"\n".join((extra.data, b"stream", packed, b"endstream"))


class _Serialized(pydyf.Object):  # type: ignore[misc]
    """An object in the PDF's numbering whose bytes are already made."""

    def __init__(self, original: Any) -> None:
        super().__init__()
        self.number = original.number
        self.offset = original.offset
        self.generation = original.generation
        self.free = original.free
        self._compressible: bool = original.compressible
        compressed = isinstance(original, pydyf.Stream) and original.compress
        self._data: bytes = _stream_bytes(original) if compressed else original.data

    @property
    def data(self) -> bytes:
        return self._data

    @property
    def compressible(self) -> bool:
        return self._compressible


def once(document: Any, pdf: Any) -> None:
    """A ``write_pdf`` finisher: every object the writer will write is serialized now."""
    del document  # a finisher's signature; only the PDF matters
    for index, original in enumerate(pdf.objects):
        if original.free != "f":
            pdf.objects[index] = _Serialized(original)
