"""One embedded font file per typeface in a merged booklet.

Each part of a booklet is laid out as its own document, so each embeds its own
subset of every typeface it uses: a volume of 300 monographs held 18 font files
for four faces of DejaVu Sans, the compact booklet 69, the whole collection
over a thousand. WeasyPrint subsets with HarfBuzz keeping the glyph ids of the
font (``RETAIN_GIDS``) and addresses glyphs by those ids (``Identity-H``,
``CIDToGIDMap /Identity``), so the subsets of one face differ only in which
glyphs they carry. :func:`merged_face` is given a face's subsets from every
part before the booklet is written and builds one font holding every glyph
any subset carries (the largest subset, with the others' glyphs copied in);
the booklet then points every part's font descriptor at it: one embedded file
per face, and the pages draw exactly the same glyphs. Faces whose subsets do
not agree (not subsets of one font file) are left as they are.

The other subsets are read as raw tables (``loca``, ``glyf``, ``hmtx``), not
decoded glyph by glyph: a glyph's bytes are the same in every subset (a
composite names its parts by glyph id), and decoding every subset's whole
glyph table took 14 s at whole-collection scale. Only the largest subset of a
face and the glyphs it lacks are kept while the parts are read: the whole
collection embeds over a thousand subsets.
"""

from __future__ import annotations

import io
import struct
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._g_l_y_f import Glyph


def face_of(descriptor: Any) -> str:
    """The typeface a subset belongs to: its font name without the subset tag."""
    return str(descriptor.FontName).lstrip("/").split("+", 1)[-1]


@dataclass(frozen=True)
class _Subset:
    """One embedded subset, read as raw tables."""

    font: TTFont
    #: Where each glyph's bytes start in ``glyf`` (one more entry than glyphs).
    offsets: array[int]
    glyf: bytes
    hmtx: bytes
    long_metrics: int

    @classmethod
    def read(cls, data: bytes) -> _Subset | None:
        """The subset's raw tables; None for a font without TrueType outlines (CFF)."""
        font = TTFont(io.BytesIO(data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
        if "glyf" not in font or "loca" not in font:
            return None
        head = font.reader["head"]
        (long_format,) = struct.unpack(">h", head[50:52])
        offsets = array("I" if long_format else "H", font.reader["loca"])
        if sys.byteorder == "little":
            offsets.byteswap()
        if not long_format:
            offsets = array("I", (2 * offset for offset in offsets))
        (long_metrics,) = struct.unpack(">H", font.reader["hhea"][34:36])
        return cls(font, offsets, font.reader["glyf"], font.reader["hmtx"], long_metrics)

    def identity(self) -> tuple[object, ...]:
        """What subsets of one font file share: head's units, dates, revision; the full name."""
        head = self.font.reader["head"]
        return (head[4:8], head[18:36], self.font["name"].getDebugName(4))

    def glyphs(self) -> set[int]:
        """Ids of the glyphs the subset carries (those with an outline)."""
        offsets = self.offsets
        return {gid for gid in range(len(offsets) - 1) if offsets[gid + 1] > offsets[gid]}

    def glyph(self, gid: int) -> bytes:
        """The glyph's bytes, as the glyph table holds them."""
        return self.glyf[self.offsets[gid] : self.offsets[gid + 1]]

    def metrics(self, gid: int) -> tuple[int, int]:
        """Advance width and left side bearing of glyph ``gid``."""
        if gid < self.long_metrics:
            advance, lsb = struct.unpack_from(">Hh", self.hmtx, 4 * gid)
            return advance, lsb
        (advance,) = struct.unpack_from(">H", self.hmtx, 4 * (self.long_metrics - 1))
        at = 4 * self.long_metrics + 2 * (gid - self.long_metrics)
        (lsb,) = struct.unpack_from(">h", self.hmtx, at)
        return advance, lsb


#: ``maxp`` fields that bound a glyph's outline: the merged font's are the largest of its subsets'.
_MAXP_LIMITS = (
    "maxPoints",
    "maxContours",
    "maxCompositePoints",
    "maxCompositeContours",
    "maxComponentElements",
    "maxComponentDepth",
)


@dataclass
class _Face:
    """What is kept of one face's subsets while the parts are read."""

    #: The largest subset seen (the most glyph ids), as it is embedded.
    largest: bytes
    size: int
    identity: tuple[object, ...]
    #: Every glyph some subset carries: its bytes and metrics.
    glyphs: dict[int, tuple[bytes, tuple[int, int]]]
    #: The union of the subsets' head bounding boxes and their maxp limits.
    box: list[int]
    limits: dict[str, int]


def merged_face(programs: Iterable[bytes]) -> bytes | None:
    """One font carrying every glyph of ``programs`` (one face's subsets, in the parts' order).

    None when they are not subsets of one TrueType font file: those stay apart.
    The caller passes each distinct subset once (two parts often carry the very
    same one; the survey knows them by digest).
    """
    known: _Face | None = None
    for data in programs:
        subset = _Subset.read(data)
        if subset is None:  # CFF outlines (Noto CJK)
            return None
        head, maxp = subset.font["head"], subset.font["maxp"]
        limits = {name: getattr(maxp, name, 0) for name in _MAXP_LIMITS}
        box = [head.xMin, head.yMin, head.xMax, head.yMax]
        if known is None:
            known = _Face(data, len(subset.offsets), subset.identity(), {}, box, limits)
        elif subset.identity() != known.identity:
            return None
        for gid in subset.glyphs() - known.glyphs.keys():
            known.glyphs[gid] = (subset.glyph(gid), subset.metrics(gid))
        if len(subset.offsets) > known.size:
            known.largest, known.size = data, len(subset.offsets)
        known.box = [*map(min, known.box[:2], box[:2]), *map(max, known.box[2:], box[2:])]
        known.limits = {name: max(known.limits[name], limits[name]) for name in _MAXP_LIMITS}
    return None if known is None else _merged(known)


def _merged(known: _Face) -> bytes:
    """The largest subset of a face with the glyphs it lacks copied in."""
    base = _Subset.read(known.largest)
    assert base is not None  # it was read as a TrueType subset when it was added
    order = base.font.getGlyphOrder()
    glyf, hmtx = base.font["glyf"], base.font["hmtx"]
    for gid in sorted(known.glyphs.keys() - base.glyphs()):
        data, metrics = known.glyphs[gid]
        glyf.glyphs[order[gid]] = Glyph(data)
        hmtx[order[gid]] = metrics
    head = base.font["head"]
    head.xMin, head.yMin, head.xMax, head.yMax = known.box
    maxp = base.font["maxp"]
    for name in _MAXP_LIMITS:
        if hasattr(maxp, name):
            setattr(maxp, name, known.limits[name])
    buffer = io.BytesIO()
    base.font.save(buffer)
    return buffer.getvalue()
