"""A run of pages cut out of a laid-out PDF: a chunk split between two volumes.

Chunks are cut by content (see :mod:`medpdf.products.booklet`), volumes by page
count, so a volume boundary can fall inside a chunk. Rather than lay the
chunk out again, its pages are copied into a smaller PDF, streams as they are,
with the part of the chunk's stored structure tree that belongs to those pages
(:func:`medpdf.pdf.structure.keep_cut`), so that the volume's merged tree
covers them as it covers whole chunks.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO


def write_slice(source: Path, start: int, stop: int, handle: BinaryIO) -> int:
    """Copy pages ``start:stop`` (0-based) of ``source`` into ``handle``; the page count."""
    import pikepdf

    from medpdf.pdf import structure

    with pikepdf.Pdf.open(source) as whole, pikepdf.Pdf.new() as part:
        pages = list(whole.pages)[start:stop]
        if not pages:
            raise ValueError(f"no pages {start}:{stop} in {source.name}")
        part.pages.extend(pages)
        structure.keep_cut(whole, part, start, stop)
        part.save(handle, stream_decode_level=pikepdf.StreamDecodeLevel.none)
        return len(pages)
